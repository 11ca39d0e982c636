"""Per-entry stage locks: two runs sharing a workdir (a sweep's variants) never compute one entry twice.

Synchronised on explicit events only: the first run's "running" line (printed once it holds the
entry's lock), the second run's "waiting" line (printed when it finds the lock taken), and a FIFO
that keeps the first run inside the stage until the test opens it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ov_movement.runner.execute import run_pipeline
from ov_movement.runner.runlock import StageLock
from tests.runner import runner_toys

SCRIPT = Path(__file__).with_name("runner_script.py")


def _start(toy, *extra: str) -> subprocess.Popen:
    command = [sys.executable, str(SCRIPT), str(toy.config), str(toy.workdir), "--shared-workdir", *extra]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _read_until(process: subprocess.Popen, *words: str) -> list[str]:
    """Lines of `process` up to the first holding every word; fails if it exits before printing one."""
    lines = []
    for line in process.stdout:
        lines.append(line)
        if all(word in line for word in words):
            return lines
    process.wait()
    raise AssertionError(f"no line with {words}; the run printed:\n{''.join(lines)}")


def _executed(output: str) -> list[str]:
    line = next(line for line in output.splitlines() if line.startswith("executed:"))
    return [name for name in line.removeprefix("executed:").strip().split(",") if name]


def test_second_run_waits_for_the_entry_and_reuses_it(toy):
    release = toy.root / "release"
    os.mkfifo(release)
    first = _start(toy, "--block", "sparsify", "model.txt", str(release))
    head = _read_until(first, "sparsify", "running")  # printed with sparsify's entry lock held
    second = _start(toy)
    waited = _read_until(second, "sparsify: waiting for pid", str(first.pid))
    with open(release, "w", encoding="utf-8"):  # opens once the first run blocks reading it
        pass  # closing it ends that read: the first run finishes sparsify and releases the lock
    rest_first, _ = first.communicate(timeout=600)
    rest_second, _ = second.communicate(timeout=600)
    first_out, second_out = "".join(head) + rest_first, "".join(waited) + rest_second
    assert first.returncode == 0 and second.returncode == 0, first_out + second_out

    assert "computed by another run meanwhile" in second_out
    assert "sparsify" not in _executed(second_out)
    # Every stage computed once in all, whichever run got to it first.
    together = _executed(first_out) + _executed(second_out)
    assert sorted(together) == sorted(toy.registry), (first_out, second_out)
    assert all(len(toy.entries(stage)) == 1 for stage in toy.registry)


def test_a_run_reuses_an_entry_committed_after_it_planned(toy, monkeypatch):
    """The check after taking the lock: an entry committed between planning and running is reused."""
    other = runner_toys.write_config(toy.root / "same.yaml")  # the same settings, another file
    original = StageLock.__enter__

    def commit_first(lock):
        if lock.stage == "sparsify" and not toy.entries("sparsify"):
            monkeypatch.setattr(StageLock, "__enter__", original)
            run_pipeline(other, toy.registry, toy.workdir, progress=False, workdir_lock=False)
        return original(lock)

    monkeypatch.setattr(StageLock, "__enter__", commit_first)
    summary = run_pipeline(toy.loaded, toy.registry, toy.workdir, progress=False, workdir_lock=False)
    assert summary.executed == []  # the other file (same settings) computed every entry meanwhile
    assert all(len(toy.entries(stage)) == 1 for stage in toy.registry)
