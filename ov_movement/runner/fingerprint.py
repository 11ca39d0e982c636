"""Stage fingerprints: what a stage's result depends on, hashed, and kept so it can be explained.

A fingerprint is the sha256 of the canonical JSON of (stage name, the config values the stage
reads minus what it ignores, the content digests of the files and directories named by those
values (see dependencies.py), its direct upstream fingerprints, the versions of the ML stack).
The same pieces are stored in each manifest and in the lock file, so `status` can diff them
against the current ones and say *why* a stage is stale ("training.epochs changed 5 -> 6")
instead of only "hash differs" (DVC habit: log the reason).

Versions come from `importlib.metadata`, never from importing torch & co: planning and `status`
must stay fast and must not load the ML stack.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata
from typing import Any

from ov_movement.errors import ConfigError
from ov_movement.stages.base import StageSpec

# Bump when the fingerprint recipe changes, so old cache entries are never mistaken for new ones.
FINGERPRINT_FORMAT = 2  # 2: content digests of the files the config names

# Distribution names whose versions change results. Stages are deterministic functions of their
# config only for a fixed stack, so any upgrade invalidates (an absent package hashes as "absent").
VERSIONED_PACKAGES = ("ov-movement", "torch", "nncf", "openvino", "transformers", "onnx")

_MAX_CHANGES_SHOWN = 6
MISSING_FILE = "missing"  # the digest of a path that does not exist (dependencies.py)


def installed_versions(names: Sequence[str]) -> dict[str, str]:
    """name -> installed version of each distribution, "absent" where it is not installed."""
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


@cache
def package_versions() -> dict[str, str]:
    return installed_versions(VERSIONED_PACKAGES)


def canonical(value: Any) -> Any:
    """Dicts with sorted keys, recursively: one spelling per value, stable across Python runs."""
    if isinstance(value, Mapping):
        return {str(k): canonical(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    return value


def canonical_json(value: Any) -> str:
    return json.dumps(canonical(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _split(path: str) -> list[str]:
    return [part for part in path.split(".") if part]


def _step(value: Any, key: str) -> Any:
    if isinstance(value, Mapping):
        return value[key]
    if isinstance(value, list) and key.lstrip("-").isdigit():
        return value[int(key)]
    raise KeyError(key)


def lookup(data: Any, path: str) -> Any:
    """The value at a dotted path (`training.epochs`, `compression.0.params`)."""
    value = data
    for key in _split(path):
        value = _step(value, key)
    return value


def _delete(data: Any, parts: list[str]) -> None:
    *parents, last = parts
    try:
        holder = data
        for key in parents:
            holder = _step(holder, key)
        if isinstance(holder, dict):
            holder.pop(last, None)
        elif isinstance(holder, list) and last.isdigit() and int(last) < len(holder):
            del holder[int(last)]
    except (KeyError, IndexError):
        pass  # the ignored key is absent from this config (e.g. an optional section): nothing to drop


def _covers(prefix: str, loc: str) -> bool:
    return loc == prefix or loc.startswith(prefix + ".")


def stage_files(spec: StageSpec, files: Mapping[str, Any]) -> dict[str, Any]:
    """The file dependencies (by config location) under the paths the stage reads, minus its `ignores`."""
    return {
        loc: files[loc]
        for loc in sorted(files)
        if any(_covers(read, loc) for read in spec.reads) and not any(_covers(i, loc) for i in spec.ignores)
    }


def stage_inputs(spec: StageSpec, config_dump: Mapping[str, Any]) -> dict[str, Any]:
    """{read path: value} for the paths the stage reads, with its `ignores` removed."""
    inputs: dict[str, Any] = {}
    for path in spec.reads:
        try:
            inputs[path] = copy.deepcopy(lookup(config_dump, path))
        except (KeyError, IndexError):
            raise ConfigError(f"stage {spec.name!r} reads {path!r}, which is not a config key") from None
    for path in spec.reads_if_set:
        try:
            inputs[path] = copy.deepcopy(lookup(config_dump, path))
        except (KeyError, IndexError):
            continue  # unset: nothing to hash, so entries made before the key existed stay valid
    for ignored in spec.ignores:
        owner = next((p for p in spec.reads if ignored == p or ignored.startswith(p + ".")), None)
        if owner is None:  # a registry typo would otherwise silently ignore nothing
            raise ConfigError(
                f"stage {spec.name!r} ignores {ignored!r}, which is not under any path it reads"
            )
        if ignored == owner:
            inputs.pop(owner)
        else:
            _delete(inputs[owner], _split(ignored[len(owner) + 1 :]))
    return canonical(inputs)


@dataclass(frozen=True)
class Fingerprint:
    """A stage's fingerprint and everything that went into it."""

    stage: str
    inputs: dict[str, Any]
    upstream: dict[str, str]
    versions: dict[str, str]
    digest: str
    # Config location -> {"path": as written, "digest": content digest} of the files it names.
    files: dict[str, Any] = field(default_factory=dict)

    @property
    def short(self) -> str:
        return self.digest[:7]

    def record(self) -> dict[str, Any]:
        """The explainable part, as stored in manifests and the lock file."""
        return {
            "inputs": self.inputs,
            "files": self.files,
            "upstream": self.upstream,
            "versions": self.versions,
        }


def make_fingerprint(
    stage: str,
    inputs: dict[str, Any],
    upstream: Mapping[str, str],
    versions: Mapping[str, str],
    files: Mapping[str, Any] | None = None,
) -> Fingerprint:
    files = canonical(dict(files or {}))
    payload = {
        "format": FINGERPRINT_FORMAT,
        "stage": stage,
        "inputs": inputs,
        "files": files,
        "upstream": dict(upstream),
        "versions": dict(versions),
    }
    digest = hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()
    return Fingerprint(stage, inputs, dict(upstream), dict(versions), digest, files)


def compute_fingerprints(
    registry: Mapping[str, StageSpec],
    order: Iterable[str],
    config_dump: Mapping[str, Any],
    versions: Mapping[str, str] | None = None,
    files: Mapping[str, Any] | None = None,
) -> dict[str, Fingerprint]:
    """Fingerprints of every stage, in topological `order` (upstream ones are needed first).

    `files`: {config location: {"path", "digest"}} of every file the config names (dependencies.py).
    """
    versions = dict(package_versions() if versions is None else versions)
    fingerprints: dict[str, Fingerprint] = {}
    for name in order:
        spec = registry[name]
        upstream = {up: fingerprints[up].digest for up in spec.upstream}
        fingerprints[name] = make_fingerprint(
            name, stage_inputs(spec, config_dump), upstream, versions, stage_files(spec, files or {})
        )
    return fingerprints


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Leaves by dotted path; lists are indexed (`sparse_structure_by_scopes.0.mode`)."""
    if isinstance(value, Mapping) and value:
        items: Iterable[tuple[str, Any]] = ((str(k), v) for k, v in value.items())
    elif isinstance(value, list) and value:
        items = ((str(i), v) for i, v in enumerate(value))
    else:
        return {prefix: value}
    flat: dict[str, Any] = {}
    for key, child in items:
        flat.update(flatten(child, f"{prefix}.{key}" if prefix else key))
    return flat


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."


def _file_changes(
    old: Mapping[str, Any], new: Mapping[str, Any], old_flat: Mapping[str, Any], new_flat: Mapping[str, Any]
) -> list[str]:
    """ "data.path: data.csv content changed", for files whose name in the config stayed the same."""
    new_files = new.get("files") or {}
    if "files" not in old:
        return (
            ["the fingerprint now includes the contents of the files the config names"] if new_files else []
        )
    old_files = old.get("files") or {}
    reasons = []
    for loc, now in new_files.items():
        before = old_files.get(loc)
        if (
            before is None
            or before.get("digest") == now.get("digest")
            or old_flat.get(loc) != new_flat.get(loc)
        ):
            continue  # a new or renamed path is a config change, listed above
        shown = now.get("path")
        if now.get("digest") == MISSING_FILE:
            reasons.append(f"{loc}: {shown} no longer exists")
        elif before.get("digest") == MISSING_FILE:
            reasons.append(f"{loc}: {shown} now exists")
        else:
            reasons.append(f"{loc}: {shown} content changed")
    return reasons


def describe_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Why `new` differs from `old` (both `Fingerprint.record()` shaped), most specific first.

    Config keys first (what the user edited), then the contents of the files they name, then
    upstream stages, then package versions.
    """
    reasons: list[str] = []
    old_flat = flatten(old.get("inputs") or {})
    new_flat = flatten(new.get("inputs") or {})
    config_changes = []
    for key in list(new_flat) + [k for k in old_flat if k not in new_flat]:
        if key not in old_flat:
            config_changes.append(f"{key} added ({_show(new_flat[key])})")
        elif key not in new_flat:
            config_changes.append(f"{key} removed (was {_show(old_flat[key])})")
        elif old_flat[key] != new_flat[key]:
            config_changes.append(f"{key} changed {_show(old_flat[key])} -> {_show(new_flat[key])}")
    if len(config_changes) > _MAX_CHANGES_SHOWN:
        extra = len(config_changes) - _MAX_CHANGES_SHOWN + 1
        config_changes = config_changes[: _MAX_CHANGES_SHOWN - 1] + [f"and {extra} more config changes"]
    reasons += config_changes
    reasons += _file_changes(old, new, old_flat, new_flat)
    old_up, new_up = old.get("upstream") or {}, new.get("upstream") or {}
    for name in list(new_up) + [n for n in old_up if n not in new_up]:
        if old_up.get(name) != new_up.get(name):
            reasons.append(f"upstream {name} changed")
    old_versions, new_versions = old.get("versions") or {}, new.get("versions") or {}
    for name in sorted(set(old_versions) | set(new_versions)):
        before, after = old_versions.get(name, "absent"), new_versions.get(name, "absent")
        if before != after:
            reasons.append(f"versions: {name} {before} -> {after}")
    return reasons or ["stage definition changed"]


__all__ = [
    "FINGERPRINT_FORMAT",
    "Fingerprint",
    "VERSIONED_PACKAGES",
    "canonical",
    "installed_versions",
    "canonical_json",
    "compute_fingerprints",
    "describe_changes",
    "flatten",
    "lookup",
    "make_fingerprint",
    "package_versions",
    "stage_files",
    "stage_inputs",
]
