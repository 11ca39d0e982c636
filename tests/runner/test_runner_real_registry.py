"""The real STAGES registry: `status` and `run --dry-run` plan it without importing a stage.

Run in a fresh interpreter, so that what other tests imported cannot hide an import of torch,
nncf, openvino or transformers by the runner.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

HEAVY = ("torch", "nncf", "openvino", "transformers", "onnx", "ov_movement.stages.sparsify")

PROBE = textwrap.dedent(
    """
    import json, sys
    from ov_movement.cli import main
    codes = [main(["status", sys.argv[1], "--workdir", sys.argv[2]]),
             main(["run", sys.argv[1], "--workdir", sys.argv[2], "--dry-run"]),
             main(["run", sys.argv[1], "--workdir", sys.argv[2], "--dry-run", "--only", "convert"])]
    heavy = [name for name in sys.argv[3].split(",") if name in sys.modules]
    print("RESULT", json.dumps({"codes": codes, "heavy": heavy}))
    """
)


def test_status_and_dry_run_of_real_stages_import_nothing_heavy(tmp_path):
    config = tmp_path / "real.yaml"
    config.write_text("name: real\ntraining: {epochs: 6}\n")
    workdir = tmp_path / "wd"
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(config), str(workdir), ",".join(HEAVY)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    result = json.loads(done.stdout.split("RESULT ", 1)[1])
    assert result == {"codes": [0, 0, 2], "heavy": []}, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    status = [line for line in lines[1:10]]
    assert [line.split()[0] for line in status] == [
        "sparsify",
        "mask",
        "export",
        "convert",
        "quantize",
        "benchmark",
        "baseline",
        "report",
        "package",
    ]
    assert all(line.split()[1] == "missing" and line.endswith("never run") for line in status)
    assert sum("would run (" in line for line in lines) == 9 + 1  # all, then --only convert
    assert "convert needs outputs that are not cached" in done.stderr
    assert "--until export" in done.stderr
    assert not (workdir / "cache").exists() and not (workdir / ".lock").exists()


def test_real_stage_fingerprints_are_stable_across_processes(tmp_path):
    config = tmp_path / "real.yaml"
    config.write_text("name: real\n")
    code = (
        "import sys; from ov_movement.config.load import load_pipeline; "
        "from ov_movement.runner import make_plan; "
        "print(' '.join(s.fingerprint.digest for s in make_plan(load_pipeline(sys.argv[1]), "
        "__import__('ov_movement.stages').stages.STAGES, sys.argv[2]).stages))"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", code, str(config), str(tmp_path / "wd")],
            capture_output=True,
            text=True,
            timeout=120,
            env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"},
        ).stdout.split()
        for seed in ("1", "2")
    ]
    assert len(runs[0]) == 9 and runs[0] == runs[1]
