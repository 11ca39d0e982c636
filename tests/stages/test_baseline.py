"""The dense baseline: the accuracy yardstick the report compares the sparse model against."""

from __future__ import annotations

import json

from ov_movement.stages import baseline
from ov_movement.stages.base import StageContext
from tests.training.tiny import tiny_config


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
