"""Image, audio and question-answering bundles of the shipped tiny pipelines: written, checked against
the benchmark by the package stage, and predicted through with `ov-movement predict`."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np
import pytest
import yaml

from ov_movement.cli import main
from ov_movement.config.pipeline import PipelineConfig
from ov_movement.deploy.predictor import BUNDLE_FILE, HF_DIR, OVMS_DIR, Predictor
from ov_movement.tasks.media import PREPROCESSOR_FILE
from tests.deploy.bundles import shipped_bundle
from tests.pipelines import PIPELINES

pytestmark = pytest.mark.slow


def _config(pipeline: str) -> PipelineConfig:
    raw = yaml.safe_load((PIPELINES / pipeline).read_text())
    raw.pop("$schema", None)
    return PipelineConfig.model_validate(raw)


def _eval_examples(pipeline: str, limit: int = 6) -> list:
    from ov_movement.data import load_examples

    return load_examples(_config(pipeline).data, PIPELINES).eval[:limit]


def _check_recorded(bundle: Path) -> dict:
    info = json.loads((bundle / BUNDLE_FILE).read_text())
    check = info["check"]
    assert check["agreement_with_benchmark"] == 1.0 and check["accuracy"] == check["benchmark_accuracy"]
    return info


def _predict_json(capsys, *argv: str) -> list[dict]:
    assert main(["predict", *argv, "--json"]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_image_bundle_predicts_png_files(tmp_path_factory, tmp_path, capsys):
    from PIL import Image

    bundle = shipped_bundle("tiny-vit.yaml", tmp_path_factory)
    info = _check_recorded(bundle)
    pre = json.loads((bundle / HF_DIR / PREPROCESSOR_FILE).read_text())
    assert pre["size"] == {"height": 32, "width": 32} and pre["image_processor_type"] == "ViTImageProcessor"
    assert (bundle / OVMS_DIR / "tiny-vit" / "1" / "model.xml").is_file()
    examples = _eval_examples("tiny-vit.yaml")
    folder = tmp_path / "images"
    folder.mkdir()
    for i, example in enumerate(examples):
        Image.fromarray(np.asarray(example.array, dtype=np.uint8)).save(folder / f"{i}.png")
    results = _predict_json(capsys, str(bundle), "--input", str(folder))
    expected = Predictor(bundle).predict_images([e.array for e in examples])  # PNG is lossless
    assert [r["label"] for r in results] == [p.label for p in expected]
    assert {r["label"] for r in results} <= set(info["label_names"])
    assert [r["label"] for r in results] == [info["label_names"][e.label] for e in examples]  # it learned


def _write_wav(path: Path, clip: np.ndarray, rate: int) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes((np.clip(clip, -1, 1) * 32767).astype("<i2").tobytes())


def test_audio_bundle_predicts_wav_files(tmp_path_factory, tmp_path, capsys):
    from ov_movement.data.media import read_wav

    bundle = shipped_bundle("tiny-wav2vec2.yaml", tmp_path_factory)
    info = _check_recorded(bundle)
    pre = json.loads((bundle / HF_DIR / PREPROCESSOR_FILE).read_text())
    assert pre["feature_extractor_type"] == "Wav2Vec2FeatureExtractor" and pre["sampling_rate"] == 16000
    examples = _eval_examples("tiny-wav2vec2.yaml")
    files = []
    for i, example in enumerate(examples):
        files.append(tmp_path / f"{i}.wav")
        _write_wav(files[-1], np.asarray(example.array, dtype=np.float32), 16000)
    results = _predict_json(capsys, str(bundle), *map(str, files))
    expected = Predictor(bundle).predict_audio([read_wav(f, 16000) for f in files])
    assert [r["label"] for r in results] == [p.label for p in expected]
    assert [r["input"] for r in results] == [str(f) for f in files]
    assert {r["label"] for r in results} <= set(info["label_names"])


def test_question_answering_bundle_prints_the_span(tmp_path_factory, capsys):
    from ov_movement.data.qa import load_qa_examples

    bundle = shipped_bundle("tiny-qa.yaml", tmp_path_factory)
    _check_recorded(bundle)
    example = load_qa_examples(_config("tiny-qa.yaml").data, PIPELINES)[1][0]
    (result,) = _predict_json(
        capsys, str(bundle), "--question", example.question, "--context", example.context
    )
    (expected,) = Predictor(bundle).answer([example.question], [example.context])
    assert result["answer"] == expected.label and result["score"] == pytest.approx(expected.score)
    if result["start"] is not None:  # the span is cut from the context at its character offsets
        assert example.context[result["start"] : result["end"]] == result["answer"]


def test_question_answering_needs_both_question_and_context(tmp_path_factory, capsys):
    bundle = shipped_bundle("tiny-qa.yaml", tmp_path_factory)
    assert main(["predict", str(bundle), "--question", "who?"]) == 2
    assert "needs --question and --context" in capsys.readouterr().err
