"""Every pipeline shipped in pipelines/ validates (each file there must stay runnable)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ov_movement.config import load_pipeline

PIPELINES = sorted(
    p for p in (Path(__file__).parents[2] / "pipelines").glob("*") if p.suffix in (".json", ".yaml", ".yml")
)


@pytest.mark.parametrize("path", PIPELINES, ids=[p.name for p in PIPELINES])
def test_shipped_pipeline_validates(path):
    loaded = load_pipeline(path)
    assert loaded.config.movement.params.warmup_end_epoch > loaded.config.movement.params.warmup_start_epoch
