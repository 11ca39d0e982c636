"""`ov-movement report FILE`: the results of a pipeline's current outputs, in the terminal."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from ov_movement.stages import STAGE_ORDER, STAGES

if TYPE_CHECKING:
    from ov_movement.config.load import LoadedPipeline

EPILOG = """examples:
  ov-movement report pipelines/bert.json
  ov-movement report my.yaml --workdir /data/runs
The full report (plots, per-layer tables) is <workdir>/<pipeline>/report/report.md once the
report stage has run. On a sweep (a `sweep:` section, or --set KEY=V1,V2): the sweep table, one
row per variant, as in <workdir>/<name>/sweep.md."""


def stage_names() -> tuple[str, ...]:
    """Every registered stage, in pipeline order: the report reads the outputs of whichever exist."""
    return tuple(STAGES)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report",
        help="print the summary tables of a pipeline's current results",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", type=Path, help="pipeline file (JSON or YAML)")
    parser.add_argument("--workdir", type=Path, default=None, help="override the config's `workdir`")
    from ov_movement.cli.sweep import add_set_argument

    add_set_argument(parser)
    parser.set_defaults(func=main)


def view_dir(loaded: LoadedPipeline, workdir: Path | None) -> Path:
    """`<workdir>/<pipeline-name>`, resolved by the runner's own rules so `report` reads exactly
    the views `run` wrote (workdir relative to the current directory; sanitised name)."""
    from ov_movement.runner.lockfile import pipeline_dir
    from ov_movement.runner.plan import resolve_workdir

    return pipeline_dir(resolve_workdir(loaded, workdir), loaded.name)


def main(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.text import Text

    from ov_movement.config.load import load_pipeline
    from ov_movement.config.sweep import expand, is_sweep
    from ov_movement.errors import StageError
    from ov_movement.reporting import tables
    from ov_movement.reporting.collect import collect
    from ov_movement.reporting.markdown import headline
    from ov_movement.reporting.sources import read_json
    from ov_movement.runner.store import MANIFEST
    from ov_movement.stages.report import REPORT_MD

    loaded = load_pipeline(args.file)
    if is_sweep(loaded, args.sets):
        return _sweep_report(expand(loaded, args.sets), args)
    root = view_dir(loaded, args.workdir)
    stage_dirs = {stage: root / stage for stage in stage_names() if (root / stage).is_dir()}
    if not stage_dirs:
        raise StageError(
            f"no outputs of pipeline {loaded.name!r} under {root}; run `ov-movement run {args.file}` first"
        )
    data = collect(loaded.config, stage_dirs, title=f"{loaded.name}: results")

    # Every value goes out as rich Text: literal, never read as console markup ("[re]", "[bold]").
    console = Console()
    _print_table = _printer(console)
    console.print(Text(data.title, style="bold"), Text(f" ({root})"))
    if loaded.config.description:
        console.print(Text(loaded.config.description))
    for line in headline(data):
        console.print(Text(line))
    for table in tables.summary_tables(data):
        if table.rows:
            _print_table(table)
    for stage in stage_names():  # stages the tables do not cover (plugins'): their own summary line
        if stage not in STAGE_ORDER and stage in stage_dirs:
            manifest = read_json(stage_dirs[stage] / MANIFEST)
            summary = manifest.get("summary", "") if isinstance(manifest, dict) else ""
            console.print(Text(f"{stage}: {summary or 'done'} ({stage_dirs[stage]})"))
    if data.missing:
        console.print(Text("not available yet: " + ", ".join(data.missing), style="yellow"))
    report_md = root / "report" / REPORT_MD
    if report_md.is_file():
        console.print(Text(f"full report: {report_md}"))
    return 0


def _printer(console):
    from rich.table import Table as RichTable
    from rich.text import Text

    def print_table(table) -> None:
        rich_table = RichTable(title=Text(table.title), title_justify="left")
        for column in table.header:
            rich_table.add_column(Text(column))
        for row in table.rows:
            rich_table.add_row(*(Text(cell) for cell in row))
        console.print(rich_table)

    return print_table


def _sweep_report(sweep, args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.text import Text

    from ov_movement.errors import StageError
    from ov_movement.reporting.sweep import SWEEP_MD, sweep_rows, sweep_table
    from ov_movement.runner.sweep import sweep_dir, variant_dir

    directories = {v.name: variant_dir(sweep, v, args.workdir) for v in sweep.variants}
    if not any(directory.is_dir() for directory in directories.values()):
        raise StageError(
            f"no outputs of any variant of sweep {sweep.name!r}; run `ov-movement sweep {args.file}` first"
        )
    console = Console()
    _printer(console)(sweep_table(sweep, sweep_rows(sweep, directories)))
    summary = sweep_dir(sweep, args.workdir) / SWEEP_MD
    if summary.is_file():
        console.print(Text(f"sweep summary: {summary}"))
    return 0


__all__ = ["register", "stage_names", "view_dir"]
