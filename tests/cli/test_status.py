"""`ov-movement status`: one line per stage with its state and why."""

from __future__ import annotations

import pytest

from ov_movement.cli import main
from tests.runner import runner_toys


@pytest.fixture
def pipeline(tmp_path, monkeypatch):
    import ov_movement.cli.run as cli_run
    import ov_movement.cli.status as cli_status

    registry = runner_toys.make_registry()
    monkeypatch.setattr(cli_run, "STAGES", registry)
    monkeypatch.setattr(cli_status, "STAGES", registry)
    monkeypatch.chdir(tmp_path)
    runner_toys.reset()
    runner_toys.write_config(tmp_path / "toy.yaml")
    yield tmp_path / "toy.yaml"
    runner_toys.reset()


def _lines(out: str) -> dict[str, str]:
    return {line.split()[0]: line for line in out.splitlines()[1:]}


def test_status_states_and_reasons(pipeline, capsys):
    assert main(["status", "toy.yaml"]) == 0
    lines = _lines(capsys.readouterr().out)
    assert lines["sparsify"].split()[1] == "missing" and lines["sparsify"].endswith("never run")
    assert main(["run", "toy.yaml"]) == 0
    runner_toys.write_config(pipeline, training__epochs=6, report__title="New")
    (pipeline.parent / "runs" / "toy" / "convert" / "pruned.txt").write_text("tampered")
    capsys.readouterr()
    assert main(["status", "toy.yaml"]) == 0
    lines = _lines(capsys.readouterr().out)
    assert lines["sparsify"].split()[1] == "cached"
    assert lines["mask"].split()[1] == "stale" and lines["mask"].endswith("training.epochs changed 5 -> 6")
    assert lines["export"].endswith("upstream mask changed")
    assert lines["report"].endswith('report.title changed "Toy" -> "New"; upstream benchmark changed')
    runner_toys.write_config(pipeline)
    capsys.readouterr()
    assert main(["status", "toy.yaml", "--verify"]) == 0
    lines = _lines(capsys.readouterr().out)
    assert lines["convert"].split()[1] == "damaged"
    assert lines["convert"].endswith("cached entry damaged: convert/pruned.txt size changed (16 -> 8 bytes)")


def test_status_workdir_option(pipeline, capsys, tmp_path):
    assert main(["run", "toy.yaml", "--workdir", str(tmp_path / "w")]) == 0
    capsys.readouterr()
    assert main(["status", "toy.yaml", "--workdir", str(tmp_path / "w")]) == 0
    out = capsys.readouterr().out
    assert out.count(" cached (") == 6
    assert main(["status", "toy.yaml"]) == 0  # the default workdir has nothing yet
    assert capsys.readouterr().out.count(" missing (") == 6


def test_status_of_missing_file_exits_2(capsys, tmp_path):
    assert main(["status", str(tmp_path / "nope.yaml")]) == 2
    assert "no such file" in capsys.readouterr().err
