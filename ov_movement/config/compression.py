"""The NNCF `movement_sparsity` configuration, mirrored as Pydantic models.

Reference: NNCF 2.19 `nncf/experimental/torch/sparsity/movement/MovementSparsity.md`, its JSON schema
`MOVEMENT_SPARSITY_SCHEMA` (nncf/config/schemata/experimental_schema.py) and the checks NNCF makes
only once training starts (`MovementSchedulerParams`, `SparseConfig`): those are made here, up front.
Types follow NNCF's schema (warm-up epochs are *numbers*, fractions allowed); where this mirror is
stricter or more lenient than NNCF's schema, docs/configuration.md lists it and the oracle test
(tests/config/test_nncf_oracle.py) pins it.
"""

from __future__ import annotations

import copy
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    Tag,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    WrapValidator,
    field_validator,
)

from ov_movement.config.base import (
    MAX_COUNT,
    MAX_EPOCHS,
    MAX_NUMBER,
    Integer,
    NonNegativeNumber,
    Number,
    PositiveInteger,
    PositiveNumber,
    StrictModel,
    number,
    problem,
    raise_collected,
    rule_error,
)
from ov_movement.config.presets import DEFAULT_PRESET_BLOCK, PRESET_NAMES, PRESETS
from ov_movement.config.scopes import Scopes, as_list, matches_any
from ov_movement.config.suggest import did_you_mean

MOVEMENT_SPARSITY = "movement_sparsity"
# Algorithm names NNCF 2.19 accepts in `compression` (nncf/config/definitions.py).
NNCF_ALGORITHMS = (
    "bootstrapNAS",
    "const_sparsity",
    "experimental_quantization",
    "filter_pruning",
    "knowledge_distillation",
    "magnitude_sparsity",
    MOVEMENT_SPARSITY,
    "quantization",
    "rb_sparsity",
)
MODES = ("fine", "block", "per_dim")

# NNCF's schema has no nullable values; a JSON null is always a mistake there, so these models
# reject it (pipeline sections, which are ours, accept null where it means "automatic").
_NO_NULL = "must not be null (leave the key out to get the default)"


def _optional(annotation: Any, schema: dict[str, Any]) -> Any:
    """`annotation | None` whose JSON Schema, like NNCF's, does not admit null."""
    return Annotated[annotation | None, WithJsonSchema(schema)]


_SCOPES_SCHEMA = {"type": ["array", "string"], "items": {"type": "string"}}
_Epoch = number(ge=0, le=MAX_EPOCHS)  # training.epochs has the same bound
_BOUNDED_NUMBER = {"type": "number", "maximum": MAX_NUMBER}  # the bounds of base.number()
_BOUNDED_COUNT = {"type": "integer", "exclusiveMinimum": 0, "maximum": MAX_COUNT}
_OptionalNumber = _optional(Number, {**_BOUNDED_NUMBER, "minimum": -MAX_NUMBER})
_OptionalPositiveNumber = _optional(PositiveNumber, {**_BOUNDED_NUMBER, "exclusiveMinimum": 0})
_OptionalSteps = _optional(PositiveInteger, _BOUNDED_COUNT)
_OptionalFactors = _optional(list[PositiveInteger], {"type": "array", "items": _BOUNDED_COUNT})
_OptionalAxis = _optional(Integer, {"enum": [0, 1]})
_OptionalScopes = _optional(Scopes, _SCOPES_SCHEMA)
_OptionalBool = _optional(bool, {"type": "boolean"})
_OptionalPreset = _optional(Literal[PRESET_NAMES], {"enum": list(PRESET_NAMES)})  # type: ignore[valid-type]
# ov-movement's own keys in the movement section: expanded at validation, never handed to NNCF.
PRESET_KEYS = ("preset", "preset_block_size")


class _NncfModel(StrictModel):
    """A model mirroring an NNCF schema object: null values are rejected like unknown keys."""

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema, handler):
        schema = handler.resolve_ref_schema(handler(core_schema))
        for prop in schema.get("properties", {}).values():
            if "default" in prop and prop["default"] is None:  # "unset", not a value one may write
                del prop["default"]
        return schema

    @classmethod
    def prepare(cls, data: dict[str, Any]):
        problems = [problem((key,), _NO_NULL) for key, value in data.items() if value is None]
        return {key: value for key, value in data.items() if value is not None}, problems


class MovementSparsityParams(_NncfModel):
    """`compression.params`: the warm-up schedule (unknown keys are errors, as in NNCF)."""

    warmup_start_epoch: _Epoch = Field(
        description="First epoch of the warm-up (inclusive, zero-based). Epochs may be fractional."
    )
    warmup_end_epoch: _Epoch = Field(
        description="End of the warm-up (exclusive): weights are sparsified gradually for epochs "
        "`start <= epoch < end`. Must be greater than `warmup_start_epoch`."
    )
    importance_regularization_factor: NonNegativeNumber = Field(
        description="Strength of the L1 pull on importance scores: larger means more weights judged "
        "unimportant. Its useful range differs a lot per model and task."
    )
    enable_structured_masking: bool = Field(
        True,
        description="At the end of the warm-up, resolve structured masks across dependent layers (whole "
        "heads, whole FFN rows/columns) and fine-tune on; `false` freezes the unstructured masks.",
    )
    init_importance_threshold: _OptionalNumber = Field(
        None,
        description="Importance threshold at warm-up start (the documentation spells it "
        "`initial_importance_threshold`; both are read, NNCF's spelling is written). Default: chosen "
        "so that ~0.1% of the weights in sparsified layers are masked at warm-up start.",
    )
    final_importance_threshold: Number = Field(0.0, description="Importance threshold at warm-up end.")
    power: PositiveNumber = Field(
        3.0, description="Exponent of the concave polynomial warm-up schedule of threshold and factor."
    )
    steps_per_epoch: _OptionalSteps = Field(
        None,
        description="Optimizer steps per epoch, for the schedule. Measured during the first epoch when "
        "`warmup_start_epoch >= 1`; required otherwise.",
    )

    model_config = ConfigDict(
        json_schema_extra=lambda schema: schema["properties"].update(
            initial_importance_threshold={
                **_BOUNDED_NUMBER,
                "minimum": -MAX_NUMBER,
                "deprecated": True,
                "description": "The documentation's spelling of `init_importance_threshold` (read as it).",
            }
        )
    )

    @classmethod
    def prepare(cls, data: dict[str, Any]):
        data, problems = super().prepare(data)
        if "initial_importance_threshold" in data:
            initial = data.pop("initial_importance_threshold")
            if "init_importance_threshold" not in data:
                data["init_importance_threshold"] = initial
            elif data["init_importance_threshold"] != initial:
                problems.append(
                    problem(
                        ("initial_importance_threshold",),
                        f"conflicts with init_importance_threshold ({data['init_importance_threshold']!r} vs "
                        f"{initial!r}): both name the same setting, give it once",
                        initial,
                    )
                )
        return data, problems

    @field_validator("warmup_end_epoch")
    @classmethod
    def _end_after_start(cls, end: float, info: ValidationInfo) -> float:
        start = info.data.get("warmup_start_epoch")
        if start is not None and end <= start:
            raise rule_error(f"must be greater than warmup_start_epoch ({start})")
        return end

    @field_validator("steps_per_epoch")
    @classmethod
    def _steps_known(cls, steps: int | None, info: ValidationInfo) -> int | None:
        start = info.data.get("warmup_start_epoch")
        if steps is None and start is not None and start < 1:
            # NNCF counts the steps during the epochs before the warm-up; with none, it cannot.
            raise rule_error(
                f"required when warmup_start_epoch is below 1 ({start}): the steps are otherwise "
                "counted during the first epoch, which would already be part of the warm-up"
            )
        return steps


class SparseStructureEntry(_NncfModel):
    """One entry of `sparse_structure_by_scopes`: how the layers matched by `target_scopes` are masked."""

    mode: Literal["fine", "block", "per_dim"] = Field(
        description="fine: each weight on its own; block: `sparse_factors` blocks as a whole; per_dim: "
        "whole rows (`axis: 0`) or columns (`axis: 1`)."
    )
    target_scopes: Scopes = Field(
        description="NNCF node name(s) or `{re}` regular expression(s) selecting the layers."
    )
    sparse_factors: _OptionalFactors = Field(
        None,
        description="Block shape `[rows, cols]`: required for `block`, `[1, 1]` or absent for `fine`, not "
        "allowed for `per_dim`.",
    )
    axis: _OptionalAxis = Field(
        None, description="0: rows, 1: columns. Required for `per_dim`, not allowed otherwise."
    )

    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [
                {
                    "if": {"properties": {"mode": {"const": "block"}}},
                    "then": {"required": ["sparse_factors"], "not": {"required": ["axis"]}},
                },
                {
                    "if": {"properties": {"mode": {"const": "per_dim"}}},
                    "then": {"required": ["axis"], "not": {"required": ["sparse_factors"]}},
                },
                {
                    "if": {"properties": {"mode": {"const": "fine"}}},
                    "then": {
                        "properties": {"sparse_factors": {"const": [1, 1]}},
                        "not": {"required": ["axis"]},
                    },
                },
            ]
        }
    )

    @field_validator("target_scopes")
    @classmethod
    def _some_scope(cls, scopes: str | list[str]) -> str | list[str]:
        if not as_list(scopes):
            raise rule_error("must name at least one scope")
        return scopes

    @field_validator("sparse_factors")
    @classmethod
    def _factors_fit_mode(cls, factors: list[int] | None, info: ValidationInfo) -> list[int] | None:
        mode = info.data.get("mode")
        if mode == "block":
            if factors is None:
                raise rule_error("required when mode is 'block': the block shape [rows, cols], e.g. [32, 32]")
            if len(factors) != 2:
                raise rule_error(f"must be two numbers [rows, cols], got {factors}")
        elif mode == "fine" and factors is not None and factors != [1, 1]:
            raise rule_error(f"must be [1, 1] or left out when mode is 'fine', got {factors}")
        elif mode == "per_dim" and factors is not None:
            raise rule_error("not allowed when mode is 'per_dim' (it masks whole rows or columns: use axis)")
        return factors

    @field_validator("axis")
    @classmethod
    def _axis_fits_mode(cls, axis: int | None, info: ValidationInfo) -> int | None:
        mode = info.data.get("mode")
        if mode == "per_dim":
            if axis is None:
                raise rule_error("required when mode is 'per_dim': 0 masks whole rows, 1 whole columns")
            if axis not in (0, 1):
                raise rule_error(f"must be 0 (rows) or 1 (columns), got {axis}")
        elif mode in ("fine", "block") and axis is not None:
            raise rule_error(f"not allowed when mode is {mode!r} (only per_dim uses axis)")
        return axis


class MovementSparsityConfig(_NncfModel):
    """The `movement_sparsity` algorithm section, as NNCF reads it."""

    algorithm: Literal["movement_sparsity"] = Field(
        MOVEMENT_SPARSITY, description="Must be `movement_sparsity` (may be left out in an object section)."
    )
    params: MovementSparsityParams = Field(description="The warm-up schedule.")
    sparse_structure_by_scopes: list[SparseStructureEntry] = Field(
        default_factory=list,
        description="How matched layers are masked; supported layers matched by no entry use `fine`. "
        "A layer matched by two entries is an error.",
    )
    ignored_scopes: _OptionalScopes = Field(
        None, description="Layers left alone: NNCF node names or `{re}` regular expressions."
    )
    target_scopes: _OptionalScopes = Field(
        None, description="If given, only these layers are considered (same syntax)."
    )
    validate_scopes: _OptionalBool = Field(
        None, description="NNCF: fail when an ignored/target scope matches no layer (NNCF's default: true)."
    )
    compression_lr_multiplier: _OptionalPositiveNumber = Field(
        None, description="Multiplies the gradients of the importance scores (NNCF, PyTorch only)."
    )
    preset: _OptionalPreset = Field(
        None,
        description="ov-movement: the scopes of an architecture (see 'Scope presets'): fills "
        "`sparse_structure_by_scopes` and `ignored_scopes` unless they are given, which then replace "
        "that part of the preset. Not passed to NNCF.",
    )
    preset_block_size: _OptionalSteps = Field(
        None,
        description=f"ov-movement: side of the square blocks of the preset's attention entry (default "
        f"{DEFAULT_PRESET_BLOCK}); must divide the attention head size. Only with `preset`.",
    )

    @classmethod
    def prepare(cls, data: dict[str, Any]):
        data, problems = super().prepare(data)
        algorithm = data.get("algorithm", MOVEMENT_SPARSITY)
        if algorithm != MOVEMENT_SPARSITY:
            if algorithm in NNCF_ALGORITHMS:
                message = (
                    f"ov-movement runs movement_sparsity; {algorithm!r} can only come alongside it, "
                    "as a list: [{movement_sparsity section}, {" + algorithm + " section}]"
                )
            else:
                message = f"must be 'movement_sparsity', got {algorithm!r}" + did_you_mean(
                    str(algorithm), NNCF_ALGORITHMS
                )
            # Nothing else in a section for another algorithm means anything here.
            raise_collected(cls.__name__, [problem(("algorithm",), message, algorithm)])
        problems += _expand_preset(data)
        problems += _duplicate_scopes(data.get("sparse_structure_by_scopes"))
        return data, problems

    def to_nncf(self) -> dict[str, Any]:
        """The section handed to NNCF: normalised spellings, defaults explicit, no keys NNCF lacks."""
        return self.model_dump(mode="json", exclude_none=True, by_alias=True, exclude=set(PRESET_KEYS))

    def preset_parts(self) -> list[str]:
        """Which of `sparse_structure_by_scopes` / `ignored_scopes` are the preset's (empty without one)."""
        if self.preset is None:
            return []
        preset = PRESETS[self.preset]
        block = self.preset_block_size or DEFAULT_PRESET_BLOCK
        parts = []
        structure = [
            entry.model_dump(mode="json", exclude_none=True) for entry in self.sparse_structure_by_scopes
        ]
        if structure == preset.structure(block):
            parts.append("sparse_structure_by_scopes")
        ignored = list(as_list(self.ignored_scopes)) if self.ignored_scopes is not None else None
        # head=False: the preset filled for a model whose head is outside NNCF (question answering).
        if ignored is not None and ignored in (preset.ignored_scopes(), preset.ignored_scopes(head=False)):
            parts.append("ignored_scopes")
        return parts

    def entries_matching(self, node_name: str) -> list[int]:
        """Indices of the `sparse_structure_by_scopes` entries whose scopes match an NNCF node name."""
        return [
            i
            for i, entry in enumerate(self.sparse_structure_by_scopes)
            if matches_any(node_name, entry.target_scopes)
        ]


def _expand_preset(data: dict[str, Any]) -> list:
    """Fill the scopes a preset stands for; keys given explicitly win. Runs on the raw section."""
    preset, block = data.get("preset"), data.get("preset_block_size")
    if preset is None:
        if block is not None:
            return [
                problem(
                    ("preset_block_size",),
                    "only has an effect with `preset` (set the block size "
                    "in sparse_structure_by_scopes instead)",
                    block,
                )
            ]
        return []
    if not isinstance(preset, str) or preset not in PRESETS:
        return []  # the field's own validation names the known presets
    valid_block = isinstance(block, int) and not isinstance(block, bool) and block > 0
    preset_def = PRESETS[preset]
    if "sparse_structure_by_scopes" not in data:
        data["sparse_structure_by_scopes"] = preset_def.structure(
            block if valid_block else DEFAULT_PRESET_BLOCK
        )
    if "ignored_scopes" not in data:
        data["ignored_scopes"] = preset_def.ignored_scopes()
    return []


def _duplicate_scopes(entries: Any) -> list:
    """The same scope string in two entries: every layer it matches would be matched twice."""
    if not isinstance(entries, list):
        return []
    first_seen: dict[str, int] = {}
    problems = []
    for index, entry in enumerate(entries):
        scopes = (
            entry.get("target_scopes") if isinstance(entry, dict) else getattr(entry, "target_scopes", None)
        )
        is_list = isinstance(scopes, list)
        for position, scope in enumerate(scopes if is_list else [scopes]):
            if not isinstance(scope, str):
                continue
            if scope in first_seen and first_seen[scope] != index:
                loc = ("sparse_structure_by_scopes", index, "target_scopes") + (
                    (position,) if is_list else ()
                )
                problems.append(
                    problem(
                        loc,
                        f"{scope!r} is also a target of sparse_structure_by_scopes"
                        f"[{first_seen[scope]}]: a layer matched by two entries is an error",
                        scope,
                    )
                )
            first_seen.setdefault(scope, index)
    return problems


# ---- other algorithms in a `compression` list --------------------------------------------------


class OtherAlgorithmSection(BaseModel):
    """Another NNCF algorithm next to movement sparsity: checked loosely, kept as written (NNCF checks
    a `quantization` section when it builds the model)."""

    model_config = ConfigDict(extra="allow", strict=True, title="OtherAlgorithmSection")

    algorithm: str = Field(
        json_schema_extra={"enum": [a for a in NNCF_ALGORITHMS if a != MOVEMENT_SPARSITY]},
        description="Another NNCF algorithm: `quantization` runs as quantization-aware training next to "
        "movement sparsity (JPQD); the others are kept as written but not run yet.",
    )

    @field_validator("algorithm")
    @classmethod
    def _known_algorithm(cls, algorithm: str) -> str:
        if algorithm not in NNCF_ALGORITHMS:
            raise rule_error(
                f"unknown NNCF algorithm {algorithm!r}" + did_you_mean(algorithm, NNCF_ALGORITHMS)
            )
        return algorithm


def _keep_as_written(value: Any, handler) -> Any:
    handler(value)  # validation only; the section stays a plain dict for NNCF
    return copy.deepcopy(value) if isinstance(value, dict) else value.model_dump()


def _algorithm_kind(value: Any) -> str:
    if isinstance(value, MovementSparsityConfig):
        return "<movement>"
    algorithm = value.get("algorithm") if isinstance(value, dict) else None
    return "<movement>" if algorithm == MOVEMENT_SPARSITY else "<other>"


CompressionItem = Annotated[
    Annotated[MovementSparsityConfig, Tag("<movement>")]
    | Annotated[
        OtherAlgorithmSection,
        WrapValidator(_keep_as_written),
        # Kept as a plain dict: serialised as written (else pydantic warns it is not the model).
        PlainSerializer(copy.deepcopy),
        Tag("<other>"),
    ],
    Discriminator(_algorithm_kind),
]


def _exactly_one_movement(value: Any, handler) -> Any:
    problems = []
    if isinstance(value, list):
        movement = [i for i, item in enumerate(value) if _algorithm_kind(item) == "<movement>"]
        if not movement:
            names = [
                item["algorithm"]
                for item in value
                if isinstance(item, dict) and isinstance(item.get("algorithm"), str)
            ]
            found = f" (found: {', '.join(map(str, names))})" if names else " (the list is empty)"
            problems.append(problem((), f"needs exactly one movement_sparsity section{found}", value))
        for index in movement[1:]:
            problems.append(
                problem(
                    (index, "algorithm"),
                    "a second movement_sparsity section (the first is "
                    f"compression[{movement[0]}]): only one is allowed",
                    MOVEMENT_SPARSITY,
                )
            )
    try:
        result = handler(value)
    except ValidationError as error:
        raise_collected("compression", problems, error)
    if problems:
        raise_collected("compression", problems)
    return result


CompressionList = Annotated[list[CompressionItem], WrapValidator(_exactly_one_movement)]


def _section_kind(value: Any) -> str:
    return "<list>" if isinstance(value, list) else "<object>"


# `compression` as NNCF accepts it: one algorithm object, or a list of algorithm objects.
CompressionSection = Annotated[
    Annotated[MovementSparsityConfig, Tag("<object>")] | Annotated[CompressionList, Tag("<list>")],
    Discriminator(_section_kind),
]

__all__ = [
    "MODES",
    "MOVEMENT_SPARSITY",
    "NNCF_ALGORITHMS",
    "PRESET_KEYS",
    "CompressionSection",
    "MovementSparsityConfig",
    "MovementSparsityParams",
    "OtherAlgorithmSection",
    "SparseStructureEntry",
]
