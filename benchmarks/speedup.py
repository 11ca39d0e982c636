"""Pruned vs dense OpenVINO IR speed, measured side by side, against the linear-FLOP bound.

    python benchmarks/speedup.py                      # BERT-base shape, 30/50/70/90% masked
    python benchmarks/speedup.py --levels 50 --time 3 --repeats 2    # a quicker look
    python benchmarks/speedup.py --run runs/bert      # also the default pipeline's own IRs
    python benchmarks/speedup.py --no-int8            # FP32 only (skips post-training quantization)

What it does, for a random-initialised BERT-base-shaped classifier (12 layers, hidden 768, 12
heads, FFN 3072; weights do not affect speed): for each level, mask that share of the attention
heads and of the FFN neurons in every layer (exact zeros, as structured masking leaves them), then
push the model through the pipeline's own export and convert code (ONNX, OpenVINO's pruning pass,
outputs verified against the dense IR). Then every IR runs under benchmark_app, interleaved
(dense, pruned-30, pruned-50, ..., dense, ...), so machine drift hits all alike:
  - latency hint, batch 1, sequence 128 -> speedup = dense median latency / pruned median latency
  - throughput hint, batch 8, sequence 128 -> speedup = pruned FPS / dense FPS
Each speedup is computed per round and printed as median [min-max] (9 rounds of 4 s by default). The bound is the ratio of
linear-layer (MatMul with a constant weight) FLOPs per token, dense / pruned: what pruning could
give if nothing but those MatMuls took time. Embeddings, LayerNorm, softmax and fixed
per-inference costs do not shrink, pulling measured/bound below 1 (most at batch 1 and high
sparsity); the attention score/context MatMuls shrink with the heads but are not counted, which
can lift it slightly above 1. Target: >= 0.8 at >= 50% structured sparsity.

INT8 rows (unless --no-int8): the dense IR and every pruned IR go through the quantize stage's own
NNCF post-training quantization (calibrated on 32 random token sequences: the ranges do not affect
speed), and are timed in the same interleaved rounds. Each pruned INT8 IR is compared with the dense
INT8 IR (what pruning adds on top of INT8) next to the same FLOP bound; dense INT8 is compared with
dense FP32 (what INT8 alone gives). Pruning removes whole rows/columns, so the FLOP ratio is the
same bound at either precision.

With --run DIR (a pipeline's result directory; default runs/bert when `make pipeline` has run),
that run's convert/dense.xml and convert/pruned.xml are timed too, at the same settings.

Noise: when the per-round speedups of a figure spread wider than --noise-threshold of their median
(the pipeline's benchmark.noise_threshold), or other processes kept more than a quarter of a core
busy during a round (measured from /proc/stat; where it cannot be read, one IR's per-round medians
spreading wider than the threshold stands in), the figure is printed as NOISY instead, with what to
change, and the script exits with status 3 (so `make bench` fails). docs/benchmarking.md.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from ov_movement.benchmarking.summary import DEFAULT_NOISE_THRESHOLD, NOISE_ADVICE  # noqa: E402

SEQ = 128
NOISY_EXIT = 3  # distinct from a crash (1) and a usage error (2)


def bert_base(seed: int):
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(seed)
    config = BertConfig(
        hidden_size=768,
        num_hidden_layers=12,
        num_attention_heads=12,
        intermediate_size=3072,
        num_labels=2,
        attn_implementation="eager",
    )
    return BertForSequenceClassification(config).eval()


def mask_structures(model, fraction: float, seed: int) -> tuple[int, int]:
    """Zero `fraction` of the heads and FFN neurons of every layer, exactly as masking leaves them:
    Q/K/V rows and output-projection columns of a head, intermediate rows and output columns of a
    neuron. Returns (masked heads, masked neurons) in total."""
    import torch

    generator = np.random.default_rng(seed)
    heads_total = neurons_total = 0
    with torch.no_grad():
        for layer in model.bert.encoder.layer:
            attention = layer.attention.self
            heads, head_dim = attention.num_attention_heads, attention.attention_head_size
            for head in generator.choice(heads, round(fraction * heads), replace=False):
                rows = slice(head * head_dim, (head + 1) * head_dim)
                for linear in (attention.query, attention.key, attention.value):
                    linear.weight[rows] = 0
                    linear.bias[rows] = 0
                layer.attention.output.dense.weight[:, rows] = 0
                heads_total += 1
            width = layer.intermediate.dense.out_features
            neurons = generator.choice(width, round(fraction * width), replace=False)
            layer.intermediate.dense.weight[neurons] = 0
            layer.intermediate.dense.bias[neurons] = 0
            layer.output.dense.weight[:, neurons] = 0
            neurons_total += len(neurons)
    return heads_total, neurons_total


def build_irs(model, out_dir: Path, keep_dense: bool) -> dict:
    """Export + convert with the pipeline's own code; returns convert's stats.json."""
    from ov_movement.config.pipeline import ConvertConfig, ExportConfig
    from ov_movement.stages.convert import build_irs as convert
    from ov_movement.stages.export import export_model

    rng = np.random.default_rng(0)
    arrays = {
        "input_ids": rng.integers(1000, 20000, size=(4, SEQ)),
        "attention_mask": np.ones((4, SEQ), dtype=np.int64),
        "token_type_ids": np.zeros((4, SEQ), dtype=np.int64),
    }
    export_dir, convert_dir = out_dir / "export", out_dir / "convert"
    export_model(model, arrays, export_dir, ExportConfig(static_seq_length=SEQ, verify_samples=4, atol=1e-3))
    convert(export_dir, convert_dir, ConvertConfig(seq_length=SEQ, verify_samples=4, atol=1e-3))
    shutil.rmtree(export_dir)  # ~440 MB of ONNX per level: only the IRs are benchmarked
    if not keep_dense:
        for suffix in (".xml", ".bin"):
            (convert_dir / f"dense{suffix}").unlink()
    return json.loads((convert_dir / "stats.json").read_text())


def quantize(source: Path, target: Path) -> None:
    """The quantize stage's NNCF call (defaults of the `quantize` section) on random token ids."""
    import openvino as ov

    from ov_movement.config.pipeline import QuantizeConfig
    from ov_movement.stages.quantize import quantize_ir

    rng = np.random.default_rng(1)
    calibration = {
        "input_ids": rng.integers(1000, 20000, size=(32, SEQ)),
        "attention_mask": np.ones((32, SEQ), dtype=np.int64),
        "token_type_ids": np.zeros((32, SEQ), dtype=np.int64),
    }
    model, _ = quantize_ir(
        source, calibration, (calibration, None), QuantizeConfig(subset_size=32), task=None
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    ov.save_model(model, str(target), compress_to_fp16=False)


def time_models(
    models: dict[str, Path],
    hint: str,
    batch: int,
    seconds: int,
    repeats: int,
    work: Path,
    nthreads: int | None = None,
) -> list:
    from ov_movement.benchmarking.benchmark_app import BenchmarkSettings, run_interleaved

    settings = BenchmarkSettings(
        hint=hint, time_s=seconds, batch_size=batch, seq_length=SEQ, nthreads=nthreads
    )

    def progress(run) -> None:
        print(
            f"    {hint} b{batch} round {run.repeat + 1}/{repeats} {run.model:<16} "
            f"{run.latency_median_ms:8.2f} ms  {run.throughput_fps:8.1f} samples/s",
            flush=True,
        )

    return run_interleaved(models, settings, work / f"{hint}-b{batch}", repeats, on_run=progress)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--levels",
        type=int,
        nargs="+",
        default=[30, 50, 70, 90],
        help="percent of heads and FFN neurons masked",
    )
    # 9 short rounds rather than 3 long ones: the noise verdict sets the two most extreme rounds on
    # each side aside from 9 rounds on, and a host whose windows jump now and then (this 2-vCPU VM,
    # idle: 7 rounds of 8 s spread 15 % in the middle 5, 9 rounds of 4 s 8 % in the middle 5) gives
    # a figure, not NOISY; docs/benchmarking.md.
    parser.add_argument("--time", type=int, default=4, help="seconds per benchmark_app run")
    parser.add_argument("--repeats", type=int, default=9, help="interleaved rounds")
    parser.add_argument(
        "--nthreads", type=int, help="inference threads per benchmark_app run (as benchmark.nthreads)"
    )
    parser.add_argument(
        "--run",
        type=Path,
        help="a pipeline result directory to time as well (default: runs/bert when it has IRs)",
    )
    parser.add_argument("--keep", type=Path, help="keep the IRs and benchmark_app logs here")
    parser.add_argument(
        "--noise-threshold",
        type=float,
        default=DEFAULT_NOISE_THRESHOLD,
        help="largest accepted (max - min) / median of a figure's per-round speedups and of one IR's "
        "per-round medians; from 6 rounds on the most extreme round on each side is set aside (two from 9) "
        "(default %(default)s, as benchmark.noise_threshold)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--no-int8", dest="int8", action="store_false", help="skip the INT8 (post-training quantized) rows"
    )
    args = parser.parse_args()

    from ov_movement.benchmarking.machine import machine_info

    default_run = ROOT / "runs" / "bert"
    if args.run is None and (default_run / "convert" / "stats.json").is_file():
        args.run = default_run  # `make pipeline` ran: time the default's own IRs too

    work = Path(tempfile.mkdtemp(prefix="ovm-speedup-")) if args.keep is None else args.keep
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    try:
        models: dict[str, Path] = {}
        bounds: dict[str, float] = {}
        masked: dict[str, str] = {}
        int8_models: dict[str, Path] = {}
        for index, level in enumerate(args.levels):
            name = f"pruned-{level}"
            model = bert_base(args.seed)
            heads, neurons = mask_structures(model, level / 100, args.seed + level)
            print(
                f"[{time.perf_counter() - started:5.0f} s] {name}: masked {heads}/144 heads, "
                f"{neurons}/{12 * 3072} FFN neurons; exporting and converting",
                flush=True,
            )
            stats = build_irs(model, work / name, keep_dense=index == 0)
            if index == 0:
                models["dense"] = work / name / "convert" / "dense.xml"
            models[name] = work / name / "convert" / "pruned.xml"
            bounds[name] = stats["flop_bound_speedup"]
            if args.int8:
                print(
                    f"[{time.perf_counter() - started:5.0f} s] {name}: NNCF post-training quantization",
                    flush=True,
                )
                if index == 0:
                    int8_models["dense-int8"] = work / "int8" / "dense_int8.xml"
                    quantize(models["dense"], int8_models["dense-int8"])
                int8_models[f"{name}-int8"] = work / "int8" / f"{name}_int8.xml"
                quantize(models[name], int8_models[f"{name}-int8"])
                bounds[f"{name}-int8"] = bounds[name]
            removal = stats["removal_efficiency"] or {}
            masked[name] = (
                f"removed heads {removal.get('attention_heads', 0):.0%}, FFN {removal.get('ffn_neurons', 0):.0%}; "
                f".bin {stats['dense']['bin_bytes'] / 1e6:.0f} -> {stats['pruned']['bin_bytes'] / 1e6:.0f} MB"
            )
        if args.run:
            convert_dir = args.run / "convert"
            pipeline_stats = json.loads((convert_dir / "stats.json").read_text())
            models["run-dense"] = convert_dir / "dense.xml"
            models["run-pruned"] = convert_dir / "pruned.xml"
            bounds["run-pruned"] = pipeline_stats["flop_bound_speedup"]
        models.update(int8_models)  # one interleaved set: FP32 and INT8 share every round

        print(
            f"[{time.perf_counter() - started:5.0f} s] benchmark_app: {len(models)} IRs, "
            f"{args.repeats} interleaved rounds of {args.time} s each",
            flush=True,
        )
        results = {
            ("latency", 1): time_models(models, "latency", 1, args.time, args.repeats, work, args.nthreads),
            ("throughput", 8): time_models(
                models, "throughput", 8, args.time, args.repeats, work, args.nthreads
            ),
        }

        machine = machine_info()
        print(
            f"\nspeedup of pruned over dense IR, BERT-base shape, seq {SEQ}, f32; "
            f"{machine.get('cpu', '?')}, {machine.get('usable_cores', '?')} cores; "
            f"median [min-max] of {args.repeats} interleaved rounds"
        )
        header = f"{'model':<16} {'FLOP bound':>10}  {'latency b1':>20} {'/bound':>6}  {'throughput b8':>20} {'/bound':>6}"
        print(header)
        print("-" * len(header))
        noisy = []
        for name in models:
            if name in ("dense", "run-dense") or name in int8_models:
                continue
            _print_row(
                results, name, "run-dense" if name == "run-pruned" else "dense", bounds.get(name), args, noisy
            )
        if int8_models:
            print(
                "\nINT8 (NNCF post-training quantization): dense-int8 against dense FP32; "
                "each pruned-N-int8 against dense-int8, with the same FLOP bound"
            )
            print(header)
            print("-" * len(header))
            for name in int8_models:
                base = "dense" if name == "dense-int8" else "dense-int8"
                _print_row(results, name, base, bounds.get(name), args, noisy)
        for name, text in masked.items():
            print(f"  {name}: {text}")
        print(
            f"total {time.perf_counter() - started:.0f} s; IRs and logs in {work}"
            if args.keep
            else f"total {time.perf_counter() - started:.0f} s"
        )
        if noisy:
            print(
                f"\nNOISY: {len(noisy)} figure(s) are not measurements (the rounds disagree, or the machine "
                "was shared):\n  "
                + "\n  ".join(noisy)
                + f"\n{NOISE_ADVICE.capitalize()} (here: --repeats, --time, --nthreads).",
                file=sys.stderr,
            )
            return NOISY_EXIT
        return 0
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


def _print_row(results: dict, name: str, base: str, bound: float | None, args, noisy: list[str]) -> None:
    """One table row: FLOP bound, then per hint the speedup over `base` (or NOISY) and its share of the bound."""
    cells = [f"{name:<16} {bound:>9.2f}x" if bound else f"{name:<16} {'-':>10}"]
    for key, metric in ((("latency", 1), "latency"), (("throughput", 8), "throughput")):
        speed, verdict = _speedup(results[key], name, base, metric, args.noise_threshold)
        if verdict.get("noisy"):
            noisy.append(f"{name} {metric} b{key[1]}: {verdict['reason']}")
            cells.append(f" {'NOISY':>6}  [{speed['min']:.2f}-{speed['max']:.2f}] {'-':>6}")
        else:
            ratio = f"{speed['median'] / bound:>6.2f}" if bound else f"{'-':>6}"
            cells.append(f" {speed['median']:>6.2f}x [{speed['min']:.2f}-{speed['max']:.2f}] {ratio}")
    print(" ".join(cells))


def _speedup(runs: list, name: str, base: str, metric: str, threshold: float) -> tuple[dict, dict]:
    """Median, min and max over rounds of the per-round speedup of `name` over `base`, and its noise
    verdict (the pipeline's own summary: same ratios, same verdict)."""
    from ov_movement.benchmarking.summary import summarize

    pair = summarize([r for r in runs if r.model in (name, base)], baseline=base, noise_threshold=threshold)
    return pair["speedup"][name][metric], pair["speedup"][name]["noise"][metric]


if __name__ == "__main__":
    sys.exit(main())
