"""Importing ov_movement and running `validate` must not pull in the ML stack (and must be fast)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HEAVY = ("torch", "nncf", "openvino", "transformers", "onnx", "onnxruntime", "numpy")
FIXTURE = Path(__file__).parent / "config" / "fixtures" / "wav2vec2_jpqd.json"

# CPU seconds (time.process_time), not wall seconds: other jobs on a busy machine delay the probe
# without making it do more work, and a wall-clock bound failed there (issue 15).
PROBE = """
import json, sys, time
started = time.process_time()
{body}
elapsed = time.process_time() - started
print(json.dumps({{"heavy": sorted(m for m in {heavy!r} if m in sys.modules), "elapsed": elapsed}}))
"""


def _probe(body: str) -> dict:
    code = PROBE.format(body=body, heavy=HEAVY)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_import_package_is_light():
    assert _probe("import ov_movement")["heavy"] == []


def test_import_config_is_light():
    assert _probe("import ov_movement.config")["heavy"] == []


def test_validate_is_light_and_fast():
    body = (
        "from ov_movement.cli import main\n"
        f"code = main(['validate', '-q', {str(FIXTURE)!r}])\n"
        "assert code == 0, code"
    )
    found = _probe(body)
    assert found["heavy"] == []
    assert found["elapsed"] < 1.0, f"validate took {found['elapsed']:.2f} s"


def test_reading_a_report_is_light():
    """`ov-movement report` reads JSON files: the ML stack stays out (numpy included)."""
    assert _probe("import ov_movement.reporting.collect")["heavy"] == []
