"""The one-screen summary `ov-movement validate` prints for a valid file, and its warnings.

Warnings are things NNCF accepts that probably do not do what the author meant; they never fail
validation.
"""

from __future__ import annotations

from ov_movement.config.compression import MovementSparsityConfig, SparseStructureEntry
from ov_movement.config.load import LAYOUTS, LoadedPipeline
from ov_movement.config.pipeline import NNCF_IGNORED_KEYS, PipelineConfig
from ov_movement.config.scopes import as_list

_WIDTH = 20  # label column


def _num(value: float) -> str:
    return f"{value:g}"


def _mode(entry: SparseStructureEntry) -> str:
    if entry.mode == "block":
        rows, cols = entry.sparse_factors or (0, 0)
        return f"block {rows}x{cols}"
    if entry.mode == "per_dim":
        return f"per_dim axis {entry.axis} ({'rows' if entry.axis == 0 else 'columns'})"
    return "fine"


def _warm_up(config: PipelineConfig) -> str:
    params = config.movement.params
    start, end, epochs = params.warmup_start_epoch, params.warmup_end_epoch, config.training.epochs
    if float(start).is_integer() and float(end).is_integer():
        last = int(end) - 1
        window = f"epoch {last}" if last == start else f"epochs {_num(start)}-{last}"
        window += f" (start {_num(start)}, end {_num(end)} exclusive)"
    else:
        window = f"from epoch {_num(start)} to {_num(end)}"
    tail = epochs - end
    return f"{window} of {epochs}; then {_num(tail)} fine-tuning epoch{'' if tail == 1 else 's'}"


def warnings(config: PipelineConfig) -> list[str]:
    """Settings that validate but probably do not do what was meant."""
    found = []
    movement, loc = config.movement, config.movement_loc
    params = movement.params
    if params.init_importance_threshold is not None and (
        params.init_importance_threshold >= params.final_importance_threshold
    ):
        found.append(
            f"{loc}.params.init_importance_threshold ({_num(params.init_importance_threshold)}) is "
            f"not below final_importance_threshold ({_num(params.final_importance_threshold)}): "
            "NNCF warns that movement sparsity may not work as expected"
        )
    if config.training.epochs <= params.warmup_end_epoch:
        what = (
            "structured masks are never resolved"
            if params.enable_structured_masking
            else "the masked model is never fine-tuned"
        )
        found.append(f"training.epochs ({config.training.epochs}) leaves no epoch after the warm-up: {what}")
    found += _preset_fit(config)
    if (
        movement.preset is not None
        and movement.preset_block_size is not None
        and ("sparse_structure_by_scopes" not in movement.preset_parts())
    ):
        found.append(
            f"{loc}.preset_block_size has no effect: sparse_structure_by_scopes is given and replaces the "
            "preset's structure"
        )
    ignored = set(as_list(movement.ignored_scopes))
    for index, entry in enumerate(movement.sparse_structure_by_scopes):
        for scope in as_list(entry.target_scopes):
            if scope in ignored:
                found.append(
                    f"{loc}.sparse_structure_by_scopes[{index}]: {scope!r} is also in ignored_scopes, "
                    "so the layers it names are not sparsified at all"
                )
    return found


def _structure_lines(movement: MovementSparsityConfig) -> list[str]:
    rows = [
        (_mode(entry), ", ".join(as_list(entry.target_scopes)))
        for entry in movement.sparse_structure_by_scopes
    ]
    rows.append(("fine", "every other torch.nn.Linear layer" if rows else "every torch.nn.Linear layer"))
    width = max(len(mode) for mode, _ in rows)
    return [f"{mode:<{width}}  {scopes}" for mode, scopes in rows]


def _preset_fit(config: PipelineConfig) -> list[str]:
    """An inline model whose model_type the preset (or the default BERT scopes) was not written for."""
    from ov_movement.config.presets import PRESETS, preset_for_model_type

    model_type = (config.model.config or {}).get("model_type")
    movement, loc = config.movement, config.movement_loc
    if not isinstance(model_type, str):
        return []
    if movement.preset is not None:
        if model_type in PRESETS[movement.preset].model_types:
            return []
        better = preset_for_model_type(model_type)
        hint = f" (use preset {better!r})" if better else ""
        return [
            f"{loc}.preset {movement.preset!r} is written for model_type "
            f"{'/'.join(PRESETS[movement.preset].model_types)}, the model is {model_type!r}{hint}"
        ]
    better = preset_for_model_type(model_type)
    if (
        better
        and better != "bert"
        and movement.preset_parts() == []
        and (
            [e.model_dump(mode="json", exclude_none=True) for e in movement.sparse_structure_by_scopes]
            == PRESETS["bert"].structure()
        )
    ):
        return [f"{loc}: BERT's scopes on a {model_type!r} model match no layer; set {loc}.preset: {better}"]
    return []


def _preset_line(movement: MovementSparsityConfig) -> str:
    from ov_movement.config.presets import DEFAULT_PRESET_BLOCK, PRESETS

    preset = PRESETS[movement.preset]
    block = movement.preset_block_size or DEFAULT_PRESET_BLOCK
    used = movement.preset_parts()
    given = [p for p in ("sparse_structure_by_scopes", "ignored_scopes") if p not in used]
    text = f"{preset.name} ({preset.title}; attention blocks {block}x{block})"
    text += ": " + (" and ".join(used) + " from the preset" if used else "nothing from the preset")
    if given:
        text += f"; {' and '.join(given)} as given"
    return text


def preset_table() -> str:
    """Every scope preset with the scopes it writes (`ov-movement validate --presets`)."""
    from ov_movement.config.presets import DEFAULT_PRESET_BLOCK, PRESETS

    out = [
        f"scope presets (compression.preset; attention block {DEFAULT_PRESET_BLOCK}x{DEFAULT_PRESET_BLOCK} "
        "unless preset_block_size):"
    ]
    for preset in PRESETS.values():
        out.append(
            f"  {preset.name}: {preset.title} (model_type {', '.join(preset.model_types)}; "
            f"compressed class {preset.model_class})"
        )
        for entry in preset.structure():
            mode = "block" if entry["mode"] == "block" else f"per_dim axis {entry['axis']}"
            out.append(f"    {mode:<16}{entry['target_scopes']}")
        out.append(f"    {'ignored':<16}{', '.join(preset.ignored)}")
        if preset.note:
            out.append(f"    {'note':<16}{preset.note}")
    return "\n".join(out)


def render_summary(loaded: LoadedPipeline, label: str | None = None) -> str:
    """A few lines describing what running this file would do; `label` names the file (its path)."""
    config = loaded.config
    movement = config.movement
    params = movement.params
    lines: list[tuple[str, str]] = []
    model = config.model
    lines.append(
        (
            "model",
            (
                f"inline config ({model.config.get('model_type', '?')})"
                if model.config
                else str(model.name_or_path)
            )
            + f", task {model.task}",
        )
    )
    lines.append(
        (
            "remote code",
            "allowed (model.trust_remote_code: true): Python files in the model directory may run"
            if model.trust_remote_code
            else "off (model.trust_remote_code: false): a model directory that needs its own code is refused",
        )
    )
    lines.append(
        (
            "data",
            f"{config.data.source} {config.data.path or ''}".rstrip()
            + f", max_seq_length {config.data.max_seq_length}",
        )
    )
    lines.append(("algorithm", "movement_sparsity (NNCF)"))
    lines.append(("warm-up", _warm_up(config)))
    lines.append(
        (
            "steps per epoch",
            str(params.steps_per_epoch)
            if params.steps_per_epoch
            else "computed from the training data and batch size",
        )
    )
    lines.append(
        (
            "regularization",
            f"importance_regularization_factor {_num(params.importance_regularization_factor)}"
            f", power {_num(params.power)}",
        )
    )
    initial = (
        "auto (~0.1% of weights masked at warm-up start)"
        if params.init_importance_threshold is None
        else _num(params.init_importance_threshold)
    )
    lines.append(("threshold", f"{initial} -> {_num(params.final_importance_threshold)}"))
    lines.append(
        (
            "structured masking",
            "on: whole heads and FFN rows/columns resolved after the warm-up"
            if params.enable_structured_masking
            else "off: unstructured masks frozen after the warm-up",
        )
    )
    if movement.preset is not None:
        lines.append(("preset", _preset_line(movement)))
    for index, text in enumerate(_structure_lines(movement)):
        lines.append(("sparse structure" if index == 0 else "", text))
    if movement.target_scopes is not None:
        lines.append(("only layers in", ", ".join(as_list(movement.target_scopes))))
    lines.append(("ignored scopes", ", ".join(as_list(movement.ignored_scopes)) or "none"))
    lines += algorithm_notes(config)
    for key in config.ignored_nncf_keys:
        lines.append(("ignored NNCF key", f"{key} ({NNCF_IGNORED_KEYS[key]})"))
    for text in warnings(config):
        lines.append(("warning", text))
    head = f"{label or loaded.path.name}: valid ({LAYOUTS[loaded.layout]}; read as {loaded.format})"
    return "\n".join([head] + [f"  {label:<{_WIDTH}}{text}" for label, text in lines])


def algorithm_notes(config: PipelineConfig) -> list[tuple[str, str]]:
    """What the compression list's other algorithms and `distillation` do: (label, text) pairs, shown
    by `validate` and `status` so that no section is ever silently ignored."""
    notes = []
    if config.quantization is not None:
        notes.append(
            (
                "quantization",
                f"{config.quantization_loc}: runs as quantization-aware training next to movement sparsity "
                "(JPQD) -> convert/pruned_qat.xml (INT8)",
            )
        )
    if config.distillation is not None:
        teacher = config.distillation.teacher
        notes.append(
            (
                "distillation",
                f"from {'the baseline stage' if teacher == 'baseline' else teacher}, temperature "
                f"{_num(config.distillation.temperature)}, weight {_num(config.distillation.weight)}",
            )
        )
    for name in config.unsupported_algorithms:
        notes.append(("other algorithm", f"{name}: not yet supported (kept, not run)"))
    return notes


__all__ = ["algorithm_notes", "preset_table", "render_summary", "warnings"]
