"""README's "Use the result" snippets, executed as written on the tiny text pipeline's bundle (only the
bundle path and the pipeline file are swapped for the tiny ones)."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from ov_movement.deploy.bundle import OVMS_CONFIG
from ov_movement.deploy.predictor import BUNDLE_FILE, OVMS_DIR
from tests.deploy.bundles import text_bundle

pytestmark = pytest.mark.slow
README = Path(__file__).resolve().parents[2] / "README.md"
DEFAULT_BUNDLE = "runs/bert/package"


def snippets() -> list[tuple[str, str]]:
    """(language, code) of every fenced block in the section, in order."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Use the result\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```(\w+)\n(.*?)```", section, flags=re.S)


@pytest.fixture(scope="module")
def bundle(tiny_pipeline):
    return text_bundle(tiny_pipeline)


def _labels(bundle: Path) -> list[str]:
    return json.loads((bundle / BUNDLE_FILE).read_text())["label_names"]


def _run_python(code: str, bundle: Path) -> str:
    assert DEFAULT_BUNDLE in code
    done = subprocess.run(
        [sys.executable, "-c", code.replace(DEFAULT_BUNDLE, str(bundle))],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "TRANSFORMERS_VERBOSITY": "error"},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_section_has_the_three_ways():
    languages = [language for language, _ in snippets()]
    assert languages == ["python", "python", "bash", "python", "bash"]
    codes = [code for _, code in snippets()]
    assert "optimum.intel" in codes[0] and "openvino_model.xml" in codes[1]
    assert "openvino/model_server" in codes[2] and "ov-movement predict" in codes[4]


def test_optimum_intel_snippet(bundle):
    pytest.importorskip("optimum.intel", reason="optimum-intel: the `deploy` extra (transformers < 4.58)")
    out = _run_python(snippets()[0][1], bundle)
    assert re.search(r"\[\{'label': '(class_0|class_1)', 'score': 0\.\d+\}\]", out), out


def test_plain_openvino_transformers_snippet(bundle):
    out = _run_python(snippets()[1][1], bundle)
    assert out.strip() in _labels(bundle)


def test_model_server_snippet_names_what_the_repository_holds(bundle):
    """No model server runs here: the command's mount, config path and pipeline name must fit the bundle."""
    command = snippets()[2][1]
    assert f"$PWD/{DEFAULT_BUNDLE}/{OVMS_DIR}:/models" in command
    assert f"--config_path /models/{OVMS_CONFIG}" in command
    config = json.loads((bundle / OVMS_DIR / OVMS_CONFIG).read_text())
    served = re.search(r"/v1/models/(\w+):predict", command).group(1)
    assert served == "bert_text"  # the default pipeline's name + the DAG's suffix
    assert [p["name"] for p in config["pipeline_config_list"]] == ["tiny-bert_text"]
    body = json.loads(re.search(r"-d '(.*?)'", command).group(1))
    assert list(body["inputs"]) == config["pipeline_config_list"][0]["inputs"]


def test_model_server_chain_snippet(bundle):
    out = _run_python(snippets()[3][1], bundle)
    assert int(out.strip()) in range(len(_labels(bundle)))


def test_predict_snippet(bundle):
    (line,) = snippets()[4][1].strip().splitlines()
    argv = shlex.split(line)
    assert argv[:3] == ["ov-movement", "predict", "pipelines/bert.json"]
    done = subprocess.run(
        [sys.executable, "-m", "ov_movement", "predict", str(bundle), *argv[3:]],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    label, score, text = done.stdout.strip().split("\t")
    assert label in _labels(bundle) and 0.5 <= float(score) <= 1 and text == argv[3]
