"""Reading files: formats, layouts and the messages for files that cannot be read at all."""

from __future__ import annotations

import json

import pytest

from ov_movement.config import MovementSparsityConfig, load_pipeline, read_document
from ov_movement.config.pipeline import NNCF_IGNORED_KEYS, PipelineConfig
from ov_movement.errors import ConfigError
from tests.config.samples import DOC_SECTION, FIXTURES, section


def test_doc_example_with_trailing_comma_loads_as_nncf_config():
    loaded = load_pipeline(FIXTURES / "doc_example.json")
    assert loaded.format == "json5" and loaded.layout == "nncf"
    assert loaded.config.movement.to_nncf()["sparse_structure_by_scopes"][0]["sparse_factors"] == [32, 32]
    assert loaded.name == "doc_example" and loaded.config_dir == FIXTURES.resolve()


def test_strict_json_is_read_without_json5(write):
    loaded = load_pipeline(write({"compression": DOC_SECTION}))
    assert loaded.format == "json"


def test_json5_comments_are_accepted(write):
    path = write('// copied from the docs\n{"compression": /* inline */ ' + json.dumps(DOC_SECTION) + "}")
    assert load_pipeline(path).format == "json5"


def test_yaml_pipeline_and_schema_key():
    loaded = load_pipeline(FIXTURES / "tiny_pipeline.yaml")
    assert loaded.format == "yaml" and loaded.layout == "pipeline"
    assert loaded.config.schema_ == "../../../schemas/pipeline.schema.json"
    assert loaded.name == "tiny-bert"


def test_bare_algorithm_section_is_wrapped():
    loaded = load_pipeline(FIXTURES / "bert_qa_movement.json")
    assert loaded.layout == "algorithm"
    assert isinstance(loaded.config.compression, MovementSparsityConfig)
    assert loaded.raw["compression"]["algorithm"] == "movement_sparsity"


def test_bare_list_keeps_other_algorithms_as_written():
    loaded = load_pipeline(FIXTURES / "wav2vec2_jpqd.json")
    assert loaded.layout == "algorithm_list"
    assert loaded.config.unsupported_algorithms == []  # quantization runs (JPQD)
    assert loaded.config.quantization == loaded.raw["compression"][1]
    assert loaded.config.movement_loc == "compression[0]"
    assert "{re}projector" in loaded.config.movement.ignored_scopes
    # The warm-up ends at epoch 8: the default epoch count grows to leave one fine-tuning epoch.
    assert loaded.config.training.epochs == 9


def test_nncf_top_level_keys_are_accepted_and_listed():
    loaded = load_pipeline(FIXTURES / "nncf_config_with_input_info.json")
    assert loaded.config.ignored_nncf_keys == ["input_info", "target_device"]
    assert loaded.config.movement.params.init_importance_threshold == -0.1
    assert "initial_importance_threshold" not in loaded.config.movement.to_nncf()["params"]


def test_file_without_compression_uses_embedded_default(write):
    loaded = load_pipeline(write({"name": "defaults"}))
    assert loaded.config.movement.params.warmup_end_epoch == 4


def test_utf8_bom_is_tolerated(tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"compression": DOC_SECTION}).encode())
    assert load_pipeline(path).format == "json"


def test_read_document_returns_pipeline_mapping():
    assert read_document(FIXTURES / "swin_movement.json")["compression"]["algorithm"] == "movement_sparsity"


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("missing.json", None, "no such file: "),
        ("empty.json", "", "the file is empty"),
        ("blank.yaml", "   \n\n", "the file is empty"),
        ("comments.yaml", "# nothing here\n", "nothing but comments"),
        ("null.json", "null", "the document is null"),
        ("number.json", "42", "the top level must be a mapping"),
        ("string.yaml", "just text", "got the string 'just text'"),
        (
            "bad.json",
            '{\n  "compression": {\n    "algorithm" "movement_sparsity"\n  }\n}',
            "line 3, column 17",
        ),
        ("late.json", '{"a": 1,\n "b": [1, 2,],\n "c": }', "line 3, column 7"),
        ("bad.yaml", "compression:\n  params: [1, 2\n", "syntax error at line"),
        ("dupe.json", '{"compression": {}, "compression": {}}', "duplicate key 'compression'"),
        ("binary.json", b"\xff\xfe\x00{", "not UTF-8 text"),
    ],
)
def test_unreadable_files_get_a_clear_message(tmp_path, name, content, expected):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_pipeline(path)
    assert expected in str(caught.value)
    assert str(path) in str(caught.value)


def test_directory_is_not_a_config(tmp_path):
    with pytest.raises(ConfigError, match="is a directory"):
        load_pipeline(tmp_path)


def test_missing_file_hints_at_pipelines_dir(tmp_path, monkeypatch):
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "pipelines" / "bert.json").write_text("{}")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"did you mean pipelines/bert.json\?"):
        load_pipeline("bert.json")


def test_yaml_exponent_without_dot_is_a_number(write):
    """YAML 1.2: `1e-2` and `5e-5` are numbers (YAML 1.1, PyYAML's default, reads them as text)."""
    text = (
        "training: {learning_rate: 5e-5}\n"
        "compression:\n  params: {warmup_start_epoch: 1, warmup_end_epoch: 3, importance_regularization_factor: 1e-2}\n"
    )
    config = load_pipeline(write(text, "c.yaml")).config
    assert config.movement.params.importance_regularization_factor == 0.01
    assert config.training.learning_rate == 5e-5


def test_bare_section_problems_are_located_as_in_the_file(write):
    with pytest.raises(ConfigError) as caught:
        load_pipeline(write(section(params={"warmup_start_epoch": 1})))
    locs = [issue.loc for issue in caught.value.issues]
    assert "params.warmup_end_epoch" in locs
    with pytest.raises(ConfigError) as caught:
        load_pipeline(write([section(), {"algorithm": "quantisation"}]))
    assert [issue.loc for issue in caught.value.issues] == ["[1].algorithm"]


PIPELINE_SECTIONS = sorted(
    {field.alias or name for name, field in PipelineConfig.model_fields.items()}
    - {"compression", "$schema", *NNCF_IGNORED_KEYS}
)


@pytest.mark.parametrize("key", PIPELINE_SECTIONS)
def test_any_pipeline_section_next_to_compression_marks_a_pipeline(write, key):
    """`compression` + `baseline` (or any other section only a pipeline has) is a pipeline, not an NNCF
    config with the default model and data."""
    value = "x" if PipelineConfig.model_fields[key].annotation in (str, str | None) else {}
    document = {"compression": DOC_SECTION, key: value}
    if key == "distillation":  # its default teacher is the baseline stage
        document["baseline"] = {"enabled": True}
    if key == "sweep":  # a grid is required
        document["sweep"] = {"grid": {"training.epochs": [1, 2]}}
    loaded = load_pipeline(write(document))
    assert loaded.layout == "pipeline"
