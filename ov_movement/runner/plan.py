"""The plan: every stage's fingerprint, state (cached/stale/missing/damaged), the reasons, and
what a run would do with it, all computed before anything runs (DVC's `--dry` habit).

Planning reads the config, the lock file and the manifests (plus a stat per output file; see
store.py for when files are re-hashed) and hashes the files the config names (a stat per file
once hashed; see dependencies.py); it never imports a stage module.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ov_movement.config.load import LoadedPipeline
from ov_movement.config.paths import path_dependencies
from ov_movement.errors import ConfigError, StageError
from ov_movement.runner.dependencies import DependencyHasher
from ov_movement.runner.fingerprint import Fingerprint, compute_fingerprints, describe_changes
from ov_movement.runner.graph import ancestors, for_config, select, topological_order
from ov_movement.runner.lockfile import LockFile, pipeline_dir
from ov_movement.runner.store import EntryCheck, Store
from ov_movement.stages.base import StageSpec

CACHED, STALE, MISSING, DAMAGED = "cached", "stale", "missing", "damaged"
RUN, REUSE, SKIP = "run", "reuse", "skip"


@dataclass(frozen=True)
class PlannedStage:
    name: str
    fingerprint: Fingerprint
    state: str  # CACHED | STALE | MISSING | DAMAGED
    reasons: tuple[str, ...]
    selected: bool
    action: str  # RUN | REUSE | SKIP
    check: EntryCheck

    @property
    def short(self) -> str:
        return self.fingerprint.short


@dataclass
class Plan:
    pipeline: str
    config_path: Path
    workdir: Path
    pipeline_dir: Path
    registry: Mapping[str, StageSpec]
    stages: list[PlannedStage]  # in topological order
    store: Store
    lockfile: LockFile
    dependencies: DependencyHasher  # what the config's files hashed to, and its stat record

    def __getitem__(self, name: str) -> PlannedStage:
        return next(stage for stage in self.stages if stage.name == name)

    @property
    def selected(self) -> list[str]:
        return [stage.name for stage in self.stages if stage.selected]

    def needed_inputs(self) -> list[str]:
        """Unselected stages whose outputs selected stages use (they must be cached)."""
        needed: set[str] = set()
        for name in self.selected:
            needed |= ancestors(self.registry, name)
        return [stage.name for stage in self.stages if stage.name in needed and not stage.selected]


def resolve_workdir(loaded: LoadedPipeline, workdir: str | Path | None = None) -> Path:
    """`--workdir`, else the config's `workdir` (default "runs"); relative to the current
    directory, like every other path on a command line (make and CI run from the repo root)."""
    chosen = Path(workdir if workdir is not None else loaded.config.workdir).expanduser()
    return Path(os.path.abspath(chosen))


def _classify(
    spec: StageSpec,
    fingerprint: Fingerprint,
    check: EntryCheck,
    previous: Mapping | None,
    store: Store,
    planned: Mapping[str, PlannedStage],
) -> tuple[str, list[str]]:
    if check.ok:
        assert check.manifest is not None
        built_from = check.manifest.get("upstream_outputs") or {}
        for up in spec.upstream:
            upstream = planned[up]
            # An upstream that was rerun (--force, a damaged entry) may have produced other bytes
            # under the same fingerprint: entries built from the old bytes are then out of date.
            if upstream.state == CACHED and upstream.check.manifest is not None:
                if built_from.get(up) != upstream.check.manifest.get("outputs_digest"):
                    return STALE, [f"upstream {up} outputs changed since this entry was built"]
        if previous and previous.get("fingerprint") != fingerprint.digest:
            changes = describe_changes(previous, fingerprint.record())
            return CACHED, ["earlier result reused (since the last run: " + "; ".join(changes) + ")"]
        return CACHED, []
    if check.exists:
        return DAMAGED, [f"cached entry damaged: {check.problem}"]
    if previous is None:
        state, reasons = MISSING, ["never run"]
    elif previous.get("fingerprint") == fingerprint.digest:
        state, reasons = MISSING, ["cache entry removed"]
    else:
        state, reasons = STALE, describe_changes(previous, fingerprint.record())
    if store.has_partial(spec.name, fingerprint.digest):
        reasons.append(
            "an interrupted attempt will resume" if spec.resumable else "an interrupted attempt is discarded"
        )
    return state, reasons


def make_plan(
    loaded: LoadedPipeline,
    registry: Mapping[str, StageSpec],
    workdir: str | Path | None = None,
    *,
    from_: str | None = None,
    until: str | None = None,
    only: str | Sequence[str] | None = None,
    force: bool = False,
    verify: bool = False,
) -> Plan:
    registry = for_config(registry, loaded.config)
    order = topological_order(registry)
    selection = set(select(registry, from_=from_, until=until, only=only))
    root = resolve_workdir(loaded, workdir)
    if root.exists() and not root.is_dir():
        raise StageError(
            f"workdir {root} is not a directory; pass another --workdir (or set `workdir` in the config)"
        )
    directory = pipeline_dir(root, loaded.name)
    if directory.exists() and not directory.is_dir():  # else found only after training, at the first view
        raise ConfigError(
            f"pipeline name {loaded.name!r}: {directory} exists and is not a directory, so the pipeline's "
            "results cannot go there; set another `name` in the config (or move that file away)"
        )
    store = Store(root)
    lockfile = LockFile(directory, pipeline=loaded.name, config_path=loaded.path, order=order)
    previous = lockfile.read()
    # Unset optional keys (None) are left out, so that a release adding a new optional setting
    # does not invalidate every cached result; a changed default still does, through the versions.
    dump = loaded.config.model_dump(mode="json", by_alias=False, exclude_none=True)
    hasher = DependencyHasher(store.root, verify=verify)
    files = hasher.digests(path_dependencies(loaded.config, loaded.config_dir))
    hasher.save()
    fingerprints = compute_fingerprints(registry, order, dump, files=files)
    planned: dict[str, PlannedStage] = {}
    for name in order:
        spec, fingerprint = registry[name], fingerprints[name]
        check = store.check(name, fingerprint.digest, full=verify)
        state, reasons = _classify(spec, fingerprint, check, previous.get(name), store, planned)
        selected = name in selection
        if not selected:
            action = SKIP
        elif force:
            action, reasons = RUN, [*reasons, "forced"]
        else:
            action = REUSE if state == CACHED else RUN
        planned[name] = PlannedStage(name, fingerprint, state, tuple(reasons), selected, action, check)
    return Plan(
        loaded.name, loaded.path, root, directory, registry, list(planned.values()), store, lockfile, hasher
    )


def _shown_path(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def ensure_inputs_available(plan: Plan) -> None:
    """Selected stages may use cached upstream outputs only; never rerun upstream silently."""
    unavailable = [plan[name] for name in plan.needed_inputs() if plan[name].state != CACHED]
    if not unavailable:
        return
    names = {stage.name for stage in unavailable}
    details = "; ".join(f"{stage.name} ({stage.state}: {', '.join(stage.reasons)})" for stage in unavailable)
    # Running `--until X` for every missing X that no other missing stage depends on covers them all.
    tips = [n for n in names if not any(n in ancestors(plan.registry, other) for other in names)]
    commands = " and ".join(
        f"`ov-movement run {_shown_path(plan.config_path)} --until {name}`" for name in sorted(tips)
    )
    subject = (
        plan.selected[0] if len(plan.selected) == 1 else f"the selected stages ({', '.join(plan.selected)})"
    )
    raise StageError(
        f"{subject} {'needs' if len(plan.selected) == 1 else 'need'} outputs that are not cached "
        f"for the current config: {details}. "
        f"Run {commands} first (or drop --only/--from to run everything that is out of date)."
    )


__all__ = [
    "CACHED",
    "DAMAGED",
    "MISSING",
    "Plan",
    "PlannedStage",
    "REUSE",
    "RUN",
    "SKIP",
    "STALE",
    "ensure_inputs_available",
    "make_plan",
    "resolve_workdir",
]
