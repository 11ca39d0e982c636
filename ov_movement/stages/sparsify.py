"""sparsify: NNCF movement sparsification through the warm-up, epochs [0, warmup_end_epoch).

Builds the model (eager attention) and data from the config, checks the compression section
against the NNCF graph before the first step, trains with `ctrl.scheduler` / `ctrl.loss()` wired as
NNCF expects and writes `checkpoint/` (model + NNCF compression state + optimizer + LR scheduler +
RNG), `train_log.jsonl` and `eval.json`. `training.epochs` is not read: it belongs to mask.
Resumes from its last finished epoch after an interruption.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ov_movement.stages.base import StageContext, StageResult


def run(ctx: StageContext, *, callbacks: Sequence[Callable[[int, dict[str, Any]], None]] = ()) -> StageResult:
    """`callbacks` are called as callback(epoch, eval_record) after each epoch's checkpoint (tests)."""
    from ov_movement.training.session import SPARSIFY, run_phase

    return run_phase(ctx, SPARSIFY, callbacks)


__all__ = ["run"]
