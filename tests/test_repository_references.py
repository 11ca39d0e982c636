"""The repository stands alone: what its code and docs cite exists in it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).parents[1]


def tracked(*patterns: str) -> list[Path]:
    names = subprocess.run(
        ["git", "ls-files", *patterns], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return [ROOT / name for name in names if (ROOT / name).is_file()]


TEXT = [
    p
    for p in tracked("*.py", "*.md", "*.toml", "*.yaml", "*.json", "Makefile")
    if p.stat().st_size < 2_000_000
]
# What ships and what users run (the tests keep their history notes).
CODE = [
    p
    for p in TEXT
    if (p.suffix in (".py", ".toml") or p.name == "Makefile") and p.relative_to(ROOT).parts[0] != "tests"
]


def test_no_file_cites_a_design_file_outside_the_repository():
    citing = [
        str(p.relative_to(ROOT))
        for p in TEXT
        if p != Path(__file__) and "DESIGN.md" in p.read_text(errors="replace")
    ]
    assert citing == [], "cite docs/design.md, which is in the repository"


def test_cited_test_and_doc_files_exist():
    cited = {
        (str(p.relative_to(ROOT)), ref)
        for p in TEXT
        if p != Path(__file__)
        for ref in re.findall(
            r"\b((?:tests|docs|benchmarks|pipelines)/[\w/.-]+\.(?:py|md|yaml|json))\b",
            p.read_text(errors="replace"),
        )
    }
    dangling = sorted((where, ref) for where, ref in cited if not (ROOT / ref).exists())
    assert dangling == []


def test_cited_make_targets_exist():
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([\w-]+):", makefile, flags=re.MULTILINE))
    cited = {
        (str(p.relative_to(ROOT)), target)
        for p in TEXT
        if p != Path(__file__)
        for target in re.findall(r"`make ([\w-]+)", p.read_text(errors="replace"))
    }
    assert sorted((where, t) for where, t in cited if t not in targets) == []


def test_code_does_not_cite_issue_numbers():
    """An issue number means nothing to a reader of the repository: say the reason instead."""
    pattern = re.compile(r"\bissue\s*#?\d+|\bthe issue's\b|\bissue #", re.IGNORECASE)
    citing = [str(p.relative_to(ROOT)) for p in CODE if pattern.search(p.read_text())]
    assert citing == []
