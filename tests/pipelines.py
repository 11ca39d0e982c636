"""Running a shipped pipeline the way a user does: `ov-movement run pipelines/<file>` in a subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PIPELINES = Path(__file__).resolve().parents[1] / "pipelines"


def run_shipped(name: str, workdir: Path, timeout: int = 600) -> str:
    """`ov-movement run pipelines/<name> --workdir <workdir>`; its stdout (a failed run fails the test)."""
    proc = subprocess.run(
        [sys.executable, "-m", "ov_movement", "run", str(PIPELINES / name), "--workdir", str(workdir)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout
