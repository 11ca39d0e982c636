"""Text classification: sequence classification of texts (or text pairs) with a tokenizer."""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ov_movement.config.pipeline import LABELLED_TEXT
from ov_movement.data.examples import EncodedSplit, Example
from ov_movement.errors import StageError
from ov_movement.tasks.base import Task, quiet_transformers

if TYPE_CHECKING:
    import torch


class TextClassificationTask(Task):
    """Sequence classification of text (or text pairs) with a tokenizer."""

    name = "text-classification"
    reads = LABELLED_TEXT
    # The order of NNCF's input_info (and of ONNX inputs downstream): ids, mask, segment ids.
    _INPUT_ORDER = ("input_ids", "attention_mask", "token_type_ids")

    def auto_model_class(self) -> Any:
        from transformers import AutoModelForSequenceClassification

        return AutoModelForSequenceClassification

    def load_processor(
        self, path: Path | None, hf_config: Any = None, *, trust_remote_code: bool = False
    ) -> Any:
        from transformers import AutoTokenizer

        with quiet_transformers():
            return AutoTokenizer.from_pretrained(str(path), trust_remote_code=trust_remote_code)

    def input_names(self, model_class: type, processor: Any) -> tuple[str, ...]:
        """The inputs the processor produces that the model takes, plus `token_type_ids` whenever the
        model takes them (zeros where the tokenizer makes none: what the model would use itself).

        Always passing segment ids keeps the embeddings off their no-segment path, which on
        transformers 5 (BERT family) is a `torch.gather` of a buffer by `position_ids`: NNCF 2.19's
        structured-mask grouping asserts on that op (one input mask expected)."""
        accepted = set(inspect.signature(model_class.forward).parameters)
        produced = set(getattr(processor, "model_input_names", self._INPUT_ORDER)) | {"token_type_ids"}
        names = [n for n in self._INPUT_ORDER if n in accepted and n in produced]
        if "input_ids" not in names:
            raise StageError(f"{model_class.__name__} does not take `input_ids`: not a text model")
        return tuple(names)

    def nncf_input_info(
        self, input_names: Sequence[str], seq_length: int, processor: Any = None
    ) -> list[dict[str, Any]]:
        # Segment ids of zeros are valid for every vocabulary (type_vocab_size may be 1).
        return [
            {
                "sample_size": [1, int(seq_length)],
                "type": "long",
                "keyword": name,
                "filler": "zeros" if name == "token_type_ids" else "ones",
            }
            for name in input_names
        ]

    def collate(
        self, features: Sequence[Mapping[str, Any]], input_names: Sequence[str], pad_id: int
    ) -> dict[str, torch.Tensor]:
        import torch

        length = max(len(f["input_ids"]) for f in features)
        batch: dict[str, torch.Tensor] = {}
        for name in input_names:
            fill = pad_id if name == "input_ids" else 0
            rows = [list(f[name]) + [fill] * (length - len(f[name])) for f in features]
            batch[name] = torch.tensor(rows, dtype=torch.long)
        batch["labels"] = torch.tensor([int(f["label"]) for f in features], dtype=torch.long)
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
        """Tokenise texts (or text pairs), truncating to max_length; padding is left to batching
        unless pad_to_max. Segment ids and attention mask are filled in when the tokenizer makes none."""
        if not examples:
            return EncodedSplit([])
        texts = [e.text for e in examples]
        pairs = [e.text_pair for e in examples]
        kwargs: dict[str, Any] = {"truncation": True, "max_length": max_length}
        if pad_to_max:
            kwargs["padding"] = "max_length"
        if any(p is not None for p in pairs):
            encoded = processor(texts, [p or "" for p in pairs], **kwargs)
        else:
            encoded = processor(texts, **kwargs)
        features = []
        for i, example in enumerate(examples):
            feature = {name: list(encoded[name][i]) for name in input_names if name in encoded}
            if "token_type_ids" in input_names and "token_type_ids" not in feature:
                feature["token_type_ids"] = [0] * len(feature["input_ids"])
            if "attention_mask" in input_names and "attention_mask" not in feature:
                feature["attention_mask"] = [1] * len(feature["input_ids"])
            feature["label"] = example.label
            features.append(feature)
        return EncodedSplit(features)


__all__ = ["TextClassificationTask"]
