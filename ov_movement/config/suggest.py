"""Hints for misspelt keys, algorithm names and modes ("did you mean 'block'?")."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to `word`, if one is close enough to be a plausible typo."""
    options = list(candidates)
    # Case slips ("Block", "Warmup_Start_Epoch") are the commonest typo and difflib scores them low.
    by_case = {option.lower(): option for option in options}
    if word.lower() in by_case:
        return by_case[word.lower()]
    matches = difflib.get_close_matches(word, options, n=1, cutoff=0.75)
    return matches[0] if matches else None


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """`; did you mean 'x'?` when a candidate is close, else an empty string (appended to messages)."""
    match = closest(word, candidates)
    return f"; did you mean {match!r}?" if match else ""


__all__ = ["closest", "did_you_mean"]
