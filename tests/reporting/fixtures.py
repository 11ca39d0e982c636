"""Synthetic upstream outputs in the shape the stages promise (issue 4/5 contract), small and exact.

Timeline: 5 steps per epoch, warm-up epochs 1 -> 3 (steps 5..15), sparsify runs epochs 0-2
(steps 0-14), mask runs epochs 3-4 (steps 15-24) with structured masking at step 15.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ov_movement.benchmarking.benchmark_app import RunResult
from ov_movement.benchmarking.machine import machine_info
from ov_movement.benchmarking.summary import summarize
from ov_movement.config.pipeline import PipelineConfig

STEPS_PER_EPOCH = 5
MASKING_STEP = 15


def pipeline_config(**overrides: Any) -> PipelineConfig:
    raw = {
        "name": "tiny",
        "training": {"epochs": 5},
        "compression": {
            "algorithm": "movement_sparsity",
            "params": {
                "warmup_start_epoch": 1,
                "warmup_end_epoch": 3,
                "importance_regularization_factor": 0.05,
            },
        },
        "benchmark": {"time_s": 1, "repeats": 2},
        **overrides,
    }
    return PipelineConfig.model_validate(raw)


def _log_record(stage: str, step: int, sparsity: float) -> dict[str, Any]:
    return {
        "stage": stage,
        "epoch": step // STEPS_PER_EPOCH,
        "step": step,
        "loss": 0.7 - step * 0.01,
        "task_loss": 0.6,
        "importance_regularization_factor": 0.05,
        "importance_threshold": sparsity / 10,
        "linear_sparsity": sparsity,
        "lr": 5e-5,
    }


def _sparsity_at(step: int) -> float:
    if step < 5:  # before warm-up
        return 0.0
    if step < MASKING_STEP:  # rising through warm-up
        return 0.06 * (step - 4)
    return 0.25  # after structured masking: lower, then flat


def benchmark_summary() -> dict[str, Any]:
    runs = []
    for repeat, (dense, pruned, onnx) in enumerate([(10.0, 6.0, 11.0), (10.5, 6.0, 12.0)]):
        for model, latency in (("dense", dense), ("pruned", pruned), ("onnx", onnx)):
            runs.append(
                RunResult(
                    model,
                    repeat,
                    f"runs/{repeat:02d}_{model}",
                    latency,
                    latency,
                    latency * 0.9,
                    latency * 1.5,
                    1000 / latency,
                    100,
                    1000.0,
                    "input_ids[1,128]",
                    {"inference_precision": "f32", "nthreads": "2"},
                )
            )
    return {
        "settings": {
            "device": "CPU",
            "hint": "latency",
            "time_s": 1,
            "batch_size": 1,
            "seq_length": 128,
            "nthreads": None,
            "api": None,
            "inference_precision": "f32",
            "repeats": 2,
            "models": ["dense", "pruned", "onnx"],
        },
        "machine": machine_info(),
        **summarize(runs),
        "flop_bound_speedup": 2.4,
        "accuracy": {
            "torch": {"accuracy": 0.85, "f1": 0.84},
            "dense": {"samples": 40, "accuracy": 0.85, "f1": 0.84, "precision": "f32"},
            "pruned": {
                "samples": 40,
                "accuracy": 0.825,
                "f1": 0.82,
                "agreement": 0.975,
                "agreement_with": "dense",
                "precision": "f32",
            },
        },
        "runs": [r.to_dict() for r in runs],
    }


# Two interleaved rounds of every variant (ms, within the 10% noise threshold) and their eval accuracy:
# dense INT8 is within 1 point of 0.85, pruned INT8 is fastest but 5 points down, pruned FP32 is
# beaten on both axes by dense INT8.
VARIANT_LATENCIES = {
    "dense": (10.0, 10.5),
    "pruned": (6.0, 6.2),
    "dense_int8": (4.0, 4.1),
    "pruned_int8": (2.5, 2.55),
    "onnx": (10.4, 10.8),  # its latency range overlaps dense FP32's
}
VARIANT_ACCURACY = {"dense": 0.85, "pruned": 0.825, "dense_int8": 0.845, "pruned_int8": 0.80}
VARIANT_BYTES = {
    "dense": 15_000_000,
    "pruned": 9_000_000,
    "dense_int8": 4_000_000,
    "pruned_int8": 2_500_000,
    "onnx": 15_100_000,
}


def variants_benchmark_summary() -> dict[str, Any]:
    """benchmark.json of a run with every variant, as the benchmark stage writes it."""
    from ov_movement.benchmarking.summary import paired_speedup
    from ov_movement.stages.benchmark import variant_entries

    runs = [
        RunResult(
            name,
            repeat,
            f"runs/{repeat:02d}_{name}",
            ms,
            ms,
            ms * 0.9,
            ms * 1.5,
            1000 / ms,
            100,
            1000.0,
            "input_ids[1,128]",
            {"inference_precision": "f32", "nthreads": "2"},
        )
        for repeat in range(2)
        for name, latencies in VARIANT_LATENCIES.items()
        for ms in (latencies[repeat],)
    ]
    summary = benchmark_summary()
    summary["settings"]["models"] = list(VARIANT_LATENCIES)
    summary.update(summarize(runs))
    summary["speedup_vs_dense_int8"] = {"pruned_int8": paired_speedup(runs, "dense_int8", "pruned_int8")}
    summary["accuracy"] = {
        "torch": {"accuracy": 0.85, "f1": 0.84},
        **{
            name: {"samples": 40, "accuracy": value, "precision": "f32"}
            for name, value in VARIANT_ACCURACY.items()
        },
    }
    summary["variants"] = variant_entries(summary, VARIANT_BYTES)
    summary["runs"] = [r.to_dict() for r in runs]
    return summary


def write_upstream(root: Path, with_benchmark: bool = True) -> dict[str, Path]:
    dirs = {stage: root / stage for stage in ("sparsify", "mask", "export", "convert", "benchmark")}
    for directory in dirs.values():
        directory.mkdir(parents=True, exist_ok=True)
    sparsify_log = [_log_record("sparsify", s, _sparsity_at(s)) for s in range(0, MASKING_STEP)]
    mask_log = [_log_record("mask", s, _sparsity_at(s)) for s in range(MASKING_STEP, 25)]
    mask_log.insert(0, {"event": "structured_masking", "step": MASKING_STEP})
    for stage, log in (("sparsify", sparsify_log), ("mask", mask_log)):
        (dirs[stage] / "train_log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in log))
    (dirs["sparsify"] / "eval.json").write_text(
        json.dumps(
            [
                {
                    "epoch": e,
                    "epoch_position": e + 1.0,
                    "step": 5 * (e + 1),
                    "accuracy": 0.8,
                    "f1": 0.79,
                    "loss": 0.5,
                    "linear_sparsity": 0.3,
                }
                for e in range(3)
            ]
        )
    )
    (dirs["mask"] / "eval.json").write_text(
        json.dumps(
            [
                {
                    "epoch": e,
                    "epoch_position": e + 1.0,
                    "step": 5 * (e + 1),
                    "accuracy": 0.85,
                    "f1": 0.84,
                    "loss": 0.4,
                    "linear_sparsity": 0.25,
                }
                for e in (3, 4)
            ]
        )
    )
    # The shape ov_movement.training.session writes (module paths, nested before/after, kept_after).
    layers = []
    blocks = []
    for block in range(2):
        prefix = f"bert.encoder.layer.{block}"
        for name, shape in (("attention.self.query", [32, 32]), ("intermediate.dense", [64, 32])):
            layers.append(
                {
                    "nncf_name": f"BertForSequenceClassification/.../{name}",
                    "module": f"{prefix}.{name}",
                    "weight_shape": shape,
                    "structure": "block",
                    "sparse_factors": [8, 8],
                    "before": {"weight_sparsity": 0.6},
                    "after": {"weight_sparsity": 0.25 + 0.1 * block},
                }
            )
        blocks.append(
            {
                "block": prefix,
                "attention_heads": {
                    "kept_before": 4,
                    "kept_after": 3 - block,
                    "total": 4,
                    "unit_size": 8,
                    "layers": [],
                },
                "ffn_neurons": {
                    "kept_before": 60,
                    "kept_after": 48 - 16 * block,
                    "total": 64,
                    "unit_size": 1,
                    "layers": [],
                },
            }
        )
    (dirs["mask"] / "sparsity_table.json").write_text(
        json.dumps(
            {
                "structured_masking": True,
                "structured_masking_step": MASKING_STEP,
                "linear_sparsity_before": 0.6,
                "linear_sparsity_after": 0.25,
                "layers": layers,
                "blocks": blocks,
            }
        )
    )
    (dirs["export"] / "model.onnx").write_bytes(b"")
    stats = {
        "dense": {"bin_bytes": 15_000_000, "parameters": 3_750_000, "linear_flops_per_token": 4_800_000},
        "pruned": {"bin_bytes": 9_000_000, "parameters": 2_250_000, "linear_flops_per_token": 2_000_000},
        "flop_bound_speedup": 2.4,
        "removal_efficiency": {"attention_heads": 1.0, "ffn_neurons": 1.0},
        "matmuls": [],
    }
    (dirs["convert"] / "stats.json").write_text(json.dumps(stats))
    if with_benchmark:
        (dirs["benchmark"] / "benchmark.json").write_text(json.dumps(benchmark_summary()))
    return dirs
