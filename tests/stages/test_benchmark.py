"""The benchmark stage end to end on a tiny BERT: real benchmark_app runs, real IR accuracy."""

import json
import shutil

import numpy as np
import pytest

from ov_movement.errors import StageError
from ov_movement.stages import benchmark
from ov_movement.stages.base import StageContext
from tests.reporting.fixtures import pipeline_config, write_upstream
from tests.tiny import IR_SEQ, ir_inputs, tiny_irs


@pytest.fixture()
def upstream(tmp_path, tmp_path_factory):
    models = tiny_irs(tmp_path_factory)
    dirs = write_upstream(tmp_path / "up", with_benchmark=False)
    for name in ("dense", "pruned"):
        for suffix in (".xml", ".bin"):
            shutil.copy(models[name].with_suffix(suffix), dirs["convert"] / f"{name}{suffix}")
    shutil.copy(models["onnx"], dirs["export"] / "model.onnx")
    return dirs


def context(tmp_path, dirs, **benchmark_settings):
    config = pipeline_config(
        benchmark={"time_s": 1, "repeats": 1, "seq_length": IR_SEQ, **benchmark_settings}
    )
    out = tmp_path / "out"
    out.mkdir()
    return StageContext(
        "benchmark",
        config,
        tmp_path,
        out,
        {k: v for k, v in dirs.items() if k != "benchmark"},
        progress=False,
    )


@pytest.mark.slow
def test_benchmark_stage_measures_all_three_models_and_ir_accuracy(tmp_path, upstream, monkeypatch):
    inputs = ir_inputs(12)
    labels = np.arange(12) % 2
    monkeypatch.setattr(benchmark, "load_eval_arrays", lambda ctx: (inputs, labels))
    ctx = context(tmp_path, upstream, nthreads=1)
    result = benchmark.run(ctx)

    summary = json.loads((ctx.output_dir / "benchmark.json").read_text())
    assert set(summary["models"]) == {"dense", "pruned", "onnx"}
    for name, model in summary["models"].items():
        assert model["latency_median_ms"]["median"] > 0, name
        assert model["throughput_fps"]["median"] > 0, name
        assert model["runtime"]["inference_precision"] == "f32"
        assert model["runtime"]["nthreads"] == "1"
    assert set(summary["speedup"]) == {"pruned", "onnx"}
    assert summary["flop_bound_speedup"] == 2.4  # from convert/stats.json, kept next to the speedup
    assert summary["machine"]["cpu"] and summary["machine"]["openvino"]
    assert summary["settings"]["nthreads"] == 1 and summary["settings"]["inference_precision"] == "f32"
    accuracy = summary["accuracy"]
    assert accuracy["torch"]["accuracy"] == 0.85  # mask/eval.json, last epoch
    assert accuracy["dense"]["samples"] == 12 and accuracy["pruned"]["agreement_with"] == "dense"
    for run in summary["runs"]:  # relative paths survive the runner moving the directory
        assert (ctx.output_dir / run["report_dir"] / "benchmark_report.json").is_file()
    assert [r["model"] for r in summary["runs"]] == ["dense", "pruned", "onnx"]

    metrics = result.metrics
    assert {
        "dense_latency_ms",
        "pruned_latency_ms",
        "onnx_latency_ms",
        "speedup_median",
        "speedup_min",
        "speedup_max",
        "flop_bound_speedup",
        "dense_accuracy",
        "pruned_accuracy",
        "torch_accuracy",
    } <= set(metrics)
    assert "speedup" in result.summary and "FLOP bound 2.40x" in result.summary


def test_missing_upstream_model_is_named(tmp_path):
    dirs = write_upstream(tmp_path / "up", with_benchmark=False)
    with pytest.raises(StageError, match="dense.xml"):
        benchmark.run(context(tmp_path, dirs, evaluate_accuracy=False))


@pytest.mark.slow
def test_only_requested_models_without_accuracy(tmp_path, upstream):
    ctx = context(tmp_path, upstream, models=["pruned"], evaluate_accuracy=False)
    result = benchmark.run(ctx)
    summary = json.loads((ctx.output_dir / "benchmark.json").read_text())
    assert list(summary["models"]) == ["pruned"] and summary["speedup"] == {} and "accuracy" not in summary
    assert result.metrics["pruned_latency_ms"] > 0


def test_shape_mismatch_ignores_a_dropped_input_but_not_other_dimensions():
    same = {"dense": "input_ids[1,32],attention_mask[1,32]", "pruned": "input_ids[1,32]"}
    assert benchmark.shape_mismatch(same) is None
    static = {"dense": "input_ids[1,32],attention_mask[1,32]", "pruned": "input_ids[1,128]"}
    assert "not comparable" in benchmark.shape_mismatch(static)


def test_optional_variants_are_skipped_when_absent_and_required_ones_are_not(tmp_path):
    dirs = write_upstream(tmp_path / "up", with_benchmark=False)
    for name in ("dense.xml", "pruned.xml"):
        (dirs["convert"] / name).write_text("<net/>")
    quantize_dir = tmp_path / "up" / "quantize"
    quantize_dir.mkdir()
    (quantize_dir / "pruned_int8.xml").write_text("<net/>")
    ctx = context(tmp_path, {**dirs, "quantize": quantize_dir})
    paths = benchmark.model_paths(ctx, ["onnx", "pruned_int8", "dense_int8", "pruned_qat", "dense", "pruned"])
    # Table order, whatever the config's order; no dense_int8 (quantize.models left it out), no QAT.
    assert list(paths) == ["dense", "pruned", "pruned_int8", "onnx"]
    assert paths["pruned_int8"] == quantize_dir / "pruned_int8.xml"


@pytest.mark.slow
def test_int8_variants_are_timed_with_the_others_and_compared_with_their_fp32_source(
    tmp_path, upstream, monkeypatch
):
    """Plumbing only: FP32 copies stand in for the INT8 IRs (tests/stages/test_quantize.py and the
    end-to-end test make real ones)."""
    quantize_dir = tmp_path / "up" / "quantize"
    quantize_dir.mkdir()
    for source, target in (("dense", "dense_int8"), ("pruned", "pruned_int8")):
        for suffix in (".xml", ".bin"):
            shutil.copy(upstream["convert"] / f"{source}{suffix}", quantize_dir / f"{target}{suffix}")
    inputs = ir_inputs(12)
    monkeypatch.setattr(benchmark, "load_eval_arrays", lambda ctx: (inputs, np.arange(12) % 2))
    ctx = context(tmp_path, {**upstream, "quantize": quantize_dir}, nthreads=1)
    result = benchmark.run(ctx)

    summary = json.loads((ctx.output_dir / "benchmark.json").read_text())
    order = ["dense", "pruned", "dense_int8", "pruned_int8", "onnx"]
    assert [r["model"] for r in summary["runs"]] == order  # one interleaved round over all of them
    assert list(summary["variants"]) == order
    assert summary["accuracy"]["pruned_int8"]["agreement_with"] == "pruned"
    assert summary["accuracy"]["dense_int8"]["agreement_with"] == "dense"
    assert summary["accuracy"]["pruned"]["agreement_with"] == "dense"  # the existing key keeps its meaning
    entry = summary["variants"]["pruned_int8"]
    assert entry["label"] == "pruned INT8 (PTQ)" and entry["file"] == "quantize/pruned_int8.xml"
    assert entry["bin_bytes"] == (quantize_dir / "pruned_int8.bin").stat().st_size
    assert entry["speedup"] == summary["speedup"]["pruned_int8"] and entry["accuracy"]["samples"] == 12
    assert summary["speedup_vs_dense_int8"]["pruned_int8"]["pairs"] == 1
    assert "pruned_int8_vs_dense_int8_median" in result.metrics and "pruned INT8" in result.summary
    # The keys report and older readers use are still there.
    assert {"models", "speedup", "accuracy", "settings", "machine", "flop_bound_speedup"} <= set(summary)


def test_a_noisy_speedup_reaches_the_stage_summary_and_metrics_as_noise():
    from ov_movement.benchmarking.summary import summarize
    from tests.benchmarking.test_summary import run

    rounds = [(10.0, 5.0), (10.0, 2.5), (10.0, 5.1)]  # 2.0x, 4.0x, 1.96x: the rounds disagree
    runs = [
        run(m, r, lat, 1000 / lat)
        for r, pair in enumerate(rounds)
        for m, lat in zip(("dense", "pruned"), pair, strict=True)
    ]
    summary = {**summarize(runs, noise_threshold=0.15), "flop_bound_speedup": 2.4}
    line = benchmark._summary_line(summary)
    assert line.startswith("NOISY pruned/dense speedup, rounds 1.96x-4.00x") and "benchmark.repeats" in line
    assert "FLOP bound" not in line  # no figure is claimed
    assert benchmark._metrics(summary)["speedup_noisy"] is True
    quiet = summarize(runs[:2] + runs[4:], noise_threshold=0.15)  # rounds 1 and 3 only
    assert benchmark._summary_line(quiet).startswith("pruned/dense speedup 1.98x")
    assert benchmark._metrics(quiet)["speedup_noisy"] is False
