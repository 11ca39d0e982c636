"""Slicing a Linear layer together with its weight quantizer (the QAT model's torch-side shrink).

HF's `prune_linear_layer` builds a new `nn.Linear` and so silently drops the fake-quantize operation
NNCF attached to the old one: the shrunk model would no longer be the quantization-aware model.
`slice_linear` slices in place instead, and slices each per-channel weight quantizer's scale and
zero point along the same kept indices, so the kept channels keep exactly their quantization grid.
Quantizers of a stripped NNCF model are torch's native `FakeQuantize` (per channel along the
output axis for weights); per-tensor quantizers need nothing.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


def slice_linear(layer: nn.Linear, keep: torch.Tensor, dim: int) -> nn.Linear:
    """Keep only rows (dim 0: output features) or columns (dim 1: input features) `keep` of `layer`,
    in place, weight quantizers included; returns `layer`."""
    keep = keep.to(layer.weight.device)
    with torch.no_grad():
        layer.weight = nn.Parameter(layer.weight.index_select(dim, keep).clone(), layer.weight.requires_grad)
        if layer.bias is not None and dim == 0:
            layer.bias = nn.Parameter(layer.bias[keep].clone(), layer.bias.requires_grad)
        for quantizer in weight_quantizers(layer):
            slice_quantizer(quantizer, keep, dim)
    if dim == 0:
        layer.out_features = len(keep)
    else:
        layer.in_features = len(keep)
    return layer


def weight_quantizers(layer: nn.Module) -> list[Any]:
    """The fake-quantize operations NNCF runs on `layer`'s weight before its forward (none for nn.Linear)."""
    pre_ops = getattr(layer, "pre_ops", None) or {}
    return [op.op for op in pre_ops.values() if hasattr(getattr(op, "op", None), "scale")]


def slice_quantizer(quantizer: Any, keep: torch.Tensor, dim: int) -> None:
    """Slice a per-channel quantizer's scale and zero point along `dim` to `keep` (no-op otherwise)."""
    axis = getattr(quantizer, "ch_axis", None)
    scale = quantizer.scale
    if axis is None or axis != dim or scale.numel() <= 1:
        return  # per-tensor, or per channel along the other axis: the kept channels' grid is unchanged
    if len(keep) and int(keep.max()) >= scale.shape[0]:
        raise ValueError(f"a quantizer of {scale.shape[0]} channels cannot keep channel {int(keep.max())}")
    index = keep.to(scale.device)
    quantizer.scale = scale[index].clone()
    quantizer.zero_point = quantizer.zero_point[index].clone()


__all__ = ["slice_linear", "slice_quantizer", "weight_quantizers"]
