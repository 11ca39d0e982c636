"""The report stage on synthetic upstream outputs that follow the stages' file contract."""

import re

import numpy as np
from PIL import Image

from ov_movement.reporting.plots import LIFECYCLE_SIZE, STRUCTURE_SIZE, VARIANTS_SIZE
from ov_movement.reporting.tables import parse_markdown_table
from ov_movement.stages import report
from ov_movement.stages.base import StageContext
from tests.reporting.fixtures import pipeline_config, write_upstream


def run_report(tmp_path, **config):
    dirs = write_upstream(tmp_path / "up")
    out = tmp_path / "report"
    out.mkdir()
    ctx = StageContext("report", pipeline_config(**config), tmp_path, out, dirs, progress=False)
    return report.run(ctx), out


def test_report_files_tables_and_plots(tmp_path):
    result, out = run_report(tmp_path)
    assert {p.name for p in out.iterdir()} == {
        "report.md",
        "report.html",
        "sparsity_lifecycle.png",
        "kept_structure.png",
        "accuracy_latency.png",
        "tables.json",
    }
    for name, size in (
        ("sparsity_lifecycle.png", LIFECYCLE_SIZE),
        ("kept_structure.png", STRUCTURE_SIZE),
        ("accuracy_latency.png", VARIANTS_SIZE),
    ):
        with Image.open(out / name) as image:
            assert image.size == size
            assert np.asarray(image.convert("L"), dtype=float).std() > 5, f"{name} looks blank"
    markdown = (out / "report.md").read_text()
    benchmark = markdown.split("## Benchmark", 1)[1]
    rows = {row["model"]: row for row in parse_markdown_table(benchmark)}
    assert rows["pruned"]["speedup vs dense (min / median / max)"].endswith("x")
    assert rows["pruned"]["FLOP bound"] == "2.40x"
    assert re.search(r"inference threads \(requested → used\) \| auto → \d", markdown)
    assert "(sparsity_lifecycle.png)" in markdown and "(kept_structure.png)" in markdown
    html = (out / "report.html").read_text()
    assert "(accuracy_latency.png)" in markdown
    assert html.count("data:image/png;base64,") == 3
    assert result.metrics == {
        "missing_inputs": 1,  # the fixture has no baseline stage
        "final_linear_sparsity_pct": 25.0,
        "torch_accuracy": 0.85,
        # No baseline: judged against the dense FP32 IR (85.0%); pruned FP32 is 2.5 points down.
        "recommended": "dense",
    }


def test_html_can_be_turned_off(tmp_path):
    _, out = run_report(tmp_path, report={"html": False, "title": "Tiny BERT"})
    assert not (out / "report.html").exists()
    assert (out / "report.md").read_text().startswith("# Tiny BERT\n")
