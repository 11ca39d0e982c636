"""`ov-movement` command line: one small module per subcommand (torchtune style).

Each subcommand module exposes `register(subparsers)`, which adds its parser and sets
`func(args) -> int`. Errors a user can cause (`OvMovementError`) are printed without a traceback
and exit with code 2, here and only here; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Any

from ov_movement import __version__
from ov_movement.entry_points import declared
from ov_movement.errors import OvMovementError
from ov_movement.telemetry import disable_library_telemetry

_SUBCOMMANDS = ("validate", "run", "sweep", "status", "report", "schema", "predict", "plugins")


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


class _ClosedPipeSafe:
    """A stream whose reader may go away (`ov-movement status FILE | head -1`): the rest is dropped.

    As the Python docs advise for SIGPIPE (`signal` module, "Note on SIGPIPE"): on EPIPE, point the
    file descriptor at /dev/null so that no later write or flush (at exit included) fails again.
    The command carries on, so a `run` whose output reader quit still finishes and caches its work.
    """

    def __init__(self, stream: Any):
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._discard()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._discard()

    def _discard(self) -> None:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, self._stream.fileno())
        finally:
            os.close(devnull)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def main(argv: list[str] | None = None) -> int:
    disable_library_telemetry()  # before anything imports openvino or nncf (see ov_movement/telemetry.py)
    streams = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _ClosedPipeSafe(sys.stdout), _ClosedPipeSafe(sys.stderr)
    try:
        return _main(argv)
    finally:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        sys.stdout, sys.stderr = streams


def _main(argv: list[str] | None) -> int:
    broken = None
    if declared():  # before the parser: the stage lists in its help come from the registry
        from ov_movement.plugins import PluginError, load_plugins  # the registries: only with plugins

        try:
            load_plugins()
        except PluginError as error:
            broken = error
    parser = build_parser()
    args = parser.parse_args(argv)
    if broken is not None and args.command != "plugins":  # `plugins` lists the broken one itself
        print(f"error: {broken}", file=sys.stderr)
        return broken.exit_code
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
