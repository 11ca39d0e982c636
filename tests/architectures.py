"""Tiny random configs of the eight architectures NNCF documents for structured masking, each with
its scope preset, and a helper running sparsify -> mask -> export -> convert in this process.

Sizes: 2 layers, hidden 64 (MobileBERT: bottleneck 64; Swin: 16 then 32 wide), heads of 16 (Swin:
of 8), so every case trains in seconds on 2 cores. The warm-up is epoch 1 of 3 with a strong
regularization, so whole heads / FFN neurons are masked by then and the IR shrinks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TEXT_DATA = {"source": "synthetic", "path": None, "synthetic_samples": 48, "max_seq_length": 16, "seed": 7}
IMAGE_DATA = {"source": "digits", "path": None, "max_train_samples": 40, "max_eval_samples": 8, "seed": 7}
SYNTHETIC_IMAGES = {
    "source": "synthetic_images",
    "path": None,
    "synthetic_samples": 48,
    "synthetic_num_labels": 3,
}
AUDIO_DATA = {"source": "synthetic_audio", "path": None, "synthetic_samples": 48, "max_seq_length": 800}

_TEXT = {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 128}
_VISION = {"image_size": 32, "patch_size": 8, **_TEXT}


@dataclass(frozen=True)
class Arch:
    name: str  # the preset
    task: str
    model: dict[str, Any]
    data: dict[str, Any]
    block: int | None = None  # preset_block_size; None: the preset's default (32)


ARCHS: dict[str, Arch] = {
    a.name: a
    for a in (
        Arch(
            "bert",
            "text-classification",
            {"model_type": "bert", "max_position_embeddings": 32, **_TEXT},
            TEXT_DATA,
        ),
        Arch(
            "distilbert",
            "text-classification",
            {
                "model_type": "distilbert",
                "dim": 64,
                "n_layers": 2,
                "n_heads": 4,
                "hidden_dim": 128,
                "max_position_embeddings": 32,
            },
            TEXT_DATA,
        ),
        Arch(
            "roberta",
            "text-classification",
            {"model_type": "roberta", "max_position_embeddings": 34, "type_vocab_size": 1, **_TEXT},
            TEXT_DATA,
        ),
        Arch(
            "mobilebert",
            "text-classification",
            {
                "model_type": "mobilebert",
                "embedding_size": 32,
                "intra_bottleneck_size": 64,
                "num_feedforward_networks": 2,
                "max_position_embeddings": 32,
                **_TEXT,
            },
            TEXT_DATA,
        ),
        Arch("vit", "image-classification", {"model_type": "vit", **_VISION}, IMAGE_DATA),
        Arch(
            "swin",
            "image-classification",
            # Window 4 = the last stage's resolution (32 / 4 / 2), as in swin-tiny (7 at 224): the
            # case whose export failed through NNCF's patched torch.tensor (docs/design.md).
            {
                "model_type": "swin",
                "image_size": 32,
                "patch_size": 4,
                "embed_dim": 16,
                "depths": [1, 1],
                "num_heads": [2, 4],
                "window_size": 4,
                "mlp_ratio": 4.0,
            },
            SYNTHETIC_IMAGES,
            block=16,  # stage 0 is 16 wide: 32 does not divide it
        ),
        Arch(
            "clip",
            "image-classification",
            {"model_type": "clip_vision_model", "projection_dim": 32, **_VISION},
            IMAGE_DATA,
        ),
        Arch(
            "wav2vec2",
            "audio-classification",
            {
                "model_type": "wav2vec2",
                "conv_dim": [16, 16],
                "conv_stride": [5, 4],
                "conv_kernel": [10, 8],
                "num_conv_pos_embeddings": 16,
                "num_conv_pos_embedding_groups": 4,
                "mask_time_prob": 0.0,
                "classifier_proj_size": 32,
                **_TEXT,
            },
            AUDIO_DATA,
        ),
    )
}


def arch_pipeline(arch: Arch, **params: Any) -> dict[str, Any]:
    """The pipeline of one tiny architecture, with its preset (NNCF params overridable)."""
    return {
        "model": {"task": arch.task, "config": dict(arch.model)},
        "data": dict(arch.data),
        "training": {
            "epochs": 3,
            "batch_size": 8,
            "learning_rate": 3e-3,
            "device": "cpu",
            "max_steps_per_epoch": 5,
            "num_threads": 1,
            "seed": 11,
        },
        "compression": {
            "algorithm": "movement_sparsity",
            "preset": arch.name,
            **({"preset_block_size": arch.block} if arch.block else {}),
            "params": {
                "warmup_start_epoch": 1,
                "warmup_end_epoch": 2,
                "importance_regularization_factor": 0.2,
                "enable_structured_masking": True,
                **params,
            },
        },
        "export": {"verify_samples": 4},
        "convert": {"verify_samples": 4},
    }


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


__all__ = ["ARCHS", "Arch", "ArchRun", "arch_pipeline", "run_through_convert"]
