"""What image and audio classification share: their pre-processors and one float input, stacked
(the tasks: tasks.image_classification, tasks.audio_classification).

- `image-classification` (ViT, Swin, CLIP's vision tower): `pixel_values` [N, C, H, W] float32.
  Images are resized to the model's `image_size` with PIL (bilinear), scaled to [0, 1] and
  normalised with the mean/std of the model's `preprocessor_config.json`, or 0.5/0.5 when there
  is none (an inline config). No torchvision, no center crop.
- `audio-classification` (Wav2Vec2): `input_values` [N, T] float32, every clip cropped or
  zero-padded to `data.max_seq_length` samples and normalised to zero mean and unit variance
  (Wav2Vec2FeatureExtractor's `do_normalize`). The convolutional feature encoder is frozen.

CLIP is compressed as `CLIPVisionModelWithProjection` with the classification head outside it
(docs/design.md): `ImageClassificationTask.auto_model_class()` builds `heads.CLIPVisionClassifier` for
CLIP configs and defers to `AutoModelForImageClassification` otherwise.

Cheap to import: numpy, PIL, torch and transformers are imported inside functions.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ov_movement.data.examples import EncodedSplit, Example
from ov_movement.errors import StageError
from ov_movement.tasks.base import Task

if TYPE_CHECKING:
    import numpy as np
    import torch

PREPROCESSOR_FILE = "preprocessor_config.json"
CLIP_MODEL_TYPES = ("clip", "clip_vision_model")


def _read_preprocessor(path: Path | None) -> dict[str, Any]:
    """The directory's preprocessor_config.json, with the values this module reads type-checked
    (a `"do_normalize": "false"` must not become True, nor a size "224px" a crash later)."""
    file = Path(path) / PREPROCESSOR_FILE if path is not None else None
    if file is None or not file.is_file():
        return {}
    try:
        pre = json.loads(file.read_text(encoding="utf-8"), object_pairs_hook=_no_repeated_keys(file))
    except json.JSONDecodeError as error:
        raise StageError(f"{file}: invalid JSON ({error})") from error
    if not isinstance(pre, dict):
        raise StageError(f"{file}: must hold a JSON object")
    for key, allowed, what in _PREPROCESSOR_TYPES:
        if key in pre and pre[key] is not None and not _is(pre[key], allowed):
            raise StageError(f"{file}: {key!r} must be {what}, got {pre[key]!r:.60}")
    return pre


def _is(value: Any, allowed: tuple[str, ...]) -> bool:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    checks = {
        "bool": isinstance(value, bool),
        "int": isinstance(value, int) and not isinstance(value, bool) and value > 0,
        "number": number,
        "numbers": isinstance(value, list) and all(_is(v, ("number",)) for v in value),
        "ints": isinstance(value, list) and all(_is(v, ("int",)) for v in value),
        "sizes": isinstance(value, dict) and all(_is(v, ("int",)) for v in value.values()),
    }
    return any(checks[kind] for kind in allowed)


# key -> accepted shapes, as the message words them
_PREPROCESSOR_TYPES = (
    ("do_normalize", ("bool",), "true or false"),
    ("sampling_rate", ("int",), "a positive integer"),
    ("padding_value", ("number",), "a number"),
    ("image_mean", ("numbers",), "a list of numbers"),
    ("image_std", ("numbers",), "a list of numbers"),
    ("size", ("int", "ints", "sizes"), "a positive integer, [height, width] or {height, width}"),
    ("crop_size", ("int", "ints", "sizes"), "a positive integer, [height, width] or {height, width}"),
)


def _no_repeated_keys(file: Path):
    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in pairs]
        repeated = sorted({key for key in keys if keys.count(key) > 1})
        if repeated:
            raise StageError(f"{file}: key(s) {repeated} given twice (JSON would keep the last silently)")
        return dict(pairs)

    return hook


def _pair(value: Any) -> tuple[int, int]:
    if isinstance(value, int):
        return value, value
    if isinstance(value, Mapping):
        if "height" in value and "width" in value:
            return int(value["height"]), int(value["width"])
        if "shortest_edge" in value:
            return int(value["shortest_edge"]), int(value["shortest_edge"])
    if isinstance(value, Sequence) and len(value) == 2:
        return int(value[0]), int(value[1])
    raise StageError(f"cannot read an image size from {value!r}")


# ---------------------------------------------------------------------------------------------
# Pre-processors: turn the examples' arrays into model inputs (the `encode_examples` contract of
# data.encode).


@dataclass
class ImageProcessor:
    """Resize (bilinear) to `size`, scale to [0, 1], normalise per channel; HWC/HW uint8 in."""

    size: tuple[int, int]
    channels: int = 3
    mean: list[float] = field(default_factory=lambda: [0.5, 0.5, 0.5])
    std: list[float] = field(default_factory=lambda: [0.5, 0.5, 0.5])
    model_input_names: tuple[str, ...] = ("pixel_values",)

    @classmethod
    def for_model(cls, hf_config: Any, processor_dir: Path | None) -> ImageProcessor:
        pre = _read_preprocessor(processor_dir)
        vision = getattr(hf_config, "vision_config", hf_config)  # a full CLIPConfig
        size = _pair(pre.get("crop_size") or pre.get("size") or getattr(vision, "image_size", 224))
        channels = int(getattr(vision, "num_channels", 3))
        mean = list(pre.get("image_mean") or [0.5] * channels)
        std = list(pre.get("image_std") or [0.5] * channels)
        if len(mean) != channels or len(std) != channels:
            raise StageError(f"{PREPROCESSOR_FILE}: image_mean/image_std need {channels} values")
        return cls(size=size, channels=channels, mean=mean, std=std)

    def __call__(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """[N, C, H, W] float32 from uint8 images (H x W grey, or H x W x 3 RGB)."""
        import numpy as np
        from PIL import Image

        out = np.empty((len(images), self.channels, *self.size), dtype=np.float32)
        mode = "L" if self.channels == 1 else "RGB"
        mean = np.asarray(self.mean, dtype=np.float32)[:, None, None]
        std = np.asarray(self.std, dtype=np.float32)[:, None, None]
        for i, image in enumerate(images):
            picture = Image.fromarray(np.asarray(image, dtype=np.uint8)).convert(mode)
            picture = picture.resize((self.size[1], self.size[0]), Image.Resampling.BILINEAR)
            pixels = np.asarray(picture, dtype=np.float32) / 255.0
            pixels = pixels[None] if pixels.ndim == 2 else pixels.transpose(2, 0, 1)
            out[i] = (pixels - mean) / std
        return out

    def encode_examples(
        self, examples: Sequence[Any], input_names: Sequence[str], max_length: int
    ) -> list[dict]:
        pixels = self([e.array for e in examples]) if examples else []
        return [{"pixel_values": pixels[i], "label": e.label} for i, e in enumerate(examples)]


@dataclass
class AudioProcessor:
    """Crop / zero-pad every clip to `max_length` samples; optionally zero mean, unit variance."""

    sampling_rate: int = 16000
    do_normalize: bool = True
    padding_value: float = 0.0
    model_input_names: tuple[str, ...] = ("input_values",)

    @classmethod
    def for_model(cls, hf_config: Any, processor_dir: Path | None) -> AudioProcessor:
        pre = _read_preprocessor(processor_dir)
        return cls(
            sampling_rate=int(pre.get("sampling_rate", 16000)),
            do_normalize=bool(pre.get("do_normalize", True)),
            padding_value=float(pre.get("padding_value", 0.0)),
        )

    def __call__(self, clips: Sequence[np.ndarray], max_length: int) -> np.ndarray:
        import numpy as np

        out = np.full((len(clips), max_length), self.padding_value, dtype=np.float32)
        for i, clip in enumerate(clips):
            values = np.asarray(clip, dtype=np.float32).reshape(-1)[:max_length]
            if self.do_normalize:
                values = (values - values.mean()) / np.sqrt(values.var() + 1e-7)
            out[i, : len(values)] = values
        return out

    def encode_examples(
        self, examples: Sequence[Any], input_names: Sequence[str], max_length: int
    ) -> list[dict]:
        values = self([e.array for e in examples], max_length) if examples else []
        return [{"input_values": values[i], "label": e.label} for i, e in enumerate(examples)]


# ---------------------------------------------------------------------------------------------
# Tasks.


def _stack(features: Sequence[Mapping[str, Any]], name: str) -> torch.Tensor:
    import numpy as np
    import torch

    return torch.from_numpy(np.stack([np.asarray(f[name], dtype=np.float32) for f in features]))


def _labels(features: Sequence[Mapping[str, Any]]) -> torch.Tensor:
    import torch

    return torch.tensor([int(f["label"]) for f in features], dtype=torch.long)


class ArrayClassificationTask(Task):
    """What image and audio classification share: one float input, stacked; classification metrics."""

    name: str
    input_name: str
    processor_needs_model_config = True  # the processor reads image size / channels from the config
    uses_tokenizer = False

    def input_names(self, model_class: type, processor: Any) -> tuple[str, ...]:
        forward = getattr(model_class, "forward", None)
        accepted = set(inspect.signature(forward).parameters) if forward else set()
        if self.input_name not in accepted:
            raise StageError(
                f"{model_class.__name__} does not take `{self.input_name}`: not a {self.name} model"
            )
        return (self.input_name,)

    def collate(
        self, features: Sequence[Mapping[str, Any]], input_names: Sequence[str], pad_id: int
    ) -> dict[str, torch.Tensor]:
        batch = {name: _stack(features, name) for name in input_names}
        batch["labels"] = _labels(features)
        return batch

    def encode(
        self,
        processor: Any,
        examples: Sequence[Example],
        input_names: Sequence[str],
        max_length: int,
        *,
        pad_to_max: bool = False,
        split: str = "eval",
    ) -> EncodedSplit:
        """The processor turns the examples' arrays into fixed-size float inputs: nothing to pad."""
        if not examples:
            return EncodedSplit([])
        return EncodedSplit(processor.encode_examples(examples, input_names, max_length))


__all__ = ["ArrayClassificationTask", "AudioProcessor", "ImageProcessor", "PREPROCESSOR_FILE"]
