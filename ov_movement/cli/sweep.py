"""`ov-movement sweep FILE --set KEY=V1,V2`: one pipeline per combination of values, sharing the cache."""

from __future__ import annotations

import argparse
from collections import Counter

from ov_movement.cli.run import WORKDIR_HELP

_EPILOG = """\
examples:
  ov-movement sweep pipelines/tiny.yaml --set compression.params.importance_regularization_factor=0.01,0.03,0.1
  ov-movement sweep my.yaml --set training.epochs=5,8 --set compression.params.power=2,3 --jobs 2
  ov-movement sweep my-sweep.yaml          a file with a `sweep: {grid: {KEY: [V1, V2]}}` section
  ov-movement status my-sweep.yaml         per-variant state;  ov-movement report my-sweep.yaml  the table

KEY is a dotted key of the pipeline file (a number indexes a list: compression.0.params.power);
values are YAML 1.2 (5e-5 is a number; [16,16] a list). Several keys form a grid. Each variant is
the pipeline `<name>-<key>=<value>` in the same workdir, so the stages it shares with other
variants (the dense baseline, everything upstream of the swept keys) are computed once: with
--jobs, a variant that needs an entry another one is computing waits for it. Results:
<workdir>/<name>/sweep.md and sweep_pareto.png; each variant's own report under <workdir>/<variant>/.
"""


def add_set_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--set",
        dest="sets",
        metavar="KEY=V1,V2",
        action="append",
        default=[],
        help="sweep KEY over these values (repeatable: a grid; adds to or replaces the file's `sweep.grid`)",
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sweep",
        help="run one pipeline per combination of values (shared cache), then sweep.md and a Pareto plot",
        description="Run the variants of a sweep and summarise them in <workdir>/<name>/sweep.md.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "config", metavar="FILE", help="pipeline file (JSON or YAML), with or without `sweep:`"
    )
    add_set_argument(parser)
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        metavar="N",
        help="variants run at a time, in separate processes (default 1; at most the usable cores)",
    )
    parser.add_argument("--workdir", metavar="DIR", help=WORKDIR_HELP)
    parser.add_argument("--wait", action="store_true", help="if another run holds the workdir, wait for it")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from ov_movement.config.load import load_pipeline
    from ov_movement.config.sweep import expand
    from ov_movement.errors import ConfigError, ConfigIssue
    from ov_movement.reporting.sweep import write_sweep_report
    from ov_movement.runner.progress import shown
    from ov_movement.runner.sweep import failures, run_sweep, sweep_dir

    if args.jobs < 1:
        raise ConfigError([ConfigIssue("--jobs", f"must be at least 1, got {args.jobs}")])
    sweep = expand(load_pipeline(args.config), args.sets)
    results = run_sweep(sweep, args.workdir, jobs=args.jobs, wait=args.wait)
    written = write_sweep_report(
        sweep, sweep_dir(sweep, args.workdir), {r.name: r.directory for r in results}
    )
    computed = Counter(stage for result in results for stage in result.ran)
    print(
        f"sweep {sweep.name}: {len(results)} variants; computed: "
        + (", ".join(f"{stage} x{count}" for stage, count in computed.items()) or "nothing (all cached)")
    )
    print("results: " + ", ".join(shown(path) for path in written))
    error = failures(results)
    if error:
        raise error
    return 0


__all__ = ["add_set_argument", "register"]
