"""Properties: valid configs round-trip unchanged; no mutation of one raises anything but ConfigError."""

from __future__ import annotations

import copy
import json
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ov_movement.config import MovementSparsityConfig, load_pipeline, validate_pipeline
from ov_movement.errors import ConfigError
from tests.config.strategies import compression_values, movement_sections, mutate

SETTINGS = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def dump(config) -> Any:
    """The compression of a validated pipeline, as it would be written back to a file."""
    if isinstance(config.compression, MovementSparsityConfig):
        return config.compression.to_nncf()
    return [
        item.to_nncf() if isinstance(item, MovementSparsityConfig) else item for item in config.compression
    ]


@SETTINGS
@given(compression=compression_values(), as_yaml=st.booleans())
def test_load_dump_load_is_identity(tmp_path, compression, as_yaml):
    path = tmp_path / ("c.yaml" if as_yaml else "c.json")
    write = yaml.safe_dump if as_yaml else json.dumps
    path.write_text(write({"compression": compression}), encoding="utf-8")
    first = load_pipeline(path)
    dumped = dump(first.config)
    path.write_text(write({"compression": dumped}), encoding="utf-8")
    second = load_pipeline(path)
    assert second.config == first.config
    assert dump(second.config) == dumped


@SETTINGS
@given(section=movement_sections())
def test_to_nncf_is_a_fixed_point(section):
    config = MovementSparsityConfig.model_validate(section)
    assert MovementSparsityConfig.model_validate(config.to_nncf()).to_nncf() == config.to_nncf()


@st.composite
def mutated_documents(draw) -> dict[str, Any]:
    document = {"compression": draw(compression_values())}
    if draw(st.booleans()):
        document["training"] = {"epochs": draw(st.integers(1, 20))}
    actions = ["replace", "delete", "rename", "add"]
    return mutate(draw, document, draw(st.integers(1, 3)), actions, st.text(max_size=12))


@settings(max_examples=300, deadline=None)
@given(document=mutated_documents())
def test_mutations_raise_only_config_error(document):
    original = copy.deepcopy(document)
    try:
        validate_pipeline(document)
    except ConfigError as error:
        assert error.issues and all(issue.msg for issue in error.issues)
    assert document == original  # validation never edits the caller's document


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=st.text(max_size=200) | st.sampled_from(['{"compression": [', "compression:\n  - [", "{'a': }"]),
    suffix=st.sampled_from([".json", ".yaml", ".txt"]),
)
def test_any_text_raises_only_config_error(tmp_path, text, suffix):
    path = tmp_path / f"c{suffix}"
    path.write_text(text, encoding="utf-8")
    try:
        load_pipeline(path)
    except ConfigError:
        pass
