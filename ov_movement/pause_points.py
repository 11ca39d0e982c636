"""Named points where a run can be held still, so tests interrupt it at an exact moment.

A test that waits for a file to appear and then sends a signal loses the race on a busy machine:
by the time the signal lands, the run may be anywhere further on (or finished). With

    OV_MOVEMENT_TEST_PAUSE_AT=<stage>:<point>[:<n>]

in its environment, a run that reaches `<point>` of `<stage>` for the n-th time (default: the
first) prints `paused at <stage>:<point>:<n> (pid <pid>)` to stderr and then sleeps until a signal
ends it: SIGINT raises KeyboardInterrupt right there, as a Ctrl-C at that moment would; SIGKILL
kills it there. The test reads the line and signals; nothing else can happen in between.

The points (each one a call of `pause_point`):
  <any stage>:start         the runner, just before it calls the stage (its `.partial` exists)
  sparsify|mask:step        after an optimizer step's record was appended to train_log.jsonl
  sparsify|mask:epoch-checkpoint   after an epoch's checkpoint was saved (older ones removed)
  convert:dense-ir          after dense.xml/.bin were written, before the pruned IR

With distributed training (several ranks pass the same points) `OV_MOVEMENT_TEST_PAUSE_RANK=<r>`
holds only the worker of global rank r; the others go on until they wait for it.

Unset (always, outside tests), a point costs one dictionary lookup.
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter

ENV = "OV_MOVEMENT_TEST_PAUSE_AT"
RANK_ENV = "OV_MOVEMENT_TEST_PAUSE_RANK"
_passed: Counter[str] = Counter()


def _wanted() -> tuple[str, int] | None:
    spec = os.environ.get(ENV)
    if not spec:
        return None
    stage, _, rest = spec.partition(":")
    point, _, count = rest.partition(":")
    return f"{stage}:{point}", int(count) if count.isdigit() else 1


def pause_point(stage: str, point: str) -> None:
    """Hold the process here if the environment asks for this point (see the module docstring)."""
    wanted = _wanted()
    if wanted is None:
        return
    name = f"{stage}:{point}"
    if name != wanted[0]:
        return
    rank = os.environ.get(RANK_ENV)
    if rank is not None and os.environ.get("RANK", "0") != rank:
        return
    _passed[name] += 1
    if _passed[name] != wanted[1]:
        return
    print(f"paused at {name}:{wanted[1]} (pid {os.getpid()})", file=sys.stderr, flush=True)
    while True:  # only a signal ends this: SIGINT raises KeyboardInterrupt, SIGKILL kills
        time.sleep(3600)


__all__ = ["ENV", "RANK_ENV", "pause_point"]
