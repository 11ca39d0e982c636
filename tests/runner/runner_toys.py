"""Small real stages for runner tests: each computes files from config values and upstream files.

The toy registry keeps the real registry's graph, `reads`, `ignores` and `resumable` flags and
swaps only the functions, so the tests check the real staleness rules (e.g. `training.epochs`
reruns from mask, not sparsify) without torch. Hooks (module globals, set by tests or by
`runner_script.py`) make a stage block on a FIFO or fail, for interruption tests.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

from ov_movement.config.load import LoadedPipeline, load_pipeline
from ov_movement.errors import StageError
from ov_movement.stages import STAGES
from ov_movement.stages.base import StageContext, StageResult, StageSpec

# {"stage": name, "after": file name, "fifo": path}: after writing that file, block reading the
# FIFO; nobody ever writes to it, so only a signal ends the stage.
BLOCK: dict[str, Any] = {}
# {"stage": name, "error": exception instance}: raise it in place of finishing the stage.
FAIL: dict[str, Any] = {}
# Stage names in call order, including calls that were interrupted or failed.
CALLS: list[str] = []

BASE_CONFIG: dict[str, Any] = {
    "name": "toy",
    "training": {"epochs": 5, "seed": 1},
    "compression": {
        "algorithm": "movement_sparsity",
        "params": {"warmup_start_epoch": 1, "warmup_end_epoch": 3, "importance_regularization_factor": 0.01},
    },
    "export": {"opset": 17},
    "benchmark": {"time_s": 1.0},
    "report": {"title": "Toy"},
}


def _digest(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def _hooks(ctx: StageContext, written: str) -> None:
    if BLOCK.get("stage") == ctx.stage and BLOCK.get("after") == written:
        with open(BLOCK["fifo"], encoding="utf-8") as fifo:  # blocks until a writer appears: never
            fifo.read()
    if FAIL.get("stage") == ctx.stage:
        raise FAIL["error"]


def _write(ctx: StageContext, relative: str, text: str) -> None:
    path = ctx.output_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    _hooks(ctx, relative)


def sparsify(ctx: StageContext) -> StageResult:
    CALLS.append(ctx.stage)
    params = ctx.config.movement.params
    state = _digest(ctx.config.training.seed, params.importance_regularization_factor)
    resumed = 0
    for epoch in range(int(params.warmup_end_epoch)):  # resumable: earlier epochs are kept
        checkpoint = ctx.output_dir / "checkpoints" / f"epoch-{epoch}.txt"
        if checkpoint.exists():
            state, resumed = checkpoint.read_text(encoding="utf-8"), resumed + 1
            continue
        state = _digest(state, epoch)
        _write(ctx, f"checkpoints/epoch-{epoch}.txt", state)
    _write(ctx, "model.txt", state)
    return StageResult(metrics={"resumed_epochs": resumed}, summary=f"warm-up state {state[:6]}")


def mask(ctx: StageContext) -> StageResult:
    CALLS.append(ctx.stage)
    state = (ctx.input("sparsify") / "model.txt").read_text(encoding="utf-8")
    for epoch in range(int(ctx.config.movement.params.warmup_end_epoch), ctx.config.training.epochs):
        state = _digest(state, "fine-tune", epoch)
    _write(ctx, "checkpoint/model.txt", state)
    return StageResult(metrics={"accuracy": 0.9}, summary=f"final state {state[:6]}")


def export(ctx: StageContext) -> StageResult:
    CALLS.append(ctx.stage)
    model = (ctx.input("mask") / "checkpoint" / "model.txt").read_text(encoding="utf-8")
    _write(ctx, "model.onnx.txt", _digest(model, ctx.config.export.opset))
    return StageResult()


def convert(ctx: StageContext) -> StageResult:
    CALLS.append(ctx.stage)
    onnx = (ctx.input("export") / "model.onnx.txt").read_text(encoding="utf-8")
    _write(ctx, "dense.txt", _digest(onnx, "dense"))
    _write(ctx, "pruned.txt", _digest(onnx, "pruned", ctx.config.convert.compress_to_fp16))
    return StageResult()


def benchmark(ctx: StageContext) -> StageResult:
    CALLS.append(ctx.stage)
    pruned = (ctx.input("convert") / "pruned.txt").read_text(encoding="utf-8")
    _write(ctx, "summary.json", json.dumps({"model": pruned, "time_s": ctx.config.benchmark.time_s}))
    return StageResult(metrics={"latency_ms": 1.5})


def report(ctx: StageContext) -> StageResult:
    CALLS.append(ctx.stage)
    lines = [f"# {ctx.config.report.title}"]
    lines += [f"- {name}: {path.name}" for name, path in sorted(ctx.inputs.items())]
    _write(ctx, "report.md", "\n".join(lines) + "\n")
    return StageResult(summary="report.md")


FUNCTIONS = {
    "sparsify": sparsify,
    "mask": mask,
    "export": export,
    "convert": convert,
    "benchmark": benchmark,
    "report": report,
}


def make_registry() -> dict[str, StageSpec]:
    """The real graph's main chain with toy functions (the optional dense `baseline` branch is left
    out: these tests are about the runner's rules, which a linear chain shows most plainly)."""
    return {
        name: dataclasses.replace(
            spec, run=FUNCTIONS[name], upstream=tuple(u for u in spec.upstream if u in FUNCTIONS)
        )
        for name, spec in STAGES.items()
        if name in FUNCTIONS
    }


def write_config(path: Path, **changes: Any) -> LoadedPipeline:
    """Write BASE_CONFIG with dotted-key changes (`training__epochs=6` style keys use '__')."""
    data = copy.deepcopy(BASE_CONFIG)
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        holder = data
        for key in parents:
            holder = holder.setdefault(key, {})
        holder[last] = value
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return load_pipeline(path)


def reset() -> None:
    BLOCK.clear()
    FAIL.clear()
    CALLS.clear()


__all__ = ["BASE_CONFIG", "BLOCK", "CALLS", "FAIL", "StageError", "make_registry", "reset", "write_config"]
