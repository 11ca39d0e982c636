"""export: the mask stage's checkpoint -> ONNX with exact zeros, verified against torch.

Outputs (in the stage directory):
- `model.onnx`: the masked model with its original shapes (sparsified weights are exact zeros);
  the convert stage's dense baseline and the benchmark's ONNX model.
- `model_shrunk.onnx`: only when `export.shrink` dropped something torch-side (whole masked blocks,
  which OpenVINO cannot remove; with `always`, every masked head/neuron). The convert stage prunes
  this one when present, else `model.onnx`. Shrinking is done here because only this stage has
  the torch model; convert still runs and verifies OpenVINO's pruning pass on either.
- `shrink.json`: the masked structure read from the weights (the reference for removal
  efficiency) and what was dropped torch-side per block, with reasons.
- `verification.json`: per artefact and output, max abs diff vs torch and ok.
- `samples.npz`: the eval inputs used for verification, so convert checks the IRs on the same
  real samples without loading data.
- `model_qat.onnx` (JPQD: `compression` holds `quantization`): the quantization-aware model with
  standard QuantizeLinear/DequantizeLinear pairs (training.qat), verified against that torch model;
  `qat_reference.npz`: the whole eval split's inputs, labels and that torch model's logits, the
  reference convert checks `pruned_qat.xml`'s predictions against. `model.onnx` stays the FP32 model (quantizers left out), so dense.xml, pruned.xml and
  post-training quantization keep their meaning.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ov_movement.benchmarking.variants import ONNX, VARIANTS
from ov_movement.errors import StageError
from ov_movement.stages.base import StageContext, StageResult

if TYPE_CHECKING:
    from torch import nn

    from ov_movement.config.pipeline import ExportConfig

log = logging.getLogger(__name__)


def run(ctx: StageContext) -> StageResult:
    from ov_movement.model_inputs import load_eval_arrays
    from ov_movement.training.checkpoint import load_sparse_model

    cfg = ctx.config.export
    checkpoint = ctx.input("mask") / "checkpoint"
    model = load_sparse_model(ctx.config, checkpoint, ctx.config_dir)
    qat = None
    if ctx.config.quantization is not None:
        from ov_movement.training.qat import load_qat_model

        qat = (
            load_qat_model(ctx.config, checkpoint, ctx.config_dir),
            *load_eval_arrays(ctx.config, ctx.config_dir),
        )
    arrays, _ = load_eval_arrays(ctx.config, ctx.config_dir, limit=cfg.verify_samples)
    return export_model(model, arrays, ctx.output_dir, cfg, qat=qat)


ONNX_FILE = VARIANTS[ONNX].file  # the variants table names it (benchmark reads it)
QAT_ONNX = "model_qat.onnx"
QAT_REFERENCE = "qat_reference.npz"
SHRUNK_ONNX = "model_shrunk.onnx"  # with export.shrink: the masked structure dropped torch-side
SAMPLES_FILE = "samples.npz"  # the verification inputs, convert checks its IRs on them
SHRINK_FILE = "shrink.json"  # the masked structure and what was dropped torch-side
VERIFICATION_FILE = "verification.json"
# Q/DQ opsets: per-channel QuantizeLinear needs 13.
QDQ_MIN_OPSET = 13
# Quantize/dequantize pairs snap activations to a grid: where ONNX Runtime's float accumulation
# differs from torch's in the last bit, a value can round to the neighbouring level, and the logits
# move by a few quantization steps. A step is relative to the activations' range, so the difference
# grows with the logits' magnitude: 0.006 on an untrained MiniLM (logits ~0.1), 0.066 on the trained
# bert-jpqd model (logits up to ~6), 7e-9 on the tiny BERT. The QAT artefacts are checked to
# QAT_RTOL of the largest reference logit (at least QAT_ATOL); what matters, the INT8 IR predicting
# what the QAT model predicts, is checked by convert on the whole eval split.
QAT_ATOL = 0.05
QAT_RTOL = 0.03
EVAL_BATCH = 64


def export_model(
    model: nn.Module,
    arrays: Mapping[str, np.ndarray],
    out_dir: Path,
    cfg: ExportConfig,
    *,
    qat: tuple[nn.Module, Mapping[str, np.ndarray], np.ndarray] | None = None,
) -> StageResult:
    """Everything but loading: export, shrink, verify, write the outputs listed in the module doc.

    `qat`: the quantization-aware model with the whole eval split (inputs, labels), for JPQD."""
    from ov_movement.deploy.onnx_export import export_onnx
    from ov_movement.deploy.shrink import plan_shrink, plan_to_json, shrink_model

    out_dir.mkdir(parents=True, exist_ok=True)
    model.eval()
    names, samples = _verification_samples(model, arrays, cfg)
    where = f"{len(samples[names[0]])} eval samples, seq {samples[names[0]].shape[1]}"

    structure = _structure(model, cfg.shrink)
    export_onnx(model, samples, out_dir / ONNX_FILE, opset=cfg.opset, dynamic=cfg.dynamic_axes)
    reference = _torch(model, samples)
    reports = [_check_onnx(out_dir / ONNX_FILE, samples, reference, cfg.atol, where)]

    plan = plan_shrink(structure, cfg.shrink) if structure else []
    if plan:
        shrunk = shrink_model(copy.deepcopy(model), structure, plan)
        reports.append(_compare(reference, _torch(shrunk, samples), cfg.atol, "shrunk torch model", where))
        export_onnx(shrunk, samples, out_dir / SHRUNK_ONNX, opset=cfg.opset, dynamic=cfg.dynamic_axes)
        reports.append(_check_onnx(out_dir / SHRUNK_ONNX, samples, reference, cfg.atol, where))

    fp32_diff = max(r.max_abs_diff or 0.0 for r in reports)
    qat_reports = []
    if qat is not None:
        qat_reports = _export_qat(*qat, samples, names, out_dir, cfg, where, structure=structure, plan=plan)
    reports += qat_reports

    np.savez(out_dir / SAMPLES_FILE, **samples)
    shrink_info = plan_to_json(cfg.shrink, plan) | {
        "onnx": SHRUNK_ONNX if plan else None,
        "structure": structure.to_json() if structure else None,
    }
    _write_json(out_dir / SHRINK_FILE, shrink_info)
    _write_json(
        out_dir / VERIFICATION_FILE, {"reference": "torch", "reports": [r.to_json() for r in reports]}
    )
    for report in reports:
        report.raise_if_failed()
    return _stage_result(
        cfg, names, structure, plan, shrink_info, fp32_diff, qat_reports if qat is not None else None
    )


def _verification_samples(
    model: nn.Module, arrays: Mapping[str, np.ndarray], cfg: ExportConfig
) -> tuple[list[str], dict[str, np.ndarray]]:
    """The model's input names and the first verify_samples of each (fitted to the static shape
    without dynamic axes): export traces and every check runs on them."""
    from ov_movement.deploy.onnx_export import model_input_names
    from ov_movement.deploy.verify import fit_inputs

    names = model_input_names(model, arrays)
    samples = {  # token ids as int64; pixel_values / input_values stay float32
        n: np.ascontiguousarray(
            arrays[n][: cfg.verify_samples],
            dtype=np.int64 if np.issubdtype(arrays[n].dtype, np.integer) else np.float32,
        )
        for n in names
    }
    if not cfg.dynamic_axes:
        samples = fit_inputs(samples, names, cfg.static_batch_size, cfg.static_seq_length)
    return names, samples


def _stage_result(
    cfg: ExportConfig, names, structure, plan, shrink_info: dict[str, Any], fp32_diff: float, qat_reports
) -> StageResult:
    """The stage's metrics and summary line (`qat_reports`: None without a QAT model)."""
    metrics: dict[str, Any] = {
        "opset": cfg.opset,
        "dynamic_axes": cfg.dynamic_axes,
        "inputs": names,
        "max_abs_diff": fp32_diff,  # the FP32 artefacts; the QAT ones: qat_max_abs_diff
        "shrunk": bool(plan),
        "dropped_heads": shrink_info["dropped_heads"],
        "dropped_neurons": shrink_info["dropped_neurons"],
    }
    if qat_reports is not None:
        metrics["qat_onnx"] = QAT_ONNX
        metrics["qat_max_abs_diff"] = max(r.max_abs_diff or 0.0 for r in qat_reports)
    if structure:
        metrics |= {"masked_heads": structure.masked_heads, "masked_neurons": structure.masked_neurons}
    summary = f"model.onnx (opset {cfg.opset}, max diff {metrics['max_abs_diff']:.2g})"
    if plan:
        summary += (
            f"; shrunk torch-side: {metrics['dropped_heads']} heads, {metrics['dropped_neurons']} FFN neurons"
        )
    return StageResult(metrics=metrics, summary=summary)


def _export_qat(
    qat_model: nn.Module,
    eval_arrays,
    eval_labels,
    samples,
    names,
    out_dir: Path,
    cfg: ExportConfig,
    where: str,
    *,
    structure=None,
    plan=(),
) -> list:
    """model_qat.onnx from the stripped NNCF model (shrunk torch-side by the same plan as the FP32
    model, weight quantizers sliced with the weights), checked with ONNX Runtime on the samples; the
    QAT torch model's logits on the whole eval split kept for convert's agreement check."""
    from ov_movement.deploy.onnx_export import export_onnx
    from ov_movement.deploy.shrink import shrink_model

    inputs = {n: np.ascontiguousarray(eval_arrays[n], dtype=samples[n].dtype) for n in names}
    logits = np.concatenate(
        [
            _torch(qat_model, {n: a[start : start + EVAL_BATCH] for n, a in inputs.items()})["logits"]
            for start in range(0, len(inputs[names[0]]), EVAL_BATCH)
        ]
    )
    np.savez(out_dir / QAT_REFERENCE, labels=np.asarray(eval_labels), logits=logits, **inputs)
    reference = _torch(qat_model, samples)
    atol = qat_tolerance(reference, cfg.atol)
    reports = []
    if plan:
        qat_model = shrink_model(copy.deepcopy(qat_model), structure, plan)
        reports.append(_compare(reference, _torch(qat_model, samples), atol, "shrunk QAT torch model", where))
    opset = max(cfg.opset, QDQ_MIN_OPSET)
    export_onnx(qat_model, samples, out_dir / QAT_ONNX, opset=opset, dynamic=cfg.dynamic_axes)
    return [*reports, _check_onnx(out_dir / QAT_ONNX, samples, reference, atol, where)]


def qat_tolerance(reference: Mapping[str, np.ndarray], atol: float) -> float:
    """The QAT artefacts' tolerance: a few quantization steps, which scale with the outputs."""
    largest = max((float(np.max(np.abs(value))) for value in reference.values() if value.size), default=0.0)
    return max(atol, QAT_ATOL, QAT_RTOL * largest)


def _structure(model: nn.Module, mode: str):
    from ov_movement.deploy.structure import ARCHITECTURES, find_masked_structure

    model_type = getattr(getattr(model, "config", None), "model_type", None)
    if model_type not in ARCHITECTURES:
        # Export still works; only shrinking and removal efficiency need the structure table.
        log.warning("no structure table for model_type %r: no shrink, no removal efficiency", model_type)
        if mode == "always":
            raise StageError(f"export.shrink is always, but model_type {model_type!r} has no structure table")
        return None
    structure = find_masked_structure(model)
    log.info(
        "masked structure: %d/%d heads, %d/%d FFN neurons",
        structure.masked_heads,
        structure.total_heads,
        structure.masked_neurons,
        structure.total_neurons,
    )
    return structure


def _torch(model: nn.Module, samples: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    from ov_movement.deploy.onnx_export import torch_outputs

    return torch_outputs(model, samples)


def _compare(reference, candidate, atol: float, artefact: str, where: str):
    from ov_movement.deploy.verify import compare_outputs

    return compare_outputs(
        reference, candidate, atol=atol, artefact=artefact, reference_label="torch", inputs=where
    )


def _check_onnx(path: Path, samples, reference, atol: float, where: str):
    from ov_movement.deploy.onnx_export import onnx_outputs

    return _compare(reference, onnx_outputs(path, samples), atol, path.name, where)


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


__all__ = ["QAT_ONNX", "QAT_REFERENCE", "export_model", "qat_tolerance", "run"]
