"""`ov-movement report FILE` reads the runner's view `<workdir>/<pipeline-name>/<stage>`."""

import json

import pytest

from ov_movement.cli import main
from tests.reporting.fixtures import write_upstream


def write_pipeline(tmp_path, workdir="runs"):
    path = tmp_path / "tiny.json"
    path.write_text(
        json.dumps(
            {
                "workdir": workdir,
                "compression": {
                    "algorithm": "movement_sparsity",
                    "params": {
                        "warmup_start_epoch": 1,
                        "warmup_end_epoch": 3,
                        "importance_regularization_factor": 0.05,
                    },
                },
            }
        )
    )
    return path


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")  # rich wraps cells at the default 80 columns


def test_prints_summary_tables(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_upstream(tmp_path / "runs" / "tiny")
    assert main(["report", str(write_pipeline(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert "speedup over dense: 1.71x" in out and "bound 2.40x" in out
    assert "1.67x / 1.71x / 1.75x" in out and "2.40x" in out
    assert "inference threads" in out and "CPU" in out
    assert "82.50%" in out  # pruned IR accuracy


def test_workdir_option(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = write_pipeline(tmp_path)
    write_upstream(tmp_path / "other" / "tiny", with_benchmark=False)
    assert main(["report", str(config), "--workdir", str(tmp_path / "other")]) == 0
    assert "benchmark/benchmark.json" in capsys.readouterr().out  # listed as not available yet


def test_config_workdir_is_relative_to_the_current_directory_like_run(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = write_pipeline(tmp_path, workdir="results")
    write_upstream(tmp_path / "results" / "tiny")
    assert main(["report", str(config)]) == 0
    assert "1.67x / 1.71x / 1.75x" in capsys.readouterr().out


def test_no_outputs_is_a_user_error(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["report", str(write_pipeline(tmp_path))]) == 2
    assert "ov-movement run" in capsys.readouterr().err


def test_prints_the_variants_table_and_the_same_recommendation_as_the_report(tmp_path, capsys, monkeypatch):
    from tests.reporting.fixtures import variants_benchmark_summary

    monkeypatch.chdir(tmp_path)
    dirs = write_upstream(tmp_path / "runs" / "tiny")
    (dirs["benchmark"] / "benchmark.json").write_text(json.dumps(variants_benchmark_summary()))
    baseline = tmp_path / "runs" / "tiny" / "baseline"
    baseline.mkdir()
    (baseline / "eval.json").write_text(json.dumps([{"epoch": 2, "accuracy": 0.85}]))
    assert main(["report", str(write_pipeline(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert "Model variants" in out and "pruned INT8 (PTQ)" in out and "4.06x [4.00–4.12]" in out
    assert "Recommended: dense INT8 (PTQ), the fastest of the 2 of 4" in out
    assert "dense fine-tuned baseline 85.00%" in out  # the baseline stage is read, as in the report


def test_values_print_literally_not_as_console_markup(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = write_pipeline(tmp_path)
    raw = json.loads(config.read_text())
    raw["description"] = "[bold]draft[/bold] of {re}.*BertAttention.*"
    config.write_text(json.dumps(raw))
    write_upstream(tmp_path / "runs" / "tiny")
    assert main(["report", str(config)]) == 0
    assert "[bold]draft[/bold] of {re}.*BertAttention.*" in capsys.readouterr().out


def test_baseline_row_is_shown_when_its_eval_exists(tmp_path, capsys, monkeypatch):
    """The terminal report reads every registered stage, baseline included, as the report stage does."""
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "runs" / "tiny"
    write_upstream(root)
    (root / "baseline").mkdir()
    (root / "baseline" / "eval.json").write_text(
        json.dumps([{"epoch": 2, "epoch_position": 3.0, "step": 15, "accuracy": 0.9137, "loss": 0.3}])
    )
    assert main(["report", str(write_pipeline(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert "91.37%" in out
    missing = [line for line in out.splitlines() if line.startswith("not available yet")]
    assert not any("baseline" in line for line in missing)


def test_reads_the_stages_the_registry_has():
    import ov_movement.cli.report as report
    from ov_movement.stages import STAGES

    assert report.stage_names() == tuple(STAGES)
