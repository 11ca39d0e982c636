"""One `run` at a time per workdir: an exclusive `flock` on `<workdir>/.lock`.

The cache is shared by every pipeline in a workdir (equal settings share entries), so the lock
covers the workdir, not one pipeline. `flock` is released by the kernel when the holder dies,
SIGKILL included, so there is no stale lock to clean up; the file itself is never deleted
(unlinking a flock'ed file would let a second process lock a new inode). By default a second run
fails at once naming the holder; `--wait` queues it instead.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from ov_movement.errors import StageError

LOCK_NAME = ".lock"


def holder_pid(workdir: Path) -> str | None:
    try:
        text = (workdir / LOCK_NAME).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return text or None


def run_in_progress(workdir: Path) -> str | None:
    """The pid of the run holding the workdir ("?" if unknown), or None; never blocks."""
    path = workdir / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return holder_pid(workdir) or "?"
    finally:
        os.close(fd)  # closing drops our shared lock, if we got it
    return None


class RunLock:
    def __init__(self, workdir: Path, *, wait: bool = False, notify: Callable[[str], None] = print):
        self.workdir = workdir
        self.wait = wait
        self.notify = notify
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        try:
            self.workdir.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.workdir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:  # a file in the way, a read-only or full filesystem, no permission
            culprit = f" ({error.filename})" if error.filename and error.filename != str(self.workdir) else ""
            reason = "not a directory" if isinstance(error, FileExistsError) else error.strerror or error
            raise StageError(
                f"cannot use {self.workdir} as the workdir: {reason}{culprit}; "
                "pass another --workdir (or set `workdir` in the config)"
            ) from None
        self._fd = _hold(fd, self.workdir, self._busy)
        return self

    def _busy(self, pid: str) -> None:
        if not self.wait:
            raise StageError(
                f"another ov-movement run (pid {pid}) is using {self.workdir}; "
                "wait for it to finish, or pass --wait to queue behind it"
            ) from None
        self.notify(f"waiting for the ov-movement run (pid {pid}) using {self.workdir} ...")

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._fd is not None:
            os.close(self._fd)  # releases the flock
            self._fd = None


def _hold(fd: int, directory: Path, busy: Callable[[str], None]) -> int:
    """Take the exclusive flock on `fd` and write our pid into it. When another process holds it,
    `busy(its pid)` is called first: it may raise (then `fd` is closed), else we block until free."""
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            busy(holder_pid(directory) or "?")
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    except BaseException:
        os.close(fd)
        raise
    return fd


# ---- one process per cache entry ------------------------------------------------------------------

STAGE_LOCKS = ".locks"  # <workdir>/.locks/<stage>/<fingerprint>/.lock; a dot: no pipeline name maps there


class StageLock:
    """An exclusive `flock` on one cache entry while it is being computed.

    Runs that hold the workdir lock are alone anyway; the variants of a sweep run in parallel
    under their parent's workdir lock, and two of them needing the same entry (the dense baseline,
    every stage upstream of the swept keys) must not compute it twice: the second waits here, then
    finds the entry committed (the caller re-checks the cache after acquiring). Same kernel
    guarantees as `RunLock`: released when the holder dies, the file is never deleted.
    """

    def __init__(self, workdir: Path, stage: str, digest: str, *, notify: Callable[[str], None] = print):
        self.directory = workdir / STAGE_LOCKS / stage / digest
        self.stage = stage
        self.notify = notify
        self._fd: int | None = None

    def __enter__(self) -> StageLock:
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.directory / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        self._fd = _hold(
            fd,
            self.directory,
            lambda pid: self.notify(
                f"{self.stage}: waiting for pid {pid}, which is computing the same cache entry ..."
            ),
        )
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


__all__ = ["LOCK_NAME", "STAGE_LOCKS", "RunLock", "StageLock", "holder_pid", "run_in_progress"]
