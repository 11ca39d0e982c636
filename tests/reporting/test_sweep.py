"""sweep.md and the Pareto plot from variants' stage outputs, read by the report's own functions."""

from __future__ import annotations

import json

from ov_movement.config.load import load_pipeline
from ov_movement.config.sweep import expand
from ov_movement.reporting.collect import collect
from ov_movement.reporting.plots import SWEEP_SIZE
from ov_movement.reporting.sweep import PARETO_PNG, SWEEP_MD, sweep_rows, sweep_table, write_sweep_report
from ov_movement.reporting.tables import parse_markdown_table
from ov_movement.reporting.variants import variant_rows
from tests.pipelines import PIPELINES
from tests.reporting.fixtures import variants_benchmark_summary, write_upstream
from tests.reporting.test_plots import assert_real_plot


def _sweep_with_outputs(tmp_path):
    sweep = expand(
        load_pipeline(PIPELINES / "tiny.yaml"),
        ["compression.params.importance_regularization_factor=0.01,0.1"],
    )
    directories = {}
    for index, variant in enumerate(sweep.variants):
        directory = tmp_path / f"v{index}"
        write_upstream(directory)
        summary = variants_benchmark_summary()
        for entry in summary["variants"].values():  # the second variant: faster, less accurate
            entry["latency_ms"] = {k: v / (1 + index) for k, v in entry["latency_ms"].items()}
            if entry.get("accuracy"):
                entry["accuracy"]["accuracy"] -= 0.05 * index
        (directory / "benchmark" / "benchmark.json").write_text(json.dumps(summary))
        (directory / "baseline").mkdir()
        (directory / "baseline" / "eval.json").write_text(json.dumps([{"epoch": 0, "accuracy": 0.9}]))
        directories[variant.name] = directory
    return sweep, directories


def test_rows_are_the_reports_numbers(tmp_path):
    sweep, directories = _sweep_with_outputs(tmp_path)
    rows = sweep_rows(sweep, directories)
    for row, variant in zip(rows, sweep.variants, strict=True):
        data = collect(
            variant.loaded.config, {s: directories[variant.name] / s for s in ("mask", "benchmark")}
        )
        pruned = next(r for r in variant_rows(data.benchmark) if r.name == "pruned")
        assert row.pruned == pruned  # the same VariantRow the report's variants table shows
        assert row.sparsity_pct == data.final_linear_sparsity_pct is not None


def test_table_has_a_row_per_variant_and_the_dense_baseline(tmp_path):
    sweep, directories = _sweep_with_outputs(tmp_path)
    table = sweep_table(sweep, sweep_rows(sweep, directories))
    assert table.header[:4] == [
        "variant",
        "importance_regularization_factor",
        "pruned IR accuracy",
        "INT8 accuracy",
    ]
    first, second, dense = table.rows
    assert first[0].endswith("=0.01") and first[1] == "0.01" and first[2] == "82.50%"
    assert second[2] == "77.50%" and second[-1] == "Pareto" and first[-1] == "Pareto"  # neither dominates
    assert dense[0].startswith("dense: dense fine-tuned baseline") and dense[2] == "90.00%"


def test_sweep_md_and_pareto_png(tmp_path):
    sweep, directories = _sweep_with_outputs(tmp_path)
    out = tmp_path / "sweep"
    out.mkdir()
    written = write_sweep_report(sweep, out, directories)
    assert written == [out / SWEEP_MD, out / PARETO_PNG]
    text = (out / SWEEP_MD).read_text()
    assert f"]({PARETO_PNG})" in text
    table = parse_markdown_table(text)
    assert [row["importance_regularization_factor"] for row in table] == ["0.01", "0.1", ""]
    assert_real_plot(out / PARETO_PNG, SWEEP_SIZE)
