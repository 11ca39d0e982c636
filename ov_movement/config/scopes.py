"""NNCF scope patterns: a full node name, or a regular expression marked with `{re}`.

Mirrors `nncf.common.scopes.matches_any` (NNCF 2.19) exactly, so that checks made here against a
model's node names agree with what NNCF will do: a pattern containing `{re}` anywhere has every
`{re}` removed and is searched (`re.search`, not a full match) in the node name; any other pattern
must equal the node name.
"""

from __future__ import annotations

import json
import os
import re
import selectors
import subprocess
import sys
from collections.abc import Iterable, Sequence
from typing import Annotated, Any

from pydantic import AfterValidator, Discriminator, Tag

from ov_movement.config.base import rule_error

REGEX_MARK = "{re}"


def is_regex(pattern: str) -> bool:
    return REGEX_MARK in pattern


def matches(node_name: str, pattern: str) -> bool:
    """Whether NNCF would match `node_name` with this one pattern."""
    if is_regex(pattern):
        return re.search(pattern.replace(REGEX_MARK, ""), node_name) is not None
    return node_name == pattern


# Seconds one `{re}` pattern may take to search all node names of a model (a few thousand): a sane
# pattern needs microseconds; one with catastrophic backtracking (`([A-Za-z]+)+\d$`) needs years.
PATTERN_TIME_LIMIT_S = 2.0
_START_UP_LIMIT_S = 60.0  # a child interpreter that cannot start within this is not a slow pattern

# The searches run in a child interpreter that is killed when a pattern runs out of time: `re` (the
# engine NNCF matches with) has no timeout, and the `regex` package, which has one, finishes some
# patterns quickly that send `re` into exponential backtracking, so it cannot vouch for them. (A
# SIGALRM timer in this process would reach threads of OpenVINO and torch too.)
_SEARCHER = """
import json, re, sys
job = json.loads(sys.stdin.read())
print("ready", flush=True)
for pattern in job["patterns"]:
    compiled = re.compile(pattern)
    for name in job["names"]:
        compiled.search(name)
    print("done", flush=True)
"""


def slow_patterns(
    patterns: Sequence[str], names: Sequence[str], limit_s: float = PATTERN_TIME_LIMIT_S
) -> list[str]:
    """The `{re}` patterns among `patterns` whose `re.search` over all `names` takes more than
    `limit_s` (each pattern its own limit)."""
    expressions = [(pattern, pattern.replace(REGEX_MARK, "")) for pattern in patterns if is_regex(pattern)]
    slow: list[str] = []
    while expressions:
        finished = _search_until_slow([expression for _, expression in expressions], names, limit_s)
        if finished == len(expressions):
            break
        slow.append(expressions[finished][0])
        expressions = expressions[finished + 1 :]
    return slow


def _search_until_slow(expressions: list[str], names: Sequence[str], limit_s: float) -> int:
    """How many of `expressions`, in order, finished in time before one did not (or all)."""
    child = subprocess.Popen(
        [sys.executable, "-I", "-S", "-c", _SEARCHER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write(json.dumps({"patterns": expressions, "names": list(names)}).encode())
        child.stdin.close()
        received = b""
        with selectors.DefaultSelector() as selector:
            selector.register(child.stdout, selectors.EVENT_READ)
            # A line once the child is ready (its start-up is not the patterns' time), then one
            # per finished pattern.
            for done in range(-1, len(expressions)):
                while received.count(b"\n") <= done + 1:
                    if not selector.select(timeout=limit_s if done >= 0 else _START_UP_LIMIT_S):
                        return done if done >= 0 else len(expressions)  # no start: cannot judge
                    chunk = os.read(child.stdout.fileno(), 4096)
                    if not chunk:  # the child failed (the config check compiled every pattern)
                        return len(expressions)
                    received += chunk
        return len(expressions)
    finally:
        child.kill()
        child.wait()


def searches_in_time(pattern: str, names: Sequence[str], limit_s: float = PATTERN_TIME_LIMIT_S) -> bool:
    """Whether NNCF's `re.search` of this pattern over all `names` finishes within `limit_s`."""
    return not slow_patterns([pattern], names, limit_s)


def matches_any(node_name: str, patterns: str | Iterable[str] | None) -> bool:
    if patterns is None:
        return False
    return any(matches(node_name, pattern) for pattern in as_list(patterns))


def as_list(patterns: str | Iterable[str] | None) -> list[str]:
    """A scope value as a list (NNCF accepts a single string or a list of strings)."""
    if patterns is None:
        return []
    return [patterns] if isinstance(patterns, str) else list(patterns)


def _check_pattern(pattern: str) -> str:
    if not pattern.strip():
        raise rule_error("must not be empty (a scope is a node name or a `{re}` regular expression)")
    if is_regex(pattern):
        expression = pattern.replace(REGEX_MARK, "")
        try:
            re.compile(expression)
        # re.error for bad syntax; OverflowError/RecursionError for absurd repeats or nesting.
        except (re.error, OverflowError, RecursionError) as error:
            raise rule_error(f"invalid regular expression {pattern!r}: {error}") from None
    return pattern


ScopePattern = Annotated[str, AfterValidator(_check_pattern)]


def _one_or_list(value: Any) -> str:
    return "<list>" if isinstance(value, list) else "<one>"


# A single pattern or a list of them, as NNCF accepts; the tags keep pydantic from reporting every
# error twice (once per union member). issues.py drops the `<...>` tags from locations.
Scopes = Annotated[
    Annotated[ScopePattern, Tag("<one>")] | Annotated[list[ScopePattern], Tag("<list>")],
    Discriminator(_one_or_list),
]

__all__ = [
    "PATTERN_TIME_LIMIT_S",
    "REGEX_MARK",
    "ScopePattern",
    "Scopes",
    "as_list",
    "is_regex",
    "matches",
    "matches_any",
    "searches_in_time",
    "slow_patterns",
]
