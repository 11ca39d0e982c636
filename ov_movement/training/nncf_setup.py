"""Setting NNCF movement sparsity up so that nothing fails silently.

Order matters (docs/design.md, "Facts verified on this machine"):
1. `NNCF_TORCH_LEGACY_TRACING=1` must be set before `nncf.torch` is imported, and `nncf.torch`
   must be imported before the model is constructed (`ensure_nncf`).
2. The model uses eager attention (models.build_model enforces it).
3. Before any training step: the structured-masking family check, and every scope pattern checked
   against the NNCF graph (a pattern matching nothing, a layer matched twice, a block that does not
   divide a weight -> one error listing all problems with their config locations).

NNCF's log is filtered: INFO chatter and known-harmless warnings are dropped, the ones that matter
(structured groups that do not match the configured structures) are captured and re-stated with
layer names instead of node ids.
"""

from __future__ import annotations

import copy
import logging
import re
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ov_movement.config.presets import DEFAULT_PRESET_BLOCK
from ov_movement.errors import ConfigError, ConfigIssue, StageError
from ov_movement.training.nncf_compat import (
    FAMILY_ALIASES,
    family_alias,
    install_fast_threshold,
    legacy_tracing_environment,
)

log = logging.getLogger("ov_movement.training")

# The model families NNCF 2.19's structured masking admits (nncf...movement.algo.MODEL_FAMILIES).
STRUCTURED_FAMILIES = ("bert", "wav2vec2", "swin", "mobilebert", "distilbert", "clip", "vit")


class CompressionSetupError(ConfigError, StageError):
    """The compression section does not fit the model (scopes, block sizes, model family).

    Both a ConfigError (it carries config locations) and a StageError (found when the stage runs)."""


# ---------------------------------------------------------------------------------------------
# Importing NNCF and taming its log.

_NOISE = (
    re.compile(r"NNCF provides best results with torch"),
    re.compile(r"ElementWise with a single input is not properly supported"),
    re.compile(r"Ignored adding weight sparsifier"),
)
_GROUP_MISMATCH = re.compile(r"structured pruning group does not match", re.IGNORECASE)


class _NNCFLogFilter(logging.Filter):
    """Drops NNCF noise; keeps group-mismatch warnings aside so they can be re-stated with names."""

    def __init__(self) -> None:
        super().__init__("ov_movement")
        self.captured: list[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return False
        message = record.getMessage()
        if any(p.search(message) for p in _NOISE):
            return False
        if _GROUP_MISMATCH.search(message):
            self.captured.append(message)
            return False
        return True


_FILTER = _NNCFLogFilter()


def ensure_nncf() -> Any:
    """Import `nncf.torch` with legacy tracing enabled (before any model is built); returns it.

    The one place the project imports `nncf.torch`: every other module calls this first.
    """
    already = "nncf.torch" in sys.modules
    legacy_tracing_environment()
    if not already:
        prime_device_constructors()
    from nncf.common.logging.logger import nncf_logger  # imports the nncf package, not nncf.torch

    if _FILTER not in nncf_logger.filters:
        nncf_logger.addFilter(_FILTER)
    import nncf.torch
    from nncf.torch.dynamic_graph.patch_pytorch_state import PATCHING_STATE

    if not PATCHING_STATE.operators_are_wrapped:
        raise StageError(
            "nncf.torch was imported in this process before NNCF_TORCH_LEGACY_TRACING=1 was set, so "
            "movement sparsity cannot run here. Set NNCF_TORCH_LEGACY_TRACING=1 in the environment "
            f"(already imported: {already})."
        )
    if not meta_device_works():
        raise StageError(
            "`with torch.device('meta')` no longer creates meta tensors: nncf.torch was imported in "
            "this process before ov_movement could prime torch's device-constructor cache "
            "(docs/compatibility.md). Import ov_movement.training.nncf_setup.ensure_nncf() first."
        )
    return nncf.torch


def prime_device_constructors() -> None:
    """Fill torch's cache of factory functions before NNCF replaces them (verified: torch 2.13-2.15,
    NNCF 2.19).

    `torch.device(...)` used as a context manager rewrites calls to the functions in
    `torch.utils._device._device_constructors()`, a set cached on first use. NNCF's legacy tracing
    replaces `torch.empty`, `torch.tensor`, ... with wrappers (`setattr(torch, name, wrapper)`); a
    cache filled after that holds the wrappers, which the device mode never sees called, so
    `with torch.device("meta")` silently builds CPU tensors. transformers 5 builds models under the
    meta device and detects it with `torch.tensor([]).device`: with a poisoned cache it initialises
    at construction, then replaces non-persistent buffers (`position_ids`) and new weights (the
    classifier) with `torch.empty_like` and never refills them (garbage ids, a NaN classifier).
    Filled first, the cache holds the real functions that the wrappers call, and the mode works.
    """
    from torch.utils import _device

    _device._device_constructors()


def meta_device_works() -> bool:
    """Whether `with torch.device("meta")` still creates meta tensors (the guard of the above)."""
    import torch

    with torch.device("meta"):
        return torch.empty(1).device.type == "meta" and torch.tensor([]).device.type == "meta"


@contextmanager
def capture_nncf_warnings() -> Iterator[list[str]]:
    """Collects NNCF's structured-group mismatch warnings emitted inside the block."""
    start = len(_FILTER.captured)
    out: list[str] = []
    try:
        yield out
    finally:
        out.extend(_FILTER.captured[start:])
        del _FILTER.captured[start:]


# ---------------------------------------------------------------------------------------------
# Config plumbing.


def movement_loc(config: Any) -> str:
    """Config location of the movement_sparsity section (`compression` or `compression[i]`)."""
    compression = config.compression
    if isinstance(compression, list):
        for index, section in enumerate(compression):
            algorithm = (
                section.get("algorithm") if isinstance(section, dict) else getattr(section, "algorithm", None)
            )
            if algorithm == "movement_sparsity":
                return f"compression[{index}]"
    return "compression"


def other_algorithms(config: Any) -> list[str]:
    """Algorithms of the compression list that are kept as written but not run (quantization runs)."""
    return list(config.unsupported_algorithms)


def nncf_config_dict(
    config: Any,
    *,
    input_info: list[dict[str, Any]],
    steps_per_epoch: int,
    log_dir: Path,
) -> dict[str, Any]:
    """The NNCF config: input_info from the model's real inputs, the movement section, log_dir.

    `steps_per_epoch` is always passed, computed from the data loader: NNCF could measure it in
    epoch 0 only when warmup_start_epoch >= 1; passing it makes warmup_start_epoch 0 work too, keeps
    the scheduler state identical whether or not the run was resumed, and a value given in the
    config is checked against the loader instead of failing after the first epoch.
    """
    section = copy.deepcopy(config.movement.to_nncf())
    params = section.setdefault("params", {})
    given = params.get("steps_per_epoch")
    if given is not None and int(given) != steps_per_epoch:
        raise ConfigError(
            [
                ConfigIssue(
                    f"{movement_loc(config)}.params.steps_per_epoch",
                    f"{given} differs from the {steps_per_epoch} optimizer steps per epoch of this data and "
                    "training.batch_size/max_steps_per_epoch; remove it (it is computed) or make them agree",
                )
            ]
        )
    params["steps_per_epoch"] = int(steps_per_epoch)
    compression: Any = section
    if config.quantization is not None:  # JPQD: NNCF composes both into one controller, in the list's order
        compression = [
            section if item is config.movement else copy.deepcopy(item)
            for item in config.compression
            if item is config.movement or item is config.quantization
        ]
    return {"input_info": input_info, "compression": compression, "log_dir": str(log_dir)}


def movement_section(nncf_config: dict[str, Any]) -> dict[str, Any]:
    """The movement_sparsity section of an NNCF config dict (object or list)."""
    compression = nncf_config["compression"]
    if isinstance(compression, dict):
        return compression
    return next(s for s in compression if s.get("algorithm") == "movement_sparsity")


def model_family(model: Any) -> str | None:
    """`transformers.models.<family>` of the model's class (None for other classes)."""
    parts = type(model).__module__.split(".")
    return parts[2] if len(parts) >= 3 and parts[:2] == ["transformers", "models"] else None


def structured_family(model: Any) -> str | None:
    """The NNCF family structured masking treats the model as (aliases resolved), or None."""
    family = model_family(model)
    family = FAMILY_ALIASES.get(family, family)
    return family if family in STRUCTURED_FAMILIES else None


def compression_target(model: Any) -> tuple[Any, str | None]:
    """The part of `model` NNCF wraps, and its attribute name (None: the whole model).

    A model with a head outside the compressed part (heads.CLIPVisionClassifier) names that part
    in `compressed_submodule`."""
    name = getattr(model, "compressed_submodule", None)
    return (getattr(model, name), name) if name else (model, None)


def check_preset(model: Any, config: Any) -> None:
    """`compression.preset` written for another architecture: say so before its scopes fail to match."""
    from ov_movement.config.presets import PRESETS, preset_for_model_type

    movement = config.movement
    model_type = getattr(getattr(model, "config", None), "model_type", None)
    if movement.preset is None or not movement.preset_parts() or model_type is None:
        return
    preset = PRESETS[movement.preset]
    if model_type in preset.model_types:
        return
    better = preset_for_model_type(model_type)
    raise CompressionSetupError(
        [
            ConfigIssue(
                f"{movement_loc(config)}.preset",
                f"{movement.preset!r} is written for model_type {'/'.join(preset.model_types)}; "
                f"{type(model).__name__} is {model_type!r}"
                + (
                    f": use preset {better!r}"
                    if better
                    else ": give sparse_structure_by_scopes and ignored_scopes"
                ),
            )
        ]
    )


def check_structured_family(model: Any, config: Any) -> None:
    """NNCF admits structured masking only for some `transformers.models.<family>`: check it up front."""
    if not config.movement.params.enable_structured_masking:
        return
    family = model_family(model)
    if structured_family(model) is None:
        what = (
            f"family {family!r}"
            if family
            else f"module {type(model).__module__!r} (not a transformers model)"
        )
        raise CompressionSetupError(
            [
                ConfigIssue(
                    f"{movement_loc(config)}.params.enable_structured_masking",
                    f"NNCF 2.19 resolves structured masks only for the model families {list(STRUCTURED_FAMILIES)} "
                    f"(and {', '.join(f'{a} as {b}' for a, b in FAMILY_ALIASES.items())}); "
                    f"{type(model).__name__} is {what}. Set enable_structured_masking: false to train with "
                    "unstructured masks (they stay unstructured after warm-up).",
                )
            ]
        )


# ---------------------------------------------------------------------------------------------
# Scope checks against the NNCF graph.


def _patterns(scopes: str | Sequence[str] | None) -> list[str]:
    if scopes is None:
        return []
    return [scopes] if isinstance(scopes, str) else list(scopes)


def _scope_loc(base: str, scopes: Any, index: int) -> str:
    return base if isinstance(scopes, str) else f"{base}[{index}]"


@dataclass
class LayerInfo:
    nncf_name: str
    module: str
    weight_shape: tuple[int, ...]


@dataclass
class ScopeReport:
    """Which sparsifiable Linear layers the config targets and how (result of `check_scopes`)."""

    layers: list[LayerInfo] = field(default_factory=list)  # sparsified, in graph order
    ignored: list[LayerInfo] = field(default_factory=list)
    mode_by_layer: dict[str, str] = field(default_factory=dict)  # nncf name -> fine/block/per_dim
    node_names: list[str] = field(default_factory=list)  # every operation of the NNCF graph
    consumers: dict[str, list[str]] = field(default_factory=dict)  # operation -> the ones reading its output


def _matches(name: str, pattern: str) -> bool:
    from nncf.common.scopes import matches_any

    return matches_any(name, pattern)


def _is_default_section(config: Any) -> bool:
    """The movement section is the embedded default (NNCF's BERT recipe), not one the file holds.
    Question answering fills the default without the head pattern (config.pipeline), hence both."""
    if "compression" not in config.model_fields_set:
        return True
    from ov_movement.config.presets import PRESETS

    default = type(config).model_fields["compression"].default_factory().to_nncf()
    written = config.movement.to_nncf()
    heads = (default.get("ignored_scopes"), PRESETS["bert"].ignored_scopes(head=False))
    return (
        config.model.task == "question-answering"
        and written.get("ignored_scopes") in heads
        and {
            **written,
            "ignored_scopes": None,
        }
        == {**default, "ignored_scopes": None}
    )


def written_loc(config: Any, key: str, rest: str = "") -> tuple[str, str]:
    """The key the user wrote that produced `<movement section>.<key><rest>`, and a note naming the
    expansion, for a problem found in part of the section that a preset or the default filled in.

    `key` is `sparse_structure_by_scopes` or `ignored_scopes`; `rest` e.g. `[0].sparse_factors`.
    Without a preset or default behind it, the location is the expanded one itself and the note empty.
    """
    base = movement_loc(config)
    expanded = f"{key}{rest}"
    movement = config.movement
    if _is_default_section(config):
        return "compression", (
            f" (the file has no compression section: the default one, NNCF's BERT recipe, has {expanded}; "
            "write a compression section, e.g. with compression.preset for this architecture)"
        )
    if key not in movement.preset_parts():
        return f"{base}.{expanded}", ""
    value = f"preset {movement.preset!r} expanded to {base}.{expanded}"
    if key == "sparse_structure_by_scopes" and rest.endswith(".sparse_factors"):
        if movement.preset_block_size is not None:
            return f"{base}.preset_block_size", f" ({value})"
        return f"{base}.preset", (
            f" ({value}, blocks of the default preset_block_size {DEFAULT_PRESET_BLOCK}; set "
            f"{base}.preset_block_size to a divisor of the attention head size)"
        )
    return f"{base}.preset", f" ({value})"


def _refuse_slow_patterns(section: dict[str, Any], base: str, names: Sequence[str]) -> None:
    """Every `{re}` pattern searched over the model's node names with a time limit, before NNCF
    (which has none) matches them: a pattern with catastrophic backtracking is named, not hung on."""
    from ov_movement.config.scopes import PATTERN_TIME_LIMIT_S, slow_patterns

    located = [
        (_scope_loc(f"{base}.{key}", section.get(key), index), pattern)
        for key in ("ignored_scopes", "target_scopes")
        for index, pattern in enumerate(_patterns(section.get(key)))
    ]
    for number, entry in enumerate(section.get("sparse_structure_by_scopes", [])):
        raw = entry.get("target_scopes")
        loc = f"{base}.sparse_structure_by_scopes[{number}].target_scopes"
        located += [(_scope_loc(loc, raw, index), pattern) for index, pattern in enumerate(_patterns(raw))]
    slow = set(slow_patterns(list(dict.fromkeys(pattern for _, pattern in located)), names))
    issues = [
        ConfigIssue(
            loc,
            f"{pattern!r} takes more than {PATTERN_TIME_LIMIT_S:g} s to search the model's "
            f"{len(names)} node names (catastrophic backtracking, e.g. a repeated group inside a "
            "repetition such as `(\\w+)+`); NNCF would hang on it: simplify the pattern",
        )
        for loc, pattern in located
        if pattern in slow
    ]
    if issues:
        raise CompressionSetupError(issues)


def check_scopes(model: Any, nncf_config: dict[str, Any], config: Any) -> ScopeReport:
    """Trace a copy of the model and check every scope pattern against the NNCF graph.

    Raises one CompressionSetupError listing every problem: an ignored/target pattern that matches
    no operation, a `sparse_structure_by_scopes` pattern that matches no sparsifiable Linear layer,
    a layer matched by two entries, a block that does not divide a weight (layer name and shape).
    """
    ensure_nncf()
    base = movement_loc(config)
    section = movement_section(nncf_config)
    report, linear = _trace(model, nncf_config)
    _refuse_slow_patterns(section, base, report.node_names)
    ignored = _patterns(section.get("ignored_scopes"))
    targets = _patterns(section.get("target_scopes"))
    issues = _unmatched_scope_issues(section, config, model, report.node_names, linear)

    from nncf.common.scopes import should_consider_scope

    for layer in linear:
        considered = should_consider_scope(layer.nncf_name, ignored or None, targets or None)
        (report.layers if considered else report.ignored).append(layer)
    if not report.layers and not issues:
        issues.append(
            ConfigIssue(base, f"every Linear layer of {type(model).__name__} is ignored: nothing to sparsify")
        )
    issues += _structure_issues(section, config, model, report)
    for layer in report.layers:
        report.mode_by_layer.setdefault(layer.nncf_name, "fine")
    if issues:
        raise CompressionSetupError(issues)
    return report


def _trace(model: Any, nncf_config: dict[str, Any]) -> tuple[ScopeReport, list[LayerInfo]]:
    """Trace a copy of the model into NNCF's graph: a ScopeReport with every operation and its
    consumers (no layers yet), and every Linear layer in graph order."""
    from nncf import NNCFConfig
    from nncf.common.graph.utils import get_weight_shape_legacy
    from nncf.torch.model_creation import create_nncf_network

    probe_config = NNCFConfig.from_dict({k: v for k, v in nncf_config.items() if k != "compression"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        network = create_nncf_network(copy.deepcopy(model), probe_config)
    graph = network.nncf.get_original_graph()
    linear_nodes = network.nncf.get_weighted_original_graph_nodes(nncf_module_names=["NNCFLinear"])
    module_names = {module: name for name, module in network.named_modules()}

    def info(node: Any) -> LayerInfo:
        module = network.nncf.get_containing_module(node.node_name)
        shape = tuple(int(d) for d in get_weight_shape_legacy(node.layer_attributes))
        return LayerInfo(node.node_name, module_names.get(module, "?"), shape)

    report = ScopeReport(
        node_names=[node.node_name for node in graph.get_all_nodes()],
        consumers={
            node.node_name: [n.node_name for n in graph.get_next_nodes(node)]
            for node in graph.get_all_nodes()
        },
    )
    return report, [info(node) for node in linear_nodes]


def _unmatched_scope_issues(
    section: dict[str, Any], config: Any, model: Any, all_names: list[str], linear: list[LayerInfo]
) -> list[ConfigIssue]:
    """ignored_scopes/target_scopes patterns that match no operation (NNCF fails on them unless
    validate_scopes is false: then they are only logged)."""
    issues: list[ConfigIssue] = []
    strict = section.get("validate_scopes", True) is not False
    for key in ("ignored_scopes", "target_scopes"):
        raw = section.get(key)
        for index, pattern in enumerate(_patterns(raw)):
            if any(_matches(name, pattern) for name in all_names):
                continue
            example = f" (NNCF names look like {linear[0].nncf_name!r})" if linear else ""
            message = f"{pattern!r} matches no operation of {type(model).__name__} in the NNCF graph{example}"
            loc, origin = written_loc(config, key, _scope_loc("", raw, index))
            if strict:
                issues.append(ConfigIssue(loc, message + origin))
            else:
                log.warning("%s: %s (validate_scopes is false)", loc, message + origin)
    return issues


def _structure_issues(
    section: dict[str, Any], config: Any, model: Any, report: ScopeReport
) -> list[ConfigIssue]:
    """Check `sparse_structure_by_scopes` against the sparsified layers, recording each matched
    layer's mode in `report.mode_by_layer`: patterns matching none, blocks not dividing a weight,
    per_dim axes other than 0/1, layers matched by two entries."""
    issues: list[ConfigIssue] = []
    matched_by: dict[str, list[int]] = {layer.nncf_name: [] for layer in report.layers}
    for index, entry in enumerate(section.get("sparse_structure_by_scopes", [])):
        hits, entry_issues = _check_structure_entry(index, entry, config, model, report)
        issues += entry_issues
        for layer in hits:
            matched_by[layer.nncf_name].append(index)
            report.mode_by_layer[layer.nncf_name] = entry.get("mode", "fine")
    for name, indices in matched_by.items():
        if len(indices) > 1:
            layer = next(layer for layer in report.layers if layer.nncf_name == name)
            issues.append(
                ConfigIssue(
                    f"{movement_loc(config)}.sparse_structure_by_scopes",
                    f"{layer.module} ({name!r}) is matched by entries {indices}; a layer may match only one",
                )
            )
    return issues


def _check_structure_entry(
    index: int, entry: dict[str, Any], config: Any, model: Any, report: ScopeReport
) -> tuple[list[LayerInfo], list[ConfigIssue]]:
    """The sparsified layers entry `index` of `sparse_structure_by_scopes` matches, and its problems."""
    issues: list[ConfigIssue] = []

    def entry_loc(rest: str) -> tuple[str, str]:
        return written_loc(config, "sparse_structure_by_scopes", f"[{index}]{rest}")

    raw = entry.get("target_scopes")
    for p_index, pattern in enumerate(_patterns(raw)):
        if any(_matches(layer.nncf_name, pattern) for layer in report.layers):
            continue
        ignored_hits = [layer.module for layer in report.ignored if _matches(layer.nncf_name, pattern)]
        why = f" (it matches only ignored layers: {ignored_hits[:3]})" if ignored_hits else ""
        example = report.layers[0].nncf_name if report.layers else "?"
        loc, origin = entry_loc(_scope_loc(".target_scopes", raw, p_index))
        issues.append(
            ConfigIssue(
                loc,
                f"{pattern!r} matches no sparsifiable Linear layer of {type(model).__name__}{why}; "
                f"layer names look like {example!r}{origin}",
            )
        )
    hits = [layer for layer in report.layers if any(_matches(layer.nncf_name, p) for p in _patterns(raw))]
    mode = entry.get("mode", "fine")
    if mode == "block":
        rows, cols = (int(x) for x in entry.get("sparse_factors") or (0, 0))
        for layer in hits:
            out_dim, in_dim = layer.weight_shape[:2]
            if rows <= 0 or cols <= 0 or out_dim % rows or in_dim % cols:
                loc, origin = entry_loc(".sparse_factors")
                issues.append(
                    ConfigIssue(
                        loc,
                        f"block [{rows}, {cols}] does not divide the weight of {layer.module} "
                        f"(shape {list(layer.weight_shape)}, NNCF name {layer.nncf_name!r}){origin}",
                    )
                )
    if mode == "per_dim" and entry.get("axis") not in (0, 1):
        loc, origin = entry_loc(".axis")
        issues.append(ConfigIssue(loc, f"must be 0 (rows) or 1 (columns), got {entry.get('axis')!r}{origin}"))
    return hits, issues


# ---------------------------------------------------------------------------------------------
# Quantization next to movement sparsity (JPQD).

# The base model's own multiplications, outside its layers: in BERT-family models with eager attention
# the one that scales the padding mask, `(1 - mask) * finfo(float32).min` (`BertModel[bert]/__mul___0`).
_MASK_SCALING = re.compile(r"^(?:[^/]+/)?[^/]+/__mul___\d+$")


def leave_attention_mask_unquantized(nncf_config: dict[str, Any], scopes: ScopeReport) -> dict[str, Any]:
    """Add the padding-mask scaling and the operations adding its output to the attention scores to
    the quantization section's ignored scopes (NNCF puts the quantizer of an output at its consumers).

    The mask holds -3.4e38 at every padded position: NNCF's min/max range statistics overflow to
    -inf and stop ("Statistics are not collected for ... __mul___0"), and a quantizer over
    [-3.4e38, 0] would be meaningless anyway. The mask is an input, not a learned activation."""
    scaling = [name for name in scopes.node_names if _MASK_SCALING.match(name)]
    hits = scaling + [c for name in scaling for c in scopes.consumers.get(name, [])]
    if not hits or not isinstance(nncf_config["compression"], list):
        return nncf_config
    nncf_config = copy.deepcopy(nncf_config)
    for section in nncf_config["compression"]:
        if section.get("algorithm") == "quantization":
            ignored = _patterns(section.get("ignored_scopes"))
            section["ignored_scopes"] = ignored + [name for name in hits if name not in ignored]
    log.info(
        "quantization: the attention-mask scaling %s and its %d consumers stay unquantized",
        scaling[0],
        len(hits) - len(scaling),
    )
    return nncf_config


# ---------------------------------------------------------------------------------------------
# Wrapping.


@dataclass
class CompressedModel:
    model: Any  # NNCFNetwork (still an instance of the HF class)
    ctrl: Any  # MovementSparsityController (masks, statistics, freezing)
    scopes: ScopeReport
    group_warnings: list[str]
    # What training steps, whose loss it adds and whose state a checkpoint keeps: the composite
    # controller of movement sparsity + quantization (JPQD), else `ctrl` itself.
    composite: Any = None
    quantization: Any = None  # NNCF's QuantizationController (JPQD), else None

    def __post_init__(self) -> None:
        if self.composite is None:
            self.composite = self.ctrl


def controller_of(ctrl: Any, cls: type) -> Any:
    """The child controller of class `cls` in a (possibly composite) NNCF controller, or None."""
    if isinstance(ctrl, cls):
        return ctrl
    return next((child for child in getattr(ctrl, "child_ctrls", ()) if isinstance(child, cls)), None)


class _InitBatches:
    """Batches of model keyword inputs for NNCF's quantizer range initialisation (no labels needed)."""

    def __init__(self, batches: Any, batch_size: int, count: int):
        self._batches, self.batch_size, self._count = batches, batch_size, count

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._batches())

    def __len__(self) -> int:
        return self._count


def register_init_data(nncf_config: Any, batches: Any, batch_size: int, count: int) -> None:
    """Give NNCF the train split for quantizer range (and batch-norm) initialisation, keyword inputs
    as the model takes them (what optimum-intel's OVTrainer registered)."""
    from nncf.config.structures import BNAdaptationInitArgs, QuantizationRangeInitArgs
    from nncf.torch.initialization import PTInitializingDataLoader

    class KeywordLoader(PTInitializingDataLoader):
        def get_inputs(self, batch: dict[str, Any]) -> tuple[tuple, dict]:
            return (), {k: v for k, v in batch.items() if k != "labels"}

        def get_target(self, batch: dict[str, Any]) -> Any:
            return batch.get("labels")

    loader = KeywordLoader(_InitBatches(batches, batch_size, count))
    nncf_config.register_extra_structs([QuantizationRangeInitArgs(loader), BNAdaptationInitArgs(loader)])


def compress(
    model: Any,
    config: Any,
    nncf_config: dict[str, Any],
    *,
    compression_state: dict[str, Any] | None = None,
    init_data: tuple[Any, int, int] | None = None,
) -> CompressedModel:
    """Family check, scope checks, then `create_compressed_model` (optionally restoring a state).

    `init_data` = (a function giving an iterable of keyword-input batches, batch size, batch count):
    the train split for quantizer range initialisation when the config holds `quantization` (NNCF
    skips initialisation when a compression state is restored: the ranges come from the checkpoint)."""
    nncf_torch = ensure_nncf()
    from nncf import NNCFConfig

    install_fast_threshold()  # bit-identical, ~25% faster CPU training steps (see the module)

    for name in other_algorithms(config):
        log.warning(
            "compression: algorithm %r is accepted in the config but not applied yet (movement_sparsity and "
            "quantization run)",
            name,
        )
    if config.quantization is not None and init_data is None and compression_state is None:
        raise RuntimeError("quantization-aware training needs init_data for the quantizer ranges")
    target, attribute = compression_target(model)
    check_structured_family(target, config)
    check_preset(target, config)
    scopes = check_scopes(target, nncf_config, config)
    if config.quantization is not None:
        nncf_config = leave_attention_mask_unquantized(nncf_config, scopes)
    Path(nncf_config["log_dir"]).mkdir(parents=True, exist_ok=True)
    with capture_nncf_warnings() as captured, warnings.catch_warnings(), family_alias(model_family(target)):
        warnings.filterwarnings(
            "ignore", message=r".*create_compressed_model.*deprecated", category=FutureWarning
        )
        nncf_cfg = NNCFConfig.from_dict(nncf_config)
        if init_data is not None and config.quantization is not None:
            register_init_data(nncf_cfg, *init_data)
        composite, wrapped = nncf_torch.create_compressed_model(
            target, nncf_cfg, compression_state=compression_state, dump_graphs=False
        )
    if attribute is not None:  # the head stays outside NNCF: put the wrapped part back in its place
        setattr(model, attribute, wrapped)
        wrapped = model
    from nncf.experimental.torch.sparsity.movement.algo import MovementSparsityController
    from nncf.torch.quantization.algo import QuantizationController

    ctrl = controller_of(composite, MovementSparsityController)
    quantization = controller_of(composite, QuantizationController)
    if config.quantization is not None and quantization is None:
        raise StageError("the config holds `quantization` but NNCF built no quantization controller")
    result = CompressedModel(wrapped, ctrl, scopes, captured, composite, quantization)
    _report_structure(result, config)
    return result


def structured_groups(ctrl: Any) -> list[Any]:
    """NNCF's structured-mask context groups (empty when structured masking is off)."""
    handler = getattr(ctrl, "_structured_mask_handler", None)
    return list(handler._structured_mask_ctx_groups) if handler is not None else []


def attention_group_count(ctrl: Any) -> int:
    """Groups whose unit is larger than one row/column: attention heads."""
    return sum(1 for group in structured_groups(ctrl) if group_unit_size(group) > 1)


def group_unit_size(group: Any) -> int:
    ctx = group.structured_mask_contexts[0]
    return int(ctx.grid_size[0] if ctx.prune_by_row else ctx.grid_size[1])


def _report_structure(compressed: CompressedModel, config: Any) -> None:
    """Say which sparsified layers structured masking will not touch, and why, with module names."""
    if not config.movement.params.enable_structured_masking:
        return
    groups = structured_groups(compressed.ctrl)
    grouped = {ctx.module_node_name for group in groups for ctx in group.structured_mask_contexts}
    loose = [layer.module for layer in compressed.scopes.layers if layer.nncf_name not in grouped]
    if not groups:
        log.warning(
            "NNCF found no structured-masking group in %s: masks will stay unstructured after warm-up",
            type(compressed.ctrl.model).__name__,
        )
    elif attention_group_count(compressed.ctrl) == 0:
        log.warning("NNCF found no attention-head group: heads will not be removed (is attention eager?)")
    from ov_movement.config.presets import PRESETS

    preset = PRESETS.get(config.movement.preset or "")
    expected = preset.expected_group_conflict if preset is not None else ""
    for message in compressed.group_warnings:  # a per_dim axis contradicting the model: a config mistake
        restated = _restate_axis_warning(message, compressed.ctrl.model)
        if restated and expected and expected in restated:  # the preset's deliberate choice
            log.info("%s (expected with compression.preset %r)", restated, preset.name)
        elif restated:
            log.warning("%s", restated)
    if loose:
        # A layer configured as block/per_dim that no group takes will not lose whole heads/neurons:
        # the user asked for structure they will not get. Fine-mode leftovers (a pooler) are expected.
        modes = compressed.scopes.mode_by_layer
        by_module = {layer.module: layer.nncf_name for layer in compressed.scopes.layers}
        structured = [m for m in loose if modes.get(by_module[m], "fine") != "fine"]
        level = logging.WARNING if structured else logging.INFO
        log.log(
            level,
            "structured masking: %d sparsified layer(s) belong to no structured group and keep unstructured "
            "masks: %s%s",
            len(loose),
            ", ".join(loose[:6]),
            " ..." if len(loose) > 6 else "",
        )


_AXIS = re.compile(r"defined for (\d+) axis, but structured one - for (\d+) axis")
_NODE_ID = re.compile(r"node_id=(\d+)")


def _restate_axis_warning(message: str, model: Any) -> str | None:
    """NNCF's per_dim-axis group mismatch, with module names instead of graph node ids."""
    match = _AXIS.search(message)
    if not match:
        return None
    graph = model.nncf.get_original_graph()
    by_module = {id(module): name for name, module in model.named_modules()}
    names = []
    for node_id in sorted({int(i) for i in _NODE_ID.findall(message)}):
        try:
            module = model.nncf.get_containing_module(graph.get_node_by_id(node_id).node_name)
        except Exception:  # a node without a module: keep the id
            names.append(f"node {node_id}")
            continue
        names.append(by_module.get(id(module), f"node {node_id}"))
    configured, structural = match.groups()
    return (
        f"NNCF: sparse_structure_by_scopes gives per_dim axis {configured} to a layer that structured masking "
        f"prunes along axis {structural}; the group {sorted(set(names))} gets no structured mask "
        "(per_dim axis 0 suits layers that produce the neurons, e.g. BertIntermediate; axis 1 the ones that "
        "consume them, e.g. BertOutput)"
    )


__all__ = [
    "FAMILY_ALIASES",
    "STRUCTURED_FAMILIES",
    "CompressedModel",
    "CompressionSetupError",
    "LayerInfo",
    "ScopeReport",
    "attention_group_count",
    "capture_nncf_warnings",
    "check_scopes",
    "check_preset",
    "check_structured_family",
    "compression_target",
    "compress",
    "controller_of",
    "leave_attention_mask_unquantized",
    "movement_section",
    "register_init_data",
    "ensure_nncf",
    "group_unit_size",
    "meta_device_works",
    "model_family",
    "movement_loc",
    "nncf_config_dict",
    "other_algorithms",
    "prime_device_constructors",
    "structured_family",
    "structured_groups",
]
