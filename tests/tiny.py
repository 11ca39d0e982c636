"""The tiny random models of the test suite, built in one place.

- `TINY_BERT` and the tiny pipeline (`tiny_pipeline_dict`, `tiny_config`, `tiny_jpqd_dict`): a random
  BERT (2 layers, hidden 64, 4 heads of 16, FFN 128) on the synthetic task, with the documentation's
  scopes at 16x16 blocks. Training uses one torch thread (`training.num_threads: 1`): on the 2-core
  CI machine the tiny model is no faster with two, and the same thread count keeps float reductions
  identical across processes.
- `ARCHS`: a tiny random config of each of the eight architectures NNCF documents for structured
  masking, with its scope preset (`arch_pipeline`); the per-task configs (`qa_config`,
  `image_config`, `audio_config`) take their models from here.
- `tiny_bert` / `tiny_distilbert`: torch models with chosen heads / FFN neurons zeroed directly on
  the weights (the structure NNCF's masks leave), and `save_tiny_bert` for a model directory.
- `tiny_irs`: a tiny BERT as ONNX, dense IR and "pruned" IR, built once per test session.

Sizes are chosen so that every case trains in seconds on 2 cores. Heavy libraries are imported
inside the functions: collecting the tests imports this module.
"""

from __future__ import annotations

import contextlib
import copy
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

# ---- the tiny BERT and its training pipeline ---------------------------------------------------

HIDDEN = 64
HEADS = 4
HEAD_DIM = HIDDEN // HEADS
FFN = 128
VOCAB = 100  # tiny_bert's and the IRs' token ids (the pipelines use their tokenizer's vocabulary)

TINY_BERT = {
    "model_type": "bert",
    "hidden_size": HIDDEN,
    "num_hidden_layers": 2,
    "num_attention_heads": HEADS,
    "intermediate_size": FFN,
    "max_position_embeddings": 64,
}

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


def tiny_jpqd_dict(**sections: dict[str, Any]) -> dict[str, Any]:
    """The tiny pipeline with NNCF's default quantization next to movement sparsity and distillation
    from the dense baseline (JPQD)."""
    raw = tiny_pipeline_dict(**sections)
    raw["compression"] = [raw["compression"], {"algorithm": "quantization"}]
    raw.setdefault("distillation", {"teacher": "baseline", "temperature": 2, "weight": 0.5})
    raw.setdefault("baseline", {"enabled": True, "epochs": 2})
    return raw


# ---- one tiny model per architecture ------------------------------------------------------------
# 2 layers, hidden 64 (MobileBERT: bottleneck 64; Swin: 16 then 32 wide), heads of 16 (Swin: of 8).
# The warm-up of `arch_pipeline` is epoch 1 of 3 with a strong regularization, so whole heads / FFN
# neurons are masked by then and the IR shrinks.

TEXT_DATA = {"source": "synthetic", "path": None, "synthetic_samples": 48, "max_seq_length": 16, "seed": 7}
IMAGE_DATA = {"source": "digits", "path": None, "max_train_samples": 40, "max_eval_samples": 8, "seed": 7}
SYNTHETIC_IMAGES = {
    "source": "synthetic_images",
    "path": None,
    "synthetic_samples": 48,
    "synthetic_num_labels": 3,
}
AUDIO_DATA = {"source": "synthetic_audio", "path": None, "synthetic_samples": 48, "max_seq_length": 800}

_TEXT = {
    "hidden_size": HIDDEN,
    "num_hidden_layers": 2,
    "num_attention_heads": HEADS,
    "intermediate_size": FFN,
}
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


# ---- one tiny pipeline per task, on the data given -----------------------------------------------

QA_PARAMS = {
    "warmup_start_epoch": 1,
    "warmup_end_epoch": 2,
    "importance_regularization_factor": 0.01,
    "enable_structured_masking": True,
}


def qa_config(data: dict[str, Any], **model: Any) -> Any:
    """TINY_BERT as a question-answering model (the span head outside NNCF's scopes)."""
    from ov_movement.config.pipeline import PipelineConfig

    return PipelineConfig.model_validate(
        {
            "model": {"task": "question-answering", "config": dict(TINY_BERT), **model},
            "data": {"path": None, "max_seq_length": 32, **data},
            "compression": {
                "algorithm": "movement_sparsity",
                "params": dict(QA_PARAMS),
                "ignored_scopes": ["{re}.*NNCFEmbedding", "{re}.*LayerNorm.*"],
            },
        }
    )


def image_config(data: dict[str, Any], **model: Any) -> Any:
    """The tiny ViT at 16x16 pixels (two patches a side) as an image classifier."""
    from ov_movement.config.pipeline import PipelineConfig

    vit = {**ARCHS["vit"].model, "image_size": 16}
    return PipelineConfig.model_validate(
        {"model": {"task": "image-classification", "config": vit, **model}, "data": {"path": None, **data}}
    )


def audio_config(data: dict[str, Any]) -> Any:
    """The tiny wav2vec2 as an audio classifier."""
    from ov_movement.config.pipeline import PipelineConfig

    return PipelineConfig.model_validate(
        {
            "model": {"task": "audio-classification", "config": dict(ARCHS["wav2vec2"].model)},
            "data": {"path": None, **data},
        }
    )


# ---- torch models with zeroed structure ---------------------------------------------------------
# Biases are random (HF initialises them to zero, which would hide bias-handling bugs); the zeroed
# structure follows NNCF's structured masks: Q/K/V rows + bias and output-projection columns per
# head, intermediate rows + bias and output columns per FFN neuron.


def tiny_bert(
    layers: int = 2,
    heads: Mapping[int, Iterable[int]] | None = None,
    neurons: Mapping[int, Iterable[int]] | None = None,
    seed: int = 0,
    *,
    hidden: int = HIDDEN,
    ffn: int = FFN,
    num_labels: int = 3,
    max_positions: int = 128,
    random_biases: bool = True,
):
    """A random BertForSequenceClassification (eager attention, eval mode) built at `seed`, with
    `heads` / `neurons` (per layer) zeroed."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=VOCAB,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=HEADS,
        intermediate_size=ffn,
        max_position_embeddings=max_positions,
        num_labels=num_labels,
    )
    config._attn_implementation = "eager"  # see docs/design.md: sdpa hides attention from NNCF
    model = BertForSequenceClassification(config).eval()
    head_dim = hidden // HEADS
    with torch.no_grad():
        if random_biases:
            for name, param in model.named_parameters():
                if name.endswith("bias"):
                    param.normal_(0.0, 0.2)
        for layer, hs in (heads or {}).items():
            attn = model.bert.encoder.layer[layer].attention
            for h in hs:
                rows = slice(h * head_dim, (h + 1) * head_dim)
                for lin in (attn.self.query, attn.self.key, attn.self.value):
                    lin.weight[rows] = 0
                    lin.bias[rows] = 0
                attn.output.dense.weight[:, rows] = 0
        for layer, js in (neurons or {}).items():
            block = model.bert.encoder.layer[layer]
            idx = torch.tensor(sorted(js), dtype=torch.long)
            block.intermediate.dense.weight[idx] = 0
            block.intermediate.dense.bias[idx] = 0
            block.output.dense.weight[:, idx] = 0
    return model


def sample_inputs(batch: int = 4, seq: int = 32, seed: int = 0) -> dict[str, np.ndarray]:
    """Token ids with right padding on some rows, like tokenised eval text."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, VOCAB, (batch, seq), dtype=np.int64)
    mask = np.ones((batch, seq), dtype=np.int64)
    for row in range(1, batch, 2):
        mask[row, seq // 2 :] = 0
        ids[row, seq // 2 :] = 0
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros((batch, seq), np.int64)}


def tiny_distilbert(heads: Mapping[int, Iterable[int]], neurons: Mapping[int, Iterable[int]], seed: int = 0):
    """The same sizes as `tiny_bert`, DistilBERT layout (attention holds its output projection)."""
    import torch
    from transformers import DistilBertConfig, DistilBertForSequenceClassification

    torch.manual_seed(seed)
    config = DistilBertConfig(
        vocab_size=VOCAB,
        dim=HIDDEN,
        n_layers=2,
        n_heads=HEADS,
        hidden_dim=FFN,
        max_position_embeddings=128,
        num_labels=3,
    )
    config._attn_implementation = "eager"
    model = DistilBertForSequenceClassification(config).eval()
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith("bias"):
                param.normal_(0.0, 0.2)
        for layer, hs in heads.items():
            attn = model.distilbert.transformer.layer[layer].attention
            for h in hs:
                rows = slice(h * HEAD_DIM, (h + 1) * HEAD_DIM)
                for lin in (attn.q_lin, attn.k_lin, attn.v_lin):
                    lin.weight[rows] = 0
                    lin.bias[rows] = 0
                attn.out_lin.weight[:, rows] = 0
        for layer, js in neurons.items():
            ffn = model.distilbert.transformer.layer[layer].ffn
            idx = torch.tensor(sorted(js), dtype=torch.long)
            ffn.lin1.weight[idx] = 0
            ffn.lin1.bias[idx] = 0
            ffn.lin2.weight[:, idx] = 0
    return model


def save_tiny_bert(folder: Path) -> Path:
    """TINY_BERT's base model (random weights) saved with save_pretrained: a model directory."""
    from transformers import BertConfig, BertModel

    settings = {k: v for k, v in TINY_BERT.items() if k != "model_type"}
    # transformers 5 draws a "Writing model shards" bar on stderr: keep it out of checked output.
    with contextlib.redirect_stderr(io.StringIO()):
        BertModel(BertConfig(**settings)).save_pretrained(folder)
    return folder


# ---- tiny IRs -----------------------------------------------------------------------------------
# A tiny BERT (hidden 32, FFN 64, two labels) as ONNX, dense IR and "pruned" IR (three heads
# physically removed by ov-movement's own shrink). Only the plumbing is under test with these, not
# pruning.

IR_SEQ = 16
IR_INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")


def _export(model, path: Path) -> None:
    import torch

    ids = torch.randint(0, VOCAB, (1, IR_SEQ))
    dynamic = {name: {0: "batch", 1: "sequence"} for name in IR_INPUT_NAMES}
    torch.onnx.export(
        model,
        (ids, torch.ones_like(ids), torch.zeros_like(ids)),
        str(path),
        input_names=list(IR_INPUT_NAMES),
        output_names=["logits"],
        dynamic_axes={**dynamic, "logits": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )


def build_tiny_irs(dest: Path) -> dict[str, Path]:
    import openvino as ov

    dest.mkdir(parents=True, exist_ok=True)
    model = tiny_bert(hidden=32, ffn=64, num_labels=2, max_positions=64, random_biases=False)
    paths = {"onnx": dest / "model.onnx", "dense": dest / "dense.xml", "pruned": dest / "pruned.xml"}
    _export(model, paths["onnx"])
    ov.save_model(ov.convert_model(str(paths["onnx"])), str(paths["dense"]))
    _drop_heads(model, {0: [0, 1], 1: [3]})
    _export(model, dest / "pruned.onnx")
    ov.save_model(ov.convert_model(str(dest / "pruned.onnx")), str(paths["pruned"]))
    return paths


def _drop_heads(model, heads: dict[int, list[int]]) -> None:
    """Remove `heads` per layer with the shrink's slicing (HF prune_heads is gone in transformers 5)."""
    from ov_movement.deploy.shrink import BlockShrink, shrink_model
    from ov_movement.deploy.structure import find_masked_structure

    structure = find_masked_structure(model)
    shrink_model(model, structure, [BlockShrink(i, structure.blocks[i].path, hs) for i, hs in heads.items()])


def tiny_irs(tmp_path_factory: Any) -> dict[str, Path]:
    """The tiny IRs, built once per session (several test modules share them): export takes seconds."""
    dest = tmp_path_factory.getbasetemp() / "tiny_bert_models"
    done = dest / "done"
    if not done.exists():
        build_tiny_irs(dest)
        done.touch()
    return {"onnx": dest / "model.onnx", "dense": dest / "dense.xml", "pruned": dest / "pruned.xml"}


def ir_inputs(rows: int = 10, seed: int = 0) -> dict[str, np.ndarray]:
    """`rows` random token sequences of IR_SEQ tokens, unpadded, for the tiny IRs."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, VOCAB, size=(rows, IR_SEQ), dtype=np.int64)
    return {
        "input_ids": ids,
        "attention_mask": np.ones_like(ids),
        "token_type_ids": np.zeros_like(ids),
    }


def openvino_pass_removes_heads() -> bool:
    """Whether OpenVINO's pruning pass alone removes masked heads of a dynamic-axes BERT export.

    Upstream behaviour, documented (docs/compatibility.md): the pass follows a head through
    transformers 4.x's `view(batch, -1, heads, head_dim)` but not through 5.x's
    `(*input_shape, -1, head_dim)`. ov-movement drops heads torch-side, so removal is 100% on both."""
    import transformers

    return int(transformers.__version__.split(".")[0]) < 5
