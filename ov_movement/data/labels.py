"""Labels compared by name: one normalised spelling per label wherever it comes from (a file's
column, a folder's name, a dataset's ClassLabel), ids 0..K-1 and a warning when spellings merged.
(The rules: ov_movement.data.examples.)"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np

from ov_movement.errors import StageError

log = logging.getLogger(__name__)


def describe_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return f"a {type(value).__name__}"


_NUMERIC = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")


def label_name(value: Any, where: str) -> str:
    """The one spelling of a label: trimmed, Unicode NFC, numbers canonical (see the module doc)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        if not math.isfinite(value):
            raise StageError(f"{where}: label {value} is not a finite number")
        return _canonical_number(repr(float(value)))
    if not isinstance(value, str):
        raise StageError(f"{where}: a label must be a string or a number, got {describe_kind(value)}")
    text = unicodedata.normalize("NFC", value).strip()
    if not text:
        raise StageError(f"{where}: the label is empty (only whitespace)")
    return _canonical_number(text) if _NUMERIC.fullmatch(text) else text


def _canonical_number(text: str) -> str:
    try:
        number = Decimal(text)
    except InvalidOperation:
        return text
    if abs(number.adjusted()) > 30:  # not a class number anyone writes: keep the spelling
        return text
    if number == number.to_integral_value():
        return str(int(number))
    return format(number.normalize(), "f")


def _number_key(name: str) -> Decimal | None:
    try:
        return Decimal(name) if _NUMERIC.fullmatch(name) else None
    except InvalidOperation:
        return None


def index_labels(
    names_seen: Sequence[str], names: list[str] | None, where: str
) -> tuple[list[int], list[str]]:
    """Label names (already `label_name`d) -> ids 0..K-1. Known class names (folders, ClassLabel, the
    train labels for an eval file) win; else the sorted unique names, numerically when all are numbers."""
    if names is None:
        unique = set(names_seen)
        keys = {name: _number_key(name) for name in unique}
        if all(key is not None for key in keys.values()):
            names = sorted(unique, key=lambda name: keys[name])
        else:
            names = sorted(unique)
    lookup = {name: i for i, name in enumerate(names)}
    ids = []
    for name in names_seen:
        if name not in lookup:
            raise StageError(f"{where}: label {name!r} is not one of {names}")
        ids.append(lookup[name])
    return ids, names


def warn_merged_spellings(raw_labels: Iterable[tuple[Any, str]], where: str) -> None:
    spellings: dict[str, set[str]] = {}
    for raw, name in raw_labels:
        spellings.setdefault(name, set()).add(raw if isinstance(raw, str) else repr(raw))
    merged = {name: sorted(found) for name, found in spellings.items() if len(found) > 1}
    for name, found in list(merged.items())[:5]:
        log.warning(
            "%s: labels %s are one class %r (labels are compared trimmed, in Unicode NFC, numbers by value)",
            where,
            ", ".join(map(repr, found)),
            name,
        )


__all__ = ["describe_kind", "index_labels", "label_name", "warn_merged_spellings"]
