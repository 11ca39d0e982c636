"""`ov-movement predict` on the tiny text pipeline's bundle: texts, --json, --input, through a pipeline
file or the bundle directory, and the mistakes a user can make."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ov_movement.cli import main
from ov_movement.deploy.predictor import Predictor
from tests.deploy.bundles import text_bundle
from tests.pipelines import PIPELINES

pytestmark = pytest.mark.slow
TEXTS = ["the weather is fine today", "a b c"]


@pytest.fixture(scope="module")
def bundle(tiny_pipeline):
    return text_bundle(tiny_pipeline)


def test_pipeline_file_prints_label_and_score_per_text(tiny_pipeline, bundle, capsys):
    workdir = tiny_pipeline[0]
    assert main(["predict", str(PIPELINES / "tiny.yaml"), *TEXTS, "--workdir", str(workdir)]) == 0
    lines = capsys.readouterr().out.splitlines()
    expected = Predictor(bundle).predict_texts(TEXTS)
    assert [line.split("\t") for line in lines] == [
        [p.label, f"{p.score:.4f}", text] for p, text in zip(expected, TEXTS, strict=True)
    ]


def test_json_lines_from_the_bundle_directory(bundle, capsys):
    assert main(["predict", str(bundle), *TEXTS, "--json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["input"] for r in records] == TEXTS
    assert all(r["label"] in ("class_0", "class_1") and 0.5 <= r["score"] <= 1 for r in records)


def test_input_jsonl_and_folder(bundle, tmp_path, capsys):
    records = tmp_path / "texts.jsonl"
    records.write_text("".join(json.dumps({"text": t}) + "\n" for t in TEXTS))
    folder = tmp_path / "texts"
    folder.mkdir()
    for i, text in enumerate(TEXTS):
        (folder / f"{i}.txt").write_text(text)
    assert main(["predict", str(bundle), "--input", str(records), "--json"]) == 0
    from_jsonl = [json.loads(line)["label"] for line in capsys.readouterr().out.splitlines()]
    assert main(["predict", str(bundle), "--input", str(folder), "--json"]) == 0
    from_folder = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert (
        from_jsonl
        == [r["label"] for r in from_folder]
        == [p.label for p in Predictor(bundle).predict_texts(TEXTS)]
    )
    assert [r["input"] for r in from_folder] == [str(folder / "0.txt"), str(folder / "1.txt")]


def test_the_command_imports_neither_torch_nor_transformers(bundle):
    probe = (
        "import sys; from ov_movement.cli import main; code = main(['predict', sys.argv[1], 'some text']); "
        "print('HEAVY', sorted(m for m in ('torch', 'transformers', 'nncf') if m in sys.modules)); sys.exit(code)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(bundle)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "HEAVY []" in done.stdout


@pytest.mark.parametrize(
    ("content", "culprit"),
    [
        ("not json\n", "bad.jsonl:1: not JSON"),
        ('{"txt": "typo"}\n', "bad.jsonl:1: needs string field(s) text"),
        ("\n", "bad.jsonl: no records"),
    ],
)
def test_a_bad_input_file_is_named_with_its_line(bundle, tmp_path, capsys, content, culprit):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(content)
    assert main(["predict", str(bundle), "--input", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and culprit in err and "Traceback" not in err
