"""JPQD end to end on the shipped tiny pipeline (pipelines/tiny-jpqd.yaml): baseline as the teacher,
quantization-aware training with movement sparsity and distillation, and a structurally pruned
INT8 IR next to the FP32 ones."""

from __future__ import annotations

import json

import pytest

from tests.pipelines import run_shipped

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def jpqd_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("e2e-jpqd")
    return workdir / "tiny-jpqd", run_shipped("tiny-jpqd.yaml", workdir, timeout=900)


def test_baseline_teaches_and_every_stage_runs(jpqd_run):
    view, stdout = jpqd_run
    for stage in ("baseline", "sparsify", "mask", "export", "convert", "benchmark", "report"):
        assert (view / stage / "manifest.json").is_file(), stage
    assert stdout.index("baseline") < stdout.index("sparsify")  # the teacher is trained first
    manifest = json.loads((view / "sparsify" / "manifest.json").read_text())
    assert "baseline" in manifest["upstream"]  # the config-dependent edge baseline -> sparsify
    assert "QAT" in stdout


def test_pruned_int8_ir_is_written_and_verified(jpqd_run):
    view, _ = jpqd_run
    stats = json.loads((view / "convert" / "stats.json").read_text())
    qat = stats["pruned_qat"]
    assert (view / "convert" / "pruned_qat.xml").is_file()
    assert qat["quantized_matmuls"] > 0
    assert qat["removal_efficiency"]["ffn_neurons"] == 1.0
    assert qat["agreement"] >= 0.99
    assert qat["bin_bytes"] < stats["pruned"]["bin_bytes"]
    # the FP32 IRs keep their meaning next to it
    assert (view / "convert" / "dense.xml").is_file() and (view / "convert" / "pruned.xml").is_file()


def test_training_learns_with_quantizers_and_distillation(jpqd_run):
    view, _ = jpqd_run
    mask_eval = json.loads((view / "mask" / "eval.json").read_text())[-1]
    assert mask_eval["accuracy"] >= 0.9
    log = [json.loads(line) for line in (view / "sparsify" / "train_log.jsonl").read_text().splitlines()]
    assert all("distillation_loss" in r for r in log if "event" not in r)
