"""Reading pipeline files: JSON (strict, then JSON5 for trailing commas and comments) or YAML.

`load_pipeline(path)` -> `LoadedPipeline` is the entry point every command uses. Besides pipeline
files it reads, as they are, the files NNCF and optimum-intel users already have:
- an NNCF config (`{"input_info": ..., "compression": ...}`; NNCF's other top-level keys are
  accepted and ignored, see `pipeline.NNCF_IGNORED_KEYS`),
- a bare algorithm section (`{"algorithm": "movement_sparsity", ...}`, optimum-intel's
  `*-movement-sparsity.json`),
- a bare list of algorithm sections (optimum-intel's `*-jpqd.json`),
each becoming the `compression` of a pipeline with the embedded default model and data.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ov_movement.config.base import MAX_DIGITS, OversizedInteger, describe
from ov_movement.config.issues import issues_from_validation_error, sort_by_document
from ov_movement.config.pipeline import NNCF_IGNORED_KEYS, PipelineConfig, pipeline_model
from ov_movement.errors import ConfigError, ConfigIssue


# Top-level keys that only an ov-movement pipeline (not an NNCF config) has: every field of the
# pipeline model except `compression`, the editor hint and NNCF's own keys.
def pipeline_keys() -> frozenset[str]:
    return frozenset(
        {field.alias or name for name, field in pipeline_model().model_fields.items()}
        - {"compression", "$schema", *NNCF_IGNORED_KEYS}
    )


LAYOUTS = {
    "pipeline": "ov-movement pipeline",
    "nncf": "NNCF config; default model and data",
    "algorithm": "bare NNCF algorithm section, optimum-intel style; default model and data",
    "algorithm_list": "bare list of NNCF algorithm sections, optimum-intel style; default model and data",
}


@dataclass(frozen=True)
class LoadedPipeline:
    config: PipelineConfig
    path: Path  # absolute path of the file
    raw: dict[str, Any]  # the document as read, as a pipeline mapping (bare NNCF sections wrapped)
    layout: str = "pipeline"  # a key of LAYOUTS: what kind of file it was
    format: str = "json"  # "json", "json5" (needed the lenient reader) or "yaml"

    @property
    def name(self) -> str:
        return self.config.name or self.path.stem

    @property
    def config_dir(self) -> Path:
        return self.path.parent


# ---- text -> document --------------------------------------------------------------------------


# Limits of any document, whatever its format: no config is nested this deep or this large, and
# a document beyond them (a YAML "billion laughs" of aliases, a config.json nested 300 levels)
# would otherwise crash or exhaust memory in whatever walks it first (`status` hashing it).
MAX_DEPTH = 32
MAX_VALUES = 100_000


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            # json.loads would keep the last value silently: the user edits one and the other wins.
            raise ConfigError(
                f"duplicate key {key!r} in the object with keys {', '.join(map(repr, dict(pairs)))}"
            )
        seen[key] = value
    return seen


def _bounded_int(text: str) -> int | OversizedInteger:
    """An integer literal; one too long for any field stays a marker (Python refuses to convert
    integers of more than 4300 digits, and printing a long one in a message would fail too)."""
    digits = len(text.lstrip("+-"))
    return OversizedInteger(digits) if digits > MAX_DIGITS else int(text)


_JSON5_POSITION = re.compile(r":(\d+) (.*) at column (\d+)$")


def _parse_json(text: str) -> tuple[Any, str]:
    hooks = {"object_pairs_hook": _no_duplicate_keys, "parse_int": _bounded_int}
    try:
        return json.loads(text, **hooks), "json"
    except json.JSONDecodeError as strict:
        import json5  # lazily: only files that are not strict JSON need it

        try:
            return json5.loads(text, **hooks), "json5"
        except ValueError as lenient:
            position = _JSON5_POSITION.search(str(lenient))
            if position:
                line, column = int(position[1]), int(position[3])
                # The strict error is more descriptive when both stop at the same place; when JSON5
                # stops later, the strict one was a JSON5 nicety (trailing comma, comment).
                if (line, column) > (strict.lineno, strict.colno):
                    raise ConfigError(
                        f"syntax error at line {line}, column {column}: {position[2]}"
                    ) from None
            raise ConfigError(
                f"syntax error at line {strict.lineno}, column {strict.colno}: {strict.msg}"
            ) from None


def _parse_yaml(text: str) -> Any:
    import yaml  # lazily: most configs are JSON

    from ov_movement.config.yaml12 import YamlProblem, load_yaml

    try:
        return load_yaml(text, max_depth=MAX_DEPTH, max_values=MAX_VALUES)
    except YamlProblem as error:
        raise ConfigError(str(error)) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigError(f"syntax error{where}: {problem}") from None


_JSON_SCALARS = (str, int, float, bool, type(None))


def check_size(document: Any) -> None:
    """Refuse a document nested deeper than MAX_DEPTH, holding more than MAX_VALUES values (counted
    as expanded: a container shared through YAML aliases counts at every use), an integer literal
    longer than any setting takes, or what JSON cannot hold (a key that is not a string, a YAML
    `!!set`, `!!binary` or `!!timestamp` value): what passes is what the fingerprint can hash."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def walk(node: Any, loc: str, depth: int) -> int:
        if isinstance(node, OversizedInteger):  # kept by the readers only to be reported here
            where = loc or "(top level)"
            raise ConfigError(
                [ConfigIssue(where, f"{node!r}: no setting takes more than {MAX_DIGITS} digits")]
            )
        if not isinstance(node, dict | list):
            if not isinstance(node, _JSON_SCALARS):  # a YAML tag such as !!set, !!binary, !!timestamp
                raise ConfigError(
                    [ConfigIssue(loc or "(top level)", f"a {type(node).__name__} is not a JSON value")]
                )
            return 1
        if id(node) in sizes:
            return sizes[id(node)]
        if depth > MAX_DEPTH:
            raise ConfigError([ConfigIssue(loc, f"nested more than {MAX_DEPTH} levels deep")])
        if id(node) in active:
            raise ConfigError([ConfigIssue(loc, "contains itself (a YAML alias inside its own anchor)")])
        active.add(id(node))
        items = node.items() if isinstance(node, dict) else enumerate(node)
        total = 1
        for key, value in items:
            if isinstance(node, dict) and not isinstance(key, str):
                raise ConfigError(
                    [
                        ConfigIssue(
                            loc or "(top level)",
                            f"key {json.dumps(key)} must be a string (quote it: '{json.dumps(key)}')",
                        )
                    ]
                )
            child = f"{loc}[{key}]" if isinstance(key, int) else (f"{loc}.{key}" if loc else str(key))
            total += walk(value, child, depth + 1)
        active.discard(id(node))
        if total > MAX_VALUES:
            raise ConfigError(
                [
                    ConfigIssue(
                        loc or "(top level)",
                        f"expands to more than {MAX_VALUES:,} values (YAML aliases repeat what they refer "
                        "to); a pipeline never needs that many",
                    )
                ]
            )
        sizes[id(node)] = total
        return total

    walk(document, "", 1)


def parse_document(text: str, fmt: str) -> tuple[Any, str]:
    """Parse text as `fmt` ("json" or "yaml"); returns (document, format actually used)."""
    if not text.strip():
        raise ConfigError("the file is empty")
    try:
        document, used = _parse_json(text) if fmt == "json" else (_parse_yaml(text), "yaml")
    except RecursionError:
        raise ConfigError("the document is nested too deeply") from None
    if document is None:
        raise ConfigError(
            "the file is empty (nothing but comments)" if fmt == "yaml" else "the document is null"
        )
    check_size(document)
    return document, used


def _format_of(path: Path, text: str) -> str:
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return "yaml"
    if suffix in (".json", ".json5", ".jsonc"):
        return "json"
    return "json" if text.lstrip()[:1] in ("{", "[") else "yaml"


def _read_text(path: Path, shown: str) -> str:
    if not path.exists():
        hint = ""
        candidate = Path("pipelines") / shown
        if not Path(shown).is_absolute() and candidate.is_file():
            hint = f" (did you mean {candidate}?)"
        raise ConfigError(f"no such file: {shown}{hint}")
    if path.is_dir():
        raise ConfigError(f"{shown} is a directory, not a config file")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"cannot read {shown}: {error.strerror or error}") from None
    try:
        return data.decode("utf-8-sig")  # tolerate a byte-order mark (some Windows editors add one)
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"{shown} is not UTF-8 text (byte {data[error.start]:#04x} at offset {error.start})"
        ) from None


# ---- document -> pipeline mapping --------------------------------------------------------------


def as_pipeline(document: Any) -> tuple[dict[str, Any], str]:
    """The document as a pipeline mapping, and its layout (a key of LAYOUTS)."""
    if isinstance(document, list):
        return {"compression": document}, "algorithm_list"
    if not isinstance(document, dict):
        raise ConfigError(
            "the top level must be a mapping (a pipeline or an NNCF config) or a list of "
            f"NNCF algorithm sections, got {describe(document)}"
        )
    if "algorithm" in document and "compression" not in document:
        section = {key: value for key, value in document.items() if key != "$schema"}
        wrapped = {"$schema": document["$schema"]} if "$schema" in document else {}
        return wrapped | {"compression": section}, "algorithm"
    return document, (
        "pipeline" if pipeline_keys() & set(document) or "compression" not in document else "nncf"
    )


def _relocate(issue: ConfigIssue, layout: str) -> ConfigIssue:
    """Locations as they read in the file: a bare section has no `compression` key around it."""
    if layout in ("algorithm", "algorithm_list") and issue.loc.startswith("compression"):
        loc = issue.loc.removeprefix("compression").removeprefix(".")
        return ConfigIssue(loc or "(top level)", issue.msg)
    return issue


def validate_pipeline(
    raw: dict[str, Any], *, source: str | None = None, layout: str = "pipeline"
) -> PipelineConfig:
    """Validate a pipeline mapping; every problem is reported in one ConfigError."""
    try:
        return pipeline_model().model_validate(raw)
    except ValidationError as error:
        issues = sort_by_document(issues_from_validation_error(error), raw)
        raise ConfigError([_relocate(issue, layout) for issue in issues], source=source) from None


def read_document(path: str | Path) -> dict[str, Any]:
    """The file as a pipeline mapping (bare NNCF sections wrapped), unvalidated."""
    return _read(Path(path), str(path))[0]


def _read(path: Path, shown: str) -> tuple[dict[str, Any], str, str]:
    text = _read_text(path, shown)
    try:
        document, used = parse_document(text, _format_of(path, text))
        raw, layout = as_pipeline(document)
    except ConfigError as error:
        raise ConfigError(error.issues, source=shown) from None
    return raw, layout, used


def load_pipeline(path: str | Path) -> LoadedPipeline:
    shown = str(path)
    resolved = Path(path).expanduser().resolve()
    raw, layout, used = _read(resolved, shown)
    config = validate_pipeline(raw, source=shown, layout=layout)
    return LoadedPipeline(config=config, path=resolved, raw=raw, layout=layout, format=used)


__all__ = [
    "LAYOUTS",
    "LoadedPipeline",
    "as_pipeline",
    "load_pipeline",
    "parse_document",
    "read_document",
    "validate_pipeline",
]
