"""Pydantic validation errors -> `ConfigIssue`s: dotted locations with list indices, plain messages.

`compression.sparse_structure_by_scopes[1].axis: must be 0 (rows) or 1 (columns), got 2` is the
shape of every message. Messages ov-movement phrases itself (type `RULE`) pass through unchanged;
pydantic's own are rephrased from their type and context, never from pydantic's English.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from ov_movement.config.base import RULE, describe
from ov_movement.config.suggest import did_you_mean
from ov_movement.errors import ConfigIssue


def format_loc(loc: Sequence[str | int]) -> str:
    """('compression', '<list>', 0, 'params', 'power') -> 'compression[0].params.power'."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part.startswith("<") and part.endswith(">"):
            continue  # a union tag (see scopes.Scopes), not a key of the document
        else:
            text += f".{part}" if text else part
    return text


_MISSING = "missing (required)"
_YAML11_BOOLEANS = frozenset({"yes", "no", "on", "off", "y", "n"})


def _choices(expected: str) -> list[str]:
    return re.findall(r"'([^']*)'", expected)


def _message(error: dict[str, Any]) -> str:
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx") or {}
    got = describe(value)
    if kind == RULE:
        return error["msg"]
    if kind == "missing":
        return _MISSING
    if kind == "extra_forbidden":
        return "unknown key"
    if kind in ("model_type", "model_attributes_type", "dict_type", "dataclass_type"):
        return f"must be a mapping (keys and values), got {got}"
    if kind == "list_type":
        return f"must be a list, got {got}"
    if kind == "string_type":
        return f"must be a string, got {got}"
    if kind == "bool_type":
        hint = ""
        if isinstance(value, str) and value.lower() in _YAML11_BOOLEANS:
            hint = " (pipeline files are read as YAML 1.2, where yes/no/on/off are text: write true or false)"
        return f"must be true or false, got {got}{hint}"
    if kind in ("int_type", "int_from_float"):
        return f"must be an integer, got {got}"
    if kind in ("float_type", "float_parsing"):
        return f"must be a number, got {got}"
    if kind == "literal_error":
        choices = _choices(str(ctx.get("expected", "")))
        hint = did_you_mean(value, choices) if isinstance(value, str) else ""
        return f"must be one of {', '.join(map(repr, choices))}, got {got}{hint}"
    bounds = {
        "greater_than": ("greater than", "gt"),
        "greater_than_equal": ("at least", "ge"),
        "less_than": ("less than", "lt"),
        "less_than_equal": ("at most", "le"),
    }
    if kind in bounds:
        words, key = bounds[kind]
        return f"must be {words} {ctx.get(key)}, got {got}"
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    return str(error["msg"])


def issues_from_validation_error(
    error: ValidationError, prefix: Sequence[str | int] = ()
) -> list[ConfigIssue]:
    """Every error of `error` as a ConfigIssue, duplicates dropped, in pydantic's order."""
    issues: list[ConfigIssue] = []
    for item in error.errors(include_url=False):
        issue = ConfigIssue(format_loc([*prefix, *item["loc"]]), _message(item))
        if issue not in issues:
            issues.append(issue)
    # A key given as null is reported as such; "missing" at the same place would only repeat it.
    explained = {issue.loc for issue in issues if issue.msg != _MISSING}
    return [issue for issue in issues if issue.msg != _MISSING or issue.loc not in explained]


def sort_by_document(issues: list[ConfigIssue], document: Any) -> list[ConfigIssue]:
    """Order issues as their locations appear in the document (missing keys after present ones)."""

    def order(issue: ConfigIssue) -> list[int]:
        key, node = [], document
        for part in re.findall(r"[^.\[\]]+|\[\d+\]", issue.loc):
            if part.startswith("[") and isinstance(node, list):
                index = int(part[1:-1])
                key.append(index)
                node = node[index] if index < len(node) else None
            elif isinstance(node, dict):
                keys = [str(k) for k in node]
                key.append(keys.index(part) if part in keys else len(keys))
                node = node.get(part)
            else:
                key.append(0)
                node = None
        return key

    return sorted(issues, key=order)


__all__ = ["format_loc", "issues_from_validation_error", "sort_by_document"]
