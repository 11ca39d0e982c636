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


def test_yaml_default_is_the_json_default():
    """bert.yaml is documented as bert.json in YAML: same settings, hence one shared cache."""
    pipelines = Path(__file__).parents[2] / "pipelines"
    as_json = load_pipeline(pipelines / "bert.json").config.model_dump(mode="json")
    as_yaml = load_pipeline(pipelines / "bert.yaml").config.model_dump(mode="json")
    assert as_yaml == as_json


@pytest.mark.parametrize("path", PIPELINES, ids=[p.name for p in PIPELINES])
def test_shipped_yaml_pipeline_opens_with_its_command(path):
    if path.suffix == ".json":
        pytest.skip("JSON has no comments: its description names the command")
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith(f"# ov-movement run pipelines/{path.name}")
