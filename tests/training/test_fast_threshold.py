"""The fast threshold clamp must change nothing but speed: same quantile, same masks, same training."""

from __future__ import annotations

import pytest
import torch

from ov_movement.training import fast_threshold
from ov_movement.training.nncf_setup import ensure_nncf
from tests.stages.in_process import assert_same_masks, read_log, run_stage
from tests.tiny import tiny_config


def _inputs():
    return fast_threshold.probe_inputs()


@pytest.mark.parametrize("q", fast_threshold.PROBE_QUANTILES)
def test_exact_quantile_is_bit_identical_to_torch_quantile_where_the_clamp_is_installed(q):
    """Exactness is a property of the torch release: where it holds, the fast clamp is installed."""
    ensure_nncf()
    identical = all(torch.equal(fast_threshold.exact_quantile(v, q), torch.quantile(v, q)) for v in _inputs())
    if fast_threshold.quantile_mismatch() is None:
        assert identical
    assert (fast_threshold.quantile_mismatch() is None) == fast_threshold.install()


def test_a_torch_whose_quantile_differs_keeps_nncfs_clamp_and_says_so(monkeypatch, caplog):
    """As on torch 2.15 (torch.quantile ~1e-10 off exact_quantile): NNCF's function stays, a warning."""
    ensure_nncf()
    from nncf.experimental.torch.sparsity.movement import functions, layers

    real = torch.quantile
    monkeypatch.setattr(torch, "quantile", lambda values, q, **kw: real(values, q, **kw) + 1e-10)
    try:
        fast_threshold.uninstall()
        with caplog.at_level("WARNING", logger=fast_threshold.__name__):
            assert fast_threshold.install() is False
        assert layers.binary_mask_by_threshold is functions.binary_mask_by_threshold
        assert "not bit-identical" in caplog.text and torch.__version__ in caplog.text
    finally:
        monkeypatch.undo()
        fast_threshold.install()


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
