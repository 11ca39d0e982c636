"""model_card.md of a bundle: what the model is, its data, its compression, its numbers from the
benchmark, its inputs, the library versions and the cache fingerprints it came from."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ov_movement.deploy.predictor import HF_DIR, OVMS_DIR

if TYPE_CHECKING:
    from ov_movement.stages.base import StageContext

_LIBRARIES = ("ov-movement", "openvino", "openvino-tokenizers", "nncf", "torch", "transformers", "tokenizers")


def _versions() -> dict[str, str]:
    from ov_movement.runner.fingerprint import installed_versions

    return installed_versions(_LIBRARIES)


def _percent(value: Any) -> str:
    return f"{100 * value:.2f} %" if isinstance(value, int | float) else "—"


def _latency(entry: dict[str, Any]) -> str:
    latency = entry.get("latency_ms") or {}
    if "median" not in latency:
        return "—"
    return f"{latency['median']:.3g} ms [{latency['min']:.3g}–{latency['max']:.3g}]"


def _variants_table(benchmark: dict[str, Any], chosen: str) -> list[str]:
    lines = ["| variant | eval accuracy | `.bin` | latency, median [min–max] |", "|---|---|---|---|"]
    for name, entry in (benchmark.get("variants") or {}).items():
        accuracy = (entry.get("accuracy") or {}).get("accuracy")
        size = entry.get("bin_bytes")
        label = entry.get("label", name) + (" **(this bundle)**" if name == chosen else "")
        megabytes = f"{size / 1e6:.2f} MB" if isinstance(size, int) else "—"
        lines.append(f"| {label} | {_percent(accuracy)} | {megabytes} | {_latency(entry)} |")
    return lines


def render_model_card(ctx: StageContext, info: dict[str, Any], benchmark: dict[str, Any]) -> str:
    from ov_movement.reporting.collect import stage_origins

    config = ctx.config
    model = (
        "inline config " + json.dumps(config.model.config)
        if config.model.config
        else config.model.name_or_path
    )
    check = info.get("check", {})
    settings = benchmark.get("settings", {})
    lines = [
        f"# {config.name or 'ov-movement model'}: {info['variant_label']}",
        "",
        config.description or "",
        "",
        "## What it is",
        "",
        f"- task: `{info['task']}`; model: `{model}`, compressed with NNCF movement sparsity by ov-movement",
        f"- this bundle: **{info['variant_label']}** (`{info['source']}` of the pipeline)",
        f"- why this one: {info['reason']}",
        f"- labels: {', '.join(f'`{n}`' for n in info['label_names'])}",
        "",
        "## Data",
        "",
        f"- source `{config.data.source}`, path `{config.data.path}`, eval path `{config.data.eval_path}`",
        f"- sequence length {config.data.max_seq_length}; eval examples checked: {check.get('samples')}",
        "",
        "## Accuracy and speed (benchmark stage)",
        "",
        f"benchmark_app on {benchmark.get('machine', {}).get('cpu', 'this machine')}, batch "
        f"{settings.get('batch_size')}, hint {settings.get('hint')}, {settings.get('repeats')} interleaved rounds:",
        "",
        *_variants_table(benchmark, info["variant"]),
        "",
        f"Bundle check: the bundle's IR through the bundle's own pre-processing on the eval split gives "
        f"{_percent(check.get('accuracy'))}, the benchmark recorded {_percent(check.get('benchmark_accuracy'))}; "
        f"predictions agree on {_percent(check.get('agreement_with_benchmark'))} of the examples"
        + (
            f", through the OVMS tokenizer model + classifier on {_percent(check.get('ovms_agreement_with_benchmark'))}."
            if "ovms_agreement_with_benchmark" in check
            else "."
        ),
        "",
        "## Compression config",
        "",
        "```json",
        json.dumps(
            config.model_dump(mode="json", by_alias=True, exclude_none=True).get("compression"), indent=2
        ),
        "```",
        "",
        f"Post-training quantization (INT8 variants): `{json.dumps(config.quantize.model_dump(mode='json'))}`",
        "",
        "## Inputs",
        "",
        "| input | shape |",
        "|---|---|",
        *[f"| `{name}` | `{shape}` |" for name, shape in info["input_shapes"].items()],
        "",
        f"Files: `{HF_DIR}/` (optimum-intel layout), `{OVMS_DIR}/` (OpenVINO Model Server repository, model "
        f"`{info['ovms_model']}`), `bundle.json` (what `ov-movement predict` reads).",
        "",
        "## Provenance",
        "",
        "| library | version |",
        "|---|---|",
        *[f"| {name} | {version} |" for name, version in _versions().items()],
        "",
        "| stage | fingerprint | created |",
        "|---|---|---|",
        *[
            f"| {stage} | `{origin.fingerprint}` | {origin.created} |"
            for stage, origin in sorted(stage_origins(ctx.inputs).items())
        ],
        "",
    ]
    return "\n".join(lines)


__all__ = ["render_model_card"]
