"""Extractive question answering: the `question-answering` Task, its span metrics and model builder.

The pipeline moves one `logits` tensor and one `labels` tensor through training, export and IR
evaluation; question answering fits that without a second output:

- logits [N, S, 2]: per token, the start (`[..., 0]`) and end (`[..., 1]`) logit, which is exactly
  what the HF heads' `qa_outputs` Linear produces before they split it;
- labels [N, 2]: the token positions of the answer's first and last token.

The model is `heads.QuestionAnsweringModel`: the encoder of `AutoModelForQuestionAnswering`
(BertModel, ...) is what NNCF compresses, so the structured-masking family check and the attention
groups are those of the BERT family; the span head sits outside it, as CLIP's classifier does.
Data (SQuAD-style jsonl, `synthetic_qa`) is read by `data.qa`.

Metrics: a prediction is the arg-max over the sequence of the start and of the end logits.
`exact_match` = both equal the labels (also reported as `accuracy`, which the report and summaries
read); `f1` = overlap of the predicted and gold token spans, averaged (an end before the start is an
empty span: F1 0).

Encoding: the fast tokenizer's offset mapping turns the answer's characters into the positions of
its first and last token (the label [start, end]); question and context are truncated to
`data.max_seq_length` (context only) and padded to it. Examples whose answer lies beyond the
truncated context are dropped, with a count logged; when none remain, that is a ConfigError on
`data.max_seq_length`.

Cheap to import: torch and transformers are imported inside functions.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ov_movement.config.pipeline import QA_RECORDS
from ov_movement.data.examples import EncodedSplit
from ov_movement.data.qa import LABEL_NAMES, QAExample
from ov_movement.data.sources import read_examples
from ov_movement.errors import ConfigError, ConfigIssue, StageError
from ov_movement.metrics import span_metrics, span_predictions
from ov_movement.tasks.text_classification import TextClassificationTask

if TYPE_CHECKING:
    import torch

    from ov_movement.config.pipeline import PipelineConfig

log = logging.getLogger(__name__)


class QuestionAnsweringTask(TextClassificationTask):
    """Extractive QA with a (fast) tokenizer: question and context in, start/end logits out.
    Processor, input names (from the HF `...ForQuestionAnswering` class's forward: DistilBERT has
    no token_type_ids) and NNCF's input info are text classification's."""

    name = "question-answering"
    reads = QA_RECORDS

    def auto_model_class(self) -> Any:
        return QuestionAnsweringAuto()

    def collate(
        self, features: Sequence[Mapping[str, Any]], input_names: Sequence[str], pad_id: int
    ) -> dict[str, torch.Tensor]:
        import torch

        # Features are padded to data.max_seq_length when encoded, so eval logits of all batches
        # have one sequence length and concatenate.
        batch = {
            name: torch.tensor([list(f[name]) for f in features], dtype=torch.long) for name in input_names
        }
        batch["labels"] = torch.tensor([list(f["label"]) for f in features], dtype=torch.long)
        return batch

    def metrics(self, logits: np.ndarray, labels: np.ndarray) -> dict[str, float]:
        return span_metrics(logits, labels)

    def predictions(self, logits: np.ndarray) -> np.ndarray:
        return span_predictions(logits)

    def read_splits(
        self, config: PipelineConfig, config_dir: Path
    ) -> tuple[Sequence[QAExample], Sequence[QAExample], list[str]]:
        """Question, context and answer records; the labels are the answer's start and end."""
        train, evaluation = read_examples(config.data, config_dir, self.reads)
        return train, evaluation, list(LABEL_NAMES)

    def encode(
        self,
        processor: Any,
        examples: Sequence[QAExample],
        input_names: Sequence[str],
        max_length: int,
        *,
        pad_to_max: bool = False,
        split: str = "eval",
    ) -> EncodedSplit:
        """Labels are [start, end] token positions; always padded to max_length (one eval length)."""
        return encode_qa(processor, examples, input_names, max_length, loc=f"data ({split})")


class _Mapping:
    """config class -> the HF `...ForQuestionAnswering` class (what `models.model_class` reports and
    whose forward decides the inputs); a KeyError when the architecture has no QA head."""

    def __getitem__(self, config_class: type) -> type:
        from transformers import AutoModelForQuestionAnswering

        return AutoModelForQuestionAnswering._model_mapping[config_class]


class QuestionAnsweringAuto:
    """The Auto-class interface `models.build_model` uses, building `heads.QuestionAnsweringModel`
    around the HF QA model (so pretrained QA checkpoints load as they are)."""

    _model_mapping = _Mapping()

    @staticmethod
    def from_config(hf_config: Any, **kwargs: Any) -> Any:
        from transformers import AutoModelForQuestionAnswering

        from ov_movement.heads import QuestionAnsweringModel

        return QuestionAnsweringModel(AutoModelForQuestionAnswering.from_config(hf_config, **kwargs))

    @staticmethod
    def from_pretrained(path: str, *, config: Any, **kwargs: Any) -> Any:
        from transformers import AutoModelForQuestionAnswering

        from ov_movement.heads import QuestionAnsweringModel

        loaded = AutoModelForQuestionAnswering.from_pretrained(path, config=config, **kwargs)
        if kwargs.get("output_loading_info"):  # (model, loading info), as transformers returns it
            return QuestionAnsweringModel(loaded[0]), loaded[1]
        return QuestionAnsweringModel(loaded)


# ---------------------------------------------------------------------------------------------
# Encoding.


def _token_span(offsets: Sequence[tuple[int, int]], sequence_ids: Sequence[int | None], example: QAExample):
    """(first, last) token of the answer inside the encoded context, or None when truncated away."""
    context = [i for i, s in enumerate(sequence_ids) if s == 1]
    if not context:
        return None
    first, last = context[0], context[-1]
    start_char, end_char = example.answer_start, example.answer_start + len(example.answer)
    if offsets[first][0] > start_char or offsets[last][1] < end_char:
        return None
    start = first
    while start <= last and offsets[start][0] <= start_char:
        start += 1
    end = last
    while end >= first and offsets[end][1] >= end_char:
        end -= 1
    return start - 1, end + 1


def _encodings(tokenizer: Any, chunk: Sequence[QAExample], max_length: int) -> list[tuple[Any, int] | None]:
    """Per example (encoding, row), or None when it cannot be encoded at `max_length`."""
    kwargs = {
        "truncation": "only_second",
        "max_length": max_length,
        "padding": "max_length",
        "return_offsets_mapping": True,
    }
    try:
        encoded = tokenizer([e.question for e in chunk], [e.context for e in chunk], **kwargs)
        return [(encoded, i) for i in range(len(chunk))]
    except Exception:  # the tokenizers library raises a bare Exception when a question alone is too long
        pass  # for truncating the context: it fails the whole batch, so find the example(s) one by one
    single: list[tuple[Any, int] | None] = []
    for example in chunk:
        try:
            single.append((tokenizer([example.question], [example.context], **kwargs), 0))
        except Exception:
            single.append(None)
    return single


def encode_qa(
    tokenizer: Any,
    examples: Sequence[QAExample],
    input_names: Sequence[str],
    max_length: int,
    *,
    loc: str = "data",
) -> EncodedSplit:
    """Question + context tokenised and padded to `max_length`, label = [start, end] token positions."""
    if not examples:
        return EncodedSplit([])
    if not getattr(tokenizer, "is_fast", False):
        raise StageError(
            f"question-answering needs a fast tokenizer (character offsets); {type(tokenizer).__name__} "
            "is not one (its directory has no tokenizer.json); set model.tokenizer"
        )
    features: list[dict[str, Any]] = []
    dropped: list[QAExample] = []
    for begin in range(0, len(examples), 256):  # batched calls of the fast tokenizer
        chunk = examples[begin : begin + 256]
        for example, found in zip(chunk, _encodings(tokenizer, chunk, max_length), strict=True):
            span = None
            if found is not None:
                encoded, row = found
                span = _token_span(encoded["offset_mapping"][row], encoded.sequence_ids(row), example)
            if span is None or len(encoded["input_ids"][row]) != max_length:
                dropped.append(example)
                continue
            # input_names: TextClassificationTask.input_names (segment ids of zeros where the tokenizer has none).
            feature = {name: list(encoded[name][row]) for name in input_names if name in encoded}
            if "token_type_ids" in input_names and "token_type_ids" not in feature:
                feature["token_type_ids"] = [0] * len(feature["input_ids"])
            feature["label"] = [int(span[0]), int(span[1])]
            features.append(feature)
    if dropped:
        log.warning(
            "%s: %d of %d example(s) dropped: the answer lies beyond data.max_seq_length (%d tokens), e.g. %s",
            loc,
            len(dropped),
            len(examples),
            max_length,
            dropped[0].where,
        )
    if not features:
        raise ConfigError(
            [
                ConfigIssue(
                    "data.max_seq_length",
                    f"{max_length} tokens leave the answer of none of the {len(examples)} {loc} example(s) in "
                    f"the truncated context (e.g. {dropped[0].where}); raise it",
                )
            ]
        )
    return EncodedSplit(features)


__all__ = [
    "LABEL_NAMES",
    "QuestionAnsweringAuto",
    "QuestionAnsweringTask",
    "encode_qa",
    "span_metrics",
    "span_predictions",
]
