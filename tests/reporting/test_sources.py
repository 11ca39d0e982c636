import json

import pytest

from ov_movement.errors import StageError
from ov_movement.reporting.sources import final_eval_metrics, read_jsonl, sparsity_table, training_history
from tests.reporting.fixtures import MASKING_STEP, write_upstream


@pytest.mark.parametrize(
    "data",
    [
        [{"epoch": 0, "accuracy": 0.5}, {"epoch": 1, "accuracy": 0.9, "f1": 0.8}],
        [{"epoch": 1, "epoch_position": 2.0, "step": 10, "accuracy": 0.9, "f1": 0.8}],
        {"epochs": [{"epoch": 0, "accuracy": 0.5}, {"epoch": 1, "accuracy": 0.9, "f1": 0.8}]},
        {"final": {"accuracy": 0.9, "f1": 0.8}, "epochs": []},
        {"accuracy": 0.9, "f1": 0.8, "epoch": 1},
        {"0": {"accuracy": 0.5}, "1": {"eval_accuracy": 0.9, "eval_f1": 0.8}},
    ],
)
def test_final_eval_metrics_accepts_the_plausible_shapes(data):
    assert final_eval_metrics(data) == {"accuracy": 0.9, "f1": 0.8}


def test_final_eval_metrics_of_nothing():
    assert final_eval_metrics(None) is None and final_eval_metrics([]) is None


def test_jsonl_skips_a_truncated_last_line_but_not_a_corrupt_middle(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_text('{"step": 1}\n\n{"step": 2}\n{"step": 3, "lo')
    assert read_jsonl(path) == [{"step": 1}, {"step": 2}]
    path.write_text('{"step": 1}\n{"ste\n{"step": 3}\n')
    with pytest.raises(StageError, match="log.jsonl:2"):
        read_jsonl(path)
    assert read_jsonl(tmp_path / "absent.jsonl") == []


def test_training_history_merges_stages_and_converts_warmup_epochs_to_steps(tmp_path):
    dirs = write_upstream(tmp_path)
    logs = [read_jsonl(dirs[s] / "train_log.jsonl") for s in ("sparsify", "mask")]
    history = training_history(logs, (1, 3))
    assert history.steps == list(range(25))
    assert history.warmup_steps == (5, 15)  # first step of epoch 1 and of epoch 3
    assert history.masking_step == MASKING_STEP
    assert history.linear_sparsity[14] == pytest.approx(60.0)  # fractions became percent
    assert set(history.stages) == {"sparsify", "mask"}
    # a fractional end epoch and an epoch past the log are extrapolated with the steps per epoch
    assert training_history(logs, (0.5, 7)).warmup_steps == (2.5, 35)


def test_sparsity_table_variants():
    flat = {
        "layers": [{"name": "a", "shape": [4, 4], "sparsity_before": 0.5, "sparsity_after": 0.25}],
        "blocks": [{"block": 0, "heads_kept": 3, "heads_total": 4, "ffn_kept": 10, "ffn_total": 16}],
    }
    nested = {
        "before": {"layers": [{"name": "a", "shape": [4, 4], "sparsity": 0.5}]},
        "after": {"layers": [{"name": "a", "sparsity": 0.25}]},
        "blocks": {"0": {"attention_heads": {"kept": 3, "total": 4}, "ffn_neurons": [10, 16]}},
    }
    session = {  # what ov_movement.training.session writes
        "layers": [
            {
                "nncf_name": "Bert/NNCFLinear[query]",
                "module": "a",
                "weight_shape": [4, 4],
                "before": {"weight_sparsity": 0.5},
                "after": {"weight_sparsity": 0.25, "bias_sparsity": 0.0},
            }
        ],
        "blocks": [
            {
                "block": "0",
                "attention_heads": {"kept_before": 4, "kept_after": 3, "total": 4},
                "ffn_neurons": {"kept_before": 16, "kept_after": 10, "total": 16},
            }
        ],
    }
    for data in (flat, nested, session, json.loads(json.dumps(flat))):
        layers, blocks = sparsity_table(data)
        assert layers[0].name == "a" and layers[0].shape == [4, 4]
        assert (layers[0].sparsity_before, layers[0].sparsity_after) == (50.0, 25.0)
        assert (blocks[0].block, blocks[0].heads_kept, blocks[0].heads_total) == ("0", 3, 4)
        assert (blocks[0].ffn_kept, blocks[0].ffn_total) == (10, 16)
    assert sparsity_table(None) == ([], [])


def test_layers_are_listed_block_by_block_in_numeric_order():
    """NNCF reports layers in graph order (layer.3 before layer.0, layer.10 before layer.2 as text);
    the report lists blocks 0, 1, 2, ..., 10 and keeps query/key/value order inside a block."""
    names = [
        "bert.encoder.layer.3.attention.self.query",
        "bert.encoder.layer.10.attention.self.query",
        "bert.encoder.layer.0.attention.self.query",
        "bert.encoder.layer.0.attention.self.key",
        "bert.encoder.layer.2.output.dense",
        "bert.encoder.layer.0.attention.self.value",
    ]
    layers, _ = sparsity_table({"layers": [{"name": n, "sparsity_after": 0.5} for n in names]})
    assert [row.name for row in layers] == [
        "bert.encoder.layer.0.attention.self.query",
        "bert.encoder.layer.0.attention.self.key",
        "bert.encoder.layer.0.attention.self.value",
        "bert.encoder.layer.2.output.dense",
        "bert.encoder.layer.3.attention.self.query",
        "bert.encoder.layer.10.attention.self.query",
    ]
