"""mask: structured masking, then fine-tuning for epochs [warmup_end_epoch, training.epochs).

Resumes NNCF from sparsify's checkpoint (compression state, weights, optimizer, LR scheduler, NNCF
scheduler, RNG). At the first step after warm-up NNCF resolves structured masks across dependent
layers (whole heads, whole FFN rows/columns) when `enable_structured_masking` is on, and freezes the
masks either way; fine-tuning continues on the kept weights. Writes `checkpoint/`,
`train_log.jsonl` (global step numbering continued, with a `structured_masking` event),
`eval.json` and `sparsity_table.json` (per layer and per block, before and after masking).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ov_movement.stages.base import StageContext, StageResult


def run(ctx: StageContext, *, callbacks: Sequence[Callable[[int, dict[str, Any]], None]] = ()) -> StageResult:
    """`callbacks` are called as callback(epoch, eval_record) after each epoch's checkpoint (tests)."""
    from ov_movement.training.session import MASK, run_phase

    return run_phase(ctx, MASK, callbacks)


__all__ = ["run"]
