"""Scope presets: the movement-sparsity scopes of each architecture NNCF's structured masking knows.

`compression.preset: vit` stands for the three `sparse_structure_by_scopes` entries (attention in
square blocks, the FFN's first linear by rows, its second by columns: NNCF's documented BERT recipe)
and the `ignored_scopes` (classification head, embeddings, LayerNorms, projections feeding or
leaving the encoder) of that architecture. A `sparse_structure_by_scopes` or `ignored_scopes` given
next to the preset replaces that part of it.

Every pattern is exact for the Hugging Face classes (eager attention) that ov-movement builds for
the architecture, in both class layouts of the tested releases (transformers 4.57 and 5.x: 5.x
renamed DistilBERT's `MultiHeadSelfAttention` to `DistilBertSelfAttention` and folded ViT's and
Swin's intermediate/output into an `mlp` with `fc1`/`fc2`; an alternative that matches nothing in
one release is harmless, NNCF only rejects a pattern that matches nothing at all): each structure pattern matches sparsifiable Linear layers
and each ignored pattern matches NNCF graph nodes (NNCF makes an ignored scope that matches nothing a
hard error). tests/test_architectures.py traces a tiny model of every architecture and checks
this, and that NNCF forms attention and FFN groups from the preset.

Pure data: cheap to import (the config package never imports torch or NNCF).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ov_movement.architectures import model_types_of_preset

DEFAULT_PRESET_BLOCK = 32


@dataclass(frozen=True)
class ScopePreset:
    name: str
    title: str
    model_class: str  # the class ov-movement compresses (node names start with it)
    attention: str  # block mode: Q, K, V and the attention output projection
    ffn_in: str  # per_dim axis 0: the FFN's first linear (produces the neurons)
    ffn_out: str  # per_dim axis 1: the FFN's second linear (consumes them)
    ignored: tuple[str, ...]
    note: str = ""
    # A layer name in a group NNCF forms that the preset's per_dim axes deliberately leave without a
    # structured mask (NNCF warns about it): reported at INFO level instead of as a warning.
    expected_group_conflict: str = ""
    # The `ignored` entries that are the classification head: left out for a model whose head sits
    # outside the compressed part (question answering), where they would match nothing.
    head: tuple[str, ...] = ()

    @property
    def model_types(self) -> tuple[str, ...]:
        """The Hugging Face `model_type`s the preset is written for (their records in
        ov_movement.architectures name it)."""
        return model_types_of_preset(self.name)

    def structure(self, block: int = DEFAULT_PRESET_BLOCK) -> list[dict[str, Any]]:
        """The `sparse_structure_by_scopes` entries, attention in `block` x `block` blocks."""
        return [
            {"mode": "block", "sparse_factors": [block, block], "target_scopes": self.attention},
            {"mode": "per_dim", "axis": 0, "target_scopes": self.ffn_in},
            {"mode": "per_dim", "axis": 1, "target_scopes": self.ffn_out},
        ]

    def ignored_scopes(self, *, head: bool = True) -> list[str]:
        """The ignored patterns; `head=False`: without the classification head's."""
        return [p for p in self.ignored if head or p not in self.head]


_EMBEDDING = "{re}.*NNCFEmbedding"
_LAYER_NORM = "{re}.*LayerNorm.*"
_CLASSIFIER = "{re}.*classifier.*"

PRESETS: dict[str, ScopePreset] = {
    preset.name: preset
    for preset in (
        ScopePreset(
            name="bert",
            title="BERT",
            model_class="BertFor*",
            attention="{re}.*BertAttention.*",
            ffn_in="{re}.*BertIntermediate.*",
            ffn_out="{re}.*BertOutput.*",
            ignored=(_EMBEDDING, _LAYER_NORM, _CLASSIFIER),
            note="NNCF's documented BERT recipe (the default `compression`); the pooler stays sparsified (fine).",
            head=(_CLASSIFIER,),
        ),
        ScopePreset(
            name="roberta",
            title="RoBERTa",
            model_class="RobertaFor*",
            attention="{re}.*RobertaAttention.*",
            ffn_in="{re}.*RobertaIntermediate.*",
            ffn_out="{re}.*RobertaOutput.*",
            ignored=(_EMBEDDING, _LAYER_NORM, _CLASSIFIER),
            note="Structured masking treats RoBERTa as the bert family (NNCF's family check refuses it "
            "otherwise); the classification head (dense + out_proj) is ignored.",
            head=(_CLASSIFIER,),
        ),
        ScopePreset(
            name="distilbert",
            title="DistilBERT",
            model_class="DistilBertFor*",
            attention="{re}.*(MultiHeadSelfAttention|DistilBertSelfAttention).*",
            ffn_in=r"{re}.*FFN\[ffn\]/NNCFLinear\[lin1\].*",
            ffn_out=r"{re}.*FFN\[ffn\]/NNCFLinear\[lin2\].*",
            ignored=(_EMBEDDING, _LAYER_NORM, _CLASSIFIER),
            note="`{re}.*classifier.*` also covers `pre_classifier`.",
            head=(_CLASSIFIER,),
        ),
        ScopePreset(
            name="mobilebert",
            title="MobileBERT",
            model_class="MobileBertFor*",
            attention="{re}.*MobileBertAttention.*",
            ffn_in="{re}.*MobileBertIntermediate.*",
            # The last FFN's output (MobileBertOutput.dense) and, with num_feedforward_networks > 1,
            # the stacked FFNs' outputs (FFNOutput.dense); the output bottleneck is not an FFN layer.
            ffn_out=r"{re}.*(MobileBertOutput\[output\]|FFNOutput\[output\])/NNCFLinear\[dense\].*",
            ignored=(_EMBEDDING, "{re}.*embedding_transformation.*", _LAYER_NORM, _CLASSIFIER),
            note="Bottleneck linears stay sparsified (fine); `LayerNorm` also matches MobileBERT's NoNorm. "
            "NNCF also groups the bottleneck residual stream (every layer reading or writing the "
            "intra-bottleneck width); the per_dim axes leave it without a structured mask, as intended.",
            expected_group_conflict="bottleneck.input.dense",
            head=(_CLASSIFIER,),
        ),
        ScopePreset(
            name="vit",
            title="ViT",
            model_class="ViTForImageClassification",
            attention="{re}.*ViTAttention.*",
            ffn_in=r"{re}.*(ViTIntermediate|ViTMLP\[mlp\]/NNCFLinear\[fc1\]).*",
            ffn_out=r"{re}.*(ViTOutput|ViTMLP\[mlp\]/NNCFLinear\[fc2\]).*",
            ignored=(_LAYER_NORM, _CLASSIFIER),
            note="The patch embedding is a convolution (never sparsified).",
        ),
        ScopePreset(
            name="swin",
            title="Swin",
            model_class="SwinForImageClassification",
            attention="{re}.*SwinAttention.*",
            ffn_in=r"{re}.*(SwinIntermediate|SwinMLP\[mlp\]/NNCFLinear\[fc1\]).*",
            ffn_out=r"{re}.*(SwinOutput|SwinMLP\[mlp\]/NNCFLinear\[fc2\]).*",
            ignored=(_LAYER_NORM, _CLASSIFIER),
            note="Patch-merging reductions stay sparsified (fine). Heads are narrow (32 in swin-tiny): "
            "`preset_block_size` must divide the head size.",
        ),
        ScopePreset(
            name="clip",
            title="CLIP vision tower",
            model_class="CLIPVisionModelWithProjection",
            attention="{re}.*CLIPAttention.*",
            ffn_in=r"{re}.*CLIPMLP\[mlp\]/NNCFLinear\[fc1\].*",
            ffn_out=r"{re}.*CLIPMLP\[mlp\]/NNCFLinear\[fc2\].*",
            ignored=(_EMBEDDING, _LAYER_NORM, "{re}.*visual_projection.*"),
            note="ov-movement compresses CLIPVisionModelWithProjection; the classification head sits "
            "outside it (never sparsified). The projection is ignored.",
        ),
        ScopePreset(
            name="wav2vec2",
            title="Wav2Vec2",
            model_class="Wav2Vec2ForSequenceClassification",
            attention="{re}.*Wav2Vec2Attention.*",
            ffn_in="{re}.*intermediate_dense.*",
            ffn_out="{re}.*output_dense.*",
            ignored=(
                "{re}.*feature_extractor.*",
                "{re}.*feature_projection.*",
                _LAYER_NORM,
                "{re}.*projector.*",
                _CLASSIFIER,
            ),
            note="The convolutional feature encoder is ignored (and frozen during training), as are "
            "the feature projection and the classification head (projector + classifier).",
        ),
    )
}

PRESET_NAMES = tuple(PRESETS)


def preset_for_model_type(model_type: str) -> str | None:
    """The preset written for a Hugging Face `model_type`, if any."""
    for preset in PRESETS.values():
        if model_type in preset.model_types:
            return preset.name
    return None


__all__ = ["DEFAULT_PRESET_BLOCK", "PRESETS", "PRESET_NAMES", "ScopePreset", "preset_for_model_type"]
