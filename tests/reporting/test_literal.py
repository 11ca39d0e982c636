"""Config values reach the reader exactly as written: in report.md, report.html and the terminal."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from markdown_it import MarkdownIt

from ov_movement.reporting.collect import collect
from ov_movement.reporting.html import render_html
from ov_movement.reporting.literal import Code, Link, Spans, Strong, code_span, escape_block, to_markdown
from ov_movement.reporting.markdown import render_markdown
from ov_movement.reporting.tables import Table, parse_markdown_table
from ov_movement.reporting.tables import to_markdown as table_markdown
from tests.reporting.fixtures import pipeline_config, write_upstream

NASTY = [
    "{re}.*BertAttention.*",
    "{re}.*FFN\\[ffn\\]/NNCFLinear\\[lin1\\].*",
    "__init__ and *args",
    "a `tick` and ``two``",
    "`starts with a backtick",
    " spaced ",
    "<script>alert(1)</script> & &amp;",
    "[link](http://example.com) ![img](x.png)",
    "~~struck~~ # not a heading \\ backslash",
    "C:\\runs\\bert_1\\*.xml",
]


class _Text(HTMLParser):
    """Text content of an HTML document (what a reader sees), and the tags used."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.tags: set[str] = set()
        self.emphasised: list[str] = []  # text inside <em>
        self._open: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self._open.append(tag)

    def handle_endtag(self, tag):
        if tag in self._open:
            del self._open[len(self._open) - 1 - self._open[::-1].index(tag) :]

    def handle_data(self, data):
        self.parts.append(data)
        if "em" in self._open:
            self.emphasised.append(data)


def html_text(html: str) -> tuple[str, set[str]]:
    parser = _Text()
    parser.feed(html)
    return "".join(parser.parts), parser.tags


def emphasised(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return parser.emphasised


def inline_text(markdown: str) -> tuple[str, set[str]]:
    return html_text(MarkdownIt("commonmark", {"html": False}).render(markdown))


@pytest.mark.parametrize("value", NASTY)
def test_code_and_plain_text_render_as_the_exact_characters(value):
    for kind in (Code, str, Strong):
        text, tags = inline_text(to_markdown(kind(value)))
        # Only a code span keeps a value's own edge spaces; a paragraph trims them.
        expected = value if kind is Code else value.strip()
        assert text.strip("\n") == expected, (kind, to_markdown(kind(value)))
        assert not tags & {"em", "a", "img", "script", "del"}
        assert ("strong" in tags) == (kind is Strong)


@pytest.mark.parametrize("value", NASTY)
def test_table_cells_keep_pipes_and_punctuation(value):
    for cell in (Code(value + " | x"), value + " | x", Spans("scopes ", Code(value))):
        table = Table("t", ["setting", "value"], [["k", cell]])
        markdown = table_markdown(table)
        shown = str(cell) if isinstance(cell, Code | Spans) else cell.strip()  # a cell trims plain text
        assert parse_markdown_table(markdown) == [{"setting": "k", "value": shown}]
        rendered = MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown)
        text, _ = html_text(rendered)
        assert shown in text


def test_code_span_fence_outgrows_backtick_runs():
    assert code_span("a``b") == "```a``b```"
    assert code_span("`x`") == "`` `x` ``"


def test_a_description_cannot_become_markup():
    description = "# not a heading\n- not a list\n1. not numbered\n    not code *nor emphasis*"
    text, tags = inline_text(escape_block(description))
    assert tags == {"p"}
    assert text.strip().split("\n") == [line.strip() for line in description.splitlines()]


def test_link_shows_the_file_and_points_at_it():
    html = MarkdownIt("commonmark").render(
        to_markdown(Link("benchmark/benchmark.json", "../benchmark/benchmark.json"))
    )
    assert '<a href="../benchmark/benchmark.json"><code>benchmark/benchmark.json</code></a>' in html


def nasty_config():
    scopes = ["{re}.*BertAttention.*", "{re}.*BertIntermediate.*", "{re}.*BertOutput.*"]
    return pipeline_config(
        name="run_*one*",
        description="Checks *emphasis* and `ticks`.\n# Not a heading",
        data={"source": "csv", "path": "data/**/train_*.csv"},
        report={"title": "Report of <b>*bert*</b> [draft]"},
        compression={
            "algorithm": "movement_sparsity",
            "params": {
                "warmup_start_epoch": 1,
                "warmup_end_epoch": 3,
                "importance_regularization_factor": 0.05,
            },
            "sparse_structure_by_scopes": [
                {"mode": "block", "sparse_factors": [8, 8], "target_scopes": scopes[0]},
                {"mode": "per_dim", "axis": 0, "target_scopes": scopes[1]},
                {"mode": "per_dim", "axis": 1, "target_scopes": [scopes[2]]},
            ],
            "ignored_scopes": ["{re}.*NNCFEmbedding", "{re}.*LayerNorm.*", "{re}.*classifier.*"],
        },
    )


def test_report_html_shows_scopes_paths_and_titles_exactly(tmp_path):
    config = nasty_config()
    data = collect(config, write_upstream(tmp_path))
    markdown = render_markdown(data)
    html = render_html(markdown, tmp_path, data.title)
    text, tags = html_text(html)
    for scope in (
        "{re}.*BertAttention.*",
        "{re}.*BertIntermediate.*",
        "{re}.*BertOutput.*",
        "{re}.*NNCFEmbedding",
        "{re}.*LayerNorm.*",
        "{re}.*classifier.*",
    ):
        assert text.count(scope) == 1, scope
    assert "block[8, 8] on {re}.*BertAttention.*" in text
    assert "data/**/train_*.csv" in text
    assert text.count("Report of <b>*bert*</b> [draft]") == 2  # <title> and <h1>
    assert "run_*one*" in text
    assert "Checks *emphasis* and `ticks`." in text and "# Not a heading" in text
    assert "b" not in tags  # nothing of a value became markup; emphasis is the report's own notes only
    assert [e for e in emphasised(html) if not e.startswith(("Generated by", "no "))] == []
    config_rows = {
        row["setting"]: row["value"] for row in parse_markdown_table(markdown.split("## Configuration")[1])
    }
    assert config_rows["ignored scopes"] == "{re}.*NNCFEmbedding, {re}.*LayerNorm.*, {re}.*classifier.*"


def test_description_sits_under_the_title(tmp_path):
    markdown = render_markdown(collect(nasty_config(), write_upstream(tmp_path)))
    lines = [line for line in markdown.splitlines() if line]
    assert lines[0].startswith("# Report of")
    assert inline_text(lines[1])[0].strip() == "Checks *emphasis* and `ticks`."
