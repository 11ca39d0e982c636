"""Turning interleaved benchmark runs into the numbers a report shows.

Speedups are computed per repeat (dense and pruned measured back to back in the same round) and
then summarised as min/median/max: a ratio of medians would hide how much the machine's noise
moved the result.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from typing import Any

from ov_movement.benchmarking.benchmark_app import RunResult


def spread(values: Sequence[float]) -> dict[str, float]:
    """min / median / max of a non-empty sequence."""
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def summarize(runs: Iterable[RunResult], baseline: str = "dense") -> dict[str, Any]:
    """Per model latency/throughput spreads and, per other model, speedup over `baseline`.

    Returns {"models": {name: {...}}, "speedup": {name: {"latency": spread, "throughput": spread}}}.
    Speedup by latency is baseline_latency / model_latency; by throughput model_fps / baseline_fps.
    """
    by_model: dict[str, dict[int, RunResult]] = {}
    for run in runs:
        by_model.setdefault(run.model, {})[run.repeat] = run

    models: dict[str, Any] = {}
    for name, repeats in by_model.items():
        ordered = [repeats[r] for r in sorted(repeats)]
        models[name] = {
            "repeats": len(ordered),
            "input_shape": ordered[0].input_shape,
            "runtime": ordered[0].runtime,
            "latency_median_ms": spread([r.latency_median_ms for r in ordered]),
            "throughput_fps": spread([r.throughput_fps for r in ordered]),
        }

    speedup: dict[str, Any] = {}
    for name in by_model:
        if name != baseline:
            pair = _paired(by_model.get(baseline, {}), by_model[name])
            if pair:
                speedup[name] = pair
    return {"baseline": baseline, "models": models, "speedup": speedup}


def paired_speedup(runs: Iterable[RunResult], baseline: str, model: str) -> dict[str, Any] | None:
    """`model` over `baseline` round by round (as `summarize` does for its baseline); None if never paired."""
    by_model: dict[str, dict[int, RunResult]] = {}
    for run in runs:
        by_model.setdefault(run.model, {})[run.repeat] = run
    return _paired(by_model.get(baseline, {}), by_model.get(model, {}))


def _paired(base: dict[int, RunResult], repeats: dict[int, RunResult]) -> dict[str, Any] | None:
    paired = sorted(set(base) & set(repeats))  # only rounds where both ran
    if not paired:
        return None
    latency = [base[r].latency_median_ms / repeats[r].latency_median_ms for r in paired]
    throughput = [repeats[r].throughput_fps / base[r].throughput_fps for r in paired]
    return {"latency": spread(latency), "throughput": spread(throughput), "pairs": len(paired)}


__all__ = ["paired_speedup", "spread", "summarize"]
