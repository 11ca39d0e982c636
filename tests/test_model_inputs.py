"""The read-and-encode entry points (ov_movement.model_inputs): the arrays the IR evaluation and
quantization calibration read."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ov_movement.data import load_examples
from ov_movement.model_inputs import load_eval_arrays
from tests.tiny import tiny_config


def test_load_eval_arrays_contract():
    config = tiny_config()
    arrays, labels = load_eval_arrays(config, Path("."))
    assert list(arrays) == ["input_ids", "attention_mask", "token_type_ids"]
    n = len(labels)
    assert n > 0 and labels.dtype == np.int64 and labels.shape == (n,)
    for values in arrays.values():
        assert values.dtype == np.int64 and values.shape == (n, config.data.max_seq_length)
    assert (arrays["attention_mask"].sum(axis=1) < config.data.max_seq_length).all()  # padded
    limited, few = load_eval_arrays(config, Path("."), limit=3)
    assert few.tolist() == labels[:3].tolist()
    assert np.array_equal(limited["input_ids"], arrays["input_ids"][:3])


def test_train_split_arrays_are_the_train_examples_encoded_as_the_eval_arrays():
    """The calibration set of post-training quantization: same inputs, dtypes and padding as eval."""
    from ov_movement.model_inputs import load_split_arrays

    config = tiny_config()
    raw = load_examples(config.data, Path("."))
    arrays, labels = load_split_arrays(config, Path("."), "train", limit=5)
    assert labels.tolist() == [e.label for e in raw.train[:5]]
    assert list(arrays) == ["input_ids", "attention_mask", "token_type_ids"]
    for values in arrays.values():
        assert values.dtype == np.int64 and values.shape == (5, config.data.max_seq_length)
    everything, all_labels = load_split_arrays(config, Path("."), "train")
    assert len(all_labels) == len(raw.train) and np.array_equal(
        everything["input_ids"][:5], arrays["input_ids"]
    )
    eval_arrays, eval_labels = load_split_arrays(config, Path("."), "eval")
    reference, reference_labels = load_eval_arrays(config, Path("."))
    assert np.array_equal(eval_arrays["input_ids"], reference["input_ids"]) and np.array_equal(
        eval_labels, reference_labels
    )
