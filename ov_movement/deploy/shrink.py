"""Physically drop masked heads and FFN neurons from a torch model before export.

OpenVINO's pruning pass removes zero structure by itself for some architectures, but not heads
where its converter fuses attention, and not at all when a whole block is masked (it throws shape
errors or leaves zero-sized tensors the CPU plugin rejects; docs/design.md). Those cases are shrunk
here, torch-side, so the IR never sees them:

- some heads of a block: slice the kept heads' Q/K/V rows and output-projection columns here
  (`keep_output_rows`, `keep_input_columns`) and update the attention module's head count; no HF
  `prune_heads` (transformers 5 removed it). Attention modules with `out_proj` (CLIP, Wav2Vec2),
  whose transformers 4.57 forward reshapes to the input width, are replaced by `PrunedSelfAttention`;
- some FFN neurons: slice the rows of the first and the columns of the second linear;
- every head / every neuron: the block contributes exactly its output bias (the masked parts
  contribute zero, see `structure`), so the block is replaced by modules that output that bias
  and compute nothing — no zero-width tensor is ever created.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import torch
from torch import nn

from ov_movement.deploy.shrink_qat import slice_linear, weight_quantizers
from ov_movement.deploy.structure import BlockStructure, ModelStructure, arch_spec

ShrinkMode = Literal["auto", "always", "never"]


# ---------------------------------------------------------------------------------------------
# Slicing Linear layers by kept indices (reused by quantizer-aware variants).


def kept_indices(size: int, dropped: list[int]) -> torch.Tensor:
    """The indices in range(size) not in `dropped`, ascending."""
    gone = set(dropped)
    return torch.tensor([i for i in range(size) if i not in gone], dtype=torch.long)


def head_channels(heads: torch.Tensor, head_dim: int) -> torch.Tensor:
    """The output channels of Q/K/V (and input columns of the output projection) of `heads`."""
    return (heads[:, None] * head_dim + torch.arange(head_dim)).flatten()


def keep_output_rows(linear: nn.Linear, index: torch.Tensor) -> nn.Linear:
    """A new Linear computing only the outputs `index` of `linear` (weight rows and bias sliced).

    A quantization-aware layer is sliced in place instead, its weight quantizer's per-channel
    parameters with it: a new Linear would silently drop the fake-quantize operation."""
    if weight_quantizers(linear):
        return slice_linear(linear, index, dim=0)
    weight = linear.weight.detach().index_select(0, index)
    bias = None if linear.bias is None else linear.bias.detach().index_select(0, index)
    return _linear_like(linear, weight, bias)


def keep_input_columns(linear: nn.Linear, index: torch.Tensor) -> nn.Linear:
    """A new Linear reading only the inputs `index` of `linear` (weight columns; bias unchanged);
    a quantization-aware layer is sliced in place (see `keep_output_rows`)."""
    if weight_quantizers(linear):
        return slice_linear(linear, index, dim=1)
    weight = linear.weight.detach().index_select(1, index)
    bias = None if linear.bias is None else linear.bias.detach()
    return _linear_like(linear, weight, bias)


def _linear_like(linear: nn.Linear, weight: torch.Tensor, bias: torch.Tensor | None) -> nn.Linear:
    out_features, in_features = weight.shape
    new = nn.Linear(
        in_features, out_features, bias=bias is not None, device=weight.device, dtype=weight.dtype
    )
    with torch.no_grad():
        new.weight.copy_(weight)
        if bias is not None:
            new.bias.copy_(bias)
    new.weight.requires_grad_(linear.weight.requires_grad)
    if bias is not None:
        new.bias.requires_grad_(linear.bias.requires_grad)
    return new


# ---------------------------------------------------------------------------------------------
# Replacement modules.


class BiasOnly(nn.Module):
    """Replaces a Linear whose every input channel is dead: its output is its bias, broadcast."""

    def __init__(self, bias: torch.Tensor | None, out_features: int):
        super().__init__()
        self.out_features = out_features
        value = bias.detach().clone() if bias is not None else torch.zeros(out_features)
        self.bias = nn.Parameter(value, requires_grad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Only the shape of x is used; the exporter turns this into Shape -> Expand.
        return self.bias.expand(*x.shape[:-1], self.out_features)


class PassThroughAttention(nn.Module):
    """Replaces the per-head context computation of a block with no heads left.

    Hands the hidden states on unchanged (no computation); the output projection after it is a
    `BiasOnly` and uses only their shape. Returns a tuple like HF attention cores do.
    """

    def forward(self, hidden_states: torch.Tensor, *args: Any, **kwargs: Any) -> tuple[torch.Tensor, None]:
        return hidden_states, None


class BiasOnlyAttention(nn.Module):
    """Replaces an attention module that contains its own output projection (DistilBERT, CLIP,
    Wav2Vec2); returns as many values as the module it replaces (`outputs`)."""

    def __init__(self, bias: torch.Tensor | None, out_features: int, outputs: int = 2):
        super().__init__()
        self.projection = BiasOnly(bias, out_features)
        self.outputs = outputs

    def forward(self, *args: Any, **kwargs: Any) -> tuple[torch.Tensor | None, ...]:
        hidden = args[0] if args else kwargs.get("hidden_states", kwargs.get("query"))
        return (self.projection(hidden),) + (None,) * (self.outputs - 1)


class PrunedSelfAttention(nn.Module):
    """Eager multi-head self-attention with some heads removed, for attention modules that hold
    `q_proj`/`k_proj`/`v_proj`/`out_proj` and have no HF `prune_heads` (CLIP, Wav2Vec2).

    Computes exactly what their eager forward computes for self-attention (scores scaled by
    head_dim^-0.5, additive 4-D `attention_mask` / `causal_attention_mask`, softmax, no dropout:
    only the exported, eval-mode model uses it), on the kept heads only.
    """

    def __init__(self, attention: nn.Module, heads: list[int], num_heads: int, head_dim: int, outputs: int):
        super().__init__()
        kept = kept_indices(num_heads, heads)
        index = head_channels(kept, head_dim)
        self.q_proj = keep_output_rows(attention.q_proj, index)
        self.k_proj = keep_output_rows(attention.k_proj, index)
        self.v_proj = keep_output_rows(attention.v_proj, index)
        self.out_proj = keep_input_columns(attention.out_proj, index)
        self.num_heads, self.head_dim, self.outputs = len(kept), head_dim, outputs
        self.scale = head_dim**-0.5

    def forward(
        self,
        hidden_states: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        causal_attention_mask: torch.Tensor | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> tuple[torch.Tensor | None, ...]:
        batch, length = hidden_states.shape[:2]

        def split(x: torch.Tensor) -> torch.Tensor:
            return x.view(batch, length, self.num_heads, self.head_dim).transpose(1, 2)

        q, k, v = (
            split(self.q_proj(hidden_states)),
            split(self.k_proj(hidden_states)),
            split(self.v_proj(hidden_states)),
        )
        scores = torch.matmul(q, k.transpose(2, 3)) * self.scale
        for mask in (attention_mask, causal_attention_mask):
            if mask is not None:
                scores = scores + mask
        context = torch.matmul(torch.softmax(scores, dim=-1), v)
        context = context.transpose(1, 2).reshape(batch, length, self.num_heads * self.head_dim)
        return (self.out_proj(context),) + (None,) * (self.outputs - 1)


@dataclass
class BlockShrink:
    index: int
    path: str
    heads: list[int] = field(default_factory=list)
    neurons: list[int] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


def plan_shrink(structure: ModelStructure, mode: ShrinkMode) -> list[BlockShrink]:
    """Which masked heads/neurons to drop torch-side; blocks with nothing to drop are left out.

    `auto` drops whole masked blocks (OpenVINO cannot remove them), every masked head, and the FFN
    neurons OpenVINO's pass keeps for this architecture; the rest is left to the pruning
    transformation. Heads: OpenVINO's pass removed them only where it can follow a head through
    the attention's Reshape; transformers 5 reshapes Q/K/V by `(*input_shape, -1, head_dim)`, and
    in a dynamic-axes export the pass then keeps every head (BERT family and Swin included, where
    it removed them on transformers 4.57). Slicing them torch-side is exact on every stack.
    """
    if mode == "never":
        return []
    spec = arch_spec(structure.model_type)
    model_type = structure.model_type
    plan = []
    for block in structure.blocks:
        item = BlockShrink(block.index, block.path)
        if block.masked_heads:
            reason = _shrink_reason(mode, block.all_heads_masked, False, "heads", "heads", model_type)
            if reason:
                item.heads = block.masked_heads
                item.reasons.append(f"heads: {reason}")
        if block.masked_neurons:
            reason = _shrink_reason(
                mode, block.all_neurons_masked, spec.ov_removes_ffn, "FFN neurons", "FFN", model_type
            )
            if reason:
                item.neurons = block.masked_neurons
                item.reasons.append(f"ffn: {reason}")
        if item.heads or item.neurons:
            plan.append(item)
    return plan


def _shrink_reason(
    mode: ShrinkMode, all_masked: bool, openvino_removes: bool, units: str, kind: str, model_type: str
) -> str | None:
    """Why masked units of one kind are dropped torch-side, or None when OpenVINO's pass may do it."""
    if mode == "always":
        return "export.shrink is always"
    if all_masked:  # OpenVINO's pass fails on a block with nothing left
        return f"all {units} masked"
    if not openvino_removes:
        return f"OpenVINO's pass may keep masked {kind} of {model_type}"
    return None


def _set_submodule(model: nn.Module, path: str, module: nn.Module) -> None:
    parent, _, name = path.rpartition(".")
    setattr(model.get_submodule(parent) if parent else model, name, module)


def shrink_model(model: nn.Module, structure: ModelStructure, plan: list[BlockShrink]) -> nn.Module:
    """Apply `plan` to `model` in place (the structure must describe this, unshrunk, model)."""
    blocks = {b.index: b for b in structure.blocks}
    with torch.no_grad():
        for item in plan:
            block = blocks[item.index]
            if item.heads:
                _drop_heads(model, block, item.heads)
            if item.neurons:
                _drop_neurons(model, block.paths, item.neurons, block.intermediate_size)
    return model


_HEAD_COUNT_ATTRS = ("num_attention_heads", "num_heads", "n_heads")


def _drop_heads(model: nn.Module, block: BlockStructure, heads: list[int]) -> None:
    paths = block.paths
    attention = model.get_submodule(paths["attention"])
    out_proj = model.get_submodule(paths["o"])
    if len(heads) == block.num_heads:
        if "attention_core" in paths:  # BERT-like: core (Q/K/V, softmax) then a separate output projection
            _set_submodule(model, paths["attention_core"], PassThroughAttention())
            _set_submodule(model, paths["o"], BiasOnly(out_proj.bias, out_proj.out_features))
        else:
            outputs = attention_output_count(attention, model.get_submodule(paths["q"]).in_features)
            replacement = BiasOnlyAttention(out_proj.bias, out_proj.out_features, outputs)
            _set_submodule(model, paths["attention"], replacement)
        return
    if "attention_core" not in paths and hasattr(attention, "out_proj"):
        outputs = attention_output_count(attention, model.get_submodule(paths["q"]).in_features)
        replacement = PrunedSelfAttention(attention, list(heads), block.num_heads, block.head_dim, outputs)
        _set_submodule(model, paths["attention"], replacement)
        return
    kept = kept_indices(block.num_heads, heads)
    index = head_channels(kept, block.head_dim)
    for role in ("q", "k", "v"):
        _set_submodule(model, paths[role], keep_output_rows(model.get_submodule(paths[role]), index))
    _set_submodule(model, paths["o"], keep_input_columns(out_proj, index))
    for path in filter(None, (paths.get("attention_core"), paths["attention"])):
        _set_head_count(model.get_submodule(path), kept, block.head_dim)
    _slice_head_tables(attention, kept)  # once: the core is inside `attention`


def _set_head_count(attention: nn.Module, kept: torch.Tensor, head_dim: int) -> None:
    """Tell an attention module whose heads were sliced how many are left.

    Its forward reshapes Q/K/V by these attributes (transformers 4.57; 5.x infers the count from
    the tensors)."""
    count = len(kept)
    for attr in _HEAD_COUNT_ATTRS:
        if isinstance(getattr(attention, attr, None), int):
            setattr(attention, attr, count)
    if isinstance(getattr(attention, "all_head_size", None), int):
        attention.all_head_size = count * head_dim
    if isinstance(getattr(attention, "n_heads", None), int) and isinstance(
        getattr(attention, "dim", None), int
    ):
        attention.dim = count * head_dim  # DistilBERT 4.57: head size = dim // n_heads


def _slice_head_tables(attention: nn.Module, kept: torch.Tensor) -> None:
    """Swin's relative-position bias table (anywhere inside the attention module) has one column
    per head: keep the kept heads' columns."""
    for name, table in list(attention.named_parameters()):
        if name.endswith("relative_position_bias_table"):
            owner = attention.get_submodule(name.rpartition(".")[0]) if "." in name else attention
            sliced = nn.Parameter(table.detach().index_select(1, kept), requires_grad=table.requires_grad)
            setattr(owner, name.rpartition(".")[2], sliced)


def attention_output_count(attention: nn.Module, width: int) -> int:
    """How many values `attention` returns (its replacement must return as many: transformers 4.57's
    Wav2Vec2 encoder layer unpacks three, 5.x's two).

    Probed by calling it on one zero token; a module that cannot be called on hidden states alone
    (DistilBERT 4.57 takes query, key, value and mask; Swin needs whole windows) is taken to return
    two, what every such caller unpacks. The export stage's verification of the shrunk model
    catches a wrong count."""
    try:
        with torch.no_grad():
            result = attention(torch.zeros(1, 1, width))
    except (TypeError, RuntimeError, ValueError):
        return 2
    return len(result) if isinstance(result, tuple) else 1


def _drop_neurons(model: nn.Module, paths: dict[str, str], neurons: list[int], size: int) -> None:
    ffn_in, ffn_out = model.get_submodule(paths["ffn_in"]), model.get_submodule(paths["ffn_out"])
    if len(neurons) == size:
        # Identity activation too: act(x) on the hidden states would be wasted work.
        _set_submodule(model, paths["ffn_in"], nn.Identity())
        _set_submodule(model, paths["ffn_act"], nn.Identity())
        _set_submodule(model, paths["ffn_out"], BiasOnly(ffn_out.bias, ffn_out.out_features))
        return
    keep = kept_indices(size, neurons)
    _set_submodule(model, paths["ffn_in"], keep_output_rows(ffn_in, keep))
    _set_submodule(model, paths["ffn_out"], keep_input_columns(ffn_out, keep))


def plan_to_json(mode: ShrinkMode, plan: list[BlockShrink]) -> dict[str, Any]:
    return {
        "mode": mode,
        "dropped_heads": sum(len(p.heads) for p in plan),
        "dropped_neurons": sum(len(p.neurons) for p in plan),
        "blocks": [asdict(p) for p in plan],
    }


__all__ = [
    "BiasOnly",
    "BiasOnlyAttention",
    "BlockShrink",
    "PassThroughAttention",
    "PrunedSelfAttention",
    "ShrinkMode",
    "attention_output_count",
    "head_channels",
    "keep_input_columns",
    "keep_output_rows",
    "kept_indices",
    "plan_shrink",
    "plan_to_json",
    "shrink_model",
]
