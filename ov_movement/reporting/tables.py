"""The report's tables as plain rows of strings, rendered to Markdown here and to the terminal by the CLI."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ov_movement.benchmarking.variants import label
from ov_movement.reporting import literal
from ov_movement.reporting.collect import (
    BASELINE_EVAL,
    BENCHMARK,
    FINAL_EVAL,
    WARMUP_EVAL,
    ReportData,
)
from ov_movement.reporting.literal import Code, Link, Spans, join
from ov_movement.reporting.sources import BlockRow, LayerRow

NA = "—"


@dataclass
class Table:
    """Cells are plain text, or `literal.Code`/`Spans` for config values shown verbatim; every
    renderer shows their exact characters (see reporting/literal.py)."""

    title: str
    header: list[str]
    rows: list[list[str]]


def source(stage: str, name: str) -> Link:
    """A stage output, linked as the runner's views lay them out: report/ sits next to <stage>/."""
    return Link(f"{stage}/{name}", f"../{stage}/{name}")


def _num(value: Any, digits: int = 2, suffix: str = "") -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return NA
    return f"{value:,.{digits}f}{suffix}"


def _pct(value: Any, digits: int = 1) -> str:
    return _num(value * 100 if isinstance(value, int | float) else None, digits, "%")


def _spread(spread: Mapping[str, float] | None, digits: int = 2, suffix: str = "") -> str:
    if not spread:
        return NA
    return " / ".join(_num(spread.get(k), digits, suffix) for k in ("min", "median", "max"))


def _kept(kept: int | None, total: int | None) -> str:
    if kept is None:
        return NA
    if not total:
        return str(kept)
    return f"{kept} / {total} ({100 * kept / total:.0f}%)"


def _scopes(scopes: str | Sequence[str] | None) -> Spans:
    return join([Code(scope) for scope in ([scopes] if isinstance(scopes, str) else scopes or [])])


def _structure(entry: Any) -> Spans:
    mode = f"{entry.mode}{entry.sparse_factors or ''}{'' if entry.axis is None else f' axis {entry.axis}'}"
    return Spans(Code(mode), " on ", _scopes(entry.target_scopes))


def config_table(data: ReportData) -> Table:
    config = data.config
    model = config.model
    if model.config:
        inline = model.config
        described = Spans(
            "inline ",
            Code(str(inline.get("model_type", "?"))),
            f" config ({inline.get('num_hidden_layers', '?')} layers, hidden {inline.get('hidden_size', '?')})",
        )
    else:
        described = Code(str(model.name_or_path))
    params = config.movement.params
    # NNCF picks the initial threshold from the importance statistics when none is given.
    init_threshold = (
        "auto" if params.init_importance_threshold is None else f"{params.init_importance_threshold:g}"
    )
    structures = join([_structure(s) for s in config.movement.sparse_structure_by_scopes], "; ")
    data_path = [" ", Code(str(config.data.path))] if config.data.path else []
    rows = [
        ["model", Spans(described, ", task ", Code(model.task))],
        [
            "data",
            Spans(Code(config.data.source), *data_path, f", max_seq_length {config.data.max_seq_length}"),
        ],
        [
            "training",
            f"{config.training.epochs} epochs, batch {config.training.batch_size}, lr {config.training.learning_rate:g}",
        ],
        ["warm-up epochs", f"{params.warmup_start_epoch:g} → {params.warmup_end_epoch:g}"],
        ["importance regularization factor", f"{params.importance_regularization_factor:g}"],
        ["structured masking", "enabled" if params.enable_structured_masking else "disabled"],
        [
            "importance threshold",
            f"init {init_threshold}, final {params.final_importance_threshold:g}, power {params.power:g}",
        ],
        ["sparse structures", structures or "NNCF default (fine)"],
        ["ignored scopes", _scopes(config.movement.ignored_scopes) or NA],
    ]
    if config.movement.preset is not None:
        rows.append(["scope preset", Code(config.movement.preset)])
    return Table("Configuration", ["setting", "value"], rows)


def accuracy_table(data: ReportData) -> Table:
    accuracy = (data.benchmark or {}).get("accuracy", {})
    ir = source(*BENCHMARK)
    entries = [
        ("torch, dense fine-tuning (baseline)", data.baseline_eval, "f32", source(*BASELINE_EVAL)),
        ("torch, end of warm-up (sparsify)", data.warmup_eval, "f32", source(*WARMUP_EVAL)),
        ("torch, sparse final (mask)", data.final_eval, "f32", source(*FINAL_EVAL)),
        ("dense IR (OpenVINO)", accuracy.get("dense"), None, ir),
        ("pruned IR (OpenVINO)", accuracy.get("pruned"), None, ir),
    ]
    entries += [  # INT8 and any other IR variant, named as in the variants table
        (f"{label(name)} IR (OpenVINO)", metrics, None, ir)
        for name, metrics in accuracy.items()
        if name not in ("torch", "dense", "pruned")
    ]
    rows = []
    for name, metrics, precision, origin in entries:
        if not metrics:
            continue
        agreement = metrics.get("agreement")
        agreement_text = (
            f"{_pct(agreement, 2)} with {metrics.get('agreement_with')}" if agreement is not None else NA
        )
        rows.append(
            [
                name,
                _pct(metrics.get("accuracy"), 2),
                _num(metrics.get("f1"), 4),
                str(metrics.get("samples", NA)),
                agreement_text,
                metrics.get("precision") or precision or NA,
                origin,
            ]
        )
    # Question answering reports its exact match (answer start and end both right) as `accuracy`.
    spans = any(metrics and "exact_match" in metrics for _, metrics, _, _ in entries)
    header = [
        "model",
        "exact match" if spans else "accuracy",
        "F1",
        "samples",
        "same predictions",
        "precision",
    ]
    return Table("Accuracy (eval split)", [*header, "source"], rows)


def structure_table(blocks: Sequence[BlockRow]) -> Table:
    rows = [[b.block, _kept(b.heads_kept, b.heads_total), _kept(b.ffn_kept, b.ffn_total)] for b in blocks]
    return Table(
        "Kept structure per transformer block", ["block", "attention heads kept", "FFN neurons kept"], rows
    )


def layer_table(layers: Sequence[LayerRow]) -> Table:
    rows = [
        [
            layer.name,
            "×".join(map(str, layer.shape)) if layer.shape else NA,
            _num(layer.sparsity_before, 1, "%"),
            _num(layer.sparsity_after, 1, "%"),
        ]
        for layer in layers
    ]
    return Table("Linear-layer sparsity", ["layer", "weight shape", "before masking", "after masking"], rows)


def size_table(stats: Mapping[str, Any] | None) -> Table:
    rows = []
    if stats:
        dense, pruned = stats.get("dense", {}), stats.get("pruned", {})
        for label, key, scale, digits in (
            (".bin size (MB)", "bin_bytes", 1e-6, 2),
            ("parameters (M)", "parameters", 1e-6, 3),
            ("linear FLOPs per token (M)", "linear_flops_per_token", 1e-6, 2),
        ):
            d, p = dense.get(key), pruned.get(key)
            ratio = p / d if isinstance(d, int | float) and isinstance(p, int | float) and d else None
            rows.append(
                [
                    label,
                    _num(d * scale if d is not None else None, digits),
                    _num(p * scale if p is not None else None, digits),
                    _pct(ratio),
                ]
            )
        # Whole pipeline (torch-side shrinking + OpenVINO's pass), then the pass alone for contrast.
        for prefix, key in (
            ("", "removal_efficiency"),
            (" by OpenVINO's pass alone", "removal_efficiency_openvino_only"),
        ):
            efficiency = stats.get(key) or {}
            for label, kind in (
                ("masked heads removed", "attention_heads"),
                ("masked FFN neurons removed", "ffn_neurons"),
            ):
                if efficiency.get(kind) is not None:  # None: nothing of that kind was masked
                    rows.append([label + prefix, NA, _pct(efficiency[kind]), NA])
    return Table("Model size: dense vs pruned IR", ["", "dense", "pruned", "pruned / dense"], rows)


def benchmark_table(benchmark: Mapping[str, Any] | None) -> Table:
    """One row per model; speedup (measured) and the FLOP bound in adjacent columns."""
    rows = []
    if benchmark:
        speedups = benchmark.get("speedup", {})
        bound = benchmark.get("flop_bound_speedup")
        for name, model in benchmark.get("models", {}).items():
            latency = model.get("latency_median_ms", {})
            speedup = speedups.get(name, {}).get("latency")
            verdict = speedups.get(name, {}).get("noise", {}).get("latency") or {}
            noisy = " (noisy)" if verdict.get("noisy") else ""  # the headline says why
            rows.append(
                [
                    name,
                    model.get("input_shape") or NA,
                    _num(latency.get("median"), 3),
                    f"{_num(latency.get('min'), 3)} – {_num(latency.get('max'), 3)}",
                    _num(model.get("throughput_fps", {}).get("median"), 1),
                    "1 (baseline)" if name == benchmark.get("baseline") else _spread(speedup, 2, "x") + noisy,
                    _num(bound, 2, "x") if name == "pruned" else NA,
                ]
            )
    header = [
        "model",
        "input shape",
        "median latency (ms)",
        "latency range (ms)",
        "throughput (FPS)",
        "speedup vs dense (min / median / max)",
        "FLOP bound",
    ]
    return Table("Benchmark (benchmark_app)", header, rows)


def variants_table(data: ReportData) -> Table:
    """Every timed variant: accuracy, weights, latency and speedup over dense FP32 (per round)."""
    from ov_movement.reporting.variants import pareto_front, recommend, variant_rows

    rows = variant_rows(data.benchmark)
    front = {r.name for r in pareto_front(rows)}
    chosen = recommend(rows, data.baseline_eval, data.config.report.max_accuracy_drop)
    recommended = chosen.variant.name if chosen and chosen.variant else None
    table_rows = []
    for row in rows:
        latency, speedup = row.latency or {}, row.speedup or {}
        notes = (["recommended"] if row.name == recommended else []) + (
            ["Pareto"] if row.name in front else []
        )
        table_rows.append(
            [
                row.label,
                _pct(row.accuracy, 2),
                _num(row.bin_bytes / 1e6 if row.bin_bytes is not None else None, 2),
                _with_range(latency, 3),
                _with_range(speedup, 2, "x", noisy=row.speedup_noisy),
                ", ".join(notes),
            ]
        )
    spans = "exact_match" in (data.final_eval or {})
    header = [
        "variant",
        "exact match" if spans else "accuracy",
        ".bin MB",
        "latency (ms), median [min–max]",
        "× dense FP32, median [min–max]",
        "",
    ]
    return Table("Model variants", header, table_rows)


def _with_range(
    spread: Mapping[str, float] | None, digits: int, suffix: str = "", noisy: bool = False
) -> str:
    """`median [min–max]`; NOISY instead of the median when the rounds disagree (no figure is claimed)."""
    if not spread:
        return NA
    low, high = _num(spread.get("min"), digits), _num(spread.get("max"), digits)
    return f"{'NOISY' if noisy else _num(spread.get('median'), digits, suffix)} [{low}–{high}]"


def machine_table(benchmark: Mapping[str, Any] | None) -> Table:
    rows = []
    if benchmark:
        machine, settings = benchmark.get("machine", {}), benchmark.get("settings", {})
        runtimes = [m.get("runtime", {}) for m in benchmark.get("models", {}).values()]

        def used(key: str) -> str:  # what the plugin reported, which may differ from the request
            return ", ".join(sorted({str(r[key]) for r in runtimes if key in r})) or NA

        rows = [
            ["CPU", str(machine.get("cpu", NA))],
            [
                "cores (logical / usable)",
                f"{machine.get('logical_cores', NA)} / {machine.get('usable_cores', NA)}",
            ],
            ["ISA", ", ".join(machine.get("isa", [])) or NA],
            [
                "inference threads (requested → used)",
                f"{settings.get('nthreads') or 'auto'} → {used('nthreads')}",
            ],
            [
                "inference precision (requested → used)",
                f"{settings.get('inference_precision', NA)} → {used('inference_precision')}",
            ],
            [
                "device / hint / api",
                f"{settings.get('device', NA)} / {settings.get('hint', NA)} / {settings.get('api') or 'auto'}",
            ],
            ["timed", used("measured")],
            [
                "time per run × interleaved repeats",
                f"{settings.get('time_s', NA)} s × {settings.get('repeats', NA)}",
            ],
            ["OpenVINO", str(machine.get("openvino", NA))],
            ["platform", str(machine.get("platform", NA))],
        ]
    return Table("Machine", ["", "value"], rows)


def summary_tables(data: ReportData) -> list[Table]:
    """The tables every form of the report shows, in its order: `ov-movement report` prints them,
    the report stage writes them to tables.json (report.md renders each in its own section)."""
    return [
        variants_table(data),
        accuracy_table(data),
        structure_table(data.blocks),
        size_table(data.stats),
        benchmark_table(data.benchmark),
        machine_table(data.benchmark),
    ]


def _cell(text: str) -> str:
    return literal.to_markdown(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(table: Table) -> str:
    lines = ["| " + " | ".join(map(_cell, table.header)) + " |", "|" + "---|" * len(table.header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in table.rows]
    return "\n".join(lines)


_LINK = re.compile(r"(?<!\\)\[(`+[^`].*?`+)\]\(<[^>]*>\)")  # literal.Link: a code span, linked
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")


def _unescape(cell: str) -> str:
    """The text a Markdown viewer shows for a cell `to_markdown` wrote: links, code spans, escapes."""
    cell = _LINK.sub(r"\1", cell)
    out, position = [], 0
    for match in re.finditer(r"(?<!\\)(`+)(.+?)(?<!`)\1(?!`)", cell):
        out.append(_ESCAPED.sub(r"\1", cell[position : match.start()]))
        content = match.group(2)
        padded = content.startswith(" ") and content.endswith(" ") and content.strip()
        out.append(content[1:-1] if padded else content)
        position = match.end()
    out.append(_ESCAPED.sub(r"\1", cell[position:]))
    return "".join(out)


def parse_markdown_table(text: str) -> list[dict[str, str]]:
    """Rows of the first Markdown table in `text` as {header: cell text}; the inverse of `to_markdown`."""
    lines = [line.strip() for line in text.splitlines()]
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))

    def cells(line: str) -> list[str]:
        escaped = line.replace("\\|", "\0").strip().removeprefix("|").removesuffix("|")
        return [_unescape(part.strip().replace("\0", "|")) for part in escaped.split("|")]

    header = cells(lines[start])
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append(dict(zip(header, cells(line), strict=False)))
    return rows


__all__ = [
    "NA",
    "accuracy_table",
    "benchmark_table",
    "config_table",
    "layer_table",
    "machine_table",
    "parse_markdown_table",
    "size_table",
    "source",
    "structure_table",
    "summary_tables",
    "Table",
    "to_markdown",
    "variants_table",
]
