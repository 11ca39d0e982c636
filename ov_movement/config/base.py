"""Shared base for config models and the small value types they share.

Two things pydantic does not do by itself and NNCF users need:
- unknown keys are rejected *with a hint* ("did you mean 'warmup_end_epoch'?"), as NNCF's schema
  rejects them (`additionalProperties: false`) but without the guesswork;
- problems are *collected*: a model-level check (unknown keys, normalisation conflicts, rules across
  list items) is merged with the field errors instead of replacing them, so one run of `validate`
  lists everything that is wrong.

Numbers mirror JSON Schema's `number`/`integer` (NNCF validates with jsonschema): booleans and
numeric strings are not numbers, and integers stay integers so a dumped config reads as written.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Annotated, Any, ClassVar, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    PlainValidator,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError
from pydantic_core.core_schema import ErrorType

from ov_movement.config.suggest import did_you_mean

# Error type of every problem ov-movement phrases itself; `issues.py` keeps these messages as they are.
RULE = "ov_movement_rule"

Loc = tuple[str | int, ...]


def rule_error(message: str) -> PydanticCustomError:
    """A validation error whose message is final (no pydantic rephrasing)."""
    return PydanticCustomError(RULE, message)


def problem(loc: Loc, message: str, value: Any = None) -> InitErrorDetails:
    """One located problem, for checks that look at more than the field being validated."""
    return InitErrorDetails(type=rule_error(message), loc=loc, input=value)


def describe(value: Any) -> str:
    """A short, user-facing description of a value of the wrong kind."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the string {shown!r}"
    if isinstance(value, int | float):
        return show(value)
    if isinstance(value, OversizedInteger):
        return repr(value)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a {type(value).__name__}"


def raise_collected(title: str, problems: Sequence[InitErrorDetails], error: ValidationError | None = None):
    """Raise one ValidationError holding `problems` plus the errors of `error` (if any)."""
    details = list(problems)
    for item in error.errors() if error is not None else ():
        if item["type"] in _PYDANTIC_ERROR_TYPES:  # keeps type and context: issues.py phrases them
            details.append(
                InitErrorDetails(
                    type=item["type"], loc=item["loc"], input=item["input"], ctx=item.get("ctx", {})
                )
            )
        else:  # ours (or a custom type): the message is final
            details.append(
                InitErrorDetails(
                    type=PydanticCustomError(item["type"], item["msg"]), loc=item["loc"], input=item["input"]
                )
            )
    raise ValidationError.from_exception_data(title, details)


_PYDANTIC_ERROR_TYPES = frozenset(get_args(ErrorType))


class StrictModel(BaseModel):
    """Base of every config model: strict JSON types, unknown keys rejected, all problems collected."""

    model_config = ConfigDict(extra="forbid", validate_default=True, populate_by_name=True, strict=True)

    # Keys that are not fields but deserve a specific explanation instead of "unknown key".
    rejected_keys: ClassVar[dict[str, str]] = {}

    @classmethod
    def known_keys(cls) -> list[str]:
        """The keys a document may use (aliases, such as `$schema`, instead of field names)."""
        return [field.alias or name for name, field in cls.model_fields.items()]

    @classmethod
    def prepare(cls, data: dict[str, Any]) -> tuple[dict[str, Any], list[InitErrorDetails]]:
        """Hook run before field validation: normalise spellings, check rules across fields or items.

        Must tolerate values of any type (field validation has not run yet); returns the data to
        validate and the problems found.
        """
        return data, []

    @model_validator(mode="wrap")
    @classmethod
    def _collect_problems(cls, data: Any, handler):
        if not isinstance(data, dict):
            return handler(data)
        data, problems = cls.prepare(dict(data))
        known = cls.known_keys()
        for key in [key for key in data if key not in known]:
            problems.append(
                problem((str(key),), _unknown_key_message(str(key), known, cls.rejected_keys), data.pop(key))
            )
        try:
            result = handler(data)
        except ValidationError as error:
            if not problems:
                raise
            raise_collected(cls.__name__, problems, error)
        if problems:
            raise_collected(cls.__name__, problems)
        return result


def _unknown_key_message(key: str, known: Iterable[str], rejected: dict[str, str]) -> str:
    if key in rejected:
        return rejected[key]
    known = [k for k in known if not k.startswith("$")]
    hint = did_you_mean(key, known)
    if hint:
        return f"unknown key {key!r}{hint}"
    return f"unknown key {key!r} (allowed: {', '.join(known)})"


# ---- value types -------------------------------------------------------------------------------
#
# Every number in a config is one of these two types: finite, bounded below where the field needs
# it and *always* bounded above, so that no value that validates can overflow a C integer (seeds,
# counts), hang a run (a sample count of 1e20) or crash a library (`benchmark_app -t inf`).

MAX_COUNT = 10**9  # examples, steps, samples: far beyond a real run, far below an overflow
MAX_NUMBER = 10**15  # the magnitude of a number no field sets more tightly
MAX_SEED = 2**32 - 1  # numpy's RandomState and torch accept seeds in [0, 2**32)
MAX_EPOCHS = 10_000
MAX_BATCH = 65_536
MAX_SEQ_LENGTH = 4096
MAX_THREADS = 1024
# Integers written with more digits than this are not turned into Python ints by the readers
# (config/load.py): a 5000-digit integer would exceed Python's int/str conversion limit and crash
# the first message that prints it.
MAX_DIGITS = 40


class OversizedInteger:
    """An integer literal too long to be a value of any field, as the readers keep it: its digit count."""

    def __init__(self, digits: int):
        self.digits = digits

    def __repr__(self) -> str:
        return f"an integer of {self.digits} digits"


def show(value: Any) -> str:
    """A number as messages print it (an absurdly long integer by its length only)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**MAX_DIGITS:
        return f"an integer of {len(str(abs(value))) if abs(value) < 10**4000 else 'thousands of'} digits"
    return repr(value) if isinstance(value, OversizedInteger) else str(value)


def _number(value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        hint = ""
        if isinstance(value, str) and _looks_numeric(value):
            hint = " (write it without quotes)"
        raise rule_error(f"must be a number, got {describe(value)}{hint}")
    if isinstance(value, float) and not math.isfinite(value):
        raise rule_error(f"must be a finite number, got {value}")
    return value


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer() and abs(value) <= 2**53:
            raise rule_error(f"must be an integer, got {value} (write {int(value)})")
        raise rule_error(f"must be an integer, got {describe(value)}")
    return value


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _bound(bound: float, kind: str):
    words = {"ge": "at least", "gt": "greater than", "le": "at most", "lt": "less than"}[kind]
    shown = f"{bound:g}" if isinstance(bound, float) and not float(bound).is_integer() else f"{int(bound)}"

    def check(value: int | float) -> int | float:
        failed = {
            "ge": value < bound,
            "gt": value <= bound,
            "le": value > bound,
            "lt": value >= bound,
        }[kind]
        if failed:
            raise rule_error(f"must be {words} {shown}, got {show(value)}")
        return value

    return AfterValidator(check)


_SCHEMA_KEYS = {"ge": "minimum", "gt": "exclusiveMinimum", "le": "maximum", "lt": "exclusiveMaximum"}


def _bounds(json_type: str, **bounds: float | None) -> tuple[list[Any], dict[str, Any]]:
    """Validators and the JSON Schema for the given inclusive / exclusive bounds."""
    schema: dict[str, Any] = {"type": json_type}
    checks = []
    for kind, bound in bounds.items():
        if bound is not None:
            schema[_SCHEMA_KEYS[kind]] = bound
            checks.append(_bound(bound, kind))
    return checks, schema


def _as_float(value: int | float) -> float:
    return float(value)


def number(
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    real: bool = False,
) -> Any:
    """A finite JSON number (int or float, never bool or string) within bounds.

    Without `le`/`lt` the magnitude is at most MAX_NUMBER; `real=True` stores integers as floats
    (fields that were always floats keep dumping as floats)."""
    if le is None and lt is None:
        le = MAX_NUMBER
    if ge is None and gt is None:
        ge = -MAX_NUMBER
    checks, schema = _bounds("number", ge=ge, gt=gt, le=le, lt=lt)
    after = [AfterValidator(_as_float)] if real else []
    return Annotated[int | float, PlainValidator(_number), *checks, *after, WithJsonSchema(schema)]


def integer(*, ge: int | None = None, gt: int | None = None, le: int = MAX_COUNT) -> Any:
    """A JSON integer (never bool or float) within bounds; at most MAX_COUNT unless `le` says."""
    if ge is None and gt is None:
        ge = -MAX_COUNT
    checks, schema = _bounds("integer", ge=ge, gt=gt, le=le)
    return Annotated[int, PlainValidator(_integer), *checks, WithJsonSchema(schema)]


Number = number()
NonNegativeNumber = number(ge=0)
PositiveNumber = number(gt=0)
Integer = integer()
PositiveInteger = integer(gt=0)
Seed = integer(ge=0, le=MAX_SEED)

__all__ = [
    "MAX_BATCH",
    "MAX_COUNT",
    "MAX_DIGITS",
    "MAX_EPOCHS",
    "MAX_NUMBER",
    "MAX_SEED",
    "MAX_SEQ_LENGTH",
    "MAX_THREADS",
    "RULE",
    "Integer",
    "NonNegativeNumber",
    "Number",
    "PositiveInteger",
    "OversizedInteger",
    "PositiveNumber",
    "Seed",
    "StrictModel",
    "describe",
    "integer",
    "number",
    "problem",
    "raise_collected",
    "rule_error",
    "show",
]
