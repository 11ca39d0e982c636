"""Running stages in this process (no CLI, no runner cache) and reading what they wrote.

`run_stage` / `run_baseline` run sparsify, mask or the baseline into root/<stage>; `run_through_convert`
runs sparsify -> mask -> export -> convert. The models and pipelines they train are tests/tiny.py's.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def run_stage(
    name: str,
    config: Any,
    root: Path,
    *,
    upstream: Path | None = None,
    callbacks: Sequence[Callable[[int, dict[str, Any]], None]] = (),
) -> Any:
    """Run sparsify or mask with outputs in root/<name> (mask reads `upstream` or root/sparsify)."""
    from ov_movement.stages import mask, sparsify
    from ov_movement.stages.base import StageContext

    inputs = {"sparsify": upstream or root / "sparsify"} if name == "mask" else {}
    if getattr(config, "distillation", None) is not None and (root / "baseline").is_dir():
        inputs["baseline"] = root / "baseline"  # the teacher (run_baseline)
    ctx = StageContext(name, config, root, root / name, inputs, progress=False)
    module = {"sparsify": sparsify, "mask": mask}[name]
    return module.run(ctx, callbacks=callbacks)


def run_baseline(config: Any, root: Path) -> Any:
    """The dense baseline into root/baseline (the default distillation teacher)."""
    from ov_movement.stages import baseline
    from ov_movement.stages.base import StageContext

    return baseline.run(StageContext("baseline", config, root, root / "baseline", {}, progress=False))


@dataclass
class TrainedPipeline:
    root: Path
    config: Any
    sparsify: Any  # StageResult
    mask: Any

    @property
    def sparsify_dir(self) -> Path:
        return self.root / "sparsify"

    @property
    def mask_dir(self) -> Path:
        return self.root / "mask"


@dataclass
class ArchRun:
    root: Path
    config: Any
    results: dict[str, Any]  # stage -> StageResult

    def json(self, stage: str, name: str) -> Any:
        return json.loads((self.root / stage / name).read_text())


def run_through_convert(raw: dict[str, Any], root: Path) -> ArchRun:
    """sparsify, mask, export, convert in this process, outputs in root/<stage>."""
    from ov_movement.config.pipeline import PipelineConfig
    from ov_movement.stages import convert, export, mask, sparsify
    from ov_movement.stages.base import StageContext

    config = PipelineConfig.model_validate(raw)
    results: dict[str, Any] = {}
    upstream = {"sparsify": [], "mask": ["sparsify"], "export": ["mask"], "convert": ["export"]}
    for name, module in (("sparsify", sparsify), ("mask", mask), ("export", export), ("convert", convert)):
        inputs = {stage: root / stage for stage in upstream[name]}
        ctx = StageContext(name, config, root, root / name, inputs, progress=False)
        results[name] = module.run(ctx)
    return ArchRun(root, config, results)


def read_log(path: Path, *, timings: bool = False) -> list[dict[str, Any]]:
    """train_log.jsonl records; without the wall-clock `seconds` unless timings=True."""
    records = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    if not timings:
        for record in records:
            record.pop("seconds", None)
    return records


def assert_same_masks(left: Path, right: Path) -> None:
    """Two checkpoints hold bit-identical binary masks for the same layers."""
    import torch

    from ov_movement.training.checkpoint import read_masks

    a, b = read_masks(left), read_masks(right)
    assert a.keys() == b.keys() and a
    for module in a:
        assert a[module].keys() == b[module].keys()
        for kind in a[module]:
            assert torch.equal(a[module][kind], b[module][kind]), f"{module}.{kind} masks differ"
