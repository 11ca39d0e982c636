"""`ov-movement` command line: one small module per subcommand (torchtune style).

Each subcommand module exposes `register(subparsers)`, which adds its parser and sets
`func(args) -> int`. Errors a user can cause (`OvMovementError`) are printed without a traceback
and exit with code 2, here and only here; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from ov_movement import __version__
from ov_movement.errors import OvMovementError

_SUBCOMMANDS = ("validate", "run", "status", "report", "schema")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ov-movement",
        description="Movement sparsity (NNCF) -> pruned OpenVINO IR, as a cached pipeline.",
        epilog="Example: ov-movement run pipelines/bert.json   (see `ov-movement COMMAND -h`)",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in _SUBCOMMANDS:
        importlib.import_module(f"ov_movement.cli.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except OvMovementError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print(
            "\ninterrupted: finished stages and epoch checkpoints are kept; run the same command to resume.",
            file=sys.stderr,
        )
        return 130


__all__ = ["build_parser", "main"]
