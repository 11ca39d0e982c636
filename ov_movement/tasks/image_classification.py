"""Image classification: ViT, Swin (AutoModelForImageClassification) and CLIP's vision tower with a
linear head outside the compressed part (heads.CLIPVisionClassifier; docs/design.md)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ov_movement.config.pipeline import LABELLED_IMAGES
from ov_movement.errors import StageError
from ov_movement.tasks.media import CLIP_MODEL_TYPES, ArrayClassificationTask, ImageProcessor


class ImageClassificationTask(ArrayClassificationTask):
    """Image classification: ViT, Swin (AutoModelForImageClassification) and CLIP's vision tower."""

    name = "image-classification"
    input_name = "pixel_values"
    reads = LABELLED_IMAGES

    def auto_model_class(self) -> Any:
        return ImageClassificationAuto()

    def load_processor(
        self, path: Path | None, hf_config: Any = None, *, trust_remote_code: bool = False
    ) -> ImageProcessor:  # reads preprocessor_config.json itself: never runs code
        if hf_config is None:
            raise StageError("image-classification needs the model config to size its images")
        return ImageProcessor.for_model(hf_config, path)

    def nncf_input_info(
        self, input_names: Sequence[str], seq_length: int, processor: Any = None
    ) -> list[dict[str, Any]]:
        if not isinstance(processor, ImageProcessor):
            raise StageError("image-classification: NNCF's input_info needs the image processor (image size)")
        shape = [1, processor.channels, *processor.size]
        return [{"sample_size": shape, "type": "float", "keyword": "pixel_values"}]


# ---------------------------------------------------------------------------------------------
# Building image models: AutoModelForImageClassification, with CLIP's vision tower + head.


def _is_clip(hf_config: Any) -> bool:
    return getattr(hf_config, "model_type", None) in CLIP_MODEL_TYPES


def clip_vision_config(hf_config: Any) -> Any:
    """A CLIPVisionConfig carrying the labels, attention implementation and projection size."""
    if hf_config.model_type == "clip_vision_model":
        return hf_config
    vision = hf_config.vision_config
    vision.projection_dim = hf_config.projection_dim
    vision.num_labels = hf_config.num_labels
    vision.id2label, vision.label2id = hf_config.id2label, hf_config.label2id
    vision._attn_implementation = hf_config._attn_implementation
    return vision


class _Mapping:
    def __getitem__(self, config_class: type) -> type:
        from transformers import AutoModelForImageClassification, CLIPConfig, CLIPVisionConfig

        if config_class in (CLIPConfig, CLIPVisionConfig):
            from ov_movement.heads import CLIPVisionClassifier  # torch: imported when a model is built

            return CLIPVisionClassifier
        return AutoModelForImageClassification._model_mapping[config_class]


class ImageClassificationAuto:
    """The Auto-class interface `models.build_model` uses (`_model_mapping`, `from_config`,
    `from_pretrained`), routing CLIP to `CLIPVisionClassifier`."""

    _model_mapping = _Mapping()

    @staticmethod
    def from_config(hf_config: Any, **kwargs: Any) -> Any:
        if _is_clip(hf_config):
            from ov_movement.heads import CLIPVisionClassifier

            return CLIPVisionClassifier(clip_vision_config(hf_config))
        from transformers import AutoModelForImageClassification

        return AutoModelForImageClassification.from_config(hf_config, **kwargs)

    @staticmethod
    def from_pretrained(path: str, *, config: Any, **kwargs: Any) -> Any:
        if _is_clip(config):
            from transformers import CLIPVisionModelWithProjection

            from ov_movement.heads import CLIPVisionClassifier

            vision = clip_vision_config(config)
            kwargs.pop("ignore_mismatched_sizes", None)
            loaded = CLIPVisionModelWithProjection.from_pretrained(path, config=vision, **kwargs)
            if kwargs.get("output_loading_info"):  # (model, loading info), as transformers returns it
                return CLIPVisionClassifier(vision, backbone=loaded[0]), loaded[1]
            return CLIPVisionClassifier(vision, backbone=loaded)
        from transformers import AutoModelForImageClassification

        return AutoModelForImageClassification.from_pretrained(path, config=config, **kwargs)


__all__ = ["ImageClassificationAuto", "ImageClassificationTask", "clip_vision_config"]
