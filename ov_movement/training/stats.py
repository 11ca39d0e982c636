"""Sparsity measured from the binary masks NNCF's movement sparsifiers hold.

Cheap enough to run every optimizer step: counts over the mask tensors only (NNCF's own
`ctrl.statistics()` walks every parameter of the model). Also builds the per-layer and per-block
tables of the mask stage's `sparsity_table.json`.
"""

from __future__ import annotations

import re
from typing import Any

import torch


def _operands(ctrl: Any) -> list[Any]:
    return [info.operand for info in ctrl.sparsified_module_info]


@torch.no_grad()
def linear_sparsity(ctrl: Any) -> float:
    """Fraction of the weights of the sparsified Linear layers that are masked (biases excluded)."""
    masked = total = 0
    for operand in _operands(ctrl):
        mask = operand.weight_ctx.binary_mask
        total += mask.numel()
        masked += mask.numel() - int(torch.count_nonzero(mask))
    return masked / total if total else 0.0


@torch.no_grad()
def masked_elements(ctrl: Any) -> int:
    """Masked weight and bias entries over all sparsified layers."""
    count = 0
    for operand in _operands(ctrl):
        for ctx in (operand.weight_ctx, getattr(operand, "bias_ctx", None) if operand.prune_bias else None):
            if ctx is not None:
                count += ctx.binary_mask.numel() - int(torch.count_nonzero(ctx.binary_mask))
    return count


def model_parameter_count(model: Any) -> int:
    """Parameters of the underlying model, without NNCF's importance scores."""
    return sum(
        p.numel() for name, p in model.named_parameters() if ".pre_ops." not in name and "_nncf" not in name
    )


def module_names(ctrl: Any) -> dict[str, str]:
    """NNCF node name -> torch module path of every sparsified layer."""
    model = ctrl.model
    by_module = {id(module): name for name, module in model.named_modules()}
    return {
        info.module_node_name: by_module.get(id(info.module), "?") for info in ctrl.sparsified_module_info
    }


@torch.no_grad()
def layer_table(ctrl: Any) -> list[dict[str, Any]]:
    """One row per sparsified layer: names, weight shape, structure and masked fractions."""
    names = module_names(ctrl)
    rows = []
    for info in ctrl.sparsified_module_info:
        operand = info.operand
        weight = operand.weight_ctx.binary_mask
        row: dict[str, Any] = {
            "nncf_name": info.module_node_name,
            "module": names[info.module_node_name],
            "weight_shape": list(weight.shape),
            "structure": operand.sparse_structure.value,
            "sparse_factors": list(operand.sparse_factors),
            "weight_sparsity": 1.0 - int(torch.count_nonzero(weight)) / weight.numel(),
        }
        if operand.prune_bias:
            bias = operand.bias_ctx.binary_mask
            row["bias_sparsity"] = 1.0 - int(torch.count_nonzero(bias)) / bias.numel()
        rows.append(row)
    return rows


@torch.no_grad()
def _kept_units(ctx: Any) -> torch.Tensor:
    """Bool per head/neuron: does this layer keep anything of the unit (NNCF's grid logic)."""
    operand = ctx.sparsifier_operand
    mask = operand.weight_ctx.binary_mask
    if ctx.prune_by_row:
        size = ctx.grid_size[0]
        kept = mask.reshape(mask.shape[0] // size, -1).amax(dim=1) > 0
        if operand.prune_bias:
            kept |= operand.bias_ctx.binary_mask.reshape(-1, size).amax(dim=1) > 0
        return kept
    size = ctx.grid_size[1]
    return mask.t().reshape(mask.shape[1] // size, -1).amax(dim=1) > 0


def _block_of(paths: list[str]) -> str:
    """Common module path of a group, cut after its last numeric part (`bert.encoder.layer.3`)."""
    split = [p.split(".") for p in paths]
    common: list[str] = []
    for parts in zip(*split, strict=False):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    numeric = [i for i, part in enumerate(common) if re.fullmatch(r"\d+", part)]
    if numeric:
        common = common[: numeric[-1] + 1]
    return ".".join(common) or "model"


@torch.no_grad()
def block_table(groups: list[Any], ctrl: Any) -> list[dict[str, Any]]:
    """Per transformer block: attention heads and FFN neurons kept/total, from the current masks.

    A unit (head or neuron) counts as kept when any layer of its group keeps part of it, which is
    how NNCF resolves dependent structured masks; after structured masking this is exact.
    """
    names = module_names(ctrl)
    blocks: dict[str, dict[str, Any]] = {}
    for group in groups:
        contexts = group.structured_mask_contexts
        kept = None
        for ctx in contexts:
            units = _kept_units(ctx)
            kept = units if kept is None else (kept | units)
        paths = sorted(names.get(ctx.module_node_name, "?") for ctx in contexts)
        row_ctx = contexts[0]
        unit = int(row_ctx.grid_size[0] if row_ctx.prune_by_row else row_ctx.grid_size[1])
        kind = "attention_heads" if unit > 1 else "ffn_neurons"
        block = blocks.setdefault(_block_of(paths), {"block": _block_of(paths)})
        block[kind] = {
            "kept": int(kept.sum()),
            "total": int(kept.numel()),
            "unit_size": unit,
            "layers": paths,
        }
    return [blocks[key] for key in sorted(blocks, key=_natural_key)]


def _natural_key(text: str) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


@torch.no_grad()
def mask_snapshot(ctrl: Any) -> dict[str, dict[str, torch.Tensor]]:
    """Copies of every sparsified layer's binary masks by module path (weight, and bias if pruned)."""
    names = module_names(ctrl)
    snapshot = {}
    for info in ctrl.sparsified_module_info:
        operand = info.operand
        entry = {"weight": operand.weight_ctx.binary_mask.detach().cpu().clone()}
        if operand.prune_bias:
            entry["bias"] = operand.bias_ctx.binary_mask.detach().cpu().clone()
        snapshot[names[info.module_node_name]] = entry
    return snapshot


__all__ = [
    "block_table",
    "layer_table",
    "linear_sparsity",
    "mask_snapshot",
    "masked_elements",
    "model_parameter_count",
    "module_names",
]
