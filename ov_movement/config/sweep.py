"""Sweeps: one pipeline file, several values of some of its keys, one full pipeline per combination.

The grid comes from a `sweep:` section (`SweepConfig`) and/or `--set KEY=V1,V2,...` on the command
line. A key is a dotted path into the pipeline document (`compression.params.power`; a number
indexes a list: `compression.0.params.power` for the list form of `compression`); several keys form
a grid (every combination). Each variant is the document without its `sweep:` section, with the
values written in and its own `name` (`<name>-<key>=<value>`), validated like any pipeline file, so
a bad value is reported with the variant and the key. All variants use the same workdir, so what
they share (the dense baseline, the stages upstream of the swept keys) is computed once.

Command-line values are YAML 1.2 scalars read by the one YAML reader (`yaml12.py`): the text after
`=` is read as the items of a YAML flow sequence, so `0.01,5e-5,true,null` are numbers, a boolean
and null, and `[16,16],[32,32]` are two lists.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ov_movement.config.sweep_grid import (
    FILE_ORIGIN,
    MAX_SWEEP_KEYS,
    MAX_SWEEP_VALUES,
    MAX_VARIANTS,
    SET_ORIGIN,
    SweepConfig,
    _grid_problems,
    _key_problem,
)
from ov_movement.errors import ConfigError, ConfigIssue

if TYPE_CHECKING:
    from ov_movement.config.load import LoadedPipeline

# ---- --set KEY=V1,V2 ------------------------------------------------------------------------------


def parse_set(text: str) -> tuple[str, list[Any]]:
    """`KEY=V1,V2,...` -> (key, values), values read as YAML 1.2 (the items of a flow sequence)."""
    from ov_movement.config.load import MAX_DEPTH, MAX_VALUES, check_size
    from ov_movement.config.yaml12 import YamlProblem, load_yaml

    key, sep, rest = text.partition("=")
    key = key.strip()
    where = f"--set {key or text}"
    if not sep or not key:
        raise ConfigError([ConfigIssue(where, "expected KEY=VALUE[,VALUE...], e.g. training.epochs=5,6")])
    message = _key_problem(key)
    if message:
        raise ConfigError([ConfigIssue(where, message)])
    import yaml

    try:
        values = load_yaml(f"[{rest}]", max_depth=MAX_DEPTH, max_values=MAX_VALUES)
    except (YamlProblem, yaml.YAMLError) as error:
        detail = str(getattr(error, "problem", None) or error).splitlines()[0]
        raise ConfigError([ConfigIssue(where, f"values are not YAML scalars or lists ({detail})")]) from None
    if not isinstance(values, list):  # `]` in the text can close the sequence early
        raise ConfigError([ConfigIssue(where, "values are not a comma-separated list")])
    try:
        check_size(values)
    except ConfigError as error:
        raise ConfigError([ConfigIssue(where, issue.msg) for issue in error.issues]) from None
    issues = [ConfigIssue(where, issue.msg) for _, issue in _grid_problems({key: values})]
    if issues:
        raise ConfigError(issues)
    return key, values


def combine_grid(file_grid: Mapping[str, list[Any]], sets: Sequence[str]) -> tuple[dict, dict]:
    """(grid, origin of each key): the file's grid, then each --set (which replaces a file key)."""
    grid = dict(file_grid)
    origins = dict.fromkeys(grid, FILE_ORIGIN)
    given: set[str] = set()
    for text in sets:
        key, values = parse_set(text)
        if key in given:
            raise ConfigError([ConfigIssue(f"--set {key}", "given twice; list every value in one --set")])
        given.add(key)
        grid[key], origins[key] = values, SET_ORIGIN
    issues = [issue for key, issue in _grid_problems(grid) if not key]
    if issues:
        raise ConfigError(issues)
    return grid, origins


# ---- expansion --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepVariant:
    name: str
    values: dict[str, Any]  # every swept key -> this variant's value
    loaded: LoadedPipeline


@dataclass(frozen=True)
class Sweep:
    name: str  # the base pipeline's name: results in <workdir>/<name>/
    base: LoadedPipeline
    grid: dict[str, list[Any]]
    origins: dict[str, str]  # key -> SET_ORIGIN | FILE_ORIGIN
    variants: list[SweepVariant]

    @property
    def varied(self) -> list[str]:
        """The keys that take more than one value (the sweep table's columns)."""
        return [key for key, values in self.grid.items() if len(values) > 1] or list(self.grid)


def is_sweep(loaded: LoadedPipeline, sets: Sequence[str] = ()) -> bool:
    return bool(sets) or loaded.config.sweep is not None


def value_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def key_labels(keys: Sequence[str]) -> dict[str, str]:
    """Each key's shortest tail of named parts that no other key ends with (its column and name part)."""
    parts = {key: [p for p in key.split(".") if not p.isdigit()] or [key] for key in keys}
    labels = {}
    for key in keys:
        for length in range(1, len(parts[key]) + 1):
            label = ".".join(parts[key][-length:])
            others = [".".join(parts[o][-length:]) for o in keys if o != key]
            if label not in others:
                break
        labels[key] = label if label not in labels.values() else key
    return labels


def _default_at(loaded: LoadedPipeline, parts: Sequence[str]) -> Any:
    """What the validated config holds at `parts` (defaults included), to complete a partial document."""
    node: Any = loaded.config.model_dump(mode="json", by_alias=True, exclude_none=True)
    for part in parts:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return {}
    return copy.deepcopy(node) if isinstance(node, dict | list) else {}


def set_key(raw: dict[str, Any], key: str, value: Any, loaded: LoadedPipeline) -> None:
    """Write `value` at dotted `key` into `raw`; a missing section is completed from its defaults."""
    parts = key.split(".")
    node: Any = raw
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        where = ".".join(parts[: depth + 1])
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ValueError(f"{where}: the list at {'.'.join(parts[:depth])} has {len(node)} items")
            index: Any = int(part)
        elif isinstance(node, dict):
            index = part
            if not last and index not in node:
                node[index] = _default_at(loaded, parts[: depth + 1])
        else:
            raise ValueError(f"{where}: {'.'.join(parts[:depth])} is a value, not a section or a list")
        if last:
            node[index] = copy.deepcopy(value)
        else:
            node = node[index]


def _culprits(loc: str, values: Mapping[str, Any]) -> list[str]:
    """The swept keys an issue at `loc` is about (all of them when none is on its path)."""
    dotted = re.sub(r"\[(\d+)\]", r".\1", loc)
    near = [k for k in values if dotted == k or dotted.startswith(k + ".") or k.startswith(dotted + ".")]
    return near or list(values)


def _directory_clashes(sweep_name: str, names: Sequence[str]) -> list[ConfigIssue]:
    """Variants whose names map to one directory of the workdir (`a b` and `a-b` both become `a-b`)."""
    from pathlib import Path

    from ov_movement.runner.lockfile import pipeline_dir  # the one mapping of names to directories

    taken = {pipeline_dir(Path(), sweep_name).name: f"the sweep's own results ({sweep_name})"}
    issues = []
    for name in names:
        directory = pipeline_dir(Path(), name).name
        if directory in taken:
            issues.append(
                ConfigIssue("", f"variant {name} and {taken[directory]} would share <workdir>/{directory}/")
            )
        taken.setdefault(directory, f"variant {name}")
    return issues


def expand(loaded: LoadedPipeline, sets: Sequence[str] = ()) -> Sweep:
    """Every variant of the sweep, validated; all problems of all variants in one ConfigError."""
    from ov_movement.config.load import LoadedPipeline, validate_pipeline

    file_grid = loaded.config.sweep.grid if loaded.config.sweep is not None else {}
    grid, origins = combine_grid(file_grid, sets)
    if not grid:
        raise ConfigError("not a sweep: no `sweep:` section and no --set KEY=V1,V2")
    varied = [key for key, values in grid.items() if len(values) > 1] or list(grid)
    labels = key_labels(varied)
    base = {k: v for k, v in copy.deepcopy(loaded.raw).items() if k != "sweep"}
    variants, issues, found = [], [], {}
    for combination in itertools.product(*grid.values()):
        values = dict(zip(grid, combination, strict=True))
        name = "-".join([loaded.name, *(f"{labels[k]}={value_text(values[k])}" for k in varied)])
        raw = copy.deepcopy(base)
        try:
            for key, value in values.items():
                where = f"{origins[key]} {key}"
                set_key(raw, key, value, loaded)
        except ValueError as error:
            if ConfigIssue(where, str(error)) not in issues:  # the same for every variant
                issues.append(ConfigIssue(where, str(error)))
            continue
        raw["name"] = name
        try:
            config = validate_pipeline(raw)
        except ConfigError as error:
            for issue in error.issues:
                given = ", ".join(
                    f"{origins[k]} {k}={value_text(values[k])}" for k in _culprits(issue.loc, values)
                )
                found.setdefault((issue.loc, issue.msg), []).append(f"variant {name}: {given}")
            continue
        variant = LoadedPipeline(config, loaded.path, raw, layout="pipeline", format=loaded.format)
        variants.append(SweepVariant(name, values, variant))
    total = len(list(itertools.product(*grid.values())))
    for (loc, msg), where in found.items():
        if len(where) == total > 1:  # a problem of the base file, or of a key, not of one value
            keys = ", ".join(f"{origins[k]} {k}" for k in grid)
            issues.append(ConfigIssue(loc, f"{msg} (every variant; swept: {keys})"))
        else:
            issues += [ConfigIssue(loc, f"{msg} ({w})") for w in where]
    issues += _directory_clashes(loaded.name, [variant.name for variant in variants])
    if issues:
        raise ConfigError(issues, source=str(loaded.path))
    return Sweep(loaded.name, loaded, grid, origins, variants)


__all__ = [
    "MAX_SWEEP_KEYS",
    "MAX_SWEEP_VALUES",
    "MAX_VARIANTS",
    "Sweep",
    "SweepConfig",
    "SweepVariant",
    "combine_grid",
    "expand",
    "is_sweep",
    "key_labels",
    "parse_set",
    "set_key",
    "value_text",
]
