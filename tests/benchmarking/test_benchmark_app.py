import json
import sys
from pathlib import Path

import pytest

from ov_movement.benchmarking import benchmark_app as ba
from ov_movement.config.pipeline import BenchmarkConfig
from ov_movement.errors import StageError
from tests.tiny import IR_SEQ, tiny_irs

EXE = Path("/opt/bin/benchmark_app")


def test_settings_round_time_up_to_whole_seconds():
    assert ba.BenchmarkSettings.from_config(BenchmarkConfig(time_s=0.3)).time_s == 1
    assert ba.BenchmarkSettings.from_config(BenchmarkConfig(time_s=2.5)).time_s == 3


def test_command_keeps_the_hint_and_sends_threads_through_a_config_file(tmp_path):
    settings = ba.BenchmarkSettings(hint="latency", time_s=2, nthreads=3, api="sync")
    cmd = ba.build_command(EXE, Path("m.xml"), settings, tmp_path, "input_ids[1,8]")
    # benchmark_app refuses -nthreads unless -hint none
    assert "-nthreads" not in cmd
    assert cmd[cmd.index("-hint") + 1] == "latency"
    device_config = json.loads(Path(cmd[cmd.index("-load_config") + 1]).read_text())
    assert device_config == {"CPU": {"INFERENCE_NUM_THREADS": "3"}}
    # without -report_type, -json_stats writes nothing
    assert {"-json_stats", "-report_type", "-report_folder"} <= set(cmd)
    assert cmd[cmd.index("-data_shape") + 1] == "input_ids[1,8]"
    assert "-inference_only" in cmd  # like a static model: input filling not timed
    assert cmd[cmd.index("-infer_precision") + 1] == "f32"
    assert cmd[cmd.index("-api") + 1] == "sync"


def test_default_precision_and_static_model_add_no_flags(tmp_path):
    settings = ba.BenchmarkSettings(inference_precision="default")
    cmd = ba.build_command(EXE, Path("m.xml"), settings, tmp_path, None)
    assert not {"-infer_precision", "-data_shape", "-inference_only", "-load_config"} & set(cmd)


def test_shapes_fill_dynamic_dimensions_only():
    dynamic = {"input_ids": [None, None], "attention_mask": [None, None]}
    assert ba.concrete_shapes(dynamic, 2, 64) == "input_ids[2,64],attention_mask[2,64]"
    assert ba.is_dynamic(dynamic)
    static = {"input_ids": [1, 128]}
    assert ba.concrete_shapes(static, 2, 64) == "input_ids[1,128]"
    assert not ba.is_dynamic(static)
    with pytest.raises(StageError, match="pixel_values"):
        ba.concrete_shapes({"pixel_values": [None, 3, None, None]}, 1, 1)


def _write_report(path: Path, median: str = "0.06") -> None:
    path.write_text(
        json.dumps(
            {
                "execution_results": {
                    "total execution time (ms)": "1000.07",
                    "total number of iterations": "14535",
                    "latency (ms)": median,
                    "avg latency": "0.07",
                    "min latency": "0.05",
                    "max latency": "0.15",
                    "throughput": "14534.05",
                }
            }
        )
    )


def test_parse_report_reads_string_values_and_prefers_the_logs_precise_median(tmp_path):
    report = tmp_path / "benchmark_report.json"
    _write_report(report)
    parsed = ba.parse_report(report)
    assert parsed["latency_median_ms"] == 0.06 and parsed["iterations"] == 14535
    assert parsed["throughput_fps"] == pytest.approx(14534.05)
    log = "[ INFO ] Latency:\n[ INFO ]    Median:        59.44 us\n[ INFO ]    Average:       60.53 us\n"
    assert ba.parse_report(report, log)["latency_median_ms"] == pytest.approx(0.05944)
    assert ba.parse_report(report, "[ INFO ]    Median:        12.50 ms\n")["latency_median_ms"] == 12.5


def test_parse_report_names_the_file_when_unreadable(tmp_path):
    report = tmp_path / "benchmark_report.json"
    report.write_text(json.dumps({"execution_results": {"latency (ms)": "n/a"}}))
    with pytest.raises(StageError, match="benchmark_report.json"):
        ba.parse_report(report)


def test_parse_runtime():
    log = (
        "[ INFO ]   NUM_STREAMS: 1\n[ INFO ]   INFERENCE_NUM_THREADS: 2\n"
        "[ INFO ]   INFERENCE_PRECISION_HINT: <Type: 'bfloat16'>\n[ INFO ]   PERFORMANCE_HINT: LATENCY\n"
        "[ INFO ] Benchmarking in inference only mode (inputs filling are not included in measurement loop).\n"
    )
    assert ba.parse_runtime(log) == {
        "inference_precision": "bf16",
        "nthreads": "2",
        "streams": "1",
        "hint": "LATENCY",
        "measured": "inference only",
    }


def test_missing_benchmark_app_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(StageError, match="benchmark_app not found"):
        ba.find_benchmark_app()


def test_finds_the_benchmark_app_of_this_environment():
    assert ba.find_benchmark_app().parent == Path(sys.executable).parent


@pytest.mark.slow
def test_a_failing_run_shows_benchmark_apps_output(tmp_path):
    broken = tmp_path / "broken.xml"
    broken.write_text("<net>not a model</net>")
    with pytest.raises(StageError) as error:
        ba.run_benchmark_app(broken, ba.BenchmarkSettings(time_s=1), tmp_path / "run")
    message = str(error.value)
    assert "broken.xml" in message and "exit code" in message and "stdout" in message
    assert (tmp_path / "run" / "stdout.log").is_file()


@pytest.mark.slow
def test_interleaved_runs_of_dense_pruned_and_onnx(tmp_path, tmp_path_factory):
    models = tiny_irs(tmp_path_factory)
    settings = ba.BenchmarkSettings(time_s=1, seq_length=IR_SEQ, nthreads=1)
    order = []
    runs = ba.run_interleaved(
        models, settings, tmp_path / "runs", repeats=2, on_run=lambda r: order.append(r.model)
    )
    assert order == ["onnx", "dense", "pruned"] * 2  # A B C A B C, in the mapping's order
    for run in runs:
        assert run.latency_median_ms > 0 and run.throughput_fps > 0 and run.iterations > 0
        assert (
            run.input_shape == f"input_ids[1,{IR_SEQ}],attention_mask[1,{IR_SEQ}],token_type_ids[1,{IR_SEQ}]"
        )
        assert run.runtime["inference_precision"] == "f32"  # asked for, not the bf16 default
        assert run.runtime["nthreads"] == "1"
        assert run.runtime["measured"] == "inference only"
        assert (Path(run.report_dir) / ba.REPORT_NAME).is_file()
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [
        "00_dense",
        "00_onnx",
        "00_pruned",
        "01_dense",
        "01_onnx",
        "01_pruned",
    ]


def test_throughput_counts_samples_when_benchmark_app_sees_no_batch(tmp_path):
    """Token models have no layout, so benchmark_app logs batch 1 and counts a batch-8 inference as
    one frame; the parsed throughput is samples/s either way."""
    report = tmp_path / "benchmark_report.json"
    _write_report(report)
    no_batch = "[ INFO ] Model batch size: 1\n"
    assert ba.parse_report(report, no_batch, 8)["throughput_fps"] == pytest.approx(8 * 14534.05)
    assert ba.parse_report(report, "[ INFO ] Model batch size: 8\n", 8)["throughput_fps"] == pytest.approx(
        14534.05
    )
    assert ba.parse_report(report, no_batch, 1)["throughput_fps"] == pytest.approx(14534.05)
    assert ba.parse_report(report, "", 8)["throughput_fps"] == pytest.approx(14534.05)  # nothing to go on


def test_batch_of_a_shape():
    assert ba.batch_of("input_ids[8,128],attention_mask[8,128]") == 8
    assert ba.batch_of("pixel_values[1,3,32,32]") == 1
    assert ba.batch_of("") is None
