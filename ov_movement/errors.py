"""The one exception family for errors a user can cause.

The CLI maps every `OvMovementError` to a message without traceback and exit code 2; anything else
is an internal bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


class OvMovementError(Exception):
    """Base of all errors a user can cause and fix (bad config, bad data, failed verification)."""

    exit_code = 2


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in a config, with its location as a dotted path (`compression.params.power`)."""

    loc: str
    msg: str

    def __str__(self) -> str:
        return f"{self.loc}: {self.msg}" if self.loc else self.msg


class ConfigError(OvMovementError):
    """One or more problems in a configuration; all of them are reported together."""

    def __init__(self, issues: Iterable[ConfigIssue] | str, *, source: str | None = None):
        if isinstance(issues, str):
            issues = [ConfigIssue("", issues)]
        self.issues: list[ConfigIssue] = list(issues)
        self.source = source
        super().__init__(self._render())

    def _render(self) -> str:
        head = f"{self.source}: " if self.source else ""
        if len(self.issues) == 1:
            return f"{head}{self.issues[0]}"
        lines = [f"{head}{len(self.issues)} problems:"]
        lines += [f"  - {issue}" for issue in self.issues]
        return "\n".join(lines)


class StageError(OvMovementError):
    """A stage could not do its work for a reason the user can act on (data, model, environment)."""


class VerificationError(StageError):
    """An artefact failed its equivalence or integrity check (names the output and the difference)."""


__all__ = ["ConfigError", "ConfigIssue", "OvMovementError", "StageError", "VerificationError"]
