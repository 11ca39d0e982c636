import math

import pytest

from ov_movement.benchmarking.benchmark_app import RunResult
from ov_movement.benchmarking.summary import median_interval, noise_verdict, spread, summarize


def run(model: str, repeat: int, latency: float, fps: float, background: float | None = None) -> RunResult:
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
        background_cores=background,
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


def test_quiet_rounds_are_a_measurement():
    verdict = noise_verdict([1.94, 1.90, 1.97], {"dense": [10.0, 10.2, 9.9], "pruned": [5.2, 5.3, 5.0]}, 0.15)
    assert verdict.noisy is False and verdict.rounds == 3
    assert verdict.ratio_spread == pytest.approx(0.07 / 1.94)
    assert verdict.raw_spread == pytest.approx(0.3 / 5.2)  # pruned's medians move most
    assert "within the 15% noise threshold" in verdict.reason and "advice" not in verdict.to_dict()


def test_ratios_that_disagree_are_noise_with_advice():
    # The busy-machine run: 3.83x [1.31-3.94].
    verdict = noise_verdict([1.31, 3.83, 3.94], {"dense": [50.0, 52.0, 51.0], "pruned": [38.0, 13.6, 12.9]})
    assert verdict.noisy is True
    assert verdict.ratio_spread == pytest.approx((3.94 - 1.31) / 3.83)
    entry = verdict.to_dict()
    assert entry["noisy"] is True and "over the 10% noise threshold" in entry["reason"]
    assert "repeats" in entry["advice"] and "time_s" in entry["advice"] and "nthreads" in entry["advice"]


def test_steady_ratios_over_drifting_medians_are_still_noise():
    # Both models slowed down together in round 2: the ratio survives, but the machine was busy.
    verdict = noise_verdict([2.0, 2.0], {"dense": [10.0, 16.0], "pruned": [5.0, 8.0]}, 0.15)
    assert verdict.ratio_spread == 0 and verdict.raw_spread == pytest.approx(6 / 13)
    assert verdict.noisy is True


def test_the_threshold_decides_and_the_edge_is_accepted():
    rounds, raw = [1.0, 1.1], {"dense": [1.0, 1.0]}
    assert noise_verdict(rounds, raw, threshold=0.2).noisy is False
    assert noise_verdict(rounds, raw, threshold=0.05).noisy is True
    assert noise_verdict([2.0, 2.5, 3.0], {}, threshold=0.4).noisy is False  # equal to the threshold


def test_one_round_cannot_judge_noise():
    verdict = noise_verdict([2.0], {"dense": [10.0], "pruned": [5.0]})
    assert verdict.noisy is None and "no spread" in verdict.reason


def test_summary_judges_each_speedup_from_its_own_rounds():
    runs = [
        run("dense", 0, 10.0, 100),
        run("pruned", 0, 5.0, 200),  # 2.0x
        run("dense", 1, 10.0, 100),
        run("pruned", 1, 2.5, 400),  # 4.0x: the rounds disagree
        run("onnx", 0, 10.0, 100),
        run("onnx", 1, 10.1, 99),
    ]
    summary = summarize(runs, noise_threshold=0.15)
    assert summary["speedup"]["pruned"]["noise"]["latency"]["noisy"] is True
    assert summary["speedup"]["pruned"]["noise"]["throughput"]["noisy"] is True
    assert summary["speedup"]["onnx"]["noise"]["latency"]["noisy"] is False
    assert summary["speedup"]["pruned"]["noise"]["latency"]["threshold"] == 0.15


def test_drifting_medians_on_a_quiet_machine_are_a_measurement():
    # Other processes measured idle: the rounds drifted alike (clock, cache), the ratio holds.
    verdict = noise_verdict(
        [2.0, 2.02, 1.98], {"dense": [10.0, 13.0, 11.0], "pruned": [5.0, 6.4, 5.6]}, 0.10, 0.03
    )
    assert verdict.noisy is False
    assert "0.03 cores (within the 0.25 allowed)" in verdict.reason


def test_steady_ratios_on_a_shared_machine_are_noise():
    # Two busy loops: benchmark_app's ratios barely move, but every figure is a shared machine's.
    verdict = noise_verdict(
        [2.0, 2.01, 1.99], {"dense": [10.0, 10.1, 10.0], "pruned": [5.0, 5.0, 5.0]}, 0.10, 1.4
    )
    assert verdict.noisy is True
    assert "1.40 cores (over the 0.25 allowed)" in verdict.to_dict()["reason"]


def test_the_busiest_round_decides_and_an_unmeasured_round_falls_back_to_the_medians():
    quiet = [run("dense", r, 10.0 + r, 100, background=0.02) for r in range(3)]
    pruned = [run("pruned", r, 5.0 + r / 2, 200, background=0.02) for r in range(3)]
    assert summarize(quiet + pruned)["speedup"]["pruned"]["noise"]["latency"]["noisy"] is False
    pruned[1] = run("pruned", 1, 5.5, 200, background=0.9)
    assert summarize(quiet + pruned)["speedup"]["pruned"]["noise"]["latency"]["noisy"] is True
    pruned[1] = run("pruned", 1, 5.5, 200, background=None)  # raw medians spread 20%: judged by them
    assert summarize(quiet + pruned)["speedup"]["pruned"]["noise"]["latency"]["noisy"] is True


def test_more_rounds_set_one_outlier_aside_instead_of_widening_the_spread():
    # The advice for a noisy result is "more repeats": one bad round among 3 is noise, the same bad
    # round among 7 steady ones is an outlier outside the median's interval, and the figure stands.
    outlier = 1.54
    three = noise_verdict([1.90, outlier, 1.92], {}, 0.10, 0.03)
    assert three.noisy is True and three.ratio_spread == pytest.approx((1.92 - 1.54) / 1.90)
    seven = noise_verdict([1.90, outlier, 1.92, 1.88, 1.91, 1.89, 1.93], {}, 0.10, 0.03)
    assert seven.noisy is False
    assert seven.ratio_spread == pytest.approx((1.92 - 1.88) / 1.90)
    assert "(the middle 5 of 7 rounds)" in seven.reason
    # Two bad rounds on the same side are not set aside: the interval still reaches one of them.
    assert noise_verdict([1.90, outlier, 1.55, 1.88, 1.91, 1.89, 1.93], {}, 0.10, 0.03).noisy is True


@pytest.mark.parametrize(
    ("rounds", "set_aside"), [(2, 0), (3, 0), (5, 0), (6, 1), (8, 1), (9, 2), (10, 2), (11, 3), (20, 6)]
)
def test_the_median_interval_holds_the_median_at_least_three_times_in_four(rounds, set_aside):
    low, high, aside = median_interval([float(v) for v in range(rounds)])
    assert aside == set_aside and (low, high) == (set_aside, rounds - 1 - set_aside)
    # Coverage of the order-statistic interval: 1 - 2 P(Binomial(n, 1/2) < rank), rank = aside + 1.
    coverage = 1 - 2 * sum(math.comb(rounds, i) for i in range(aside + 1)) / 2**rounds
    assert coverage >= 0.75 or aside == 0
    one_more_set_aside = 1 - 2 * sum(math.comb(rounds, i) for i in range(aside + 2)) / 2**rounds
    assert one_more_set_aside < 0.75  # the narrowest such interval
