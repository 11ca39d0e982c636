"""convert: ONNX -> dense and pruned OpenVINO IR, verified equivalent, with size/shape stats.

- `dense.xml/.bin`: `ov.convert_model(model.onnx)`, no pruning: the baseline with the original
  shapes. Verified against ONNX Runtime on export's `samples.npz`.
- `pruned.xml/.bin`: OpenVINO's pruning transformation (static reshape, MOC, pruning, cleanup,
  back to dynamic) on `model_shrunk.onnx` when export shrank torch-side, else on `model.onnx`.
  Verified against the dense IR on the samples and, when dynamic, on a batch 1 / seq 16 slice.
- `stats.json`: sizes, parameters, linear FLOPs per token, per-MatMul shapes, removal efficiency
  (final, and OpenVINO's pass alone on `model.onnx`), verification results.
- `pruned_qat.xml/.bin` (JPQD, when export wrote `model_qat.onnx`): the quantization-aware model,
  weights folded to INT8, then the same pruning pass. Checked like `pruned.xml` for removal, plus
  the count of INT8 weight MatMuls and its agreement with the QAT torch model's predictions on the
  whole eval split (`stats.json` `pruned_qat`); below `QAT_MIN_AGREEMENT` the stage fails.

All checks compile with f32 inference precision (this CPU defaults to bf16).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ov_movement.benchmarking.variants import DENSE, IR_STATS_FILE, PRUNED, PRUNED_QAT, VARIANTS
from ov_movement.errors import StageError
from ov_movement.metrics import class_predictions
from ov_movement.pause_points import pause_point
from ov_movement.stages.base import StageContext, StageResult
from ov_movement.stages.export import (
    ONNX_FILE,
    QAT_ONNX,
    QAT_REFERENCE,
    SAMPLES_FILE,
    SHRINK_FILE,
    SHRUNK_ONNX,
)

if TYPE_CHECKING:
    from ov_movement.config.pipeline import ConvertConfig

log = logging.getLogger(__name__)


# The IRs this stage writes: their names are the variants table's (benchmark and report read it).
STATS_FILE = IR_STATS_FILE
DENSE_XML = VARIANTS[DENSE].file
PRUNED_XML = VARIANTS[PRUNED].file


def run(ctx: StageContext) -> StageResult:
    from ov_movement.tasks import get_task

    return build_irs(
        ctx.input("export"), ctx.output_dir, ctx.config.convert, task=get_task(ctx.config.model.task)
    )


def build_irs(export_dir: Path, out_dir: Path, cfg: ConvertConfig, *, task: Any = None) -> StageResult:
    """`task` (tasks.get_task): its metrics score pruned_qat.xml (only needed for JPQD exports)."""
    from ov_movement.deploy import stats

    out_dir.mkdir(parents=True, exist_ok=True)
    exported = _Exported.read(export_dir, cfg)
    check = _Checks(cfg.atol)
    dense, dense_compiled = _dense_ir(exported, check)
    pruned, feeds = _pruned_ir(exported, cfg, dense_compiled, check)

    matmuls = stats.weight_matmuls(dense), stats.weight_matmuls(pruned)
    reference_names = stats.onnx_matmul_names(exported.onnx_path)
    structure = exported.structure
    removal = stats.removal_efficiency(structure, matmuls[1], reference_names) if structure else None
    ov_only = removal
    if structure and exported.pruned_source != exported.onnx_path:
        ov_only = _openvino_only_removal(exported.onnx_path, cfg, structure, reference_names)

    _save_irs(dense, pruned, out_dir, cfg, feeds[0], check)
    result = _ir_stats(exported, dense, pruned, out_dir) | {
        "removal_efficiency": _fractions(removal),
        "removal_efficiency_openvino_only": _fractions(ov_only),
        "removal_detail": removal,
        "matmuls": stats.matmul_table(*matmuls),
        "matmul_shape_convention": "[out_features, in_features]",
        "compress_to_fp16": cfg.compress_to_fp16,
        "inference_precision": "f32",
        "verification": [r.to_json() for r in check.reports],
    }
    if (export_dir / QAT_ONNX).exists():
        result["pruned_qat"] = _build_qat(export_dir, out_dir, cfg, structure, reference_names, task)
    (out_dir / STATS_FILE).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")

    return _stage_result(result, check.reports)


@dataclass(frozen=True)
class _Exported:
    """What convert reads of export's output."""

    onnx_path: Path
    pruned_source: Path  # model_shrunk.onnx when export shrank torch-side, else model.onnx
    samples: dict[str, np.ndarray]  # the first cfg.verify_samples of samples.npz
    structure: Any  # deploy.structure.ModelStructure of the masks (None: shrink.json has none)

    @classmethod
    def read(cls, export_dir: Path, cfg: ConvertConfig) -> _Exported:
        from ov_movement.deploy.structure import ModelStructure

        onnx_path = export_dir / ONNX_FILE
        shrunk_path = export_dir / SHRUNK_ONNX
        with np.load(export_dir / SAMPLES_FILE) as npz:
            samples = {k: npz[k][: cfg.verify_samples] for k in npz.files}
        shrink_info = json.loads((export_dir / SHRINK_FILE).read_text(encoding="utf-8"))
        structure = (
            ModelStructure.from_json(shrink_info["structure"]) if shrink_info.get("structure") else None
        )
        return cls(onnx_path, shrunk_path if shrunk_path.exists() else onnx_path, samples, structure)

    @property
    def where(self) -> str:
        """The samples' description in verification reports."""
        first = next(iter(self.samples.values()))
        return f"{len(first)} samples, seq {first.shape[1]}"


@dataclass
class _Checks:
    """Output comparisons, all kept for stats.json; a failing one stops the stage."""

    atol: float
    reports: list = field(default_factory=list)

    def __call__(self, reference, candidate, artefact: str, reference_label: str, inputs: str) -> None:
        from ov_movement.deploy.verify import compare_outputs

        report = compare_outputs(
            reference,
            candidate,
            atol=self.atol,
            artefact=artefact,
            reference_label=reference_label,
            inputs=inputs,
        )
        self.reports.append(report)
        report.raise_if_failed()  # after logging: every output's ✓/✗ is shown first


def _dense_ir(exported: _Exported, check: _Checks) -> tuple[Any, Any]:
    """dense: convert_model(model.onnx), checked against ONNX Runtime; the model and its f32 compile."""
    from ov_movement.deploy import ir
    from ov_movement.deploy.onnx_export import onnx_outputs

    onnx_path, samples = exported.onnx_path, exported.samples
    log.info("dense IR: convert_model(%s)", onnx_path.name)
    dense = ir.convert_dense(onnx_path)
    dense_compiled = ir.compile_f32(dense)
    check(
        onnx_outputs(onnx_path, samples),
        ir.infer(dense_compiled, samples),
        "dense IR",
        ONNX_FILE,
        exported.where,
    )
    return dense, dense_compiled


def _pruned_ir(
    exported: _Exported, cfg: ConvertConfig, dense_compiled: Any, check: _Checks
) -> tuple[Any, list]:
    """pruned: OpenVINO's pruning transformation, checked against the dense IR on every verification
    feed; the model and the feeds."""
    from ov_movement.deploy import ir

    source = exported.pruned_source
    log.info(
        "pruned IR: pruning transformation on %s (static %dx%d)", source.name, cfg.batch_size, cfg.seq_length
    )
    pruned = _prune(source, cfg)
    try:
        pruned_compiled = ir.compile_f32(pruned)
    except RuntimeError as exc:  # e.g. zero-sized tensors left by a fully masked block
        first = str(exc).strip().splitlines()[0][:300]
        raise StageError(f"the pruned IR does not compile on CPU: {first}{_hint(source)}") from exc
    feeds = _verification_feeds(pruned, exported.samples, exported.where)
    for feed, label in feeds:
        check(ir.infer(dense_compiled, feed), ir.infer(pruned_compiled, feed), "pruned IR", "dense IR", label)
    return pruned, feeds


def _save_irs(
    dense: Any, pruned: Any, out_dir: Path, cfg: ConvertConfig, feed: tuple, check: _Checks
) -> None:
    """dense.xml and pruned.xml; compressed to fp16, the saved pair is checked again on `feed`."""
    from ov_movement.deploy import ir

    ir.save_ir(dense, out_dir / DENSE_XML, compress_to_fp16=cfg.compress_to_fp16)
    pause_point("convert", "dense-ir")
    ir.save_ir(pruned, out_dir / PRUNED_XML, compress_to_fp16=cfg.compress_to_fp16)
    if cfg.compress_to_fp16:  # the saved IRs now differ from the checked ones: check them again
        saved = [ir.compile_f32(out_dir / name) for name in (DENSE_XML, PRUNED_XML)]
        inputs, label = feed
        check(
            ir.infer(saved[0], inputs),
            ir.infer(saved[1], inputs),
            f"{PRUNED_XML} (fp16)",
            f"{DENSE_XML} (fp16)",
            label,
        )


def _ir_stats(exported: _Exported, dense: Any, pruned: Any, out_dir: Path) -> dict[str, Any]:
    """stats.json's comparison of the saved IRs: sizes, inputs, linear FLOPs, masked structure."""
    from ov_movement.deploy import ir, stats

    dense_sum = stats.ir_summary(dense, out_dir / DENSE_XML)
    pruned_sum = stats.ir_summary(pruned, out_dir / PRUNED_XML)
    return {
        "dense": dense_sum | {"source": exported.onnx_path.name, "inputs": ir.input_partial_shapes(dense)},
        "pruned": pruned_sum
        | {"source": exported.pruned_source.name, "inputs": ir.input_partial_shapes(pruned)},
        "flop_bound_speedup": _ratio(
            dense_sum["linear_flops_per_token"], pruned_sum["linear_flops_per_token"]
        ),
        "size_ratio": _ratio(pruned_sum["bin_bytes"], dense_sum["bin_bytes"]),
        "masked": _masked_summary(exported.structure),
    }


def _verification_feeds(pruned: Any, samples: dict[str, np.ndarray], where: str) -> list[tuple[Any, str]]:
    """The inputs the pruned IR is checked on: the samples fitted to a static IR's shape, or the
    samples and a second shape (batch 1, a shorter sequence) proving the dynamic axes survived."""
    from ov_movement.deploy.verify import fit_inputs

    names = list(samples)
    if all(inp.get_partial_shape().is_static for inp in pruned.inputs):
        shape = pruned.inputs[0].get_partial_shape().to_shape()
        return [(fit_inputs(samples, names, shape[0], shape[1]), f"static {shape[0]}x{shape[1]}")]
    first = samples[names[0]]
    # Audio (float [N, T]): half the clip (16 samples is below Wav2Vec2's receptive field).
    seq = max(1, first.shape[1] // 2) if first.dtype.kind == "f" else min(16, first.shape[1])
    label = "batch 1" if first.ndim != 2 else f"batch 1, seq {seq}"
    return [(samples, where), (fit_inputs(samples, names, 1, seq), label)]


def _stage_result(result: dict[str, Any], reports: list) -> StageResult:
    """The stage's metrics and summary line from stats.json's content."""
    metrics = {
        "dense_bin_bytes": result["dense"]["bin_bytes"],
        "pruned_bin_bytes": result["pruned"]["bin_bytes"],
        "flop_bound_speedup": result["flop_bound_speedup"],
        "removal_efficiency": result["removal_efficiency"],
        "removal_efficiency_openvino_only": result["removal_efficiency_openvino_only"],
        "max_abs_diff": max(r.max_abs_diff or 0.0 for r in reports),
    }
    summary = (
        f".bin {result['dense']['bin_bytes'] / 1e6:.2f} MB -> {result['pruned']['bin_bytes'] / 1e6:.2f} MB, "
        f"linear FLOPs x{result['flop_bound_speedup']:.2f} fewer"
    )
    if "pruned_qat" in result:
        qat = result["pruned_qat"]
        metrics |= {
            "pruned_qat_bin_bytes": qat["bin_bytes"],
            "pruned_qat_quantized_matmuls": qat["quantized_matmuls"],
            "pruned_qat_agreement": qat["agreement"],
            "pruned_qat_accuracy": qat["accuracy"],
            "pruned_qat_removal_efficiency": qat["removal_efficiency"],
        }
        summary += (
            f"; pruned_qat.xml {qat['bin_bytes'] / 1e6:.2f} MB, {qat['quantized_matmuls']} INT8 MatMuls, "
            f"agrees with the QAT model on {qat['agreement']:.2%} of {qat['eval_samples']} eval samples"
        )
    return StageResult(metrics=metrics, summary=summary)


QAT_XML = VARIANTS[PRUNED_QAT].file
# The INT8 IR must predict what the quantization-aware torch model predicts on the eval split.
QAT_MIN_AGREEMENT = 0.99


def _build_qat(
    export_dir: Path, out_dir: Path, cfg: ConvertConfig, structure, reference_names, task
) -> dict[str, Any]:
    """pruned_qat.xml from model_qat.onnx: INT8 weights, pruning pass, agreement with the QAT model."""
    from ov_movement.deploy import ir, stats

    source = export_dir / QAT_ONNX
    log.info("pruned QAT IR: INT8 weights + pruning transformation on %s", source.name)
    try:
        model = ir.prune_ir(
            source, batch=cfg.batch_size, seq=cfg.seq_length, keep_dynamic=cfg.keep_dynamic, quantized=True
        )
        compiled = ir.compile_f32(model)
    except (StageError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[0][:300]
        raise StageError(f"the pruned INT8 (QAT) IR: {first}") from exc
    agreement = _qat_agreement(compiled, export_dir / QAT_REFERENCE, model, task)
    if agreement["agreement"] < QAT_MIN_AGREEMENT:
        raise StageError(
            f"{QAT_XML} predicts what the quantization-aware torch model predicts on only "
            f"{agreement['agreement']:.2%} of {agreement['eval_samples']} eval samples (needs "
            f"{QAT_MIN_AGREEMENT:.0%}): the INT8 conversion changed the model"
        )
    ir.save_ir(
        model, out_dir / QAT_XML, compress_to_fp16=False
    )  # INT8 weights; fp16 would touch only the rest
    matmuls = stats.weight_matmuls(model)
    removal = stats.removal_efficiency(structure, matmuls, reference_names) if structure else None
    return stats.ir_summary(model, out_dir / QAT_XML) | {
        "source": source.name,
        "inputs": ir.input_partial_shapes(model),
        "quantized_matmuls": stats.quantized_matmuls(model),
        "weight_matmuls": len(matmuls),
        "removal_efficiency": _fractions(removal),
        "removal_detail": removal,
        "inference_precision": "f32 activations requested; INT8 where the IR quantizes",
        **agreement,
    }


def _qat_agreement(compiled, reference_path: Path, model, task) -> dict[str, Any]:
    """Share of eval samples where the IR's prediction equals the QAT torch model's; both accuracies."""
    from ov_movement.deploy import ir
    from ov_movement.deploy.verify import fit_inputs

    with np.load(reference_path) as npz:
        reference = {k: npz[k] for k in npz.files}
    logits, labels = reference.pop("logits"), reference.pop("labels")
    names = list(reference)
    static = all(inp.get_partial_shape().is_static for inp in model.inputs)
    batch = model.inputs[0].get_partial_shape()[0].get_length() if static else 64
    outputs = []
    for start in range(0, len(labels), batch):
        chunk = {n: a[start : start + batch] for n, a in reference.items()}
        size = len(chunk[names[0]])
        if static:
            chunk = fit_inputs(chunk, names, batch, reference[names[0]].shape[1])
        outputs.append(ir.infer(compiled, chunk)["logits"][:size])
    predicted = np.concatenate(outputs)
    predict = task.predictions if task is not None else class_predictions  # QA: start/end positions
    torch_pred, ir_pred = predict(logits), predict(predicted)
    agree = np.all(torch_pred == ir_pred, axis=tuple(range(1, torch_pred.ndim)))
    return {
        "eval_samples": int(len(labels)),
        "agreement": float(agree.mean()),
        "accuracy": task.metrics(predicted, labels)["accuracy"] if task is not None else None,
        "qat_torch_accuracy": task.metrics(logits, labels)["accuracy"] if task is not None else None,
        "agreement_threshold": QAT_MIN_AGREEMENT,
    }


def _prune(source: Path, cfg: ConvertConfig):
    from ov_movement.deploy import ir

    try:
        return ir.prune_ir(source, batch=cfg.batch_size, seq=cfg.seq_length, keep_dynamic=cfg.keep_dynamic)
    except StageError as exc:
        raise StageError(f"{exc}{_hint(source)}") from exc


def _hint(source: Path) -> str:
    if source.name == SHRUNK_ONNX:
        return ""
    return " (set export.shrink: always to drop the masked structure torch-side before export)"


def _openvino_only_removal(onnx_path: Path, cfg: ConvertConfig, structure, reference_names) -> dict[str, Any]:
    """What OpenVINO's pass achieves without the torch-side shrink (a diagnostic; may fail)."""
    from ov_movement.deploy import ir, stats

    try:
        model = ir.prune_ir(onnx_path, batch=cfg.batch_size, seq=cfg.seq_length, keep_dynamic=False)
    except StageError as exc:
        log.info("without the torch-side shrink: %s", exc)
        return {"attention_heads": None, "ffn_neurons": None, "error": str(exc)}
    return stats.removal_efficiency(structure, stats.weight_matmuls(model), reference_names)


def _fractions(removal: dict[str, Any] | None) -> dict[str, Any] | None:
    if removal is None:
        return None
    keys = ("attention_heads", "ffn_neurons", "error", "unmatched")
    return {k: removal[k] for k in keys if k in removal}


def _masked_summary(structure) -> dict[str, int] | None:
    if structure is None:
        return None
    return {
        "heads": structure.masked_heads,
        "total_heads": structure.total_heads,
        "ffn_neurons": structure.masked_neurons,
        "total_ffn_neurons": structure.total_neurons,
    }


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a and b else None


__all__ = ["QAT_MIN_AGREEMENT", "QAT_XML", "build_irs", "run"]
