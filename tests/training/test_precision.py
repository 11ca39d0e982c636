"""training.precision: bf16 autocast trains the tiny pipeline on CPU; what NNCF keeps stays fp32."""

from __future__ import annotations

import json
import math

import pytest

from tests.stages.in_process import run_stage
from tests.tiny import tiny_config

pytestmark = pytest.mark.slow


def test_bf16_trains_and_keeps_weights_importance_and_masks_fp32(tmp_path):
    import torch

    config = tiny_config(
        training={"epochs": 3, "max_steps_per_epoch": 2, "precision": "bf16"},
        params={"warmup_start_epoch": 1, "warmup_end_epoch": 2},
    )
    run_stage("sparsify", config, tmp_path)
    result = run_stage("mask", config, tmp_path)
    assert result.metrics["precision"] == "bf16"
    assert result.metrics["structured_masking_step"] == 4
    records = [json.loads(line) for line in (tmp_path / "mask" / "train_log.jsonl").read_text().splitlines()]
    assert all(math.isfinite(r["loss"]) for r in records if "loss" in r)
    assert math.isfinite(result.metrics["eval_loss"])
    state = torch.load(tmp_path / "mask" / "checkpoint" / "model.pt", weights_only=True)
    floats = {name: t.dtype for name, t in state.items() if t.is_floating_point()}
    assert any("importance" in name for name in floats) and any("_binary_mask" in name for name in floats)
    assert set(floats.values()) == {torch.float32}, {n: d for n, d in floats.items() if d != torch.float32}


def test_bf16_changes_the_forward_pass():
    """autocast is really on for bf16: matmuls compute in bf16 while the parameters stay fp32."""
    import torch

    from ov_movement.training.loop import autocast

    layer = torch.nn.Linear(64, 64)
    x = torch.randn(4, 64)
    with autocast(torch.device("cpu"), "bf16"):
        low = layer(x)
    with autocast(torch.device("cpu"), "fp32"):
        full = layer(x)
    assert low.dtype == torch.bfloat16 and full.dtype == torch.float32
    assert layer.weight.dtype == torch.float32
