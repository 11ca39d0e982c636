"""Models whose classification head sits outside the part NNCF compresses.

CLIP: NNCF's structured masking works on `CLIPVisionModelWithProjection` (family `clip`) with the
classification head outside it (DESIGN.md). `CLIPVisionClassifier` holds the tower as `backbone`
and a linear head on its projected image embeddings; `compressed_submodule` tells
`training.nncf_setup.compress` to wrap only the backbone, so the head is trained but never
sparsified, and the wrapper still looks like a HF classifier to the rest of the pipeline
(`config`, `forward(pixel_values, labels) -> .loss/.logits`).

Imports torch and transformers: import this module lazily.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from transformers.modeling_outputs import ImageClassifierOutput


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


__all__ = ["CLIPVisionClassifier"]
