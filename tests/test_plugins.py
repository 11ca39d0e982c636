"""Plugins: the example package under examples/ adds a task, a data source and a stage after
`convert`; validate, status, run, report and the schema all know them. Installed the way pip would
leave it (the package plus a dist-info with entry_points.txt) on PYTHONPATH; every command runs in
a fresh `python -m ov_movement` process, as a user types it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "ov-movement-example-plugin"
PACKAGE = "ov_movement_example_plugin"


def install(site: Path, project: Path = EXAMPLE, package: str = PACKAGE) -> Path:
    """The package and a dist-info (METADATA, entry_points.txt from its pyproject) under `site`."""
    meta = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    shutil.copytree(project / package, site / package)
    dist_info = site / f"{package}-{meta['version']}.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {meta['name']}\nVersion: {meta['version']}\n"
    )
    lines = []
    for group, entries in meta["entry-points"].items():
        lines += [f"[{group}]", *(f"{name} = {target}" for name, target in entries.items()), ""]
    (dist_info / "entry_points.txt").write_text("\n".join(lines))
    return site


def cli(site: Path, *args: str, cwd: Path | None = None, timeout: int = 900) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(site), str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.run(
        [sys.executable, "-m", "ov_movement", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=timeout,
    )


PIPELINE = {
    "name": "plugged",
    "model": {
        "task": "lowercase-text-classification",
        "config": {
            "model_type": "bert",
            "hidden_size": 32,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "intermediate_size": 64,
            "max_position_embeddings": 32,
        },
    },
    "data": {"source": "word_pools", "path": None, "synthetic_samples": 64, "max_seq_length": 16},
    "training": {"epochs": 3, "batch_size": 16, "learning_rate": 0.002, "num_threads": 1},
    "compression": {
        "algorithm": "movement_sparsity",
        "params": {
            "warmup_start_epoch": 1,
            "warmup_end_epoch": 2,
            "importance_regularization_factor": 0.005,
            "enable_structured_masking": True,
        },
        "sparse_structure_by_scopes": [
            {"mode": "block", "sparse_factors": [16, 16], "target_scopes": "{re}.*BertAttention.*"},
            {"mode": "per_dim", "axis": 0, "target_scopes": "{re}.*BertIntermediate.*"},
            {"mode": "per_dim", "axis": 1, "target_scopes": "{re}.*BertOutput.*"},
        ],
        "ignored_scopes": [
            "{re}.*NNCFEmbedding",
            "{re}.*LayerNorm.*",
            "{re}.*classifier.*",
            "{re}.*pooler.*",
        ],
    },
    "ir_ops": {"top": 3},
}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return install(tmp_path_factory.mktemp("site"))


@pytest.fixture
def pipeline(tmp_path):
    path = tmp_path / "plugged.json"
    path.write_text(json.dumps(PIPELINE))
    return path


def test_plugins_lists_what_is_installed_and_from_which_distribution(site):
    done = cli(site, "plugins")
    assert done.returncode == 0, done.stderr
    for kind, name in (
        ("task", "lowercase-text-classification"),
        ("data source", "word_pools"),
        ("stage", "ir_ops"),
    ):
        line = next(line for line in done.stdout.splitlines() if f" {name} " in f" {line} ")
        assert line.startswith(kind) and "ov-movement-example-plugin 0.1.0" in line


def test_validate_knows_the_task_the_source_and_the_stage_section(site, pipeline, tmp_path):
    assert cli(site, "validate", str(pipeline)).returncode == 0
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**PIPELINE, "ir_ops": {"top": 0, "colour": "red"}}))
    done = cli(site, "validate", str(bad))
    assert done.returncode == 2 and "ir_ops.top" in done.stderr and "ir_ops.colour" in done.stderr
    image = tmp_path / "image.json"  # the plugin source feeds labelled texts, not images
    image.write_text(json.dumps({**PIPELINE, "model": {"task": "image-classification"}}))
    done = cli(site, "validate", str(image))
    assert done.returncode == 2 and "data.source" in done.stderr and "word_pools" in done.stderr


def test_without_the_plugin_its_names_are_unknown(pipeline, tmp_path):
    done = cli(tmp_path / "empty-site", "validate", str(pipeline))
    assert done.returncode == 2
    assert "model.task" in done.stderr and "data.source" in done.stderr and "ir_ops" in done.stderr


def test_the_schema_knows_them(site, tmp_path):
    assert cli(site, "schema", "--out", str(tmp_path)).returncode == 0
    schema = json.loads((tmp_path / "pipeline.schema.json").read_text())
    assert "ir_ops" in schema["properties"]
    text = json.dumps(schema)
    assert "lowercase-text-classification" in text and "word_pools" in text


def test_a_broken_plugin_is_named_with_its_distribution_without_a_traceback(tmp_path, pipeline):
    project = tmp_path / "broken-project"
    (project / "broken_plugin").mkdir(parents=True)
    (project / "broken_plugin" / "__init__.py").write_text("import a_module_that_does_not_exist\n")
    (project / "pyproject.toml").write_text(
        '[project]\nname = "ov-movement-broken"\nversion = "0.0.1"\n'
        '[project.entry-points."ov_movement.stages"]\nbroken = "broken_plugin:STAGE"\n'
    )
    site = install(tmp_path / "site", project, "broken_plugin")
    done = cli(site, "validate", str(pipeline))
    assert done.returncode == 2
    assert "plugin 'broken'" in done.stderr and "ov-movement-broken 0.0.1" in done.stderr
    assert "a_module_that_does_not_exist" in done.stderr and "Traceback" not in done.stderr
    listed = cli(site, "plugins")
    assert listed.returncode == 2 and "error:" in listed.stdout and "broken" in listed.stdout


@pytest.mark.slow
def test_a_tiny_pipeline_runs_through_the_plugin_task_source_and_stage(site, pipeline, tmp_path):
    workdir = tmp_path / "runs"
    status = cli(site, "status", str(pipeline), "--workdir", str(workdir))
    assert status.returncode == 0 and "ir_ops" in status.stdout
    done = cli(site, "run", str(pipeline), "--until", "ir_ops", "--workdir", str(workdir))
    assert done.returncode == 0, done.stdout + done.stderr
    ops = json.loads((workdir / "plugged" / "ir_ops" / "ir_ops.json").read_text())
    assert ops["total"] > 0 and len(ops["top"]) == 3
    status = cli(site, "status", str(pipeline), "--workdir", str(workdir))
    assert any(line.split()[:2] == ["ir_ops", "cached"] for line in status.stdout.splitlines()), status.stdout
    report = cli(site, "report", str(pipeline), "--workdir", str(workdir))
    assert report.returncode == 0, report.stderr
    assert any(line.startswith("ir_ops: ") and "operations" in line for line in report.stdout.splitlines())
