"""`ov-movement run`: options, messages and exit codes (toy stages swapped in for the real ones)."""

from __future__ import annotations

import json

import pytest

from ov_movement.cli import main
from tests.runner import runner_toys


@pytest.fixture
def pipeline(tmp_path, monkeypatch):
    """A toy pipeline; the CLI's registry is replaced by the toy one for the test."""
    import ov_movement.cli.run as cli_run

    monkeypatch.setattr(cli_run, "STAGES", runner_toys.make_registry())
    monkeypatch.chdir(tmp_path)
    runner_toys.reset()
    runner_toys.write_config(tmp_path / "toy.yaml")
    yield tmp_path / "toy.yaml"
    runner_toys.reset()


def test_run_then_cached_run(pipeline, capsys):
    assert main(["run", str(pipeline)]) == 0
    first = capsys.readouterr().out
    assert first.count("running") == 6 and "report     done in" in first
    assert "outputs: runs/toy/<stage>" in first  # the config's default workdir, relative to the cwd
    assert main(["run", "toy.yaml"]) == 0
    second = capsys.readouterr().out
    assert second.count("cached (") == 6 and "running" not in second
    assert (pipeline.parent / "runs" / "toy" / "report" / "report.md").exists()


def test_workdir_option_and_selection_flags(pipeline, capsys, tmp_path):
    assert main(["run", "toy.yaml", "--workdir", "elsewhere", "--until", "mask"]) == 0
    assert runner_toys.CALLS == ["sparsify", "mask"]
    assert main(["run", "toy.yaml", "--workdir", "elsewhere", "--only", "export", "--only", "convert"]) == 0
    assert runner_toys.CALLS[2:] == ["export", "convert"]
    assert main(["run", "toy.yaml", "--workdir", "elsewhere", "--from", "convert", "--force"]) == 0
    assert runner_toys.CALLS[4:] == ["convert", "benchmark", "report"]
    lock = json.loads((tmp_path / "elsewhere" / "toy" / "ov-movement.lock").read_text())
    assert list(lock["stages"]) == ["sparsify", "mask", "export", "convert", "benchmark", "report"]
    assert not (tmp_path / "runs").exists()


def test_dry_run_prints_plan_and_runs_nothing(pipeline, capsys):
    assert main(["run", "toy.yaml", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.count("would run (") == 6 and "missing: never run" in out
    assert runner_toys.CALLS == [] and not (pipeline.parent / "runs").exists()


def test_only_with_missing_upstream_exits_2_naming_what_to_run(pipeline, capsys):
    assert main(["run", "toy.yaml", "--only", "benchmark"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: benchmark needs outputs that are not cached")
    assert "`ov-movement run toy.yaml --until convert` first" in err
    assert runner_toys.CALLS == []


def test_unknown_stage_exits_2_listing_valid_ones(pipeline, capsys):
    assert main(["run", "toy.yaml", "--from", "train"]) == 2
    err = capsys.readouterr().err
    assert (
        "--from: unknown stage 'train'; valid stages: sparsify, mask, export, convert, benchmark, report"
        in err
    )


def test_stage_error_exits_2_and_ctrl_c_exits_130_with_resume_hint(pipeline, capsys):
    runner_toys.FAIL.update(stage="export", error=runner_toys.StageError("ONNX output differs from torch"))
    assert main(["run", "toy.yaml"]) == 2
    captured = capsys.readouterr()
    assert "export     failed after" in captured.out and "error: ONNX output differs" in captured.err
    runner_toys.FAIL.update(stage="export", error=KeyboardInterrupt())
    assert main(["run", "toy.yaml"]) == 130
    captured = capsys.readouterr()
    assert "sparsify   cached" in captured.out and "export     interrupted after" in captured.out
    assert "run the same command to resume" in captured.err
    runner_toys.FAIL.clear()
    assert main(["run", "toy.yaml"]) == 0
    assert runner_toys.CALLS[-4:] == ["export", "convert", "benchmark", "report"]


def test_help_documents_workdir_and_selections(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    out = " ".join(capsys.readouterr().out.split())  # as read, whatever the terminal's width wraps
    assert "relative to the current directory" in out and "--only STAGE" in out and "--dry-run" in out
    assert "--nproc-per-node N|auto" in out and "--rdzv-endpoint HOST:PORT" in out
