"""Former home of image and audio classification; kept so that existing imports work. The tasks are
ov_movement.tasks.image_classification and ov_movement.tasks.audio_classification, their
pre-processors ov_movement.tasks.media."""

from ov_movement.tasks.audio_classification import AudioClassificationTask
from ov_movement.tasks.image_classification import (
    ImageClassificationAuto,
    ImageClassificationTask,
    clip_vision_config,
)
from ov_movement.tasks.media import AudioProcessor, ImageProcessor

__all__ = [
    "AudioClassificationTask",
    "AudioProcessor",
    "ImageClassificationAuto",
    "ImageClassificationTask",
    "ImageProcessor",
    "clip_vision_config",
]
