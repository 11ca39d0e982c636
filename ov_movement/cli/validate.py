"""`ov-movement validate FILE...`: check pipeline / NNCF config files before anything runs.

Imports only the config package (pydantic, json5, yaml): no torch, nncf, openvino or transformers,
so it answers in well under a second.
"""

from __future__ import annotations

import argparse
import sys

EPILOG = """\
examples:
  ov-movement validate pipelines/bert.json
  ov-movement validate my-nncf-config.json optimum-intel/bert-base-jpqd.json
  ov-movement validate -q pipelines/*.yaml       # print only problems
  ov-movement validate --presets                 # the scope presets (compression.preset)

Accepts ov-movement pipelines, NNCF configs and optimum-intel compression configs (JSON, JSON with
trailing commas or comments, YAML). Exit status: 0 when every file is valid, 2 otherwise; each
problem is printed with its location, e.g. compression.sparse_structure_by_scopes[1].axis.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check config files and summarise what they would run",
        description="Check pipeline / NNCF movement-sparsity config files and summarise each valid one.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("files", nargs="*", metavar="FILE", help="pipeline or NNCF config (JSON or YAML)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing for valid files")
    parser.add_argument(
        "--presets", action="store_true", help="list the scope presets (compression.preset) and their scopes"
    )
    parser.set_defaults(func=run, parser=parser)


def run(args: argparse.Namespace) -> int:
    from ov_movement.config.load import load_pipeline
    from ov_movement.config.summary import render_summary
    from ov_movement.errors import ConfigError

    if getattr(args, "presets", False):
        from ov_movement.config.summary import preset_table

        print(preset_table())
        if not args.files:
            return 0
        print()
    elif not args.files:
        args.parser.error("the following arguments are required: FILE (or --presets)")
    status = 0
    for index, file in enumerate(args.files):
        try:
            loaded = load_pipeline(file)
        except ConfigError as error:
            # Every file is checked, so one run reports every problem in every file.
            print(f"error: {error}", file=sys.stderr)
            status = error.exit_code
            continue
        sweep_line = ""
        if loaded.config.sweep is not None:
            from ov_movement.config.sweep import expand

            try:  # every variant is a pipeline of its own: each is validated, problems named by variant
                sweep = expand(loaded)
            except ConfigError as error:
                print(f"error: {error}", file=sys.stderr)
                status = error.exit_code
                continue
            names = ", ".join(variant.name for variant in sweep.variants)
            sweep_line = (
                f"\nsweep: {len(sweep.variants)} variants ({names}); run with `ov-movement sweep {file}`"
            )
        if not args.quiet:
            print(("\n" if index else "") + render_summary(loaded, label=file) + sweep_line)
    return status


__all__ = ["register", "run"]
