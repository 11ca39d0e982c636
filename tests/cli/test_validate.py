"""`ov-movement validate`: summaries for valid files, every problem with its location for invalid ones."""

from __future__ import annotations

import copy
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from ov_movement.cli import main

FIXTURES = Path(__file__).parents[1] / "config" / "fixtures"
SECTION = json.loads((FIXTURES / "bert_qa_movement.json").read_text())


def with_section(**changes) -> dict:
    result = copy.deepcopy(SECTION)
    result.update(changes)
    return {"compression": result}


def with_params(**changes) -> dict:
    """The section with params changed; a value of ... deletes the key."""
    document = with_section()
    params = document["compression"]["params"]
    params.update(changes)
    for key in [key for key, value in params.items() if value is ...]:
        del params[key]
    return document


def with_entry(index: int, entry: dict) -> dict:
    document = with_section()
    document["compression"]["sparse_structure_by_scopes"][index] = entry
    return document


def run_validate(capsys, *files: Path | str) -> tuple[int, str, str]:
    code = main(["validate", *map(str, files)])
    out, err = capsys.readouterr()
    return code, out, err


# Each: (id, document or raw text, file name, location the message must name).
INVALID = [
    ("end-before-start", with_params(warmup_end_epoch=1), "c.json", "compression.params.warmup_end_epoch"),
    ("start-negative", with_params(warmup_start_epoch=-1), "c.json", "compression.params.warmup_start_epoch"),
    (
        "steps-missing-at-zero",
        with_params(warmup_start_epoch=0),
        "c.json",
        "compression.params.steps_per_epoch",
    ),
    ("steps-zero", with_params(steps_per_epoch=0), "c.json", "compression.params.steps_per_epoch"),
    ("steps-float", with_params(steps_per_epoch=12.5), "c.json", "compression.params.steps_per_epoch"),
    (
        "reg-negative",
        with_params(importance_regularization_factor=-0.1),
        "c.json",
        "compression.params.importance_regularization_factor",
    ),
    (
        "reg-string",
        with_params(importance_regularization_factor="0.01"),
        "c.json",
        "compression.params.importance_regularization_factor",
    ),
    (
        "reg-missing",
        with_params(importance_regularization_factor=...),
        "c.json",
        "compression.params.importance_regularization_factor",
    ),
    (
        "masking-not-bool",
        with_params(enable_structured_masking="true"),
        "c.json",
        "compression.params.enable_structured_masking",
    ),
    (
        "threshold-clash",
        with_params(initial_importance_threshold=0.1, init_importance_threshold=0.2),
        "c.json",
        "compression.params.initial_importance_threshold",
    ),
    ("params-typo", with_params(warmup_end_epochs=5), "c.json", "compression.params.warmup_end_epochs"),
    ("power-zero", with_params(power=0), "c.json", "compression.params.power"),
    ("params-null", with_section(params=None), "c.json", "compression.params"),
    ("params-missing", {"compression": {"algorithm": "movement_sparsity"}}, "c.json", "compression.params"),
    (
        "block-no-factors",
        with_entry(0, {"mode": "block", "target_scopes": "{re}a"}),
        "c.json",
        "compression.sparse_structure_by_scopes[0].sparse_factors",
    ),
    (
        "block-three-factors",
        with_entry(0, {"mode": "block", "sparse_factors": [8, 8, 8], "target_scopes": "x"}),
        "c.json",
        "compression.sparse_structure_by_scopes[0].sparse_factors",
    ),
    (
        "block-negative-factor",
        with_entry(0, {"mode": "block", "sparse_factors": [8, -8], "target_scopes": "x"}),
        "c.json",
        "compression.sparse_structure_by_scopes[0].sparse_factors[1]",
    ),
    (
        "per-dim-no-axis",
        with_entry(1, {"mode": "per_dim", "target_scopes": "x"}),
        "c.json",
        "compression.sparse_structure_by_scopes[1].axis",
    ),
    (
        "per-dim-axis-2",
        with_entry(1, {"mode": "per_dim", "axis": 2, "target_scopes": "x"}),
        "c.json",
        "compression.sparse_structure_by_scopes[1].axis",
    ),
    (
        "per-dim-with-factors",
        with_entry(2, {"mode": "per_dim", "axis": 1, "sparse_factors": [1, 1], "target_scopes": "x"}),
        "c.json",
        "compression.sparse_structure_by_scopes[2].sparse_factors",
    ),
    (
        "fine-with-factors",
        with_entry(0, {"mode": "fine", "sparse_factors": [4, 4], "target_scopes": "x"}),
        "c.json",
        "compression.sparse_structure_by_scopes[0].sparse_factors",
    ),
    (
        "mode-typo",
        with_entry(0, {"mode": "perdim", "axis": 0, "target_scopes": "x"}),
        "c.json",
        "compression.sparse_structure_by_scopes[0].mode",
    ),
    (
        "entry-unknown-key",
        with_entry(0, {"mode": "fine", "target_scope": "x"}),
        "c.json",
        "compression.sparse_structure_by_scopes[0].target_scope",
    ),
    (
        "bad-regex-target",
        with_entry(0, {"mode": "fine", "target_scopes": "{re}.*Bert(Attention"}),
        "c.json",
        "compression.sparse_structure_by_scopes[0].target_scopes",
    ),
    (
        "bad-regex-ignored",
        with_section(ignored_scopes=["{re}.*NNCFEmbedding", "{re}*LayerNorm"]),
        "c.json",
        "compression.ignored_scopes[1]",
    ),
    (
        "ignored-not-strings",
        with_section(ignored_scopes=[{"re": ".*"}]),
        "c.json",
        "compression.ignored_scopes[0]",
    ),
    (
        "duplicate-scope",
        with_entry(2, {"mode": "per_dim", "axis": 1, "target_scopes": "{re}.*BertIntermediate.*"}),
        "c.json",
        "compression.sparse_structure_by_scopes[2].target_scopes",
    ),
    ("section-unknown-key", with_section(ignore_scopes=["x"]), "c.json", "compression.ignore_scopes"),
    ("wrong-algorithm", with_section(algorithm="movement-sparsity"), "c.json", "compression.algorithm"),
    ("list-without-movement", {"compression": [{"algorithm": "quantization"}]}, "c.json", "compression"),
    ("list-two-movement", {"compression": [SECTION, SECTION]}, "c.json", "compression[1].algorithm"),
    (
        "list-unknown-algorithm",
        {"compression": [SECTION, {"algorithm": "quantisation"}]},
        "c.json",
        "compression[1].algorithm",
    ),
    ("epochs-too-few", with_section() | {"training": {"epochs": 2}}, "c.json", "training.epochs"),
    ("training-typo", with_section() | {"trainig": {}}, "c.json", "trainig"),
    ("model-task", with_section() | {"model": {"task": "translation"}}, "c.json", "model.task"),
    (
        "nncf-accuracy-aware",
        with_section() | {"accuracy_aware_training": {"mode": "early_exit"}},
        "c.json",
        "accuracy_aware_training",
    ),
    ("nncf-target-device", with_section() | {"target_device": "TPU"}, "c.json", "target_device"),
    ("bare-list-item", [SECTION, 5], "c.json", "[1]"),
    (
        "bare-section-params",
        {"algorithm": "movement_sparsity", "params": {"warmup_start_epoch": 2}},
        "c.json",
        "params.warmup_end_epoch",
    ),
    (
        "yaml-yes-for-a-boolean",
        "compression:\n  algorithm: movement_sparsity\n  params:\n    warmup_start_epoch: 1\n"
        "    warmup_end_epoch: 3\n    importance_regularization_factor: 5e-2\n"
        "    enable_structured_masking: yes\n",
        "c.yaml",
        "compression.params.enable_structured_masking",
    ),
    ("syntax-json", '{\n  "compression": {\n    "params": {,}\n  }\n}\n', "c.json", "line 3"),
    ("syntax-yaml", "compression:\n  params: {warmup_start_epoch: 1\n", "c.yaml", "line 3"),
    ("empty-file", "", "c.json", "the file is empty"),
    ("top-level-string", '"movement_sparsity"', "c.json", "the top level must be a mapping"),
]


def _write(tmp_path: Path, content, name: str) -> Path:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


def test_corpus_is_large_and_distinct():
    assert len(INVALID) >= 25
    assert len({case[0] for case in INVALID}) == len(INVALID)
    assert len({json.dumps(case[1], sort_keys=True) for case in INVALID}) == len(INVALID)


@pytest.mark.parametrize(
    ("content", "name", "loc"), [case[1:] for case in INVALID], ids=[c[0] for c in INVALID]
)
def test_invalid_config_exits_2_naming_the_location(tmp_path, capsys, content, name, loc):
    path = _write(tmp_path, content, name)
    code, out, err = run_validate(capsys, path)
    assert code == 2
    assert loc in err, err
    assert str(path) in err
    assert "Traceback" not in out + err
    assert err.startswith("error: ")


def test_problems_of_all_files_are_reported(tmp_path, capsys):
    bad_one = _write(tmp_path, with_params(power=-1), "one.json")
    good = FIXTURES / "swin_movement.json"
    bad_two = _write(tmp_path, with_params(warmup_end_epoch=0) | {"modle": {}}, "two.json")
    code, out, err = run_validate(capsys, bad_one, good, bad_two)
    assert code == 2
    assert "one.json: compression.params.power" in err
    assert "two.json: 2 problems:" in err and "did you mean 'model'?" in err
    assert "swin_movement.json: valid" in out


@pytest.mark.parametrize("fixture", sorted(p.name for p in FIXTURES.iterdir()))
def test_fixtures_validate(capsys, fixture):
    code, out, err = run_validate(capsys, FIXTURES / fixture)
    assert (code, err) == (0, "")
    assert "valid" in out and "movement_sparsity" in out


def test_summary_content(capsys):
    code, out, _ = run_validate(capsys, FIXTURES / "wav2vec2_jpqd.json")
    assert code == 0
    for text in (
        "epochs 3-7 (start 3, end 8 exclusive) of 9",
        "importance_regularization_factor 0.1",
        "block 32x32",
        "{re}.*Wav2Vec2Attention.*",
        "per_dim axis 0 (rows)",
        "{re}projector",
        "structured masking  on",
        "runs as quantization-aware training",
        "optimum-intel style",
    ):
        assert text in out, text
    assert len(out.splitlines()) <= 24  # one screen


def test_summary_warns_about_surprises(tmp_path, capsys):
    document = with_params(init_importance_threshold=0.5) | {"training": {"epochs": 4}}
    document["compression"]["ignored_scopes"].append("{re}.*BertOutput.*")
    code, out, _ = run_validate(capsys, _write(tmp_path, document, "w.json"))
    assert code == 0
    assert out.count("warning") == 3


def test_quiet_prints_nothing_for_valid_files(capsys):
    assert run_validate(capsys, "-q", FIXTURES / "doc_example.json") == (0, "", "")


def _subprocess(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "ov_movement", "validate", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_subprocess_invalid_file(tmp_path):
    path = _write(tmp_path, with_entry(1, {"mode": "per_dim", "axis": 3, "target_scopes": "x"}), "bad.json")
    result = _subprocess(str(path))
    assert result.returncode == 2
    assert (
        "compression.sparse_structure_by_scopes[1].axis: must be 0 (rows) or 1 (columns), got 3"
        in result.stderr
    )
    assert "Traceback" not in result.stdout + result.stderr


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def test_subprocess_missing_file_and_speed(tmp_path):
    # CPU seconds, not wall seconds: a busy machine delays the process but does not make it do more
    # work (a wall-clock bound failed with two other jobs on the 2 cores, issue 15).
    before = _children_cpu_seconds()
    result = _subprocess(str(tmp_path / "nope.json"), str(FIXTURES / "doc_example.json"))
    spent = _children_cpu_seconds() - before
    assert result.returncode == 2
    assert "no such file" in result.stderr and "doc_example.json: valid" in result.stdout
    assert "Traceback" not in result.stderr
    assert spent < 3.0  # interpreter start included; the in-process budget is checked in test_import_light
