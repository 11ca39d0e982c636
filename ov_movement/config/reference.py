"""Generated artefacts: the JSON Schemas in schemas/ and the reference docs/configuration.md.

Both are written by `ov-movement schema --out schemas/ --docs docs/configuration.md` and checked
by tests (regenerated into a temporary directory and compared), so they cannot drift from the
models. The differences from NNCF's own validation are data here, not prose elsewhere: the oracle
test (tests/config/test_nncf_oracle.py) requires every disagreement it finds to be listed below.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter

from ov_movement.config.compression import (
    CompressionSection,
    MovementSparsityConfig,
    MovementSparsityParams,
    OtherAlgorithmSection,
    SparseStructureEntry,
)
from ov_movement.config.pipeline import (
    NNCF_IGNORED_KEYS,
    BenchmarkConfig,
    ConvertConfig,
    DataConfig,
    DistillationConfig,
    DistributedConfig,
    ExportConfig,
    ModelConfig,
    PackageConfig,
    PipelineConfig,
    ReportConfig,
    TrainingConfig,
    pipeline_model,
)
from ov_movement.config.sweep import SweepConfig

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
# The generated schema files (`ov-movement schema --out DIR`).
PIPELINE_SCHEMA = "pipeline.schema.json"
COMPRESSION_SCHEMA = "compression.schema.json"

# Where ov-movement and NNCF 2.19's schema (`NNCFConfig.from_dict`) disagree, on purpose.
NNCF_DIFFERENCES: dict[str, tuple[str, str]] = {
    # key: (kind, explanation). kind "lenient": we accept what NNCF's schema rejects (and normalise
    # it away in `to_nncf()`); "runtime": NNCF's schema accepts it, NNCF rejects it once training
    # starts, ov-movement rejects it up front; "stricter": NNCF accepts it, it makes no sense.
    "initial_threshold_spelling": (
        "lenient",
        "`initial_importance_threshold` (the documentation's spelling) "
        "is read as `init_importance_threshold`; both with different values is an error",
    ),
    "algorithm_optional": (
        "lenient",
        "an object `compression` section may leave out `algorithm` (it can only "
        "be movement_sparsity); `to_nncf()` writes it",
    ),
    "preset": (
        "lenient",
        "`preset` and `preset_block_size` are ov-movement's: `to_nncf()` leaves them out and writes the "
        "preset's `sparse_structure_by_scopes` / `ignored_scopes` instead",
    ),
    "params_required": ("runtime", "`params` and its three required keys must be given"),
    "warmup_order": ("runtime", "`warmup_end_epoch` must be greater than `warmup_start_epoch`"),
    "steps_per_epoch_required": ("runtime", "`steps_per_epoch` is required when `warmup_start_epoch` < 1"),
    "non_negative": ("runtime", "`warmup_start_epoch` and `importance_regularization_factor` must be >= 0"),
    "mode_keys": (
        "runtime",
        "block needs `sparse_factors` (two values) and no `axis`; per_dim needs `axis` and "
        "no `sparse_factors`; fine allows only `sparse_factors: [1, 1]` and no `axis`",
    ),
    "empty_target_scopes": ("runtime", "an entry's `target_scopes` must name at least one scope"),
    "regex_compiles": ("runtime", "every `{re}` pattern must be a valid regular expression"),
    "duplicate_scope": (
        "runtime",
        "the same scope string in two `sparse_structure_by_scopes` entries (NNCF "
        "fails only when it meets a layer both match)",
    ),
    "integers": (
        "stricter",
        "`steps_per_epoch`, `sparse_factors` and `axis` must be integers (NNCF: numbers); "
        "`axis` must be 0 or 1 and block sizes positive",
    ),
    "positive": ("stricter", "`power` and `compression_lr_multiplier` must be > 0"),
    "finite_no_null": ("stricter", "numbers must be finite (no NaN/Infinity) and no value may be null"),
    "empty_scope": ("stricter", "a scope string must not be empty"),
    "one_movement_section": ("stricter", "a `compression` list holds exactly one movement_sparsity section"),
}


def schemas() -> dict[str, dict[str, Any]]:
    """File name -> JSON Schema, for schemas/."""
    pipeline = pipeline_model().model_json_schema(by_alias=True)
    compression = TypeAdapter(CompressionSection).json_schema(by_alias=True)
    compression = {
        "title": "NNCF compression section (movement_sparsity)",
        "description": "The `compression` of an NNCF config or ov-movement pipeline.",
        **compression,
    }
    return {
        PIPELINE_SCHEMA: {"$schema": JSON_SCHEMA_DIALECT, **pipeline},
        COMPRESSION_SCHEMA: {"$schema": JSON_SCHEMA_DIALECT, **compression},
    }


def dumps(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def write_schemas(out_dir: str | Path) -> list[Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in schemas().items():
        (out / name).write_text(dumps(schema), encoding="utf-8")
        written.append(out / name)
    return written


# ---- docs/configuration.md ---------------------------------------------------------------------

_SECTIONS: list[tuple[str, type[BaseModel]]] = [
    ("Pipeline (top level)", PipelineConfig),
    ("`model`", ModelConfig),
    ("`data`", DataConfig),
    ("`training`", TrainingConfig),
    ("`training.distributed` (docs/distributed.md)", DistributedConfig),
    ("`compression` (movement_sparsity)", MovementSparsityConfig),
    ("`compression.params`", MovementSparsityParams),
    ("`compression.sparse_structure_by_scopes[]`", SparseStructureEntry),
    ("Other algorithms in a `compression` list", OtherAlgorithmSection),
    ("`distillation`", DistillationConfig),
    ("`export`", ExportConfig),
    ("`convert`", ConvertConfig),
    ("`benchmark`", BenchmarkConfig),
    ("`report`", ReportConfig),
    ("`package`", PackageConfig),
    ("`sweep`", SweepConfig),
]

_INTRO = """\
# Configuration reference

<!-- Generated by `ov-movement schema --out schemas/ --docs docs/configuration.md` from the models in
ov_movement/config/. Do not edit: tests/config/test_generated.py fails when this file is stale. -->

`ov-movement validate FILE...` checks files against these rules without importing torch or NNCF and
lists every problem with its location (`compression.sparse_structure_by_scopes[1].axis: ...`).
Editors can validate as you type with the JSON Schemas in `schemas/` (add
`"$schema": "<path>/schemas/pipeline.schema.json"` to a pipeline file).

## Files

- **Formats.** JSON; JSON with trailing commas and comments (JSON5, as in NNCF's documented example
  and several optimum-intel configs); YAML (`.yaml`/`.yml`, safe loading only). Duplicate keys in
  JSON are an error (the later one would silently win). A `$schema` key is allowed.
- **Layouts.** An ov-movement pipeline; an NNCF config (`{"input_info": ..., "compression": ...}`); a
  bare algorithm section (`{"algorithm": "movement_sparsity", ...}`) or a bare list of sections, as
  optimum-intel's example configs are written. Anything but a pipeline uses the default model and
  data below; problem locations then read as in the file (no `compression.` prefix).
- `compression` is one `movement_sparsity` object or a list holding exactly one of them plus other
  NNCF algorithms, which are checked loosely (a known `algorithm` name) and kept as written. A
  `quantization` section runs: quantization-aware training next to movement sparsity (JPQD, see
  docs/jpqd.md; NNCF checks the section when it builds the model); the others are not run yet.
- When `training.epochs` is not given it is 5, or `ceil(warmup_end_epoch) + 1` if that is larger;
  it must be at least `warmup_end_epoch`, the epochs after the warm-up fine-tune the masked model.
"""


def _type(prop: dict[str, Any]) -> str:
    if "$ref" in prop:
        return "object (" + prop["$ref"].rsplit("/", 1)[-1] + ")"
    if "const" in prop:
        return json.dumps(prop["const"])
    if "enum" in prop:
        return " | ".join(json.dumps(value) for value in prop["enum"])
    for key in ("anyOf", "oneOf"):
        if key in prop:
            return " or ".join(dict.fromkeys(_type(option) for option in prop[key]))
    kind = prop.get("type", "any")
    if isinstance(kind, list):
        return " or ".join(kind)
    if kind == "array":
        items = _type(prop.get("items", {}))
        return f"list of ({items})" if " or " in items else f"list of {items}"
    bounds = {"exclusiveMinimum": ">", "minimum": ">=", "exclusiveMaximum": "<", "maximum": "<="}
    return " ".join([kind] + [f"{sign} {prop[key]}" for key, sign in bounds.items() if key in prop])


def _default(model: type[BaseModel], name: str) -> str:
    field = model.model_fields[name]
    if field.is_required():
        return "**required**"
    if field.default_factory is not None:
        value = field.default_factory()
        return "see below" if isinstance(value, BaseModel) else f"`{json.dumps(value)}`"
    return "—" if field.default is None else f"`{json.dumps(field.default)}`"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _table(model: type[BaseModel]) -> list[str]:
    properties = model.model_json_schema(by_alias=True).get("properties", {})
    rows = ["| key | type | default | meaning |", "|---|---|---|---|"]
    for name, field in model.model_fields.items():
        key = field.alias or name
        prop = properties.get(key, {})
        rows.append(
            f"| `{key}` | {_cell(_type(prop))} | {_default(model, name)} | {_cell(field.description or '')} |"
        )
    return rows


def render_reference() -> str:
    lines = [
        _INTRO,
        "## NNCF top-level keys",
        "",
        "| key | handling |",
        "|---|---|",
        "| `compression` | validated (below) |",
    ]
    lines += [f"| `{key}` | accepted and ignored: {why} |" for key, why in NNCF_IGNORED_KEYS.items()]
    lines += [f"| `{key}` | rejected: {_cell(why)} |" for key, why in PipelineConfig.rejected_keys.items()]
    lines += [
        "",
        "## Differences from NNCF's own validation",
        "",
        "NNCF 2.19 validates a config with its JSON schema (`NNCFConfig.from_dict`) and makes further",
        "checks only once training has started. ov-movement differs on purpose as listed; the oracle",
        "test runs both validators over a corpus and fails on any disagreement not listed here.",
        "",
        "| kind | rule |",
        "|---|---|",
    ]
    lines += [f"| {kind} | {_cell(text)} |" for kind, text in NNCF_DIFFERENCES.values()]
    for title, model in _SECTIONS:
        lines += ["", f"## {title}", ""]
        if model.__doc__:
            lines += [" ".join(model.__doc__.split()), ""]
        lines += _table(model)
    lines += _preset_lines()
    return "\n".join(lines) + "\n"


def _preset_lines() -> list[str]:
    """The `compression.preset` table: what each preset writes (`ov-movement validate --presets`)."""
    from ov_movement.config.presets import DEFAULT_PRESET_BLOCK, PRESETS

    lines = [
        "",
        "## Scope presets",
        "",
        "`compression.preset: NAME` fills `sparse_structure_by_scopes` (attention in square blocks of",
        f"`preset_block_size`, default {DEFAULT_PRESET_BLOCK}; the FFN's first linear by rows, its second by columns)",
        "and `ignored_scopes`; either key given explicitly replaces that part of the preset. Every",
        "pattern matches the NNCF graph of the class ov-movement builds for the architecture (a tiny model",
        "of each is traced in the tests). `ov-movement validate --presets` prints this table.",
        "",
        "| preset | model_type | attention (block) | FFN in (per_dim 0) | FFN out (per_dim 1) | ignored_scopes | notes |",
        "|---|---|---|---|---|---|---|",
    ]
    for preset in PRESETS.values():
        cells = [
            f"`{preset.name}`",
            ", ".join(f"`{t}`" for t in preset.model_types),
            f"`{preset.attention}`",
            f"`{preset.ffn_in}`",
            f"`{preset.ffn_out}`",
            "<br>".join(f"`{s}`" for s in preset.ignored),
            preset.note,
        ]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return lines


def write_reference(path: str | Path) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_reference(), encoding="utf-8")
    return target


__all__ = ["NNCF_DIFFERENCES", "dumps", "render_reference", "schemas", "write_reference", "write_schemas"]
