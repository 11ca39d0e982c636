"""Plugins through Python entry points, as pytest and OpenVINO's frontends find theirs.

A distribution declares, in its pyproject.toml:

    [project.entry-points."ov_movement.tasks"]
    my-task = "my_package.tasks:MyTask"            # a tasks.base.Task subclass (or instance)
    [project.entry-points."ov_movement.data_sources"]
    my_source = "my_package.data:MY_SOURCE"        # a data.sources.DataSource
    [project.entry-points."ov_movement.stages"]
    my_stage = "my_package.stage:STAGE"            # a plugins.StagePlugin

`load_plugins()` (the CLI calls it before any command) loads them into the registries: tasks
(ov_movement.tasks.TASKS), data sources (data.sources.SOURCES) and stages (stages.STAGES), and
rebuilds the pipeline model so validation, the JSON Schema and `status` know the new task and
source names and each stage's config section. A plugin that cannot be loaded, or that declares
something inconsistent (a name taken, an upstream stage that does not exist), is a PluginError
naming the entry point and its distribution: exit 2, no traceback. docs/plugins.md has a guide.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ov_movement.config.base import StrictModel
from ov_movement.config.pipeline import PLUGIN_SECTIONS, PipelineConfig, rebuild_pipeline_model
from ov_movement.data.sources import SOURCES, DataSource, register_source
from ov_movement.entry_points import GROUPS, SOURCE_GROUP, STAGE_GROUP, TASK_GROUP
from ov_movement.errors import OvMovementError
from ov_movement.stages import STAGES, StageSpec, register_stage
from ov_movement.tasks import TASKS, Task, register_task


class PluginError(OvMovementError):
    """An installed plugin could not be loaded or declares something inconsistent."""


@dataclass(frozen=True)
class StagePlugin:
    """A stage a plugin adds: its spec (name, `run`, `upstream` stages, the config sections it
    `reads`) and, optionally, its own config section: `section` (a top-level key) validated by
    `section_model` (a config.base.StrictModel whose every field has a default)."""

    spec: StageSpec
    section: str | None = None
    section_model: type[StrictModel] | None = None


@dataclass(frozen=True)
class Installed:
    """One entry point: what it adds (`kind`), its name, its target and the distribution it comes from."""

    kind: str
    name: str
    target: str
    distribution: str
    version: str
    error: str | None = None  # why it could not be loaded (set by `installed(load=True)`)


_loaded: dict[tuple[str, str], Installed] = {}


def _entry_points(group: str) -> Iterable[importlib.metadata.EntryPoint]:
    return sorted(importlib.metadata.entry_points(group=group), key=lambda ep: ep.name)


def _describe(group: str, entry: importlib.metadata.EntryPoint) -> Installed:
    dist = getattr(entry, "dist", None)
    return Installed(
        GROUPS[group],
        entry.name,
        entry.value,
        dist.metadata["Name"] if dist is not None else "?",
        dist.version if dist is not None else "?",
    )


def _failure(plugin: Installed, why: str) -> PluginError:
    return PluginError(
        f"plugin {plugin.name!r} ({plugin.kind}, {plugin.target}) from distribution "
        f"{plugin.distribution} {plugin.version}: {why}. Fix or uninstall it "
        f"(`pip uninstall {plugin.distribution}`); `ov-movement plugins` lists what is installed"
    )


def _load(group: str, entry: importlib.metadata.EntryPoint) -> tuple[Installed, Any]:
    plugin = _describe(group, entry)
    try:
        target = entry.load()
    except Exception as error:  # anything the plugin's import raises is the plugin's fault
        raise _failure(plugin, f"cannot be imported: {type(error).__name__}: {error}") from None
    return plugin, target


def _add_task(plugin: Installed, target: Any) -> None:
    task = target() if isinstance(target, type) else target
    if not isinstance(task, Task):
        raise _failure(plugin, f"is a {type(task).__name__}, not an ov_movement.tasks.base.Task")
    if task.name != plugin.name:
        raise _failure(plugin, f"the task calls itself {task.name!r}; the entry point must have that name")
    if task.name in TASKS:
        raise _failure(plugin, f"task {task.name!r} exists already")
    if not task.reads:
        raise _failure(plugin, "the task declares no `reads` (the kind of examples it reads)")
    register_task(task)


def _add_source(plugin: Installed, target: Any) -> None:
    if not isinstance(target, DataSource):
        raise _failure(plugin, f"is a {type(target).__name__}, not an ov_movement.data.sources.DataSource")
    if target.name != plugin.name:
        raise _failure(
            plugin, f"the source calls itself {target.name!r}; the entry point must have that name"
        )
    if target.name in SOURCES:
        raise _failure(plugin, f"data source {target.name!r} exists already")
    register_source(target)


def _add_stage(plugin: Installed, target: Any) -> None:
    if not isinstance(target, StagePlugin):
        raise _failure(plugin, f"is a {type(target).__name__}, not an ov_movement.plugins.StagePlugin")
    spec = target.spec
    if spec.name != plugin.name:
        raise _failure(plugin, f"the stage calls itself {spec.name!r}; the entry point must have that name")
    if spec.name in STAGES:
        raise _failure(plugin, f"stage {spec.name!r} exists already")
    unknown = [name for name in spec.upstream if name not in STAGES]
    if unknown:
        raise _failure(plugin, f"upstream stage(s) {unknown} do not exist (stages: {', '.join(STAGES)})")
    if target.section is not None:
        if target.section in PipelineConfig.model_fields or target.section in PLUGIN_SECTIONS:
            raise _failure(plugin, f"config section {target.section!r} exists already")
        if not (isinstance(target.section_model, type) and issubclass(target.section_model, StrictModel)):
            raise _failure(plugin, "a config section needs a `section_model` (a config.base.StrictModel)")
        PLUGIN_SECTIONS[target.section] = target.section_model
    register_stage(spec)


_ADD = {TASK_GROUP: _add_task, SOURCE_GROUP: _add_source, STAGE_GROUP: _add_stage}


def load_plugins() -> list[Installed]:
    """Load every installed plugin into the registries (once; stages last, so their upstream may
    be another plugin's stage in the order the entry points sort)."""
    for group in (TASK_GROUP, SOURCE_GROUP, STAGE_GROUP):
        for entry in _entry_points(group):
            if (group, entry.name) in _loaded:
                continue
            plugin, target = _load(group, entry)
            _ADD[group](plugin, target)
            _loaded[(group, entry.name)] = plugin
    rebuild_pipeline_model()
    return list(_loaded.values())


def installed() -> list[Installed]:
    """Every entry point of the three groups, loaded: those that fail carry their error."""
    found = []
    for group in (TASK_GROUP, SOURCE_GROUP, STAGE_GROUP):
        for entry in _entry_points(group):
            plugin = _loaded.get((group, entry.name))
            if plugin is None:
                plugin = _describe(group, entry)
                try:
                    _, target = _load(group, entry)
                    _ADD[group](plugin, target)
                    _loaded[(group, entry.name)] = plugin
                except PluginError as error:
                    plugin = Installed(**{**plugin.__dict__, "error": str(error)})
            found.append(plugin)
    rebuild_pipeline_model()
    return found


__all__ = [
    "GROUPS",
    "Installed",
    "PluginError",
    "SOURCE_GROUP",
    "STAGE_GROUP",
    "StagePlugin",
    "TASK_GROUP",
    "installed",
    "load_plugins",
]
