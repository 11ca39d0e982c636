"""The image and audio pre-processors (ov_movement.tasks.media)."""

from __future__ import annotations

import json

import numpy as np


def test_image_processor_reads_the_models_preprocessor_config(tmp_path):
    from transformers import AutoConfig

    from ov_movement.tasks.media import ImageProcessor

    (tmp_path / "preprocessor_config.json").write_text(
        json.dumps({"size": {"height": 8, "width": 12}, "image_mean": [0.0] * 3, "image_std": [1.0] * 3})
    )
    processor = ImageProcessor.for_model(AutoConfig.for_model("vit"), tmp_path)
    pixels = processor([np.full((4, 4), 255, dtype=np.uint8)])
    assert pixels.shape == (1, 3, 8, 12)
    np.testing.assert_allclose(pixels, 1.0)
