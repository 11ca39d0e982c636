"""The data a model is trained and evaluated on: examples read by the configured data source and
encoded by the task for the model's processor and inputs.

`load_eval_arrays` is the contract the export/convert/benchmark stages use: the eval split as
arrays padded to `data.max_seq_length`, keyed by the model's input names (int64 token ids; float32
`pixel_values` [N, C, H, W] for images, `input_values` [N, max_seq_length] for audio; question
answering: labels [N, 2], answer start and end)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ov_movement.data.examples import DataBundle
from ov_movement.models import load_processor, model_input_names
from ov_movement.tasks import get_task
from ov_movement.tasks.base import Split

if TYPE_CHECKING:
    from ov_movement.config.pipeline import PipelineConfig


def prepare_data(
    config: PipelineConfig, config_dir: Path, processor: Any, input_names: Sequence[str]
) -> DataBundle:
    """Examples read, split and encoded for training and per-epoch evaluation."""
    return get_task(config.model.task).prepare_data(config, Path(config_dir), processor, input_names)


def load_eval_arrays(
    config: PipelineConfig, config_dir: Path, limit: int | None = None
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The eval split as arrays by input name, and its labels (see the module doc)."""
    return load_split_arrays(config, config_dir, "eval", limit)


def load_split_arrays(
    config: PipelineConfig, config_dir: Path, split: Split, limit: int | None = None
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """`load_eval_arrays` for either split: the first `limit` examples of the train split are the
    calibration set of post-training quantization, encoded exactly as the eval inputs are."""
    config_dir = Path(config_dir)
    processor = load_processor(config.model, config_dir)
    input_names = model_input_names(config.model, config_dir, processor)
    task = get_task(config.model.task)
    return task.split_arrays(config, config_dir, processor, input_names, split, limit)


__all__ = ["load_eval_arrays", "load_split_arrays", "prepare_data"]
