"""The tiny pipeline the training tests share: a random BERT (2 layers, hidden 64, 4 heads of 16,
FFN 128) on the synthetic task, with the documentation's scopes at 16x16 blocks.

Training uses one torch thread (`training.num_threads: 1`): on the 2-core CI machine the tiny model
is no faster with two, and the same thread count keeps float reductions identical across processes.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TINY_BERT = {
    "model_type": "bert",
    "hidden_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 128,
    "max_position_embeddings": 64,
}
HEAD_SIZE = 16

# The documentation's BERT scopes, with 16x16 blocks (32x32 does not divide 4 heads of 16).
DOC_SCOPES = [
    {"mode": "block", "sparse_factors": [16, 16], "target_scopes": "{re}.*BertAttention.*"},
    {"mode": "per_dim", "axis": 0, "target_scopes": "{re}.*BertIntermediate.*"},
    {"mode": "per_dim", "axis": 1, "target_scopes": "{re}.*BertOutput.*"},
]
DOC_IGNORED = ["{re}.*NNCFEmbedding", "{re}.*LayerNorm.*", "{re}.*classifier.*"]


def tiny_pipeline_dict(**sections: dict[str, Any]) -> dict[str, Any]:
    """The tiny pipeline as a raw dict; each keyword updates (one level deep) that section."""
    raw: dict[str, Any] = {
        "model": {"config": dict(TINY_BERT)},
        "data": {"source": "synthetic", "synthetic_samples": 96, "max_seq_length": 32, "seed": 7},
        "training": {
            "epochs": 5,
            "batch_size": 8,
            "learning_rate": 3e-3,
            "device": "cpu",
            "max_steps_per_epoch": 4,
            "num_threads": 1,
            "seed": 11,
        },
        "compression": {
            "algorithm": "movement_sparsity",
            "params": {
                "warmup_start_epoch": 1,
                "warmup_end_epoch": 3,
                "importance_regularization_factor": 0.002,
                "enable_structured_masking": True,
            },
            "sparse_structure_by_scopes": copy.deepcopy(DOC_SCOPES),
            "ignored_scopes": list(DOC_IGNORED),
        },
    }
    for name, update in sections.items():
        if name == "params":
            raw["compression"]["params"].update(update)
        elif isinstance(update, dict) and isinstance(raw.get(name), dict):
            raw[name] = {**raw[name], **update}
        else:
            raw[name] = update
    return raw


def tiny_config(**sections: dict[str, Any]) -> Any:
    from ov_movement.config.pipeline import PipelineConfig

    return PipelineConfig.model_validate(tiny_pipeline_dict(**sections))


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


def tiny_jpqd_dict(**sections: dict[str, Any]) -> dict[str, Any]:
    """The tiny pipeline with NNCF's default quantization next to movement sparsity and distillation
    from the dense baseline (JPQD)."""
    raw = tiny_pipeline_dict(**sections)
    raw["compression"] = [raw["compression"], {"algorithm": "quantization"}]
    raw.setdefault("distillation", {"teacher": "baseline", "temperature": 2, "weight": 0.5})
    raw.setdefault("baseline", {"enabled": True, "epochs": 2})
    return raw


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


def read_log(path: Path, *, timings: bool = False) -> list[dict[str, Any]]:
    """train_log.jsonl records; without the wall-clock `seconds` unless timings=True."""
    import json

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
