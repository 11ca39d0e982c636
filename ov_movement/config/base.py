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


def _number(value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        hint = ""
        if isinstance(value, str) and _looks_numeric(value):
            hint = " (write it without quotes)"
            if "e" in value.lower() and "." not in value:
                # YAML 1.1 reads `1e-2` (exponent, no dot) as text, not as a number.
                hint = f" (YAML reads {value} as text: write {float(value)!r} or add a dot, as in 1.0e-2)"
        raise rule_error(f"must be a number, got {describe(value)}{hint}")
    if isinstance(value, float) and not math.isfinite(value):
        raise rule_error(f"must be a finite number, got {value}")
    return value


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            raise rule_error(f"must be an integer, got {value} (write {int(value)})")
        raise rule_error(f"must be an integer, got {describe(value)}")
    return value


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _at_least(bound: float, strict: bool):
    def check(value: int | float) -> int | float:
        if value < bound or (strict and value == bound):
            raise rule_error(f"must be {'greater than' if strict else 'at least'} {bound}, got {value}")
        return value

    return AfterValidator(check)


def _lower_bounds(json_type: str, ge: float | None, gt: float | None) -> tuple[list[Any], dict[str, Any]]:
    """Validators and the JSON Schema for an optional inclusive / exclusive lower bound."""
    schema: dict[str, Any] = {"type": json_type}
    checks = []
    if ge is not None:
        schema["minimum"] = ge
        checks.append(_at_least(ge, strict=False))
    if gt is not None:
        schema["exclusiveMinimum"] = gt
        checks.append(_at_least(gt, strict=True))
    return checks, schema


def number(*, ge: float | None = None, gt: float | None = None) -> Any:
    """A JSON number (int or float, never bool or string), optionally bounded below."""
    checks, schema = _lower_bounds("number", ge, gt)
    return Annotated[int | float, PlainValidator(_number), *checks, WithJsonSchema(schema)]


def integer(*, ge: int | None = None, gt: int | None = None) -> Any:
    """A JSON integer (never bool or float), optionally bounded below."""
    checks, schema = _lower_bounds("integer", ge, gt)
    return Annotated[int, PlainValidator(_integer), *checks, WithJsonSchema(schema)]


Number = number()
NonNegativeNumber = number(ge=0)
PositiveNumber = number(gt=0)
Integer = integer()
PositiveInteger = integer(gt=0)

__all__ = [
    "RULE",
    "Integer",
    "NonNegativeNumber",
    "Number",
    "PositiveInteger",
    "PositiveNumber",
    "StrictModel",
    "describe",
    "integer",
    "number",
    "problem",
    "raise_collected",
    "rule_error",
]
