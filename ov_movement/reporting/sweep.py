"""The sweep's results: one row per variant, `sweep.md` and the Pareto plot.

Every number is read the way the report reads it: `collect` over the variant's stage views, then
`variant_rows` of its benchmark.json (accuracy, latency median [min–max], `.bin` size, speedup per
interleaved round), and the linear-layer sparsity at the end of training that the report stage
records. Nothing is recomputed here. The dense baseline is the baseline stage's accuracy (shared by
every variant: one cache entry) at the dense FP32 IR's latency and size (the median over the
variants, which all time a dense IR of the same shape); without a baseline stage, the first
variant's dense FP32 IR stands for it.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ov_movement.benchmarking.variants import DENSE, PRUNED, PRUNED_INT8, PRUNED_QAT
from ov_movement.config.sweep import Sweep, key_labels, value_text
from ov_movement.reporting.collect import ReportData, collect
from ov_movement.reporting.tables import NA, Table, _num, _pct, _with_range
from ov_movement.reporting.variants import VariantRow, pareto_front, reference_accuracy, variant_rows

SWEEP_MD = "sweep.md"
PARETO_PNG = "sweep_pareto.png"
# Stage views a variant's report reads (the `report` stage's own inputs).
_READ = ("sparsify", "mask", "convert", "quantize", "benchmark", "baseline")


@dataclass(frozen=True)
class SweepRow:
    name: str
    values: dict[str, Any]
    rows: dict[str, VariantRow]  # benchmark variant name (pruned, pruned_int8, ...) -> its row
    sparsity_pct: float | None  # linear-layer sparsity at the end of training (after structured masking)
    reference: tuple[str, float] | None  # the accuracy the variant is judged against (report's rule)

    @property
    def pruned(self) -> VariantRow | None:
        return self.rows.get(PRUNED)


def _variant_data(sweep: Sweep, name: str, directory: Path) -> ReportData:
    variant = next(v for v in sweep.variants if v.name == name)
    stage_dirs = {stage: directory / stage for stage in _READ if (directory / stage).is_dir()}
    return collect(variant.loaded.config, stage_dirs, title=name)


def sweep_rows(sweep: Sweep, directories: dict[str, Path]) -> list[SweepRow]:
    """One row per variant (in grid order) from its current stage outputs; gaps where none exist."""
    rows = []
    for variant in sweep.variants:
        data = _variant_data(sweep, variant.name, directories[variant.name])
        found = {row.name: row for row in variant_rows(data.benchmark)}
        rows.append(
            SweepRow(
                variant.name,
                dict(variant.values),
                found,
                data.final_linear_sparsity_pct,
                reference_accuracy(data.baseline_eval, list(found.values())),
            )
        )
    return rows


@dataclass(frozen=True)
class DensePoint:
    label: str
    accuracy: float | None
    latency_ms: float | None
    bin_bytes: float | None


def dense_point(rows: Sequence[SweepRow]) -> DensePoint | None:
    dense = [row.rows[DENSE] for row in rows if DENSE in row.rows]
    reference = next((row.reference for row in rows if row.reference), None)
    if not dense and reference is None:
        return None
    latencies = [d.latency_ms for d in dense if d.latency_ms is not None]
    sizes = [d.bin_bytes for d in dense if d.bin_bytes is not None]
    return DensePoint(
        reference[0] if reference else "dense FP32 IR",  # the report's reference: baseline, else dense IR
        reference[1] if reference else None,
        statistics.median(latencies) if latencies else None,
        statistics.median(sizes) if sizes else None,
    )


def _int8(row: SweepRow) -> VariantRow | None:
    return row.rows.get(PRUNED_QAT) or row.rows.get(PRUNED_INT8)


def sweep_table(sweep: Sweep, rows: Sequence[SweepRow]) -> Table:
    """variant | swept values | pruned IR (and INT8) accuracy, latency, size | sparsity | × dense FP32."""
    keys = sweep.varied
    labels = key_labels(keys)
    with_int8 = any(_int8(row) for row in rows)
    front = {id(r) for r in pareto_front([row.pruned for row in rows if row.pruned])}
    header = ["variant", *(labels[k] for k in keys), "pruned IR accuracy"]
    header += ["INT8 accuracy"] if with_int8 else []
    header += ["latency (ms), median [min–max]"] + (["INT8 latency (ms)"] if with_int8 else [])
    header += [".bin MB"] + ([".bin MB INT8"] if with_int8 else [])
    header += ["linear sparsity", "× dense FP32, median [min–max]"]
    header += ["INT8 × dense FP32"] if with_int8 else []
    header += [""]
    body = []
    for row in rows:
        pruned, int8 = row.pruned, _int8(row)
        pair = [pruned, int8] if with_int8 else [pruned]
        cells = [row.name, *(value_text(row.values[k]) for k in keys)]
        cells += [_pct(r.accuracy, 2) if r else NA for r in pair]
        cells += [_with_range(r.latency, 3) if r else NA for r in pair]
        cells += [_num(r.bin_bytes / 1e6, 2) if r and r.bin_bytes is not None else NA for r in pair]
        cells += [_num(row.sparsity_pct, 1, "%")]
        cells += [_with_range(r.speedup, 2, "x", noisy=r.speedup_noisy) if r else NA for r in pair]
        cells += ["Pareto" if id(pruned) in front else ""]
        body.append(cells)
    dense = dense_point(rows)
    if dense:
        name = (
            "dense FP32 IR"
            if dense.label == "dense FP32 IR"
            else f"dense: {dense.label} (latency, size: dense FP32 IR)"
        )
        cells = [name, *("" for _ in keys)]
        cells += [_pct(dense.accuracy, 2)]
        cells += [NA] if with_int8 else []
        cells += [_num(dense.latency_ms, 3)] + ([NA] if with_int8 else [])
        cells += [_num(dense.bin_bytes / 1e6 if dense.bin_bytes else None, 2)] + ([NA] if with_int8 else [])
        cells += [NA, "1.00x"] + ([NA] if with_int8 else []) + [""]
        body.append(cells)
    return Table(f"Sweep {sweep.name}: {len(rows)} variants", header, body)


def render_sweep_markdown(sweep: Sweep, rows: Sequence[SweepRow], image: str | None) -> str:
    from ov_movement.reporting.tables import to_markdown

    grid = ", ".join(
        f"`{k}` = {', '.join(value_text(v) for v in values)}" for k, values in sweep.grid.items()
    )
    out = [f"# Sweep: {sweep.name}", "", f"Grid ({len(rows)} variants): {grid}.", ""]
    out += [to_markdown(sweep_table(sweep, rows)), ""]
    if image:
        out += [f"![Accuracy of the pruned IR vs latency and size, one point per variant]({image})", ""]
    out += [
        "Pruned IR: the pruned FP32 IR of each variant; INT8: its pruned INT8 IR (quantization-aware when "
        "trained with a `quantization` section, else post-training). Accuracy is eval accuracy (question "
        "answering: exact match) measured by the benchmark stage; latency is benchmark_app's median over "
        "interleaved rounds; × dense FP32 is the variant's dense FP32 IR latency / its latency within each "
        "round (median and range); linear sparsity is the share of zero weights in the sparsified linear "
        "layers at the end of training. Pareto: no other variant's pruned IR is both faster and more "
        "accurate. Each variant's full report: `../<variant>/report/report.md`.",
        "",
    ]
    return "\n".join(out)


def write_sweep_report(sweep: Sweep, directory: Path, directories: dict[str, Path]) -> list[Path]:
    """sweep.md and the Pareto PNG in `directory`; returns the files written."""
    from ov_movement.reporting.plots import plot_sweep_pareto

    rows = sweep_rows(sweep, directories)
    points = [row for row in rows if row.pruned and row.pruned.accuracy is not None]
    written = []
    image = None
    if points:
        labels = key_labels(sweep.varied)
        named = [
            (", ".join(f"{labels[k]}={value_text(row.values[k])}" for k in sweep.varied), row.pruned)
            for row in points
        ]
        plot_sweep_pareto(named, dense_point(rows), directory / PARETO_PNG, title=f"Sweep {sweep.name}")
        image = PARETO_PNG
        written.append(directory / PARETO_PNG)
    (directory / SWEEP_MD).write_text(render_sweep_markdown(sweep, rows, image), encoding="utf-8")
    written.insert(0, directory / SWEEP_MD)
    return written


__all__ = [
    "PARETO_PNG",
    "SWEEP_MD",
    "DensePoint",
    "SweepRow",
    "dense_point",
    "render_sweep_markdown",
    "sweep_rows",
    "sweep_table",
    "write_sweep_report",
]
