"""The stage registry: sparsify -> mask -> export -> convert -> quantize -> benchmark -> report,
plus an optional dense `baseline` branch that the report and package read, and `package` after
benchmark (the deployable bundle).

A plain mapping from name to `StageSpec`; the runner gets it as an argument and knows nothing of
what the stages do.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ov_movement.stages.base import StageContext, StageResult, StageSpec

_TRAINING_INPUTS = ("model", "data", "training", "compression")
# Where the machines of a multi-node run meet does not change what they compute.
_NOT_RESULTS = ("training.distributed.node_rank", "training.distributed.rdzv_endpoint")
_JOIN = "ov_movement.training.distributed:join"


def _with_distillation(spec: StageSpec, config: Any) -> StageSpec:
    """With `distillation`, training reads that section, and a `baseline` teacher makes baseline upstream."""
    distillation = getattr(config, "distillation", None)
    if distillation is None:
        return spec
    upstream = spec.upstream
    if distillation.teacher == "baseline" and spec.name == "sparsify":  # mask gets it through sparsify
        upstream = (*upstream, "baseline")
    return replace(spec, upstream=upstream, reads=(*spec.reads, "distillation"))


STAGES: dict[str, StageSpec] = {
    spec.name: spec
    for spec in (
        StageSpec(
            name="sparsify",
            run="ov_movement.stages.sparsify:run",
            reads=_TRAINING_INPUTS,
            # sparsify trains only epochs [0, warmup_end_epoch): the total epoch count belongs to mask.
            ignores=("training.epochs", *_NOT_RESULTS),
            resumable=True,
            join=_JOIN,
            description="movement sparsification through the warm-up (NNCF)",
            configure=_with_distillation,
        ),
        StageSpec(
            name="mask",
            run="ov_movement.stages.mask:run",
            upstream=("sparsify",),
            reads=_TRAINING_INPUTS,
            ignores=_NOT_RESULTS,
            resumable=True,
            join=_JOIN,
            description="structured masking, then fine-tuning for the remaining epochs",
            configure=_with_distillation,
        ),
        StageSpec(
            name="export",
            run="ov_movement.stages.export:run",
            upstream=("mask",),
            reads=("export",),
            description="ONNX with sparsified weights as exact zeros, verified against torch",
        ),
        StageSpec(
            name="convert",
            run="ov_movement.stages.convert:run",
            upstream=("export",),
            reads=("convert",),
            description="dense and pruned OpenVINO IR, verified equivalent",
        ),
        StageSpec(
            name="quantize",
            run="ov_movement.stages.quantize:run",
            upstream=("convert",),
            # The calibration data (train split) is covered by the upstream fingerprints (mask reads data).
            reads=("quantize",),
            description="INT8 post-training quantization of the dense and pruned IR (NNCF)",
        ),
        StageSpec(
            name="benchmark",
            run="ov_movement.stages.benchmark:run",
            upstream=("quantize", "convert"),
            reads=("benchmark",),
            description="benchmark_app on every model variant (FP32, INT8, ONNX), IR accuracy",
        ),
        StageSpec(
            name="baseline",
            run="ov_movement.stages.baseline:run",
            # Task, data and optimiser settings, but not compression: the dense reference.
            reads=("model", "data", "training", "baseline"),
            ignores=_NOT_RESULTS,
            join="ov_movement.stages.baseline:join",  # disabled: node 0 launches nothing to join
            description="optional dense fine-tuning of the same model, for the accuracy comparison",
        ),
        StageSpec(
            name="report",
            run="ov_movement.stages.report:run",
            upstream=("benchmark", "baseline"),
            reads=("report",),
            # Shown under the title: a new description re-renders the report.
            reads_if_set=("name", "description"),
            description="report.md, tables and the sparsity-lifecycle plot",
        ),
        StageSpec(
            name="package",
            run="ov_movement.stages.package:run",
            # baseline: the accuracy reference of `package.model: auto` (as in the report's recommendation).
            upstream=("benchmark", "baseline"),
            # `package.max_accuracy_drop` defaults to the report's; the server name to the pipeline's.
            # Model, data and tokenizer are covered by the upstream fingerprints (mask reads them).
            reads=("package", "report.max_accuracy_drop"),
            reads_if_set=("name",),
            description="deployable bundle: optimum-intel dir, OpenVINO Model Server repository, model card",
        ),
    )
}

STAGE_ORDER: tuple[str, ...] = tuple(STAGES)  # the built-in stages


def register_stage(spec: StageSpec) -> None:
    """Add a stage (a plugin's, ov_movement.plugins) after the built-in ones."""
    STAGES[spec.name] = spec


__all__ = ["STAGES", "STAGE_ORDER", "StageContext", "StageResult", "StageSpec", "register_stage"]
