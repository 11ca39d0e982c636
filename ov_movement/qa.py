"""Extractive question answering: the `question-answering` Task, its span metrics and model builder.

The pipeline moves one `logits` tensor and one `labels` tensor through training, export and IR
evaluation; question answering fits that without a second output:

- logits [N, S, 2]: per token, the start (`[..., 0]`) and end (`[..., 1]`) logit, which is exactly
  what the HF heads' `qa_outputs` Linear produces before they split it;
- labels [N, 2]: the token positions of the answer's first and last token.

The model is `heads.QuestionAnsweringModel`: the encoder of `AutoModelForQuestionAnswering`
(BertModel, ...) is what NNCF compresses, so the structured-masking family check and the attention
groups are those of the BERT family; the span head sits outside it, as CLIP's classifier does.
Data (SQuAD-style jsonl, `synthetic_qa`) is read and encoded by `data_qa`.

Metrics: a prediction is the arg-max over the sequence of the start and of the end logits.
`exact_match` = both equal the labels (also reported as `accuracy`, which the report and summaries
read); `f1` = overlap of the predicted and gold token spans, averaged (an end before the start is an
empty span: F1 0).

Cheap to import: numpy, torch and transformers are imported inside functions. It must not import
`ov_movement.models` at module level (models imports this module to build its task table).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import torch

    from ov_movement.data import DataBundle

from ov_movement.metrics import span_metrics, span_predictions, span_scores  # noqa: F401 (re-exported)

LABEL_NAMES = ["start", "end"]


class QuestionAnsweringTask:
    """Extractive QA with a (fast) tokenizer: question and context in, start/end logits out."""

    name = "question-answering"

    def _text(self) -> Any:
        from ov_movement.models import TextClassificationTask

        return TextClassificationTask()

    def auto_model_class(self) -> Any:
        return QuestionAnsweringAuto()

    def load_processor(self, path: Path, *, trust_remote_code: bool = False) -> Any:
        return self._text().load_processor(path, trust_remote_code=trust_remote_code)

    def input_names(self, model_class: type, processor: Any) -> tuple[str, ...]:
        # model_class is the HF `...ForQuestionAnswering` class: its forward says which inputs the
        # encoder takes (DistilBERT has no token_type_ids).
        return self._text().input_names(model_class, processor)

    def nncf_input_info(
        self, input_names: Sequence[str], seq_length: int, processor: Any = None
    ) -> list[dict[str, Any]]:
        return self._text().nncf_input_info(input_names, seq_length, processor)

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

    def prepare_data(
        self, config: Any, config_dir: Path, processor: Any, input_names: Sequence[str]
    ) -> DataBundle:
        from ov_movement.data_qa import prepare_qa_data

        return prepare_qa_data(config, config_dir, processor, input_names)

    def load_eval_arrays(
        self,
        config: Any,
        config_dir: Path,
        processor: Any,
        input_names: Sequence[str],
        limit: int | None = None,
        split: str = "eval",
    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        from ov_movement.data_qa import qa_eval_arrays

        return qa_eval_arrays(config, config_dir, processor, input_names, limit, split=split)


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


__all__ = [
    "LABEL_NAMES",
    "QuestionAnsweringAuto",
    "QuestionAnsweringTask",
    "span_metrics",
    "span_predictions",
    "span_scores",
]
