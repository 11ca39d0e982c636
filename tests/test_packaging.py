"""Installing ov-movement into an existing environment keeps that environment's ML stack.

pyproject.toml declares ranges (transformers >=4.45,<6; torch 2.13-2.15), not the pins of either
tested set: `pip install .` into a venv that already holds transformers 5.x (make test-latest) or
4.57 (make test) must install neither transformers nor torch — no downgrade, no CUDA torch pulled in.
Resolved with pip's own dry run against the running interpreter's environment (needs the package
index only for the build backend)."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_pip_install_keeps_the_installed_transformers_and_torch(tmp_path):
    report_path = tmp_path / "report.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--quiet",
            "--report",
            str(report_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(report_path.read_text())
    to_install = {item["metadata"]["name"].lower(): item["metadata"]["version"] for item in report["install"]}
    assert "ov-movement" in to_install  # the report is about this project
    for name in ("transformers", "torch", "tokenizers", "huggingface-hub", "nncf", "openvino"):
        assert name not in to_install, f"pip would replace {name} {version(name)} with {to_install[name]}"
