"""The run loop: plan, lock the workdir, run what is stale, seal results, update lock and views.

A stage that must run is computed under its cache entry's `StageLock`, and the cache is checked
again once the lock is held: parallel variants of a sweep (which share their parent's workdir lock)
wait for an entry another one is computing and then reuse it, instead of computing it twice.

Stages are called with a `StageContext` whose `output_dir` is the entry's `.partial` directory
and whose `inputs` are the cache entries of all their (transitive) upstream stages. Exceptions,
KeyboardInterrupt included, propagate unchanged after a progress line: the CLI dispatcher turns
them into messages and exit codes, and nothing half-written is ever committed.
"""

from __future__ import annotations

import contextlib
import errno
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ov_movement.config.load import LoadedPipeline
from ov_movement.errors import ConfigError, StageError
from ov_movement.pause_points import pause_point
from ov_movement.runner.graph import ancestors, select
from ov_movement.runner.lockfile import update_view
from ov_movement.runner.plan import (
    CACHED,
    DAMAGED,
    REUSE,
    RUN,
    Plan,
    PlannedStage,
    ensure_inputs_available,
    make_plan,
    resolve_workdir,
)
from ov_movement.runner.progress import Progress, default_progress, shown
from ov_movement.runner.runlock import RunLock, StageLock, run_in_progress
from ov_movement.stages import STAGES
from ov_movement.stages.base import StageContext, StageResult, StageSpec


@dataclass(frozen=True)
class StageOutcome:
    name: str
    fingerprint: str
    action: str  # "ran" | "cached" | "would run" | "skipped"
    entry: Path | None = None
    wall_time_s: float | None = None
    reasons: tuple[str, ...] = ()


@dataclass
class RunSummary:
    plan: Plan
    dry_run: bool
    outcomes: list[StageOutcome] = field(default_factory=list)

    @property
    def executed(self) -> list[str]:
        return [o.name for o in self.outcomes if o.action == "ran"]

    @property
    def view_dir(self) -> Path:
        return self.plan.pipeline_dir

    @property
    def lock_path(self) -> Path:
        return self.plan.lockfile.path


def pipeline_status(
    loaded: LoadedPipeline,
    registry: Mapping[str, StageSpec] | None = None,
    workdir: str | Path | None = None,
    *,
    verify: bool = False,
) -> Plan:
    """Every stage's state and why, without running or importing anything of the stages."""
    return make_plan(loaded, STAGES if registry is None else registry, workdir, verify=verify)


def print_status(plan: Plan, *, progress: bool | None = None) -> None:
    out = Progress(rich=default_progress() if progress is None else progress, width=_width(plan.registry))
    out.plan(plan, dry_run=False)
    holder = run_in_progress(plan.workdir)
    if holder:
        out.note(f"note: a run (pid {holder}) is in progress in this workdir; states may change as it goes")


def _width(registry: Mapping[str, StageSpec]) -> int:
    return max((len(name) for name in registry), default=8)


def run_pipeline(
    loaded: LoadedPipeline,
    registry: Mapping[str, StageSpec] | None = None,
    workdir: str | Path | None = None,
    *,
    from_: str | None = None,
    until: str | None = None,
    only: str | Sequence[str] | None = None,
    force: bool = False,
    dry_run: bool = False,
    verify: bool = False,
    wait: bool = False,
    progress: bool | None = None,
    workdir_lock: bool = True,
) -> RunSummary:
    """Run the stale stages of the selection (all of them with `force`); see `select`.

    `workdir_lock=False` is for a caller that holds the workdir's `RunLock` itself (a sweep, whose
    variants run in parallel processes); the per-entry `StageLock`s still apply."""
    registry = STAGES if registry is None else registry
    show = default_progress() if progress is None else progress
    out = Progress(rich=show, width=_width(registry))
    options: dict[str, Any] = dict(from_=from_, until=until, only=only, force=force, verify=verify)
    if dry_run:
        plan = make_plan(loaded, registry, workdir, **options)
        out.plan(plan, dry_run=True)
        ensure_inputs_available(plan)
        summary = RunSummary(plan, dry_run=True)
        for stage in plan.stages:
            action = {RUN: "would run", REUSE: "cached"}.get(stage.action, "skipped")
            summary.outcomes.append(
                StageOutcome(stage.name, stage.fingerprint.digest, action, None, None, stage.reasons)
            )
        return summary
    select(registry, from_=from_, until=until, only=only)  # bad names fail before any waiting
    # Plan under the lock: a run we waited for may have produced what we were about to run.
    lock = (
        RunLock(resolve_workdir(loaded, workdir), wait=wait, notify=out.note)
        if workdir_lock
        else contextlib.nullcontext()
    )
    with lock:
        plan = make_plan(loaded, registry, workdir, **options)
        ensure_inputs_available(plan)
        summary = RunSummary(plan, dry_run=False)
        try:
            _execute(loaded, plan, summary, out, show, force=force)
        except OSError as error:
            if error.errno not in _ENVIRONMENT_ERRNOS:
                raise
            raise _environment_error(error, plan.workdir) from error
        plan.dependencies.save()  # the first run of a workdir has a cache directory only now
    out.note(f"outputs: {shown(plan.pipeline_dir)}/<stage>  (lock file: {shown(plan.lockfile.path)})")
    return summary


def _execute(
    loaded: LoadedPipeline, plan: Plan, summary: RunSummary, out: Progress, show: bool, *, force: bool = False
) -> None:
    store, registry = plan.store, plan.registry
    entries: dict[str, Path] = {}  # stage -> cache entry used in this run
    digests: dict[str, str] = {}  # stage -> outputs digest of that entry
    ran: set[str] = set()
    needed = set(plan.needed_inputs())
    for stage in plan.stages:
        if not stage.selected and stage.name not in needed:
            summary.outcomes.append(StageOutcome(stage.name, stage.fingerprint.digest, "skipped"))
            continue
        spec = registry[stage.name]
        manifest = stage.check.manifest if stage.state == CACHED and stage.action != RUN else None
        reasons = list(stage.reasons)
        if manifest is not None:
            built_from = manifest.get("upstream_outputs") or {}
            changed = [up for up in spec.upstream if up in ran and built_from.get(up) != digests[up]]
            if changed and not stage.selected:
                raise StageError(
                    f"{stage.name}'s cached outputs were built from {', '.join(changed)} outputs that this run "
                    f"replaced; select {stage.name} too (e.g. --from {changed[0]})"
                )
            if changed:
                manifest, reasons = None, [f"upstream {up} outputs changed" for up in changed]
        if manifest is None:
            if not stage.selected:  # ensure_inputs_available rules this out; keep the promise anyway
                raise StageError(f"{stage.name} is needed as input but not cached; run it first")
            with StageLock(plan.workdir, stage.name, stage.fingerprint.digest, notify=out.note):
                reused = None if force else _committed_meanwhile(store, stage, spec, digests)
                if reused is None:
                    if stage.state == DAMAGED and store.check(stage.name, stage.fingerprint.digest).exists:
                        aside = store.move_aside(stage.name, stage.fingerprint.digest, "damaged")
                        out.note(f"{stage.name}: {reasons[0]}; moved aside to {shown(aside)}")
                    manifest = _run_stage(loaded, plan, stage, spec, entries, digests, reasons, out, show)
            if reused is None:
                ran.add(stage.name)
                action, wall = "ran", manifest["wall_time_s"]
            else:
                out.cached(stage, MEANWHILE)
                manifest, action, wall = reused, "cached", None
                reasons = [*reasons, MEANWHILE]
        else:
            out.cached(stage)
            action, wall = "cached", None
        entry = store.entry_dir(stage.name, stage.fingerprint.digest)
        entries[stage.name], digests[stage.name] = entry, manifest["outputs_digest"]
        plan.lockfile.record(stage.name, manifest, entry.relative_to(plan.workdir).as_posix())
        update_view(plan.pipeline_dir, stage.name, entry)
        summary.outcomes.append(
            StageOutcome(stage.name, stage.fingerprint.digest, action, entry, wall, tuple(reasons))
        )


MEANWHILE = "computed by another run meanwhile"


def _committed_meanwhile(
    store: Any, stage: PlannedStage, spec: StageSpec, digests: Mapping[str, str]
) -> dict[str, Any] | None:
    """The entry's manifest if another process committed it, from these upstream outputs, since the plan."""
    check = store.check(stage.name, stage.fingerprint.digest)
    if not check.ok or check.manifest is None:
        return None
    built_from = check.manifest.get("upstream_outputs") or {}
    if any(built_from.get(up) != digests[up] for up in spec.upstream):
        return None
    return check.manifest


# A full disk or a filesystem that refuses writes: the user's to fix, not a bug (no traceback).
_ENVIRONMENT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM})


# Below this much free space, a stage's failure is taken to be the full disk's doing: a write that
# failed for want of space has filled the filesystem up to its last blocks.
DISK_FULL_BYTES = 4 * 2**20


def _free_bytes(path: Path) -> tuple[int, int]:
    """(bytes, inodes) this process may still use on the filesystem holding `path`."""
    while not path.exists() and path != path.parent:
        path = path.parent
    st = os.statvfs(path)
    blocks, inodes = (st.f_bfree, st.f_ffree) if os.geteuid() == 0 else (st.f_bavail, st.f_favail)
    return blocks * st.f_frsize, inodes if st.f_files else 1  # f_files 0: no inode limit (e.g. btrfs)


def _newest_file(directory: Path) -> Path | None:
    newest, newest_time = None, -1
    for root, _, filenames in os.walk(directory):
        for name in filenames:
            try:
                mtime = os.lstat(os.path.join(root, name)).st_mtime_ns
            except OSError:
                continue
            if mtime > newest_time:
                newest, newest_time = Path(root, name), mtime
    return newest


def disk_full_error(error: Exception, output_dir: Path) -> OSError | None:
    """An ENOSPC error for a failure that a full disk caused, else None.

    Libraries that write through C++ streams report a full disk without an errno: torch.save as
    `RuntimeError: [enforce fail at inline_container.cc] ... file write failed`, OpenVINO's
    serializer as `basic_ios::clear: iostream error`. When such a failure leaves the filesystem
    of the stage's output directory (almost) full, that is the cause: say so, naming the file
    being written when there is one, instead of a traceback."""
    try:
        free, inodes = _free_bytes(output_dir)
    except OSError:
        return None
    if free >= DISK_FULL_BYTES and inodes > 0:
        return None
    target = _newest_file(output_dir) or output_dir
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))


def _environment_error(error: OSError, workdir: Path) -> StageError:
    where = f": {error.filename}" if error.filename else ""
    cause = error.__cause__
    if cause is not None and not isinstance(cause, OSError):  # a library's own words (disk_full_error)
        said = str(cause).strip().splitlines()[0][:200] if str(cause).strip() else type(cause).__name__
        where += f" ({type(cause).__name__}: {said})"
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        hint = (
            f"free some space (entries under {shown(workdir / 'cache')} that no config uses any more, "
            "and *.damaged-* directories there, can be deleted)"
        )
    else:
        hint = "fix the permissions of that path (or pass another --workdir)"
    return StageError(
        f"{error.strerror or error}{where}. Nothing half-written was cached; {hint} and run the same "
        "command again: finished stages and epoch checkpoints are kept"
    )


def _load(spec: StageSpec):
    try:
        return spec.load()
    except ImportError as error:
        raise StageError(f"stage {spec.name!r}: cannot import {spec.run!r}: {error}") from error


def _run_stage(
    loaded: LoadedPipeline,
    plan: Plan,
    stage: PlannedStage,
    spec: StageSpec,
    entries: Mapping[str, Path],
    digests: Mapping[str, str],
    reasons: list[str],
    out: Progress,
    show: bool,
) -> dict[str, Any]:
    function = _load(spec)
    output_dir = plan.store.prepare(stage.name, stage.fingerprint.digest, resumable=spec.resumable)
    upstream_all = ancestors(plan.registry, stage.name)
    context = StageContext(
        stage=stage.name,
        config=loaded.config,
        config_dir=loaded.config_dir,
        output_dir=output_dir,
        inputs={name: entries[name] for name in entries if name in upstream_all},
        progress=show,
    )
    out.running(stage.name, reasons)
    started = time.perf_counter()
    try:
        pause_point(stage.name, "start")
        result = function(context)
    except BaseException as error:
        out.failed(
            stage.name, time.perf_counter() - started, interrupted=isinstance(error, KeyboardInterrupt)
        )
        if isinstance(error, Exception) and not isinstance(error, OSError | ConfigError):
            full = disk_full_error(error, output_dir)
            if full is not None:
                raise full from error
        raise
    wall = time.perf_counter() - started
    if result is None:
        result = StageResult()
    if not isinstance(result, StageResult):
        raise StageError(f"stage {stage.name!r} returned {type(result).__name__}, expected StageResult")
    manifest = plan.store.commit(
        stage.fingerprint,
        result,
        wall_time_s=wall,
        upstream_outputs={up: digests[up] for up in spec.upstream},
        pipeline=plan.pipeline,
    )
    out.done(stage.name, wall, stage.short, result.summary)
    return manifest


__all__ = ["RunSummary", "StageOutcome", "pipeline_status", "print_status", "run_pipeline"]
