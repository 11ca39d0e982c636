"""`ov-movement run FILE`: run what is out of date, reuse the rest from the cache."""

from __future__ import annotations

import argparse

from ov_movement.stages import STAGES

_EPILOG = """\
examples:
  ov-movement run pipelines/bert.json                 run (or resume) everything out of date
  ov-movement run pipelines/bert.json --dry-run       show the plan: what would run, and why
  ov-movement run pipelines/bert.json --from mask     mask and everything after it
  ov-movement run pipelines/bert.json --until export  export and everything it needs
  ov-movement run pipelines/bert.json --only convert  just convert, from cached upstream outputs
  ov-movement run pipelines/bert.json --only benchmark --force   rerun it even if cached

A stage runs when its fingerprint (the config keys it reads, the contents of the files and
directories they name, its upstream stages, the versions of torch/nncf/openvino/transformers/onnx/
ov-movement) has no intact entry in <workdir>/cache.
Selections never rerun upstream stages silently: if a selected stage needs outputs that are not
cached, the command says what to run first. Results: <workdir>/<pipeline>/<stage> (links into the
cache) and <workdir>/<pipeline>/ov-movement.lock. Interrupted? Run the same command again:
finished stages are cached and training stages resume from their epoch checkpoints.
"""

WORKDIR_HELP = (
    'cache and results directory (default: the config\'s `workdir`, itself "runs" by default); '
    "a relative path, here or in the config, is relative to the current directory"
)


def register(subparsers: argparse._SubParsersAction) -> None:
    stages = ", ".join(STAGES)
    parser = subparsers.add_parser(
        "run",
        help="run the stages that are out of date",
        description=f"Run a pipeline's stages ({stages}) that are out of date.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("config", metavar="FILE", help="pipeline file (JSON or YAML)")
    parser.add_argument("--from", dest="from_", metavar="STAGE", help="start at STAGE (and run what follows)")
    parser.add_argument("--until", metavar="STAGE", help="stop after STAGE (running what it needs)")
    parser.add_argument(
        "--only",
        metavar="STAGE",
        action="append",
        help="run only STAGE (repeatable); its upstream outputs must be cached",
    )
    parser.add_argument("--force", action="store_true", help="rerun the selected stages even if cached")
    parser.add_argument("--dry-run", action="store_true", help="print the plan and run nothing")
    parser.add_argument("--workdir", metavar="DIR", help=WORKDIR_HELP)
    parser.add_argument(
        "--verify",
        action="store_true",
        help="re-hash every cached output and every file the config names "
        "(default: re-hash only files whose size/time/inode changed)",
    )
    parser.add_argument("--wait", action="store_true", help="if another run holds the workdir, wait for it")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from ov_movement.config.load import load_pipeline
    from ov_movement.errors import ConfigError
    from ov_movement.runner.execute import run_pipeline

    loaded = load_pipeline(args.config)
    if loaded.config.sweep is not None:
        # A sweep's variants are separate pipelines; `run`'s selections (--only, --from) would be
        # ambiguous across them, so the file is run by one command only.
        raise ConfigError(
            f"{args.config} is a sweep (its `sweep:` section has {len(loaded.config.sweep.grid)} key(s)): run it "
            f"with `ov-movement sweep {args.config}`, or remove the section to run the pipeline once"
        )
    run_pipeline(
        loaded,
        STAGES,
        args.workdir,
        from_=args.from_,
        until=args.until,
        only=args.only,
        force=args.force,
        dry_run=args.dry_run,
        verify=args.verify,
        wait=args.wait,
    )
    return 0
