"""Running a bundle (the package stage's output) on raw inputs: strings, question/context pairs,
images, audio clips.

Only the bundle is read: `bundle.json` (task, labels, input names, how inputs are encoded) and the
files of its `hf/` directory (the IR, tokenizer.json or preprocessor_config.json). Nothing of the
pipeline config is needed, so a bundle copied to another machine predicts the same.

Text is tokenised with the `tokenizers` library from `hf/tokenizer.json` (the Rust tokenizer that
transformers' fast tokenizers wrap), truncated and padded to the `max_length` the model was
evaluated at: importing transformers costs seconds, `tokenizers` milliseconds. The package stage
checks that this path reproduces the benchmark's eval predictions exactly.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from ov_movement.errors import StageError

# Files of a bundle (`<workdir>/<pipeline>/package/`); the package stage writes them, readers import these.
BUNDLE_FILE = "bundle.json"
HF_DIR = "hf"
OVMS_DIR = "ovms"
MODEL_CARD = "model_card.md"
HF_MODEL_XML = "openvino_model.xml"
TOKENIZER_JSON = "tokenizer.json"
BUNDLE_FORMAT = 1


@dataclass(frozen=True)
class Prediction:
    """One input's result: a class and its softmax probability, or an answer span and its score."""

    label: str
    score: float
    span: bool = False  # question answering: `label` is the answer ("" when it lies outside the context)
    start: int | None = None  # its character offsets in the context
    end: int | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"label": self.label, "score": self.score}
        if self.span:
            data.update(answer=self.label, start=self.start, end=self.end)
        return data


def read_bundle_info(root: Path) -> dict[str, Any]:
    file = Path(root) / BUNDLE_FILE
    if not file.is_file():
        raise StageError(f"{root} is not a bundle: no {BUNDLE_FILE} (written by the package stage)")
    try:
        info = json.loads(file.read_text(encoding="utf-8"))
    except (ValueError, OSError) as error:
        raise StageError(f"cannot read {file}: {error}") from error
    if not isinstance(info, dict) or info.get("format") != BUNDLE_FORMAT:
        raise StageError(f"{file}: not a bundle description of format {BUNDLE_FORMAT}")
    return info


def user_cache_dir() -> Path | None:
    """Where `ov-movement predict` keeps OpenVINO's compiled models: $OV_MOVEMENT_CACHE_DIR, else
    $XDG_CACHE_HOME/ov-movement/openvino (~/.cache/...); None when it cannot be created. Never inside the
    bundle: a bundle in the pipeline's cache must stay as the package stage sealed it."""
    import os

    configured = os.environ.get("OV_MOVEMENT_CACHE_DIR")
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ov-movement" / "openvino"
    path = Path(configured) if configured else base
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return path if os.access(path, os.W_OK) else None


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


class Predictor:
    """The bundle's IR compiled on CPU (f32, as the benchmark evaluated it) and its pre-processing."""

    def __init__(self, root: Path, device: str = "CPU", cache_dir: Path | None = None):
        """`cache_dir`: OpenVINO's compiled-model cache (CACHE_DIR): the next load skips most of compiling."""
        import openvino as ov

        self.root = Path(root)
        self.info = read_bundle_info(self.root)
        self.task: str = self.info["task"]
        self.hf_dir = self.root / HF_DIR
        xml = self.hf_dir / HF_MODEL_XML
        if not xml.is_file() or not xml.with_suffix(".bin").is_file():
            raise StageError(f"{self.root}: the bundle lacks {HF_DIR}/{HF_MODEL_XML} or its .bin")
        model = ov.Core().read_model(str(xml))
        self.input_names = [port.get_any_name() for port in model.inputs]
        shape = model.inputs[0].get_partial_shape()
        self._static_batch = shape[0].get_length() if shape.rank.is_static and shape[0].is_static else None
        config: dict[str, Any] = {"INFERENCE_PRECISION_HINT": "f32"}
        if cache_dir is not None:
            config["CACHE_DIR"] = str(cache_dir)
        compiled = ov.Core().compile_model(model, device, config)
        self._request = compiled.create_infer_request()
        self._tokenizer: Any = None

    # ---- encoding ----------------------------------------------------------------------------

    @property
    def tokenizer(self) -> Any:
        """The Rust tokenizer of hf/tokenizer.json, truncating and padding as the eval inputs were."""
        if self._tokenizer is None:
            from tokenizers import Tokenizer

            file = self.hf_dir / TOKENIZER_JSON
            if not file.is_file():
                raise StageError(
                    f"{self.hf_dir} has no {TOKENIZER_JSON}: the bundle's tokenizer is not a fast one"
                )
            settings = self.info["tokenizer"]
            tokenizer = Tokenizer.from_file(str(file))
            tokenizer.enable_truncation(
                self.info["max_length"],
                strategy="only_second" if self.task == "question-answering" else "longest_first",
                direction=settings["truncation_side"],
            )
            tokenizer.enable_padding(
                direction=settings["padding_side"],
                pad_id=settings["pad_id"],
                pad_type_id=settings.get("pad_type_id", 0),
                pad_token=settings["pad_token"],
                length=self.info["max_length"],
            )
            self._tokenizer = tokenizer
        return self._tokenizer

    def _arrays(self, encodings: Sequence[Any]) -> dict[str, np.ndarray]:
        fields = {"input_ids": "ids", "attention_mask": "attention_mask", "token_type_ids": "type_ids"}
        return {
            name: np.asarray([getattr(e, fields[name]) for e in encodings], dtype=np.int64)
            for name in self.input_names
        }

    def encode_texts(
        self, texts: Sequence[str], pairs: Sequence[str | None] | None = None
    ) -> dict[str, np.ndarray]:
        if pairs is not None and any(p is not None for p in pairs):
            batch = [(t, p or "") for t, p in zip(texts, pairs, strict=True)]
        else:
            batch = list(texts)
        return self._arrays(self.tokenizer.encode_batch(batch))

    def encode_qa(
        self, questions: Sequence[str], contexts: Sequence[str]
    ) -> tuple[dict[str, np.ndarray], list[Any]]:
        encodings = self.tokenizer.encode_batch(list(zip(questions, contexts, strict=True)))
        return self._arrays(encodings), encodings

    def _preprocessor_owner(self) -> SimpleNamespace:
        image = self.info.get("image", {})
        return SimpleNamespace(num_channels=image.get("channels", 3), image_size=image.get("size", [224])[0])

    def encode_images(self, images: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
        from ov_movement.tasks.media import ImageProcessor

        processor = ImageProcessor.for_model(self._preprocessor_owner(), self.hf_dir)
        return {"pixel_values": processor(images)}

    def encode_audio(self, clips: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
        from ov_movement.tasks.media import AudioProcessor

        processor = AudioProcessor.for_model(None, self.hf_dir)
        return {"input_values": processor(clips, self.info["max_length"])}

    @property
    def sampling_rate(self) -> int:
        return int(self.info.get("audio", {}).get("sampling_rate", 16000))

    # ---- inference ---------------------------------------------------------------------------

    def logits(self, inputs: Mapping[str, np.ndarray], batch_size: int = 32) -> np.ndarray:
        """The IR's first output for every row of `inputs` (a static batch is padded, then trimmed)."""
        rows = len(next(iter(inputs.values())))
        step = self._static_batch or batch_size
        outputs = []
        for start in range(0, rows, step):
            batch = {n: inputs[n][start : start + step] for n in self.input_names}
            real = len(batch[self.input_names[0]])
            if self._static_batch and real < self._static_batch:
                batch = {
                    n: np.concatenate([a, np.repeat(a[-1:], step - real, axis=0)]) for n, a in batch.items()
                }
            outputs.append(np.array(self._request.infer(batch)[0][:real]))
        return np.concatenate(outputs) if outputs else np.zeros((0,), dtype=np.float32)

    def classify(self, inputs: Mapping[str, np.ndarray]) -> list[Prediction]:
        probabilities = softmax(self.logits(inputs))
        names = self.info["label_names"]
        return [Prediction(names[int(p.argmax())], float(p.max())) for p in probabilities]

    def answer(self, questions: Sequence[str], contexts: Sequence[str]) -> list[Prediction]:
        """The arg-max start and end token (as the QA metric scores them) mapped back to context text."""
        from ov_movement.metrics import span_predictions

        inputs, encodings = self.encode_qa(questions, contexts)
        logits = self.logits(inputs)
        spans = span_predictions(logits)
        results = []
        for row, (start, end) in enumerate(spans):
            encoding, context = encodings[row], contexts[row]
            sequence = encoding.sequence_ids
            score = float(softmax(logits[row, :, 0])[start] * softmax(logits[row, :, 1])[end])
            if end < start or sequence[start] != 1 or sequence[end] != 1:
                results.append(Prediction("", score, span=True))  # no span inside the context
                continue
            begin, finish = encoding.offsets[start][0], encoding.offsets[end][1]
            results.append(
                Prediction(context[begin:finish], score, span=True, start=int(begin), end=int(finish))
            )
        return results

    def predict_texts(
        self, texts: Sequence[str], pairs: Sequence[str | None] | None = None
    ) -> list[Prediction]:
        return self.classify(self.encode_texts(texts, pairs))

    def predict_images(self, images: Sequence[np.ndarray]) -> list[Prediction]:
        return self.classify(self.encode_images(images))

    def predict_audio(self, clips: Sequence[np.ndarray]) -> list[Prediction]:
        return self.classify(self.encode_audio(clips))


__all__ = [
    "BUNDLE_FILE",
    "BUNDLE_FORMAT",
    "HF_DIR",
    "HF_MODEL_XML",
    "MODEL_CARD",
    "OVMS_DIR",
    "TOKENIZER_JSON",
    "Prediction",
    "Predictor",
    "read_bundle_info",
    "softmax",
    "user_cache_dir",
]
