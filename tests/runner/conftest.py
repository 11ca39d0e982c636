"""Fixtures for runner tests: a toy pipeline in a temporary directory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ov_movement.config.load import LoadedPipeline
from ov_movement.runner.execute import RunSummary, pipeline_status, run_pipeline
from ov_movement.runner.plan import Plan
from tests.runner import runner_toys


class ToyPipeline:
    def __init__(self, root: Path):
        self.root = root
        self.config = root / "toy.yaml"
        self.workdir = root / "wd"
        self.registry = runner_toys.make_registry()
        self.loaded = self.load()

    def load(self, **changes: Any) -> LoadedPipeline:
        """Rewrite the config with `section__key=value` changes (from the base config)."""
        self.loaded = runner_toys.write_config(self.config, **changes)
        return self.loaded

    def run(self, **options: Any) -> RunSummary:
        return run_pipeline(self.loaded, self.registry, self.workdir, progress=False, **options)

    def status(self, **options: Any) -> Plan:
        return pipeline_status(self.loaded, self.registry, self.workdir, **options)

    def entries(self, stage: str) -> list[Path]:
        """Committed entries of a stage (64-hex directories only)."""
        return sorted(p for p in (self.workdir / "cache" / stage).glob("*") if len(p.name) == 64)

    def manifest(self, stage: str) -> dict[str, Any]:
        """The manifest of the stage's current entry (through the pipeline's view)."""
        return json.loads((self.workdir / "toy" / stage / "manifest.json").read_text())

    def lock(self) -> dict[str, Any]:
        return json.loads((self.workdir / "toy" / "ov-movement.lock").read_text())


@pytest.fixture
def toy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ToyPipeline:
    monkeypatch.chdir(tmp_path)
    runner_toys.reset()
    yield ToyPipeline(tmp_path)
    runner_toys.reset()
