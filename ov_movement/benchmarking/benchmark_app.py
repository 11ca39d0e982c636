"""Running OpenVINO's own `benchmark_app` as a subprocess and reading what it measured.

We measure with the tool users would use themselves rather than a timing loop of our own, so the
numbers are the ones they can reproduce. Two of its rules shape the command line:
- `-nthreads` is refused unless `-hint none`; a thread limit therefore travels in a `-load_config`
  file, which keeps the latency/throughput hint in force.
- `-json_stats` writes `benchmark_report.json` only together with `-report_type` and an existing
  `-report_folder`.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ov_movement.benchmarking.machine import BackgroundMeter
from ov_movement.errors import StageError
from ov_movement.pause_points import pause_point

if TYPE_CHECKING:
    from ov_movement.config.pipeline import BenchmarkConfig

REPORT_NAME = "benchmark_report.json"
COMMAND_NAME = "command.json"  # the exact command line, to rerun a measurement by hand
DEVICE_CONFIG_NAME = "device_config.json"  # -load_config: the thread count
# benchmark_app's JSON rounds latencies to 10 us; its log prints the median with 4 digits.
_MEDIAN_LINE = re.compile(r"^\[ INFO \]\s+Median:\s+([0-9.]+)\s+(ms|us)\s*$", re.MULTILINE)
_RUNTIME_LINE = re.compile(r"^\[ INFO \]\s+([A-Z_]+):\s+(.*?)\s*$", re.MULTILINE)
_BATCH_LINE = re.compile(r"^\[ INFO \]\s+Model batch size:\s+(\d+)\s*$", re.MULTILINE)
_FIRST_DIM = re.compile(r"^[^\[]*\[(\d+)")
_PRECISION_NAMES = {"float32": "f32", "bfloat16": "bf16", "float16": "f16"}


@dataclass(frozen=True)
class BenchmarkSettings:
    """What one benchmark_app run is asked to do (the `benchmark` config section, made explicit)."""

    device: str = "CPU"
    hint: str = "latency"
    time_s: int = 10
    batch_size: int = 1
    seq_length: int = 128
    nthreads: int | None = None
    api: str | None = None
    inference_precision: str = "f32"  # "default" leaves the plugin's choice (bf16 on AVX512-BF16 CPUs)

    @classmethod
    def from_config(cls, config: BenchmarkConfig) -> BenchmarkSettings:
        # benchmark_app's -t takes whole seconds (>= 1).
        return cls(
            device=config.device,
            hint=config.hint,
            time_s=max(1, math.ceil(config.time_s)),
            batch_size=config.batch_size,
            seq_length=config.seq_length,
            nthreads=config.nthreads,
            api=config.api,
            inference_precision=config.inference_precision,
        )


@dataclass
class RunResult:
    """One benchmark_app run, parsed. Latencies in milliseconds, throughput in samples/s."""

    model: str
    repeat: int
    report_dir: str
    latency_median_ms: float
    latency_avg_ms: float
    latency_min_ms: float
    latency_max_ms: float
    throughput_fps: float
    iterations: int
    duration_ms: float
    input_shape: str = ""
    # What the plugin actually used (parsed from the log), e.g. {"inference_precision": "f32"}.
    runtime: dict[str, str] = field(default_factory=dict)
    # Cores other processes kept busy during the run (machine.BackgroundMeter); None: not measurable.
    background_cores: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def find_benchmark_app() -> Path:
    """The `benchmark_app` of the openvino installed in this interpreter's environment, else PATH."""
    name = "benchmark_app.exe" if os.name == "nt" else "benchmark_app"
    # Prefer the one next to the interpreter: a PATH entry could belong to another openvino.
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return beside
    found = shutil.which("benchmark_app")
    if found:
        return Path(found)
    raise StageError(
        "benchmark_app not found next to the Python interpreter "
        f"({Path(sys.executable).parent}) or on PATH; it ships with the `openvino` package "
        "(reinstall with `make setup`)"
    )


def model_input_shapes(model_path: Path) -> dict[str, list[int | None]]:
    """Input names and shapes of an IR or ONNX model; None marks a dynamic dimension."""
    import openvino as ov

    model = ov.Core().read_model(str(model_path))
    shapes: dict[str, list[int | None]] = {}
    for port in model.inputs:
        shape = port.get_partial_shape()
        shapes[port.get_any_name()] = [d.get_length() if d.is_static else None for d in shape]
    return shapes


def concrete_shapes(shapes: Mapping[str, Sequence[int | None]], batch: int, seq: int) -> str:
    """The input shapes a run uses, in benchmark_app's syntax (`input_ids[1,128],...`).

    Dynamic [batch, sequence] token (and audio) inputs get the configured size; a dynamic batch of
    any other input (images [batch, C, H, W]) gets the batch; static dimensions stay as the model has
    them. Any other dynamic layout is an error rather than a guess.
    """
    parts = []
    for name, dims in shapes.items():
        if len(dims) != 2 and any(d is None for d in dims[1:]):
            raise StageError(
                f"cannot choose a benchmark shape for input {name!r} with dimensions {list(dims)}"
            )
        filled = [d if d is not None else (batch if i == 0 else seq) for i, d in enumerate(dims)]
        parts.append(f"{name}[{','.join(str(d) for d in filled)}]")
    return ",".join(parts)


def is_dynamic(shapes: Mapping[str, Sequence[int | None]]) -> bool:
    return any(d is None for dims in shapes.values() for d in dims)


def build_command(
    exe: Path, model_path: Path, settings: BenchmarkSettings, report_dir: Path, data_shape: str | None
) -> list[str]:
    cmd = [str(exe), "-m", str(model_path), "-d", settings.device, "-hint", settings.hint]
    cmd += ["-t", str(settings.time_s), "-report_type", "no_counters", "-report_folder", str(report_dir)]
    cmd += ["-json_stats"]
    if data_shape:
        # Dynamic models are otherwise timed in "full" mode, inputs re-filled inside the loop: a
        # constant overhead that dilutes the dense/pruned ratio. One data shape allows inference-only.
        cmd += ["-data_shape", data_shape, "-inference_only"]
    if settings.api:
        cmd += ["-api", settings.api]
    if settings.inference_precision != "default":
        cmd += ["-infer_precision", settings.inference_precision]
    if settings.nthreads:
        config_path = report_dir / DEVICE_CONFIG_NAME
        config_path.write_text(
            json.dumps({settings.device: {"INFERENCE_NUM_THREADS": str(settings.nthreads)}})
        )
        cmd += ["-load_config", str(config_path)]
    return cmd


def _tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def parse_runtime(log: str) -> dict[str, str]:
    """The settings the plugin reported after compiling (precision, threads, streams, hint)."""
    found = dict(_RUNTIME_LINE.findall(log))
    runtime: dict[str, str] = {}
    if "INFERENCE_PRECISION_HINT" in found:
        raw = re.sub(r"^<Type: '(.*)'>$", r"\1", found["INFERENCE_PRECISION_HINT"])
        runtime["inference_precision"] = _PRECISION_NAMES.get(raw, raw)
    for key, name in (
        ("INFERENCE_NUM_THREADS", "nthreads"),
        ("NUM_STREAMS", "streams"),
        ("PERFORMANCE_HINT", "hint"),
    ):
        if key in found:
            runtime[name] = found[key]
    mode = re.search(r"Benchmarking in (.+?) mode", log)
    if mode:  # "inference only" or "full" (input filling timed too)
        runtime["measured"] = mode.group(1)
    return runtime


def samples_per_second(reported_fps: float, log: str, samples_per_inference: int | None) -> float:
    """benchmark_app's FPS as samples/s. It multiplies by the batch only when it can find one
    (a layout with N); token models have none, so it logs `Model batch size: 1` and a batch-8
    inference counts as one frame. `samples_per_inference`: the batch the run actually used."""
    reported = _BATCH_LINE.search(log)
    if not samples_per_inference or not reported or int(reported.group(1)) == samples_per_inference:
        return reported_fps
    return reported_fps * samples_per_inference / max(1, int(reported.group(1)))


def batch_of(input_shape: str) -> int | None:
    """The first dimension of the first input in benchmark_app's shape syntax (`ids[8,128],...`)."""
    match = _FIRST_DIM.match(input_shape)
    return int(match.group(1)) if match else None


def parse_report(
    report_path: Path, log: str = "", samples_per_inference: int | None = None
) -> dict[str, Any]:
    """Numbers from `benchmark_report.json` (all values there are strings); throughput in samples/s."""
    try:
        results = json.loads(report_path.read_text())["execution_results"]
        parsed: dict[str, Any] = {
            "latency_median_ms": float(results["latency (ms)"]),
            "latency_avg_ms": float(results["avg latency"]),
            "latency_min_ms": float(results["min latency"]),
            "latency_max_ms": float(results["max latency"]),
            "throughput_fps": float(results["throughput"]),
            "iterations": int(results["total number of iterations"]),
            "duration_ms": float(results["total execution time (ms)"]),
        }
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise StageError(f"unreadable benchmark_app report {report_path}: {error!r}") from error
    parsed["throughput_fps"] = samples_per_second(parsed["throughput_fps"], log, samples_per_inference)
    median = _MEDIAN_LINE.search(log)
    if median:  # same number, more digits: sub-millisecond models need them for a usable ratio
        value = float(median.group(1))
        parsed["latency_median_ms"] = value / 1000 if median.group(2) == "us" else value
    return parsed


def run_benchmark_app(
    model_path: Path,
    settings: BenchmarkSettings,
    report_dir: Path,
    *,
    model: str = "model",
    repeat: int = 0,
    exe: Path | None = None,
    data_shape: str | None = None,
    batch: int | None = None,
) -> RunResult:
    """One run; its command, log and JSON report are kept in `report_dir`."""
    exe = exe or find_benchmark_app()
    report_dir.mkdir(parents=True, exist_ok=True)  # benchmark_app does not create it
    cmd = build_command(exe, model_path, settings, report_dir, data_shape)
    (report_dir / COMMAND_NAME).write_text(json.dumps(cmd, indent=1))
    meter = BackgroundMeter()
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    except OSError as error:
        raise StageError(f"could not start benchmark_app ({exe}): {error}") from error
    try:
        pause_point("benchmark", "benchmark_app")  # while it runs (see ov_movement/pause_points.py)
        stdout, stderr = proc.communicate()
    except BaseException:  # Ctrl-C reaches both of us; a SIGINT to our pid alone must not leave it running
        proc.kill()
        proc.wait()
        raise
    background = meter.cores()
    (report_dir / "stdout.log").write_text(stdout)
    (report_dir / "stderr.log").write_text(stderr)
    report_path = report_dir / REPORT_NAME
    if proc.returncode != 0 or not report_path.is_file():
        # benchmark_app prints its own errors on stdout, so show both streams.
        raise StageError(
            f"benchmark_app failed on {model_path.name} (exit code {proc.returncode}); "
            f"command: {' '.join(cmd)}\n--- stderr ---\n{_tail(stderr)}\n--- stdout ---\n{_tail(stdout)}"
        )
    parsed = parse_report(report_path, stdout, batch)
    return RunResult(
        model=model,
        repeat=repeat,
        report_dir=str(report_dir),
        runtime=parse_runtime(stdout),
        background_cores=None if background is None else round(background, 3),
        **parsed,
    )


def run_interleaved(
    models: Mapping[str, Path],
    settings: BenchmarkSettings,
    runs_dir: Path,
    repeats: int,
    *,
    exe: Path | None = None,
    on_run: Callable[[RunResult], None] | None = None,
) -> list[RunResult]:
    """Run every model once per repeat, in turn (A B C A B C ...).

    Interleaving makes slow drifts of the machine (other jobs, thermal state) hit every model alike,
    so per-repeat ratios stay meaningful even when absolute latencies wander.
    """
    exe = exe or find_benchmark_app()
    shapes = {}
    for name, path in models.items():
        inputs = model_input_shapes(path)
        # A static model runs at its own shape; -data_shape is only needed (and allowed) for dynamic ones.
        shapes[name] = (concrete_shapes(inputs, settings.batch_size, settings.seq_length), is_dynamic(inputs))
    results = []
    for repeat in range(repeats):
        for name, path in models.items():
            report_dir = runs_dir / f"{repeat:02d}_{name}"
            shape, dynamic = shapes[name]
            result = run_benchmark_app(
                path,
                settings,
                report_dir,
                model=name,
                repeat=repeat,
                exe=exe,
                data_shape=shape if dynamic else None,
                batch=batch_of(shape),
            )
            result.input_shape = shape
            results.append(result)
            if on_run:
                on_run(result)
    return results


__all__ = [
    "BenchmarkSettings",
    "REPORT_NAME",
    "RunResult",
    "batch_of",
    "build_command",
    "concrete_shapes",
    "find_benchmark_app",
    "is_dynamic",
    "model_input_shapes",
    "parse_report",
    "parse_runtime",
    "run_benchmark_app",
    "run_interleaved",
    "samples_per_second",
]
