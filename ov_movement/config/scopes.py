"""NNCF scope patterns: a full node name, or a regular expression marked with `{re}`.

Mirrors `nncf.common.scopes.matches_any` (NNCF 2.19) exactly, so that checks made here against a
model's node names agree with what NNCF will do: a pattern containing `{re}` anywhere has every
`{re}` removed and is searched (`re.search`, not a full match) in the node name; any other pattern
must equal the node name.
"""

from __future__ import annotations

import re
import signal
import threading
import time
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


class _OutOfTime(Exception):
    pass


def searches_in_time(pattern: str, names: Sequence[str], limit_s: float = PATTERN_TIME_LIMIT_S) -> bool:
    """Whether `re.search` of this `{re}` pattern finishes on every name within `limit_s` in total.

    The check uses `re` itself, the engine NNCF matches with: the `regex` package finishes some
    patterns quickly that send `re` into exponential backtracking, so it cannot vouch for them.
    `re` cannot be given a timeout, but it does let signal handlers run while it backtracks, so in
    the main thread an interval timer interrupts it. Elsewhere (no signals) the `regex` package's
    timeout is the best available approximation."""
    expression = pattern.replace(REGEX_MARK, "")
    if threading.current_thread() is not threading.main_thread():
        return _regex_in_time(expression, names, limit_s)

    def expire(signum, frame):
        raise _OutOfTime

    previous_handler = signal.signal(signal.SIGALRM, expire)
    previous_timer = signal.setitimer(signal.ITIMER_REAL, limit_s)
    try:
        compiled = re.compile(expression)
        for name in names:
            compiled.search(name)
        return True
    except _OutOfTime:
        return False
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous_handler)
        if previous_timer[0] > 0:  # someone else's timer was running: let it continue
            signal.setitimer(signal.ITIMER_REAL, *previous_timer)


def _regex_in_time(expression: str, names: Sequence[str], limit_s: float) -> bool:
    import regex

    deadline = time.monotonic() + limit_s
    try:
        compiled = regex.compile(expression)
        for name in names:
            compiled.search(name, timeout=max(deadline - time.monotonic(), 0.001))
    except TimeoutError:
        return False
    except regex.error:  # accepted by `re` (checked at validation): nothing more to learn here
        return True
    return True


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
]
