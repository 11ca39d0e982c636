"""Audio classification of fixed-length clips: Wav2Vec2ForSequenceClassification, `input_values`
[N, data.max_seq_length] float32; the convolutional feature encoder is frozen."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ov_movement.config.pipeline import LABELLED_AUDIO
from ov_movement.tasks.media import ArrayClassificationTask, AudioProcessor


class AudioClassificationTask(ArrayClassificationTask):
    """Audio classification of fixed-length clips: Wav2Vec2ForSequenceClassification."""

    name = "audio-classification"
    input_name = "input_values"
    reads = LABELLED_AUDIO

    def auto_model_class(self) -> Any:
        from transformers import AutoModelForAudioClassification

        return AutoModelForAudioClassification

    def load_processor(
        self, path: Path | None, hf_config: Any = None, *, trust_remote_code: bool = False
    ) -> AudioProcessor:  # reads preprocessor_config.json itself: never runs code
        return AudioProcessor.for_model(hf_config, path)

    def nncf_input_info(
        self, input_names: Sequence[str], seq_length: int, processor: Any = None
    ) -> list[dict[str, Any]]:
        return [{"sample_size": [1, int(seq_length)], "type": "float", "keyword": "input_values"}]

    def prepare_model(self, model: Any) -> Any:
        # The convolutional feature encoder is not sparsified (the preset ignores it): train it not
        # at all, as HF's audio-classification recipes do.
        freeze = getattr(model, "freeze_feature_encoder", None)
        if callable(freeze):
            freeze()
        return model


__all__ = ["AudioClassificationTask"]
