"""Which MatMuls of an IR run in INT8: read from the graph, not from what NNCF says it did.

NNCF's OpenVINO backend marks quantized activations with `FakeQuantize` nodes and stores quantized
weights as an INT8 constant followed by its decompression (Convert -> [Subtract] -> Multiply), or
as a FakeQuantize over a float constant before the model is compressed. The CPU plugin runs a MatMul
in INT8 when every input comes from one of these; a MatMul with a plain float input stays in
floating point (NNCF keeps some there on purpose for transformers: e.g. the attention scores'
softmax input).
"""

from __future__ import annotations

from typing import Any

import openvino as ov

_LOW_PRECISION = {ov.Type.i8, ov.Type.u8, ov.Type.i4, ov.Type.u4}
# Operations between a quantizer and the MatMul that do not change the precision the MatMul sees.
_TRANSPARENT = {"Convert", "Reshape", "Transpose", "Squeeze", "Unsqueeze", "Subtract", "Multiply"}
_MAX_HOPS = 6


def _quantized_input(node: ov.Node) -> bool:
    """Whether a MatMul input comes from a FakeQuantize or an INT8/INT4 constant."""
    for _ in range(_MAX_HOPS):
        kind = node.get_type_name()
        if kind == "FakeQuantize":
            return True
        if kind == "Constant":
            return node.get_element_type() in _LOW_PRECISION
        if kind not in _TRANSPARENT:
            return False
        node = node.input_value(0).get_node()
    return False


def _weight_input(op: ov.Node) -> bool:
    """A MatMul whose second input is a constant (possibly decompressed): a linear layer."""
    node = op.input_value(1).get_node()
    for _ in range(_MAX_HOPS):
        kind = node.get_type_name()
        if kind == "Constant":
            return True
        if kind == "FakeQuantize" or kind in _TRANSPARENT:
            node = node.input_value(0).get_node()
            continue
        return False
    return False


def precision_summary(model: ov.Model) -> dict[str, Any]:
    """Counts of quantizers and of MatMuls in INT8 vs floating point, with the floating-point names."""
    fake_quantize = 0
    int8_constants = 0
    quantized: list[str] = []
    float_linear: list[str] = []
    float_other: list[str] = []
    for op in model.get_ordered_ops():
        kind = op.get_type_name()
        if kind == "FakeQuantize":
            fake_quantize += 1
        elif kind == "Constant" and op.get_element_type() in _LOW_PRECISION:
            int8_constants += 1
        elif kind == "MatMul":
            if all(_quantized_input(op.input_value(i).get_node()) for i in range(2)):
                quantized.append(op.get_friendly_name())
            elif _weight_input(op):
                float_linear.append(op.get_friendly_name())
            else:
                float_other.append(op.get_friendly_name())
    return {
        "fake_quantize": fake_quantize,
        "int8_constants": int8_constants,
        "matmuls": len(quantized) + len(float_linear) + len(float_other),
        "matmuls_quantized": len(quantized),
        "matmuls_float": len(float_linear) + len(float_other),
        # Linear layers (constant weight) left in floating point, then activation x activation MatMuls.
        "float_linear_matmuls": float_linear,
        "float_activation_matmuls": float_other,
    }


__all__ = ["precision_summary"]
