"""The report's PNG plots: the sparsity lifecycle, the kept structure per block, accuracy vs latency.

Figures are saved at a fixed size in pixels (no tight bounding box) so tests and HTML layout can
rely on it. The Agg backend renders without a display (CI, servers).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ov_movement.reporting.sources import BlockRow, TrainingHistory

if TYPE_CHECKING:
    from ov_movement.reporting.sweep import DensePoint
    from ov_movement.reporting.variants import Recommendation, VariantRow

LIFECYCLE_SIZE = (1000, 500)  # pixels
STRUCTURE_SIZE = (1000, 450)
VARIANTS_SIZE = (1000, 550)
SWEEP_SIZE = (1200, 550)
# Variants often share an accuracy (and nearly a latency): staggered labels stay readable.
_LABEL_OFFSETS = (8, -16, 22, -30)
_DPI = 100
_STAGE_COLORS = {"sparsify": "#1f77b4", "mask": "#d62728"}


def _figure(size: tuple[int, int], **subplots_kwargs):
    import matplotlib

    matplotlib.use("Agg", force=True)  # before pyplot: no display on CI machines
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(size[0] / _DPI, size[1] / _DPI), dpi=_DPI, **subplots_kwargs)


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=_DPI, format="png")
    plt.close(fig)
    return path


def plot_sparsity_lifecycle(history: TrainingHistory, path: Path) -> Path:
    """Linear-layer sparsity vs global step, warm-up window shaded, structured masking marked.

    The expected shape: rising through warm-up, a drop at structured masking (masks are resolved
    to whole heads/neurons, which usually un-masks many weights), flat during fine-tuning.
    """
    fig, ax = _figure(LIFECYCLE_SIZE)
    if history.warmup_steps:
        start, end = history.warmup_steps
        ax.axvspan(start, end, color="#ffdd99", alpha=0.5, label="warm-up window")
    previous: tuple[float, float] | None = None
    for stage in dict.fromkeys(history.stages):
        points = [
            (s, v)
            for s, v, st in zip(history.steps, history.linear_sparsity, history.stages, strict=True)
            if st == stage
        ]
        # Start each stage's line at the previous stage's last point, so the drop at structured
        # masking is drawn as a drop rather than a gap between two lines.
        points = ([previous] if previous else []) + points
        ax.plot(
            [p[0] for p in points],
            [p[1] for p in points],
            color=_STAGE_COLORS.get(stage),
            lw=1.8,
            label=f"linear-layer sparsity ({stage or 'training'})",
        )
        previous = points[-1]
    if history.masking_step is not None:
        ax.axvline(history.masking_step, color="black", ls="--", lw=1.2, label="structured masking")
    ax.set_xlabel("training step")
    ax.set_ylabel("linear-layer sparsity (%)")
    top = min(105.0, max(history.linear_sparsity) * 1.15 + 1) if history.linear_sparsity else 100.0
    ax.set_ylim(0, top)
    ax.grid(alpha=0.3)
    thresholds = [
        (s, t) for s, t in zip(history.steps, history.importance_threshold, strict=True) if t is not None
    ]
    if thresholds:  # context for the curve: NNCF's threshold schedule drives the sparsity
        twin = ax.twinx()
        twin.plot(
            [t[0] for t in thresholds],
            [t[1] for t in thresholds],
            color="grey",
            lw=1,
            ls=":",
            label="importance threshold",
        )
        twin.set_ylabel("importance threshold", color="grey")
        handles = ax.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    else:
        handles = ax.get_legend_handles_labels()[0]
    if not history.steps:
        ax.text(0.5, 0.5, "no training log found", ha="center", va="center", transform=ax.transAxes)
    # Below the axes: inside, it would hide the curve wherever sparsity ends up.
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncols=3, fontsize=9)
    ax.set_title("Sparsity lifecycle: warm-up, structured masking, fine-tuning")
    fig.tight_layout()
    return _save(fig, path)


def short_labels(names: Sequence[str]) -> list[str]:
    """Block paths without their common prefix (`bert.encoder.layer.3` -> `3`) for tick labels."""
    parts = [name.split(".") for name in names]
    if len(parts) < 2:
        return [p[-1] for p in parts]
    common = 0
    while all(len(p) > common + 1 for p in parts) and len({p[common] for p in parts}) == 1:
        common += 1
    return [".".join(p[common:]) for p in parts]


def plot_kept_structure(blocks: Sequence[BlockRow], path: Path) -> Path:
    """Per transformer block: attention heads kept and FFN neurons kept (bars over the total)."""
    fig, (heads_ax, ffn_ax) = _figure(STRUCTURE_SIZE, ncols=2)
    labels = short_labels([b.block for b in blocks])
    positions = range(len(blocks))
    for ax, kept, total, title, color in (
        (
            heads_ax,
            [b.heads_kept for b in blocks],
            [b.heads_total for b in blocks],
            "attention heads kept",
            "#1f77b4",
        ),
        (ffn_ax, [b.ffn_kept for b in blocks], [b.ffn_total for b in blocks], "FFN neurons kept", "#2ca02c"),
    ):
        totals = [t or 0 for t in total]
        ax.bar(positions, totals, color="#dddddd", label="total")
        ax.bar(positions, [k or 0 for k in kept], color=color, label="kept")
        for x, k, t in zip(positions, kept, totals, strict=True):
            if k is not None:
                ax.text(x, max(k, 0), f"{k}/{t}" if t else str(k), ha="center", va="bottom", fontsize=8)
        ax.set_xticks(list(positions), labels)
        ax.set_xlabel("transformer block")
        ax.set_title(title)
        # Headroom above the tallest bar keeps the legend and the k/t labels off the bars.
        ax.set_ylim(0, max([*totals, *(k or 0 for k in kept), 1]) * 1.25)
        ax.legend(loc="upper right", ncols=2, fontsize=8)
        if not blocks:
            ax.text(0.5, 0.5, "no sparsity table found", ha="center", va="center", transform=ax.transAxes)
    fig.tight_layout()
    return _save(fig, path)


def plot_accuracy_latency(
    rows: Sequence[VariantRow],
    front: Sequence[VariantRow],
    recommendation: Recommendation | None,
    path: Path,
) -> Path:
    """Each variant at (median latency, eval accuracy) with its latency range as a bar, the Pareto
    front joined, the reference accuracy (dense fine-tuned baseline) and the accepted floor marked."""
    fig, ax = _figure(VARIANTS_SIZE)
    points = [r for r in rows if r.accuracy is not None and r.latency_ms is not None]
    chosen = recommendation.variant.name if recommendation and recommendation.variant else None
    for index, row in enumerate(points):
        latency = row.latency or {}
        ax.errorbar(
            row.latency_ms,
            100 * row.accuracy,
            xerr=[
                [row.latency_ms - latency.get("min", row.latency_ms)],
                [latency.get("max", row.latency_ms) - row.latency_ms],
            ],
            fmt="o",
            color="#d62728" if row.name == chosen else "#1f77b4",
            ms=9 if row.name == chosen else 6,
            capsize=3,
        )
        text = row.label + (" (recommended)" if row.name == chosen else "")
        ax.annotate(
            text,
            (row.latency_ms, 100 * row.accuracy),
            textcoords="offset points",
            xytext=(6, _LABEL_OFFSETS[index % len(_LABEL_OFFSETS)]),
            fontsize=9,
        )
    if len(front) > 1:
        ax.plot(
            [r.latency_ms for r in front],
            [100 * r.accuracy for r in front],
            color="#2ca02c",
            lw=1.2,
            ls="-",
            label="Pareto front",
        )
    if recommendation:
        ref = 100 * recommendation.reference_accuracy
        ax.axhline(ref, color="black", ls="--", lw=1, label=f"{recommendation.reference_label} ({ref:.2f}%)")
        floor = ref - 100 * recommendation.max_drop
        ax.axhline(
            floor,
            color="grey",
            ls=":",
            lw=1,
            label=f"accepted floor (-{100 * recommendation.max_drop:.2f} points)",
        )
    if not points:
        ax.text(0.5, 0.5, "no evaluated variants", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("latency, median over interleaved rounds (ms; bars: min-max)")
    ax.set_ylabel("eval accuracy (%)")
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="lower right", fontsize=9)
    ax.set_title("Accuracy vs latency of every model variant (up and left is better)")
    fig.tight_layout()
    return _save(fig, path)


def plot_sweep_pareto(
    points: Sequence[tuple[str, VariantRow]], dense: DensePoint | None, path: Path, title: str = "Sweep"
) -> Path:
    """Two panels, accuracy of each variant's pruned IR vs its latency and vs its `.bin` size: one
    point per variant (latency range as a bar), the non-dominated points joined, the dense baseline
    marked (a star; its accuracy also as a dashed line)."""
    from ov_movement.reporting.variants import pareto_front

    fig, axes = _figure(SWEEP_SIZE, ncols=2)
    rows = [row for _, row in points]
    names = {id(row): name for name, row in points}
    panels = (
        (axes[0], lambda r: r.latency_ms, "latency, median over interleaved rounds (ms; bars: min-max)", 1.0),
        (axes[1], lambda r: r.bin_bytes, ".bin size (MB)", 1e-6),
    )
    for ax, cost, xlabel, scale in panels:
        shown = [r for r in rows if r.accuracy is not None and cost(r) is not None]
        for index, row in enumerate(shown):
            x = cost(row) * scale
            spread = (row.latency or {}) if ax is axes[0] else {}  # sizes have no spread
            xerr = [[x - spread.get("min", x)], [spread.get("max", x) - x]] if spread else None
            ax.errorbar(x, 100 * row.accuracy, xerr=xerr, fmt="o", color="#1f77b4", ms=6, capsize=3)
            ax.annotate(
                names[id(row)],
                (x, 100 * row.accuracy),
                textcoords="offset points",
                xytext=(6, _LABEL_OFFSETS[index % len(_LABEL_OFFSETS)]),
                fontsize=8,
            )
        front = pareto_front(shown, cost)
        if len(front) > 1:
            xs = [cost(r) * scale for r in front]
            ax.plot(xs, [100 * r.accuracy for r in front], color="#2ca02c", lw=1.2, label="Pareto front")
        dense_x = None if dense is None else (dense.latency_ms if ax is axes[0] else dense.bin_bytes)
        if dense is not None and dense.accuracy is not None:
            ax.axhline(100 * dense.accuracy, color="black", ls="--", lw=1, label=f"{dense.label}")
            if dense_x is not None:
                ax.plot(
                    dense_x * scale, 100 * dense.accuracy, "*", color="black", ms=14, label="dense baseline"
                )
        if not shown:
            ax.text(0.5, 0.5, "no evaluated variants", ha="center", va="center", transform=ax.transAxes)
        ax.margins(x=0.25, y=0.1)  # room for the labels right of the points
        ax.set_xlabel(xlabel)
        ax.set_ylabel("eval accuracy of the pruned IR (%)")
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="best", fontsize=8)
    fig.suptitle(f"{title}: accuracy vs latency and size, one point per variant (up and left is better)")
    fig.tight_layout()
    return _save(fig, path)


__all__ = [
    "SWEEP_SIZE",
    "plot_sweep_pareto",
    "LIFECYCLE_SIZE",
    "STRUCTURE_SIZE",
    "VARIANTS_SIZE",
    "plot_accuracy_latency",
    "plot_kept_structure",
    "plot_sparsity_lifecycle",
    "short_labels",
]
