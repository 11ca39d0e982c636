"""package stage: the deployable bundle of one benchmarked variant, checked against the benchmark.

Reads   benchmark/benchmark.json (which variants exist, their accuracy and latency), the chosen IR
        (benchmarking.variants), baseline/eval.json (the reference of `package.model: auto`),
        mask/checkpoint/meta.json (label names, input names, sequence length), the model's
        tokenizer or pre-processor (model section), the eval split.
Writes  bundle.json (what `ov-movement predict` needs, the choice and its reason, the check),
        hf/ (optimum-intel layout), ovms/ (OpenVINO Model Server repository), model_card.md.

The choice under `package.model: auto` is the report's recommendation (`reporting.variants.recommend`,
one rule for both). The check: the bundle's IR, fed by the bundle's own tokenizer or pre-processor
through `deploy.predictor` on the raw eval examples, must predict exactly what the benchmark's
evaluation predicts (example by example) and reach exactly the accuracy benchmark.json records; for
text classification the OVMS tokenizer model chained with the classifier must predict the same too.
Any difference fails the stage.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from ov_movement.benchmarking.variants import VARIANTS
from ov_movement.deploy.predictor import BUNDLE_FILE, HF_DIR, MODEL_CARD, OVMS_DIR, Predictor
from ov_movement.errors import ConfigError, ConfigIssue, StageError, VerificationError
from ov_movement.reporting.sources import final_eval_metrics, read_json
from ov_movement.reporting.variants import VariantRow, recommend, variant_rows
from ov_movement.stages.base import StageContext, StageResult
from ov_movement.stages.baseline import EVAL_FILE as BASELINE_EVAL_FILE

SUMMARY_NAME = BUNDLE_FILE
log = logging.getLogger(__name__)


def choose_variant(ctx: StageContext, benchmark: dict[str, Any]) -> tuple[VariantRow, str]:
    """The variant to package and why: the one `package.model` names, or the report's recommendation."""
    cfg = ctx.config.package
    rows = [r for r in variant_rows(benchmark) if r.name in VARIANTS and VARIANTS[r.name].is_ir]
    if cfg.model != "auto":
        row = next((r for r in rows if r.name == cfg.model), None)
        if row is None:
            raise ConfigError(
                [
                    ConfigIssue(
                        "package.model",
                        f"{cfg.model!r} was not benchmarked in this run (benchmarked IRs: "
                        f"{', '.join(r.name for r in rows) or 'none'}); name one of them or `auto`",
                    )
                ]
            )
        return row, f"package.model: {cfg.model}"
    baseline_dir = ctx.inputs.get("baseline")
    baseline_eval = final_eval_metrics(read_json(baseline_dir / BASELINE_EVAL_FILE)) if baseline_dir else None
    drop = cfg.max_accuracy_drop if cfg.max_accuracy_drop is not None else ctx.config.report.max_accuracy_drop
    chosen = recommend(rows, baseline_eval, drop)
    if chosen is None:
        raise ConfigError(
            [
                ConfigIssue(
                    "package.model",
                    "`auto` picks by eval accuracy, which the benchmark did not measure "
                    "(benchmark.evaluate_accuracy: false?); name the variant to package",
                )
            ]
        )
    if chosen.variant is None:  # nothing within the drop: the most accurate, said plainly
        best = max((r for r in rows if r.accuracy is not None), key=lambda r: r.accuracy)
        return best, f"{chosen.reason}; packaged the most accurate instead (set package.model to choose)"
    return chosen.variant, f"fastest within package.max_accuracy_drop {drop:g}: {chosen.reason}"


def _training_meta(ctx: StageContext) -> dict[str, Any]:
    from ov_movement.training.checkpoint import read_meta
    from ov_movement.training.session import CHECKPOINT_DIR

    return read_meta(ctx.input("mask") / CHECKPOINT_DIR)


def _input_shapes(xml: Path) -> dict[str, str]:
    import openvino as ov

    model = ov.Core().read_model(str(xml))
    return {port.get_any_name(): str(port.get_partial_shape()) for port in model.inputs}


def write_layouts(ctx: StageContext, row: VariantRow, reason: str) -> dict[str, Any]:
    """hf/, ovms/ and bundle.json (without the check's result); returns the bundle description."""
    from ov_movement.deploy.bundle import (
        convert_text_tokenizer,
        tokenizer_settings,
        write_bundle_info,
        write_hf,
        write_ovms,
    )
    from ov_movement.models import hf_config, load_processor
    from ov_movement.tasks.media import AudioProcessor, ImageProcessor

    config, out = ctx.config, ctx.output_dir
    task = config.model.task
    ir = VARIANTS[row.name].path(ctx.inputs)
    if ir is None or not ir.is_file():
        raise StageError(f"package: {row.name} IR is missing ({ir})")
    meta = _training_meta(ctx)
    labels = list(meta.get("label_names") or [])
    processor = load_processor(config.model, ctx.config_dir)
    write_hf(out / HF_DIR, ir, hf_config(config.model, ctx.config_dir, processor), labels, processor, task)
    name = config.package.name or _server_name(config.name or "model")
    pairs = bool(config.data.text_pair_column)
    tokenizer_model = (
        convert_text_tokenizer(processor, config.data.max_seq_length, pairs)
        if task == "text-classification"
        else None
    )
    input_names = list(meta.get("input_names") or [])
    write_ovms(out / OVMS_DIR, name, ir, input_names, tokenizer_model)
    info: dict[str, Any] = {
        "task": task,
        "variant": row.name,
        "variant_label": row.label,
        "reason": reason,
        "source": f"{VARIANTS[row.name].stage}/{VARIANTS[row.name].file}",
        "label_names": labels,
        "input_names": input_names,
        "input_shapes": _input_shapes(ir),
        "max_length": config.data.max_seq_length,
        "text_pairs": pairs,
        "ovms_model": name,
        "benchmark": {"accuracy": row.accuracy, "latency_ms": row.latency, "speedup": row.speedup},
    }
    if isinstance(processor, ImageProcessor):
        info["image"] = {"size": list(processor.size), "channels": processor.channels}
    elif isinstance(processor, AudioProcessor):
        info["audio"] = {"sampling_rate": processor.sampling_rate}
    else:
        info["tokenizer"] = tokenizer_settings(processor)
    write_bundle_info(out, info)
    return info


def _server_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_" else "_" for c in name).lstrip("-_")
    return cleaned or "model"


def _raw_eval(ctx: StageContext, predictor: Predictor) -> dict[str, np.ndarray]:
    """The eval split, raw examples encoded by the bundle's own pre-processing."""
    config = ctx.config
    if config.model.task == "question-answering":
        questions, contexts = zip(*[(e.question, e.context) for e in _qa_eval_examples(ctx)], strict=True)
        return predictor.encode_qa(list(questions), list(contexts))[0]
    from ov_movement.data import load_examples

    examples = load_examples(config.data, ctx.config_dir).eval
    if config.model.task == "image-classification":
        return predictor.encode_images([e.array for e in examples])
    if config.model.task == "audio-classification":
        return predictor.encode_audio([e.array for e in examples])
    return predictor.encode_texts([e.text for e in examples], [e.text_pair for e in examples])


def _qa_eval_examples(ctx: StageContext) -> list[Any]:
    """The eval questions the benchmark scored: those whose answer survives truncation (encode_qa)."""
    from ov_movement.data.qa import load_qa_examples
    from ov_movement.models import load_processor, model_input_names
    from ov_movement.tasks.question_answering import encode_qa

    tokenizer = load_processor(ctx.config.model, ctx.config_dir)
    names = model_input_names(ctx.config.model, ctx.config_dir, tokenizer)
    kept = []
    logger = logging.getLogger(encode_qa.__module__)  # where encode_qa reports the dropped ones
    level = logger.level
    logger.setLevel(logging.ERROR)  # the dropped ones were reported when the data was first encoded
    try:
        for example in load_qa_examples(ctx.config.data, ctx.config_dir)[1]:
            try:
                if len(encode_qa(tokenizer, [example], names, ctx.config.data.max_seq_length)):
                    kept.append(example)
            except ConfigError:  # its answer lies beyond max_seq_length: not in the eval arrays
                pass
    finally:
        logger.setLevel(level)
    return kept


def check_bundle(ctx: StageContext, info: dict[str, Any], benchmark: dict[str, Any]) -> dict[str, Any]:
    """The bundle against the benchmark: same predictions, same accuracy, or VerificationError."""
    from ov_movement.benchmarking.accuracy import agreement, infer_logits, score
    from ov_movement.model_inputs import load_eval_arrays
    from ov_movement.tasks import get_task

    name = info["variant"]
    task = get_task(ctx.config.model.task)
    device = ctx.config.benchmark.device
    inputs, labels = load_eval_arrays(ctx.config, ctx.config_dir)
    reference, _ = score(
        infer_logits(
            VARIANTS[name].path(ctx.inputs),
            inputs,
            batch_size=ctx.config.training.eval_batch_size,
            device=device,
        ),
        labels,
        task,
    )
    predictor = Predictor(ctx.output_dir, device=device)
    predictions, metrics = score(predictor.logits(_raw_eval(ctx, predictor)), labels, task)
    recorded = ((benchmark.get("accuracy") or {}).get(name) or {}).get("accuracy")
    result: dict[str, Any] = {
        "samples": int(len(labels)),
        "accuracy": metrics.get("accuracy"),
        "benchmark_accuracy": recorded,
        "agreement_with_benchmark": agreement(predictions, reference),
    }
    problems = []
    if predictions.shape != reference.shape or not np.array_equal(predictions, reference):
        problems.append(
            f"predictions agree with the benchmark's on {100 * result['agreement_with_benchmark']:.2f}%"
        )
    if recorded is not None and metrics.get("accuracy") != recorded:
        problems.append(f"accuracy {metrics.get('accuracy')} != benchmark.json's {recorded}")
    if ctx.config.model.task == "text-classification":
        from ov_movement.data import load_examples
        from ov_movement.deploy.bundle import ovms_chain_logits

        examples = load_examples(ctx.config.data, ctx.config_dir).eval
        pairs = [e.text_pair or "" for e in examples] if info["text_pairs"] else None
        served = np.argmax(
            ovms_chain_logits(ctx.output_dir / OVMS_DIR, [e.text for e in examples], pairs), axis=-1
        )
        result["ovms_agreement_with_benchmark"] = agreement(served, reference)
        if not np.array_equal(served, reference):
            problems.append(
                f"the OVMS tokenizer + classifier chain agrees on {100 * result['ovms_agreement_with_benchmark']:.2f}%"
            )
    if problems:
        raise VerificationError(
            f"package: the bundle of {name} does not reproduce the benchmark on the eval split: "
            + "; ".join(problems)
        )
    return result


def run(ctx: StageContext) -> StageResult:
    cfg = ctx.config.package
    if not cfg.enabled:
        return StageResult(metrics={"enabled": False}, summary="disabled (package.enabled: false)")
    from ov_movement.deploy.bundle import write_bundle_info
    from ov_movement.deploy.model_card import render_model_card
    from ov_movement.stages.benchmark import SUMMARY_NAME as BENCHMARK_JSON

    benchmark = read_json(ctx.input("benchmark") / BENCHMARK_JSON)
    if not benchmark:
        raise StageError(f"package: benchmark output {BENCHMARK_JSON} is missing")
    row, reason = choose_variant(ctx, benchmark)
    if ctx.progress:
        print(f"  package: {row.label} ({reason})")
    info = write_layouts(ctx, row, reason)
    info["check"] = check_bundle(ctx, info, benchmark)
    write_bundle_info(ctx.output_dir, info)
    (ctx.output_dir / MODEL_CARD).write_text(render_model_card(ctx, info, benchmark), encoding="utf-8")
    check = info["check"]
    summary = (
        f"{row.label} bundled (hf/, ovms/, {MODEL_CARD}); eval check: {check['samples']} examples, "
        f"same predictions as the benchmark, accuracy {check['accuracy']:.4f}"
    )
    return StageResult(
        metrics={
            "enabled": True,
            "variant": row.name,
            "accuracy": check["accuracy"],
            "samples": check["samples"],
        },
        summary=summary,
    )


__all__ = ["SUMMARY_NAME", "check_bundle", "choose_variant", "run", "write_layouts"]
