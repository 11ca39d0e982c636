"""`compression.preset`: what it expands to, what overrides it, what NNCF receives, what validate shows.

The presets' exactness against real NNCF graphs is tests/test_architectures.py's job (it traces).
"""

from __future__ import annotations

import pytest

from ov_movement.config import MovementSparsityConfig
from ov_movement.config.load import validate_pipeline
from ov_movement.config.presets import DEFAULT_PRESET_BLOCK, PRESETS, preset_for_model_type
from ov_movement.config.scopes import as_list
from ov_movement.errors import ConfigError
from tests.tiny import QA_PARAMS

PARAMS = {"warmup_start_epoch": 1, "warmup_end_epoch": 3, "importance_regularization_factor": 0.01}


def _section(**keys):
    return MovementSparsityConfig.model_validate({"params": dict(PARAMS), **keys})


@pytest.mark.parametrize("name", list(PRESETS))
def test_a_preset_fills_structure_and_ignored_scopes_and_nncf_never_sees_it(name):
    section = _section(preset=name)
    preset = PRESETS[name]
    nncf = section.to_nncf()
    assert "preset" not in nncf and "preset_block_size" not in nncf
    assert nncf["sparse_structure_by_scopes"] == [
        {k: v for k, v in entry.items()} for entry in preset.structure(DEFAULT_PRESET_BLOCK)
    ]
    assert nncf["ignored_scopes"] == preset.ignored_scopes()
    assert section.preset_parts() == ["sparse_structure_by_scopes", "ignored_scopes"]
    # NNCF's normal form is a fixed point: validating it again gives the same section.
    assert MovementSparsityConfig.model_validate(nncf).to_nncf() == nncf


def test_the_bert_preset_is_the_documented_default():
    from ov_movement.config.pipeline import PipelineConfig

    default = PipelineConfig().movement.to_nncf()
    assert _section(preset="bert").to_nncf() == default | {
        "params": _section(preset="bert").to_nncf()["params"]
    }


def test_explicit_keys_replace_their_part_of_the_preset():
    own = [{"mode": "fine", "target_scopes": "{re}.*ViTOutput.*"}]
    section = _section(preset="vit", sparse_structure_by_scopes=own, ignored_scopes=[])
    assert [e.model_dump(exclude_none=True) for e in section.sparse_structure_by_scopes] == own
    assert as_list(section.ignored_scopes) == []
    assert section.preset_parts() == []
    only_ignored = _section(preset="vit", ignored_scopes=["{re}.*classifier.*"])
    assert only_ignored.preset_parts() == ["sparse_structure_by_scopes"]


def test_preset_block_size_sets_the_attention_blocks():
    section = _section(preset="swin", preset_block_size=16)
    assert section.sparse_structure_by_scopes[0].sparse_factors == [16, 16]
    assert section.preset_parts() == ["sparse_structure_by_scopes", "ignored_scopes"]


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"preset": "vitt"}, "'bert', 'roberta', 'distilbert'"),
        ({"preset_block_size": 16}, "only has an effect with `preset`"),
        ({"preset": "vit", "preset_block_size": 0}, "greater than 0"),
    ],
)
def test_preset_mistakes_are_located(keys, message):
    with pytest.raises(ConfigError) as error:
        validate_pipeline({"compression": {"params": dict(PARAMS), **keys}})
    assert message in str(error.value)
    assert "compression." + next(iter(keys)) in str(error.value)


def test_every_supported_model_type_has_a_preset():
    for model_type in (
        "bert",
        "roberta",
        "distilbert",
        "mobilebert",
        "vit",
        "swin",
        "clip",
        "clip_vision_model",
        "wav2vec2",
    ):
        assert preset_for_model_type(model_type) is not None
    assert preset_for_model_type("gpt2") is None


def test_validate_shows_the_preset_and_warns_when_it_does_not_fit_the_model(tmp_path):
    from ov_movement.config.load import load_pipeline
    from ov_movement.config.summary import render_summary

    path = tmp_path / "p.yaml"
    path.write_text(
        "model: {config: {model_type: distilbert}}\n"
        "compression: {preset: vit, preset_block_size: 16, params: "
        "{warmup_start_epoch: 1, warmup_end_epoch: 3, importance_regularization_factor: 0.01}}\n"
    )
    text = render_summary(load_pipeline(path))
    assert (
        "preset              vit (ViT; attention blocks 16x16): sparse_structure_by_scopes and ignored_scopes"
        in text
    )
    assert "block 16x16               {re}.*ViTAttention.*" in text
    assert (
        "compression.preset 'vit' is written for model_type vit, the model is 'distilbert' (use preset 'distilbert')"
        in text
    )

    path.write_text("model: {config: {model_type: swin}}\n")
    assert "set compression.preset: swin" in render_summary(load_pipeline(path))


def test_validate_presets_lists_every_preset(capsys):
    from ov_movement.cli import main

    assert main(["validate", "--presets"]) == 0
    out = capsys.readouterr().out
    for name, preset in PRESETS.items():
        assert f"  {name}: {preset.title}" in out
        assert preset.attention in out


def test_the_default_compression_and_presets_leave_out_the_classifier_pattern_for_qa():
    """The span head is outside NNCF: `{re}.*classifier.*` would match nothing (a hard NNCF error)."""
    from ov_movement.config import validate_pipeline

    qa = {"model": {"task": "question-answering"}, "data": {"source": "synthetic_qa", "path": None}}
    default = validate_pipeline(qa).movement
    assert default.ignored_scopes == ["{re}.*NNCFEmbedding", "{re}.*LayerNorm.*"]
    assert validate_pipeline({}).movement.ignored_scopes[-1] == "{re}.*classifier.*"  # unchanged
    preset = validate_pipeline(qa | {"compression": {"preset": "roberta", "params": QA_PARAMS}}).movement
    assert "{re}.*classifier.*" not in preset.ignored_scopes
    assert preset.preset_parts() == ["sparse_structure_by_scopes", "ignored_scopes"]
    written = validate_pipeline(
        qa
        | {"compression": {"preset": "bert", "params": QA_PARAMS, "ignored_scopes": ["{re}.*classifier.*"]}}
    )
    assert written.movement.ignored_scopes == ["{re}.*classifier.*"]  # what the user wrote stays
