"""Torch-side shrink is exact, also when whole attention/FFN blocks are masked."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from ov_movement.deploy.onnx_export import torch_outputs  # noqa: E402
from ov_movement.deploy.shrink import BiasOnly, PassThroughAttention, plan_shrink, shrink_model  # noqa: E402
from ov_movement.deploy.structure import find_masked_structure  # noqa: E402
from tests.tiny import FFN, HEAD_DIM, HIDDEN, sample_inputs, tiny_bert  # noqa: E402


def test_partial_and_whole_blocks_are_dropped_exactly():
    model = tiny_bert(
        layers=3, heads={0: [0, 1, 2, 3], 1: [1, 3]}, neurons={1: range(FFN), 2: range(0, FFN, 3)}
    )
    x = sample_inputs()
    reference = torch_outputs(model, x)["logits"]

    structure = find_masked_structure(model)
    shrink_model(model, structure, plan_shrink(structure, "always"))

    layers = model.bert.encoder.layer
    assert isinstance(layers[0].attention.self, PassThroughAttention)
    assert isinstance(layers[0].attention.output.dense, BiasOnly)
    assert layers[1].attention.self.query.out_features == 2 * HEAD_DIM
    assert layers[1].attention.output.dense.in_features == 2 * HEAD_DIM
    assert isinstance(layers[1].output.dense, BiasOnly)
    assert layers[2].intermediate.dense.out_features == FFN - len(range(0, FFN, 3))
    assert layers[2].output.dense.weight.shape == (HIDDEN, FFN - len(range(0, FFN, 3)))
    torch.testing.assert_close(torch_outputs(model, x)["logits"], reference, atol=1e-5, rtol=0)
