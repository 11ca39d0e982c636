"""The content-addressed store: `<workdir>/cache/<stage>/<fingerprint>/`, outputs + manifest.json.

Life of an entry:
  1. the stage writes into `<fingerprint>.partial/` (kept across attempts for resumable stages,
     emptied before each attempt otherwise);
  2. on success the runner hashes (and fsyncs) every file, writes `manifest.json` last, and renames
     the directory to `<fingerprint>/`. The rename is the commit: a crash, Ctrl-C or SIGKILL at
     any earlier point leaves only a `.partial` directory, and a `.partial` is never a hit;
  3. an entry whose files are missing or altered is not a hit; the runner moves it aside to
     `<fingerprint>.damaged-<time>/` (kept for inspection, never deleted silently) and reruns.

Verification policy. Outputs are large (checkpoints with optimizer state, ONNX, two IRs: several
hundred MB) and every `run` and `status` checks every entry it relies on. Full sha256 reads every
byte: measured 0.22 s per 400 MB from the page cache here (~1.8 GB/s with SHA-NI), but seconds
when the files are not cached or the two cores are busy, which breaks `status` < 1 s. So, like
git's index: after a file's sha256 has been checked, its (sha256, size, mtime_ns, ctime_ns,
inode) is recorded in `<entry>/.verified.json`; a later check whose stat matches skips the read.
Any write to a file moves its ctime (which no user call can set back, unlike mtime) and a
replacement changes the inode, so a tampered byte is still caught; a file whose timestamps lie
within `RACY_NS` of the recording is not recorded ("racily clean" in git's terms: a write in the
same timestamp tick would be invisible), so fresh files are re-hashed until they are old enough.
`--verify` ignores the record and re-hashes everything.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from ov_movement.errors import StageError
from ov_movement.runner.atomic import dumps, fsync_dir, write_json_atomic
from ov_movement.runner.fingerprint import Fingerprint, canonical_json
from ov_movement.stages.base import StageResult

MANIFEST = "manifest.json"
STAT_RECORD = ".verified.json"
RESERVED = frozenset({MANIFEST, STAT_RECORD})
MANIFEST_FORMAT = 1
# Timestamps closer than this to the moment of recording are not trusted (coarse filesystem
# clocks: ext4 without multigrain timestamps ticks every 1-10 ms, FAT every 2 s).
RACY_NS = 2_000_000_000


def utc_stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def hash_file(path: Path, *, sync: bool = False) -> str:
    with open(path, "rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
        if sync:  # durable before the commit rename (fsync works on a read-only fd on Linux)
            os.fsync(handle.fileno())
    return digest


def outputs_digest(outputs: list[dict[str, Any]]) -> str:
    """One hash for a whole entry's contents: what downstream manifests record of their inputs."""
    pairs = [[item["path"], item["sha256"]] for item in outputs]
    return hashlib.sha256(canonical_json(pairs).encode()).hexdigest()


def _stat_key(sha256: str, st: os.stat_result) -> list[Any]:
    return [sha256, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def _racy(st: os.stat_result, now_ns: int) -> bool:
    return max(st.st_mtime_ns, st.st_ctime_ns) >= now_ns - RACY_NS


@dataclass(frozen=True)
class EntryCheck:
    """Result of checking `cache/<stage>/<fingerprint>/`."""

    exists: bool
    manifest: dict[str, Any] | None = None
    problem: str | None = None  # e.g. "mask/checkpoint/model.pt hash mismatch"

    @property
    def ok(self) -> bool:
        return self.exists and self.problem is None


class Store:
    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.root = workdir / "cache"

    def entry_dir(self, stage: str, digest: str) -> Path:
        return self.root / stage / digest

    def partial_dir(self, stage: str, digest: str) -> Path:
        return self.root / stage / f"{digest}.partial"

    def has_partial(self, stage: str, digest: str) -> bool:
        return self.partial_dir(stage, digest).is_dir()

    def prepare(self, stage: str, digest: str, *, resumable: bool) -> Path:
        """The directory the stage writes into for this attempt."""
        partial = self.partial_dir(stage, digest)
        if partial.exists() and not resumable:
            shutil.rmtree(partial)  # leftovers of an interrupted attempt must not leak into this one
        partial.mkdir(parents=True, exist_ok=True)
        for name in RESERVED:  # ours, from an attempt killed between manifest write and rename
            (partial / name).unlink(missing_ok=True)
        return partial

    def move_aside(self, stage: str, digest: str, label: str) -> Path:
        entry = self.entry_dir(stage, digest)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        aside = entry.with_name(f"{digest}.{label}-{stamp}")
        counter = 1
        while aside.exists():
            counter += 1
            aside = entry.with_name(f"{digest}.{label}-{stamp}-{counter}")
        os.rename(entry, aside)
        return aside

    def commit(
        self,
        fingerprint: Fingerprint,
        result: StageResult,
        *,
        wall_time_s: float,
        upstream_outputs: Mapping[str, str],
        pipeline: str,
    ) -> dict[str, Any]:
        """Seal the partial directory into the entry for `fingerprint`; returns the manifest."""
        stage, digest = fingerprint.stage, fingerprint.digest
        partial = self.partial_dir(stage, digest)
        clash = sorted(name for name in RESERVED if (partial / name).exists())
        if clash:
            raise StageError(
                f"stage {stage!r} wrote {', '.join(clash)}, a name reserved for the runner's records"
            )
        outputs = self._hash_outputs(stage, partial)
        manifest = {
            "format": MANIFEST_FORMAT,
            "stage": stage,
            "fingerprint": digest,
            **fingerprint.record(),
            "upstream_outputs": dict(upstream_outputs),
            "outputs": outputs,
            "outputs_digest": outputs_digest(outputs),
            "wall_time_s": round(wall_time_s, 3),
            "metrics": result.metrics,
            "summary": result.summary,
            "created": utc_stamp(),
            "pipeline": pipeline,  # who produced it; informative only (entries are shared)
        }
        try:
            dumps(manifest)
        except (TypeError, ValueError) as error:
            raise StageError(
                f"stage {stage!r} returned metrics that are not JSON serialisable: {error}"
            ) from error
        write_json_atomic(partial / MANIFEST, manifest)
        entry = self.entry_dir(stage, digest)
        replaced = self.move_aside(stage, digest, "replaced") if entry.exists() else None  # --force
        os.rename(partial, entry)
        fsync_dir(entry.parent)
        if replaced is not None:
            shutil.rmtree(replaced, ignore_errors=True)
        self._record(entry, {item["path"]: item["sha256"] for item in outputs}, {})
        return manifest

    def _hash_outputs(self, stage: str, root: Path) -> list[dict[str, Any]]:
        outputs = []
        for directory, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for filename in sorted(filenames):
                path = Path(directory, filename)
                relative = path.relative_to(root).as_posix()
                try:
                    size = path.stat().st_size
                except FileNotFoundError:
                    raise StageError(f"stage {stage!r} left a dangling symlink: {relative}") from None
                outputs.append({"path": relative, "sha256": hash_file(path, sync=True), "size": size})
        return outputs

    def read_manifest(self, stage: str, digest: str) -> dict[str, Any] | None:
        try:
            return json.loads((self.entry_dir(stage, digest) / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def check(self, stage: str, digest: str, *, full: bool = False) -> EntryCheck:
        """Is the entry there and intact? `full` re-hashes every file (see the module docstring)."""
        entry = self.entry_dir(stage, digest)
        if not entry.is_dir():
            return EntryCheck(exists=False)
        try:
            manifest = json.loads((entry / MANIFEST).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return EntryCheck(True, None, f"{stage}/{MANIFEST} missing")
        except (OSError, ValueError):
            return EntryCheck(True, None, f"{stage}/{MANIFEST} unreadable")
        if not isinstance(manifest, dict) or manifest.get("fingerprint") != digest:
            return EntryCheck(True, None, f"{stage}/{MANIFEST} belongs to another fingerprint")
        known = {} if full else self._read_record(entry)
        checked: dict[str, str] = {}
        for item in manifest.get("outputs", []):
            relative = str(item.get("path", ""))
            shown = f"{stage}/{relative}"
            pure = PurePosixPath(relative)
            if not relative or pure.is_absolute() or ".." in pure.parts:
                return EntryCheck(
                    True, manifest, f"{stage}/{MANIFEST} lists a path outside the entry: {relative}"
                )
            path = entry / relative
            try:
                st = path.stat()
            except OSError:
                return EntryCheck(True, manifest, f"{shown} missing")
            if st.st_size != item.get("size"):
                return EntryCheck(
                    True, manifest, f"{shown} size changed ({item.get('size')} -> {st.st_size} bytes)"
                )
            if known.get(relative) == _stat_key(item.get("sha256", ""), st):
                continue
            if hash_file(path) != item.get("sha256"):
                return EntryCheck(True, manifest, f"{shown} hash mismatch")
            checked[relative] = item["sha256"]
        if checked:
            self._record(entry, checked, known)
        return EntryCheck(True, manifest)

    def _read_record(self, entry: Path) -> dict[str, Any]:
        try:
            record = json.loads((entry / STAT_RECORD).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return record if isinstance(record, dict) else {}

    def _record(self, entry: Path, verified: Mapping[str, str], known: Mapping[str, Any]) -> None:
        """Remember the stat of files just verified, except racily fresh ones (best effort)."""
        now = time.time_ns()
        record = dict(known)
        for relative, sha256 in verified.items():
            try:
                st = (entry / relative).stat()
            except OSError:
                continue
            if not _racy(st, now):
                record[relative] = _stat_key(sha256, st)
        if record == known:
            return
        try:
            write_json_atomic(entry / STAT_RECORD, record, durable=False)
        except OSError:
            pass  # a read-only workdir or a concurrent move-aside: verification just stays slower


__all__ = [
    "EntryCheck",
    "MANIFEST",
    "RACY_NS",
    "STAT_RECORD",
    "Store",
    "hash_file",
    "outputs_digest",
    "utc_stamp",
]
