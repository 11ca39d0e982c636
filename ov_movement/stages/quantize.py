"""quantize stage: INT8 post-training quantization of convert's IRs with NNCF's OpenVINO backend.

The pruned IR quantized is the product; the dense IR quantized is the yardstick: what a user gets
from one `nncf.quantize` call without this pipeline.

Reads   convert/dense.xml, convert/pruned.xml; the train split (calibration, its first
        quantize.subset_size examples) and the eval split (agreement check; accuracy control),
        encoded exactly as the benchmark's accuracy evaluation encodes them.
Writes  dense_int8.xml/.bin, pruned_int8.xml/.bin and quantize.json: per IR the quantizers and the
        MatMuls in INT8 vs floating point (read from the IR), the operations accuracy control
        reverted, and how often the INT8 IR predicts what its FP32 source predicts on the eval split.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ov_movement.benchmarking.variants import QUANTIZED_FROM, VARIANTS
from ov_movement.errors import StageError
from ov_movement.stages.base import StageContext, StageResult

if TYPE_CHECKING:
    from ov_movement.config.pipeline import QuantizeConfig

SUMMARY_NAME = "quantize.json"


def run(ctx: StageContext) -> StageResult:
    cfg = ctx.config.quantize
    if not cfg.enabled:
        return StageResult(metrics={"enabled": False}, summary="disabled (quantize.enabled: false)")
    from ov_movement.model_inputs import load_eval_arrays, load_split_arrays
    from ov_movement.tasks import get_task

    convert_dir = ctx.input("convert")
    sources = {name: convert_dir / VARIANTS[name].file for name in dict.fromkeys(cfg.models)}
    for path in sources.values():
        if not path.is_file():
            raise StageError(f"quantize: convert output {path.name} is missing ({path})")

    calibration, _ = load_split_arrays(ctx.config, ctx.config_dir, "train", limit=cfg.subset_size)
    eval_inputs, eval_labels = load_eval_arrays(ctx.config, ctx.config_dir)
    task = get_task(ctx.config.model.task)
    rows = len(next(iter(calibration.values())))
    if ctx.progress:
        print(f"  quantize: calibrating on {rows} train examples; {len(eval_labels)} eval examples to check")

    results: dict[str, Any] = {}
    for name, source in sources.items():
        target = VARIANTS[QUANTIZED_FROM[name]]
        started = time.monotonic()
        if ctx.progress:
            print(f"  quantize {name}: {source.name} -> {target.file} (NNCF, this takes a while)")
        model, reverted = quantize_ir(source, calibration, (eval_inputs, eval_labels), cfg, task)
        _save(model, ctx.output_dir / target.file)
        entry = _describe(model, ctx.output_dir / target.file, reverted)
        entry["source"] = f"convert/{source.name}"
        entry["seconds"] = round(time.monotonic() - started, 1)
        entry["eval"] = _compare(ctx, source, ctx.output_dir / target.file, eval_inputs, eval_labels, task)
        if entry["eval"]["agreement"] < cfg.min_agreement:
            entry["warning"] = (
                f"{target.file} predicts the same as {source.name} on only "
                f"{100 * entry['eval']['agreement']:.1f}% of the eval examples "
                f"(quantize.min_agreement {100 * cfg.min_agreement:.0f}%)"
            )
            print(f"  quantize: warning: {entry['warning']}")
        if ctx.progress:
            print(f"  quantize {name}: {_line(entry)} ({entry['seconds']:.0f} s)")
        results[target.name] = entry

    summary = {"settings": cfg.model_dump(mode="json", by_alias=True), "calibration_samples": rows, **results}
    (ctx.output_dir / SUMMARY_NAME).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    metrics: dict[str, Any] = {"calibration_samples": rows}
    for variant, entry in results.items():
        metrics[f"{variant}_matmuls_quantized"] = entry["matmuls_quantized"]
        metrics[f"{variant}_matmuls_float"] = entry["matmuls_float"]
        metrics[f"{variant}_bin_bytes"] = entry["bin_bytes"]
        metrics[f"{variant}_agreement"] = entry["eval"]["agreement"]
    return StageResult(
        metrics=metrics, summary="; ".join(f"{variant}: {_line(e)}" for variant, e in results.items())
    )


def quantize_ir(
    source: Path,
    calibration: dict[str, np.ndarray],
    evaluation: tuple[dict[str, np.ndarray], np.ndarray],
    cfg: QuantizeConfig,
    task: Any,
) -> tuple[Any, list[str] | None]:
    """The INT8 model, and the operations accuracy control reverted to floating point (None without it)."""
    import nncf
    import openvino as ov

    model = ov.Core().read_model(str(source))
    names = [port.get_any_name() for port in model.inputs]
    missing = [n for n in names if n not in calibration]
    if missing:
        raise StageError(f"quantize: {source.name} expects inputs {names}; the train data lacks {missing}")
    calibration_items = _rows({n: calibration[n] for n in names})
    common: dict[str, Any] = {
        "preset": nncf.QuantizationPreset(cfg.preset) if cfg.preset else None,
        "subset_size": len(calibration_items),
        "fast_bias_correction": cfg.fast_bias_correction,
        "model_type": nncf.ModelType(cfg.model_type) if cfg.model_type else None,
        "ignored_scope": _ignored_scope(cfg),
    }
    advanced = _advanced(cfg)  # the same parameters, named differently by the two functions
    try:
        if not cfg.accuracy_control.enabled:
            quantized = nncf.quantize(
                model, nncf.Dataset(calibration_items), advanced_parameters=advanced, **common
            )
            return quantized, None
        eval_inputs, eval_labels = evaluation
        validation = list(zip(_rows({n: eval_inputs[n] for n in names}), eval_labels, strict=True))
        with _reverted_operations() as reverted:
            quantized = nncf.quantize_with_accuracy_control(
                model,
                nncf.Dataset(calibration_items),
                nncf.Dataset(validation, lambda item: item[0]),
                validation_fn=_validation_fn(task),
                max_drop=cfg.accuracy_control.max_drop,
                drop_type=nncf.DropType(cfg.accuracy_control.drop_type),
                advanced_quantization_parameters=advanced,
                **common,
            )
        return quantized, reverted
    except nncf.ValidationError as error:  # e.g. an ignored_scope entry that matches nothing
        first = str(error).strip().splitlines()[0][:400]
        raise StageError(f"quantize.ignored_scope: {first}") from error


def _rows(arrays: dict[str, np.ndarray]) -> list[dict[str, np.ndarray]]:
    """One batch-1 input dict per example: fits static batch-1 IRs and dynamic ones alike."""
    count = len(next(iter(arrays.values())))
    return [{n: a[i : i + 1] for n, a in arrays.items()} for i in range(count)]


def _ignored_scope(cfg: QuantizeConfig) -> Any:
    import nncf

    scope = cfg.ignored_scope
    if not (scope.names or scope.patterns or scope.types):
        return None
    return nncf.IgnoredScope(
        names=list(scope.names),
        patterns=list(scope.patterns),
        types=list(scope.types),
        validate=scope.validate_,
    )


def _advanced(cfg: QuantizeConfig) -> Any:
    if cfg.smooth_quant_alpha is None:
        return None
    from nncf.quantization.advanced_parameters import (
        AdvancedQuantizationParameters,
        AdvancedSmoothQuantParameters,
    )

    return AdvancedQuantizationParameters(
        smooth_quant_alphas=AdvancedSmoothQuantParameters(matmul=cfg.smooth_quant_alpha)
    )


def _validation_fn(task: Any):
    """The benchmark's metric (`accuracy.score`) as NNCF's validation function: the metric over the
    items, and per item (NNCF ranks the quantizers to revert by them)."""
    from ov_movement.benchmarking.accuracy import score

    def validate(compiled_model: Any, items: Any) -> tuple[float, list[float]]:
        logits, labels = [], []
        for inputs, label in items:
            logits.append(np.array(compiled_model(inputs)[0]))
            labels.append(label)
        all_logits, all_labels = np.concatenate(logits), np.stack(labels)
        metric = score(all_logits, all_labels, task)[1]["accuracy"]
        per_item = [
            score(all_logits[i : i + 1], all_labels[i : i + 1], task)[1]["accuracy"]
            for i in range(len(all_labels))
        ]
        return float(metric), per_item

    return validate


class _RevertedLog(logging.Handler):
    """NNCF reports the operations it reverts only in its log ("Reverted N operations to the
    floating-point precision:" then one tab-indented name per line; verified on nncf 2.19.0)."""

    def __init__(self, into: list[str]) -> None:
        super().__init__(logging.INFO)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("Reverted ") and "floating-point precision" in message:
            self.into += [line.strip() for line in message.splitlines()[1:] if line.strip()]


@contextmanager
def _reverted_operations() -> Iterator[list[str]]:
    reverted: list[str] = []
    logger = logging.getLogger("nncf")
    handler = _RevertedLog(reverted)
    logger.addHandler(handler)
    try:
        yield reverted
    finally:
        logger.removeHandler(handler)


def _save(model: Any, path: Path) -> None:
    import openvino as ov

    path.parent.mkdir(parents=True, exist_ok=True)
    # No fp16 compression: the INT8 weights are already compressed, the rest stays as convert wrote it.
    ov.save_model(model, str(path), compress_to_fp16=False)


def _describe(model: Any, path: Path, reverted: list[str] | None) -> dict[str, Any]:
    from ov_movement.deploy.precision import precision_summary

    entry: dict[str, Any] = {"file": path.name, "bin_bytes": path.with_suffix(".bin").stat().st_size}
    entry |= precision_summary(model)
    if reverted is not None:
        entry["reverted_by_accuracy_control"] = reverted
    if entry["matmuls_quantized"] == 0:
        raise StageError(f"quantize: NNCF quantized no MatMul of {path.name} (check quantize.ignored_scope)")
    return entry


def _compare(
    ctx: StageContext,
    source: Path,
    target: Path,
    inputs: dict[str, np.ndarray],
    labels: np.ndarray,
    task: Any,
) -> dict[str, Any]:
    """The INT8 IR next to its FP32 source on the eval split: metrics of both and their agreement."""
    from ov_movement.benchmarking.accuracy import evaluate_models

    results = evaluate_models(
        {"fp32": source, "int8": target},
        inputs,
        labels,
        batch_size=ctx.config.training.eval_batch_size,
        device=ctx.config.benchmark.device,
        task=task,
    )
    return {
        "samples": results["int8"]["samples"],
        "fp32_accuracy": results["fp32"].get("accuracy"),
        "int8_accuracy": results["int8"].get("accuracy"),
        "agreement": results["int8"]["agreement"],
    }


def _line(entry: dict[str, Any]) -> str:
    return (
        f"{entry['matmuls_quantized']}/{entry['matmuls']} MatMuls INT8, "
        f".bin {entry['bin_bytes'] / 1e6:.2f} MB, "
        f"{100 * entry['eval']['agreement']:.1f}% same predictions as FP32"
    )


__all__ = ["SUMMARY_NAME", "quantize_ir", "run"]
