"""One record per supported architecture: everything ov-movement knows about a Hugging Face
`model_type`, in one place.

- `preset`: the scope preset written for it (`compression.preset`, ov_movement/config/presets.py
  holds the scope patterns);
- `layouts`: where the attention and FFN linears of one transformer block sit, one layout per class
  layout of the supported transformers releases (deploy/structure.py reads the masked heads and
  neurons through them, deploy/shrink.py drops them);
- `nncf_family_alias`: the family NNCF 2.19's structured masking should treat it as, when NNCF
  refuses it only because its check reads the class's module name (RoBERTa has BERT's layers;
  training/nncf_compat.py applies the alias, docs/design.md);
- `ov_removes_ffn`: whether OpenVINO's pruning pass removes masked FFN neurons by itself, which
  decides whether `export.shrink: auto` drops them torch-side (masked heads are always dropped
  torch-side).

Every record is tested end to end on a tiny model (tests/test_architectures.py) with both tested
sets (constraints.txt: transformers 4.57; constraints-latest.txt: transformers 5.x).
Pure data: the config package imports it, so it never imports torch.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class BlockLayout:
    """Where the attention and FFN linears of one block sit (paths relative to the block).

    `attention_core`: the sub-module computing the per-head context from the hidden states
    (replaced by a pass-through when every head is masked); None when the attention module also
    holds the output projection (DistilBERT, Wav2Vec2, CLIP; ViT and Swin on transformers 5): then
    the whole `attention` module is replaced.
    """

    block: str  # regex on full module names, matching each transformer block
    attention: str
    attention_core: str | None
    q: str
    k: str
    v: str
    o: str
    ffn_in: str
    ffn_act: str
    ffn_out: str


@dataclass(frozen=True)
class Architecture:
    """What ov-movement knows about one architecture (see the module docstring for each field).
    `layouts`: the first whose modules all exist in the model is used."""

    model_types: tuple[str, ...]  # Hugging Face `model_type`s sharing this record
    preset: str
    layouts: tuple[BlockLayout, ...]
    nncf_family_alias: str | None = None
    ov_removes_ffn: bool = True


_BERT_LIKE = BlockLayout(
    block=r"encoder\.layer\.\d+$",
    attention="attention",
    attention_core="attention.self",
    q="attention.self.query",
    k="attention.self.key",
    v="attention.self.value",
    o="attention.output.dense",
    ffn_in="intermediate.dense",
    ffn_act="intermediate.intermediate_act_fn",
    ffn_out="output.dense",
)
# transformers 5 folds ViT's and Swin's attention into one module with q/k/v/o_proj and the FFN into
# an `mlp` (fc1, fc2); ViT's blocks also moved from `encoder.layer` to `layers`.
_FUSED_ATTENTION_MLP = dict(
    attention="attention",
    attention_core=None,
    q="attention.q_proj",
    k="attention.k_proj",
    v="attention.v_proj",
    o="attention.o_proj",
    ffn_in="mlp.fc1",
    ffn_act="mlp.activation_fn",
    ffn_out="mlp.fc2",
)
_SWIN_BLOCK = r"layers\.\d+\.blocks\.\d+$"

_RECORDS = (
    Architecture(("bert",), preset="bert", layouts=(_BERT_LIKE,)),
    Architecture(("roberta",), preset="roberta", layouts=(_BERT_LIKE,), nncf_family_alias="bert"),
    Architecture(("mobilebert",), preset="mobilebert", layouts=(_BERT_LIKE,)),
    Architecture(
        ("swin",),
        preset="swin",
        layouts=(
            replace(_BERT_LIKE, block=_SWIN_BLOCK),
            BlockLayout(block=_SWIN_BLOCK, **_FUSED_ATTENTION_MLP),
        ),
    ),
    Architecture(
        ("vit",),
        preset="vit",
        layouts=(
            replace(
                _BERT_LIKE,
                attention_core="attention.attention",
                q="attention.attention.query",
                k="attention.attention.key",
                v="attention.attention.value",
            ),
            BlockLayout(block=r"layers\.\d+$", **_FUSED_ATTENTION_MLP),
        ),
    ),
    Architecture(
        ("distilbert",),
        preset="distilbert",
        layouts=(
            BlockLayout(
                block=r"transformer\.layer\.\d+$",
                attention="attention",
                attention_core=None,
                q="attention.q_lin",
                k="attention.k_lin",
                v="attention.v_lin",
                o="attention.out_lin",
                ffn_in="ffn.lin1",
                ffn_act="ffn.activation",
                ffn_out="ffn.lin2",
            ),
        ),
    ),
    Architecture(
        ("wav2vec2",),
        preset="wav2vec2",
        layouts=(
            BlockLayout(
                block=r"encoder\.layers\.\d+$",
                attention="attention",
                attention_core=None,
                q="attention.q_proj",
                k="attention.k_proj",
                v="attention.v_proj",
                o="attention.out_proj",
                ffn_in="feed_forward.intermediate_dense",
                ffn_act="feed_forward.intermediate_act_fn",
                ffn_out="feed_forward.output_dense",
            ),
        ),
    ),
    Architecture(
        ("clip", "clip_vision_model"),
        preset="clip",
        layouts=(
            BlockLayout(
                block=r"encoder\.layers\.\d+$",
                attention="self_attn",
                attention_core=None,
                q="self_attn.q_proj",
                k="self_attn.k_proj",
                v="self_attn.v_proj",
                o="self_attn.out_proj",
                ffn_in="mlp.fc1",
                ffn_act="mlp.activation_fn",
                ffn_out="mlp.fc2",
            ),
        ),
    ),
)

ARCHITECTURES: dict[str, Architecture] = {
    model_type: record for record in _RECORDS for model_type in record.model_types
}


def model_types_of_preset(preset: str) -> tuple[str, ...]:
    """The `model_type`s whose record names `preset`."""
    return tuple(t for record in _RECORDS if record.preset == preset for t in record.model_types)


def nncf_family_aliases() -> dict[str, str]:
    """{family NNCF refuses by module name: the admitted family it is treated as}."""
    return {
        model_type: record.nncf_family_alias
        for record in _RECORDS
        if record.nncf_family_alias
        for model_type in record.model_types
    }


__all__ = ["ARCHITECTURES", "Architecture", "BlockLayout", "model_types_of_preset", "nncf_family_aliases"]
