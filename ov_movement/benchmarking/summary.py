"""Turning interleaved benchmark runs into the numbers a report shows.

Speedups are computed per repeat (dense and pruned measured back to back in the same round) and
then summarised as min/median/max: a ratio of medians would hide how much the machine's noise
moved the result.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from ov_movement.benchmarking.benchmark_app import RunResult

# Largest relative spread (see `relative_spread`) accepted for the per-round speedups and for one
# model's per-round medians before a result is called noise. From measurements on the 2-core
# development machine (docs/benchmarking.md): quiet runs' ratios spread at most 0.08 (17 of 18
# results); every window of rounds measured on the loaded machine had a ratio or raw-median spread
# of 0.11 or more.
DEFAULT_NOISE_THRESHOLD = 0.10
# The spread is judged over a distribution-free confidence interval for the median of the rounds,
# at least this likely to hold it. Up to 5 rounds that interval is min..max; from 6 rounds on the
# most extreme round on each side falls outside it, from 9 rounds the two most extreme. So more
# rounds, the advice for a noisy result, narrow the judged spread instead of widening it, as the
# range of ever more rounds would.
MEDIAN_CONFIDENCE = 0.75
# Most CPU other processes may use during a round, in cores, before its figures are called noise.
# A quiet 2-core machine measures ~0.01-0.05 (kernel threads, the runner's own progress output is
# not counted); two busy loops measure ~1 and more.
MAX_BACKGROUND_CORES = 0.25
NOISE_ADVICE = (
    "rerun with more repeats and a longer time_s (benchmark.repeats, benchmark.time_s), fewer background "
    "jobs on the machine, and pinned threads (benchmark.nthreads)"
)


def spread(values: Sequence[float]) -> dict[str, float]:
    """min / median / max of a non-empty sequence."""
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def _median_coverage(rounds: int, rank: int) -> float:
    """Probability that the rank-th smallest and rank-th largest of `rounds` independent values
    enclose their distribution's median: 1 - 2 P(Binomial(rounds, 1/2) < rank)."""
    below = sum(math.comb(rounds, i) for i in range(rank))
    return 1 - 2 * below / 2**rounds


def rounds_set_aside(rounds: int) -> int:
    """How many of `rounds` values on each side fall outside the narrowest order-statistic interval
    for their median with coverage >= MEDIAN_CONFIDENCE (0: too few rounds, min..max)."""
    rank = 1
    while rank < (rounds + 1) // 2 and _median_coverage(rounds, rank + 1) >= MEDIAN_CONFIDENCE:
        rank += 1
    return rank - 1


def median_interval(values: Sequence[float]) -> tuple[float, float, int]:
    """That interval for `values`: (low, high, rounds set aside on each side)."""
    ordered = sorted(values)
    aside = rounds_set_aside(len(ordered))
    return ordered[aside], ordered[len(ordered) - 1 - aside], aside


def relative_spread(values: Sequence[float]) -> float:
    """(high - low) / median over `median_interval`: how far apart the rounds landed, as a share of
    the typical value. Up to 5 values that is (max - min) / median."""
    median = statistics.median(values)
    low, high, _ = median_interval(values)
    return (high - low) / median if median else float("inf")


@dataclass(frozen=True)
class Verdict:
    """Whether a speedup is a measurement or noise. `noisy` is None when one round cannot tell."""

    noisy: bool | None
    rounds: int
    ratio_spread: float | None  # relative spread of the per-round ratios
    raw_spread: float | None  # the largest relative spread of one model's per-round medians
    threshold: float
    # The most CPU other processes used during one of the rounds, in cores; None: not measured.
    background_cores: float | None = None

    @property
    def reason(self) -> str:
        if self.noisy is None:
            return f"{self.rounds} round: no spread to judge noise by"
        spreads = f"per-round ratios spread {self.ratio_spread:.0%}"
        set_aside = rounds_set_aside(self.rounds)
        if set_aside:
            spreads += f" (the middle {self.rounds - 2 * set_aside} of {self.rounds} rounds)"
        if self.background_cores is None:
            return (
                f"{spreads} and raw medians {self.raw_spread:.0%}: "
                f"{'over' if self.noisy else 'within'} the {self.threshold:.0%} noise threshold"
            )
        busy = self.background_cores > MAX_BACKGROUND_CORES
        return (
            f"{spreads} ({'over' if self.ratio_spread > self.threshold else 'within'} the "
            f"{self.threshold:.0%} noise threshold); other processes used up to "
            f"{self.background_cores:.2f} cores ({'over' if busy else 'within'} the "
            f"{MAX_BACKGROUND_CORES:.2f} allowed)"
        )

    def to_dict(self) -> dict[str, Any]:
        entry = {**asdict(self), "reason": self.reason}
        if self.noisy:
            entry["advice"] = NOISE_ADVICE
        return entry


def noise_verdict(
    per_round_ratios: Sequence[float],
    raw_medians: Mapping[str, Sequence[float]],
    threshold: float = DEFAULT_NOISE_THRESHOLD,
    background_cores: float | None = None,
) -> Verdict:
    """Noisy when the per-round ratios spread (`relative_spread`) wider than `threshold`, or the
    machine was shared: other processes used more than MAX_BACKGROUND_CORES during a round
    (`background_cores`, the largest over the rounds). Where that was not measured, a spread of any
    model's per-round medians wider than `threshold` stands in for it. Ratios must be taken within
    each round (see `summarize`)."""
    rounds = len(per_round_ratios)
    if rounds < 2:
        return Verdict(None, rounds, None, None, threshold, background_cores)
    ratio = relative_spread(per_round_ratios)
    raw = max((relative_spread(values) for values in raw_medians.values() if values), default=0.0)
    shared = raw > threshold if background_cores is None else background_cores > MAX_BACKGROUND_CORES
    return Verdict(ratio > threshold or shared, rounds, ratio, raw, threshold, background_cores)


def _most_background(runs: Iterable[RunResult]) -> float | None:
    """The largest background reading of `runs`; None if any run could not measure it."""
    readings = [run.background_cores for run in runs]
    if not readings or any(value is None for value in readings):
        return None
    return max(readings)


def summarize(
    runs: Iterable[RunResult], baseline: str = "dense", noise_threshold: float = DEFAULT_NOISE_THRESHOLD
) -> dict[str, Any]:
    """Per model latency/throughput spreads and, per other model, speedup over `baseline`.

    Returns {"models": {name: {...}}, "speedup": {name: {"latency": spread, "throughput": spread,
    "noise": {"latency": verdict, "throughput": verdict}}}}.
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
            pair = _paired(by_model.get(baseline, {}), by_model[name], baseline, name, noise_threshold)
            if pair:
                speedup[name] = pair
    return {"baseline": baseline, "models": models, "speedup": speedup}


def paired_speedup(
    runs: Iterable[RunResult], baseline: str, model: str, noise_threshold: float = DEFAULT_NOISE_THRESHOLD
) -> dict[str, Any] | None:
    """`model` over `baseline` round by round (as `summarize` does for its baseline); None if never paired."""
    by_model: dict[str, dict[int, RunResult]] = {}
    for run in runs:
        by_model.setdefault(run.model, {})[run.repeat] = run
    return _paired(by_model.get(baseline, {}), by_model.get(model, {}), baseline, model, noise_threshold)


def _paired(
    base: dict[int, RunResult],
    repeats: dict[int, RunResult],
    baseline: str,
    name: str,
    noise_threshold: float,
) -> dict[str, Any] | None:
    paired = sorted(set(base) & set(repeats))  # only rounds where both ran
    if not paired:
        return None
    latency = [base[r].latency_median_ms / repeats[r].latency_median_ms for r in paired]
    throughput = [repeats[r].throughput_fps / base[r].throughput_fps for r in paired]
    raw_latency = {
        m: [rounds[r].latency_median_ms for r in paired] for m, rounds in ((baseline, base), (name, repeats))
    }
    raw_fps = {
        m: [rounds[r].throughput_fps for r in paired] for m, rounds in ((baseline, base), (name, repeats))
    }
    background = _most_background([*(base[r] for r in paired), *(repeats[r] for r in paired)])
    return {
        "latency": spread(latency),
        "throughput": spread(throughput),
        "pairs": len(paired),
        "noise": {
            "latency": noise_verdict(latency, raw_latency, noise_threshold, background).to_dict(),
            "throughput": noise_verdict(throughput, raw_fps, noise_threshold, background).to_dict(),
        },
    }


__all__ = [
    "DEFAULT_NOISE_THRESHOLD",
    "MAX_BACKGROUND_CORES",
    "MEDIAN_CONFIDENCE",
    "NOISE_ADVICE",
    "Verdict",
    "median_interval",
    "noise_verdict",
    "paired_speedup",
    "relative_spread",
    "rounds_set_aside",
    "spread",
    "summarize",
]
