"""The dense baseline: the accuracy yardstick the report compares the sparse model against."""

from __future__ import annotations

import json

import pytest

from ov_movement.config.pipeline import PipelineConfig
from ov_movement.stages import baseline
from ov_movement.stages.base import StageContext
from tests.tiny import tiny_config, tiny_pipeline_dict


def _ctx(tmp_path, config):
    return StageContext(
        stage="baseline",
        config=config,
        config_dir=tmp_path,
        output_dir=tmp_path / "out",
        inputs={},
        progress=False,
    )


def test_disabled_baseline_costs_nothing_and_reports_no_row(tmp_path):
    result = baseline.run(_ctx(tmp_path, tiny_config()))
    assert result.metrics == {"enabled": False}
    assert json.loads((tmp_path / "out" / "eval.json").read_text()) == []


def test_enabled_baseline_fine_tunes_densely_and_logs_each_epoch(tmp_path):
    config = tiny_config(baseline={"enabled": True, "epochs": 2})
    result = baseline.run(_ctx(tmp_path, config))
    history = json.loads((tmp_path / "out" / "eval.json").read_text())
    assert [record["epoch"] for record in history] == [0, 1]
    assert result.metrics["enabled"] is True
    assert 0.0 <= result.metrics["accuracy"] <= 1.0
    assert result.metrics["steps"] == history[-1]["step"] > 0


@pytest.mark.slow
def test_baseline_on_two_processes_matches_one_with_the_same_global_batch(tmp_path):
    """training.distributed: the workers fine-tune, rank 0 writes eval.json and the teacher."""
    from ov_movement.training.distill import BASELINE_MODEL_FILE

    def config(**distributed):
        raw = tiny_pipeline_dict(
            baseline={"enabled": True, "epochs": 2},
            training={"max_steps_per_epoch": 2, **({"distributed": distributed} if distributed else {})},
        )
        raw["model"]["config"].update(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
        return PipelineConfig.model_validate(raw)

    one = baseline.run(_ctx(tmp_path / "one", config()))
    two = baseline.run(_ctx(tmp_path / "two", config(nproc_per_node=2)))
    assert two.metrics["processes"] == 2 and "processes" not in one.metrics
    assert (tmp_path / "two" / "out" / BASELINE_MODEL_FILE).exists()
    assert abs(two.metrics["loss"] - one.metrics["loss"]) < 0.02  # rounding only (no dropout)
    assert two.metrics["accuracy"] == pytest.approx(one.metrics["accuracy"], abs=0.05)
