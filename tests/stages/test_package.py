"""The package stage on the shipped tiny text pipeline: the bundle's layouts, the choice, the check."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import yaml

from ov_movement.config.pipeline import PipelineConfig
from ov_movement.deploy.bundle import OVMS_CONFIG, ovms_chain_logits
from ov_movement.deploy.predictor import BUNDLE_FILE, HF_DIR, HF_MODEL_XML, MODEL_CARD, OVMS_DIR, Predictor
from ov_movement.errors import VerificationError
from ov_movement.stages import package
from ov_movement.stages.base import StageContext
from tests.deploy.bundles import text_bundle
from tests.pipelines import PIPELINES

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bundle(tiny_pipeline):
    return text_bundle(tiny_pipeline)


def _info(bundle):
    return json.loads((bundle / BUNDLE_FILE).read_text())


def test_auto_packages_the_reports_recommendation_and_says_why(bundle, tiny_pipeline):
    info = _info(bundle)
    manifest = json.loads((tiny_pipeline[0] / "tiny-bert" / "report" / "manifest.json").read_text())
    assert info["variant"] == manifest["metrics"]["recommended"]
    assert info["reason"].startswith("fastest within package.max_accuracy_drop 0.01: the fastest of")
    assert info["label_names"] == ["class_0", "class_1"]
    assert info["input_names"] == ["input_ids", "attention_mask", "token_type_ids"]


def test_the_check_reproduced_the_benchmark_exactly(bundle, tiny_pipeline):
    info = _info(bundle)
    benchmark = json.loads((tiny_pipeline[0] / "tiny-bert" / "benchmark" / "benchmark.json").read_text())
    check = info["check"]
    assert (
        check["accuracy"] == benchmark["accuracy"][info["variant"]]["accuracy"] == check["benchmark_accuracy"]
    )
    assert check["agreement_with_benchmark"] == 1.0 and check["ovms_agreement_with_benchmark"] == 1.0
    assert check["samples"] == benchmark["accuracy"][info["variant"]]["samples"]


def test_hf_directory_reads_as_optimum_intel_reads_it(bundle):
    """openvino's read_model + transformers' AutoConfig/AutoTokenizer, as optimum-intel loads the dir."""
    import openvino as ov
    from transformers import AutoConfig, AutoTokenizer

    hf = bundle / HF_DIR
    config = AutoConfig.from_pretrained(hf)
    assert config.id2label == {0: "class_0", 1: "class_1"} and config.label2id == {"class_0": 0, "class_1": 1}
    tokenizer = AutoTokenizer.from_pretrained(hf)
    model = ov.Core().compile_model(str(hf / HF_MODEL_XML), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    texts = ["the weather is fine today", "a b c"]
    encoded = tokenizer(texts, truncation=True, max_length=32, padding="max_length", return_tensors="np")
    logits = model({port.get_any_name(): encoded[port.get_any_name()] for port in model.inputs})[0]
    expected = Predictor(bundle).logits(Predictor(bundle).encode_texts(texts))
    np.testing.assert_allclose(logits, expected, atol=1e-6)


def test_optimum_intel_loads_the_bundle_and_predicts_its_labels(bundle):
    optimum = pytest.importorskip(
        "optimum.intel", reason="optimum-intel: the `deploy` extra (transformers < 4.58)"
    )
    from transformers import AutoTokenizer, pipeline

    hf = str(bundle / HF_DIR)
    model = optimum.OVModelForSequenceClassification.from_pretrained(
        hf, ov_config={"INFERENCE_PRECISION_HINT": "f32"}
    )
    classify = pipeline("text-classification", model=model, tokenizer=AutoTokenizer.from_pretrained(hf))
    texts = ["the weather is fine today", "a b c"]
    ours = Predictor(bundle).predict_texts(texts)
    theirs = classify(texts)
    assert [t["label"] for t in theirs] == [p.label for p in ours]
    assert [t["score"] for t in theirs] == pytest.approx([p.score for p in ours], abs=1e-5)


def test_ovms_repository_has_the_documented_layout(bundle):
    ovms = bundle / OVMS_DIR
    config = json.loads((ovms / OVMS_CONFIG).read_text())
    names = [entry["config"]["name"] for entry in config["model_config_list"]]
    assert names == ["tiny-bert", "tiny-bert_tokenizer"]
    for entry in config["model_config_list"]:
        assert (ovms / entry["config"]["base_path"] / "1" / "model.xml").is_file()
        assert (ovms / entry["config"]["base_path"] / "1" / "model.bin").is_file()
    (pipeline,) = config["pipeline_config_list"]
    assert pipeline["name"] == "tiny-bert_text" and pipeline["inputs"] == ["text"]
    assert [node["type"] for node in pipeline["nodes"]] == ["DL model", "DL model"]
    tokenizer_inputs = pipeline["nodes"][0]["inputs"]
    assert tokenizer_inputs == [{"text": {"node_name": "request", "data_item": "text"}}]


def test_ovms_chain_on_raw_strings_predicts_what_predict_does(bundle):
    texts = ["the weather is fine today", "a b c", "x " * 80]  # the last one is truncated
    served = ovms_chain_logits(bundle / OVMS_DIR, texts)
    np.testing.assert_allclose(
        served, Predictor(bundle).logits(Predictor(bundle).encode_texts(texts)), atol=1e-5
    )


def test_model_card_has_the_numbers_inputs_versions_and_fingerprints(bundle):
    card = (bundle / MODEL_CARD).read_text()
    info = _info(bundle)
    assert f"**{info['variant_label']}**" in card and "(this bundle)" in card
    assert "| `input_ids` | `[?,?]` |" in card
    assert "| openvino | 2026.4" in card and "| openvino-tokenizers | 2026.4" in card
    assert "| benchmark | `" in card and "movement_sparsity" in card


def _rerun(tiny_pipeline, tmp_path, **package):
    """The shipped tiny pipeline with another `package` section, on a copy of the trained workdir:
    only the package stage runs."""
    workdir = tmp_path / "wd"
    shutil.copytree(tiny_pipeline[0], workdir, symlinks=True)
    raw = yaml.safe_load((PIPELINES / "tiny.yaml").read_text())
    raw.pop("$schema")
    raw["package"] = package
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(raw))
    return subprocess.run(
        [sys.executable, "-m", "ov_movement", "run", str(config), "--workdir", str(workdir)],
        capture_output=True,
        text=True,
        timeout=900,
    ), workdir


def test_a_named_variant_is_packaged_and_only_package_reruns(tiny_pipeline, tmp_path):
    done, workdir = _rerun(tiny_pipeline, tmp_path, model="dense", name="served")
    assert done.returncode == 0, done.stdout + done.stderr
    ran = [line.split()[0] for line in done.stdout.splitlines() if " done in " in line]
    assert ran == ["package"]
    info = json.loads((workdir / "tiny-bert" / "package" / BUNDLE_FILE).read_text())
    assert info["variant"] == "dense" and info["reason"] == "package.model: dense"
    assert (workdir / "tiny-bert" / "package" / OVMS_DIR / "served" / "1" / "model.xml").is_file()


def test_a_variant_the_benchmark_did_not_time_is_named_with_the_ones_it_did(tiny_pipeline, tmp_path):
    done, _ = _rerun(tiny_pipeline, tmp_path, model="pruned_qat")
    assert done.returncode == 2
    assert "package.model: 'pruned_qat' was not benchmarked in this run" in done.stderr
    assert "dense, pruned, dense_int8, pruned_int8" in done.stderr and "Traceback" not in done.stderr


def test_a_bundle_that_predicts_otherwise_fails_the_stage(tiny_pipeline, tmp_path, monkeypatch):
    """The check is real: a bundle whose IR is another variant than the benchmarked one is refused."""
    workdir = tiny_pipeline[0]
    views = {p.name: p.resolve() for p in (workdir / "tiny-bert").iterdir() if p.is_dir()}
    raw = yaml.safe_load((PIPELINES / "tiny.yaml").read_text())
    raw.pop("$schema")
    raw["package"] = {"model": "pruned"}
    config = PipelineConfig.model_validate(raw)
    out = tmp_path / "out"
    out.mkdir()
    ctx = StageContext("package", config, PIPELINES, out, views, progress=False)
    info = package.write_layouts(
        ctx, next(r for r in package.variant_rows(_benchmark(views)) if r.name == "pruned"), "test"
    )
    # Swap in a model that predicts differently: the same IR with +50/-50 added to its logits.
    import openvino as ov
    from openvino import opset13
    from openvino.preprocess import PrePostProcessor

    shift = opset13.constant(np.array([[50.0, -50.0]], dtype=np.float32))
    steps = PrePostProcessor(ov.Core().read_model(str(out / HF_DIR / HF_MODEL_XML)))
    steps.output(0).postprocess().custom(lambda logits: opset13.add(logits, shift).output(0))
    broken = steps.build()
    # Saved aside, then renamed over: read_model maps the .bin, which must not be rewritten in place.
    aside = tmp_path / "broken.xml"
    ov.save_model(broken, str(aside), compress_to_fp16=False)
    for suffix in (".xml", ".bin"):
        os.replace(aside.with_suffix(suffix), (out / HF_DIR / HF_MODEL_XML).with_suffix(suffix))
    with pytest.raises(VerificationError, match="does not reproduce the benchmark on the eval split"):
        package.check_bundle(ctx, info, _benchmark(views))


def _benchmark(views):
    return json.loads((views["benchmark"] / "benchmark.json").read_text())
