"""A faster, bit-identical stand-in for NNCF 2.19's movement-sparsity threshold clamp.

Why: every training forward, each sparsified linear layer calls NNCF's
`binary_mask_by_threshold(importance, threshold, max_percentile=0.98)`, which caps the threshold at
the 98th percentile of the *expanded* importance (one value per weight) with `torch.quantile`, a
full sort. Profiling the default pipeline (MiniLM, batch 16, seq 64, 2 CPU cores) put `aten::sort`
at 22% of a sparsify step: 72 sorts of up to 590k elements per step. The quantile needs only two
order statistics, which `torch.kthvalue` selects without sorting (4-5x faster here).

The replacement reproduces `torch.quantile`'s linear interpolation step by step in the input's
dtype (rank = q * (n - 1), lower/upper order statistic, `lerp` by the fractional part), so the
threshold, hence every mask and every training result, is bit-identical (tests compare against
both `torch.quantile` and NNCF's original on the same inputs). Inputs with NaN or on a non-CPU
device (where the sort is fast and this was not measured) take NNCF's original path.

Installed by `install()` (idempotent) before models are compressed, only on the NNCF version whose
function we read (2.19.x), and only where exactness is proven for the running torch: `install()`
first compares `exact_quantile` with `torch.quantile` on a fixed set of probes (the shapes and ties
movement sparsity produces, all five quantiles the tests use). torch 2.13 passes; on torch 2.15
`torch.quantile` differs by ~1e-10 on some inputs, so there NNCF's own function stays and the log
says so (same results as NNCF, just slower). Any other NNCF version also keeps NNCF's own.
"""

from __future__ import annotations

import logging
from typing import Any

import torch

log = logging.getLogger(__name__)

_FUNCTION = "binary_mask_by_threshold"
_SUPPORTED_NNCF = "2.19."


def exact_quantile(values: torch.Tensor, q: float) -> torch.Tensor:
    """`torch.quantile(values, q)` (linear interpolation, all elements) via two selections."""
    flat = values.detach().reshape(-1)
    count = flat.numel()
    # As ATen computes it: q as a scalar tensor of the input dtype, times the last index.
    rank = torch.scalar_tensor(q, dtype=flat.dtype) * (count - 1)
    below = int(rank.to(torch.long))
    above = int(torch.ceil(rank).to(torch.long))
    low = torch.kthvalue(flat, below + 1).values  # kthvalue is 1-based
    high = low if above == below else torch.kthvalue(flat, above + 1).values
    return torch.lerp(low, high, rank - below)


def probe_inputs() -> list[torch.Tensor]:
    """Deterministic inputs covering what the clamp sees: tiny, odd, large, ties, expanded blocks."""
    generator = torch.Generator().manual_seed(0)
    probes = [
        torch.randn(1, generator=generator),
        torch.randn(7, generator=generator),
        torch.randn(384, 1536, generator=generator),
        torch.randint(0, 4, (1000,), generator=generator).float(),  # many ties
        # NNCF's expanded block importance: each 32x32 block's value repeated 1024 times.
        torch.randn(12, 12, generator=generator).repeat_interleave(32, 0).repeat_interleave(32, 1),
    ]
    for size in torch.randint(2, 5000, (40,), generator=generator).tolist():
        probes.append(torch.randn(size, generator=generator) * 1e-3)
    return probes


PROBE_QUANTILES = (0.98, 0.0, 1.0, 0.5, 0.123)


def quantile_mismatch() -> float | None:
    """None when `exact_quantile` equals `torch.quantile` bit for bit on every probe with this torch;
    else the largest absolute difference found."""
    worst = None
    for values in probe_inputs():
        for q in PROBE_QUANTILES:
            ours, theirs = exact_quantile(values, q), torch.quantile(values, q)
            if not torch.equal(ours, theirs):
                diff = float((ours.double() - theirs.double()).abs())
                worst = diff if worst is None else max(worst, diff)
    return worst


def _fast_path(values: torch.Tensor) -> bool:
    return values.device.type == "cpu" and values.numel() > 0 and not bool(torch.isnan(values).any())


def make_replacement(original: Any) -> Any:
    """NNCF's function with the quantile computed by `exact_quantile` where that is exact."""
    from nncf.torch.functions import STThreshold

    def binary_mask_by_threshold(
        input_tensor: torch.Tensor, threshold: float = 0.5, max_percentile: float = 0.98
    ) -> torch.Tensor:
        if not _fast_path(input_tensor):
            return original(input_tensor, threshold=threshold, max_percentile=max_percentile)
        with torch.no_grad():
            max_threshold = exact_quantile(input_tensor, max_percentile).item()
        return STThreshold.apply(input_tensor, min(threshold, max_threshold))

    binary_mask_by_threshold.__doc__ = original.__doc__
    binary_mask_by_threshold._ov_movement_fast = True  # type: ignore[attr-defined]
    binary_mask_by_threshold._ov_movement_original = original  # type: ignore[attr-defined]
    return binary_mask_by_threshold


def install() -> bool:
    """Route NNCF's movement layers through the fast clamp; True when it is (now) in place."""
    import nncf
    from nncf.experimental.torch.sparsity.movement import functions, layers
    from nncf.torch.dynamic_graph.patch_pytorch import register_operator

    current = getattr(layers, _FUNCTION)
    if getattr(current, "_ov_movement_fast", False):
        return True
    if not nncf.__version__.startswith(_SUPPORTED_NNCF):
        log.info(
            "nncf %s: keeping its own %s (the fast clamp was verified on 2.19)", nncf.__version__, _FUNCTION
        )
        return False
    mismatch = quantile_mismatch()
    if mismatch is not None:
        log.warning(
            "torch %s: the fast threshold clamp is not bit-identical to torch.quantile here (max diff "
            "%.3g); keeping NNCF's own %s (same results, slower training steps)",
            torch.__version__,
            mismatch,
            _FUNCTION,
        )
        return False
    # The original as NNCF defined it (unwrapped), so the fallback does not trace twice.
    original = getattr(functions.binary_mask_by_threshold, "__wrapped__", functions.binary_mask_by_threshold)
    # Registered under NNCF's own operator name: traced graphs look exactly as with the original.
    setattr(layers, _FUNCTION, register_operator(name=_FUNCTION)(make_replacement(original)))
    return True


def uninstall() -> None:
    """Put NNCF's function back (tests compare both paths)."""
    from nncf.experimental.torch.sparsity.movement import functions, layers

    setattr(layers, _FUNCTION, functions.binary_mask_by_threshold)


__all__ = [
    "PROBE_QUANTILES",
    "exact_quantile",
    "install",
    "make_replacement",
    "probe_inputs",
    "quantile_mismatch",
    "uninstall",
]
