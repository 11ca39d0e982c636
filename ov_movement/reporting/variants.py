"""The model variants side by side: rows, the accuracy-vs-latency Pareto front and the recommendation.

Read from benchmark.json's `variants` (one entry per timed variant); an older benchmark.json without
it is read from its `models`, `speedup` and `accuracy`. The recommendation is the fastest variant
whose eval accuracy is at most `report.max_accuracy_drop` below the dense reference: the dense
fine-tuned baseline (baseline stage) when it ran, else the dense FP32 IR.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ov_movement.benchmarking.variants import REFERENCE, VARIANTS, label


@dataclass(frozen=True)
class VariantRow:
    name: str
    label: str
    accuracy: float | None  # eval accuracy (question answering: exact match); None: not evaluated
    bin_bytes: int | None
    latency: Mapping[str, float] | None  # min / median / max over interleaved rounds, ms
    speedup: Mapping[str, float] | None  # vs dense FP32, per round: min / median / max
    # The rounds disagree beyond benchmark.noise_threshold: the median is not a measurement.
    speedup_noisy: bool = False

    @property
    def latency_ms(self) -> float | None:
        return self.latency.get("median") if self.latency else None


@dataclass(frozen=True)
class Recommendation:
    variant: VariantRow | None
    reference_label: str
    reference_accuracy: float
    max_drop: float
    reason: str


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def variant_rows(benchmark: Mapping[str, Any] | None) -> list[VariantRow]:
    """One row per timed variant, in the variants table's order."""
    if not benchmark:
        return []
    entries = benchmark.get("variants")
    if entries is None:  # benchmark.json of an older version: same numbers, other places
        accuracy, speedups = benchmark.get("accuracy", {}), benchmark.get("speedup", {})
        entries = {
            name: {
                "label": label(name),
                "latency_ms": model.get("latency_median_ms"),
                "speedup": speedups.get(name),
                "accuracy": accuracy.get(name),
            }
            for name, model in benchmark.get("models", {}).items()
        }
    rows = []
    for name, entry in entries.items():
        metrics = entry.get("accuracy") or {}
        speedup = entry.get("speedup")
        rows.append(
            VariantRow(
                name=name,
                label=label(name) if name in VARIANTS else entry.get("label", name),
                accuracy=_number(metrics.get("accuracy")),
                bin_bytes=entry.get("bin_bytes"),
                latency=entry.get("latency_ms"),
                speedup=(
                    {"min": 1.0, "median": 1.0, "max": 1.0}
                    if name == REFERENCE
                    else (speedup or {}).get("latency")
                ),
                speedup_noisy=bool((speedup or {}).get("noise", {}).get("latency", {}).get("noisy")),
            )
        )
    return rows


def pareto_front(
    rows: Sequence[VariantRow], cost: Callable[[VariantRow], float | None] | None = None
) -> list[VariantRow]:
    """The variants no other beats on both `cost` (default: median latency) and accuracy, cheapest first."""
    cost = cost or (lambda r: r.latency_ms)
    points = [r for r in rows if r.accuracy is not None and cost(r) is not None]
    front = []
    for row in sorted(points, key=lambda r: (cost(r), -r.accuracy)):
        if not front or row.accuracy > front[-1].accuracy:
            front.append(row)
    return front


def reference_accuracy(
    baseline_eval: Mapping[str, Any] | None, rows: Sequence[VariantRow]
) -> tuple[str, float] | None:
    """The accuracy a variant is judged against: the dense fine-tuned baseline, else the dense FP32 IR."""
    baseline = _number((baseline_eval or {}).get("accuracy"))
    if baseline is not None:
        return "dense fine-tuned baseline", baseline
    dense = next((r for r in rows if r.name == REFERENCE and r.accuracy is not None), None)
    return (f"{dense.label} IR", dense.accuracy) if dense else None


def recommend(
    rows: Sequence[VariantRow], baseline_eval: Mapping[str, Any] | None, max_drop: float
) -> Recommendation | None:
    """The fastest variant within `max_drop` of the reference accuracy, and why; None without the numbers."""
    reference = reference_accuracy(baseline_eval, rows)
    if reference is None:
        return None
    ref_label, ref_accuracy = reference
    measured = [r for r in rows if r.accuracy is not None and r.latency_ms is not None]
    if not measured:
        return None
    floor = ref_accuracy - max_drop
    eligible = sorted((r for r in measured if r.accuracy >= floor - 1e-9), key=lambda r: r.latency_ms)
    within = f"within {100 * max_drop:.2f} points of the {ref_label} ({100 * ref_accuracy:.2f}%)"
    if not eligible:
        best = max(measured, key=lambda r: r.accuracy)
        reason = (
            f"no variant is {within} (report.max_accuracy_drop); the most accurate, {best.label}, "
            f"reaches {100 * best.accuracy:.2f}%"
        )
        return Recommendation(None, ref_label, ref_accuracy, max_drop, reason)
    chosen = eligible[0]
    speedup = chosen.speedup.get("median") if chosen.speedup else None
    reason = (
        f"the fastest of the {len(eligible)} of {len(measured)} evaluated variants {within}: "
        f"{100 * chosen.accuracy:.2f}% at {chosen.latency_ms:.3g} ms median"
        + (f", {speedup:.2f}x dense FP32" if speedup is not None and not chosen.speedup_noisy else "")
    )
    if len(eligible) > 1:
        runner_up = eligible[1]
        if chosen.latency and runner_up.latency and runner_up.latency["min"] <= chosen.latency["max"]:
            reason += (
                f"; its latency range overlaps {runner_up.label}'s "
                f"({chosen.latency['min']:.3g}–{chosen.latency['max']:.3g} vs "
                f"{runner_up.latency['min']:.3g}–{runner_up.latency['max']:.3g} ms), so that order is within noise"
            )
    return Recommendation(chosen, ref_label, ref_accuracy, max_drop, reason)


__all__ = [
    "Recommendation",
    "VariantRow",
    "pareto_front",
    "recommend",
    "reference_accuracy",
    "variant_rows",
]
