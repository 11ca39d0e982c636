"""Reading upstream stage outputs for the report, tolerant of shape variations.

The training stages are free to evolve their JSON; this module is the one place that knows the
accepted spellings, so the report degrades to "not available" rather than failing on a renamed key.
Invalid JSON is still an error: a corrupt upstream file must not pass silently.
"""

from __future__ import annotations

import json
import math
import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ov_movement.errors import StageError


def read_json(path: Path) -> Any | None:
    """Parsed JSON, or None when the file does not exist."""
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError) as error:
        raise StageError(f"cannot read {path}: {error}") from error


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Records of a JSON Lines file ([] when missing); a truncated last line is skipped."""
    if not path.is_file():
        return []
    records = []
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except ValueError as error:
            if number == len(lines):  # an interrupted writer leaves a partial last line
                break
            raise StageError(f"{path}:{number}: invalid JSON: {error}") from error
    return [r for r in records if isinstance(r, dict)]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


_POSITION_KEYS = {"epoch", "epoch_position", "step"}  # where an eval happened, not what it measured


def final_eval_metrics(data: Any) -> dict[str, float] | None:
    """The last epoch's metrics from an eval.json: a list of epochs, {"epochs": [...]}, {"final": {...}},
    a flat metrics dict, or a dict keyed by epoch number."""
    if data is None:
        return None
    if isinstance(data, list):
        return final_eval_metrics(data[-1]) if data else None
    if not isinstance(data, dict):
        return None
    for key in ("final", "last"):
        if isinstance(data.get(key), dict):
            return final_eval_metrics(data[key])
    for key in ("epochs", "history", "per_epoch", "evals"):
        if isinstance(data.get(key), list | dict) and data[key]:
            return final_eval_metrics(data[key] if isinstance(data[key], list) else _by_epoch_key(data[key]))
    metrics = {k: float(v) for k, v in data.items() if _is_number(v) and k not in _POSITION_KEYS}
    if "accuracy" in metrics or "f1" in metrics or "eval_accuracy" in metrics:
        return {k.removeprefix("eval_"): v for k, v in metrics.items()}
    nested = _by_epoch_key(data)
    return final_eval_metrics(nested) if nested else None


def _by_epoch_key(data: Mapping[str, Any]) -> list[Any]:
    keyed = []
    for key, value in data.items():
        try:
            keyed.append((float(key), value))
        except ValueError:
            continue
    return [value for _, value in sorted(keyed, key=lambda kv: kv[0])]


@dataclass
class TrainingHistory:
    """Per-step training records of sparsify then mask, and where the phases begin and end."""

    steps: list[float] = field(default_factory=list)
    linear_sparsity: list[float] = field(default_factory=list)  # percent
    importance_threshold: list[float | None] = field(default_factory=list)
    stages: list[str] = field(default_factory=list)
    warmup_steps: tuple[float, float] | None = None
    masking_step: float | None = None


def _epoch_to_step(epoch: float, first_step: Mapping[int, float], steps_per_epoch: float) -> float:
    """Global step at which a (possibly fractional) epoch begins, extrapolating past the log."""
    whole = math.floor(epoch)
    if whole in first_step:
        return first_step[whole] + (epoch - whole) * steps_per_epoch
    anchor = min(first_step, key=lambda e: abs(e - whole))
    return first_step[anchor] + (epoch - anchor) * steps_per_epoch


def training_history(
    logs: Iterable[Sequence[Mapping[str, Any]]],
    warmup_epochs: tuple[float, float] | None = None,
    steps_per_epoch: int | None = None,
) -> TrainingHistory:
    """Merge train_log.jsonl records (sparsify, then mask) into one timeline.

    `warmup_epochs` (start, end) come from compression.params and are converted to steps with
    the log's own epoch field, so the shaded window matches what NNCF's scheduler did.
    """
    history = TrainingHistory()
    rows: list[Mapping[str, Any]] = []
    for log in logs:
        for record in log:
            if record.get("event") == "structured_masking" and _is_number(record.get("step")):
                history.masking_step = float(record["step"])
            elif _is_number(record.get("step")) and _is_number(record.get("linear_sparsity")):
                rows.append(record)
    rows.sort(key=lambda r: r["step"])
    scale = 100.0 if rows and max(r["linear_sparsity"] for r in rows) <= 1.0 else 1.0  # fraction -> %
    first_step: dict[int, float] = {}
    counts: dict[int, int] = {}
    for record in rows:
        history.steps.append(float(record["step"]))
        history.linear_sparsity.append(float(record["linear_sparsity"]) * scale)
        threshold = record.get("importance_threshold")
        history.importance_threshold.append(float(threshold) if _is_number(threshold) else None)
        history.stages.append(str(record.get("stage", "")))
        if _is_number(record.get("epoch")):
            epoch = math.floor(record["epoch"])
            first_step.setdefault(epoch, float(record["step"]))
            counts[epoch] = counts.get(epoch, 0) + 1
    if warmup_epochs and first_step:
        per_epoch = float(steps_per_epoch or max(1, statistics.median(counts.values())))
        history.warmup_steps = (
            _epoch_to_step(warmup_epochs[0], first_step, per_epoch),
            _epoch_to_step(warmup_epochs[1], first_step, per_epoch),
        )
    return history


@dataclass
class LayerRow:
    name: str
    shape: list[int] | None
    sparsity_before: float | None  # percent
    sparsity_after: float | None


@dataclass
class BlockRow:
    block: str
    heads_kept: int | None
    heads_total: int | None
    ffn_kept: int | None
    ffn_total: int | None


def _first(entry: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        if entry.get(key) is not None:
            return entry[key]
    return None


def _kept_total(entry: Mapping[str, Any], prefixes: Sequence[str]) -> tuple[int | None, int | None]:
    for prefix in prefixes:
        nested = entry.get(prefix)
        if isinstance(nested, Mapping):
            return _first(nested, "kept_after", "kept"), _first(nested, "total")
        if isinstance(nested, list | tuple) and len(nested) == 2:
            return nested[0], nested[1]
        kept = _first(entry, f"{prefix}_kept", f"kept_{prefix}")
        if kept is not None:
            return kept, _first(entry, f"{prefix}_total", f"total_{prefix}", f"num_{prefix}")
    return None, None


def _sparsity(value: Any) -> float | None:
    if isinstance(value, Mapping):
        value = _first(value, "weight_sparsity", "sparsity", "linear_sparsity")
    return float(value) if _is_number(value) else None


def sparsity_table(data: Any) -> tuple[list[LayerRow], list[BlockRow]]:
    """Per-layer rows and per-transformer-block rows of mask's sparsity_table.json."""
    if data is None:
        return [], []
    if isinstance(data, list):
        data = {"layers": data}
    layer_entries = _first(data, "layers", "linear_layers", "per_layer") or []
    if not layer_entries and isinstance(data.get("before"), Mapping):  # {"before": {...}, "after": {...}}
        before = {e.get("name"): e for e in _first(data["before"], "layers", "linear_layers") or []}
        after = {e.get("name"): e for e in _first(data.get("after") or {}, "layers", "linear_layers") or []}
        layer_entries = [
            {**before.get(n, {}), "name": n, "sparsity_before": before.get(n), "sparsity_after": after.get(n)}
            for n in dict.fromkeys([*before, *after])
        ]
    layers = [
        LayerRow(
            name=str(_first(e, "module", "name", "layer", "nncf_name")),
            shape=_first(e, "shape", "weight_shape"),
            sparsity_before=_sparsity(_first(e, "sparsity_before", "before")),
            sparsity_after=_sparsity(_first(e, "sparsity_after", "after", "sparsity")),
        )
        for e in layer_entries
        if isinstance(e, Mapping)
    ]
    # Fractions (NNCF's statistics) unless the table is visibly in percent; decided per table,
    # because a single small percentage would look like a fraction.
    values = [v for row in layers for v in (row.sparsity_before, row.sparsity_after) if v is not None]
    if values and max(values) <= 1.0:
        for row in layers:
            row.sparsity_before = None if row.sparsity_before is None else row.sparsity_before * 100
            row.sparsity_after = None if row.sparsity_after is None else row.sparsity_after * 100
    block_entries = _first(data, "blocks", "transformer_blocks", "per_block") or []
    if isinstance(block_entries, Mapping):
        block_entries = [{"block": k, **v} for k, v in block_entries.items()]
    blocks = []
    for index, entry in enumerate(e for e in block_entries if isinstance(e, Mapping)):
        heads = _kept_total(entry, ("heads", "attention_heads"))
        ffn = _kept_total(entry, ("ffn_neurons", "ffn", "neurons"))
        blocks.append(BlockRow(str(_first(entry, "block", "index", "layer", "name") or index), *heads, *ffn))
    return sorted(layers, key=lambda row: _block_order(row.name)), blocks


def _block_order(name: str) -> list[Any]:
    """Sort key: the layer's block (`...layer.10`) in numeric order. NNCF lists layers in graph
    order (layer.3 before layer.0); the sort is stable, so query/key/value/output stay in order."""
    block = re.match(r"^\D*\d+", name)
    prefix = block.group(0) if block else name
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", prefix)]


__all__ = [
    "BlockRow",
    "LayerRow",
    "TrainingHistory",
    "final_eval_metrics",
    "read_json",
    "read_jsonl",
    "sparsity_table",
    "training_history",
]
