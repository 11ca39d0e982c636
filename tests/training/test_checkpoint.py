"""Checkpoint format and the plain sparse model handed to export."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ov_movement.training.checkpoint import (
    from_json_tree,
    load_sparse_model,
    plain_state_dict,
    read_masks,
    to_json_tree,
)


def test_compression_state_round_trips_through_json():
    from nncf.api.compression import CompressionStage

    state = {
        "ctrl_state": {
            "movement_sparsity": {
                "compression_stage": CompressionStage.PARTIALLY_COMPRESSED,
                "scheduler_state": {"current_step": 3, "x": None},
            }
        }
    }
    encoded = to_json_tree(state)
    assert encoded["ctrl_state"]["movement_sparsity"]["compression_stage"]["value"] == 1
    assert from_json_tree(encoded) == state


def test_foreign_classes_are_refused():
    from ov_movement.errors import StageError

    with pytest.raises(StageError):
        from_json_tree({"__enum__": "os:PathLike", "value": 1})


def test_plain_state_dict_zeroes_masked_entries():
    state = {
        "lin.weight": torch.tensor([[-1.0, 2.0], [3.0, -4.0]]),
        "lin.bias": torch.tensor([-5.0, 6.0]),
        "lin.pre_ops.0.op.weight_importance": torch.zeros(2, 2),
        "lin.pre_ops.0.op.weight_ctx._binary_mask": torch.tensor([[0.0, 1.0], [1.0, 0.0]]),
        "lin.pre_ops.0.op.bias_ctx._binary_mask": torch.tensor([0.0, 1.0]),
    }
    plain = plain_state_dict(state)
    assert set(plain) == {"lin.weight", "lin.bias"}
    assert plain["lin.weight"].tolist() == [[0.0, 2.0], [3.0, 0.0]]
    assert not torch.signbit(plain["lin.weight"][0, 0]) and plain["lin.bias"].tolist() == [0.0, 6.0]


def test_load_sparse_model_is_plain_masked_and_matches_eval(trained):
    from ov_movement.model_inputs import load_eval_arrays

    folder = trained.mask_dir / "checkpoint"
    model = load_sparse_model(trained.config, folder, trained.root)
    assert type(model).__module__ == "transformers.models.bert.modeling_bert"
    assert not any(".pre_ops." in name for name, _ in model.named_parameters())
    assert not model.training and next(model.parameters()).dtype == torch.float32
    assert next(model.parameters()).device.type == "cpu"
    params = dict(model.named_parameters())
    masks = read_masks(folder)
    zeroed = 0
    for module, entry in masks.items():
        for kind, mask in entry.items():
            values = params[f"{module}.{kind}"][mask == 0]
            assert torch.all(values == 0)
            zeroed += values.numel()
    assert zeroed > 0
    # Evaluating the plain model on the padded eval arrays reproduces the stage's eval metrics.
    arrays, labels = load_eval_arrays(trained.config, trained.root)
    with torch.no_grad():
        logits = model(**{k: torch.from_numpy(v) for k, v in arrays.items()}).logits.numpy()
    accuracy = float((logits.argmax(-1) == labels).mean())
    assert accuracy == pytest.approx(trained.mask.metrics["eval_accuracy"])
    loss = torch.nn.functional.cross_entropy(torch.from_numpy(logits), torch.from_numpy(labels)).item()
    assert loss == pytest.approx(trained.mask.metrics["eval_loss"], abs=1e-4)
    assert np.isfinite(logits).all()
