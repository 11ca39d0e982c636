"""Pieces of the training loop that need no model."""

from __future__ import annotations

import json

from ov_movement.training.loop import JsonlLog, epoch_batches, lr_multiplier, steps_per_epoch


def test_steps_per_epoch_with_and_without_cap():
    assert steps_per_epoch(77, 8, None) == 10
    assert steps_per_epoch(77, 8, 4) == 4


def test_epoch_batches_depend_only_on_seed_and_epoch():
    first = epoch_batches(20, 6, seed=1, epoch=3, limit=10)
    assert first == epoch_batches(20, 6, seed=1, epoch=3, limit=10)
    assert first != epoch_batches(20, 6, seed=1, epoch=4, limit=10)
    assert sorted(i for batch in first for i in batch) == list(range(20))
    assert len(epoch_batches(20, 6, seed=1, epoch=3, limit=2)) == 2


def test_lr_schedule_is_constant_through_warmup_then_decays():
    factor = lr_multiplier(warmup_steps=4, decay_start=12, decay_end=20)
    assert [factor(s) for s in (0, 2, 4, 11, 12)] == [0.0, 0.5, 1.0, 1.0, 1.0]
    assert factor(16) == 0.5 and factor(20) == 0.0
    sparsify_only = lr_multiplier(warmup_steps=0, decay_start=12, decay_end=None)
    assert sparsify_only(100) == 1.0  # sparsify never depends on training.epochs


def test_jsonl_log_truncates_on_resume(tmp_path):
    log = JsonlLog(tmp_path / "log.jsonl")
    for step in range(1, 5):
        log.write({"step": step})
    log.write({"event": "structured_masking", "step": 4})
    with log.path.open("a") as handle:
        handle.write('{"step": 5, "lo')
    log.keep_before(4)
    assert [json.loads(line) for line in log.path.read_text().splitlines()] == [
        {"step": 1},
        {"step": 2},
        {"step": 3},
    ]
