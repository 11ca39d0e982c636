"""`ov-movement run` in a real subprocess, held at named points and signalled there.

A run started with `pause_at="<stage>:<point>[:<n>]"` stops at that point
(ov_movement/pause_points.py) and says so on stderr; `wait_paused()` waits for that line. The
run cannot move on before the test signals it, so the moment of a Ctrl-C or a SIGKILL is exact
however busy the machine is (polling for a file and then signalling lost that race on a loaded
machine: the run had gone further, or finished the stage, before the signal landed). Lines are
read as they come; the short poll interval only bounds how late a line is noticed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ov_movement.pause_points import ENV as PAUSE_ENV

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "pipelines" / "tiny.yaml"
POLL_S = 0.02
INTERRUPTED = "interrupted: finished stages and epoch checkpoints are kept; run the same command to resume."


class Run:
    """`python -m ov_movement run pipelines/tiny.yaml --workdir W ARGS...`, output collected live."""

    def __init__(self, workdir: Path, *args: str, config: Path = TINY, pause_at: str | None = None):
        self.workdir = workdir
        self.pause_at = pause_at
        command = [sys.executable, "-m", "ov_movement", "run", str(config), "--workdir", str(workdir), *args]
        if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
            # A shell ignores SIGINT for what it starts in the background (`pytest ... &`), and children
            # inherit that: the run would then never see its Ctrl-C. Inherit the default instead.
            signal.signal(signal.SIGINT, signal.default_int_handler)
        env = {key: value for key, value in os.environ.items() if key != PAUSE_ENV}
        if pause_at is not None:
            env[PAUSE_ENV] = pause_at
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,  # one stream: nothing can block on a full second pipe
            text=True,
            start_new_session=True,  # its own process group, like a foreground job of a shell
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.signalled_at: float | None = None
        self.exit_seconds: float | None = None

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, what: str, predicate: Callable[[], object], timeout: float = 300) -> object:
        """Poll until `predicate()` is truthy; fail if the run ends first or time runs out."""
        deadline = time.monotonic() + timeout
        while True:
            found = predicate()
            if found:
                return found
            if self.process.poll() is not None:
                raise AssertionError(
                    f"the run ended (exit {self.process.returncode}) before {what}:\n{self.output}"
                )
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"no {what} within {timeout} s:\n{self.output}")
            time.sleep(POLL_S)

    def wait_for_line(self, *parts: str, timeout: float = 300) -> str:
        def matching() -> str | None:
            return next((line for line in list(self.lines) if all(p in line for p in parts)), None)

        return str(self.wait_for(f"a line with {parts}", matching, timeout))

    def wait_paused(self, timeout: float = 600) -> str:
        """Until the run holds still at its `pause_at` point (it cannot go on before a signal)."""
        assert self.pause_at is not None
        return self.wait_for_line(f"paused at {self.pause_at}", timeout=timeout)

    def send(self, sig: signal.Signals) -> None:
        """To the whole process group, as a terminal's Ctrl-C does."""
        self.signalled_at = time.monotonic()
        os.killpg(self.process.pid, sig)

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=60)

    def finish(self, timeout: float = 600) -> int:
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        if self.signalled_at is not None:
            self.exit_seconds = time.monotonic() - self.signalled_at
        self._reader.join(timeout=30)
        return code


# ---- what a run leaves in the workdir ----------------------------------------------------------------


def partial(workdir: Path, stage: str) -> Path | None:
    found = (
        sorted((workdir / "cache" / stage).glob("*.partial")) if (workdir / "cache" / stage).is_dir() else []
    )
    return found[0] if found else None


def epoch_checkpoints(workdir: Path, stage: str) -> list[int]:
    """Global steps of the finished epoch checkpoints in the stage's `.partial` directory."""
    directory = partial(workdir, stage)
    folder = directory / "epochs" if directory else None
    if folder is None or not folder.is_dir():
        return []
    steps = []
    for path in folder.glob("step-*"):
        try:
            steps.append(int(path.name.removeprefix("step-")))
        except ValueError:
            continue
    return sorted(steps)


def checkpoint_meta(workdir: Path, stage: str, step: int) -> dict:
    directory = partial(workdir, stage)
    assert directory is not None
    return json.loads((directory / "epochs" / f"step-{step:07d}" / "meta.json").read_text())


def logged_steps(workdir: Path, stage: str) -> list[int]:
    """Optimizer steps recorded so far in the stage's partial `train_log.jsonl` (cut lines skipped)."""
    directory = partial(workdir, stage)
    log = directory / "train_log.jsonl" if directory else None
    if log is None or not log.is_file():
        return []
    steps = []
    for line in log.read_text().splitlines():
        try:
            steps.append(int(json.loads(line)["step"]))
        except (ValueError, KeyError, TypeError):
            continue
    return steps


def entries(workdir: Path, stage: str) -> list[Path]:
    folder = workdir / "cache" / stage
    return sorted(p for p in folder.iterdir() if len(p.name) == 64) if folder.is_dir() else []


def manifest(workdir: Path, stage: str) -> dict:
    (entry,) = entries(workdir, stage)
    return json.loads((entry / "manifest.json").read_text())


__all__ = [
    "INTERRUPTED",
    "PAUSE_ENV",
    "ROOT",
    "Run",
    "TINY",
    "checkpoint_meta",
    "entries",
    "epoch_checkpoints",
    "logged_steps",
    "manifest",
    "partial",
]
