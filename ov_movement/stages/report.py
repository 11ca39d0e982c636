"""report stage: report.md (+ self-contained report.html), the PNG plots, tables as JSON.

Reads (all optional; gaps are listed in the report) sparsify/{train_log.jsonl, eval.json},
mask/{train_log.jsonl, eval.json, sparsity_table.json}, convert/stats.json,
benchmark/benchmark.json.
"""

from __future__ import annotations

import json
from dataclasses import asdict

from ov_movement.reporting import tables
from ov_movement.reporting.collect import collect
from ov_movement.reporting.html import render_html
from ov_movement.reporting.markdown import LIFECYCLE_PNG, STRUCTURE_PNG, VARIANTS_PNG, render_markdown
from ov_movement.reporting.plots import plot_accuracy_latency, plot_kept_structure, plot_sparsity_lifecycle
from ov_movement.reporting.variants import pareto_front, recommend, variant_rows
from ov_movement.stages.base import StageContext, StageResult

REPORT_MD = "report.md"
REPORT_HTML = "report.html"
TABLES_JSON = "tables.json"  # the report's tables as data


def run(ctx: StageContext) -> StageResult:
    data = collect(ctx.config, ctx.inputs)
    out = ctx.output_dir
    plot_sparsity_lifecycle(data.history, out / LIFECYCLE_PNG)
    plot_kept_structure(data.blocks, out / STRUCTURE_PNG)
    images = {"lifecycle": LIFECYCLE_PNG, "structure": STRUCTURE_PNG}
    rows = variant_rows(data.benchmark)
    chosen = recommend(rows, data.baseline_eval, ctx.config.report.max_accuracy_drop)
    if rows:
        plot_accuracy_latency(rows, pareto_front(rows), chosen, out / VARIANTS_PNG)
        images["variants"] = VARIANTS_PNG
    markdown = render_markdown(data, images)
    (out / REPORT_MD).write_text(markdown, encoding="utf-8")
    if ctx.config.report.html:
        (out / REPORT_HTML).write_text(render_html(markdown, out, data.title), encoding="utf-8")
    # The same tables as data, for scripts that would otherwise scrape the Markdown.
    table_list = [asdict(table) for table in tables.summary_tables(data)]
    (out / TABLES_JSON).write_text(json.dumps(table_list, indent=1, ensure_ascii=False))

    metrics: dict[str, object] = {"missing_inputs": len(data.missing)}
    if data.final_linear_sparsity_pct is not None:
        metrics["final_linear_sparsity_pct"] = data.final_linear_sparsity_pct
    if data.final_eval and "accuracy" in data.final_eval:
        metrics["torch_accuracy"] = data.final_eval["accuracy"]
    if chosen:
        metrics["recommended"] = chosen.variant.name if chosen.variant else None
    summary = f"{REPORT_MD}{' + ' + REPORT_HTML if ctx.config.report.html else ''}, {len(images)} plots"
    if chosen and chosen.variant:
        summary += f"; recommended: {chosen.variant.label}"
    if data.missing:
        summary += f"; not available: {', '.join(data.missing)}"
    return StageResult(metrics=metrics, summary=summary)


__all__ = ["run"]
