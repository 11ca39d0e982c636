"""schemas/ and docs/configuration.md are generated from the models and must be up to date."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings

from ov_movement.config import read_document
from ov_movement.config.reference import render_reference, schemas
from tests.config.samples import FIXTURES
from tests.config.strategies import compression_values

ROOT = Path(__file__).parents[2]
REGENERATE = "run `make schemas` (ov-movement schema --out schemas/ --docs docs/configuration.md)"
jsonschema = pytest.importorskip("jsonschema")


@pytest.mark.parametrize("name", sorted(schemas()))
def test_committed_schema_is_up_to_date(name, tmp_path):
    from ov_movement.cli import main

    assert main(["schema", "--out", str(tmp_path)]) == 0
    committed = ROOT / "schemas" / name
    assert committed.is_file(), f"schemas/{name} is missing: {REGENERATE}"
    assert committed.read_text(encoding="utf-8") == (tmp_path / name).read_text(encoding="utf-8"), (
        f"schemas/{name} is out of date: {REGENERATE}"
    )


def test_committed_reference_is_up_to_date():
    committed = ROOT / "docs" / "configuration.md"
    assert committed.is_file() and committed.read_text(encoding="utf-8") == render_reference(), (
        f"docs/configuration.md is out of date: {REGENERATE}"
    )


def test_reference_documents_every_field():
    text = render_reference()
    from ov_movement.config.reference import _SECTIONS

    for _, model in _SECTIONS:
        for name, field in model.model_fields.items():
            assert f"| `{field.alias or name}` |" in text


def _validator(name: str):
    schema = schemas()[name]
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("fixture", sorted(p.name for p in FIXTURES.iterdir()))
def test_fixtures_pass_the_generated_schemas(fixture):
    # The editor schema must never reject what `validate` accepts.
    document = read_document(FIXTURES / fixture)
    compression = (
        {key: value for key, value in document["compression"].items() if key != "$schema"}
        if isinstance(document["compression"], dict)
        else document["compression"]
    )
    assert not list(_validator("compression.schema.json").iter_errors(compression))
    assert not list(_validator("pipeline.schema.json").iter_errors(json.loads(json.dumps(document))))


def test_schema_rejects_mode_specific_mistakes():
    validator = _validator("compression.schema.json")
    base = read_document(FIXTURES / "doc_example.json")["compression"]
    for wrong in (
        {"mode": "block", "target_scopes": "x"},
        {"mode": "per_dim", "sparse_factors": [1, 1], "axis": 0, "target_scopes": "x"},
        {"mode": "fine", "axis": 0, "target_scopes": "x"},
    ):
        assert list(validator.iter_errors({**base, "sparse_structure_by_scopes": [wrong]})), wrong


@settings(max_examples=60, deadline=None)
@given(compression=compression_values())
def test_generated_configs_pass_the_schema(compression):
    assert not list(_validator("compression.schema.json").iter_errors(compression))
