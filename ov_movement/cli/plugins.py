"""`ov-movement plugins`: the installed tasks, data sources and stages plugins add, and where from."""

from __future__ import annotations

import argparse

EPILOG = """\
Plugins are Python distributions that declare entry points in the groups ov_movement.tasks,
ov_movement.data_sources and ov_movement.stages (docs/plugins.md). A plugin that fails to load is
listed with its error here, and stops every other command with that error (exit 2)."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "plugins",
        help="list the installed plugins (tasks, data sources, stages) and their distributions",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from ov_movement.plugins import installed

    found = installed()
    if not found:
        print(
            "no plugins installed (entry-point groups ov_movement.tasks, ov_movement.data_sources, "
            "ov_movement.stages)"
        )
        return 0
    failed = 0
    for plugin in found:
        print(
            f"{plugin.kind:<12} {plugin.name:<24} {plugin.distribution} {plugin.version}  ({plugin.target})"
        )
        if plugin.error:
            failed += 1
            print(f"  error: {plugin.error}")
    return 2 if failed else 0


__all__ = ["register"]
