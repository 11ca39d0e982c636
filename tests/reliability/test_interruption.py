"""Ctrl-C and SIGKILL during sparsify, mask and convert of the shipped tiny pipeline, in real
subprocesses; every rerun picks up where the last one stopped and the end result equals an
uninterrupted run's.

One module-scoped chain pays for the training once: seven `ov-movement run pipelines/tiny.yaml
--until convert` processes on one workdir, each held at a named point (OV_MOVEMENT_TEST_PAUSE_AT,
see ov_movement/pause_points.py) and signalled there, each the next one's starting point:

    1 SIGINT  sparsify, right after its first epoch checkpoint      (sparsify:epoch-checkpoint)
    2 SIGKILL sparsify, right after the resumed attempt's next epoch checkpoint
    3 SIGINT  mask, right after its first epoch checkpoint          (mask:epoch-checkpoint)
      (while it is held there: a second run, and status)
    4 SIGKILL mask, in the middle of the next epoch: its first step (mask:step)
    5 SIGINT  convert, after it wrote the dense IR                  (convert:dense-ir)
    6 SIGKILL convert, at the same point
    7 to the end
    8 SIGINT  benchmark, while benchmark_app runs                   (benchmark:benchmark_app)

Held runs cannot move on before the signal, so the chain does not depend on the machine's speed.

An uninterrupted run of the same pipeline goes on in parallel as the reference. Both use one
torch thread (tiny.yaml asks for two): with two processes on two cores, two threads each made the
training about six times slower here.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.reliability.processes import (
    INTERRUPTED,
    ROOT,
    TINY,
    Run,
    checkpoint_meta,
    entries,
    epoch_checkpoints,
    logged_steps,
    manifest,
    partial,
)
from tests.stages.in_process import assert_same_masks, read_log

pytestmark = pytest.mark.slow

PROMPT_S = 30  # generous for a loaded 2-core CI machine; about 1-2 s here
UNTIL = ("--until", "convert")


@dataclass
class Stop:
    """How one run of the chain ended, and what it left behind."""

    code: int
    output: str
    seconds: float | None  # from the signal to the exit
    checkpoints: dict[str, list[int]] = field(default_factory=dict)


def _stop(run: Run, sig: signal.Signals) -> Stop:
    run.send(sig)
    code = run.finish()
    left = {stage: epoch_checkpoints(run.workdir, stage) for stage in ("sparsify", "mask")}
    return Stop(code, run.output, run.exit_seconds, left)


def _cli(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "ov_movement", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("interrupted")
    workdir, reference_dir = root / "wd", root / "reference"
    shipped = TINY.read_text(encoding="utf-8")
    # One thread: with two on a contended 2-core machine a run was 6x slower (and timing-sensitive).
    assert shipped.count("num_threads: 1") == 1
    config = root / TINY.name  # same stem and content: the same pipeline (`tiny-bert`)
    config.write_text(shipped, encoding="utf-8")
    reference = Run(reference_dir, *UNTIL, config=config)
    seen: dict[str, Any] = {"workdir": workdir, "reference": reference_dir}
    runs: list[Run] = [reference]
    try:

        def held(point: str) -> Run:
            run = Run(workdir, *UNTIL, config=config, pause_at=point)
            runs.append(run)
            run.wait_paused()
            return run

        seen["sigint_sparsify"] = _stop(held("sparsify:epoch-checkpoint"), signal.SIGINT)
        last = seen["sigint_sparsify"].checkpoints["sparsify"][-1]

        seen["sigkill_sparsify"] = _stop(held("sparsify:epoch-checkpoint"), signal.SIGKILL)
        newest = seen["sigkill_sparsify"].checkpoints["sparsify"][-1]
        seen["sigkill_sparsify_meta"] = checkpoint_meta(workdir, "sparsify", newest)
        seen["sigkill_sparsify_last_before"] = last

        run = held("mask:epoch-checkpoint")
        second, status = (
            _cli("run", str(config), "--workdir", str(workdir), *UNTIL),
            _cli("status", str(config), "--workdir", str(workdir)),
        )
        seen["second_run"] = (second.wait(timeout=300), *second.communicate())
        seen["status_while_running"] = (status.wait(timeout=300), *status.communicate())
        seen["holder_pid"] = run.pid
        seen["sigint_mask"] = _stop(run, signal.SIGINT)

        seen["sigkill_mask"] = _stop(held("mask:step"), signal.SIGKILL)
        seen["sigkill_mask_steps"] = logged_steps(workdir, "mask")

        seen["sigint_convert"] = _stop(held("convert:dense-ir"), signal.SIGINT)
        seen["convert_entries_after_sigint"] = entries(workdir, "convert")

        seen["sigkill_convert"] = _stop(held("convert:dense-ir"), signal.SIGKILL)
        seen["convert_entries_after_sigkill"] = entries(workdir, "convert")

        run = Run(workdir, *UNTIL, config=config)
        runs.append(run)
        seen["final"] = Stop(run.finish(), run.output, None)
        seen["reference_run"] = Stop(reference.finish(), reference.output, None)
        seen["leftovers"] = [p for p in workdir.glob("cache/*/*") if not p.name.isalnum()]

        run = Run(workdir, "--until", "benchmark", config=config, pause_at="benchmark:benchmark_app")
        runs.append(run)
        run.wait_paused()
        seen["sigint_benchmark"] = _stop(run, signal.SIGINT)
        seen["benchmark_entries_after_sigint"] = entries(workdir, "benchmark")
    finally:
        for run in runs:
            run.kill()
    return seen


def _last_line(output: str) -> str:
    return [line for line in output.splitlines() if line.strip()][-1]


def _assert_ctrl_c(stop: Stop, stage: str) -> None:
    assert stop.code == 130, stop.output
    assert stop.seconds is not None and stop.seconds < PROMPT_S
    assert "Traceback" not in stop.output
    assert f"{stage:<10} interrupted after" in stop.output
    assert _last_line(stop.output) == INTERRUPTED  # one line, saying how to resume


def test_ctrl_c_during_sparsify_exits_130_promptly_saying_how_to_resume(chain):
    stop = chain["sigint_sparsify"]
    _assert_ctrl_c(stop, "sparsify")
    assert stop.checkpoints["sparsify"], "the finished epoch's checkpoint was kept"


def test_after_ctrl_c_sparsify_resumes_from_the_epoch_checkpoint(chain):
    interrupted_at = chain["sigint_sparsify"].checkpoints["sparsify"][-1]
    killed = chain["sigkill_sparsify"]
    assert killed.checkpoints["sparsify"][-1] > interrupted_at, killed.output
    # Checkpoints written by the second attempt record where it started from.
    assert chain["sigkill_sparsify_meta"]["resumed_from_step"] == interrupted_at


def test_sigkill_during_sparsify_then_rerun_resumes_from_the_last_epoch_checkpoint(chain):
    killed = chain["sigkill_sparsify"]
    assert killed.code == -signal.SIGKILL
    last = killed.checkpoints["sparsify"][-1]
    assert f"(resumed at step {last})" in chain["sigint_mask"].output  # sparsify's summary line
    assert manifest(chain["workdir"], "sparsify")["metrics"]["resumed_from_step"] == last


def test_ctrl_c_during_mask_exits_130_and_keeps_its_epoch_checkpoint(chain):
    stop = chain["sigint_mask"]
    _assert_ctrl_c(stop, "mask")
    assert "sparsify   done in" in stop.output and stop.checkpoints["mask"]


def test_sigkill_during_mask_then_rerun_resumes_from_the_last_epoch_checkpoint(chain):
    resumed_at = chain["sigint_mask"].checkpoints["mask"][-1]
    killed = chain["sigkill_mask"]
    assert killed.code == -signal.SIGKILL
    assert killed.checkpoints["mask"] == [resumed_at]  # killed mid-epoch: nothing newer was saved
    assert resumed_at in chain["sigkill_mask_steps"]  # ... after the first step past the checkpoint
    assert "mask: 2 epoch(s)" in chain["sigint_convert"].output
    assert f"(resumed at step {resumed_at})" in chain["sigint_convert"].output
    assert manifest(chain["workdir"], "mask")["metrics"]["resumed_from_step"] == resumed_at


def test_interrupted_convert_is_restarted_and_never_cached_half_done(chain):
    _assert_ctrl_c(chain["sigint_convert"], "convert")
    assert chain["convert_entries_after_sigint"] == []
    killed = chain["sigkill_convert"]
    assert killed.code == -signal.SIGKILL and chain["convert_entries_after_sigkill"] == []
    assert "an interrupted attempt is discarded" in killed.output
    final = chain["final"]
    assert final.code == 0, final.output
    assert "convert    running  never run; an interrupted attempt is discarded" in final.output
    for stage in ("sparsify", "mask", "export"):
        assert f"{stage:<10} cached" in final.output
    assert "Traceback" not in final.output


def test_ctrl_c_while_benchmark_app_runs_exits_130_with_one_line(chain):
    """Ctrl-C reaches benchmark_app and OpenVINO in our process alike: no crash, no traceback from
    a library's helper process (OpenVINO's telemetry forked one per event; it is off now)."""
    _assert_ctrl_c(chain["sigint_benchmark"], "benchmark")
    assert chain["benchmark_entries_after_sigint"] == []


def test_a_second_run_on_the_same_workdir_fails_clearly_while_status_reports_it(chain):
    code, out, err = chain["second_run"]
    assert code == 2, out + err
    holder = chain["holder_pid"]
    assert err.startswith(f"error: another ov-movement run (pid {holder}) is using ")
    assert "--wait" in err and "Traceback" not in err
    code, out, err = chain["status_while_running"]
    assert code == 0 and f"a run (pid {holder}) is in progress" in out, out + err


def test_end_result_equals_an_uninterrupted_run(chain):
    workdir, reference = chain["workdir"], chain["reference"]
    assert chain["reference_run"].code == 0, chain["reference_run"].output
    assert chain["final"].code == 0
    assert not chain["leftovers"], "leftovers in the cache"  # (before step 8 interrupts benchmark)
    view, expected = workdir / "tiny-bert", reference / "tiny-bert"
    assert_same_masks(view / "mask" / "checkpoint", expected / "mask" / "checkpoint")
    for stage in ("sparsify", "mask"):
        assert read_log(view / stage / "train_log.jsonl") == read_log(expected / stage / "train_log.jsonl")
        assert json.loads((view / stage / "eval.json").read_text()) == json.loads(
            (expected / stage / "eval.json").read_text()
        )
        got, want = manifest(workdir, stage)["metrics"], manifest(reference, stage)["metrics"]
        for key in ("eval_accuracy", "eval_loss", "linear_sparsity", "global_step", "steps"):
            assert got[key] == want[key], key
    assert (view / "mask" / "sparsity_table.json").read_text() == (
        expected / "mask" / "sparsity_table.json"
    ).read_text()
    for stage in ("export", "convert"):
        assert manifest(workdir, stage)["metrics"] == manifest(reference, stage)["metrics"]
    lock = json.loads((view / "ov-movement.lock").read_text())["stages"]
    reference_lock = json.loads((expected / "ov-movement.lock").read_text())["stages"]
    # The chain's last step went on to quantize and (interrupted) benchmark: compare the reference's stages.
    assert {s: lock[s]["fingerprint"] for s in reference_lock} == {
        s: r["fingerprint"] for s, r in reference_lock.items()
    }
    assert partial(workdir, "convert") is None and partial(workdir, "mask") is None
