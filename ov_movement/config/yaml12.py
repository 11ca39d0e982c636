"""The one YAML reader of pipeline files: PyYAML's safe loader with YAML 1.2 scalars and limits.

PyYAML implements YAML 1.1, whose rules surprise in configs: `5e-5` (an exponent without a dot) is
a string, `yes`/`no`/`on`/`off` are booleans, `010` is octal 8, `1_000` is 1000 and `1:30` is 90.
Pipeline files are read with the YAML 1.2 core schema instead (what JSON users and most other
tools expect):

- integers `[-+]?[0-9]+`, `0o17`, `0x1F`; floats `1.5`, `5e-5`, `1e3`, `.5`, `.inf`, `-.inf`, `.nan`
  (the config's number types then refuse infinities and NaN with the key's location);
- booleans only `true`/`false` (any capitalisation YAML allows: `True`, `TRUE`); `yes`, `no`,
  `on`, `off` are strings, so a boolean field given `yes` is an error naming the key;
- null `null`, `~` or nothing; no timestamps (`2024-01-01` stays a string), no sexagesimal numbers.

Beyond the schema:
- a duplicate key in one mapping is an error with both lines (YAML says keys are unique; PyYAML
  keeps the last one silently, so an edit of the first is ignored);
- the document's expanded size and depth are checked on the node graph *before* anything is
  built, so aliases that expand exponentially ("billion laughs", also through `<<` merge keys)
  or refer to themselves are refused with their line instead of exhausting memory;
- integers longer than `base.MAX_DIGITS` digits are kept as `OversizedInteger` markers, refused by
  every number field with its location.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ov_movement.config.base import MAX_DIGITS, OversizedInteger

_TAG = "tag:yaml.org,2002:"
# YAML 1.1 resolvers PyYAML's SafeLoader has that the 1.2 core schema replaces or does not have.
_REPLACED = {_TAG + name for name in ("bool", "int", "float", "null", "timestamp", "value")}
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)


class YamlProblem(Exception):
    """A document the YAML parser accepts but a pipeline file may not be: the message has the line."""

    def __init__(self, node: Node, message: str):
        mark = node.start_mark
        super().__init__(f"line {mark.line + 1}, column {mark.column + 1}: {message}")


def _line(node: Node) -> int:
    return node.start_mark.line + 1


class _Loader(yaml.SafeLoader):
    yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag not in _REPLACED]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, MappingNode):
            _check_unique_keys(node)
        return super().construct_mapping(node, deep=deep)


def _check_unique_keys(node: MappingNode) -> None:
    first: dict[tuple[str, str], ScalarNode] = {}
    for key_node, _ in node.value:
        if not isinstance(key_node, ScalarNode) or key_node.tag == _TAG + "merge":
            continue
        key = (key_node.tag, key_node.value)
        if key in first:
            raise YamlProblem(
                key_node,
                f"duplicate key {key_node.value!r} (first at line {_line(first[key])}): "
                "a later key would silently replace the earlier one",
            )
        first[key] = key_node


def _construct_bool(loader: _Loader, node: ScalarNode) -> bool:
    return loader.construct_scalar(node).lower() == "true"


def _construct_null(loader: _Loader, node: ScalarNode) -> None:
    loader.construct_scalar(node)
    return None


def _construct_int(loader: _Loader, node: ScalarNode) -> int | OversizedInteger:
    text = str(loader.construct_scalar(node))
    try:
        if text.startswith(("0o", "0x")):
            return int(text[2:], 8 if text[1] == "o" else 16)
        digits = len(text.lstrip("+-"))
        return OversizedInteger(digits) if digits > MAX_DIGITS else int(text)
    except ValueError:
        raise YamlProblem(node, f"{text!r} is not an integer") from None


def _construct_float(loader: _Loader, node: ScalarNode) -> float:
    text = str(loader.construct_scalar(node))
    special = {".inf": float("inf"), "+.inf": float("inf"), "-.inf": float("-inf"), ".nan": float("nan")}
    if text.lower() in special:
        return special[text.lower()]
    try:
        return float(text)
    except ValueError:
        raise YamlProblem(node, f"{text!r} is not a number") from None


for _tag, _pattern, _first, _construct in (
    ("bool", _BOOL, "tTfF", _construct_bool),
    ("null", _NULL, ["~", "n", "N", ""], _construct_null),
    ("int", _INT, "-+0123456789", _construct_int),  # before float: `1` is an integer
    ("float", _FLOAT, "-+.0123456789", _construct_float),
):
    _Loader.add_implicit_resolver(_TAG + _tag, _pattern, list(_first))
    _Loader.add_constructor(_TAG + _tag, _construct)


def check_node_graph(root: Node, *, max_depth: int, max_values: int) -> None:
    """Depth and expanded size of the composed document (aliases are shared nodes: a node reached
    twice counts twice, computed once)."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def walk(node: Node, depth: int) -> int:
        if isinstance(node, ScalarNode):
            return 1
        if id(node) in sizes:
            return sizes[id(node)]
        if id(node) in active:
            raise YamlProblem(node, "an alias refers to the node that contains it (a cycle)")
        if depth > max_depth:
            raise YamlProblem(node, f"nested more than {max_depth} levels deep")
        active.add(id(node))
        children: list[Node] = []
        if isinstance(node, SequenceNode):
            children = list(node.value)
        elif isinstance(node, MappingNode):
            children = [part for pair in node.value for part in pair]
        total = 1 + sum(walk(child, depth + 1) for child in children)
        active.discard(id(node))
        if total > max_values:
            raise YamlProblem(
                node,
                f"expands to more than {max_values:,} values (YAML aliases repeat what they refer to); "
                "a pipeline never needs that many",
            )
        sizes[id(node)] = total
        return total

    walk(root, 1)


def load_yaml(text: str, *, max_depth: int, max_values: int) -> Any:
    """One YAML document as Python objects under the rules above (None for an empty document)."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        check_node_graph(root, max_depth=max_depth, max_values=max_values)
        return loader.construct_document(root)
    finally:
        loader.dispose()


__all__ = ["YamlProblem", "check_node_graph", "load_yaml"]
