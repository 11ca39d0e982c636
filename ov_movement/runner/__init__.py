"""The pipeline runner: stage graph, fingerprints, content-addressed cache, lock file.

Knows nothing of ML: it gets a registry (name -> StageSpec) and a loaded pipeline, and never
imports torch, nncf or openvino (stage modules are imported only when a stage runs).
"""

from ov_movement.runner.execute import RunSummary, StageOutcome, pipeline_status, print_status, run_pipeline
from ov_movement.runner.plan import Plan, PlannedStage, make_plan, resolve_workdir

__all__ = [
    "Plan",
    "PlannedStage",
    "RunSummary",
    "StageOutcome",
    "make_plan",
    "pipeline_status",
    "print_status",
    "resolve_workdir",
    "run_pipeline",
]
