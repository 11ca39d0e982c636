"""NNCF set-up: attention groups need eager attention, up-front checks, the NNCF config we build."""

from __future__ import annotations

from pathlib import Path

import pytest

from ov_movement.errors import ConfigError
from tests.tiny import tiny_config


def _tiny_model(config, attn="eager"):
    from ov_movement.models import build_model
    from ov_movement.training.nncf_setup import ensure_nncf

    ensure_nncf()
    if attn == "eager":
        return build_model(config.model, Path("."), num_labels=2)
    from transformers import AutoConfig, AutoModelForSequenceClassification

    hf_config = AutoConfig.for_model(**config.model.config, num_labels=2)
    return AutoModelForSequenceClassification.from_config(hf_config, attn_implementation=attn)


def _nncf_config(config, tmp_path, steps=4):
    from ov_movement.tasks import get_task
    from ov_movement.training.nncf_setup import nncf_config_dict

    info = get_task("text-classification").nncf_input_info(
        ["input_ids", "attention_mask", "token_type_ids"], 32
    )
    return nncf_config_dict(config, input_info=info, steps_per_epoch=steps, log_dir=tmp_path / "nncf")


def test_eager_attention_forms_attention_groups(tmp_path):
    from ov_movement.training.nncf_setup import attention_group_count, compress, structured_groups

    config = tiny_config()
    compressed = compress(_tiny_model(config), config, _nncf_config(config, tmp_path))
    assert type(compressed.model).__name__ == "BertForSequenceClassification"
    assert compressed.model.config._attn_implementation == "eager"
    assert attention_group_count(compressed.ctrl) == 2  # one per layer
    assert len(structured_groups(compressed.ctrl)) == 4  # plus one FFN group per layer
    assert [layer.module for layer in compressed.scopes.layers][-1] == "bert.pooler.dense"
    assert compressed.scopes.mode_by_layer[compressed.scopes.layers[0].nncf_name] == "block"


def test_a_tokenizer_without_segment_ids_still_gets_structured_groups(tmp_path):
    """Segment ids (zeros) are passed whenever the model takes them: without them transformers 5's
    BERT embeddings gather a buffer by position_ids, and NNCF's structured grouping asserts on it."""
    from types import SimpleNamespace

    from transformers import BertForSequenceClassification

    from ov_movement.tasks import get_task
    from ov_movement.training.nncf_setup import attention_group_count, compress, nncf_config_dict

    tokenizer = SimpleNamespace(model_input_names=["input_ids", "attention_mask"])
    task = get_task("text-classification")
    names = task.input_names(BertForSequenceClassification, tokenizer)
    assert names == ("input_ids", "attention_mask", "token_type_ids")
    config = tiny_config()
    nncf_config = nncf_config_dict(
        config, input_info=task.nncf_input_info(names, 32), steps_per_epoch=4, log_dir=tmp_path / "nncf"
    )
    compressed = compress(_tiny_model(config), config, nncf_config)
    assert attention_group_count(compressed.ctrl) == 2


def test_sdpa_attention_silently_loses_attention_groups(tmp_path):
    """The trap build_model avoids: with sdpa NNCF finds only FFN groups, and says nothing."""
    from ov_movement.training.nncf_setup import attention_group_count, compress, structured_groups

    config = tiny_config()
    compressed = compress(_tiny_model(config, "sdpa"), config, _nncf_config(config, tmp_path))
    assert attention_group_count(compressed.ctrl) == 0
    assert len(structured_groups(compressed.ctrl)) == 2


def test_family_check_is_skipped_without_structured_masking():
    from ov_movement.training.nncf_setup import CompressionSetupError, check_structured_family

    class FakeGPT2:  # RoBERTa is admitted as the bert family (tests/test_architectures.py)
        pass

    FakeGPT2.__module__ = "transformers.models.gpt2.modeling_gpt2"
    with pytest.raises(CompressionSetupError, match="gpt2"):
        check_structured_family(FakeGPT2(), tiny_config())
    check_structured_family(FakeGPT2(), tiny_config(params={"enable_structured_masking": False}))


def test_nncf_config_has_inputs_and_steps_per_epoch(tmp_path):
    config = tiny_config()
    built = _nncf_config(config, tmp_path, steps=7)
    assert [i["keyword"] for i in built["input_info"]] == ["input_ids", "attention_mask", "token_type_ids"]
    assert built["input_info"][2]["filler"] == "zeros" and built["input_info"][0]["sample_size"] == [1, 32]
    assert built["compression"]["params"]["steps_per_epoch"] == 7
    assert built["log_dir"] == str(tmp_path / "nncf")
    from nncf import NNCFConfig

    NNCFConfig.from_dict(built)  # NNCF's own schema accepts it


def test_steps_per_epoch_given_in_config_must_match(tmp_path):
    config = tiny_config(params={"steps_per_epoch": 5})
    with pytest.raises(ConfigError, match=r"compression\.params\.steps_per_epoch"):
        _nncf_config(config, tmp_path, steps=4)


def test_nncf_noise_is_filtered_and_group_warnings_captured():
    import logging

    from ov_movement.training.nncf_setup import capture_nncf_warnings, ensure_nncf

    ensure_nncf()
    logger = logging.getLogger("nncf")
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    try:
        with capture_nncf_warnings() as captured:
            logger.info("Ignored adding weight sparsifier in scope: x")
            logger.warning("NNCF provides best results with torch==2.9.*")
            logger.warning("Automatically found structured pruning group does not match the given ...")
            logger.warning("something else that matters")
    finally:
        logger.removeHandler(handler)
    assert [r.getMessage() for r in records] == ["something else that matters"]
    assert len(captured) == 1 and "does not match" in captured[0]


def test_wrong_per_dim_axis_is_reported_with_layer_names(tmp_path, caplog):
    """NNCF drops an FFN group whose per_dim axis contradicts the model; the user must hear of it."""
    import logging

    from ov_movement.training.nncf_setup import compress, structured_groups
    from tests.tiny import tiny_pipeline_dict

    raw = tiny_pipeline_dict()
    raw["compression"]["sparse_structure_by_scopes"][1]["axis"] = 1  # BertIntermediate: rows, not columns
    from ov_movement.config.pipeline import PipelineConfig

    config = PipelineConfig.model_validate(raw)
    with caplog.at_level(logging.INFO, logger="ov_movement"):
        compressed = compress(_tiny_model(config), config, _nncf_config(config, tmp_path))
    assert len(structured_groups(compressed.ctrl)) == 2  # attention only
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("axis" in w for w in warnings), warnings
    assert any("bert.encoder.layer.0.intermediate.dense" in w and "unstructured" in w for w in warnings), (
        warnings
    )


def test_written_loc_names_what_the_file_holds():
    """Problems in scopes a preset or the default filled in point at the key the user wrote."""
    from ov_movement.config.pipeline import PipelineConfig
    from ov_movement.training.nncf_setup import written_loc

    params = {"warmup_start_epoch": 1, "warmup_end_epoch": 3, "importance_regularization_factor": 0.01}
    explicit = tiny_config()
    assert written_loc(explicit, "ignored_scopes", "[1]") == ("compression.ignored_scopes[1]", "")
    preset = PipelineConfig.model_validate({"compression": {"preset": "vit", "params": params}})
    loc, note = written_loc(preset, "sparse_structure_by_scopes", "[0].sparse_factors")
    assert loc == "compression.preset" and "default preset_block_size 32" in note
    loc, note = written_loc(preset, "ignored_scopes", "[0]")
    assert (loc, note) == ("compression.preset", " (preset 'vit' expanded to compression.ignored_scopes[0])")
    # Question answering fills the default section itself (without the head pattern): still the default.
    qa = PipelineConfig.model_validate(
        {"model": {"task": "question-answering"}, "data": {"source": "synthetic_qa"}}
    )
    for config in (PipelineConfig.model_validate({}), qa):
        loc, note = written_loc(config, "sparse_structure_by_scopes", "[0].target_scopes")
        assert loc == "compression" and "the file has no compression section" in note
