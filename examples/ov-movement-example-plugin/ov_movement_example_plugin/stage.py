"""A stage after `convert`: the operation types of the pruned IR, counted, the `top` most frequent
written to `ir_ops.json`. Its config section `ir_ops` appears in validation, the schema and status."""

from __future__ import annotations

import json
from collections import Counter

from pydantic import Field

from ov_movement.config.base import StrictModel
from ov_movement.plugins import StagePlugin
from ov_movement.stages.base import StageContext, StageResult, StageSpec
from ov_movement.stages.convert import PRUNED_XML

OUTPUT = "ir_ops.json"


class IrOpsConfig(StrictModel):
    """Operation counts of the pruned IR (example plugin stage `ir_ops`)."""

    top: int = Field(5, gt=0, le=100, description="How many of the most frequent operation types to keep.")


def run(ctx: StageContext) -> StageResult:
    import openvino as ov

    model = ov.Core().read_model(str(ctx.input("convert") / PRUNED_XML))
    counts = Counter(op.get_type_name() for op in model.get_ops())
    top = dict(counts.most_common(ctx.config.ir_ops.top))
    (ctx.output_dir / OUTPUT).write_text(json.dumps({"total": sum(counts.values()), "top": top}, indent=2))
    return StageResult(
        metrics={"operations": sum(counts.values())},
        summary=f"{sum(counts.values())} operations; most frequent: {', '.join(top)}",
    )


STAGE = StagePlugin(
    spec=StageSpec(
        name="ir_ops",
        run=run,
        upstream=("convert",),
        reads=("ir_ops",),
        description="operation counts of the pruned IR (example plugin)",
    ),
    section="ir_ops",
    section_model=IrOpsConfig,
)
