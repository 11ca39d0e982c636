"""`ov-movement schema --out DIR`: write the JSON Schemas (and optionally the config reference).

The schemas are generated from the Pydantic models, so editors validate configs by the same rules
as `ov-movement validate` (less the checks JSON Schema cannot express, such as regex syntax).
"""

from __future__ import annotations

import argparse
from pathlib import Path

EPILOG = """\
examples:
  ov-movement schema --out schemas/ --docs docs/configuration.md     # regenerate (make schemas)
  ov-movement schema --out schemas/ --docs docs/configuration.md --check   # exit 2 if stale

then, in a pipeline file:  "$schema": "../schemas/pipeline.schema.json"
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "schema",
        help="write JSON Schemas for config files (editor validation)",
        description="Write pipeline.schema.json and compression.schema.json, generated from the models.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--out", required=True, type=Path, metavar="DIR", help="directory for the schema files"
    )
    parser.add_argument("--docs", type=Path, metavar="FILE", help="also write the Markdown config reference")
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 2 when a file is missing or differs from what would be written",
    )
    parser.set_defaults(func=run)


def _expected(args: argparse.Namespace) -> dict[Path, str]:
    from ov_movement.config.reference import dumps, render_reference, schemas

    files = {args.out / name: dumps(schema) for name, schema in schemas().items()}
    if args.docs is not None:
        files[args.docs] = render_reference()
    return files


def run(args: argparse.Namespace) -> int:
    from ov_movement.errors import ConfigError

    files = _expected(args)
    if args.check:
        stale = [
            str(path)
            for path, text in files.items()
            if not path.is_file() or path.read_text(encoding="utf-8") != text
        ]
        if stale:
            raise ConfigError(f"out of date: {', '.join(stale)} (run `make schemas`)")
        print(f"up to date: {len(files)} files")
        return 0
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    return 0


__all__ = ["register", "run"]
