"""The stage contract: a stage is a small function from a typed context to a typed result.

Stages know nothing of caching: they write into `ctx.output_dir` and return metrics. The runner
decides whether to call them, hands them their upstream outputs and moves `output_dir` into the
content-addressed store only when `run` returns normally.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ov_movement.config.pipeline import PipelineConfig


@dataclass(frozen=True)
class StageContext:
    """What a stage may read and where it must write."""

    stage: str
    config: PipelineConfig
    # Directory the config file lives in: relative paths in the config resolve against it.
    config_dir: Path
    # Where the stage writes its outputs. For resumable stages this directory survives an
    # interrupted attempt (same fingerprint => same directory), so per-epoch checkpoints written
    # here let the next attempt resume; for the others the runner empties it before each attempt.
    output_dir: Path
    # Output directories of every upstream stage (transitively), by stage name.
    inputs: Mapping[str, Path]
    # Show progress bars (False in tests and when stdout is not a terminal).
    progress: bool = True

    def input(self, stage: str) -> Path:
        try:
            return self.inputs[stage]
        except KeyError:  # a wiring bug in the registry, not a user error
            raise RuntimeError(
                f"stage {self.stage!r} asked for outputs of {stage!r}, which is not upstream"
            ) from None

    def resolve(self, path: str | Path) -> Path:
        """Resolve a path named in the config (relative to the config file's directory)."""
        candidate = Path(path).expanduser()
        return candidate if candidate.is_absolute() else (self.config_dir / candidate).resolve()


@dataclass
class StageResult:
    """What a stage reports besides its files: JSON-serialisable metrics and a one-line summary."""

    metrics: dict[str, Any] = field(default_factory=dict)
    summary: str = ""


class StageFn(Protocol):
    def __call__(self, ctx: StageContext) -> StageResult: ...


@dataclass(frozen=True)
class StageSpec:
    """A node of the stage graph, as the runner sees it.

    `run` is either a callable or a "module:function" string imported only when the stage runs,
    so that planning, `status` and `validate` never import torch, nncf or openvino. The registry
    is a plain name -> StageSpec mapping so third-party stages can be added by entry point later.
    """

    name: str
    run: StageFn | str
    upstream: tuple[str, ...] = ()
    # Dotted config paths this stage reads (e.g. "training", "compression"). Its fingerprint
    # hashes exactly these values, minus `ignores`, plus the upstream fingerprints.
    reads: tuple[str, ...] = ()
    # Paths read only when the config sets them (the dump leaves out nulls, e.g. an unset `description`).
    reads_if_set: tuple[str, ...] = ()
    ignores: tuple[str, ...] = ()
    # Keep `output_dir` across an interrupted attempt so the stage can resume (training stages).
    resumable: bool = False
    description: str = ""
    # Optional: the spec as a given config needs it (e.g. one more upstream stage and config read
    # when a section is present). The runner applies it before planning and knows nothing of why.
    configure: Callable[[StageSpec, Any], StageSpec] | None = None
    # Multi-node runs: what a machine other than node 0 runs for this stage, a "module:function"
    # called as function(config, stage_name, fingerprint_digest) (training stages join node 0's
    # workers). None: only node 0 runs the stage.
    join: str | None = None

    def for_config(self, config: Any) -> StageSpec:
        return self if self.configure is None else self.configure(self, config)

    def load(self) -> Callable[[StageContext], StageResult]:
        if callable(self.run):
            return self.run
        module_name, _, attr = self.run.partition(":")
        import importlib

        return getattr(importlib.import_module(module_name), attr)


__all__ = ["StageContext", "StageFn", "StageResult", "StageSpec"]
