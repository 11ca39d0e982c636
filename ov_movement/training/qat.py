"""The quantization-aware (JPQD) model of a mask checkpoint, ready for ONNX export.

NNCF's model is rebuilt from the checkpoint's compression state and weights, then:
1. every movement-sparsity mask is multiplied into its weight and bias and the mask operation is
   removed, so the exported weights are exact zeros there (OpenVINO's pruning pass finds them in
   the int8 constants; a quantizer maps 0 to 0 since NNCF's zero point is an integer);
2. NNCF's quantizers become torch's native fake-quantize operations (`ctrl.strip()`), which the
   TorchScript exporter writes as standard QuantizeLinear/DequantizeLinear pairs.
The model is exported with the project's own exporter (named inputs, dynamic axes), never with
`ctrl.export_model` (NNCF's custom FakeQuantize op, static shapes, `input.N` names).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import torch

from ov_movement.errors import StageError


def load_qat_model(config: Any, checkpoint_dir: Path, config_dir: Path) -> torch.nn.Module:
    """NNCF model of a JPQD checkpoint: masks baked in, quantizers as torch fake-quantize, eval, CPU."""
    model, quantization = load_qat_network(config, checkpoint_dir, config_dir)
    with torch.no_grad():
        quantization.strip_model(quantization.model, do_copy=False)
    return model


def load_qat_network(config: Any, checkpoint_dir: Path, config_dir: Path) -> tuple[torch.nn.Module, Any]:
    """(model, NNCF's QuantizationController) of a JPQD checkpoint, masks baked in, eval, CPU, float32.

    The model is the HF model whose compressed part is NNCF's network (heads outside it included)."""
    from ov_movement.models import build_model, load_processor, model_input_names
    from ov_movement.tasks import get_task
    from ov_movement.training.checkpoint import load_checkpoint
    from ov_movement.training.nncf_setup import compress, ensure_nncf, nncf_config_dict

    if config.quantization is None:
        raise RuntimeError("load_qat_network needs a config with a quantization section")
    ensure_nncf()  # before the model is built
    checkpoint = load_checkpoint(Path(checkpoint_dir), training_state=False)
    meta = checkpoint.meta
    processor = load_processor(config.model, config_dir)
    input_names = model_input_names(config.model, config_dir, processor)
    model = build_model(
        config.model,
        config_dir,
        num_labels=int(meta["num_labels"]),
        label_names=meta.get("label_names"),
        processor=processor,
        load_weights=False,
    )
    task = get_task(config.model.task)
    with tempfile.TemporaryDirectory(prefix="ov-movement-nncf-") as log_dir:
        nncf_config = nncf_config_dict(
            config,
            input_info=task.nncf_input_info(input_names, int(meta["max_seq_length"]), processor=processor),
            steps_per_epoch=int(meta["steps_per_epoch"]),
            log_dir=Path(log_dir),
        )
        compressed = compress(model, config, nncf_config, compression_state=checkpoint.compression_state)
    compressed.model.load_state_dict(checkpoint.model_state)
    if compressed.quantization is None:
        raise StageError(f"{checkpoint_dir}: the checkpoint holds no quantizers")
    bake_masks(compressed.ctrl)
    return compressed.model.float().cpu().eval(), compressed.quantization


def bake_masks(movement_ctrl: Any) -> None:
    """Multiply each binary mask into its weight/bias and remove the movement operation."""
    with torch.no_grad():
        for info in movement_ctrl.sparsified_module_info:
            module, operand = info.module, info.operand
            module.weight.mul_(operand.weight_ctx.binary_mask.to(module.weight.dtype))
            if getattr(module, "bias", None) is not None and operand.prune_bias:
                module.bias.mul_(operand.bias_ctx.binary_mask.to(module.bias.dtype))
            for key in [k for k, op in module.pre_ops.items() if op.op is operand]:
                module.remove_pre_forward_operation(key)


__all__ = ["bake_masks", "load_qat_model", "load_qat_network"]
