"""The export stage's glue: what it loads, what it writes, and that a mismatch fails it.

The checkpoint loader and eval data are monkeypatched with a tiny random BERT and random tokens
(the real ones need a trained mask checkpoint); `export_model` itself is the real code.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("torch")

from ov_movement.config.pipeline import ExportConfig, PipelineConfig  # noqa: E402
from ov_movement.errors import VerificationError  # noqa: E402
from ov_movement.stages import export as export_stage  # noqa: E402
from ov_movement.stages.base import StageContext  # noqa: E402
from tests.tiny import sample_inputs, tiny_bert  # noqa: E402


@pytest.fixture
def ctx(tmp_path, monkeypatch):
    calls = {}

    def load_sparse_model(config, checkpoint_dir, config_dir):
        calls["checkpoint_dir"] = checkpoint_dir
        return tiny_bert(layers=2, heads={0: [0, 1, 2, 3]}, neurons={1: range(7)})

    def load_eval_arrays(config, config_dir, limit=None):
        calls["limit"] = limit
        return sample_inputs(batch=6, seq=24), np.zeros(6, np.int64)

    monkeypatch.setattr("ov_movement.training.checkpoint.load_sparse_model", load_sparse_model)
    monkeypatch.setattr("ov_movement.model_inputs.load_eval_arrays", load_eval_arrays)
    config = PipelineConfig(export=ExportConfig(verify_samples=3))
    context = StageContext(
        "export", config, tmp_path, tmp_path / "out", {"mask": tmp_path / "mask"}, progress=False
    )
    return context, calls


def test_run_loads_the_mask_checkpoint_and_writes_the_contract(ctx):
    context, calls = ctx
    result = export_stage.run(context)

    assert calls == {"checkpoint_dir": context.inputs["mask"] / "checkpoint", "limit": 3}
    out = context.output_dir
    assert {p.name for p in out.iterdir()} == {
        "model.onnx",
        "model_shrunk.onnx",
        "samples.npz",
        "shrink.json",
        "verification.json",
    }
    with np.load(out / "samples.npz") as samples:
        assert samples["input_ids"].shape == (3, 24)
    reports = json.loads((out / "verification.json").read_text())["reports"]
    assert [r["artefact"] for r in reports] == ["model.onnx", "shrunk torch model", "model_shrunk.onnx"]
    assert all(r["ok"] and r["outputs"][0]["max_abs_diff"] < 1e-4 for r in reports)
    shrink = json.loads((out / "shrink.json").read_text())
    assert (shrink["dropped_heads"], shrink["dropped_neurons"]) == (4, 0)  # auto: the whole block only
    assert result.metrics["masked_heads"] == 4 and result.metrics["masked_neurons"] == 7
    assert result.metrics["inputs"] == ["input_ids", "attention_mask", "token_type_ids"]


def test_static_export_has_the_configured_shape(ctx):
    import onnx

    context, _ = ctx
    context.config.export.dynamic_axes = False
    context.config.export.static_seq_length = 16
    export_stage.run(context)
    graph = onnx.load(str(context.output_dir / "model.onnx")).graph
    assert [d.dim_value for d in graph.input[0].type.tensor_type.shape.dim] == [1, 16]


def test_onnx_mismatch_raises_verification_error(ctx, monkeypatch):
    context, _ = ctx

    def off_by_one(path, inputs):
        return {"logits": np.ones((len(inputs["input_ids"]), 3), np.float32) * 1e3}

    monkeypatch.setattr("ov_movement.deploy.onnx_export.onnx_outputs", off_by_one)
    with pytest.raises(VerificationError, match=r"model\.onnx .*'logits': max abs diff"):
        export_stage.run(context)


def test_qat_tolerance_grows_with_the_logits():
    """Q/DQ rounding moves outputs by a few quantization steps, and a step scales with the outputs:
    a trained model whose logits reach 6 may differ by 0.066 (bert-jpqd measured) and still agree."""
    import numpy as np

    from ov_movement.stages.export import QAT_ATOL, qat_tolerance

    small = {"logits": np.array([[0.1, -0.2]], dtype=np.float32)}
    trained = {"logits": np.array([[6.0, -4.0]], dtype=np.float32)}
    assert qat_tolerance(small, 1e-4) == QAT_ATOL
    assert 0.066 < qat_tolerance(trained, 1e-4) < 0.5
    assert qat_tolerance(trained, 1.0) == 1.0  # a configured export.atol above it wins
