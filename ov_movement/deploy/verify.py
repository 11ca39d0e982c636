"""Compare a model's outputs with a reference, in optimum exporters' order: names, shapes, values.

Every output is reported ✓/✗ (logged and kept in a JSON-able report); `raise_if_failed` raises one
`VerificationError` naming each failing output, its max abs difference and the artefact.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ov_movement.errors import VerificationError

log = logging.getLogger(__name__)


@dataclass
class OutputCheck:
    name: str
    reference_shape: list[int] | None
    shape: list[int] | None
    max_abs_diff: float | None  # None when the shapes differ or the output is missing
    ok: bool


@dataclass
class VerificationReport:
    artefact: str
    reference: str
    atol: float
    inputs: str = ""  # what was fed, e.g. "8 eval samples, seq 128"
    names_ok: bool = True
    outputs: list[OutputCheck] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.names_ok and all(o.ok for o in self.outputs)

    @property
    def max_abs_diff(self) -> float | None:
        diffs = [o.max_abs_diff for o in self.outputs if o.max_abs_diff is not None]
        return max(diffs) if diffs else None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        for out in data["outputs"]:  # JSON has no inf/nan
            if out["max_abs_diff"] is not None and not math.isfinite(out["max_abs_diff"]):
                out["max_abs_diff"] = str(out["max_abs_diff"])
        return data

    def raise_if_failed(self) -> None:
        if self.ok:
            return
        problems = []
        if not self.names_ok:
            problems.append("output names differ")
        for o in self.outputs:
            if o.ok:
                continue
            if o.max_abs_diff is None:
                problems.append(f"output {o.name!r}: shape {o.shape} vs {o.reference_shape}")
            else:
                problems.append(f"output {o.name!r}: max abs diff {o.max_abs_diff:.3g} > atol {self.atol:g}")
        raise VerificationError(f"{self.artefact} does not match {self.reference}: " + "; ".join(problems))


def _max_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.astype(np.float64), b.astype(np.float64)
    diff = np.abs(a - b)
    diff[np.isnan(a) & np.isnan(b)] = 0.0  # NaN in the same place is agreement; elsewhere a failure
    diff[np.isnan(diff)] = np.inf
    return float(diff.max()) if diff.size else 0.0


def _mark(ok: bool) -> str:
    return "✓" if ok else "✗"


def compare_outputs(
    reference: Mapping[str, np.ndarray],
    candidate: Mapping[str, np.ndarray],
    *,
    atol: float,
    artefact: str,
    reference_label: str,
    inputs: str = "",
) -> VerificationReport:
    """Check `candidate` (from `artefact`) against `reference`; log and return the result."""
    report = VerificationReport(artefact, reference_label, atol, inputs)
    ref_names, names = set(reference), set(candidate)
    report.names_ok = ref_names == names
    log.info(
        "validating %s against %s (atol %g%s):",
        artefact,
        reference_label,
        atol,
        f", {inputs}" if inputs else "",
    )
    detail = (
        ""
        if report.names_ok
        else f" (missing {sorted(ref_names - names)}, extra {sorted(names - ref_names)})"
    )
    log.info("  [%s] output names: %s%s", _mark(report.names_ok), ", ".join(sorted(ref_names)), detail)
    for name in sorted(ref_names):
        ref = reference[name]
        if name not in candidate:
            report.outputs.append(OutputCheck(name, list(ref.shape), None, None, False))
            continue
        out = candidate[name]
        if tuple(out.shape) != tuple(ref.shape):
            report.outputs.append(OutputCheck(name, list(ref.shape), list(out.shape), None, False))
            log.info("  [✗] %s: shape %s, expected %s", name, tuple(out.shape), tuple(ref.shape))
            continue
        diff = _max_abs_diff(ref, out)
        ok = diff <= atol
        report.outputs.append(OutputCheck(name, list(ref.shape), list(out.shape), diff, ok))
        log.info("  [%s] %s: shape %s, max abs diff %.3g", _mark(ok), name, tuple(out.shape), diff)
    return report


def fit_inputs(
    inputs: Mapping[str, np.ndarray], names: Sequence[str], batch: int, seq: int
) -> dict[str, np.ndarray]:
    """Crop (or tile rows / zero-pad columns of) 2-D inputs to [batch, seq]: feeds a static model.

    Inputs of another rank (images [N, C, H, W]) have a fixed size: only their batch is fitted."""
    out = {}
    for name in names:
        arr = inputs[name]
        reps = -(-batch // arr.shape[0])
        arr = np.concatenate([arr] * reps)[:batch]
        if arr.ndim != 2:
            out[name] = np.ascontiguousarray(arr)
            continue
        if arr.shape[1] < seq:
            arr = np.pad(arr, ((0, 0), (0, seq - arr.shape[1])))
        out[name] = np.ascontiguousarray(arr[:, :seq])
    return out


__all__ = ["OutputCheck", "VerificationReport", "compare_outputs", "fit_inputs"]
