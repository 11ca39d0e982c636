"""Image classification (ov_movement.tasks.image_classification): batches and NNCF inputs."""

from __future__ import annotations

from pathlib import Path

from ov_movement.data import load_examples
from tests.tiny import image_config


def test_image_task_batches_float_pixels_and_nncf_inputs_use_the_image_size():
    from ov_movement.models import load_processor
    from ov_movement.tasks import get_task

    config = image_config({"source": "synthetic_images", "synthetic_samples": 8})
    task = get_task("image-classification")
    processor = load_processor(config.model, Path("."))
    info = task.nncf_input_info(["pixel_values"], 128, processor=processor)
    assert info == [{"sample_size": [1, 3, 16, 16], "type": "float", "keyword": "pixel_values"}]
    features = processor.encode_examples(
        load_examples(config.data, Path(".")).train[:2], ["pixel_values"], 128
    )
    batch = task.collate(features, ["pixel_values"], 0)
    assert (
        tuple(batch["pixel_values"].shape) == (2, 3, 16, 16) and str(batch["labels"].dtype) == "torch.int64"
    )
