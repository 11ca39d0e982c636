"""The corpus' base pipeline and its one shared trained workdir."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.tiny import tiny_pipeline_dict

NAME = "bad-inputs"


def base_pipeline() -> dict[str, Any]:
    """The tiny training pipeline of tests/tiny.py (seconds per stage), named."""
    raw = tiny_pipeline_dict()
    raw["name"] = NAME
    return raw


def write_pipeline(path: Path, raw: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def trained_workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workdir where sparsify..convert of the base pipeline are cached (about 10 s, once).

    Cases copy it; nobody writes into it."""
    from ov_movement.cli import main

    root = tmp_path_factory.mktemp("bad-inputs-trained")
    config = write_pipeline(root / "pipeline.yaml", base_pipeline())
    workdir = root / "wd"
    assert main(["run", str(config), "--workdir", str(workdir), "--until", "convert"]) == 0
    return workdir
