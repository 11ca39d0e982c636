"""The reader of the output may go away (`ov-movement status FILE | head -1`): no traceback, and a
`run` goes on to the end (issue 15, item 5)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ov_movement.cli import main
from tests.runner import runner_toys

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def toy_cli(tmp_path, monkeypatch):
    import ov_movement.cli.run as cli_run

    monkeypatch.setattr(cli_run, "STAGES", runner_toys.make_registry())
    monkeypatch.chdir(tmp_path)
    runner_toys.reset()
    runner_toys.write_config(tmp_path / "toy.yaml")
    yield tmp_path / "toy.yaml"
    runner_toys.reset()


def _closed_pipe_stdout(monkeypatch) -> None:
    """stdout as a pipe whose reader has already gone, as after `| head -1` read its line."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    stream = io.TextIOWrapper(io.FileIO(write_end, "w"), encoding="utf-8", line_buffering=True)
    monkeypatch.setattr(sys, "stdout", stream)


def test_run_goes_on_to_the_end_when_its_output_reader_is_gone(toy_cli, monkeypatch, capsys):
    _closed_pipe_stdout(monkeypatch)
    assert main(["run", "toy.yaml", "--workdir", "wd"]) == 0
    assert runner_toys.CALLS == ["sparsify", "mask", "export", "convert", "benchmark", "report"]
    assert (toy_cli.parent / "wd" / "toy" / "report" / "report.md").is_file()
    assert "Traceback" not in capsys.readouterr().err


def test_status_into_a_closed_pipe_prints_no_traceback(tmp_path):
    config = tmp_path / "p.yaml"
    config.write_text("name: p\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "ov_movement", "status", str(config), "--workdir", str(tmp_path / "wd")],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    process.stdout.close()  # the reader quits before the first line is written: every write fails
    _, err = process.communicate(timeout=300)
    assert process.returncode == 0, err.decode()
    assert b"Traceback" not in err and b"BrokenPipeError" not in err, err.decode()


def test_a_pipeline_name_taken_by_a_file_in_the_workdir_fails_before_running(toy_cli, capsys):
    runner_toys.write_config(toy_cli, name="results")
    (toy_cli.parent / "wd").mkdir()
    (toy_cli.parent / "wd" / "results").write_text("the user's own notes")
    assert main(["run", "toy.yaml", "--workdir", "wd"]) == 2
    err = capsys.readouterr().err
    assert "pipeline name 'results'" in err and "is not a directory" in err and "set another `name`" in err
    assert runner_toys.CALLS == []  # nothing ran: before, training ran and then the view failed
    assert (toy_cli.parent / "wd" / "results").read_text() == "the user's own notes"
