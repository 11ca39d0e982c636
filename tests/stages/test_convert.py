"""The convert stage's glue: it reads export's outputs, writes the IRs and stats.json, and fails
loudly (VerificationError / StageError) rather than writing a wrong pruned IR."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("openvino")

from ov_movement.config.pipeline import ConvertConfig, ExportConfig, PipelineConfig  # noqa: E402
from ov_movement.errors import StageError, VerificationError  # noqa: E402
from ov_movement.stages import convert as convert_stage  # noqa: E402
from ov_movement.stages.base import StageContext  # noqa: E402
from ov_movement.stages.export import export_model  # noqa: E402
from tests.tiny import openvino_pass_removes_heads, sample_inputs, tiny_bert  # noqa: E402

STATS_KEYS = {
    "dense",
    "pruned",
    "flop_bound_speedup",
    "removal_efficiency",
    "removal_efficiency_openvino_only",
    "matmuls",
    "inference_precision",
    "verification",
    "masked",
}


def _export(tmp_path, shrink="auto", **structure):
    export_dir = tmp_path / "export"
    model = tiny_bert(layers=2, **structure)
    export_model(
        model, sample_inputs(batch=2, seq=16), export_dir, ExportConfig(shrink=shrink, verify_samples=2)
    )
    return export_dir


def _ctx(tmp_path, export_dir, **convert):
    config = PipelineConfig(convert=ConvertConfig(seq_length=16, **convert))
    return StageContext("convert", config, tmp_path, tmp_path / "out", {"export": export_dir}, progress=False)


def test_run_writes_irs_and_stats(tmp_path):
    context = _ctx(tmp_path, _export(tmp_path, heads={1: [3]}, neurons={0: range(40)}))
    result = convert_stage.run(context)

    out = context.output_dir
    assert {p.name for p in out.iterdir()} == {
        "dense.xml",
        "dense.bin",
        "pruned.xml",
        "pruned.bin",
        "stats.json",
    }
    stats = json.loads((out / "stats.json").read_text())
    assert STATS_KEYS <= set(stats)
    assert {"bin_bytes", "parameters", "linear_flops_per_token"} <= set(stats["dense"])
    assert stats["pruned"]["bin_bytes"] < stats["dense"]["bin_bytes"]
    assert stats["removal_efficiency"] == {"attention_heads": 1.0, "ffn_neurons": 1.0}
    assert result.metrics["removal_efficiency"] == stats["removal_efficiency"]


def test_nothing_masked_gives_null_efficiency(tmp_path):
    context = _ctx(tmp_path, _export(tmp_path))
    convert_stage.run(context)
    stats = json.loads((context.output_dir / "stats.json").read_text())
    assert stats["removal_efficiency"] == {"attention_heads": None, "ffn_neurons": None}
    assert stats["flop_bound_speedup"] == pytest.approx(1.0)


def test_whole_masked_block_without_shrink_fails_with_a_hint(tmp_path):
    """OpenVINO's pass fails on a block with no head left where it follows heads (transformers 4.x
    graphs); in 5.x graphs it does not fail but keeps heads, and convert reports removal below 100%."""
    context = _ctx(tmp_path, _export(tmp_path, shrink="never", heads={0: [0, 1, 2, 3]}))
    if openvino_pass_removes_heads():
        with pytest.raises(StageError, match="export.shrink: always"):
            convert_stage.run(context)
    else:
        assert convert_stage.run(context).metrics["removal_efficiency"]["attention_heads"] < 1.0


def test_wrong_pruned_ir_raises_verification_error(tmp_path, monkeypatch):
    from ov_movement.deploy import ir

    export_dir = _export(tmp_path, heads={1: [3]})
    other = _export(tmp_path / "other")  # a different random model stands in for a broken pass
    monkeypatch.setattr(ir, "prune_ir", lambda *args, **kwargs: ir.convert_dense(other / "model.onnx"))
    with pytest.raises(VerificationError, match=r"pruned IR does not match dense IR: output 'logits'"):
        convert_stage.run(_ctx(tmp_path, export_dir))
