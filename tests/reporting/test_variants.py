"""The variants table, the Pareto front and the recommendation, on fixture benchmark results."""

from __future__ import annotations

import json

import pytest

from ov_movement.reporting import tables
from ov_movement.reporting.collect import collect
from ov_movement.reporting.markdown import render_markdown
from ov_movement.reporting.plots import VARIANTS_SIZE, plot_accuracy_latency
from ov_movement.reporting.variants import pareto_front, recommend, variant_rows
from tests.reporting.fixtures import (
    VARIANT_ACCURACY,
    benchmark_summary,
    pipeline_config,
    variants_benchmark_summary,
    write_upstream,
)

BASELINE = {"accuracy": 0.85}


@pytest.fixture()
def rows():
    return variant_rows(variants_benchmark_summary())


def _by_name(rows):
    return {row.name: row for row in rows}


def test_rows_carry_labels_sizes_latency_and_per_round_speedup(rows):
    assert [r.name for r in rows] == ["dense", "pruned", "dense_int8", "pruned_int8", "onnx"]
    named = _by_name(rows)
    assert named["pruned_int8"].label == "pruned INT8 (PTQ)" and named["pruned_int8"].bin_bytes == 2_500_000
    # Per-round ratios 10/2.5 = 4.0 and 10.5/2.55 = 4.118: their median, not the ratio of medians.
    assert named["pruned_int8"].speedup == pytest.approx(
        {"min": 4.0, "median": 4.0588, "max": 4.1176}, abs=1e-4
    )
    assert not named["pruned_int8"].speedup_noisy
    assert named["dense"].speedup == {"min": 1.0, "median": 1.0, "max": 1.0}
    assert named["onnx"].accuracy is None  # timed, not evaluated


def test_pareto_front_keeps_only_variants_nothing_beats_on_both_axes(rows):
    assert [r.name for r in pareto_front(rows)] == ["pruned_int8", "dense_int8", "dense"]


def test_recommends_the_fastest_variant_within_the_allowed_drop_of_the_baseline(rows):
    one_point = recommend(rows, BASELINE, 0.01)
    assert one_point.variant.name == "dense_int8"  # pruned INT8 is faster but 5 points down
    assert "dense fine-tuned baseline (85.00%)" in one_point.reason and "2 of 4" in one_point.reason
    five_points = recommend(rows, BASELINE, 0.05)
    assert five_points.variant.name == "pruned_int8"


def test_without_a_baseline_the_dense_fp32_ir_is_the_reference(rows):
    chosen = recommend(rows, None, 0.0)
    assert (
        chosen.reference_label == "dense FP32 IR" and chosen.reference_accuracy == VARIANT_ACCURACY["dense"]
    )
    assert chosen.variant.name == "dense"  # nothing else reaches 85.0%


def test_no_variant_within_the_drop_is_said_plainly(rows):
    chosen = recommend(rows, {"accuracy": 0.95}, 0.01)
    assert chosen.variant is None and "no variant is within 1.00 points" in chosen.reason
    assert "dense FP32, reaches 85.00%" in chosen.reason


def test_overlapping_latency_ranges_are_called_noise(rows):
    close = [r for r in rows if r.name in ("dense", "onnx")]
    named = {r.name: r for r in close}
    onnx = named["onnx"].__class__(**{**named["onnx"].__dict__, "accuracy": 0.85})
    chosen = recommend([named["dense"], onnx], BASELINE, 0.01)
    assert chosen.variant.name == "dense" and "within noise" in chosen.reason


def test_older_benchmark_json_without_variants_still_gives_rows():
    rows = variant_rows(benchmark_summary())
    assert [r.name for r in rows] == ["dense", "pruned", "onnx"]
    assert _by_name(rows)["pruned"].accuracy == 0.825 and _by_name(rows)["pruned"].speedup["median"] > 1


def _report(tmp_path, benchmark, **config):
    dirs = write_upstream(tmp_path / "up")
    (dirs["benchmark"] / "benchmark.json").write_text(json.dumps(benchmark))
    baseline = tmp_path / "up" / "baseline"
    baseline.mkdir()
    (baseline / "eval.json").write_text(json.dumps([{"epoch": 2, "accuracy": 0.85, "f1": 0.8}]))
    return collect(pipeline_config(**config), {**dirs, "baseline": baseline})


def test_report_leads_with_the_variants_table_and_names_the_recommendation(tmp_path):
    data = _report(tmp_path, variants_benchmark_summary())
    markdown = render_markdown(data, {"variants": "accuracy_latency.png"})
    assert markdown.index("## Model variants") < markdown.index("## Configuration")
    assert "**Recommended: dense INT8 (PTQ)**" in markdown
    assert "pruned INT8 (PTQ) vs dense INT8 (PTQ): **1.60x**" in markdown  # rounds 4/2.5 and 4.1/2.55
    table = tables.variants_table(data)
    rows = {row[0]: row for row in table.rows}
    assert rows["dense INT8 (PTQ)"][-1] == "recommended, Pareto"
    assert rows["pruned FP32"][-1] == ""
    assert rows["pruned INT8 (PTQ)"][1:4] == ["80.00%", "2.50", "2.525 [2.500–2.550]"]
    assert rows["pruned INT8 (PTQ)"][4] == "4.06x [4.00–4.12]"


def test_a_noisy_speedup_is_not_shown_as_a_figure(tmp_path):
    benchmark = variants_benchmark_summary()
    benchmark["variants"]["pruned_int8"]["speedup"]["noise"]["latency"]["noisy"] = True
    rows = {row[0]: row for row in tables.variants_table(_report(tmp_path, benchmark)).rows}
    assert rows["pruned INT8 (PTQ)"][4] == "NOISY [4.00–4.12]"


def test_report_max_accuracy_drop_changes_the_recommendation(tmp_path):
    data = _report(tmp_path, variants_benchmark_summary(), report={"max_accuracy_drop": 0.05})
    assert "**Recommended: pruned INT8 (PTQ)**" in render_markdown(data)


def test_accuracy_latency_plot_is_written_at_its_size(tmp_path, rows):
    from PIL import Image

    path = plot_accuracy_latency(
        rows, pareto_front(rows), recommend(rows, BASELINE, 0.01), tmp_path / "v.png"
    )
    with Image.open(path) as image:
        assert image.size == VARIANTS_SIZE
    empty = plot_accuracy_latency([], [], None, tmp_path / "empty.png")
    assert empty.stat().st_size > 1000
