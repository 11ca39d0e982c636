"""benchmark stage: benchmark_app on every model variant that exists, plus each IR's accuracy.

Reads   the variants of `benchmarking.variants` (convert/dense.xml, convert/pruned.xml,
        quantize/dense_int8.xml, quantize/pruned_int8.xml, convert/pruned_qat.xml, export/model.onnx),
        convert/stats.json (`flop_bound_speedup`), mask/eval.json (the torch metric to compare with),
        the eval split.
Writes  benchmark.json (summary, settings, machine, accuracy, `variants`: one entry per variant with
        its label, size, latency, speedup over dense FP32 and accuracy; every run) and
        runs/NN_<model>/ (benchmark_app's command, log and JSON report per run).

All variants are timed in one interleaved run (A B C ... A B C ...); speedups are ratios within each
round, then min / median / max.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ov_movement.benchmarking.benchmark_app import BenchmarkSettings, RunResult, run_interleaved
from ov_movement.benchmarking.machine import machine_info
from ov_movement.benchmarking.summary import paired_speedup, summarize
from ov_movement.benchmarking.variants import (
    DENSE_INT8,
    PRUNED_INT8,
    PRUNED_QAT,
    QUANTIZED_FROM,
    REFERENCE,
    VARIANTS,
)
from ov_movement.benchmarking.variants import IR_STATS_FILE as STATS_FILE
from ov_movement.errors import StageError
from ov_movement.reporting.sources import final_eval_metrics, read_json
from ov_movement.stages.base import StageContext, StageResult
from ov_movement.training.session import EVAL_FILE as TRAINING_EVAL_FILE

SUMMARY_NAME = "benchmark.json"


def model_paths(ctx: StageContext, names: list[str]) -> dict[str, Path]:
    """Where each variant among `names` lives upstream, in the variants table's order.

    A variant whose stage always writes it (dense, pruned, onnx) must exist: its absence is the
    upstream's bug, named. The others (INT8 from quantize, QAT for JPQD configs) are timed when present."""
    paths = {}
    for name in [n for n in VARIANTS if n in names]:
        variant = VARIANTS[name]
        path = variant.path(ctx.inputs)
        if path is not None and path.is_file():
            paths[name] = path
        elif variant.always:
            raise StageError(f"benchmark: {variant.stage} output {variant.file} is missing ({path})")
    return paths


def load_eval_arrays(ctx: StageContext) -> tuple[dict[str, Any], Any]:
    # Imported here: the data module pulls in transformers' tokenizer, only needed for accuracy.
    from ov_movement.model_inputs import load_eval_arrays as load

    return load(ctx.config, ctx.config_dir)


def _evaluate(ctx: StageContext, paths: dict[str, Path]) -> dict[str, Any]:
    from ov_movement.benchmarking.accuracy import evaluate_models
    from ov_movement.tasks import get_task

    irs = {name: path for name, path in paths.items() if VARIANTS[name].is_ir}
    # An INT8 IR is compared with its own FP32 source; everything else with the dense IR.
    sources = {quantized: source for source, quantized in QUANTIZED_FROM.items() if source in irs}
    inputs, labels = load_eval_arrays(ctx)
    accuracy: dict[str, Any] = evaluate_models(
        irs,
        inputs,
        labels,
        batch_size=ctx.config.training.eval_batch_size,
        device=ctx.config.benchmark.device,
        task=get_task(ctx.config.model.task),  # question answering scores spans, not classes
        references=sources,
    )
    for entry in accuracy.values():
        entry["precision"] = "f32"
    mask_dir = ctx.inputs.get("mask")
    torch_metrics = final_eval_metrics(read_json(mask_dir / TRAINING_EVAL_FILE)) if mask_dir else None
    if torch_metrics:
        accuracy = {"torch": torch_metrics, **accuracy}
    return accuracy


def _file_bytes(path: Path) -> int:
    """What a variant weighs on disk: an IR's .bin (the weights), an ONNX file with any external data."""
    if path.suffix == ".xml":
        return path.with_suffix(".bin").stat().st_size
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file())


def variant_entries(summary: dict[str, Any], sizes: dict[str, int]) -> dict[str, Any]:
    """One entry per timed variant (`sizes`: name -> bytes on disk, in table order): what the report's
    variants table shows, with the speedup over dense FP32 taken round by round (ratio per
    interleaved round, then min / median / max)."""
    accuracy = summary.get("accuracy", {})
    entries = {}
    for name, size in sizes.items():
        variant = VARIANTS[name]
        model = summary["models"].get(name, {})
        entries[name] = {
            "label": variant.label,
            "file": f"{variant.stage}/{variant.file}",
            "bin_bytes": size,
            "latency_ms": model.get("latency_median_ms"),
            "throughput_fps": model.get("throughput_fps"),
            "speedup": summary["speedup"].get(name) if name != REFERENCE else None,
            "accuracy": accuracy.get(name),
        }
    return entries


def _pair_speedups(runs: list[RunResult], paths: dict[str, Path], noise_threshold: float) -> dict[str, Any]:
    """Each pruned INT8 variant against the dense INT8 IR, round by round: what pruning adds to INT8."""
    if DENSE_INT8 not in paths:
        return {}
    return {
        name: paired_speedup(runs, baseline=DENSE_INT8, model=name, noise_threshold=noise_threshold)
        for name in (PRUNED_INT8, PRUNED_QAT)
        if name in paths
    }


def _flop_bound(ctx: StageContext) -> float | None:
    convert_dir = ctx.inputs.get("convert")
    stats = read_json(convert_dir / STATS_FILE) if convert_dir else None
    value = (stats or {}).get("flop_bound_speedup")
    return float(value) if isinstance(value, int | float) else None


def shape_mismatch(shapes: dict[str, str]) -> str | None:
    """A warning when the models ran at different input dimensions (e.g. a static pruned IR next to
    a dynamic dense one). Input names are ignored: a pruned IR may lack one (attention_mask once
    every head is gone) and still be comparable."""
    dims = {frozenset(re.findall(r"\[[^\]]*\]", shape)) for shape in shapes.values()}
    if len(dims) > 1:
        return f"models ran at different input shapes, latencies are not comparable: {shapes}"
    return None


def _metrics(summary: dict[str, Any]) -> dict[str, Any]:
    """Flat numbers for the manifest and `status`."""
    metrics: dict[str, Any] = {}
    for name, model in summary["models"].items():
        metrics[f"{name}_latency_ms"] = model["latency_median_ms"]["median"]
        metrics[f"{name}_throughput_fps"] = model["throughput_fps"]["median"]
    pruned = summary["speedup"].get("pruned")
    if pruned:
        for key, value in pruned["latency"].items():
            metrics[f"speedup_{key}"] = value
        metrics["speedup_noisy"] = pruned.get("noise", {}).get("latency", {}).get("noisy")
    for name, speedup in summary["speedup"].items():
        if name != "pruned":
            metrics[f"{name}_speedup_median"] = speedup["latency"]["median"]
    for name, speedup in summary.get("speedup_vs_dense_int8", {}).items():
        metrics[f"{name}_vs_dense_int8_median"] = speedup["latency"]["median"]
    if summary.get("flop_bound_speedup") is not None:
        metrics["flop_bound_speedup"] = summary["flop_bound_speedup"]
    for name, entry in summary.get("accuracy", {}).items():
        if "accuracy" in entry:
            metrics[f"{name}_accuracy"] = entry["accuracy"]
        if "exact_match" in entry:  # question answering: its span F1 next to the exact match
            metrics[f"{name}_exact_match"] = entry["exact_match"]
            metrics[f"{name}_f1"] = entry.get("f1")
    return metrics


def _summary_line(summary: dict[str, Any]) -> str:
    parts = []
    pruned = summary["speedup"].get("pruned")
    verdict = (pruned or {}).get("noise", {}).get("latency", {})
    if verdict.get("noisy"):
        s = pruned["latency"]
        parts.append(
            f"NOISY pruned/dense speedup, rounds {s['min']:.2f}x-{s['max']:.2f}x ({verdict['reason']}): "
            f"{verdict['advice']}"
        )
    elif pruned:
        s = pruned["latency"]
        bound = summary.get("flop_bound_speedup")
        parts.append(
            f"pruned/dense speedup {s['median']:.2f}x (min {s['min']:.2f}, max {s['max']:.2f}"
            + (f"; FLOP bound {bound:.2f}x)" if bound else ")")
        )
    int8 = summary["speedup"].get(PRUNED_INT8)
    if int8:
        versus = summary.get("speedup_vs_dense_int8", {}).get(PRUNED_INT8)
        parts.append(
            f"pruned INT8/dense {int8['latency']['median']:.2f}x"
            + (f" (/dense INT8 {versus['latency']['median']:.2f}x)" if versus else "")
        )
    accuracy = summary.get("accuracy", {})
    if "pruned" in accuracy:
        parts.append(f"pruned IR accuracy {accuracy['pruned']['accuracy']:.4f}")
    if PRUNED_INT8 in accuracy:
        parts.append(f"pruned INT8 {accuracy[PRUNED_INT8]['accuracy']:.4f}")
    if "torch" in accuracy and "accuracy" in accuracy["torch"]:
        parts.append(f"torch {accuracy['torch']['accuracy']:.4f}")
    return "; ".join(parts)


def run(ctx: StageContext) -> StageResult:
    config = ctx.config.benchmark
    settings = BenchmarkSettings.from_config(config)
    paths = model_paths(ctx, list(dict.fromkeys(config.models)))

    def report(result: RunResult) -> None:
        if ctx.progress:
            print(
                f"  benchmark {result.repeat + 1}/{config.repeats} {result.model}: "
                f"{result.latency_median_ms:.3f} ms median, {result.throughput_fps:.1f} FPS"
            )

    runs = run_interleaved(paths, settings, ctx.output_dir / "runs", config.repeats, on_run=report)
    for result in runs:  # relative, so the summary stays valid after the runner moves the directory
        result.report_dir = str(Path(result.report_dir).relative_to(ctx.output_dir))

    summary: dict[str, Any] = {
        "settings": {**settings.__dict__, "repeats": config.repeats, "models": list(paths)},
        "machine": machine_info(),
        **summarize(runs, baseline=REFERENCE, noise_threshold=config.noise_threshold),
        "flop_bound_speedup": _flop_bound(ctx),
    }
    mismatch = shape_mismatch({name: model["input_shape"] for name, model in summary["models"].items()})
    if mismatch:
        summary["warnings"] = [mismatch]
    pairs = _pair_speedups(runs, paths, config.noise_threshold)
    if pairs:
        summary["speedup_vs_dense_int8"] = pairs
    if config.evaluate_accuracy and any(VARIANTS[name].is_ir for name in paths):
        summary["accuracy"] = _evaluate(ctx, paths)
    summary["variants"] = variant_entries(summary, {name: _file_bytes(path) for name, path in paths.items()})
    summary["runs"] = [r.to_dict() for r in runs]
    (ctx.output_dir / SUMMARY_NAME).write_text(json.dumps(summary, indent=2) + "\n")
    return StageResult(metrics=_metrics(summary), summary=_summary_line(summary))


__all__ = ["SUMMARY_NAME", "load_eval_arrays", "model_paths", "run", "shape_mismatch", "variant_entries"]
