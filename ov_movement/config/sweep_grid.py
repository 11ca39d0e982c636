"""The `sweep:` section's model and the checks of a grid (keys, values, size), apart from the
expansion into pipelines (`config/sweep.py`) so that the pipeline model can hold the section
without importing the loader it is read by."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from pydantic import Field

from ov_movement.config.base import StrictModel, problem
from ov_movement.errors import ConfigIssue

MAX_SWEEP_KEYS = 8
MAX_SWEEP_VALUES = 64  # values of one key
MAX_VARIANTS = 256  # combinations of all keys: each is a full pipeline run
MAX_KEY_LENGTH = 200
SET_ORIGIN, FILE_ORIGIN = "--set", "sweep.grid"
# Keys a sweep may not vary: it names the variants itself, and they must share one workdir (cache).
_FIXED_KEYS = {
    "name": "the sweep names every variant itself (`<name>-<key>=<value>`); set `name` outside the grid",
    "workdir": "every variant runs in one workdir, so that they share the cache; use --workdir",
    "sweep": "a sweep cannot vary its own grid",
    "$schema": "an editor hint, read by no stage",
}
_KEY = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$-]*(\.[A-Za-z0-9_$-]+)*$")


class SweepConfig(StrictModel):
    """Run the pipeline once per combination of the values in `grid` (`ov-movement sweep FILE`)."""

    grid: dict[str, list[Any]] = Field(
        description="Dotted key into this pipeline (`compression.params.importance_regularization_factor`; "
        "a number indexes a list, e.g. `compression.0.params...`) -> the values to try. Several keys form a "
        f"grid (every combination, at most {MAX_VARIANTS}); at most {MAX_SWEEP_KEYS} keys and "
        f"{MAX_SWEEP_VALUES} distinct values per key. A key with one value applies to every variant and is "
        "left out of the variant names. Each variant runs as pipeline `<name>-<key>=<value>` in the same "
        "workdir (shared cache); results in `<workdir>/<name>/sweep.md`. `--set KEY=V1,V2` adds or "
        "replaces keys.",
        # The bounds are checked in `prepare` (with the key in the message); editors get them here.
        json_schema_extra={
            "maxProperties": MAX_SWEEP_KEYS,
            "propertyNames": {"pattern": _KEY.pattern, "maxLength": MAX_KEY_LENGTH},
            "additionalProperties": {"type": "array", "minItems": 1, "maxItems": MAX_SWEEP_VALUES},
        },
    )

    @classmethod
    def prepare(cls, data: dict[str, Any]):
        data, problems = super().prepare(data)
        grid = data.get("grid")
        if isinstance(grid, dict):
            problems += [problem(("grid", key), issue.msg, key) for key, issue in _grid_problems(grid)]
        return data, problems


def _key_problem(key: str) -> str | None:
    if len(key) > MAX_KEY_LENGTH:
        return f"a key of at most {MAX_KEY_LENGTH} characters"
    if not _KEY.match(key):
        return "not a dotted key (e.g. `compression.params.power`, `compression.0.params.power`)"
    head = key.split(".")[0]
    if head in _FIXED_KEYS:
        return f"{head!r} cannot be swept: {_FIXED_KEYS[head]}"
    return None


def _grid_problems(grid: Mapping[str, Any]) -> list[tuple[str, ConfigIssue]]:
    """(key, issue) for every key of `grid` that is not a sweepable key with a usable list of values."""
    found = []
    if len(grid) > MAX_SWEEP_KEYS:
        found.append(("", ConfigIssue("", f"at most {MAX_SWEEP_KEYS} keys, got {len(grid)}")))
    for key, values in grid.items():
        message = _key_problem(str(key))
        if message is None and isinstance(values, list):
            if not values:
                message = "no values: give at least one"
            elif len(values) > MAX_SWEEP_VALUES:
                message = f"at most {MAX_SWEEP_VALUES} values, got {len(values)}"
            else:
                texts = [json.dumps(value, sort_keys=True) for value in values]
                repeated = sorted({text for text in texts if texts.count(text) > 1})
                if repeated:
                    message = f"value {repeated[0]} given twice (each variant would run twice)"
        if message:
            found.append((str(key), ConfigIssue(str(key), message)))
    sizes = [len(v) for v in grid.values() if isinstance(v, list) and v]
    combinations = 1
    for size in sizes:
        combinations *= size
    if combinations > MAX_VARIANTS:
        found.append(("", ConfigIssue("", f"{combinations} combinations; at most {MAX_VARIANTS} variants")))
    return found
