"""Untrusted input is never executed: YAML through the safe loader, checkpoints through
`torch.load(weights_only=True)`, no eval/pickle; and what the config names cannot make outputs
land outside the workdir."""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ov_movement.config.load import load_pipeline
from ov_movement.errors import ConfigError, StageError
from ov_movement.runner.execute import run_pipeline
from ov_movement.runner.lockfile import pipeline_dir
from tests.runner import runner_toys

PACKAGE = Path(__file__).resolve().parents[2] / "ov_movement"
SOURCES = sorted(PACKAGE.rglob("*.py"))


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield node, ast.unparse(node.func)


def _keyword(call: ast.Call, name: str):
    return next((k.value for k in call.keywords if k.arg == name), None)


def _violations(source: Path) -> list[str]:
    tree = ast.parse(source.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [alias.name for alias in node.names] + [getattr(node, "module", None) or ""]
            if {"pickle", "dill", "cloudpickle", "marshal", "shelve"} & set(names):
                found.append(f"{source.name}:{node.lineno}: {ast.unparse(node)}")
    for call, name in _calls(tree):
        where = f"{source.relative_to(PACKAGE)}:{call.lineno}: {ast.unparse(call)}"
        weights_only = _keyword(call, "weights_only")
        allow_pickle = _keyword(call, "allow_pickle")
        trust = _keyword(call, "trust_remote_code")
        if (
            name in ("eval", "exec", "yaml.load", "yaml.unsafe_load", "yaml.full_load")
            or (
                name == "torch.load"
                and not (isinstance(weights_only, ast.Constant) and weights_only.value is True)
            )
            or (name.endswith("np.load") and allow_pickle is not None)
            or (isinstance(trust, ast.Constant) and trust.value is True)
        ):
            found.append(where)
    return found


def test_no_unsafe_deserialisation_or_evaluation_in_the_package():
    assert len(SOURCES) > 40
    assert [v for source in SOURCES for v in _violations(source)] == []


class _Payload:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _evil_checkpoint(directory: Path, marker: Path) -> Path:
    import torch

    directory.mkdir()
    torch.save({"weight": _Payload(marker)}, directory / "model.pt")
    torch.save({"optimizer": _Payload(marker)}, directory / "training_state.pt")
    (directory / "compression_state.json").write_text("{}")
    (directory / "meta.json").write_text(json.dumps({"format_version": 1}))
    return directory


def test_a_checkpoint_with_code_in_it_is_refused_not_run(tmp_path):
    from ov_movement.training.checkpoint import CorruptCheckpointError, load_checkpoint, read_masks

    marker = tmp_path / "pwned"
    checkpoint = _evil_checkpoint(tmp_path / "checkpoint", marker)
    with pytest.raises(CorruptCheckpointError, match="model.pt is unreadable"):
        load_checkpoint(checkpoint)
    with pytest.raises(CorruptCheckpointError, match="model.pt is unreadable"):
        read_masks(checkpoint)
    assert not marker.exists()


def test_compression_state_cannot_name_foreign_classes(tmp_path):
    from ov_movement.training.checkpoint import from_json_tree

    with pytest.raises(StageError, match="foreign class 'os:system'"):
        from_json_tree({"stage": {"__enum__": "os:system", "value": "touch pwned"}})


def test_yaml_tags_that_construct_objects_are_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "p.yaml"
    for tag in ("!!python/object/apply:os.system", "!!python/object/new:os.system"):
        path.write_text(f"{tag} ['touch {marker}']\n")
        with pytest.raises(ConfigError, match="could not determine a constructor"):
            load_pipeline(path)
    assert not marker.exists()


@settings(max_examples=300, deadline=None)
@given(
    name=st.text(max_size=30) | st.sampled_from(["..", "../../etc", "/etc/passwd", "~root", ".", "a/../../b"])
)
def test_a_pipeline_name_never_names_a_directory_outside_the_workdir(name):
    workdir = Path("/work/dir")
    try:
        directory = pipeline_dir(workdir, name)
    except ConfigError:
        return
    assert directory.parent == workdir
    assert directory.name not in ("", ".", "..", "cache") and "/" not in directory.name


def test_a_run_with_a_traversing_name_writes_only_inside_the_workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner_toys.reset()
    try:
        outside = tmp_path / "deep" / "er"
        outside.mkdir(parents=True)
        loaded = runner_toys.write_config(outside / "toy.yaml", name="../../escaped")
        workdir = outside / "wd"
        run_pipeline(loaded, runner_toys.make_registry(), workdir, until="export", progress=False)
    finally:
        runner_toys.reset()
    created = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")}
    assert {p for p in created if not p.startswith("deep/er/wd")} == {"deep", "deep/er", "deep/er/toy.yaml"}
    assert (workdir / "escaped" / "ov-movement.lock").is_file()
