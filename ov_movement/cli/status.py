"""`ov-movement status FILE`: each stage cached / stale / missing / damaged, and why."""

from __future__ import annotations

import argparse

from ov_movement.cli.run import WORKDIR_HELP
from ov_movement.cli.sweep import add_set_argument
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
A sweep (a file with a `sweep:` section, or --set KEY=V1,V2) shows every variant's stages.
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
    add_set_argument(parser)
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from ov_movement.config.load import load_pipeline
    from ov_movement.config.summary import algorithm_notes
    from ov_movement.config.sweep import expand, is_sweep
    from ov_movement.runner.execute import pipeline_status, print_status

    loaded = load_pipeline(args.config)
    if is_sweep(loaded, args.sets):
        return _sweep_status(expand(loaded, args.sets), args)
    plan = pipeline_status(loaded, STAGES, args.workdir, verify=args.verify)
    print_status(plan)
    for label, text in algorithm_notes(loaded.config):  # e.g. quantization runs (JPQD), never silently
        print(f"{label}: {text}")
    return 0


def _sweep_status(sweep, args: argparse.Namespace) -> int:
    from ov_movement.reporting.sweep import SWEEP_MD
    from ov_movement.runner.execute import pipeline_status, print_status
    from ov_movement.runner.plan import CACHED
    from ov_movement.runner.progress import shown
    from ov_movement.runner.sweep import sweep_dir

    complete = 0
    for index, variant in enumerate(sweep.variants, 1):
        plan = pipeline_status(variant.loaded, STAGES, args.workdir, verify=args.verify)
        cached = sum(stage.state == CACHED for stage in plan.stages)
        complete += cached == len(plan.stages)
        print(
            f"== variant {index}/{len(sweep.variants)}: {variant.name}  ({cached}/{len(plan.stages)} cached)"
        )
        print_status(plan)
    summary = sweep_dir(sweep, args.workdir) / SWEEP_MD
    state = shown(summary) if summary.is_file() else "not written yet"
    print(f"sweep {sweep.name}: {complete} of {len(sweep.variants)} variants complete; sweep.md: {state}")
    return 0
