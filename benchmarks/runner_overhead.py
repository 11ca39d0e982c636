"""Wall time of the runner's own work, through the CLI: `validate`, a fully cached `run`, `status`.

    python benchmarks/runner_overhead.py [CONFIG] [--workdir DIR] [--fabricate-mb 400 | --real]

The target: a second `run` of an unchanged pipeline executes nothing and finishes in under 3 s
with several hundred MB of outputs in the cache. Two ways to fill the cache first:
  --fabricate-mb N (default 400): commit N MB of random outputs for each stage's current
      fingerprint through the runner's own store (no ML, seconds; the real registry's
      fingerprints, so the CLI then finds every stage cached);
  --real: run the pipeline for real once (untimed; minutes with the real stages).
Each timed command is a fresh `python -m ov_movement` process, as a user would type it. The
first cached run re-hashes every file (as right after a stage wrote it); later ones trust
unchanged stat records (see ov_movement/runner/store.py); `run --verify` re-hashes everything.
Files come from the page cache here: reads from a cold disk make the hashing rows slower.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Share of the outputs per stage, roughly as in a MiniLM run (checkpoints with optimizer state
# dominate; the IRs and ONNX follow; benchmark and report are small).
SHARES = {"sparsify": 0.33, "mask": 0.33, "export": 0.12, "convert": 0.2, "benchmark": 0.01, "report": 0.01}


def cli(*args: str) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "ov_movement", *args], capture_output=True, text=True)
    return time.perf_counter() - started, done


def fabricate(config: Path, workdir: Path, total_mb: int) -> int:
    """Commit random outputs for every stage not cached yet; returns the bytes written."""
    from ov_movement.config.load import load_pipeline
    from ov_movement.runner.plan import CACHED, make_plan
    from ov_movement.stages import STAGES
    from ov_movement.stages.base import StageResult

    plan = make_plan(load_pipeline(config), STAGES, workdir)
    written, digests = 0, {}
    for stage in plan.stages:
        if stage.state == CACHED:
            digests[stage.name] = stage.check.manifest["outputs_digest"]
            continue
        output = plan.store.prepare(stage.name, stage.fingerprint.digest, resumable=False)
        size = int(total_mb * SHARES.get(stage.name, 0.01) * 2**20)
        for index, part in enumerate((0.7, 0.3)):
            with open(output / f"part-{index}.dat", "wb") as handle:
                remaining = int(size * part)
                while remaining > 0:
                    chunk = min(remaining, 2**22)
                    handle.write(os.urandom(chunk))
                    remaining -= chunk
        (output / "summary.json").write_text('{"fabricated": true}\n')
        written += size
        spec = STAGES[stage.name]
        manifest = plan.store.commit(
            stage.fingerprint,
            StageResult(summary="fabricated by benchmarks/runner_overhead.py"),
            wall_time_s=0.0,
            upstream_outputs={up: digests[up] for up in spec.upstream},
            pipeline=plan.pipeline,
        )
        digests[stage.name] = manifest["outputs_digest"]
    plan.dependencies.save()  # as `run` does: the files the config names are hashed once, here
    return written


def cache_size(workdir: Path) -> int:
    return sum(p.stat().st_size for p in (workdir / "cache").rglob("*") if p.is_file())


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "config", nargs="?", help="pipeline file (default: pipelines/bert.json, else a minimal one)"
    )
    parser.add_argument("--workdir", help="cache directory (default: a temporary one, removed afterwards)")
    parser.add_argument("--fabricate-mb", type=int, default=400)
    parser.add_argument("--real", action="store_true", help="fill the cache by running the real pipeline")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="ovm-overhead-"))
    try:
        config = Path(args.config) if args.config else ROOT / "pipelines" / "bert.json"
        if not config.exists():
            config = scratch / "overhead.yaml"
            config.write_text("name: overhead\n")
        workdir = Path(args.workdir) if args.workdir else scratch / "runs"
        location = ["--workdir", str(workdir)]
        if args.real:
            seconds, done = cli("run", str(config), *location)
            if done.returncode:
                print(done.stdout + done.stderr)
                return 1
            print(f"filled the cache with a real run in {seconds:.1f} s")
        else:
            written = fabricate(config, workdir, args.fabricate_mb)
            print(f"fabricated {written / 2**20:.0f} MB of outputs in the cache")
            time.sleep(2.1)  # let the files age past the racy window, as after any real stage

        rows = []
        seconds, done = cli("validate", str(config))
        rows.append(
            (
                "validate",
                f"{seconds:.2f} s"
                if done.returncode == 0
                else "n/a (" + (done.stderr.strip().splitlines() or ["?"])[-1][:60] + ")",
            )
        )
        timings = {}
        for label, extra in (("first", []), ("again", []), ("verify", ["--verify"])):
            runs = []
            for _ in range(1 if label != "again" else args.repeats):
                seconds, done = cli("run", str(config), *location, *extra)
                if done.returncode or "running" in done.stdout:
                    print(f"`run` was expected to execute nothing:\n{done.stdout}{done.stderr}")
                    return 1
                runs.append(seconds)
            timings[label] = statistics.median(runs)
        status = []
        for _ in range(args.repeats):
            seconds, done = cli("status", str(config), *location)
            status.append(seconds)
        rows += [
            ("run, fully cached, 1st (re-hashes fresh files)", f"{timings['first']:.2f} s"),
            (f"run, fully cached (median of {args.repeats})", f"{timings['again']:.2f} s"),
            ("run --verify (full sha256 of every output)", f"{timings['verify']:.2f} s"),
            (f"status (median of {args.repeats})", f"{statistics.median(status):.2f} s"),
        ]
        seconds, _ = cli("--version")
        rows.append(("python -m ov_movement --version (start-up floor)", f"{seconds:.2f} s"))
        print(f"runner overhead: {config.name}, {cache_size(workdir) / 2**20:.0f} MB in {workdir / 'cache'}")
        for label, value in rows:
            print(f"  {label:<50} {value}")
        return 0
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
