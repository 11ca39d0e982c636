"""OpenVINO IR: the dense baseline, the pruned model, saving, f32 inference.

The pruned path reads the ONNX with `Core.read_model`, not `ov.convert_model`: convert_model fuses
attention into `ScaledDotProductAttention`, and the pruning transformation then cannot see through
it and keeps masked heads. Measured on tiny BERT (openvino 2026.4.1): read_model, reshape to static,
`apply_moc_transformations(cf=False)` keeps MatMul/Softmax attention and the pass removes masked
heads; running MOC with cf=True first (on dynamic shapes) fuses SDPA and heads stay. After pruning,
MOC with cf=True runs once more so the pruned IR gets the same fused attention as the dense one.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import openvino as ov

from ov_movement.errors import StageError

# This CPU infers in bf16 by default (diffs ~1e-3): equivalence checks always ask for f32.
F32_CONFIG = {"INFERENCE_PRECISION_HINT": "f32"}


def canonical_input_names(model: ov.Model) -> ov.Model:
    """Give each input only its ONNX name (`pixel_values`, ...).

    When the graph casts an input to its own type first (CLIP's `pixel_values.to(dtype)`), OpenVINO
    drops the Cast and the input tensor also carries the Cast's output name, which
    `get_any_name()` may return: benchmark_app, accuracy and the checks here then name the input
    wrongly.
    """
    from ov_movement.deploy.onnx_export import INPUT_ORDER

    for inp in model.inputs:
        names = inp.get_names()
        known = [n for n in INPUT_ORDER if n in names]
        if len(known) == 1 and len(names) > 1:
            inp.get_tensor().set_names({known[0]})
    return model


def convert_dense(onnx_path: Path) -> ov.Model:
    """The baseline IR: same shapes as the ONNX model, no pruning."""
    return canonical_input_names(ov.convert_model(str(onnx_path)))


def static_shapes(model: ov.Model, batch: int, seq: int) -> dict[str, list[int]]:
    """Static shapes for the pruning pass: [batch, seq] for token inputs; other dims must be static."""
    shapes = {}
    for inp in model.inputs:
        shape = inp.get_partial_shape()
        if shape.rank.is_dynamic:
            raise StageError(f"input {inp.get_any_name()!r} has a dynamic rank; cannot make it static")
        rank = shape.rank.get_length()
        if rank == 2:
            shapes[inp.get_any_name()] = [batch, seq]
            continue
        rest = [shape[i] for i in range(1, rank)]
        if any(d.is_dynamic for d in rest):
            raise StageError(f"input {inp.get_any_name()!r} {shape}: only batch/sequence may be dynamic")
        shapes[inp.get_any_name()] = [batch] + [d.get_length() for d in rest]
    return shapes


def prune_ir(
    onnx_path: Path, *, batch: int, seq: int, keep_dynamic: bool = True, quantized: bool = False
) -> ov.Model:
    """optimum-intel's sequence: static reshape, MOC(cf=False), pruning, names cleanup, reshape back.

    `quantized` (a QuantizeLinear/DequantizeLinear model, JPQD): the weights' FakeQuantize ops are
    first folded into INT8 constants (`compress_quantize_weights_transformation`); without that the
    pass shrinks weights but not their per-channel quantizer ranges and fails ("FakeQuantize ...
    Argument shapes are inconsistent"). Raises StageError when OpenVINO's pass fails (it does when
    whole blocks are masked).
    """
    from openvino._offline_transformations import (
        apply_fused_names_cleanup,
        apply_moc_transformations,
        apply_pruning_transformation,
        compress_quantize_weights_transformation,
    )

    model = canonical_input_names(ov.Core().read_model(str(onnx_path)))
    original = {inp.get_any_name(): inp.get_partial_shape() for inp in model.inputs}
    if not all(s.is_static for s in original.values()):
        model.reshape(static_shapes(model, batch, seq))
    try:
        if quantized:
            compress_quantize_weights_transformation(model)
        apply_moc_transformations(model, cf=False)
        apply_pruning_transformation(model)
        apply_fused_names_cleanup(model)
        if keep_dynamic:
            model.reshape(original)
        apply_moc_transformations(model, cf=True)
    except RuntimeError as exc:  # OpenVINO raises shape-inference failures as RuntimeError
        first = str(exc).strip().splitlines()[0][:300]
        raise StageError(f"OpenVINO's pruning transformation failed on {onnx_path.name}: {first}") from exc
    return canonical_input_names(model)


def save_ir(model: ov.Model, xml_path: Path, *, compress_to_fp16: bool = False) -> None:
    # save_model compresses to fp16 unless told otherwise: always say it explicitly.
    ov.save_model(model, str(xml_path), compress_to_fp16=compress_to_fp16)


def compile_f32(model: ov.Model | Path, device: str = "CPU") -> ov.CompiledModel:
    source = str(model) if isinstance(model, Path) else model
    return ov.Core().compile_model(source, device, F32_CONFIG)


def _output_name(output: ov.ConstOutput) -> str:
    names = output.get_names()
    return "logits" if "logits" in names else output.get_any_name()


def infer(compiled: ov.CompiledModel, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Run on the inputs the model declares; outputs keyed by their tensor names."""
    feed = {inp.get_any_name(): inputs[inp.get_any_name()] for inp in compiled.inputs}
    result = compiled(feed)
    return {_output_name(out): np.asarray(result[out]) for out in compiled.outputs}


def input_partial_shapes(model: ov.Model) -> dict[str, str]:
    return {inp.get_any_name(): str(inp.get_partial_shape()) for inp in model.inputs}


__all__ = [
    "F32_CONFIG",
    "canonical_input_names",
    "compile_f32",
    "convert_dense",
    "infer",
    "input_partial_shapes",
    "prune_ir",
    "save_ir",
    "static_shapes",
]
