"""The entry-point groups plugins declare (ov_movement.plugins loads them). Cheap to import: the
CLI asks whether any plugin is installed before importing the registries (and numpy with them)."""

from __future__ import annotations

import importlib.metadata

TASK_GROUP = "ov_movement.tasks"
SOURCE_GROUP = "ov_movement.data_sources"
STAGE_GROUP = "ov_movement.stages"
GROUPS = {TASK_GROUP: "task", SOURCE_GROUP: "data source", STAGE_GROUP: "stage"}


def declared() -> bool:
    """Whether any installed distribution declares an entry point in one of the groups."""
    return any(importlib.metadata.entry_points(group=group) for group in GROUPS)


__all__ = ["GROUPS", "SOURCE_GROUP", "STAGE_GROUP", "TASK_GROUP", "declared"]
