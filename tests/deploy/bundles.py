"""Bundles of the shipped tiny pipelines, written once per test session and shared by the modules
that read them (tests/stages/test_package.py, tests/cli/test_predict.py, tests/deploy/test_bundle.py,
tests/deploy/test_readme_snippets.py): a tiny pipeline run costs minutes on a shared 2-core machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from ov_movement.deploy.predictor import BUNDLE_FILE
from tests.pipelines import run_shipped

# pipeline file -> the `name` inside it (the view directory)
NAMES = {
    "tiny.yaml": "tiny-bert",
    "tiny-vit.yaml": "tiny-vit",
    "tiny-wav2vec2.yaml": "tiny-wav2vec2",
    "tiny-qa.yaml": "tiny-bert-qa",
}
_WORKDIRS: dict[str, Path] = {}


def shipped_workdir(pipeline: str, factory: pytest.TempPathFactory) -> Path:
    """The workdir of `ov-movement run pipelines/<pipeline>` (run on first use in this session)."""
    if pipeline not in _WORKDIRS:
        workdir = factory.mktemp(pipeline.replace(".", "-"))
        run_shipped(pipeline, workdir, timeout=1800)
        _WORKDIRS[pipeline] = workdir
    return _WORKDIRS[pipeline]


def shipped_bundle(pipeline: str, factory: pytest.TempPathFactory) -> Path:
    """`<workdir>/<name>/package`, the bundle of a shipped tiny pipeline."""
    root = shipped_workdir(pipeline, factory) / NAMES[pipeline] / "package"
    assert (root / BUNDLE_FILE).is_file(), f"the package stage wrote no {BUNDLE_FILE} under {root}"
    return root


def text_bundle(tiny_pipeline: tuple[Path, str]) -> Path:
    """The bundle of the session's `tiny_pipeline` run (tests/conftest.py) of pipelines/tiny.yaml."""
    root = tiny_pipeline[0] / NAMES["tiny.yaml"] / "package"
    assert (root / BUNDLE_FILE).is_file(), f"the package stage wrote no {BUNDLE_FILE} under {root}"
    return root
