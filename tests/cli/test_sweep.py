"""`ov-movement sweep` on the tiny pipeline, through the CLI as a user runs it.

One module-scoped workdir: a 3-point sweep of `importance_regularization_factor` with the dense
baseline on; the counts are taken from the cache right after it. Then the rerun (fully cached),
`status`/`report`/`run` on the sweep file, and a `--jobs 2` sweep whose two variants share every
stage but `report`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ov_movement.config.load import read_document
from ov_movement.reporting.plots import SWEEP_SIZE
from ov_movement.runner.sweep import usable_cores
from tests.pipelines import PIPELINES
from tests.reporting.test_plots import assert_real_plot

pytestmark = pytest.mark.slow

FACTOR = "compression.params.importance_regularization_factor"
FACTORS = [0.01, 0.03, 0.1]
STAGES = ("sparsify", "mask", "export", "convert", "quantize", "benchmark", "baseline", "report")
NAMES = [f"tiny-bert-importance_regularization_factor={value}" for value in FACTORS]


def _cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "400"}  # rich tables: one line per row, as on a wide terminal
    proc = subprocess.run(
        [sys.executable, "-m", "ov_movement", *args], capture_output=True, text=True, timeout=1200, env=env
    )
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def _entries(workdir: Path) -> dict[str, int]:
    """Committed cache entries per stage (64-hex directories; not .partial, not moved aside)."""
    return {
        stage: sum(1 for p in (workdir / "cache" / stage).glob("*") if re.fullmatch(r"[0-9a-f]{64}", p.name))
        for stage in STAGES
    }


def _actions(workdir: Path) -> list[dict[str, str]]:
    record = json.loads((workdir / "tiny-bert" / "sweep.json").read_text())
    return [{stage: s["action"] for stage, s in v["stages"].items()} for v in record["variants"]]


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """The tiny pipeline, smaller still (fewer samples and epochs, short benchmark), with the dense
    baseline on and a `sweep:` section; swept once."""
    root = tmp_path_factory.mktemp("sweep")
    raw = read_document(PIPELINES / "tiny.yaml")
    raw.pop("$schema")
    raw["data"]["synthetic_samples"] = 128
    raw["training"]["epochs"] = 3
    raw["compression"]["params"].update(warmup_start_epoch=1, warmup_end_epoch=2)
    raw["baseline"] = {"enabled": True, "epochs": 1}
    raw["quantize"]["subset_size"] = 16
    raw["benchmark"] = {"time_s": 0.5, "repeats": 1}
    raw["sweep"] = {"grid": {FACTOR: FACTORS}}
    config = root / "tiny-sweep.json"
    config.write_text(json.dumps(raw, indent=1), encoding="utf-8")
    workdir = root / "wd"
    first = _cli("sweep", str(config), "--workdir", str(workdir))
    return config, workdir, first.stdout, _entries(workdir), _actions(workdir)


def test_shared_stages_are_computed_once_and_the_summary_is_written(swept):
    _, workdir, stdout, entries, actions = swept
    # The dense baseline reads no swept key: one entry, computed by one variant, reused by the others.
    assert entries["baseline"] == 1
    assert [a["baseline"] for a in actions].count("ran") == 1
    # Every other stage reads the compression section (or is downstream of it): one entry per variant.
    assert all(entries[stage] == 3 for stage in STAGES if stage != "baseline"), entries
    assert all(action == "ran" for a in actions for stage, action in a.items() if stage != "baseline")
    assert "baseline x1" in stdout and "sparsify x3" in stdout
    for name in NAMES:  # each variant is a pipeline of its own, with its own report
        assert (workdir / name.replace("=", "-") / "report" / "report.md").is_file()

    summary = (workdir / "tiny-bert" / "sweep.md").read_text()
    for name in NAMES:
        assert name.replace("_", "\\_") in summary
    assert "dense: dense fine-tuned baseline" in summary
    rows = [line for line in summary.splitlines() if line.startswith("| tiny-bert-")]
    assert len(rows) == 3 and all(re.search(r"\d+\.\d\d%", row) for row in rows)  # accuracies measured
    assert_real_plot(workdir / "tiny-bert" / "sweep_pareto.png", SWEEP_SIZE)


def test_rerunning_the_sweep_is_fully_cached(swept):
    config, workdir, _, entries, _ = swept
    again = _cli("sweep", str(config), "--workdir", str(workdir))
    assert "computed: nothing (all cached)" in again.stdout
    assert all(action == "cached" for a in _actions(workdir) for action in a.values())
    assert _entries(workdir) == entries


def test_status_report_and_run_on_a_sweep_file(swept):
    config, workdir, *_ = swept
    status = _cli("status", str(config), "--workdir", str(workdir)).stdout
    assert "sweep tiny-bert: 3 of 3 variants complete" in status
    assert all(f"pipeline {name}" in status for name in NAMES)
    report = _cli("report", str(config), "--workdir", str(workdir)).stdout
    assert all(name in report for name in NAMES) and "sweep summary:" in report
    refused = _cli("run", str(config), "--workdir", str(workdir), check=False)
    assert refused.returncode == 2 and "ov-movement sweep" in refused.stderr


@pytest.mark.skipif(usable_cores() < 2, reason="--jobs 2 runs one variant at a time on one core")
def test_parallel_variants_never_compute_a_shared_stage_twice(swept):
    config, workdir, *_ = swept
    # A factor not swept before: sparsify..benchmark are new and shared by both variants.
    args = [f"--set={FACTOR}=0.005", "--set=report.max_accuracy_drop=0.01,0.02", "--jobs", "2"]
    proc = _cli("sweep", str(config), "--workdir", str(workdir), *args)
    actions = _actions(workdir)
    assert len(actions) == 2
    for stage in ("sparsify", "mask", "export", "convert", "quantize", "benchmark"):
        assert [a[stage] for a in actions].count("ran") == 1, (stage, actions, proc.stdout)
    # The stages that read the swept key: the report, and the package (its default choice follows it).
    assert [a["report"] for a in actions] == ["ran", "ran"]
    assert [a["package"] for a in actions] == ["ran", "ran"]
    assert all(a["baseline"] == "cached" for a in actions)
    assert _entries(workdir)["sparsify"] == 4
