"""A task: text classification of lower-cased text (what an uncased vocabulary expects)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from ov_movement.config.pipeline import LABELLED_TEXT
from ov_movement.data.examples import EncodedSplit, Example
from ov_movement.tasks import TextClassificationTask


class LowercaseTextClassification(TextClassificationTask):
    name = "lowercase-text-classification"
    reads = LABELLED_TEXT  # any source of labelled texts feeds it

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
        lowered = [
            replace(e, text=e.text.lower(), text_pair=e.text_pair.lower() if e.text_pair else None)
            for e in examples
        ]
        return super().encode(processor, lowered, input_names, max_length, pad_to_max=pad_to_max, split=split)
