"""A file name the package writes or reads is a module-level constant of the code that writes it,
and every reader imports that constant: a literal like "stats.json" inside a function would be a
second copy of the name, free to drift from the writer's (the report once listed a baseline file as
"not available yet" because of such a copy)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "ov_movement"
FILE_NAME = re.compile(r"^[\w.-]+\.(json|jsonl|xml|bin|onnx|pt|npz|md|html|png|csv|safetensors|yaml)$")


def inline_file_names(source: str) -> list[tuple[int, str]]:
    """(line, name) of every file-name literal outside the module's top-level assignments."""
    found = []
    for statement in ast.parse(source).body:
        if isinstance(statement, ast.Assign | ast.AnnAssign):
            continue  # NAME = "file.json", and tables of names, are where names are kept
        for node in ast.walk(statement):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and FILE_NAME.match(node.value):
                found.append((node.lineno, node.value))
    return found


def test_the_check_sees_a_literal_inside_a_function_and_accepts_a_constant():
    source = 'STATS = "stats.json"\n\ndef read(d):\n    return (d / STATS, d / "eval.json")\n'
    assert inline_file_names(source) == [(4, "eval.json")]


def test_every_file_name_is_a_module_constant():
    inline = [
        f"{path.relative_to(PACKAGE.parent)}:{line}: {name!r}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for line, name in inline_file_names(path.read_text(encoding="utf-8"))
    ]
    assert not inline, (
        "file names written inline (make them a constant of the writer, import it):\n" + "\n".join(inline)
    )
