"""Reading and splitting the text data sources (ov_movement.data.examples)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from ov_movement.config.pipeline import DataConfig
from ov_movement.data import load_examples, stratified_split
from ov_movement.errors import StageError


def test_synthetic_is_deterministic_balanced_and_split():
    cfg = DataConfig(source="synthetic", synthetic_samples=50, synthetic_num_labels=3, eval_fraction=0.2)
    first, second = load_examples(cfg, Path(".")), load_examples(cfg, Path("."))
    assert first == second
    assert first.label_names == ["class_0", "class_1", "class_2"]
    assert len(first.train) + len(first.eval) == 50 and abs(len(first.eval) - 10) <= 1  # per-class rounding
    assert {e.label for e in first.eval} == {0, 1, 2}
    other = load_examples(cfg.model_copy(update={"seed": 1}), Path("."))
    assert other.eval != first.eval


def test_stratified_split_keeps_every_class_on_both_sides():
    labels = [0] * 10 + [1] * 3 + [2] * 2
    train, evaluation = stratified_split(labels, 0.2, seed=0)
    assert sorted(train + evaluation) == list(range(15))
    assert {labels[i] for i in evaluation} == {0, 1, 2} and {labels[i] for i in train} == {0, 1, 2}
    assert (train, evaluation) == stratified_split(labels, 0.2, seed=0)


def test_text_folder_reads_legacy_files_as_latin1(tmp_path):
    for label, texts in {"neg": ["bad", "awful", "poor"], "pos": ["good", "great", "fine"]}.items():
        (tmp_path / label).mkdir()
        for i, text in enumerate(texts):
            (tmp_path / label / f"{i}.txt").write_text(text)
    (tmp_path / "pos" / "3.txt").write_bytes("\xa315.8m caf\xe9".encode("latin-1"))
    (tmp_path / "pos" / "notes.md").write_text("ignored")
    data = load_examples(DataConfig(source="text_folder", path=str(tmp_path), eval_fraction=0.3), tmp_path)
    assert data.label_names == ["neg", "pos"]
    texts = {e.text for e in data.train + data.eval}
    assert len(texts) == 7 and "\xa315.8m caf\xe9" in texts


def test_packaged_bbc_news():
    data = load_examples(DataConfig(), Path("."))
    assert data.label_names == ["business", "entertainment", "politics", "sports", "tech"]
    assert len(data.train) + len(data.eval) == 2225
    assert len(data.eval) == pytest.approx(445, abs=3)
    assert any("\xa315.8m signing" in e.text for e in data.train + data.eval)  # sports/199.txt is latin-1


def test_csv_and_jsonl_labels(tmp_path):
    (tmp_path / "d.csv").write_text("text,label\nhello,spam\nworld,ham\nfoo,spam\nbar,ham\n")
    data = load_examples(DataConfig(source="csv", path="d.csv", eval_fraction=0.5), tmp_path)
    assert data.label_names == ["ham", "spam"]
    rows = [{"sentence": f"s{i}", "other": f"o{i}", "y": i % 2 + 1} for i in range(6)]
    (tmp_path / "d.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    cfg = DataConfig(
        source="jsonl", path="d.jsonl", text_column="sentence", text_pair_column="other", label_column="y"
    )
    data = load_examples(cfg, tmp_path)
    assert data.label_names == ["1", "2"] and data.train[0].text_pair is not None
    with pytest.raises(StageError, match="no column"):
        load_examples(DataConfig(source="jsonl", path="d.jsonl"), tmp_path)


def test_separate_eval_file(tmp_path):
    (tmp_path / "train.csv").write_text("text,label\na,x\nb,y\nc,x\n")
    (tmp_path / "eval.csv").write_text("text,label\nd,y\n")
    data = load_examples(DataConfig(source="csv", path="train.csv", eval_path="eval.csv"), tmp_path)
    assert len(data.train) == 3 and [e.text for e in data.eval] == ["d"] and data.eval[0].label == 1
    (tmp_path / "eval.csv").write_text("text,label\nd,z\n")
    with pytest.raises(StageError, match="'z'"):
        load_examples(DataConfig(source="csv", path="train.csv", eval_path="eval.csv"), tmp_path)


def test_hf_disk_without_datasets_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "datasets", None)  # as if not installed
    with pytest.raises(StageError, match="pip install datasets"):
        load_examples(DataConfig(source="hf_disk", path=str(tmp_path)), tmp_path)


# ---- labels by name, normalised once; nothing dropped or coerced silently ----------------------


def test_text_folder_class_names_are_normalised_and_files_checked(tmp_path):
    import unicodedata

    for folder, name in (
        (unicodedata.normalize("NFD", "café"), "1.txt"),
        ("café", "2.txt"),
        ("tea", "1.TXT"),
    ):
        (tmp_path / folder).mkdir(exist_ok=True)
        (tmp_path / folder / name).write_text(f"text of {name}")
    (tmp_path / "tea" / "2.txt").write_text("more tea")
    data = load_examples(DataConfig(source="text_folder", path=str(tmp_path), eval_fraction=0.5), tmp_path)
    assert data.label_names == ["café", "tea"] and len(data.train) + len(data.eval) == 4
    (tmp_path / "tea" / "3.txt").write_text("\n \n")
    with pytest.raises(StageError, match="3.txt is empty"):
        load_examples(DataConfig(source="text_folder", path=str(tmp_path)), tmp_path)


def test_a_protected_files_header_is_not_quoted(tmp_path):
    secret = "root:$6$salt$hash:19000:0:99999:7:::"
    path = tmp_path / "shadow"
    path.write_text(f"{secret}\nx\n")
    path.chmod(0o600)
    with pytest.raises(StageError) as caught:
        load_examples(DataConfig(source="csv", path=str(path)), tmp_path)
    assert str(path) in str(caught.value) and "1 column(s), not shown" in str(caught.value)
    assert "root" not in str(caught.value).replace(str(tmp_path), "")
    path.chmod(0o644)  # a file everyone may read: its columns help find a typo
    with pytest.raises(StageError, match=r"columns are \['root"):
        load_examples(DataConfig(source="csv", path=str(path)), tmp_path)
