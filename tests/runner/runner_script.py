"""Test-only entry point: run a pipeline with the toy registry in a separate process.

    python runner_script.py CONFIG WORKDIR [--block STAGE FILE FIFO] [--wait] [--shared-workdir]

`--shared-workdir` runs without the workdir lock, as a sweep's variants do (only the per-entry
stage locks apply).

Used to SIGKILL a run mid-stage and to hold the workdir lock from another process. Production
code has no way to swap the registry from outside; this script calls the Python API directly.
"""

from __future__ import annotations

import argparse
import sys

import runner_toys

from ov_movement.config.load import load_pipeline
from ov_movement.runner.execute import run_pipeline


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("config")
    parser.add_argument("workdir")
    parser.add_argument("--block", nargs=3, metavar=("STAGE", "FILE", "FIFO"))
    parser.add_argument("--wait", action="store_true")
    parser.add_argument("--shared-workdir", action="store_true")
    args = parser.parse_args()
    if args.block:
        stage, after, fifo = args.block
        runner_toys.BLOCK.update(stage=stage, after=after, fifo=fifo)
    summary = run_pipeline(
        load_pipeline(args.config),
        runner_toys.make_registry(),
        args.workdir,
        wait=args.wait,
        progress=False,
        workdir_lock=not args.shared_workdir,
    )
    print("executed:", ",".join(summary.executed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
