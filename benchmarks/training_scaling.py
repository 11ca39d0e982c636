"""Training throughput with 1 and 2 processes side by side (training.distributed, gloo on CPU).

    python benchmarks/training_scaling.py [CONFIG] [--nproc 1,2] [--steps 8] [--workdir DIR]

Runs the sparsify stage of CONFIG (default: pipelines/tiny.yaml) once per process count, in this
order, each from scratch with the same global batch (`training.batch_size`, split over the ranks),
`training.max_steps_per_epoch` set to --steps (sparsify trains warmup_end_epoch such epochs), and prints:

    samples/s  the global batch times optimizer steps per second of training (rank 0's step time:
               forward, backward, the gradient all-reduce and the optimizer; no evaluation)
    wall s     the whole stage, worker start-up (spawn, imports, rendezvous) and evaluation included

On a machine with 2 CPU cores (this project's CI) two processes share the cores one process could
use with two threads, so the ratio says little about scaling: data parallelism pays off with one
GPU, or one multi-core socket, per process. Timings of a shared machine are noisy; compare the rows
of one run, not numbers across runs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def measure(loaded, nproc: int, steps: int, workdir: Path) -> dict:
    from ov_movement.stages import sparsify
    from ov_movement.stages.base import StageContext
    from ov_movement.training.distributed import with_options

    config = with_options(loaded.config, nproc_per_node=nproc)
    training = config.training.model_copy(update={"max_steps_per_epoch": steps})
    config = config.model_copy(update={"training": training})
    out = workdir / f"nproc-{nproc}"
    ctx = StageContext("sparsify", config, loaded.config_dir, out, {}, progress=False)
    started = time.perf_counter()
    result = sparsify.run(ctx)
    wall = time.perf_counter() - started
    per_step = result.metrics["seconds_per_step"]
    return {
        "nproc": nproc,
        "batch": training.batch_size,
        "steps": result.metrics["steps"],
        "samples_per_s": training.batch_size / per_step,
        "wall_s": wall,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("config", nargs="?", default=str(ROOT / "pipelines" / "tiny.yaml"))
    parser.add_argument("--nproc", default="1,2", help="process counts, comma-separated (default 1,2)")
    parser.add_argument("--steps", type=int, default=4, help="optimizer steps per epoch (default 4)")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()

    from ov_movement.config.load import load_pipeline

    loaded = load_pipeline(args.config)
    counts = [int(n) for n in args.nproc.split(",")]
    with tempfile.TemporaryDirectory(prefix="ov-movement-scaling-") as scratch:
        workdir = args.workdir or Path(scratch)
        rows = [measure(loaded, n, args.steps, workdir) for n in counts]
    print(
        f"{'processes':>9}  {'global batch':>12}  {'steps':>5}  {'samples/s':>9}  {'vs 1':>5}  {'wall s':>7}"
    )
    first = rows[0]["samples_per_s"]
    for row in rows:
        print(
            f"{row['nproc']:>9}  {row['batch']:>12}  {row['steps']:>5}  {row['samples_per_s']:>9.1f}  "
            f"{row['samples_per_s'] / first:>5.2f}  {row['wall_s']:>7.1f}"
        )
    print(
        "note: on a 2-core machine the ratio says little (two processes share the cores one process "
        "uses); data parallelism pays off with a GPU or a multi-core socket per process."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
