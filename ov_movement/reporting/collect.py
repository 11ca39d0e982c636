"""Gathering everything the report shows from the stage output directories.

Shared by the report stage (which renders it to files) and `ov-movement report` (which prints
it), so both always show the same numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ov_movement.benchmarking.variants import IR_STATS_FILE as STATS_FILE
from ov_movement.reporting.sources import (
    BlockRow,
    LayerRow,
    TrainingHistory,
    final_eval_metrics,
    read_json,
    read_jsonl,
    sparsity_table,
    training_history,
)
from ov_movement.runner.store import MANIFEST
from ov_movement.stages.baseline import EVAL_FILE as BASELINE_EVAL_FILE
from ov_movement.stages.benchmark import SUMMARY_NAME as BENCHMARK_FILE
from ov_movement.training.session import EVAL_FILE as TRAINING_EVAL_FILE
from ov_movement.training.session import SPARSITY_TABLE, TRAIN_LOG

if TYPE_CHECKING:
    from ov_movement.config.pipeline import PipelineConfig

# The (stage, file) pairs the report reads, each file name imported from the code that writes it;
# the ones not found are listed in the report.
WARMUP_LOG = ("sparsify", TRAIN_LOG)
WARMUP_EVAL = ("sparsify", TRAINING_EVAL_FILE)
FINAL_LOG = ("mask", TRAIN_LOG)
FINAL_EVAL = ("mask", TRAINING_EVAL_FILE)
SPARSITY = ("mask", SPARSITY_TABLE)
IR_STATS = ("convert", STATS_FILE)
BENCHMARK = ("benchmark", BENCHMARK_FILE)
BASELINE_EVAL = ("baseline", BASELINE_EVAL_FILE)
SOURCES = (WARMUP_LOG, WARMUP_EVAL, FINAL_LOG, FINAL_EVAL, SPARSITY, IR_STATS, BENCHMARK, BASELINE_EVAL)


@dataclass
class ReportData:
    title: str
    config: PipelineConfig
    history: TrainingHistory
    layers: list[LayerRow]
    blocks: list[BlockRow]
    warmup_eval: dict[str, float] | None  # torch, end of warm-up (sparsify)
    final_eval: dict[str, float] | None  # torch, after masking and fine-tuning (mask)
    baseline_eval: dict[str, float] | None  # torch, dense fine-tuning without sparsity (baseline)
    stats: dict[str, Any] | None  # convert/stats.json
    benchmark: dict[str, Any] | None  # benchmark/benchmark.json
    missing: list[str] = field(default_factory=list)
    # Per upstream stage, what its cache manifest says made it: fingerprint, library versions, time.
    provenance: dict[str, StageOrigin] = field(default_factory=dict)

    @property
    def final_linear_sparsity_pct(self) -> float | None:
        """Linear-layer sparsity (%) at the last logged training step: after structured masking."""
        return self.history.linear_sparsity[-1] if self.history.linear_sparsity else None


@dataclass(frozen=True)
class StageOrigin:
    fingerprint: str
    versions: dict[str, str]
    created: str


def stage_origins(stage_dirs: Mapping[str, Path]) -> dict[str, StageOrigin]:
    """The manifest the runner sealed each stage's outputs with (absent: not made by the runner)."""
    origins = {}
    for stage, directory in stage_dirs.items():
        manifest = read_json(directory / MANIFEST)
        if isinstance(manifest, dict) and isinstance(manifest.get("fingerprint"), str):
            versions = manifest.get("versions")
            origins[stage] = StageOrigin(
                manifest["fingerprint"],
                {str(k): str(v) for k, v in versions.items()} if isinstance(versions, dict) else {},
                str(manifest.get("created", "")),
            )
    return origins


def collect(config: PipelineConfig, stage_dirs: Mapping[str, Path], title: str | None = None) -> ReportData:
    """Read what exists among the upstream outputs; absent stages or files leave gaps, not errors."""

    def path(stage: str, name: str) -> Path | None:
        directory = stage_dirs.get(stage)
        return directory / name if directory is not None else None

    missing = [f"{stage}/{name}" for stage, name in SOURCES if not ((p := path(stage, name)) and p.is_file())]

    def load(stage: str, name: str) -> Any:
        p = path(stage, name)
        return read_json(p) if p else None

    params = config.movement.params
    logs = [read_jsonl(p) for log in (WARMUP_LOG, FINAL_LOG) if (p := path(*log))]
    history = training_history(
        logs, (params.warmup_start_epoch, params.warmup_end_epoch), steps_per_epoch=params.steps_per_epoch
    )
    layers, blocks = sparsity_table(load(*SPARSITY))
    return ReportData(
        title=title or config.report.title or f"ov-movement report: {config.name or 'pipeline'}",
        config=config,
        history=history,
        layers=layers,
        blocks=blocks,
        warmup_eval=final_eval_metrics(load(*WARMUP_EVAL)),
        final_eval=final_eval_metrics(load(*FINAL_EVAL)),
        baseline_eval=final_eval_metrics(load(*BASELINE_EVAL)),
        stats=load(*IR_STATS),
        benchmark=load(*BENCHMARK),
        missing=missing,
        provenance=stage_origins(stage_dirs),
    )


__all__ = ["SOURCES", "ReportData", "StageOrigin", "collect", "stage_origins"]
