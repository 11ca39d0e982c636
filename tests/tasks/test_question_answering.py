"""Extractive question answering (ov_movement.tasks.question_answering, heads.QuestionAnsweringModel):
answer token positions, the model and its compression, and (slow) the tiny QA pipeline through
sparsify -> mask -> export -> convert -> IR accuracy.

Elsewhere: the span metrics in tests/test_metrics.py, reading QA records in tests/data/test_qa.py,
the config rules in tests/config/test_task_data.py and tests/config/test_presets.py."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ov_movement.config.pipeline import PipelineConfig
from ov_movement.errors import ConfigError
from ov_movement.model_inputs import load_eval_arrays
from tests.tiny import qa_config

TINY_QA = Path(__file__).resolve().parents[2] / "pipelines" / "tiny-qa.yaml"


# ---------------------------------------------------------------------------------------------
# Encoding.


def _decoded_answers(config: PipelineConfig, root: Path = Path(".")):
    from ov_movement.data.qa import load_qa_examples
    from ov_movement.models import load_processor, model_input_names

    tokenizer = load_processor(config.model, root)
    names = model_input_names(config.model, root, tokenizer)
    arrays, labels = load_eval_arrays(config, root)
    _, evaluation = load_qa_examples(config.data, root)
    decoded = [
        tokenizer.decode(arrays["input_ids"][i][start : end + 1]) for i, (start, end) in enumerate(labels)
    ]
    return names, arrays, labels, evaluation, decoded


def test_synthetic_qa_answers_sit_at_the_labelled_token_positions():
    config = qa_config({"source": "synthetic_qa", "synthetic_samples": 40})
    names, arrays, labels, evaluation, decoded = _decoded_answers(config)
    assert names == ("input_ids", "attention_mask", "token_type_ids")
    assert arrays["input_ids"].shape == (8, 32) and labels.shape == (8, 2)  # padded to max_seq_length
    assert decoded == [e.answer for e in evaluation]
    for example in evaluation:  # the question names the keyword whose value is the answer
        keyword = example.question.split()[-2]
        assert f"the {keyword} is {example.answer}" in example.context
    assert (arrays["token_type_ids"][np.arange(8), labels[:, 0]] == 1).all()  # inside the context


def test_squad_and_flat_jsonl_records_encode_to_the_answer(tmp_path):
    records = [
        {"question": "Who wrote it?", "context": "It was written by Ada Lovelace in 1843.",
         "answers": {"text": ["Ada Lovelace"], "answer_start": [18]}},
        {"question": "When?", "context": "It was written by Ada Lovelace in 1843.", "answer": "1843"},
        {"question": "Where is the tower?", "context": "The Eiffel Tower stands in Paris, France.",
         "answer": "Paris", "answer_start": 27},
    ]  # fmt: skip
    path = tmp_path / "qa.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    config = qa_config({"source": "jsonl", "path": str(path), "eval_path": str(path)})
    *_, evaluation, decoded = _decoded_answers(config, tmp_path)
    assert [e.answer for e in evaluation] == ["Ada Lovelace", "1843", "Paris"]
    assert decoded == ["ada lovelace", "1843", "paris"]  # the uncased tokenizer


def test_answers_truncated_away_are_dropped_and_none_left_is_a_config_error(tmp_path, caplog):
    far = "filler " * 40
    records = [
        {"question": "What?", "context": "the answer is here " + far, "answer": "here"},
        {"question": "What?", "context": far + "the answer is there", "answer": "there"},
    ]
    path = tmp_path / "qa.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    config = qa_config({"source": "jsonl", "path": str(path), "eval_path": str(path)})
    arrays, labels = load_eval_arrays(config, tmp_path)
    assert len(labels) == 1
    assert "1 of 2 example(s) dropped" in caplog.text and "qa.jsonl:2" in caplog.text

    path.write_text(json.dumps(records[1]) + "\n" + json.dumps(records[1]) + "\n")
    with pytest.raises(ConfigError, match=r"data\.max_seq_length: 32 tokens leave the answer of none"):
        load_eval_arrays(config, tmp_path)


# ---------------------------------------------------------------------------------------------
# The model.


def test_qa_model_keeps_bert_as_the_compressed_part_and_outputs_start_end_logits():
    import torch

    from ov_movement.models import build_model, model_class
    from ov_movement.training.nncf_setup import compression_target, ensure_nncf, structured_family

    ensure_nncf()  # before the model is built (docs/design.md)
    config = qa_config({"source": "synthetic_qa"})
    assert model_class(config.model, Path(".")).__name__ == "BertForQuestionAnswering"
    torch.manual_seed(0)
    model = build_model(config.model, Path("."), num_labels=2).eval()
    target, name = compression_target(model)
    assert name == "backbone" and type(target).__name__ == "BertModel" and structured_family(target) == "bert"
    ids = torch.randint(0, 100, (3, 10))
    output = model(input_ids=ids, labels=torch.tensor([[1, 2], [0, 0], [4, 9]]))
    assert tuple(output.logits.shape) == (3, 10, 2) and output.loss.ndim == 0


BERT_FAMILY = ["bert", "distilbert", "roberta", "mobilebert"]


def _arch_qa_pipeline(name: str, samples: int) -> dict:
    """tests/tiny.py's tiny model and preset of `name`, as a QA model on synthetic_qa."""
    from tests.tiny import ARCHS, arch_pipeline

    raw = arch_pipeline(ARCHS[name])
    raw["model"]["task"] = "question-answering"
    if name == "roberta":  # BERT's tokenizer gives the context segment id 1
        raw["model"]["config"]["type_vocab_size"] = 2
    raw["data"] = {"source": "synthetic_qa", "path": None, "synthetic_samples": samples, "max_seq_length": 32}
    return raw


@pytest.mark.parametrize("name", BERT_FAMILY)
def test_bert_family_qa_models_compress_with_their_preset_and_train(name, tmp_path):
    """NNCF wraps the encoder (family check, attention + FFN groups); a batch trains through it."""
    import torch

    from ov_movement.model_inputs import prepare_data
    from ov_movement.models import build_model, load_processor, model_input_names
    from ov_movement.tasks import get_task
    from ov_movement.training.nncf_setup import (
        attention_group_count,
        compress,
        ensure_nncf,
        nncf_config_dict,
    )

    config = PipelineConfig.model_validate(_arch_qa_pipeline(name, 16))
    ensure_nncf()
    task = get_task("question-answering")
    processor = load_processor(config.model, Path("."))
    names = model_input_names(config.model, Path("."), processor)
    assert ("token_type_ids" in names) == (name != "distilbert")
    data = prepare_data(config, Path("."), processor, names)
    torch.manual_seed(0)
    model = build_model(config.model, Path("."), num_labels=data.num_labels, processor=processor)
    info = task.nncf_input_info(names, config.data.max_seq_length, processor=processor)
    nncf_config = nncf_config_dict(config, input_info=info, steps_per_epoch=2, log_dir=tmp_path)
    compressed = compress(model, config, nncf_config)

    assert compressed.model.backbone is compressed.ctrl.model  # the head stays outside NNCF
    assert attention_group_count(compressed.ctrl) == 2
    batch = task.collate(data.train.features[:4], names, data.pad_id)
    output = compressed.model(**batch)
    assert tuple(output.logits.shape) == (4, 32, 2) and torch.isfinite(output.loss)
    output.loss.backward()
    assert compressed.model.qa_outputs.weight.grad is not None


# ---------------------------------------------------------------------------------------------
# The tiny QA pipeline through the stages.


@pytest.mark.slow
def test_tiny_qa_pipeline_masks_structure_and_the_pruned_ir_answers_like_torch(tmp_path):
    """pipelines/tiny-qa.yaml: sparsify -> mask -> export -> convert -> IR exact match / F1."""
    import yaml

    from ov_movement.benchmarking.accuracy import evaluate_models
    from ov_movement.tasks import get_task
    from tests.stages.in_process import run_through_convert

    raw = yaml.safe_load(TINY_QA.read_text())
    raw.pop("$schema")
    raw["training"]["device"] = "cpu"
    run = run_through_convert(raw, tmp_path)

    mask = run.results["mask"].metrics
    assert mask["structured_masking_step"] is not None  # structured masks resolved
    assert mask["attention_heads_total"] == 2 * 4 and mask["ffn_neurons_total"] == 2 * 128
    assert mask["linear_sparsity"] > 0.3
    final = json.loads((tmp_path / "mask" / "eval.json").read_text())[-1]
    assert final["exact_match"] >= 0.8 and final["f1"] >= final["exact_match"]

    stats = run.json("convert", "stats.json")
    assert all(report["ok"] for report in stats["verification"])  # the pruned IR equals the dense IR
    assert (
        run.results["convert"].metrics["pruned_bin_bytes"] < run.results["convert"].metrics["dense_bin_bytes"]
    )

    inputs, labels = load_eval_arrays(run.config, TINY_QA.parent)
    irs = {"dense": tmp_path / "convert" / "dense.xml", "pruned": tmp_path / "convert" / "pruned.xml"}
    accuracy = evaluate_models(irs, inputs, labels, task=get_task("question-answering"))
    # The same spans as torch up to arg-max near-ties at f32 rounding.
    assert accuracy["pruned"]["exact_match"] == pytest.approx(final["exact_match"], abs=0.02)
    assert accuracy["pruned"]["f1"] == pytest.approx(final["f1"], abs=0.02)
    assert accuracy["pruned"]["agreement"] >= 0.98
    print("QA metrics", {"torch": final, "ir": accuracy})


@pytest.mark.slow
@pytest.mark.parametrize("name", BERT_FAMILY)
def test_bert_family_qa_through_sparsify_mask_export_convert(name, tmp_path):
    """Each preset's QA model: masks resolve, the pruned IR equals the dense IR and is smaller."""
    from tests.stages.in_process import run_through_convert

    run = run_through_convert(_arch_qa_pipeline(name, 64), tmp_path)
    mask = run.results["mask"].metrics
    assert mask["structured_masking_step"] is not None and mask["attention_heads_total"] == 2 * 4
    assert "eval_exact_match" in mask and "eval_f1" in mask
    convert = run.results["convert"].metrics
    assert all(report["ok"] for report in run.json("convert", "stats.json")["verification"])
    assert convert["pruned_bin_bytes"] < convert["dense_bin_bytes"]
    assert convert["removal_efficiency"]["ffn_neurons"] == 1.0
    assert convert["removal_efficiency"]["attention_heads"] in (None, 1.0)  # None: no head masked
