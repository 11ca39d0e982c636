"""The fast threshold clamp must change nothing but speed: same quantile, same masks, same training."""

from __future__ import annotations

import pytest
import torch

from ov_movement.training import fast_threshold
from ov_movement.training.nncf_setup import ensure_nncf
from tests.training.tiny import assert_same_masks, read_log, run_stage, tiny_config


def _inputs():
    generator = torch.Generator().manual_seed(0)
    yield torch.randn(1, generator=generator)
    yield torch.randn(7, generator=generator)
    yield torch.randn(384, 1536, generator=generator)
    yield torch.randint(0, 4, (1000,), generator=generator).float()  # many ties
    # NNCF's expanded block importance: each 32x32 block's value repeated 1024 times.
    yield torch.randn(12, 12, generator=generator).repeat_interleave(32, 0).repeat_interleave(32, 1)
    for size in torch.randint(2, 5000, (40,), generator=generator).tolist():
        yield torch.randn(size, generator=generator) * 1e-3


@pytest.mark.parametrize("q", [0.98, 0.0, 1.0, 0.5, 0.123])
def test_exact_quantile_is_bit_identical_to_torch_quantile(q):
    for values in _inputs():
        assert torch.equal(fast_threshold.exact_quantile(values, q), torch.quantile(values, q)), values.shape


def test_replacement_gives_nncfs_masks_and_gradients():
    ensure_nncf()
    from nncf.experimental.torch.sparsity.movement import functions

    original = functions.binary_mask_by_threshold.__wrapped__
    fast = fast_threshold.make_replacement(original)
    for values in _inputs():
        for threshold in (-10.0, 0.0, 0.5, 10.0):  # 10 is above every 98th percentile: the clamp decides
            a = values.clone().requires_grad_()
            b = values.clone().requires_grad_()
            mask_a, mask_b = original(a, threshold=threshold), fast(b, threshold=threshold)
            assert torch.equal(mask_a, mask_b)
            (mask_a * torch.arange(values.numel()).reshape(values.shape)).sum().backward()
            (mask_b * torch.arange(values.numel()).reshape(values.shape)).sum().backward()
            assert torch.equal(a.grad, b.grad)


def test_nan_importance_takes_nncfs_path():
    ensure_nncf()
    from nncf.experimental.torch.sparsity.movement import functions

    calls = []

    def original(tensor, threshold=0.5, max_percentile=0.98):
        calls.append(threshold)
        return functions.binary_mask_by_threshold.__wrapped__(tensor, threshold, max_percentile)

    fast = fast_threshold.make_replacement(original)
    fast(torch.tensor([1.0, float("nan"), 2.0]), threshold=0.5)
    fast(torch.tensor([1.0, 3.0, 2.0]), threshold=0.5)
    assert calls == [0.5]


def test_install_is_idempotent_and_reversible():
    ensure_nncf()
    from nncf.experimental.torch.sparsity.movement import functions, layers

    try:
        assert fast_threshold.install() and fast_threshold.install()
        assert layers.binary_mask_by_threshold._ov_movement_fast
        fast_threshold.uninstall()
        assert layers.binary_mask_by_threshold is functions.binary_mask_by_threshold
    finally:
        fast_threshold.install()


def test_training_with_the_fast_clamp_equals_training_with_nncfs(tmp_path, monkeypatch):
    """The same tiny sparsify run, both ways: identical masks and identical logged losses."""
    config = tiny_config()
    run_stage("sparsify", config, tmp_path / "fast")
    try:
        monkeypatch.setattr(fast_threshold, "install", lambda: False)
        fast_threshold.uninstall()
        run_stage("sparsify", config, tmp_path / "nncf")
    finally:
        monkeypatch.undo()
        fast_threshold.install()
    assert_same_masks(
        tmp_path / "fast" / "sparsify" / "checkpoint", tmp_path / "nncf" / "sparsify" / "checkpoint"
    )
    assert read_log(tmp_path / "fast" / "sparsify" / "train_log.jsonl") == read_log(
        tmp_path / "nncf" / "sparsify" / "train_log.jsonl"
    )
