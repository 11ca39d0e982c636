"""What the runner prints: one line per stage, and the plan table of `status` and `--dry-run`.

Rich styling only when stdout is a terminal; plain lines otherwise (logs, CI, pipes, tests).
rich is imported only then, to keep non-interactive runs lean.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ov_movement.runner.plan import CACHED, DAMAGED, MISSING, REUSE, RUN, STALE, Plan, PlannedStage

_STYLES = {
    CACHED: "green",
    STALE: "yellow",
    MISSING: "yellow",
    DAMAGED: "red",
    "running": "cyan",
    "done": "bold green",
    "failed": "bold red",
    "interrupted": "bold red",
    "would run": "cyan",
}


def shown(path: Path) -> str:
    """A path as short as is unambiguous: relative to the current directory when inside it."""
    relative = os.path.relpath(path)
    return str(path) if relative.startswith("..") else relative


class Progress:
    def __init__(self, *, rich: bool = False, width: int = 10):
        self.width = width
        self._console = None
        if rich:
            from rich.console import Console

            self._console = Console(highlight=False)

    def _emit(self, name: str, status: str, detail: str = "") -> None:
        if self._console is None:
            line = f"{name:<{self.width}}  {status}"
            print(f"{line}  {detail}" if detail else line, flush=True)
            return
        from rich.markup import escape

        style = next((style for key, style in _STYLES.items() if status.startswith(key)), "")
        head = f"[bold]{escape(name):<{self.width}}[/bold]  "
        body = f"[{style}]{escape(status)}[/{style}]" if style else escape(status)
        self._console.print(head + body + (f"  [dim]{escape(detail)}[/dim]" if detail else ""))

    def note(self, text: str) -> None:
        if self._console is None:
            print(text, flush=True)
        else:
            from rich.markup import escape

            self._console.print(escape(text))

    def cached(self, stage: PlannedStage, detail: str = "") -> None:
        self._emit(stage.name, f"cached ({stage.short})", detail)

    def running(self, name: str, reasons: tuple[str, ...] | list[str]) -> None:
        self._emit(name, "running", "; ".join(reasons))

    def done(self, name: str, seconds: float, short: str, summary: str) -> None:
        self._emit(name, f"done in {seconds:.1f} s ({short})", summary)

    def failed(self, name: str, seconds: float, interrupted: bool = False) -> None:
        self._emit(name, f"{'interrupted' if interrupted else 'failed'} after {seconds:.1f} s")

    def plan(self, plan: Plan, *, dry_run: bool) -> None:
        """The table of `status` (states) or `--dry-run` (what a run would do, and why)."""
        self.note(f"pipeline {plan.pipeline}  ({shown(plan.config_path)}; workdir {shown(plan.workdir)})")
        needed = set(plan.needed_inputs())
        for stage in plan.stages:
            reasons = "; ".join(stage.reasons)
            if not dry_run:
                self._emit(stage.name, f"{stage.state} ({stage.short})", reasons)
            elif stage.action == RUN:
                self._emit(stage.name, f"would run ({stage.short})", f"{stage.state}: {reasons}")
            elif stage.action == REUSE or stage.name in needed:
                status = (
                    f"cached ({stage.short})" if stage.state == CACHED else f"{stage.state} ({stage.short})"
                )
                self._emit(
                    stage.name,
                    status,
                    reasons if stage.action == REUSE else "; ".join(["input, not selected", *stage.reasons]),
                )
            else:
                self._emit(
                    stage.name, "not selected", f"{stage.state}: {reasons}" if reasons else stage.state
                )


def default_progress() -> bool:
    return sys.stdout.isatty()


__all__ = ["Progress", "default_progress", "shown"]
