"""`ov-movement schema`: writes the schemas (and the reference), and --check finds stale files."""

from __future__ import annotations

import json

from ov_movement.cli import main


def test_writes_schemas_and_docs(tmp_path, capsys):
    docs = tmp_path / "docs" / "configuration.md"
    assert main(["schema", "--out", str(tmp_path / "schemas"), "--docs", str(docs)]) == 0
    pipeline = json.loads((tmp_path / "schemas" / "pipeline.schema.json").read_text())
    compression = json.loads((tmp_path / "schemas" / "compression.schema.json").read_text())
    assert (
        pipeline["$schema"].startswith("https://json-schema.org/") and "compression" in pipeline["properties"]
    )
    assert "MovementSparsityParams" in compression["$defs"]
    assert docs.read_text().startswith("# Configuration reference")
    assert "wrote" in capsys.readouterr().out


def test_check_reports_stale_files(tmp_path, capsys):
    out = tmp_path / "schemas"
    assert main(["schema", "--out", str(out), "--check"]) == 2
    assert "out of date" in capsys.readouterr().err
    assert main(["schema", "--out", str(out)]) == 0
    assert main(["schema", "--out", str(out), "--check"]) == 0
    (out / "pipeline.schema.json").write_text("{}")
    assert main(["schema", "--out", str(out), "--check"]) == 2
    assert "pipeline.schema.json" in capsys.readouterr().err
