"""benchmark stage: benchmark_app on the dense IR, the pruned IR and the sparse ONNX, plus IR accuracy.

Reads   convert/dense.xml, convert/pruned.xml, convert/stats.json (`flop_bound_speedup`),
        export/model.onnx, mask/eval.json (the torch metric to compare with), the eval split.
Writes  benchmark.json (summary, settings, machine, accuracy, every run) and runs/NN_<model>/
        (benchmark_app's command, log and JSON report per run).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ov_movement.benchmarking.benchmark_app import BenchmarkSettings, RunResult, run_interleaved
from ov_movement.benchmarking.machine import machine_info
from ov_movement.benchmarking.summary import summarize
from ov_movement.errors import StageError
from ov_movement.reporting.sources import final_eval_metrics, read_json
from ov_movement.stages.base import StageContext, StageResult

SUMMARY_NAME = "benchmark.json"


def model_paths(ctx: StageContext, names: list[str]) -> dict[str, Path]:
    """Where each benchmarked model lives upstream; a missing file is the upstream's bug, named."""
    locations = {
        "dense": ("convert", "dense.xml"),
        "pruned": ("convert", "pruned.xml"),
        "onnx": ("export", "model.onnx"),
    }
    paths = {}
    for name in names:
        stage, filename = locations[name]
        path = ctx.input(stage) / filename
        if not path.is_file():
            raise StageError(f"benchmark: {stage} output {filename} is missing ({path})")
        paths[name] = path
    return paths


def load_eval_arrays(ctx: StageContext) -> tuple[dict[str, Any], Any]:
    # Imported here: the data module pulls in transformers' tokenizer, only needed for accuracy.
    from ov_movement.data import load_eval_arrays as load

    return load(ctx.config, ctx.config_dir)


def _evaluate(ctx: StageContext, paths: dict[str, Path]) -> dict[str, Any]:
    from ov_movement.benchmarking.accuracy import evaluate_models
    from ov_movement.models import get_task

    irs = {name: paths[name] for name in ("dense", "pruned") if name in paths}
    inputs, labels = load_eval_arrays(ctx)
    accuracy: dict[str, Any] = evaluate_models(
        irs,
        inputs,
        labels,
        batch_size=ctx.config.training.eval_batch_size,
        device=ctx.config.benchmark.device,
        task=get_task(ctx.config.model.task),  # question answering scores spans, not classes
    )
    for entry in accuracy.values():
        entry["precision"] = "f32"
    mask_dir = ctx.inputs.get("mask")
    torch_metrics = final_eval_metrics(read_json(mask_dir / "eval.json")) if mask_dir else None
    if torch_metrics:
        accuracy = {"torch": torch_metrics, **accuracy}
    return accuracy


def _flop_bound(ctx: StageContext) -> float | None:
    convert_dir = ctx.inputs.get("convert")
    stats = read_json(convert_dir / "stats.json") if convert_dir else None
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
    accuracy = summary.get("accuracy", {})
    if "pruned" in accuracy:
        parts.append(f"pruned IR accuracy {accuracy['pruned']['accuracy']:.4f}")
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
        **summarize(runs, baseline="dense", noise_threshold=config.noise_threshold),
        "flop_bound_speedup": _flop_bound(ctx),
    }
    mismatch = shape_mismatch({name: model["input_shape"] for name, model in summary["models"].items()})
    if mismatch:
        summary["warnings"] = [mismatch]
    if config.evaluate_accuracy and ("dense" in paths or "pruned" in paths):
        summary["accuracy"] = _evaluate(ctx, paths)
    summary["runs"] = [r.to_dict() for r in runs]
    (ctx.output_dir / SUMMARY_NAME).write_text(json.dumps(summary, indent=2) + "\n")
    return StageResult(metrics=_metrics(summary), summary=_summary_line(summary))


__all__ = ["SUMMARY_NAME", "load_eval_arrays", "model_paths", "run", "shape_mismatch"]
