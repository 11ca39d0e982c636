import json
import re

import pytest

from ov_movement.benchmarking.summary import noise_verdict
from ov_movement.reporting.collect import collect
from ov_movement.reporting.html import render_html
from ov_movement.reporting.markdown import render_markdown
from ov_movement.reporting.tables import Table, parse_markdown_table, to_markdown
from tests.reporting.fixtures import pipeline_config, write_upstream


def section(markdown: str, title: str) -> str:
    """The text of one `## title` section."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", markdown, re.MULTILINE | re.DOTALL)
    assert match, f"no section {title!r}"
    return match.group(1)


@pytest.fixture()
def markdown(tmp_path):
    return render_markdown(collect(pipeline_config(), write_upstream(tmp_path)), {"lifecycle": "l.png"})


def test_benchmark_table_parses_with_speedup_next_to_flop_bound(markdown):
    rows = {row["model"]: row for row in parse_markdown_table(section(markdown, "Benchmark"))}
    assert set(rows) == {"dense", "pruned", "onnx"}
    header = list(rows["pruned"])
    speedup_column = header.index("speedup vs dense (min / median / max)")
    assert header[speedup_column + 1] == "FLOP bound"  # side by side
    # rounds: 10/6 = 1.67x, 10.5/6 = 1.75x
    assert rows["pruned"]["speedup vs dense (min / median / max)"] == "1.67x / 1.71x / 1.75x"
    assert rows["pruned"]["FLOP bound"] == "2.40x"
    assert rows["dense"]["median latency (ms)"] == "10.250"
    assert rows["dense"]["speedup vs dense (min / median / max)"] == "1 (baseline)"


def test_report_names_machine_threads_and_precision(markdown):
    machine = {row[""]: row["value"] for row in parse_markdown_table(section(markdown, "Machine"))}
    assert machine["CPU"] and machine["CPU"] != "—"
    assert machine["inference threads (requested → used)"] == "auto → 2"
    assert machine["inference precision (requested → used)"] == "f32 → f32"
    assert "OpenVINO" in machine


def test_accuracy_size_and_structure_tables(markdown):
    accuracy = {row["model"]: row for row in parse_markdown_table(section(markdown, "Accuracy"))}
    assert accuracy["torch, sparse final (mask)"]["accuracy"] == "85.00%"
    assert accuracy["pruned IR (OpenVINO)"]["accuracy"] == "82.50%"
    assert accuracy["pruned IR (OpenVINO)"]["same predictions"] == "97.50% with dense"
    size = {row[""]: row for row in parse_markdown_table(section(markdown, "Model size"))}
    assert size[".bin size (MB)"]["dense"] == "15.00" and size[".bin size (MB)"]["pruned / dense"] == "60.0%"
    blocks = parse_markdown_table(section(markdown, "Kept structure"))
    assert blocks[1] == {
        "block": "bert.encoder.layer.1",
        "attention heads kept": "2 / 4 (50%)",
        "FFN neurons kept": "32 / 64 (50%)",
    }
    layers = {row["layer"]: row for row in parse_markdown_table(section(markdown, "Linear-layer sparsity"))}
    assert layers["bert.encoder.layer.1.intermediate.dense"] == {
        "layer": "bert.encoder.layer.1.intermediate.dense",
        "weight shape": "64×32",
        "before masking": "60.0%",
        "after masking": "35.0%",
    }
    assert "![Linear-layer sparsity over training steps](l.png)" in markdown


def test_headline_puts_speedup_and_bound_together(markdown):
    first_lines = markdown.split("## Configuration")[0]
    assert "**1.71x**" in first_lines and "bound **2.40x**" in first_lines


def test_missing_inputs_are_listed_not_fatal(tmp_path):
    dirs = write_upstream(tmp_path, with_benchmark=False)
    markdown = render_markdown(collect(pipeline_config(), dirs))
    assert "`benchmark/benchmark.json`" in section(markdown, "Not available")
    assert "_no benchmark results found_" in section(markdown, "Benchmark")


def test_markdown_table_round_trip_escapes_pipes():
    table = Table("t", ["a", "b|c"], [["x|y", "2"]])
    assert parse_markdown_table(to_markdown(table)) == [{"a": "x|y", "b|c": "2"}]


def test_html_is_self_contained(tmp_path, markdown):
    (tmp_path / "l.png").write_bytes(b"\x89PNG fake")
    html = render_html(markdown, tmp_path, "tiny")
    assert 'src="data:image/png;base64,' in html and 'src="l.png"' not in html
    assert "<table>" in html and "<title>tiny</title>" in html


def test_benchmark_warnings_reach_the_headline(tmp_path):
    data = collect(pipeline_config(), write_upstream(tmp_path))
    data.benchmark["warnings"] = ["models ran at different input shapes"]
    assert "- **Warning:** models ran at different input shapes" in render_markdown(data)


def test_noisy_speedup_is_reported_as_noise_not_as_a_figure(tmp_path):
    data = collect(pipeline_config(), write_upstream(tmp_path))
    assert data.benchmark["speedup"]["pruned"]["noise"]["latency"]["noisy"] is False  # the fixture is quiet
    assert "within the 10% noise threshold" in render_markdown(data).split("## Configuration")[0]
    data.benchmark["speedup"]["pruned"]["latency"] = {"min": 1.31, "median": 3.83, "max": 3.94}
    data.benchmark["speedup"]["pruned"]["noise"]["latency"] = noise_verdict(
        [1.31, 3.83, 3.94], {"dense": [50.0, 52.0, 51.0]}
    ).to_dict()
    headline = render_markdown(data).split("## Configuration")[0]
    assert "**Noisy benchmark:**" in headline and "3.83" not in headline
    assert "ranged 1.31x to 3.94x" in headline and "ratios spread 69%" in headline
    assert "over the 10% noise threshold" in headline
    assert "benchmark.repeats" in headline and "nthreads" in headline
    rows = {row["model"]: row for row in parse_markdown_table(section(render_markdown(data), "Benchmark"))}
    assert rows["pruned"]["speedup vs dense (min / median / max)"] == "1.31x / 3.83x / 3.94x (noisy)"


def test_every_section_names_the_stage_output_its_numbers_come_from(markdown):
    accuracy = {row["model"]: row["source"] for row in parse_markdown_table(section(markdown, "Accuracy"))}
    assert accuracy["torch, end of warm-up (sparsify)"] == "sparsify/eval.json"
    assert accuracy["torch, sparse final (mask)"] == "mask/eval.json"
    assert accuracy["pruned IR (OpenVINO)"] == "benchmark/benchmark.json"
    assert "| [`mask/eval.json`](<../mask/eval.json>) |" in section(markdown, "Accuracy")
    for title, output in (
        ("Sparsity lifecycle", "mask/train_log.jsonl"),
        ("Kept structure", "mask/sparsity_table.json"),
        ("Model size", "convert/stats.json"),
        ("Benchmark", "benchmark/benchmark.json"),
        ("Machine", "benchmark/benchmark.json"),
        ("Linear-layer sparsity", "mask/sparsity_table.json"),
    ):
        assert f"[`{output}`](<../{output}>)" in section(markdown, title), title
    headline = markdown.split("## Configuration")[0]
    assert "(from [`benchmark/benchmark.json`](<../benchmark/benchmark.json>))" in headline
    assert "(from [`convert/stats.json`](<../convert/stats.json>))" in headline


def test_provenance_lists_fingerprints_and_versions_from_the_manifests(tmp_path):
    dirs = write_upstream(tmp_path)
    for stage, digest in (("mask", "a" * 64), ("benchmark", "b" * 64)):
        manifest = {
            "fingerprint": digest,
            "versions": {"nncf": "2.19.0", "openvino": "2026.4.1"},
            "created": "2026-11-30T17:00:00Z",
        }
        (dirs[stage] / "manifest.json").write_text(json.dumps(manifest))
    rows = {
        row["stage"]: row
        for row in parse_markdown_table(
            section(render_markdown(collect(pipeline_config(), dirs)), "Provenance")
        )
    }
    assert set(rows) == {"mask", "benchmark"}  # the other fixture stages have no manifest
    assert rows["mask"]["fingerprint"] == "a" * 64
    assert rows["benchmark"]["library versions"] == "nncf 2.19.0, openvino 2026.4.1"
    assert rows["benchmark"]["created (UTC)"] == "2026-11-30T17:00:00Z"
