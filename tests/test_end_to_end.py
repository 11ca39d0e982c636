"""The whole pipeline with the real stages on the shipped tiny pipeline (what CI must always run).

One session-scoped run (tests/conftest.py) feeds several checks, so the suite pays for the training once; the rerun
checks then change one config value at a time and read what ran from the runner's summary and
the cache manifests.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from ov_movement.config.load import load_pipeline
from ov_movement.reporting.tables import parse_markdown_table
from ov_movement.runner.execute import run_pipeline

pytestmark = pytest.mark.slow

TINY = Path(__file__).resolve().parents[1] / "pipelines" / "tiny.yaml"


@pytest.fixture(scope="module")
def first_run(tiny_pipeline):
    """The session's run of tiny.yaml (tests/conftest.py), shared with the browser test."""
    return tiny_pipeline


def _view(workdir: Path, stage: str) -> Path:
    return workdir / "tiny-bert" / stage


def _variant(tmp_path: Path, **changes) -> Path:
    raw = yaml.safe_load(TINY.read_text())
    raw.pop("$schema")
    for dotted, value in changes.items():
        section, key = dotted.split("__")
        raw[section][key] = value
    path = tmp_path / "tiny.yaml"  # same stem -> same pipeline name and views
    path.write_text(yaml.safe_dump(raw))
    return path


def test_every_stage_runs_and_the_report_shows_a_smaller_faster_model(first_run):
    workdir, stdout = first_run
    for stage in ("sparsify", "mask", "export", "convert", "quantize", "benchmark", "report"):
        assert f"{stage}" in stdout and (_view(workdir, stage) / "manifest.json").is_file()

    stats = json.loads((_view(workdir, "convert") / "stats.json").read_text())
    assert stats["pruned"]["bin_bytes"] < stats["dense"]["bin_bytes"]
    assert stats["removal_efficiency"]["ffn_neurons"] == 1.0

    bench = json.loads((_view(workdir, "benchmark") / "benchmark.json").read_text())
    assert json.dumps(bench)  # parsed numbers for each model benchmarked
    for model in ("dense", "pruned", "onnx"):
        assert model in json.dumps(bench)

    report = (_view(workdir, "report") / "report.md").read_text()
    assert "Speedup" in report or "speedup" in report
    assert "**Recommended: " in report
    tables = parse_markdown_table(report)
    assert tables  # at least one real table in the report
    png = _view(workdir, "report") / "sparsity_lifecycle.png"
    assert png.stat().st_size > 10_000


def test_int8_variants_are_quantized_benchmarked_and_reported(first_run):
    workdir, _ = first_run
    quantized = json.loads((_view(workdir, "quantize") / "quantize.json").read_text())
    for name in ("dense_int8", "pruned_int8"):
        assert quantized[name]["matmuls_quantized"] > 0 and quantized[name]["fake_quantize"] > 0
        assert quantized[name]["eval"]["agreement"] >= 0.9  # the INT8 IR predicts what its FP32 IR does

    bench = json.loads((_view(workdir, "benchmark") / "benchmark.json").read_text())
    assert list(bench["variants"]) == ["dense", "pruned", "dense_int8", "pruned_int8", "onnx"]
    for name in ("dense_int8", "pruned_int8"):
        entry = bench["variants"][name]
        assert entry["latency_ms"]["median"] > 0 and entry["speedup"]["pairs"] == 2
        assert entry["accuracy"]["accuracy"] >= 0.9
        assert entry["bin_bytes"] < 0.5 * bench["variants"][name.removesuffix("_int8")]["bin_bytes"]
    assert bench["speedup_vs_dense_int8"]["pruned_int8"]["pairs"] == 2

    report_dir = _view(workdir, "report")
    rows = {row["variant"]: row for row in parse_markdown_table((report_dir / "report.md").read_text())}
    assert {"dense FP32", "pruned FP32", "dense INT8 (PTQ)", "pruned INT8 (PTQ)"} <= set(rows)
    assert (report_dir / "accuracy_latency.png").stat().st_size > 10_000


def test_training_reaches_structured_sparsity_and_keeps_accuracy(first_run):
    workdir, _ = first_run
    mask_eval = json.loads((_view(workdir, "mask") / "eval.json").read_text())[-1]
    assert mask_eval["accuracy"] >= 0.9
    assert mask_eval["linear_sparsity"] >= 0.4


def test_unchanged_pipeline_runs_nothing(first_run):
    workdir, _ = first_run
    summary = run_pipeline(load_pipeline(TINY), workdir=workdir, progress=False)
    assert summary.executed == []


def test_benchmark_setting_reruns_only_benchmark_and_report(first_run, tmp_path):
    workdir, _ = first_run
    changed = _variant(tmp_path, benchmark__time_s=1)
    summary = run_pipeline(load_pipeline(changed), workdir=workdir, progress=False)
    assert summary.executed == ["benchmark", "report", "package"]  # the bundle is checked against it


def test_more_fine_tuning_epochs_rerun_from_mask_not_sparsify(first_run, tmp_path):
    workdir, _ = first_run
    changed = _variant(tmp_path, training__epochs=8)
    summary = run_pipeline(load_pipeline(changed), workdir=workdir, until="mask", progress=False)
    assert summary.executed == ["mask"]
    sparsify_before = json.loads((_view(workdir, "sparsify") / "manifest.json").read_text())["fingerprint"]
    # Switching back reuses every earlier entry at once.
    summary = run_pipeline(load_pipeline(TINY), workdir=workdir, progress=False)
    assert summary.executed == []
    assert (
        json.loads((_view(workdir, "sparsify") / "manifest.json").read_text())["fingerprint"]
        == sparsify_before
    )


def test_regularization_change_invalidates_everything(first_run, tmp_path):
    workdir, _ = first_run
    raw = yaml.safe_load(TINY.read_text())
    raw.pop("$schema")
    raw["compression"]["params"]["importance_regularization_factor"] = 0.006
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(raw))
    summary = run_pipeline(load_pipeline(path), workdir=workdir, dry_run=True, progress=False)
    states = {stage.name: stage.state for stage in summary.plan.stages}
    # Everything on the sparse chain; the dense baseline reads no compression settings.
    assert {s for name, s in states.items() if name != "baseline"} == {"stale"}, states
    assert summary.executed == []  # a dry run runs nothing
    why = " ".join(summary.plan["sparsify"].reasons)
    assert "importance_regularization_factor changed 0.005 -> 0.006" in why
