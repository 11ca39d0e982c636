"""Models whose head sits outside the part NNCF compresses.

CLIP: NNCF's structured masking works on `CLIPVisionModelWithProjection` (family `clip`) with the
classification head outside it (docs/design.md). `CLIPVisionClassifier` holds the tower as `backbone`
and a linear head on its projected image embeddings; `compressed_submodule` tells
`training.nncf_setup.compress` to wrap only the backbone, so the head is trained but never
sparsified, and the wrapper still looks like a HF classifier to the rest of the pipeline
(`config`, `forward(pixel_values, labels) -> .loss/.logits`).

Question answering: `QuestionAnsweringModel` takes an HF `...ForQuestionAnswering` model apart
into its encoder (`backbone`: BertModel, RobertaModel, ...; what NNCF compresses, so its family
check and attention groups are the encoder's) and its span head (`qa_outputs`, outside). Its
forward returns the head's [B, S, 2] output as `logits` and takes `labels` [B, 2] (start, end), so
the training loop, export and IR evaluation handle it like a classifier (see
`ov_movement.tasks.question_answering`).

Imports torch and transformers: import this module lazily.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from transformers.modeling_outputs import ImageClassifierOutput, TokenClassifierOutput


class CLIPVisionClassifier(nn.Module):
    """CLIPVisionModelWithProjection (`backbone`) + a Linear head (`classifier`) on `image_embeds`."""

    compressed_submodule = "backbone"

    def __init__(self, config: Any, backbone: nn.Module | None = None):
        super().__init__()
        from transformers import CLIPVisionModelWithProjection

        self.config = config
        self.backbone = backbone if backbone is not None else CLIPVisionModelWithProjection(config)
        self.classifier = nn.Linear(config.projection_dim, config.num_labels)

    def forward(
        self, pixel_values: torch.Tensor, labels: torch.Tensor | None = None
    ) -> ImageClassifierOutput:
        embeds = self.backbone(pixel_values=pixel_values).image_embeds
        logits = self.classifier(embeds)
        loss = nn.functional.cross_entropy(logits, labels) if labels is not None else None
        return ImageClassifierOutput(loss=loss, logits=logits)


class QuestionAnsweringModel(nn.Module):
    """An HF QA model's encoder (`backbone`, compressed) and span head (`qa_outputs`, not)."""

    compressed_submodule = "backbone"
    # The exported `logits` are per token: batch and sequence axes are both dynamic.
    output_axes = {0: "batch", 1: "sequence"}

    def __init__(self, qa_model: nn.Module):
        super().__init__()
        self.config = qa_model.config
        self.backbone = getattr(qa_model, qa_model.base_model_prefix)
        # DistilBERT's QA model applies dropout before the head; BERT, RoBERTa, MobileBERT do not.
        dropout = getattr(qa_model, "dropout", None)
        self.dropout = dropout if isinstance(dropout, nn.Dropout) else nn.Identity()
        self.qa_outputs = qa_model.qa_outputs
        if self.qa_outputs.out_features != 2:
            raise ValueError(f"a question-answering head has 2 outputs, got {self.qa_outputs.out_features}")

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
    ) -> TokenClassifierOutput:
        inputs = {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids}
        hidden = self.backbone(**{k: v for k, v in inputs.items() if v is not None})[0]
        logits = self.qa_outputs(self.dropout(hidden))  # [B, S, 2]: start, end
        loss = None
        if labels is not None:  # HF's QA loss: mean of the start and end cross-entropies over positions
            loss = (
                nn.functional.cross_entropy(logits[..., 0], labels[:, 0])
                + nn.functional.cross_entropy(logits[..., 1], labels[:, 1])
            ) / 2
        return TokenClassifierOutput(loss=loss, logits=logits)


__all__ = ["CLIPVisionClassifier", "QuestionAnsweringModel"]
