"""A tiny random BERT as ONNX, dense IR and "pruned" IR (three heads physically removed by
ov-movement's own shrink), built once per test session. Only the plumbing is under test here, not pruning."""

from __future__ import annotations

from pathlib import Path

import pytest

SEQ = 16
VOCAB = 100
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")


def _export(model, path: Path) -> None:
    import torch

    ids = torch.randint(0, VOCAB, (1, SEQ))
    dynamic = {name: {0: "batch", 1: "sequence"} for name in INPUT_NAMES}
    torch.onnx.export(
        model,
        (ids, torch.ones_like(ids), torch.zeros_like(ids)),
        str(path),
        input_names=list(INPUT_NAMES),
        output_names=["logits"],
        dynamic_axes={**dynamic, "logits": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )


def build_tiny_models(dest: Path) -> dict[str, Path]:
    import openvino as ov
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    dest.mkdir(parents=True, exist_ok=True)
    config = BertConfig(
        vocab_size=VOCAB,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=64,
        num_labels=2,
    )
    config._attn_implementation = "eager"  # see docs/design.md: sdpa hides attention from NNCF
    torch.manual_seed(0)
    model = BertForSequenceClassification(config).eval()
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


def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Build once per session (several test modules share it): export takes seconds."""
    dest = tmp_path_factory.getbasetemp() / "tiny_bert_models"
    done = dest / "done"
    if not done.exists():
        build_tiny_models(dest)
        done.touch()
    return {"onnx": dest / "model.onnx", "dense": dest / "dense.xml", "pruned": dest / "pruned.xml"}


def eval_arrays(rows: int = 10, seed: int = 0):
    import numpy as np

    rng = np.random.default_rng(seed)
    ids = rng.integers(0, VOCAB, size=(rows, SEQ), dtype=np.int64)
    return {
        "input_ids": ids,
        "attention_mask": np.ones_like(ids),
        "token_type_ids": np.zeros_like(ids),
    }
