"""`ov-movement status FILE`: each stage cached / stale / missing / damaged, and why."""

from __future__ import annotations

import argparse

from ov_movement.cli.run import WORKDIR_HELP, add_distributed_options, with_distributed
from ov_movement.stages import STAGES

_EPILOG = """\
examples:
  ov-movement status pipelines/bert.json
  ov-movement status pipelines/bert.json --workdir /data/ovm-runs --verify

States: cached (an intact entry exists for the current fingerprint), stale (the last run used
other settings: the changed keys are listed, "training.epochs changed 5 -> 6", or an upstream
stage / package version changed), missing (never run, or its cache entry was removed), damaged
(the entry's files are missing or altered; `run` moves it aside and reruns the stage).
Nothing is run or imported from the stages; the comparison is with <workdir>/<pipeline>/ov-movement.lock.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "status",
        help="show which stages are cached or out of date, and why",
        description="Show each stage's state and the reason it would rerun.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("config", metavar="FILE", help="pipeline file (JSON or YAML)")
    parser.add_argument("--workdir", metavar="DIR", help=WORKDIR_HELP)
    parser.add_argument(
        "--verify",
        action="store_true",
        help="re-hash every cached output file and every file the config names",
    )
    add_distributed_options(parser)  # the same as `run`'s: they are part of the config it plans
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from ov_movement.config.load import load_pipeline
    from ov_movement.config.summary import algorithm_notes
    from ov_movement.runner.execute import pipeline_status, print_status

    loaded = with_distributed(load_pipeline(args.config), args)
    plan = pipeline_status(loaded, STAGES, args.workdir, verify=args.verify)
    print_status(plan)
    for label, text in algorithm_notes(loaded.config):  # e.g. quantization runs (JPQD), never silently
        print(f"{label}: {text}")
    return 0
