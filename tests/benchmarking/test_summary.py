import pytest

from ov_movement.benchmarking.benchmark_app import RunResult
from ov_movement.benchmarking.summary import spread, summarize


def run(model: str, repeat: int, latency: float, fps: float) -> RunResult:
    return RunResult(
        model=model,
        repeat=repeat,
        report_dir="",
        latency_median_ms=latency,
        latency_avg_ms=latency,
        latency_min_ms=latency,
        latency_max_ms=latency,
        throughput_fps=fps,
        iterations=10,
        duration_ms=1000.0,
        input_shape="input_ids[1,8]",
        runtime={"inference_precision": "f32"},
    )


def test_speedup_is_paired_per_repeat_then_spread():
    runs = [
        run("dense", 0, 10.0, 100),
        run("pruned", 0, 5.0, 200),  # round 0: 2.0x
        run("dense", 1, 12.0, 80),
        run("pruned", 1, 8.0, 120),  # round 1: 1.5x (machine got slower)
        run("dense", 2, 9.0, 110),
        run("pruned", 2, 5.0, 198),  # round 2: 1.8x
    ]
    summary = summarize(runs)
    assert summary["speedup"]["pruned"]["latency"] == pytest.approx({"min": 1.5, "median": 1.8, "max": 2.0})
    assert summary["speedup"]["pruned"]["throughput"]["median"] == pytest.approx(1.8)
    assert summary["speedup"]["pruned"]["pairs"] == 3
    assert summary["models"]["dense"]["latency_median_ms"] == {"min": 9.0, "median": 10.0, "max": 12.0}
    assert summary["models"]["pruned"]["runtime"] == {"inference_precision": "f32"}
    assert "dense" not in summary["speedup"]


def test_models_without_a_baseline_round_get_no_speedup():
    summary = summarize([run("pruned", 0, 5.0, 200), run("onnx", 0, 6.0, 150)])
    assert summary["speedup"] == {} and set(summary["models"]) == {"pruned", "onnx"}


def test_spread_of_one_value():
    assert spread([3.0]) == {"min": 3.0, "median": 3.0, "max": 3.0}
