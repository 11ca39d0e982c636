"""Masked structure read from weights, and which of it `export.shrink` drops torch-side."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from ov_movement.deploy.shrink import plan_shrink  # noqa: E402
from ov_movement.deploy.structure import ModelStructure, find_masked_structure  # noqa: E402
from tests.tiny import FFN, HEAD_DIM, tiny_bert  # noqa: E402


def test_finds_zeroed_heads_and_neurons_per_block():
    model = tiny_bert(layers=3, heads={0: [1, 2], 2: [0, 1, 2, 3]}, neurons={1: range(0, FFN, 2)})
    structure = find_masked_structure(model)

    assert [b.masked_heads for b in structure.blocks] == [[1, 2], [], [0, 1, 2, 3]]
    assert [len(b.masked_neurons) for b in structure.blocks] == [0, FFN // 2, 0]
    assert structure.blocks[2].all_heads_masked and not structure.blocks[0].all_heads_masked
    assert structure.blocks[0].paths["q"] == "bert.encoder.layer.0.attention.self.query"
    assert (structure.masked_heads, structure.total_heads, structure.masked_neurons) == (6, 12, FFN // 2)
    assert ModelStructure.from_json(structure.to_json()).to_json() == structure.to_json()


def test_a_head_with_nonzero_output_stays_unless_its_value_is_zero():
    """Zero Q/K/V weights but a V bias and output columns: the head adds a constant, not zero."""
    model = tiny_bert(layers=1)
    attn = model.bert.encoder.layer[0].attention
    rows = slice(HEAD_DIM, 2 * HEAD_DIM)
    with torch.no_grad():
        for lin in (attn.self.query, attn.self.key, attn.self.value):
            lin.weight[rows] = 0
        assert find_masked_structure(model).blocks[0].masked_heads == []
        attn.self.value.bias[rows] = 0  # now the head's context is exactly zero
        assert find_masked_structure(model).blocks[0].masked_heads == [1]


def test_a_neuron_with_nonzero_bias_and_output_is_not_masked():
    model = tiny_bert(layers=1)
    with torch.no_grad():
        model.bert.encoder.layer[0].intermediate.dense.weight[5] = 0
    assert find_masked_structure(model).blocks[0].masked_neurons == []


@pytest.mark.parametrize(
    ("mode", "heads", "neurons"),
    [("never", 0, 0), ("auto", 6, FFN), ("always", 6, FFN + 10)],
)
def test_shrink_plan_auto_drops_every_head_and_only_whole_ffn_blocks_for_bert(mode, heads, neurons):
    # BERT: OpenVINO removes partial FFN itself; whole blocks break its pass; heads are always
    # dropped torch-side (the pass cannot follow them through transformers 5's attention reshape).
    model = tiny_bert(layers=2, heads={0: [0, 1, 2, 3], 1: [0, 3]}, neurons={0: range(10), 1: range(FFN)})
    plan = plan_shrink(find_masked_structure(model), mode)
    assert sum(len(p.heads) for p in plan) == heads
    assert sum(len(p.neurons) for p in plan) == neurons
