"""Every number of a pipeline has an upper bound: none validates and then overflows or hangs a run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ov_movement.config import load_pipeline
from ov_movement.config.base import MAX_COUNT
from ov_movement.errors import ConfigError

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def _numbers(node, path=""):
    if isinstance(node, dict):
        if node.get("type") in ("integer", "number") and "enum" not in node:
            yield path, node
        for key, value in node.items():
            yield from _numbers(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _numbers(value, f"{path}/{index}")


@pytest.mark.parametrize("name", ["pipeline.schema.json", "compression.schema.json"])
def test_every_number_in_the_schema_is_bounded_above(name):
    schema = json.loads((SCHEMAS / name).read_text())
    numbers = list(_numbers(schema))
    assert numbers
    unbounded = [path for path, node in numbers if "maximum" not in node and "exclusiveMaximum" not in node]
    assert not unbounded


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [
        ("training", "seed", 2**32, "at most 4294967295"),
        ("data", "seed", -1, "at least 0"),
        ("data", "synthetic_samples", 10**20, "at most 1000000"),
        ("training", "epochs", 10**6, "at most 10000"),
        ("training", "batch_size", MAX_COUNT, "at most 65536"),
        ("benchmark", "time_s", float("inf"), "finite"),
        ("benchmark", "time_s", 1e9, "at most 86400"),
        ("training", "seed", 1e23, "must be an integer, got 1e+23"),
    ],
)
def test_out_of_range_values_name_their_key(tmp_path, section, key, value, message):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({section: {key: value}}))
    with pytest.raises(ConfigError) as caught:
        load_pipeline(path)
    assert f"{section}.{key}: " in str(caught.value) and message in str(caught.value)
