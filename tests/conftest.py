"""Shared fixtures. `trained`: one sparsify + mask run of the tiny pipeline (tests/tiny.py),
structured masking on, shared by the training and stage tests; `trained_jpqd`: the same with
quantization-aware training and distillation from the dense baseline. `tiny_pipeline`: the whole
shipped pipelines/tiny.yaml run once by the CLI, shared by the end-to-end and browser tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pipelines import run_shipped
from tests.stages.in_process import TrainedPipeline, run_baseline, run_stage
from tests.tiny import tiny_config, tiny_jpqd_dict


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> TrainedPipeline:
    """sparsify + mask of the tiny pipeline in this process (about 5 s on 2 cores)."""
    root = tmp_path_factory.mktemp("trained")
    config = tiny_config()
    first = run_stage("sparsify", config, root)
    second = run_stage("mask", config, root)
    return TrainedPipeline(root, config, first, second)


@pytest.fixture(scope="session")
def tiny_pipeline(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """`ov-movement run pipelines/tiny.yaml` into a fresh workdir: (workdir, its stdout)."""
    workdir = tmp_path_factory.mktemp("e2e")
    return workdir, run_shipped("tiny.yaml", workdir)


@pytest.fixture(scope="session")
def trained_jpqd(tmp_path_factory: pytest.TempPathFactory) -> TrainedPipeline:
    """baseline, then sparsify + mask with quantization-aware training and distillation from it (JPQD)."""
    from ov_movement.config.pipeline import PipelineConfig

    root = tmp_path_factory.mktemp("trained-jpqd")
    config = PipelineConfig.model_validate(tiny_jpqd_dict())
    run_baseline(config, root)
    first = run_stage("sparsify", config, root)
    second = run_stage("mask", config, root)
    return TrainedPipeline(root, config, first, second)
