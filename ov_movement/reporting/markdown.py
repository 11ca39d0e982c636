"""report.md: the headline numbers first, then every table and plot."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ov_movement import __version__
from ov_movement.benchmarking.summary import NOISE_ADVICE
from ov_movement.benchmarking.variants import label
from ov_movement.reporting import literal, tables
from ov_movement.reporting.collect import (
    BASELINE_EVAL,
    BENCHMARK,
    FINAL_EVAL,
    FINAL_LOG,
    IR_STATS,
    SPARSITY,
    WARMUP_LOG,
    ReportData,
)
from ov_movement.reporting.literal import Code, Link, Spans, Strong, join
from ov_movement.reporting.tables import source

LIFECYCLE_PNG = "sparsity_lifecycle.png"
STRUCTURE_PNG = "kept_structure.png"
VARIANTS_PNG = "accuracy_latency.png"


def recommendation_lines(data: ReportData) -> list[Spans]:
    """The recommended variant and why, then what pruning adds on top of INT8 (per-round ratios)."""
    from ov_movement.reporting.variants import recommend, variant_rows

    benchmark: Mapping[str, Any] = data.benchmark or {}
    lines = []
    chosen = recommend(variant_rows(benchmark), data.baseline_eval, data.config.report.max_accuracy_drop)
    if chosen and chosen.variant:
        lines.append(Spans(Strong(f"Recommended: {chosen.variant.label}"), f", {chosen.reason}."))
    elif chosen:
        lines.append(Spans(Strong("No variant recommended:"), f" {chosen.reason}."))
    for name, speedup in benchmark.get("speedup_vs_dense_int8", {}).items():
        latency = speedup.get("latency", {})
        rounds = f"min {latency.get('min', 0):.2f}x, max {latency.get('max', 0):.2f}x per interleaved round"
        if speedup.get("noise", {}).get("latency", {}).get("noisy"):
            lines.append(Spans(f"{label(name)} vs dense INT8 (PTQ): ", Strong("NOISY"), f" ({rounds})."))
        else:
            median = Strong(f"{latency.get('median', 0):.2f}x")
            lines.append(Spans(f"{label(name)} vs dense INT8 (PTQ): ", median, f" latency ({rounds})."))
    return lines


def _from(*sources: Link) -> Spans:
    return Spans(" (from ", join(list(sources)), ")")


def speedup_line(benchmark: Mapping[str, Any]) -> Spans | None:
    """The headline speed claim, or, when the rounds disagree too much, the noise verdict instead."""
    speedup = benchmark.get("speedup", {}).get("pruned", {})
    pruned = speedup.get("latency")
    if not pruned:
        return None
    rounds = f"over {benchmark.get('settings', {}).get('repeats', '?')} interleaved repeats"
    verdict = speedup.get("noise", {}).get("latency") or {}
    if verdict.get("noisy"):
        return Spans(
            Strong("Noisy benchmark:"),
            f" the pruned IR latency speedup ranged {pruned['min']:.2f}x to {pruned['max']:.2f}x {rounds} "
            f"({verdict.get('reason')}), so no figure is claimed; {verdict.get('advice', NOISE_ADVICE)}",
            _from(source(*BENCHMARK)),
            ".",
        )
    bound = benchmark.get("flop_bound_speedup")
    bound_text = ["; linear-FLOP bound ", Strong(f"{bound:.2f}x")] if isinstance(bound, int | float) else []
    checked = f"; {verdict['reason']}" if verdict.get("reason") else ""
    return Spans(
        "Pruned IR latency speedup over dense: ",
        Strong(f"{pruned['median']:.2f}x"),
        f" (min {pruned['min']:.2f}x, max {pruned['max']:.2f}x {rounds}{checked})",
        *bound_text,
        _from(source(*BENCHMARK)),
        ".",
    )


def headline(data: ReportData) -> list[Spans]:
    """One line per claim a user cares about: speed (with its bound), accuracy, size."""
    lines = recommendation_lines(data)
    benchmark: Mapping[str, Any] = data.benchmark or {}
    speed = speedup_line(benchmark)
    if speed:
        lines.append(speed)
    accuracy = benchmark.get("accuracy", {})
    parts, origins = [], []
    if data.baseline_eval and "accuracy" in data.baseline_eval:
        parts.append(f"dense fine-tuned baseline {100 * data.baseline_eval['accuracy']:.2f}%")
        origins.append(source(*BASELINE_EVAL))
    if data.final_eval and "accuracy" in data.final_eval:
        parts.append(f"torch sparse {100 * data.final_eval['accuracy']:.2f}%")
        origins.append(source(*FINAL_EVAL))
    for name in ("dense", "pruned"):
        if "accuracy" in accuracy.get(name, {}):
            parts.append(f"{name} IR {100 * accuracy[name]['accuracy']:.2f}%")
    if any("accuracy" in accuracy.get(name, {}) for name in ("dense", "pruned")):
        origins.append(source(*BENCHMARK))
    if parts:
        spans = "exact_match" in (data.final_eval or {})  # question answering: accuracy = exact match
        lines.append(
            Spans(f"{'Exact match' if spans else 'Accuracy'}: " + ", ".join(parts), _from(*origins), ".")
        )
    stats = data.stats or {}
    dense_bytes, pruned_bytes = (
        stats.get("dense", {}).get("bin_bytes"),
        stats.get("pruned", {}).get("bin_bytes"),
    )
    if dense_bytes and pruned_bytes:
        lines.append(
            Spans(
                f"IR weights: {dense_bytes / 1e6:.2f} MB dense → {pruned_bytes / 1e6:.2f} MB pruned "
                f"({100 * pruned_bytes / dense_bytes:.1f}%)",
                _from(source(*IR_STATS)),
                ".",
            )
        )
    lines += [Spans(Strong("Warning:"), f" {warning}") for warning in benchmark.get("warnings", [])]
    machine = benchmark.get("machine")
    if machine:
        settings = benchmark.get("settings", {})
        lines.append(
            Spans(
                f"Measured on {machine.get('cpu')} ({machine.get('usable_cores')} usable cores), "
                f"threads {settings.get('nthreads') or 'auto'}, precision {settings.get('inference_precision')}, "
                f"OpenVINO {machine.get('openvino')}.",
            )
        )
    return lines


def _section(title: str, table: tables.Table, empty: str, *sources: Link) -> list[str]:
    body = tables.to_markdown(table) if table.rows else f"_{literal.escape(empty)}_"
    shown = sources and table.rows  # an empty table names no source: its file is listed as missing
    origin = [literal.to_markdown(Spans("Source: ", join(list(sources)), ".")), ""] if shown else []
    return [f"## {literal.escape(title)}", "", body, "", *origin]


def provenance_table(data: ReportData) -> tables.Table:
    """Which cache entry each number came from, and the library versions that made it."""
    rows = []
    for stage, origin in data.provenance.items():
        versions = ", ".join(f"{name} {version}" for name, version in sorted(origin.versions.items()))
        rows.append([stage, Code(origin.fingerprint), origin.created or tables.NA, versions or tables.NA])
    return tables.Table("Provenance", ["stage", "fingerprint", "created (UTC)", "library versions"], rows)


def _title_block(data: ReportData) -> list[str]:
    """The title, then the pipeline's own words about itself: description and name."""
    out = [f"# {literal.escape(data.title)}", ""]
    if data.config.description:
        out += [literal.escape_block(data.config.description), ""]
    if data.config.name:
        out += [literal.to_markdown(Spans("Pipeline ", Code(data.config.name), ".")), ""]
    return out


def render_markdown(data: ReportData, images: Mapping[str, str] | None = None) -> str:
    """The whole report; `images` maps plot name to the file name written next to report.md."""
    images = images or {}
    out = _title_block(data)
    out += [f"- {literal.to_markdown(line)}" for line in headline(data)] or ["_No results yet._"]
    out += [""]
    out += _section(
        "Model variants",
        tables.variants_table(data),
        "no benchmark results found",
        source(*BENCHMARK),
    )
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
    out += _section("Accuracy", tables.accuracy_table(data), "no evaluation results found")  # per-row source
    out += ["## Sparsity lifecycle", ""]
    if "lifecycle" in images:
        out += [f"![Linear-layer sparsity over training steps]({images['lifecycle']})", ""]
    out += [
        "Linear-layer sparsity per training step; shaded: the warm-up window "
        "(`warmup_start_epoch` → `warmup_end_epoch`); dashed: the structured-masking step.",
        "",
    ]
    if data.history.steps:
        logs = [source(*WARMUP_LOG), source(*FINAL_LOG)]
        out += [literal.to_markdown(Spans("Source: ", join(logs), ".")), ""]
    out += _section(
        "Kept structure",
        tables.structure_table(data.blocks),
        "no sparsity table found",
        source(*SPARSITY),
    )
    if "structure" in images:
        out += [f"![Attention heads and FFN neurons kept per block]({images['structure']})", ""]
    out += _section(
        "Model size",
        tables.size_table(data.stats),
        "no convert statistics found",
        source(*IR_STATS),
    )
    out += _section(
        "Benchmark",
        tables.benchmark_table(data.benchmark),
        "no benchmark results found",
        source(*BENCHMARK),
    )
    out += [
        "Speedup = dense latency / model latency, per interleaved round (A B C A B C ...), then "
        "min / median / max. The FLOP bound is dense / pruned linear-layer FLOPs per token: the speedup "
        "the pruned IR could reach if linear layers were all the work.",
        "",
    ]
    out += _section(
        "Machine",
        tables.machine_table(data.benchmark),
        "no benchmark results found",
        source(*BENCHMARK),
    )
    out += _section(
        "Linear-layer sparsity",
        tables.layer_table(data.layers),
        "no per-layer table found",
        source(*SPARSITY),
    )
    if data.provenance:
        out += _section("Provenance", provenance_table(data), "")
        out += [
            "Each stage's outputs are the cache entry of that fingerprint (`<workdir>/cache/<stage>/<fingerprint>/`, "
            "its `manifest.json` lists every file with its sha256).",
            "",
        ]
    if data.missing:
        out += ["## Not available", "", *[f"- {literal.code_span(m)}" for m in data.missing], ""]
    out += [f"_Generated by ov-movement {literal.escape(__version__)}._", ""]
    return "\n".join(out)


__all__ = [
    "LIFECYCLE_PNG",
    "STRUCTURE_PNG",
    "VARIANTS_PNG",
    "headline",
    "provenance_table",
    "recommendation_lines",
    "render_markdown",
    "source",
    "speedup_line",
]
