"""Physically drop masked heads and FFN neurons from a torch model before export.

OpenVINO's pruning pass removes zero structure by itself for some architectures, but not heads
where its converter fuses attention, and not at all when a whole block is masked (it throws shape
errors or leaves zero-sized tensors the CPU plugin rejects; DESIGN.md). Those cases are shrunk
here, torch-side, so the IR never sees them:

- some heads of a block: the attention module's own HF `prune_heads` (slices Q/K/V rows and the
  output-projection columns, updates the head count);
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
from transformers.pytorch_utils import prune_linear_layer

from ov_movement.deploy.shrink_qat import slice_linear, weight_quantizers
from ov_movement.deploy.structure import ModelStructure, arch_spec
from ov_movement.errors import StageError

ShrinkMode = Literal["auto", "always", "never"]


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
        dropped = set(heads)
        kept = [h for h in range(num_heads) if h not in dropped]
        index = torch.tensor([h * head_dim + i for h in kept for i in range(head_dim)], dtype=torch.long)
        self.q_proj = prune_linear_layer(attention.q_proj, index, dim=0)
        self.k_proj = prune_linear_layer(attention.k_proj, index, dim=0)
        self.v_proj = prune_linear_layer(attention.v_proj, index, dim=0)
        self.out_proj = prune_linear_layer(attention.out_proj, index, dim=1)
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

    `auto` drops whole masked blocks (OpenVINO cannot remove them) and the structure OpenVINO's
    pass keeps for this architecture; everything else is left to the pruning transformation.
    """
    if mode == "never":
        return []
    spec = arch_spec(structure.model_type)
    model_type = structure.model_type
    plan = []
    for block in structure.blocks:
        item = BlockShrink(block.index, block.path)
        if block.masked_heads:
            reason = _shrink_reason(
                mode, block.all_heads_masked, spec.ov_removes_heads, "heads", "heads", model_type
            )
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
        return f"OpenVINO keeps masked {kind} of {model_type}"
    return None


def _set_submodule(model: nn.Module, path: str, module: nn.Module) -> None:
    parent, _, name = path.rpartition(".")
    setattr(model.get_submodule(parent) if parent else model, name, module)


def shrink_model(model: nn.Module, structure: ModelStructure, plan: list[BlockShrink]) -> nn.Module:
    """Apply `plan` to `model` in place (the structure must describe this, unshrunk, model)."""
    spec = arch_spec(structure.model_type)
    blocks = {b.index: b for b in structure.blocks}
    with torch.no_grad():
        for item in plan:
            block = blocks[item.index]
            if item.heads:
                _drop_heads(model, block, item.heads, spec)
            if item.neurons:
                _drop_neurons(model, block.paths, item.neurons, block.intermediate_size)
    return model


def _drop_heads(model: nn.Module, block: Any, heads: list[int], spec: Any) -> None:
    paths, num_heads = block.paths, block.num_heads
    out_proj = model.get_submodule(paths["o"])
    if len(heads) == num_heads:
        if (
            spec.attention_core is not None
        ):  # BERT-like: core (Q/K/V, softmax) then a separate output projection
            _set_submodule(model, paths["attention_core"], PassThroughAttention())
            _set_submodule(model, paths["o"], BiasOnly(out_proj.bias, out_proj.out_features))
        else:
            replacement = BiasOnlyAttention(out_proj.bias, out_proj.out_features, spec.attention_outputs)
            _set_submodule(model, paths["attention"], replacement)
        return
    attention = model.get_submodule(paths["attention"])
    if any(weight_quantizers(m) for m in attention.modules()):  # prune_heads rebuilds the Linears
        raise StageError(
            "dropping single heads of a quantization-aware model torch-side would lose its weight "
            "quantizers; leave them to OpenVINO (export.shrink: auto)"
        )
    if hasattr(attention, "prune_heads"):
        attention.prune_heads(list(heads))
        return
    if spec.attention_core is None and all(
        hasattr(attention, n) for n in ("q_proj", "k_proj", "v_proj", "out_proj")
    ):
        replacement = PrunedSelfAttention(
            attention, list(heads), num_heads, block.head_dim, spec.attention_outputs
        )
        _set_submodule(model, paths["attention"], replacement)
        return
    raise StageError(
        f"dropping single heads of {type(attention).__name__} is not implemented; "
        "set export.shrink: never to leave them to OpenVINO"
    )


def _drop_neurons(model: nn.Module, paths: dict[str, str], neurons: list[int], size: int) -> None:
    ffn_in, ffn_out = model.get_submodule(paths["ffn_in"]), model.get_submodule(paths["ffn_out"])
    if len(neurons) == size:
        # Identity activation too: act(x) on the hidden states would be wasted work.
        _set_submodule(model, paths["ffn_in"], nn.Identity())
        _set_submodule(model, paths["ffn_act"], nn.Identity())
        _set_submodule(model, paths["ffn_out"], BiasOnly(ffn_out.bias, ffn_out.out_features))
        return
    dropped = set(neurons)
    keep = torch.tensor([j for j in range(size) if j not in dropped], dtype=torch.long)
    # In place, weight quantizers included (a QAT model's; prune_linear_layer would drop them).
    slice_linear(ffn_in, keep, dim=0)
    slice_linear(ffn_out, keep, dim=1)


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
    "plan_shrink",
    "plan_to_json",
    "shrink_model",
]
