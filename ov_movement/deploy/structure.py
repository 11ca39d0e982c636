"""Which attention heads and FFN neurons a model's weights make dead, per transformer block.

Read from the exact zeros training left in the weights (NNCF's structured masking zeroes whole
heads in Q/K/V rows and output-projection columns, whole FFN rows of the first and columns of the
second linear layer). A structure counts as *masked* only when its contribution to the block's
output is exactly zero, so dropping it is exact:

- head h: its Q, K and V weight rows are zero, and either its output-projection columns are zero
  or its V bias is zero (then its context is zero, since softmax rows sum to one);
- FFN neuron j: its row of the first linear is zero, and either its column of the second linear
  is zero or its bias is zero too (every supported activation maps 0 to 0).

Architectures are described by their block layouts: module paths relative to one block, a layout
per class layout of the supported transformers releases, kept in the one record per architecture
of `ov_movement.architectures`, so adding one is a table entry. torch is imported lazily: the convert stage reads the JSON form only.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ov_movement.architectures import ARCHITECTURES, Architecture, BlockLayout
from ov_movement.errors import StageError

if TYPE_CHECKING:
    import torch


_HEAD_COUNT_ATTRS = ("num_attention_heads", "n_heads", "num_heads")
_LINEAR_ROLES = ("q", "k", "v", "o", "ffn_in", "ffn_out")
_ROLES = ("attention", "attention_core", "ffn_act", *_LINEAR_ROLES)


@dataclass
class BlockStructure:
    """One transformer block: full module paths, sizes, and what is masked."""

    index: int
    path: str
    num_heads: int
    head_dim: int
    intermediate_size: int
    paths: dict[str, str]  # role (q, k, v, o, ffn_in, ffn_out, attention, ...) -> full path
    masked_heads: list[int] = field(default_factory=list)
    masked_neurons: list[int] = field(default_factory=list)

    @property
    def all_heads_masked(self) -> bool:
        return len(self.masked_heads) == self.num_heads

    @property
    def all_neurons_masked(self) -> bool:
        return len(self.masked_neurons) == self.intermediate_size


@dataclass
class ModelStructure:
    model_type: str
    blocks: list[BlockStructure]

    @property
    def masked_heads(self) -> int:
        return sum(len(b.masked_heads) for b in self.blocks)

    @property
    def masked_neurons(self) -> int:
        return sum(len(b.masked_neurons) for b in self.blocks)

    @property
    def total_heads(self) -> int:
        return sum(b.num_heads for b in self.blocks)

    @property
    def total_neurons(self) -> int:
        return sum(b.intermediate_size for b in self.blocks)

    def to_json(self) -> dict[str, Any]:
        return {
            "model_type": self.model_type,
            "masked_heads": self.masked_heads,
            "total_heads": self.total_heads,
            "masked_neurons": self.masked_neurons,
            "total_neurons": self.total_neurons,
            "blocks": [asdict(b) for b in self.blocks],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ModelStructure:
        return cls(data["model_type"], [BlockStructure(**b) for b in data["blocks"]])


def arch_spec(model_type: str) -> Architecture:
    try:
        return ARCHITECTURES[model_type]
    except KeyError:
        raise StageError(
            f"no structure table for model_type {model_type!r} (known: {', '.join(sorted(ARCHITECTURES))}); "
            "add a record to ARCHITECTURES in ov_movement/architectures.py"
        ) from None


def _head_count(model: torch.nn.Module, block_path: str, layout: BlockLayout) -> int:
    # The attention module knows its own (possibly already pruned) head count; Swin varies per stage.
    for path in filter(None, (layout.attention_core, layout.attention)):
        module = model.get_submodule(f"{block_path}.{path}")
        for attr in _HEAD_COUNT_ATTRS:
            if isinstance(getattr(module, attr, None), int):
                return getattr(module, attr)
    raise StageError(f"cannot find the head count of {block_path}.{layout.attention}")


def block_layout(model: torch.nn.Module, spec: Architecture | None = None) -> tuple[BlockLayout, list[str]]:
    """The layout of `model`'s blocks (the first of the spec's whose modules all exist) and the
    full paths of its blocks."""
    spec = spec or arch_spec(model.config.model_type)
    names = dict(model.named_modules())
    for layout in spec.layouts:
        pattern = re.compile(rf"(?:^|\.){layout.block}")
        blocks = [name for name in names if pattern.search(name)]
        roles = [rel for role in _ROLES if (rel := getattr(layout, role)) is not None]
        if blocks and all(f"{blocks[0]}.{rel}" in names for rel in roles):
            return layout, blocks
    model_type = model.config.model_type
    raise StageError(
        f"the {type(model).__name__} ({model_type}) model matches none of the block layouts known for "
        f"{model_type} ({', '.join(repr(layout.block) for layout in spec.layouts)}); add its layout to "
        "its record in ov_movement/architectures.py"
    )


def find_masked_structure(model: torch.nn.Module) -> ModelStructure:
    """Per block, the heads and FFN neurons whose contribution is exactly zero (see module doc)."""
    import torch

    model_type = model.config.model_type
    layout, block_paths = block_layout(model, arch_spec(model_type))
    blocks = []
    with torch.no_grad():
        for index, block_path in enumerate(block_paths):
            paths = {
                role: f"{block_path}.{rel}" for role in _ROLES if (rel := getattr(layout, role)) is not None
            }
            lin = {role: model.get_submodule(paths[role]) for role in _LINEAR_ROLES}
            heads = _head_count(model, block_path, layout)
            head_dim = lin["q"].out_features // heads
            block = BlockStructure(
                index=index,
                path=block_path,
                num_heads=heads,
                head_dim=head_dim,
                intermediate_size=lin["ffn_in"].out_features,
                paths=paths,
            )
            block.masked_heads = _masked_heads(lin, heads, head_dim)
            block.masked_neurons = _masked_neurons(lin["ffn_in"], lin["ffn_out"])
            blocks.append(block)
    return ModelStructure(model_type, blocks)


def _rows_zero(weight: torch.Tensor, rows_per_group: int) -> torch.Tensor:
    """[groups] bool: all of a group's rows are zero."""
    return (weight.reshape(-1, rows_per_group * weight.shape[1]) == 0).all(dim=1)


def _bias_zero(linear: torch.nn.Linear, group: int) -> torch.Tensor:
    """[groups] bool: a group's bias entries are zero (a missing bias counts as zero)."""
    import torch

    if linear.bias is None:
        return torch.ones(linear.out_features // group, dtype=torch.bool)
    return (linear.bias.reshape(-1, group) == 0).all(dim=1)


def _masked_heads(lin: dict[str, Any], heads: int, head_dim: int) -> list[int]:
    qkv_zero = _rows_zero(lin["q"].weight, head_dim) & _rows_zero(lin["k"].weight, head_dim)
    qkv_zero &= _rows_zero(lin["v"].weight, head_dim)
    out_zero = _rows_zero(lin["o"].weight.T.contiguous(), head_dim)
    dead = qkv_zero & (out_zero | _bias_zero(lin["v"], head_dim))
    return [h for h in range(heads) if bool(dead[h])]


def _masked_neurons(ffn_in: torch.nn.Linear, ffn_out: torch.nn.Linear) -> list[int]:
    rows_zero = (ffn_in.weight == 0).all(dim=1)
    cols_zero = (ffn_out.weight == 0).all(dim=0)
    dead = rows_zero & (cols_zero | _bias_zero(ffn_in, 1))
    return dead.nonzero().flatten().tolist()


__all__ = [
    "ARCHITECTURES",
    "Architecture",
    "BlockLayout",
    "BlockStructure",
    "ModelStructure",
    "arch_spec",
    "block_layout",
    "find_masked_structure",
]
