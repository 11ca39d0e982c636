"""Crashes, SIGKILL, Ctrl-C and concurrent runs: nothing half-written ever counts as cached."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ov_movement.errors import StageError
from ov_movement.runner.execute import print_status, run_pipeline
from ov_movement.runner.plan import CACHED, MISSING
from ov_movement.runner.runlock import RunLock
from tests.runner import runner_toys

SCRIPT = Path(__file__).with_name("runner_script.py")


def _start_blocked(toy, stage: str, after: str) -> tuple[subprocess.Popen, Path]:
    """A run in another process that blocks inside `stage` once it has written `after`."""
    fifo = toy.root / "never-written"
    os.mkfifo(fifo)
    command = [
        sys.executable,
        str(SCRIPT),
        str(toy.config),
        str(toy.workdir),
        "--block",
        stage,
        after,
        str(fifo),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    # Only a bound on a busy machine's start-up: the run blocks in the stage until it is signalled.
    deadline = time.monotonic() + 600
    while not list(toy.workdir.glob(f"cache/{stage}/*.partial/{after}")):
        if process.poll() is not None:
            pytest.fail(f"the blocked run exited early:\n{process.stdout.read()}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("the blocked run never reached its stage")
        time.sleep(0.02)  # polling for the file the stage writes; the stage itself never sleeps
    return process, fifo


def _outputs(lock: dict) -> dict[str, list]:
    return {stage: record["outputs"] for stage, record in lock["stages"].items()}


def _uninterrupted(toy, tmp_path_factory) -> dict:
    other = tmp_path_factory.mktemp("uninterrupted")
    run_pipeline(toy.loaded, toy.registry, other, progress=False)
    import json

    return json.loads((other / "toy" / "ov-movement.lock").read_text())


def test_sigkill_during_stage_then_rerun_equals_uninterrupted(toy, tmp_path_factory, capsys):
    process, _ = _start_blocked(toy, "export", "model.onnx.txt")
    # While it holds the workdir, a second run refuses clearly instead of interleaving writes.
    with pytest.raises(StageError, match=rf"another ov-movement run \(pid {process.pid}\)"):
        toy.run()
    print_status(toy.status(), progress=False)  # status does not wait; it says a run is going on
    assert f"note: a run (pid {process.pid}) is in progress" in capsys.readouterr().out
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    (partial,) = toy.workdir.glob("cache/export/*.partial")
    (partial / "junk-from-killed-attempt").write_text("x")
    plan = toy.status()
    assert plan["mask"].state == CACHED
    assert plan["export"].state == MISSING
    assert plan["export"].reasons == ("never run", "an interrupted attempt is discarded")
    assert toy.run().executed == ["export", "convert", "benchmark", "report"]  # the kernel freed the lock
    assert not (toy.workdir / "toy" / "export" / "junk-from-killed-attempt").exists()
    assert not list(toy.workdir.glob("cache/*/*.partial"))
    assert _outputs(toy.lock()) == _outputs(_uninterrupted(toy, tmp_path_factory))


def test_sigkill_during_resumable_stage_resumes_from_checkpoints(toy, tmp_path_factory):
    process, _ = _start_blocked(toy, "sparsify", "checkpoints/epoch-1.txt")
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    plan = toy.status()
    assert plan["sparsify"].state == MISSING
    assert plan["sparsify"].reasons == ("never run", "an interrupted attempt will resume")
    assert toy.run().executed == list(runner_toys.FUNCTIONS)
    assert toy.manifest("sparsify")["metrics"] == {"resumed_epochs": 2}
    assert _outputs(toy.lock()) == _outputs(_uninterrupted(toy, tmp_path_factory))


def test_wait_queues_behind_a_running_run(toy, capsys):
    process, _ = _start_blocked(toy, "convert", "dense.txt")
    results = []
    waiter = threading.Thread(target=lambda: results.append(toy.run(wait=True)))
    waiter.start()
    deadline = time.monotonic() + 600  # the waiter blocks on the lock: a bound, not a race
    while "waiting for the ov-movement run" not in capsys.readouterr().out:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert waiter.is_alive()
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    waiter.join(timeout=60)
    # Planned under the lock: what the killed run finished is reused, the rest runs here.
    assert results[0].executed == ["convert", "benchmark", "report"]


def test_run_lock_is_per_workdir(toy):
    with RunLock(toy.workdir):
        with pytest.raises(StageError, match="pass --wait"):
            toy.run()
        other = toy.root / "other-workdir"
        assert run_pipeline(toy.loaded, toy.registry, other, progress=False).executed
    assert toy.run().executed


def test_failed_stage_commits_nothing_and_later_succeeds(toy):
    runner_toys.FAIL.update(stage="convert", error=StageError("convert: IR outputs differ by 0.5"))
    with pytest.raises(StageError, match="differ by 0.5"):
        toy.run()
    assert toy.entries("convert") == [] and (toy.workdir / "toy" / "export").is_symlink()
    assert not (toy.workdir / "toy" / "convert").exists()
    assert set(toy.lock()["stages"]) == {"sparsify", "mask", "export"}
    runner_toys.FAIL.clear()
    assert toy.run().executed == ["convert", "benchmark", "report"]


def test_keyboard_interrupt_propagates_and_keeps_resumable_partial(toy, capsys):
    runner_toys.FAIL.update(stage="mask", error=KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        toy.run()
    assert "mask       interrupted after" in capsys.readouterr().out
    assert toy.entries("mask") == [] and len(list(toy.workdir.glob("cache/mask/*.partial"))) == 1
    runner_toys.FAIL.clear()
    assert toy.run().executed == ["mask", "export", "convert", "benchmark", "report"]


def test_killed_between_manifest_and_rename_is_not_cached(toy):
    toy.run(until="mask")
    entry = toy.entries("mask")[0]
    # Simulate a crash after the manifest was written but before the commit rename.
    partial = entry.with_name(entry.name + ".partial")
    entry.rename(partial)
    plan = toy.status()
    assert plan["mask"].state == MISSING
    assert plan["mask"].reasons == ("cache entry removed", "an interrupted attempt will resume")
    assert toy.run(until="mask").executed == ["mask"]
    assert (toy.workdir / "toy" / "mask" / "manifest.json").exists()


def test_stage_writing_a_reserved_name_is_refused(toy, monkeypatch):
    def bad_export(ctx):
        (ctx.output_dir / "manifest.json").write_text("{}")

    toy.registry["export"] = runner_toys.dataclasses.replace(toy.registry["export"], run=bad_export)
    with pytest.raises(StageError, match="reserved"):
        toy.run()
    assert toy.entries("export") == []
