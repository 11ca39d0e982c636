"""Config values that name files or directories: how they resolve, and which ones a config names.

A path field is declared with the `ConfigPath` type (a `str` carrying the `PATH` marker), so
that every file or directory a config names is found by walking the models, not by a list kept
in the runner: a new path field (a teacher model, calibration data) becomes a dependency of the
stages that read it by being declared as `ConfigPath`. The runner hashes their contents into the
fingerprints (ov_movement/runner/dependencies.py); it learns of them only through
`path_dependencies`, never through the names of the fields.

Paths are local (relative to the config file's directory, `~` expanded) or
`package:<module>/<subpath>`, resolved inside an installed Python package (how the default model
and data ship).
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Annotated, Any, get_args, get_origin

from pydantic import BaseModel

from ov_movement.errors import StageError

PACKAGE_PREFIX = "package:"


@dataclass(frozen=True)
class _PathMarker:
    """Metadata marking a string field as naming a file or directory the stages read.

    `keywords` are values of the field that name no file (`distillation.teacher: baseline`)."""

    keywords: frozenset[str] = frozenset()

    def __repr__(self) -> str:
        return "PATH"


PATH = _PathMarker()
ConfigPath = Annotated[str, PATH]


def config_path_or(*keywords: str) -> Any:
    """A `ConfigPath` that may also hold one of `keywords`, which are never resolved or hashed."""
    return Annotated[str, _PathMarker(frozenset(keywords))]


def resolve_path(spec: str | Path, config_dir: Path | None = None) -> Path:
    """A config path -> an absolute path: `package:<module>/<subpath>` or local (relative to config_dir)."""
    text = str(spec)
    if text.startswith(PACKAGE_PREFIX):
        module, _, sub = text[len(PACKAGE_PREFIX) :].partition("/")
        try:
            found = importlib.util.find_spec(module) if module else None
        except (ImportError, ValueError):
            found = None
        if found is None or not (found.submodule_search_locations or found.origin):
            raise StageError(f"{text}: Python package {module!r} is not installed")
        base = Path(next(iter(found.submodule_search_locations or []), None) or Path(found.origin).parent)
        return (base / sub).resolve() if sub else base.resolve()
    path = Path(text).expanduser()
    if not path.is_absolute() and config_dir is not None:
        path = Path(config_dir) / path
    return path.resolve()


@cache
def _distributions_of_modules() -> dict[str, list[str]]:
    return metadata.packages_distributions()


def package_release(spec: str) -> str | None:
    """`<distribution>==<version>` of the package a `package:` path lies in (None: not one, or unknown)."""
    if not spec.startswith(PACKAGE_PREFIX):
        return None
    top = spec[len(PACKAGE_PREFIX) :].partition("/")[0].partition(".")[0]
    if not top:
        return None
    version = _version_of(top)  # the usual case: the distribution is named after its package
    if version is not None:
        return f"{top}=={version}"
    for name in _distributions_of_modules().get(top, []):  # slow (reads every installed RECORD): rare
        version = _version_of(name)
        if version is not None:
            return f"{name}=={version}"
    return None


def _version_of(distribution: str) -> str | None:
    """Its version from the `Version:` line (metadata.version parses the whole file: 10x slower)."""
    try:
        found = metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return None
    text = found.read_text("METADATA") or found.read_text("PKG-INFO") or ""
    line = re.search(r"^Version:[ \t]*(\S+)", text, re.MULTILINE)
    return line.group(1) if line else found.version


@dataclass(frozen=True)
class PathDependency:
    """A file or directory a config names, as the runner hashes it."""

    loc: str  # dotted config location, e.g. "data.path"
    spec: str  # as written in the config
    path: Path | None  # resolved; None when it cannot be (`problem` says why)
    release: str | None = None  # for `package:` paths: the distribution and version holding it
    problem: str | None = None


def path_fields(model: BaseModel, prefix: str = "") -> dict[str, str]:
    """{dotted location: value} of every `ConfigPath` field that is set, in nested models and lists."""
    found: dict[str, str] = {}
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        loc = f"{prefix}{name}"
        marker = _path_marker(field.annotation, tuple(field.metadata))
        if marker is not None:
            if isinstance(value, str) and value and value not in marker.keywords:
                found[loc] = value
            elif isinstance(value, list | tuple):  # a list of paths
                found.update(
                    {f"{loc}.{i}": item for i, item in enumerate(value) if isinstance(item, str) and item}
                )
        else:
            found.update(_nested_paths(value, loc))
    return found


def _path_marker(annotation: Any, metadata: tuple[Any, ...] = ()) -> _PathMarker | None:
    """The path marker the annotation carries (also inside `ConfigPath | None`), or None."""
    for item in metadata:
        if isinstance(item, _PathMarker):
            return item
    if get_origin(annotation) is Annotated:
        return _path_marker(get_args(annotation)[0], tuple(annotation.__metadata__))
    for arg in get_args(annotation):
        if get_origin(arg) is Annotated or get_args(arg):
            found = _path_marker(arg)
            if found is not None:
                return found
    return None


def _nested_paths(value: Any, loc: str) -> dict[str, str]:
    if isinstance(value, BaseModel):
        return path_fields(value, f"{loc}.")
    if isinstance(value, list | tuple):
        found: dict[str, str] = {}
        for index, item in enumerate(value):
            found.update(_nested_paths(item, f"{loc}.{index}"))
        return found
    return {}


def path_dependencies(config: BaseModel, config_dir: Path) -> list[PathDependency]:
    """Every file or directory `config` names, resolved against `config_dir` (never raises)."""
    dependencies = []
    for loc, spec in path_fields(config).items():
        try:
            path = resolve_path(spec, config_dir)
        except (StageError, OSError, RuntimeError) as error:
            dependencies.append(PathDependency(loc, spec, None, problem=str(error)))
            continue
        dependencies.append(PathDependency(loc, spec, path, release=package_release(spec)))
    return dependencies


__all__ = [
    "PACKAGE_PREFIX",
    "PATH",
    "config_path_or",
    "ConfigPath",
    "PathDependency",
    "package_release",
    "path_dependencies",
    "path_fields",
    "resolve_path",
]
