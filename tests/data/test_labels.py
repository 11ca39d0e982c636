"""Labels by name (ov_movement.data.labels), normalised once; nothing dropped or coerced silently."""

from __future__ import annotations

import json

import pytest

from ov_movement.config.pipeline import DataConfig
from ov_movement.data import load_examples
from ov_movement.errors import StageError


def test_label_spellings_of_one_class_become_one_class(tmp_path, caplog):
    import unicodedata

    nfd = unicodedata.normalize("NFD", "café")
    rows = [("a", "sport"), ("b", "sport "), ("c", " sport"), ("d", "café"), ("e", nfd), ("f", "café ")]
    (tmp_path / "d.csv").write_text("text,label\n" + "".join(f"{t},{label}\n" for t, label in rows * 2))
    with caplog.at_level("WARNING"):
        data = load_examples(DataConfig(source="csv", path="d.csv", eval_fraction=0.5), tmp_path)
    assert data.label_names == ["café", "sport"]
    assert "'sport', 'sport ' are one class 'sport'" in caplog.text.replace("' sport', ", "")


def test_numeric_labels_are_compared_by_value(tmp_path):
    records = [
        {"text": f"t{i}", "label": label} for i, label in enumerate([1, "1.0", " 1", 1.0, 10, "2", 2, "10"])
    ]
    (tmp_path / "d.jsonl").write_text("\n".join(json.dumps(r) for r in records))
    data = load_examples(DataConfig(source="jsonl", path="d.jsonl", eval_fraction=0.4), tmp_path)
    assert data.label_names == ["1", "2", "10"]  # numerically sorted, one class per value


def test_integer_eval_labels_are_names_not_indices(tmp_path):
    train = [{"text": f"t{i}", "label": label} for i, label in enumerate([3, 7, 3, 7])]
    (tmp_path / "train.jsonl").write_text("\n".join(json.dumps(r) for r in train))
    (tmp_path / "eval.jsonl").write_text(json.dumps({"text": "e", "label": 7}))
    cfg = DataConfig(source="jsonl", path="train.jsonl", eval_path="eval.jsonl")
    data = load_examples(cfg, tmp_path)
    assert data.label_names == ["3", "7"] and data.eval[0].label == 1  # the class named 7
    (tmp_path / "eval.jsonl").write_text(json.dumps({"text": "e", "label": 1}))
    with pytest.raises(StageError, match=r"label '1' is not one of \['3', '7'\]"):  # was: index 1 -> '7'
        load_examples(cfg, tmp_path)
