"""The `Task` base class: what a task contributes (head, processor, model inputs, encoding, batching,
predictions, metrics), with the defaults a classification task needs.

A task reads one kind of examples (`reads`, see config.pipeline.TASKS) from whichever registered
data source yields that kind (ov_movement.data.sources); validation checks the pairing from the same
declarations. Encoding and batching turn those examples into model inputs; `predictions` and
`metrics` are the functions the torch evaluation, the IR evaluation and the report all use
(ov_movement.metrics).

Cheap to import: numpy, torch and transformers are imported inside functions.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ov_movement.data.examples import DataBundle, EncodedSplit, Example
from ov_movement.data.sources import read_examples
from ov_movement.metrics import class_predictions, classification_metrics

if TYPE_CHECKING:
    import torch

    from ov_movement.config.pipeline import PipelineConfig

Split = Literal["train", "eval"]


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers' info/warning chatter (e.g. 'newly initialized classifier') and its
    progress bars (transformers 5 draws 'Loading weights' on stderr) for a block."""
    from transformers.utils import logging as hf_logging

    previous = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(previous)
        if bars:
            hf_logging.enable_progress_bar()


class Task:
    """One task. Subclasses set `name` and `reads` and implement the model-facing methods; the data
    methods (`prepare_data`, `split_arrays`) and the metrics have classification defaults."""

    name: str = ""
    reads: str = ""  # the kind of examples (config.pipeline.TASKS)
    # The processor needs the model config (image size, channels): load_processor(path, hf_config).
    processor_needs_model_config = False
    # An inline model config gets the default model's tokenizer (False: a task without a tokenizer).
    uses_tokenizer = True

    def auto_model_class(self) -> Any:
        raise NotImplementedError(f"{type(self).__name__}.auto_model_class")

    def load_processor(
        self, path: Path | None, hf_config: Any = None, *, trust_remote_code: bool = False
    ) -> Any:
        raise NotImplementedError(f"{type(self).__name__}.load_processor")

    def input_names(self, model_class: type, processor: Any) -> tuple[str, ...]:
        raise NotImplementedError(f"{type(self).__name__}.input_names")

    def nncf_input_info(
        self, input_names: Sequence[str], seq_length: int, processor: Any = None
    ) -> list[dict[str, Any]]:
        raise NotImplementedError(f"{type(self).__name__}.nncf_input_info")

    def collate(
        self, features: Sequence[Mapping[str, Any]], input_names: Sequence[str], pad_id: int
    ) -> dict[str, torch.Tensor]:
        raise NotImplementedError(f"{type(self).__name__}.collate")

    def prepare_model(self, model: Any) -> Any:
        """The model after building (e.g. a frozen feature encoder); default: unchanged."""
        return model

    def predictions(self, logits: np.ndarray) -> np.ndarray:
        """Per-example predictions from logits; default: the arg-max class."""
        return class_predictions(logits)

    def metrics(self, logits: np.ndarray, labels: np.ndarray) -> dict[str, float]:
        """The eval metrics (`accuracy` among them); default: classification_metrics."""
        return classification_metrics(logits, labels)

    # ---- data: examples of kind `reads` -> encoded features --------------------------------------

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
        """Examples -> one feature dict per example (input names and `label`); `split` names the
        examples in messages."""
        raise NotImplementedError(f"{type(self).__name__}.encode")

    def read_splits(
        self, config: PipelineConfig, config_dir: Path
    ) -> tuple[Sequence[Any], Sequence[Any], list[str]]:
        """The train and eval examples of kind `reads` from the configured source, and the label names."""
        raw = read_examples(config.data, config_dir, self.reads)
        return raw.train, raw.eval, raw.label_names

    def split_examples(
        self, config: PipelineConfig, config_dir: Path, split: Split, limit: int | None
    ) -> Sequence[Any]:
        """The first `limit` examples (all: None) of one split."""
        train, evaluation, _ = self.read_splits(config, config_dir)
        examples = evaluation if split == "eval" else train
        return examples if limit is None else examples[: max(int(limit), 0)]

    def prepare_data(
        self, config: PipelineConfig, config_dir: Path, processor: Any, input_names: Sequence[str]
    ) -> DataBundle:
        """Examples read, split and encoded for training and per-epoch evaluation."""
        train, evaluation, label_names = self.read_splits(config, config_dir)
        length = config.data.max_seq_length
        pad_id = getattr(processor, "pad_token_id", None)
        return DataBundle(
            train=self.encode(processor, train, input_names, length, split="train"),
            eval=self.encode(processor, evaluation, input_names, length, split="eval"),
            label_names=label_names,
            input_names=tuple(input_names),
            pad_id=int(pad_id) if pad_id is not None else 0,
        )

    def split_arrays(
        self,
        config: PipelineConfig,
        config_dir: Path,
        processor: Any,
        input_names: Sequence[str],
        split: Split = "eval",
        limit: int | None = None,
    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """A split as arrays by input name (int64 [N, max_seq_length] token ids, or the float arrays
        of images/audio) and its labels, every example padded to data.max_seq_length."""
        examples = self.split_examples(config, config_dir, split, limit)
        length = config.data.max_seq_length
        encoded = self.encode(processor, examples, input_names, length, pad_to_max=True, split=split)
        arrays = {
            name: (
                np.stack([f[name] for f in encoded.features]).astype(np.float32)
                if encoded.features and isinstance(encoded.features[0][name], np.ndarray)
                else np.asarray([f[name] for f in encoded.features], dtype=np.int64).reshape(
                    len(encoded), length
                )
            )
            for name in input_names
        }
        labels = encoded.labels  # [N], or [N, 2] for answer spans
        return arrays, labels.reshape((len(encoded), *labels.shape[1:]))


__all__ = ["Split", "Task", "quiet_transformers"]
