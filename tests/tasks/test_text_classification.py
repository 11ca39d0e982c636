"""Text classification (ov_movement.tasks.text_classification): inputs, encoding, batches."""

from __future__ import annotations

from pathlib import Path

import pytest

from ov_movement.data.examples import Example
from ov_movement.errors import StageError
from ov_movement.tasks import get_task
from tests.tiny import tiny_config


@pytest.fixture(scope="module")
def tokenizer():
    from ov_movement.models import load_processor

    return load_processor(tiny_config().model, Path("."))


def test_segment_ids_are_always_an_input_of_a_model_that_takes_them(tokenizer):
    """Even from a tokenizer that makes none: NNCF's mask grouping needs the embeddings' segment path."""
    from transformers import BertForSequenceClassification, DistilBertForSequenceClassification

    task = get_task("text-classification")
    assert task.input_names(BertForSequenceClassification, tokenizer) == (
        "input_ids",
        "attention_mask",
        "token_type_ids",
    )
    assert task.input_names(DistilBertForSequenceClassification, tokenizer) == ("input_ids", "attention_mask")


def test_a_model_without_token_ids_is_named_as_not_a_text_model(tokenizer):
    from transformers import ViTForImageClassification

    with pytest.raises(StageError, match="ViTForImageClassification does not take `input_ids`"):
        get_task("text-classification").input_names(ViTForImageClassification, tokenizer)


def test_pairs_are_encoded_as_two_segments_and_texts_truncated_to_the_maximum_length(tokenizer):
    names = ("input_ids", "attention_mask", "token_type_ids")
    task = get_task("text-classification")
    pair = Example(text="a short text", text_pair="its pair", label=1)
    (encoded_pair,) = task.encode(tokenizer, [pair], names, max_length=12).features
    assert set(encoded_pair["token_type_ids"]) == {0, 1} and encoded_pair["label"] == 1
    assert len(encoded_pair["input_ids"]) < 12  # padding is left to batching
    (long,) = task.encode(tokenizer, [Example(text="word " * 50, label=0)], names, max_length=12).features
    assert len(long["input_ids"]) == 12 and set(long["token_type_ids"]) == {0}


def test_a_batch_pads_ids_with_the_pad_id_and_masks_the_padding(tokenizer):
    names = ("input_ids", "attention_mask", "token_type_ids")
    examples = [Example(text="one", label=0), Example(text="a somewhat longer text", label=2)]
    task = get_task("text-classification")
    features = task.encode(tokenizer, examples, names, max_length=16).features
    batch = task.collate(features, names, pad_id=tokenizer.pad_token_id)
    short = len(features[0]["input_ids"])
    assert batch["input_ids"].shape == batch["attention_mask"].shape == batch["token_type_ids"].shape
    assert batch["input_ids"][0, short:].eq(tokenizer.pad_token_id).all()
    assert batch["attention_mask"][0, short:].eq(0).all() and batch["attention_mask"][1].eq(1).all()
    assert batch["labels"].tolist() == [0, 2]
