"""What movement sparsity costs at training time: wall time per step and peak memory vs plain
fine-tuning of the same model on the same data, measured side by side.

    python benchmarks/training_overhead.py                       # MiniLM from pipelines/bert.json
    python benchmarks/training_overhead.py pipelines/tiny.yaml   # the tiny random BERT
    python benchmarks/training_overhead.py --train-samples 320 --repeats 3

Both sides are the pipeline's own stages, each run as a fresh `python -m ov_movement run` process,
alternately (plain, movement, plain, movement, ...) so machine drift hits both alike:
  - plain:    the `baseline` stage: the model fine-tuned densely with PyTorch, no NNCF;
  - movement: the `sparsify` stage: NNCF movement sparsity from step 0 to the end of warm-up
              (importance scores, regularisation, threshold schedule), the expensive phase.
Both run the same number of optimizer steps (baseline epochs = warmup_end_epoch) with the same
batches, optimiser, learning rate and threads. Time per step is what the stages record (training
steps only, without evaluation or start-up); peak memory is the process's peak resident set size
(ru_maxrss from wait4), so it includes the libraries each side imports. The target is a
time-per-step ratio <= 1.6.

Noise: when the per-pair time ratios, or one side's per-pair times, spread wider than
--noise-threshold of their median, the ratio is printed as NOISY, with what to change, and the
script exits with status 3 (so `make bench` fails).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOISY_EXIT = 3  # distinct from a crash (1) and a usage error (2)


def derived_config(source: Path, out: Path, train_samples: int | None) -> dict:
    """The pipeline with the baseline on and as many dense epochs as the sparsify stage trains."""
    import copy

    from ov_movement.config.load import load_pipeline

    loaded = load_pipeline(source)
    data = copy.deepcopy(loaded.raw)
    data.pop("$schema", None)
    warmup_end = loaded.config.movement.params.warmup_end_epoch
    if warmup_end != int(warmup_end):
        raise SystemExit(f"warmup_end_epoch {warmup_end} is fractional: pick a pipeline with whole epochs")
    data["baseline"] = {"enabled": True, "epochs": int(warmup_end)}
    if train_samples:
        data.setdefault("data", {})["max_train_samples"] = train_samples
    out.write_text(json.dumps(data, indent=1))
    return data


def run_stage(config: Path, workdir: Path, stage: str) -> tuple[dict, float, float]:
    """One fresh process running one stage; returns (its metrics, wall s, peak RSS in MiB)."""
    command = [sys.executable, "-m", "ov_movement", "run", str(config), "--workdir", str(workdir)]
    command += ["--until", stage, "--force"] if stage == "sparsify" else ["--only", stage, "--force"]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{output[-3000:]}")
    name = json.loads(config.read_text())["name"]
    manifest = json.loads((workdir / name / stage / "manifest.json").read_text())
    return manifest.get("metrics", {}), wall, usage.ru_maxrss / 1024  # KiB on Linux


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("config", nargs="?", type=Path, default=ROOT / "pipelines" / "bert.json")
    parser.add_argument(
        "--train-samples", type=int, default=160, help="data.max_train_samples (0: as configured)"
    )
    parser.add_argument("--repeats", type=int, default=2, help="alternating plain/movement pairs")
    sys.path.insert(0, str(ROOT))
    from ov_movement.benchmarking.summary import DEFAULT_NOISE_THRESHOLD, NOISE_ADVICE, noise_verdict

    parser.add_argument(
        "--noise-threshold",
        type=float,
        default=DEFAULT_NOISE_THRESHOLD,
        help="largest accepted (max - min) / median of the per-pair time ratios and of one side's "
        "per-pair times; from 6 pairs on the most extreme pair on each side is set aside (two from 9) "
        "(default %(default)s, as benchmark.noise_threshold)",
    )
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="ovm-train-overhead-"))
    try:
        # Keep relative data/model paths working: write the copy next to the original instead.
        config = args.config.resolve().parent / f".training-overhead-{os.getpid()}.json"
        data = derived_config(args.config, config, args.train_samples or None)
        workdir = scratch / "runs"
        print(
            f"{args.config.name}: {data['data'].get('max_train_samples', 'all')} training samples, "
            f"batch {data.get('training', {}).get('batch_size', 'default')}, {data['baseline']['epochs']} epochs each side, "
            f"{args.repeats} alternating pairs",
            flush=True,
        )
        rows = []
        for repeat in range(args.repeats):
            pair = {}
            for label, stage in (("plain", "baseline"), ("movement", "sparsify")):
                metrics, wall, peak = run_stage(config, workdir, stage)
                pair[label] = (metrics["seconds_per_step"], peak, wall, metrics.get("steps"))
                print(
                    f"  pair {repeat + 1} {label:<8} {metrics['seconds_per_step'] * 1000:8.1f} ms/step "
                    f"({metrics.get('steps')} steps), peak RSS {peak:7.0f} MiB, process {wall:6.1f} s",
                    flush=True,
                )
            rows.append(pair)

        time_ratio = [p["movement"][0] / p["plain"][0] for p in rows]
        memory_ratio = [p["movement"][1] / p["plain"][1] for p in rows]
        raw = {label: [p[label][0] for p in rows] for label in ("plain", "movement")}
        verdict = noise_verdict(time_ratio, raw, args.noise_threshold)
        from ov_movement.benchmarking.machine import machine_info

        machine = machine_info()
        print(f"\nmovement sparsity vs plain fine-tuning ({machine['cpu']}, {machine['usable_cores']} cores)")
        for label, index, unit in (("time per step", 0, "ms"), ("peak RSS", 1, "MiB")):
            scale = 1000 if index == 0 else 1
            plain = statistics.median(p["plain"][index] for p in rows) * scale
            movement = statistics.median(p["movement"][index] for p in rows) * scale
            ratios = time_ratio if index == 0 else memory_ratio
            figure = "NOISY" if index == 0 and verdict.noisy else f"{statistics.median(ratios):.2f}x"
            print(
                f"  {label:<14} plain {plain:8.1f} {unit}  movement {movement:8.1f} {unit}  "
                f"ratio {figure} [{min(ratios):.2f}-{max(ratios):.2f}]"
            )
        print("  target: time-per-step ratio <= 1.60")
        if verdict.noisy:
            print(
                f"\nNOISY: the time-per-step ratio is not a measurement: {verdict.reason}.\n"
                f"{NOISE_ADVICE.capitalize()} (here: --repeats, --train-samples).",
                file=sys.stderr,
            )
            return NOISY_EXIT
        return 0
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if "config" in locals() and config.name.startswith(".training-overhead-"):
            config.unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
