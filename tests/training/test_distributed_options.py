"""`training.distributed` and the command-line options over it: user errors, and what the fingerprint
of a training stage holds (the process layout, not where the machines meet)."""

from __future__ import annotations

import pytest

from ov_movement.errors import ConfigError
from ov_movement.runner.fingerprint import stage_inputs
from ov_movement.stages import STAGES
from ov_movement.training.distributed import Group, settings, with_options
from tests.tiny import tiny_config


def _inputs(config, stage: str = "sparsify") -> dict:
    return stage_inputs(STAGES[stage], config.model_dump(mode="json", by_alias=False, exclude_none=True))


def test_one_process_is_todays_config_and_fingerprint():
    config = tiny_config()
    for options in ({}, {"nproc_per_node": 1}, {"nproc_per_node": 1, "nnodes": 1}):
        same = with_options(config, **options)
        assert same.training.distributed is None
        assert _inputs(same) == _inputs(config)
    assert settings(config) is None


def test_the_number_of_processes_is_in_the_fingerprint_where_the_nodes_meet_is_not():
    config = tiny_config()
    two = with_options(config, nproc_per_node=2)
    assert settings(two).world_size == 2 and settings(two).backend == "gloo"
    assert _inputs(two) != _inputs(config)
    node0 = with_options(config, nnodes=2, node_rank=0, rdzv_endpoint="10.0.0.1:29400", nproc_per_node=1)
    node1 = with_options(config, nnodes=2, node_rank=1, rdzv_endpoint="node0.local:29500", nproc_per_node=1)
    for stage in ("sparsify", "mask", "baseline"):
        assert _inputs(node0, stage) == _inputs(node1, stage)


@pytest.mark.parametrize(
    ("options", "location", "words"),
    [
        ({"nproc_per_node": 3}, "training.batch_size", "divide evenly over 3 processes"),
        ({"nnodes": 2, "nproc_per_node": 1}, "training.distributed.rdzv_endpoint", "needed with nnodes > 1"),
        (
            {"nnodes": 2, "node_rank": 2, "rdzv_endpoint": "h:1", "nproc_per_node": 1},
            "training.distributed.node_rank",
            "not below nnodes",
        ),
        ({"nproc_per_node": 2, "rdzv_endpoint": "nohost"}, "training.distributed.rdzv_endpoint", "HOST:PORT"),
        ({"nproc_per_node": 0}, "training.distributed.nproc_per_node", ""),
    ],
)
def test_a_layout_that_cannot_run_is_a_config_error_with_its_location(options, location, words):
    with pytest.raises(ConfigError) as caught:
        with_options(tiny_config(), **options)
    assert location in str(caught.value) and words in str(caught.value)


def test_a_rank_takes_a_strided_share_of_the_global_batch_weighted_to_the_global_mean():
    batch = list(range(7))
    shares = [Group(rank, 2, rank).shard(batch) for rank in (0, 1)]
    assert [indices for indices, _ in shares] == [[0, 2, 4, 6], [1, 3, 5]]
    # A rank's loss is the mean over its examples, DDP averages over the ranks: with the weights, every
    # example counts 1/7, as in one process's mean over the global batch
    for indices, weight in shares:
        assert weight / len(indices) / 2 == pytest.approx(1 / 7)
    lonely = Group(1, 2, 1).shard([5])  # a last batch smaller than the world: one example, weight 0
    assert lonely == ([5], 0.0)


def test_validate_reports_a_global_batch_that_does_not_split(tmp_path, capsys):
    from ov_movement.cli import main

    file = tmp_path / "p.yaml"
    file.write_text("training: {batch_size: 30, distributed: {nproc_per_node: 4}}\n")
    assert main(["validate", str(file)]) == 2
    assert (
        "training.batch_size: 30 is the global batch; it must divide evenly over 4" in capsys.readouterr().err
    )
