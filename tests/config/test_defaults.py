"""What a file holding only an NNCF `compression` section runs, and what the README says it runs.

The section defaults are not bert.json (changing them would change every shipped pipeline that
relies on them), so the README must say plainly what such a file runs."""

from __future__ import annotations

import re
from pathlib import Path

from ov_movement.config import load_pipeline
from tests.config.samples import FIXTURES

ROOT = Path(__file__).parents[2]


def nncf_only_paragraph() -> str:
    readme = (ROOT / "README.md").read_text()
    paragraphs = [p for p in readme.split("\n\n") if "only an NNCF `compression` section" in p]
    assert len(paragraphs) == 1, "the README says once what an NNCF-only file runs"
    return " ".join(paragraphs[0].split())


def test_readme_states_what_an_nncf_only_file_runs():
    nncf_only = load_pipeline(FIXTURES / "doc_example.json").config
    default = load_pipeline(ROOT / "pipelines" / "bert.json").config
    text = nncf_only_paragraph()
    assert not re.search(r"\bsame (settings|pipeline) as\b|\bis bert\.json\b", text)
    if nncf_only.data.max_seq_length != default.data.max_seq_length:
        assert f"seq {nncf_only.data.max_seq_length}" in text and f"seq {default.data.max_seq_length}" in text
    if nncf_only.data.max_train_samples is None:
        assert "all 2,225 articles" in text
    assert f"{nncf_only.training.epochs} epochs" in text
    assert f"{default.training.epochs} epochs" in text
    if not nncf_only.baseline.enabled:
        assert "no dense baseline" in text
    assert re.search(r"about \d+ min", text), "and how long it takes"


def test_the_config_module_does_not_claim_its_defaults_are_bert_json():
    import ov_movement.config.pipeline as pipeline

    assert "reproduce the embedded default pipeline" not in (pipeline.__doc__ or "")
