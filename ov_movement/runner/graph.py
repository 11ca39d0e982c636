"""The stage graph: order, ancestry and the `--from/--until/--only` selection.

Works on any name -> StageSpec mapping (the registry is a parameter, so third-party stages and
test registries are graphs like the built-in one).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from ov_movement.errors import ConfigError, ConfigIssue
from ov_movement.stages.base import StageSpec


def for_config(registry: Mapping[str, StageSpec], config: object) -> dict[str, StageSpec]:
    """The registry as `config` shapes it: each spec's optional `configure` hook applied."""
    return {name: spec.for_config(config) for name, spec in registry.items()}


def topological_order(registry: Mapping[str, StageSpec]) -> list[str]:
    """Stages ordered so that upstream comes first; ties keep the registry's order."""
    problems = []
    for name, spec in registry.items():
        if spec.name != name:
            problems.append(ConfigIssue(name, f"registered under {name!r} but named {spec.name!r}"))
        for up in spec.upstream:
            if up not in registry:
                problems.append(ConfigIssue(name, f"upstream {up!r} is not a registered stage"))
    if problems:
        raise ConfigError(problems, source="stage registry")
    order: list[str] = []
    done: set[str] = set()
    visiting: list[str] = []

    def visit(name: str) -> None:
        if name in done:
            return
        if name in visiting:
            cycle = " -> ".join(visiting[visiting.index(name) :] + [name])
            raise ConfigError(f"the stage graph has a cycle: {cycle}", source="stage registry")
        visiting.append(name)
        for up in registry[name].upstream:
            visit(up)
        visiting.pop()
        done.add(name)
        order.append(name)

    for name in registry:
        visit(name)
    return order


def ancestors(registry: Mapping[str, StageSpec], name: str) -> set[str]:
    """Every stage `name` depends on, transitively (not `name` itself)."""
    found: set[str] = set()
    stack = list(registry[name].upstream)
    while stack:
        up = stack.pop()
        if up not in found:
            found.add(up)
            stack.extend(registry[up].upstream)
    return found


def descendants(registry: Mapping[str, StageSpec], name: str) -> set[str]:
    """Every stage that depends on `name`, transitively (not `name` itself)."""
    return {other for other in registry if name in ancestors(registry, other)}


def check_names(registry: Mapping[str, StageSpec], names: Iterable[str], option: str) -> None:
    valid = ", ".join(topological_order(registry))
    unknown = [name for name in names if name not in registry]
    if unknown:
        issues = [ConfigIssue(option, f"unknown stage {name!r}; valid stages: {valid}") for name in unknown]
        raise ConfigError(issues)


def select(
    registry: Mapping[str, StageSpec],
    *,
    from_: str | None = None,
    until: str | None = None,
    only: str | Sequence[str] | None = None,
) -> list[str]:
    """The stages a run may execute, in topological order.

    DVC-like: `--from S` is S and everything downstream of it, `--until S` is S and everything
    it depends on (both together: the stretch between them), `--only S` is just S (repeatable).
    Stages outside the selection are never executed; the ones a selected stage needs must
    already be cached (checked by the plan, which names what to run first).
    """
    only_names = [only] if isinstance(only, str) else list(only or [])
    if only_names and (from_ or until):
        raise ConfigError("--only cannot be combined with --from/--until")
    if from_:
        check_names(registry, [from_], "--from")
    if until:
        check_names(registry, [until], "--until")
    check_names(registry, only_names, "--only")
    order = topological_order(registry)
    chosen = set(order)
    if only_names:
        chosen = set(only_names)
    if from_:
        chosen &= {from_} | descendants(registry, from_)
    if until:
        chosen &= {until} | ancestors(registry, until)
    if not chosen:
        raise ConfigError(
            f"--from {from_} --until {until} selects no stage: {until} is not downstream of {from_}"
        )
    return [name for name in order if name in chosen]


__all__ = ["ancestors", "check_names", "descendants", "for_config", "select", "topological_order"]
