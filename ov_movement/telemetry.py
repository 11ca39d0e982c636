"""No usage telemetry from OpenVINO or NNCF in ov-movement's processes.

Verified on openvino 2026.4.1 / openvino-telemetry 2025.x / nncf 2.19.0: `import openvino` sends
an "import" event (openvino/tools/ovc/__init__.py), and `convert_model` and NNCF send more. Each
event is sent from a worker thread that forks a `multiprocessing.Process` to call `urlopen` and
joins it for up to 3 s. A fork from a background thread while the main thread loads OpenVINO or
torch, and a child that gets the terminal's Ctrl-C too, made Ctrl-C during `benchmark` end in a
traceback from that child ("Process Process-1: ... KeyboardInterrupt" in ssl) instead of the one
"interrupted" line, and is the kind of fork that can crash the forked or the forking process. The
machines this runs on are often offline, so the events only cost time anyway.

Both libraries fall back to a no-op stub when `openvino_telemetry` cannot be imported (OpenVINO's
`openvino.tools.ovc.telemetry_stub`, NNCF's "No telemetry will be sent"); marking the module as
absent in `sys.modules` makes its import fail. It must happen before the first import of openvino
or nncf: the CLI does it first thing. Nothing is written to the user's telemetry consent file.
"""

from __future__ import annotations

import sys

TELEMETRY_MODULE = "openvino_telemetry"


def disable_library_telemetry() -> bool:
    """Make `import openvino_telemetry` fail in this process; False if it was imported already."""
    if TELEMETRY_MODULE in sys.modules and sys.modules[TELEMETRY_MODULE] is not None:
        return False
    sys.modules[TELEMETRY_MODULE] = None  # type: ignore[assignment]  # import -> ModuleNotFoundError
    return True


__all__ = ["TELEMETRY_MODULE", "disable_library_telemetry"]
