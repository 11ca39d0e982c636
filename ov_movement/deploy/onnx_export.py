"""ONNX export with explicit names and axes, ONNX Runtime inference, torch reference outputs.

Uses the TorchScript exporter (`dynamo=False`): torch 2.13's default exporter needs `onnxscript`,
which is not a dependency, and it names nodes differently; the TorchScript exporter keeps module
scopes in node names (`/model/bert/encoder/layer.0/attention/self/query/MatMul`), which survive
into the OpenVINO IR and let `stats` map IR MatMuls back to torch modules.

NNCF's own exporter is not used: it names inputs `input.0, input.1, ...` in an order that is not
`input_info`'s, gives static shapes only, and fails on Swin whose window is at least the last
stage's resolution, as in swin-tiny (`TypeError: len() of a 0-d tensor` from its wrapped
`torch.tensor` in `SwinLayer.set_shift_and_window_size`; docs/design.md). The plain model rebuilt from
the checkpoint exports fine, even with NNCF's operator patching active in the process
(tests/test_architectures.py checks both).
"""

from __future__ import annotations

import inspect
import logging
import re
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ov_movement.errors import StageError

# Canonical order of model inputs; only those the model's forward accepts are exported.
log = logging.getLogger(__name__)

# The newest opset the pinned ONNX Runtime and OpenVINO read; an export never goes past it.
MAX_OPSET = 20

INPUT_ORDER = ("input_ids", "attention_mask", "token_type_ids", "pixel_values", "input_values")
OUTPUT_NAMES = ("logits",)


class LogitsModel(nn.Module):
    """Positional inputs in a fixed order -> logits: what the exporter traces."""

    def __init__(self, model: nn.Module, input_names: list[str]):
        super().__init__()
        self.model = model
        self.input_names = input_names

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self.model(**dict(zip(self.input_names, inputs, strict=True))).logits


def model_input_names(model: nn.Module, available: Mapping[str, object]) -> list[str]:
    """The inputs to export: those present in `available` that `model.forward` accepts, in order."""
    accepted = inspect.signature(model.forward).parameters
    names = [n for n in INPUT_ORDER if n in available and n in accepted]
    if not names:
        raise StageError(
            f"none of the inputs {sorted(available)} is accepted by {type(model).__name__}.forward"
        )
    return names


def torch_outputs(model: nn.Module, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    names = model_input_names(model, inputs)
    with torch.no_grad():
        logits = LogitsModel(model, names)(*(torch.from_numpy(inputs[n]) for n in names))
    return {"logits": logits.float().numpy()}


def export_onnx(
    model: nn.Module,
    inputs: Mapping[str, np.ndarray],
    path: Path,
    *,
    opset: int = 17,
    dynamic: bool = True,
) -> list[str]:
    """Export `model` (eval, CPU) to `path` and run `onnx.checker`; returns the input names.

    `inputs` are example arrays; with `dynamic=False` their shapes become the model's shapes.
    """
    import onnx

    names = model_input_names(model, inputs)
    args = tuple(torch.from_numpy(np.ascontiguousarray(inputs[n])) for n in names)
    axes = None
    if dynamic:  # [batch, sequence] for tokens and audio; images keep their size: [batch, C, H, W]
        axes = {
            n: {0: "batch", 1: "sequence"} if a.dim() == 2 else {0: "batch"}
            for n, a in zip(names, args, strict=True)
        }
        # Per-token logits (question answering's start/end) say so in `output_axes`.
        output_axes = dict(getattr(model, "output_axes", {0: "batch"}))
        axes |= {o: output_axes for o in OUTPUT_NAMES}
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        _torch_export(model, names, args, path, axes, opset)
    except torch.onnx.errors.UnsupportedOperatorError as exc:
        # transformers 5 builds BERT's attention mask with `aten::bitwise_and` (ONNX opset 18) on
        # some traced paths (NNCF-wrapped quantization-aware models): use the opset torch names.
        needed = re.search(r"added in version (\d+)", str(exc))
        if not needed or not opset < int(needed.group(1)) <= MAX_OPSET:
            raise
        log.warning(
            "%s: opset %d lacks an operator (%s); exporting at opset %s", path.name, opset, exc, needed[1]
        )
        _torch_export(model, names, args, path, axes, int(needed.group(1)))
    try:
        onnx.checker.check_model(str(path))  # by path: also works for models with external data
    except onnx.checker.ValidationError as exc:
        raise StageError(f"{path.name} fails onnx.checker: {exc}") from exc
    return names


def _torch_export(model, names, args, path: Path, axes, opset: int) -> None:
    with warnings.catch_warnings():
        # TracerWarnings from HF shape checks and the TorchScript exporter's deprecation notice.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            LogitsModel(model, names).eval(),
            args,
            str(path),
            input_names=names,
            output_names=list(OUTPUT_NAMES),
            dynamic_axes=axes,
            opset_version=opset,
            do_constant_folding=True,
            dynamo=False,
        )


def onnx_input_names(path: Path) -> list[str]:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return [i.name for i in session.get_inputs()]


def onnx_outputs(path: Path, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Run the ONNX model with ONNX Runtime (CPU, f32) on the inputs it declares."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feed = {i.name: inputs[i.name] for i in session.get_inputs()}
    return dict(zip((o.name for o in session.get_outputs()), session.run(None, feed), strict=True))


__all__ = [
    "INPUT_ORDER",
    "LogitsModel",
    "OUTPUT_NAMES",
    "export_onnx",
    "model_input_names",
    "onnx_input_names",
    "onnx_outputs",
    "torch_outputs",
]
