"""What an IR weighs: per-MatMul weight shapes, parameters, .bin bytes, linear FLOPs, removal.

Removal is measured on the IRs themselves, never on the torch model: a masked structure counts as
removed only when the pruned IR's weight for that projection really lost those channels. IR
MatMuls are mapped to torch modules by the module scope the TorchScript exporter writes into node
names (`/model/bert/encoder/layer.0/attention/self/query/MatMul`); OpenVINO keeps these names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openvino as ov

from ov_movement.deploy.structure import ModelStructure

_FLOAT_TYPES = {ov.Type.f32, ov.Type.f16, ov.Type.bf16, ov.Type.f64}
# Roles whose *output* channels hold a head's / neuron's channels, and those whose *input* channels do.
_HEAD_ROLES = {"q": "out", "k": "out", "v": "out", "o": "in"}
_FFN_ROLES = {"ffn_in": "out", "ffn_out": "in"}


@dataclass(frozen=True)
class WeightShape:
    out_features: int
    in_features: int

    def as_list(self) -> list[int]:  # torch Linear convention: [out, in]
        return [self.out_features, self.in_features]


_INT8_TYPES = {ov.Type.i8, ov.Type.u8}
# Dequantization of a compressed INT8 weight: Constant(i8) -> Convert -> [Subtract zero point] -> Multiply scale.
_DEQUANTIZE = {"Convert", "Subtract", "Multiply"}


def _constant_source(node: ov.Node) -> ov.Node | None:
    # Weights reach MatMul as Constant, Constant -> Convert when stored as fp16, or through the
    # dequantization of an INT8 weight (compress_quantize_weights_transformation's output).
    while node.get_type_name() in _DEQUANTIZE:
        node = node.input_value(0).get_node()
    return node if node.get_type_name() == "Constant" else None


def quantized_matmuls(model: ov.Model) -> int:
    """Weight MatMuls whose weight is stored as an INT8 constant."""
    count = 0
    for op in model.get_ordered_ops():
        if op.get_type_name() != "MatMul":
            continue
        source = _constant_source(op.input_value(1).get_node())
        count += source is not None and source.get_element_type() in _INT8_TYPES
    return count


def weight_matmuls(model: ov.Model) -> dict[str, WeightShape]:
    """MatMuls with a constant 2-D weight, by friendly name, in graph order."""
    found = {}
    for op in model.get_ordered_ops():
        if op.get_type_name() != "MatMul" or _constant_source(op.input_value(1).get_node()) is None:
            continue
        shape = op.input_value(1).get_partial_shape()
        if not shape.is_static or len(shape) != 2:
            continue
        a, b = (d.get_length() for d in shape)
        transposed = bool(op.get_attributes().get("transpose_b", False))
        found[op.get_friendly_name()] = WeightShape(a, b) if transposed else WeightShape(b, a)
    return found


def parameter_count(model: ov.Model) -> int:
    """Elements of all floating-point and INT8 constants (weights, biases, norms, embeddings)."""
    total = 0
    for op in model.get_ops():
        if op.get_type_name() == "Constant" and op.get_element_type() in _FLOAT_TYPES | _INT8_TYPES:
            shape = op.get_output_shape(0)
            total += int(_prod(shape))
    return total


def _prod(shape: Any) -> int:
    result = 1
    for d in shape:
        result *= int(d)
    return result


def linear_flops_per_token(matmuls: dict[str, WeightShape]) -> int:
    """2·in·out per weight MatMul: the cost that scales with tokens (attention scores excluded)."""
    return sum(2 * w.in_features * w.out_features for w in matmuls.values())


def ir_summary(model: ov.Model, xml_path: Path | None = None) -> dict[str, Any]:
    matmuls = weight_matmuls(model)
    bin_path = xml_path.with_suffix(".bin") if xml_path else None
    return {
        "bin_bytes": bin_path.stat().st_size if bin_path and bin_path.exists() else None,
        "parameters": parameter_count(model),
        "linear_flops_per_token": linear_flops_per_token(matmuls),
    }


def matmul_table(dense: dict[str, WeightShape], pruned: dict[str, WeightShape]) -> list[dict[str, Any]]:
    rows = [
        {"name": n, "dense_shape": w.as_list(), "pruned_shape": pruned[n].as_list() if n in pruned else None}
        for n, w in dense.items()
    ]
    rows += [
        {"name": n, "dense_shape": None, "pruned_shape": w.as_list()}
        for n, w in pruned.items()
        if n not in dense
    ]
    return rows


def onnx_scope(module_path: str) -> str:
    """`bert.encoder.layer.0.attention` -> `/bert/encoder/layer.0/attention/` (exporter scope form)."""
    return "/" + re.sub(r"\.(?!\d+(?:\.|$))", "/", module_path) + "/"


def _find(names: Iterable[str], module_path: str) -> str | None:
    scope = onnx_scope(module_path)
    hits = [n for n in names if scope in n]
    return hits[0] if len(hits) == 1 else None


def onnx_matmul_names(onnx_path: Path) -> list[str]:
    """Names of the MatMul/Gemm nodes of an ONNX model (the reference for name mapping)."""
    import onnx

    graph = onnx.load(str(onnx_path), load_external_data=False).graph
    return [n.name for n in graph.node if n.op_type in ("MatMul", "Gemm")]


def removal_efficiency(
    structure: ModelStructure, pruned: dict[str, WeightShape], reference_names: Iterable[str]
) -> dict[str, Any]:
    """Of the masked head/neuron channels, the fraction the pruned IR no longer has.

    Per projection, removed channels = original width (from `structure`) - width in the pruned IR,
    capped at the masked width so that removing unmasked channels never counts. A projection
    absent from the pruned IR lost everything, but only if `reference_names` (the unshrunk ONNX's
    MatMul names) show that the name mapping works for it; otherwise it is listed under
    `unmatched` and left out. The original widths come from `structure`, not from the dense IR:
    OpenVINO's common-subexpression elimination merges identical all-zero Q/K/V projections there.
    Fractions are None when nothing was masked.
    """
    reference_names = list(reference_names)
    totals = {"attention_heads": [0, 0], "ffn_neurons": [0, 0]}  # [removed, masked] channels
    blocks, unmatched = [], []
    for block in structure.blocks:
        row: dict[str, Any] = {"index": block.index, "masked_heads": len(block.masked_heads)}
        row["masked_neurons"] = len(block.masked_neurons)
        for kind, roles, width, masked in (
            (
                "attention_heads",
                _HEAD_ROLES,
                block.num_heads * block.head_dim,
                len(block.masked_heads) * block.head_dim,
            ),
            ("ffn_neurons", _FFN_ROLES, block.intermediate_size, len(block.masked_neurons)),
        ):
            removed_per_role = {}
            for role, side in roles.items():
                if _find(reference_names, block.paths[role]) is None:
                    unmatched.append(block.paths[role])
                    continue
                name = _find(pruned, block.paths[role])
                after = 0 if name is None else _width(pruned[name], side)
                removed = min(max(width - after, 0), masked)
                removed_per_role[role] = removed
                totals[kind][0] += removed
                totals[kind][1] += masked
            row[f"removed_{kind}_channels"] = removed_per_role
        blocks.append(row)
    result: dict[str, Any] = {kind: (r / m if m else None) for kind, (r, m) in totals.items()}
    result["blocks"] = blocks
    if unmatched:
        result["unmatched"] = unmatched
    return result


def _width(weight: WeightShape, side: str) -> int:
    return weight.out_features if side == "out" else weight.in_features


__all__ = [
    "WeightShape",
    "ir_summary",
    "linear_flops_per_token",
    "matmul_table",
    "onnx_matmul_names",
    "onnx_scope",
    "parameter_count",
    "quantized_matmuls",
    "removal_efficiency",
    "weight_matmuls",
]
