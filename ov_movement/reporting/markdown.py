"""report.md: the headline numbers first, then every table and plot."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ov_movement import __version__
from ov_movement.benchmarking.variants import label
from ov_movement.reporting import tables
from ov_movement.reporting.collect import ReportData

LIFECYCLE_PNG = "sparsity_lifecycle.png"
STRUCTURE_PNG = "kept_structure.png"
VARIANTS_PNG = "accuracy_latency.png"


def recommendation_lines(data: ReportData) -> list[str]:
    """The recommended variant and why, then what pruning adds on top of INT8 (per-round ratios)."""
    from ov_movement.reporting.variants import recommend, variant_rows

    benchmark: Mapping[str, Any] = data.benchmark or {}
    lines = []
    chosen = recommend(variant_rows(benchmark), data.baseline_eval, data.config.report.max_accuracy_drop)
    if chosen and chosen.variant:
        lines.append(f"- **Recommended: {chosen.variant.label}**, {chosen.reason}.")
    elif chosen:
        lines.append(f"- **No variant recommended:** {chosen.reason}.")
    versus = benchmark.get("speedup_vs_dense_int8", {})
    for name, speedup in versus.items():
        latency = speedup.get("latency", {})
        lines.append(
            f"- {label(name)} vs dense INT8 (PTQ): **{latency.get('median', 0):.2f}x** latency "
            f"(min {latency.get('min', 0):.2f}x, max {latency.get('max', 0):.2f}x per interleaved round)."
        )
    return lines


def headline(data: ReportData) -> list[str]:
    """One line per claim a user cares about: speed (with its bound), accuracy, size."""
    lines = recommendation_lines(data)
    benchmark: Mapping[str, Any] = data.benchmark or {}
    pruned = benchmark.get("speedup", {}).get("pruned", {}).get("latency")
    if pruned:
        bound = benchmark.get("flop_bound_speedup")
        bound_text = f"; linear-FLOP bound **{bound:.2f}x**" if isinstance(bound, int | float) else ""
        lines.append(
            f"- Pruned IR latency speedup over dense: **{pruned['median']:.2f}x** (min {pruned['min']:.2f}x, "
            f"max {pruned['max']:.2f}x over {benchmark.get('settings', {}).get('repeats', '?')} interleaved "
            f"repeats){bound_text}."
        )
    accuracy = benchmark.get("accuracy", {})
    parts = []
    if data.baseline_eval and "accuracy" in data.baseline_eval:
        parts.append(f"dense fine-tuned baseline {100 * data.baseline_eval['accuracy']:.2f}%")
    if data.final_eval and "accuracy" in data.final_eval:
        parts.append(f"torch sparse {100 * data.final_eval['accuracy']:.2f}%")
    for name in ("dense", "pruned"):
        if "accuracy" in accuracy.get(name, {}):
            parts.append(f"{name} IR {100 * accuracy[name]['accuracy']:.2f}%")
    if parts:
        spans = "exact_match" in (data.final_eval or {})  # question answering: accuracy = exact match
        lines.append(f"- {'Exact match' if spans else 'Accuracy'}: " + ", ".join(parts) + ".")
    stats = data.stats or {}
    dense_bytes, pruned_bytes = (
        stats.get("dense", {}).get("bin_bytes"),
        stats.get("pruned", {}).get("bin_bytes"),
    )
    if dense_bytes and pruned_bytes:
        lines.append(
            f"- IR weights: {dense_bytes / 1e6:.2f} MB dense → {pruned_bytes / 1e6:.2f} MB pruned "
            f"({100 * pruned_bytes / dense_bytes:.1f}%)."
        )
    lines += [f"- **Warning:** {warning}" for warning in benchmark.get("warnings", [])]
    machine = benchmark.get("machine")
    if machine:
        settings = benchmark.get("settings", {})
        lines.append(
            f"- Measured on {machine.get('cpu')} ({machine.get('usable_cores')} usable cores), "
            f"threads {settings.get('nthreads') or 'auto'}, precision {settings.get('inference_precision')}, "
            f"OpenVINO {machine.get('openvino')}."
        )
    return lines


def _section(title: str, table: tables.Table, empty: str) -> list[str]:
    body = tables.to_markdown(table) if table.rows else f"_{empty}_"
    return [f"## {title}", "", body, ""]


def render_markdown(data: ReportData, images: Mapping[str, str] | None = None) -> str:
    """The whole report; `images` maps plot name to the file name written next to report.md."""
    images = images or {}
    out = [f"# {data.title}", ""]
    out += headline(data) or ["_No results yet._"]
    out += [""]
    out += _section("Model variants", tables.variants_table(data), "no benchmark results found")
    if "variants" in images:
        out += [f"![Accuracy vs latency of every model variant]({images['variants']})", ""]
    out += [
        "× dense FP32 = dense FP32 latency / variant latency within each interleaved round, median and "
        f"range over the rounds. Recommended: the fastest variant at most "
        f"{100 * data.config.report.max_accuracy_drop:.2f} points below the dense reference accuracy "
        "(`report.max_accuracy_drop`); Pareto: no other variant is both faster and more accurate. "
        "ONNX is timed but not evaluated.",
        "",
    ]
    out += _section("Configuration", tables.config_table(data), "")
    out += _section("Accuracy", tables.accuracy_table(data), "no evaluation results found")
    out += ["## Sparsity lifecycle", ""]
    if "lifecycle" in images:
        out += [f"![Linear-layer sparsity over training steps]({images['lifecycle']})", ""]
    out += [
        "Linear-layer sparsity per training step; shaded: the warm-up window "
        "(`warmup_start_epoch` → `warmup_end_epoch`); dashed: the structured-masking step.",
        "",
    ]
    out += _section("Kept structure", tables.structure_table(data.blocks), "no sparsity table found")
    if "structure" in images:
        out += [f"![Attention heads and FFN neurons kept per block]({images['structure']})", ""]
    out += _section("Model size", tables.size_table(data.stats), "no convert statistics found")
    out += _section("Benchmark", tables.benchmark_table(data.benchmark), "no benchmark results found")
    out += [
        "Speedup = dense latency / model latency, per interleaved round (A B C A B C ...), then "
        "min / median / max. The FLOP bound is dense / pruned linear-layer FLOPs per token: the speedup "
        "the pruned IR could reach if linear layers were all the work.",
        "",
    ]
    out += _section("Machine", tables.machine_table(data.benchmark), "no benchmark results found")
    out += _section("Linear-layer sparsity", tables.layer_table(data.layers), "no per-layer table found")
    if data.missing:
        out += ["## Not available", "", *[f"- `{m}`" for m in data.missing], ""]
    out += [f"_Generated by ov-movement {__version__}._", ""]
    return "\n".join(out)


__all__ = [
    "LIFECYCLE_PNG",
    "STRUCTURE_PNG",
    "VARIANTS_PNG",
    "headline",
    "recommendation_lines",
    "render_markdown",
]
