"""Wall time of `ov-movement predict` on a pipeline's bundle: the first call and the ones after it.

    python benchmarks/predict_latency.py [CONFIG] [TEXT] [--workdir DIR] [--repeats 5]

Each call is a fresh `python -m ov_movement predict CONFIG TEXT` process, as a user types it (the
target: under 2 s once the first call has brought the files into the page cache). It also times
one in-process `Predictor` call after loading, to separate start-up (imports, reading and compiling
the IR) from inference. The pipeline must have run (`ov-movement run CONFIG`). On a shared machine
the wall times are noisy (the load average is printed); the CPU seconds much less so. The first call
fills OpenVINO's compiled-model cache (`deploy.predictor.user_cache_dir`); remove it to time a cold start.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def call(config: str, text: str, workdir: str | None) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the process: user + system, its output)."""
    command = [sys.executable, "-m", "ov_movement", "predict", config, text]
    if workdir:
        command += ["--workdir", workdir]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"predict failed ({done.returncode}): {done.stderr.strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, cpu, done.stdout.strip()


def in_process(config: str, text: str, workdir: str | None) -> tuple[float, float]:
    from ov_movement.cli.predict import bundle_dir
    from ov_movement.deploy.predictor import Predictor, user_cache_dir

    started = time.perf_counter()
    predictor = Predictor(
        bundle_dir(Path(config), Path(workdir) if workdir else None), cache_dir=user_cache_dir()
    )
    predictor.predict_texts([text])
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    predictor.predict_texts([text])
    return loaded, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("config", nargs="?", default="pipelines/bert.json")
    parser.add_argument("text", nargs="?", default="The central bank raised interest rates again")
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    first, first_cpu, output = call(args.config, args.text, args.workdir)
    print(f"prediction: {output}")
    print(f"first call          {first:6.2f} s wall, {first_cpu:.2f} s CPU")
    later = [call(args.config, args.text, args.workdir) for _ in range(args.repeats)]
    wall = statistics.median(seconds for seconds, _, _ in later)
    cpu = statistics.median(cpu for _, cpu, _ in later)
    print(
        f"later calls (n={len(later)}) median {wall:6.2f} s wall "
        f"[{min(s for s, _, _ in later):.2f}–{max(s for s, _, _ in later):.2f}], {cpu:.2f} s CPU; "
        f"target < 2 s: {'yes' if wall < 2 else 'NO'}"
    )
    print(f"machine load average (1 min): {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    loaded, inference = in_process(args.config, args.text, args.workdir)
    print(
        f"in process: load + first prediction {loaded:.2f} s, one more prediction {1000 * inference:.1f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
