"""Per-pipeline records: `<workdir>/<pipeline>/ov-movement.lock` and the `<stage>` views.

The lock file says which cache entry is each stage's current result for this pipeline, with the
inputs that produced it (so `status` can explain a change even after the cache was cleaned) and
its output files with sha256 and size, like `dvc.lock`. Keys come in a fixed order (stages in
graph order, fields in the order below) so diffs of the file are meaningful; it is replaced
atomically (temp + os.replace), so a crash leaves the old or the new file, never half of one.

The view `<workdir>/<pipeline>/<stage>` is a relative symlink to the entry, replaced atomically,
so the whole workdir can be moved or copied.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ov_movement.errors import ConfigError, StageError
from ov_movement.runner.atomic import replace_symlink, write_json_atomic
from ov_movement.runner.store import utc_stamp

LOCK_NAME = "ov-movement.lock"
LOCK_FORMAT = 1
# Names the workdir uses itself: a pipeline called "cache" would put its views among the entries.
_RESERVED_DIRS = {"cache"}


def pipeline_dir(workdir: Path, name: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")
    if not safe or safe in _RESERVED_DIRS:
        raise ConfigError(
            f"pipeline name {name!r} cannot name a directory in the workdir; set another `name`"
        )
    return workdir / safe


class LockFile:
    def __init__(self, directory: Path, *, pipeline: str, config_path: Path, order: Sequence[str]):
        self.directory = directory
        self.path = directory / LOCK_NAME
        self.pipeline = pipeline
        self.config_path = config_path
        self.order = list(order)

    def read(self) -> dict[str, dict[str, Any]]:
        """Stage name -> record; empty when there is no (readable) lock file yet."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        stages = data.get("stages") if isinstance(data, dict) else None
        return {k: v for k, v in stages.items() if isinstance(v, dict)} if isinstance(stages, dict) else {}

    def record(self, stage: str, manifest: dict[str, Any], entry: str) -> None:
        """Make `manifest`'s entry the current result of `stage` (`entry` relative to the workdir)."""
        stages = self.read()
        stages[stage] = {
            "fingerprint": manifest["fingerprint"],
            "entry": entry,
            "inputs": manifest.get("inputs", {}),
            "files": manifest.get("files", {}),
            "upstream": manifest.get("upstream", {}),
            "versions": manifest.get("versions", {}),
            "outputs": manifest.get("outputs", []),
            "outputs_digest": manifest.get("outputs_digest"),
            "created": manifest.get("created"),
        }
        ordered = {name: stages[name] for name in self.order if name in stages}
        ordered.update({name: record for name, record in stages.items() if name not in ordered})
        document = {
            "format": LOCK_FORMAT,
            "pipeline": self.pipeline,
            "config": str(self.config_path),
            "updated": utc_stamp(),
            "stages": ordered,
        }
        self.directory.mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.path, document)


def update_view(directory: Path, stage: str, entry: Path) -> Path:
    """Point `<pipeline dir>/<stage>` at `entry`."""
    directory.mkdir(parents=True, exist_ok=True)
    link = directory / stage
    if link.exists() and not link.is_symlink():
        raise StageError(f"{link} is not a link made by ov-movement; move it away so the view can be updated")
    replace_symlink(link, os.path.relpath(entry, directory))
    return link


__all__ = ["LOCK_FORMAT", "LOCK_NAME", "LockFile", "pipeline_dir", "update_view"]
