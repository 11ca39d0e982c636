"""Every case of the corpus through the real CLI: the exit code it promises, a message that names
the culprit, no traceback, and nothing committed to the cache changed (entries, views, lock file).

Cases run in this process (`ov_movement.cli.main`), so an exception the CLI does not turn into a
message fails the test with its traceback; the interruption tests (tests/reliability) check the
same in real subprocesses.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ov_movement.cli import main
from tests.bad_inputs.conftest import base_pipeline, write_pipeline
from tests.bad_inputs.corpus import CASES, Case, Setting, apply_edit, ids, snapshot

SURFACES = {"config", "model", "data", "cli", "workdir", "cache"}


def _params() -> list:
    # Cases that start from the trained workdir pay for one training run: slow.
    return [
        pytest.param(case, id=case.id, marks=[pytest.mark.slow] if case.workdir == "trained" else [])
        for case in CASES
    ]


def _write_inputs(case: Case, case_dir: Path) -> Path:
    for relative, content in case.files.items():
        path = case_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    config = case_dir / case.config_name
    if isinstance(case.text, bytes):
        config.write_bytes(case.text)
    elif case.text is not None:
        config.write_text(case.text, encoding="utf-8")
    else:
        raw = base_pipeline()
        apply_edit(raw, case.edit)
        write_pipeline(config, raw)
    return config


def _invoke(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exit:  # argparse's usage errors
        return int(exit.code or 0)


@pytest.mark.parametrize("case", _params())
def test_bad_input(case: Case, request, tmp_path, monkeypatch, capsys):
    reason = case.skip() if case.skip else None
    if reason:
        pytest.skip(reason)
    monkeypatch.chdir(tmp_path)  # relative paths in configs and command lines resolve here
    workdir = tmp_path / "wd"
    if case.workdir == "trained":
        shutil.copytree(request.getfixturevalue("trained_workdir"), workdir, symlinks=True)
    config = _write_inputs(case, tmp_path)
    setting = Setting(tmp_path, workdir, config, monkeypatch)
    if case.prepare:
        case.prepare(setting)
    try:
        before = snapshot(workdir)
        code = _invoke(case.command_line(config, workdir, tmp_path))
    finally:
        if case.cleanup:
            case.cleanup(setting)

    out, err = capsys.readouterr()
    output = out + err
    assert code == case.exit, output
    for culprit in case.culprit:
        assert culprit in output, f"{culprit!r} not named in:\n{output}"
    assert "Traceback" not in output
    if case.exit:
        assert err.startswith("error: ") or "usage:" in err, err
    assert snapshot(workdir) == before, "the cache or the views changed"
    for path in case.absent:
        assert not (tmp_path / path).exists(), f"{path} was created"


def test_corpus_covers_every_surface_with_enough_cases():
    assert len(CASES) >= 40
    assert len(set(ids(CASES))) == len(CASES)
    assert {case.surface for case in CASES} == SURFACES
    assert all(case.culprit for case in CASES)
