"""Shared fixtures. `trained`: one sparsify + mask run of the tiny pipeline (tests/training/tiny.py),
structured masking on, shared by the training and stage tests."""

from __future__ import annotations

import pytest

from tests.training.tiny import TrainedPipeline, run_stage, tiny_config


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> TrainedPipeline:
    """sparsify + mask of the tiny pipeline in this process (about 5 s on 2 cores)."""
    root = tmp_path_factory.mktemp("trained")
    config = tiny_config()
    first = run_stage("sparsify", config, root)
    second = run_stage("mask", config, root)
    return TrainedPipeline(root, config, first, second)
