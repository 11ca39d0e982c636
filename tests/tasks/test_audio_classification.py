"""Audio classification (ov_movement.tasks.audio_classification): inputs and the frozen encoder."""

from __future__ import annotations

from pathlib import Path

from ov_movement.data import load_examples
from ov_movement.tasks import get_task
from tests.tiny import audio_config

DATA = {"source": "synthetic_audio", "synthetic_samples": 8, "max_seq_length": 800}


def test_clips_batch_as_float_input_values_of_the_configured_length():
    from ov_movement.models import load_processor

    config = audio_config(DATA)
    task = get_task("audio-classification")
    processor = load_processor(config.model, Path("."))
    assert task.nncf_input_info(["input_values"], 800, processor=processor) == [
        {"sample_size": [1, 800], "type": "float", "keyword": "input_values"}
    ]
    features = processor.encode_examples(
        load_examples(config.data, Path(".")).train[:3], ["input_values"], 800
    )
    batch = task.collate(features, ["input_values"], 0)
    assert (
        tuple(batch["input_values"].shape) == (3, 800) and str(batch["input_values"].dtype) == "torch.float32"
    )
    assert str(batch["labels"].dtype) == "torch.int64"


def test_the_convolutional_feature_encoder_is_not_trained():
    from ov_movement.models import build_model

    config = audio_config(DATA)
    model = build_model(config.model, Path("."), num_labels=2, label_names=["a", "b"])
    encoder = [p.requires_grad for n, p in model.named_parameters() if "feature_extractor" in n]
    rest = [p.requires_grad for n, p in model.named_parameters() if "feature_extractor" not in n]
    assert encoder and not any(encoder)
    assert all(rest)
