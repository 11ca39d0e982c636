"""Small filesystem helpers for writes that are all-or-nothing (temp file + fsync + rename)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def _jsonable(value: Any) -> Any:
    # Stages return metrics from numpy/torch now and then; scalars and arrays know how to become
    # plain Python (duck-typed: the runner must not import either library).
    for method in ("item", "tolist"):
        if callable(getattr(value, method, None)):
            return getattr(value, method)()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value: Any) -> str:
    """Indented JSON in the key order of the dicts given (callers fix that order)."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=_jsonable) + "\n"


def fsync_dir(path: Path) -> None:
    # Makes a rename inside `path` durable; some filesystems refuse fsync on directories.
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_text_atomic(path: Path, text: str, *, durable: bool = True) -> None:
    """Readers see the old content or the new one, never a prefix (os.replace is atomic).

    `durable` also survives a power cut (fsync); caches that can be rebuilt skip it.
    """
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    if durable:
        fsync_dir(path.parent)


def write_json_atomic(path: Path, value: Any, *, durable: bool = True) -> None:
    write_text_atomic(path, dumps(value), durable=durable)


def replace_symlink(link: Path, target: str) -> None:
    """Point `link` at `target`, atomically (a new link renamed over the old one)."""
    tmp = link.with_name(f".{link.name}.tmp-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    os.symlink(target, tmp)
    try:
        os.replace(tmp, link)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


__all__ = ["dumps", "fsync_dir", "replace_symlink", "write_json_atomic", "write_text_atomic"]
