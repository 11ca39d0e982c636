"""Hypothesis strategies: valid movement-sparsity sections, and JSON values to mutate them with."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
non_negative = st.one_of(st.integers(0, 1000), st.floats(0, 1000, allow_nan=False))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | finite | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


@st.composite
def scopes(draw, prefix: str) -> str | list[str]:
    """Distinct scopes per prefix, so that two entries never share a scope string."""
    names = draw(st.lists(st.integers(0, 50), min_size=1, max_size=3, unique=True))
    patterns = [
        draw(
            st.sampled_from(
                [f"{{re}}.*{prefix}{n}.*", f"Model/{prefix}[{n}]/linear_0", f"{{re}}{prefix}{n}$"]
            )
        )
        for n in names
    ]
    return patterns[0] if len(patterns) == 1 and draw(st.booleans()) else patterns


@st.composite
def entries(draw, index: int) -> dict[str, Any]:
    mode = draw(st.sampled_from(["fine", "block", "per_dim"]))
    entry: dict[str, Any] = {"mode": mode, "target_scopes": draw(scopes(f"Layer{index}x"))}
    if mode == "block":
        entry["sparse_factors"] = draw(st.lists(st.integers(1, 64), min_size=2, max_size=2))
    elif mode == "per_dim":
        entry["axis"] = draw(st.sampled_from([0, 1]))
    elif draw(st.booleans()):
        entry["sparse_factors"] = [1, 1]
    return entry


@st.composite
def movement_sections(draw) -> dict[str, Any]:
    start = draw(st.one_of(st.integers(0, 6), st.floats(0, 6, allow_nan=False)))
    end = start + draw(st.one_of(st.integers(1, 6), st.floats(0.01, 6, allow_nan=False)))
    params: dict[str, Any] = {
        "warmup_start_epoch": start,
        "warmup_end_epoch": end,
        "importance_regularization_factor": draw(non_negative),
    }
    optional = {
        "enable_structured_masking": st.booleans(),
        "init_importance_threshold": finite,
        "final_importance_threshold": finite,
        "power": st.floats(0.01, 10, allow_nan=False),
        "steps_per_epoch": st.integers(1, 10_000),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            params[key] = draw(strategy)
    if start < 1:
        params["steps_per_epoch"] = draw(st.integers(1, 10_000))
    section: dict[str, Any] = {"algorithm": "movement_sparsity", "params": params}
    count = draw(st.integers(0, 4))
    if count or draw(st.booleans()):
        section["sparse_structure_by_scopes"] = [draw(entries(i)) for i in range(count)]
    for key in ("ignored_scopes", "target_scopes"):
        if draw(st.booleans()):
            section[key] = draw(scopes("Other" + key))
    if draw(st.booleans()):
        section["compression_lr_multiplier"] = draw(st.floats(0.01, 100, allow_nan=False))
    if draw(st.booleans()):
        section["validate_scopes"] = draw(st.booleans())
    return section


@st.composite
def compression_values(draw) -> dict[str, Any] | list[dict[str, Any]]:
    """A movement section alone, or in a list with other algorithms' (pass-through) sections."""
    movement = draw(movement_sections())
    if draw(st.booleans()):
        return movement
    others = [{"algorithm": "quantization"}, {"algorithm": "knowledge_distillation", "type": "mse"}]
    items = draw(st.lists(st.sampled_from(others), max_size=2)) + [movement]
    return draw(st.permutations(items))


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path into a JSON-like document (keys and list indices), the root first."""
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


def mutate(draw, document: Any, steps: int, actions: list[str], keys: st.SearchStrategy[str]) -> Any:
    """Apply `steps` random edits (replace, delete, rename, add, wrap in a list) to `document`."""
    for _ in range(steps):
        paths = _paths(document)[1:]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = document
        for part in path[:-1]:
            parent = parent[part]
        key = path[-1]
        action = draw(st.sampled_from(actions))
        if action == "replace":
            parent[key] = draw(json_values)
        elif action == "delete":
            del parent[key]
        elif action == "rename" and isinstance(parent, dict):
            parent[draw(keys)] = parent.pop(key)
        elif action == "add" and isinstance(parent[key], dict):
            parent[key][draw(keys)] = draw(json_values)
        elif action == "add" and isinstance(parent[key], list):
            parent[key].append(draw(json_values))
        elif action == "wrap":
            parent[key] = [parent[key]]
    return document
