"""Running a sweep: every variant as a pipeline in one workdir, in parallel up to `jobs` processes.

The sweep holds the workdir's `RunLock` for its whole duration (a plain `run` in the same workdir
still waits or stops, as before); its variants run with `workdir_lock=False` and meet only at the
cache entries they share, each computed under that entry's `StageLock` by whichever variant gets
there first while the others wait and then reuse it. With `jobs` 1 the variants run one after the
other in this process; above 1, in fresh (spawned) processes, each writing its progress to
`<workdir>/<sweep>/logs/<variant>.log`. What each variant ran or reused goes to
`<workdir>/<sweep>/sweep.json` (`SWEEP_JSON`); a variant that fails does not stop the others.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ov_movement.config.sweep import Sweep, SweepVariant
from ov_movement.errors import OvMovementError, StageError
from ov_movement.runner.atomic import write_json_atomic
from ov_movement.runner.lockfile import pipeline_dir
from ov_movement.runner.plan import resolve_workdir
from ov_movement.runner.progress import shown
from ov_movement.runner.runlock import RunLock
from ov_movement.runner.store import utc_stamp
from ov_movement.stages.base import StageSpec

SWEEP_JSON = "sweep.json"
LOGS = "logs"
SWEEP_FORMAT = 1


@dataclass
class VariantResult:
    name: str
    values: dict[str, Any]
    directory: Path  # <workdir>/<variant>
    actions: dict[str, str] = field(default_factory=dict)  # stage -> "ran" | "cached" | "skipped"
    fingerprints: dict[str, str] = field(default_factory=dict)  # stage -> fingerprint
    error: str | None = None
    log: Path | None = None

    @property
    def ran(self) -> list[str]:
        return [stage for stage, action in self.actions.items() if action == "ran"]


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def sweep_dir(sweep: Sweep, workdir: str | Path | None) -> Path:
    """`<workdir>/<name>`: sweep.md, the Pareto plot, sweep.json and the variants' logs."""
    return pipeline_dir(resolve_workdir(sweep.base, workdir), sweep.name)


def variant_dir(sweep: Sweep, variant: SweepVariant, workdir: str | Path | None) -> Path:
    return pipeline_dir(resolve_workdir(sweep.base, workdir), variant.name)


def _record(result: VariantResult, outcomes: list[tuple[str, str, str]]) -> None:
    for stage, action, fingerprint in outcomes:
        result.actions[stage], result.fingerprints[stage] = action, fingerprint


def _run_here(
    variant: SweepVariant, workdir: Path, registry: Mapping[str, StageSpec] | None, progress: bool | None
) -> list[tuple[str, str, str]]:
    from ov_movement.runner.execute import run_pipeline

    summary = run_pipeline(variant.loaded, registry, workdir, progress=progress, workdir_lock=False)
    return [(o.name, o.action, o.fingerprint) for o in summary.outcomes]


def _run_spawned(path: str, raw: dict[str, Any], fmt: str, workdir: str, log: str) -> dict[str, Any]:
    """A variant in a child process, its output in `log`: outcomes, or the error it stopped with."""
    from ov_movement.config.load import LoadedPipeline, validate_pipeline
    from ov_movement.telemetry import disable_library_telemetry

    disable_library_telemetry()
    with open(log, "a", encoding="utf-8") as handle:
        os.dup2(handle.fileno(), 1)
        os.dup2(handle.fileno(), 2)
    loaded = LoadedPipeline(validate_pipeline(raw), Path(path), raw, layout="pipeline", format=fmt)
    variant = SweepVariant(str(raw["name"]), {}, loaded)
    try:
        return {"outcomes": _run_here(variant, Path(workdir), None, False)}
    except OvMovementError as error:
        print(f"error: {error}", flush=True)
        return {"error": str(error)}
    except KeyboardInterrupt:  # Ctrl-C reaches every process of the group; the parent stops too
        return {"error": "interrupted"}
    except BaseException:
        traceback.print_exc()
        sys.stderr.flush()
        return {"error": "internal error (traceback in the log)", "bug": True}
    finally:
        sys.stdout.flush()


def run_sweep(
    sweep: Sweep,
    workdir: str | Path | None = None,
    *,
    jobs: int = 1,
    wait: bool = False,
    registry: Mapping[str, StageSpec] | None = None,
    progress: bool | None = None,
) -> list[VariantResult]:
    """Run every variant (what is cached is reused); a failed one has its `error` set (see `failures`)."""
    root = resolve_workdir(sweep.base, workdir)
    directory = sweep_dir(sweep, root)
    results = [VariantResult(v.name, dict(v.values), variant_dir(sweep, v, root)) for v in sweep.variants]
    workers = max(1, min(jobs, len(sweep.variants), usable_cores()))
    if workers < jobs:
        print(
            f"--jobs {jobs}: running {workers} at a time ({len(sweep.variants)} variants, {usable_cores()} usable cores)"
        )
    with RunLock(root, wait=wait):
        directory.mkdir(parents=True, exist_ok=True)
        if workers == 1:
            _sequential(sweep, results, root, registry, progress)
        else:
            if registry is not None:
                raise ValueError("a custom stage registry runs with jobs=1 only (children load the real one)")
            _parallel(sweep, results, root, directory, workers)
        write_json_atomic(directory / SWEEP_JSON, sweep_record(sweep, results, root))
    return results


def failures(results: list[VariantResult]) -> StageError | None:
    """One error naming every failed variant (and its log), or None."""
    failed = [r for r in results if r.error]
    if not failed:
        return None
    lines = "; ".join(f"{r.name}: {r.error}" + (f" (log: {shown(r.log)})" if r.log else "") for r in failed)
    return StageError(f"{len(failed)} of {len(results)} variants failed: {lines}")


def _sequential(
    sweep: Sweep,
    results: list[VariantResult],
    root: Path,
    registry: Mapping[str, StageSpec] | None,
    progress: bool | None,
) -> None:
    for index, (variant, result) in enumerate(zip(sweep.variants, results, strict=True), 1):
        print(f"== variant {index}/{len(results)}: {variant.name}", flush=True)
        try:
            _record(result, _run_here(variant, root, registry, progress))
        except OvMovementError as error:
            print(f"error: {error}", file=sys.stderr, flush=True)
            result.error = str(error)


def _parallel(sweep: Sweep, results: list[VariantResult], root: Path, directory: Path, workers: int) -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    logs = directory / LOGS
    logs.mkdir(parents=True, exist_ok=True)
    # spawn, not fork: a forked child would inherit this process's threads and imported libraries.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {}
        for variant, result in zip(sweep.variants, results, strict=True):
            result.log = logs / f"{result.directory.name}.log"
            result.log.write_text("", encoding="utf-8")
            loaded = variant.loaded
            args = (str(loaded.path), loaded.raw, loaded.format, str(root), str(result.log))
            futures[pool.submit(_run_spawned, *args)] = result
        print(f"{len(results)} variants, {workers} at a time; progress in {shown(logs)}/", flush=True)
        for done, future in enumerate(as_completed(futures), 1):
            result, answer = futures[future], future.result()
            if "bug" in answer:
                raise RuntimeError(f"variant {result.name} failed; traceback in {result.log}")
            if answer.get("error"):
                result.error = answer["error"]
                print(f"[{done}/{len(results)}] {result.name}: failed (log: {shown(result.log)})", flush=True)
                continue
            _record(result, answer["outcomes"])
            ran = ", ".join(result.ran) or "nothing (all cached)"
            print(f"[{done}/{len(results)}] {result.name}: ran {ran}", flush=True)


def sweep_record(sweep: Sweep, results: list[VariantResult], root: Path) -> dict[str, Any]:
    return {
        "format": SWEEP_FORMAT,
        "sweep": sweep.name,
        "config": str(sweep.base.path),
        "updated": utc_stamp(),
        "grid": sweep.grid,
        "variants": [
            {
                "name": r.name,
                "directory": r.directory.relative_to(root).as_posix(),
                "values": r.values,
                "stages": {
                    stage: {"action": r.actions[stage], "fingerprint": r.fingerprints[stage]}
                    for stage in r.actions
                },
                "error": r.error,
            }
            for r in results
        ],
    }


__all__ = [
    "LOGS",
    "SWEEP_JSON",
    "VariantResult",
    "failures",
    "run_sweep",
    "sweep_dir",
    "usable_cores",
    "variant_dir",
]
