"""Tiny BERT with zeroed heads/FFN neurons -> export -> convert: the acceptance criteria of issue 5.

Each case exports and converts once (module-scoped) and the tests read its outputs.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("openvino")

from ov_movement.config.pipeline import ConvertConfig, ExportConfig  # noqa: E402
from ov_movement.stages.convert import build_irs  # noqa: E402
from ov_movement.stages.export import export_model  # noqa: E402
from tests.tiny import (  # noqa: E402
    FFN,
    HEAD_DIM,
    HIDDEN,
    openvino_pass_removes_heads,
    sample_inputs,
    tiny_bert,
    tiny_distilbert,
)

PARTIAL = {"heads": {0: [1, 2], 1: [0]}, "neurons": {0: range(0, FFN, 2), 1: range(FFN // 4)}}
DEGENERATE = {"heads": {0: [0, 1, 2, 3], 1: [2]}, "neurons": {1: range(FFN), 2: range(0, FFN, 4)}}


def _run(tmp: Path, model, shrink: str, **convert: object) -> tuple[Path, Path, dict]:
    export_dir, convert_dir = tmp / "export", tmp / "convert"
    x = sample_inputs(batch=4, seq=32)
    export_model(model, x, export_dir, ExportConfig(shrink=shrink, verify_samples=4))
    build_irs(export_dir, convert_dir, ConvertConfig(seq_length=32, **convert))
    return export_dir, convert_dir, json.loads((convert_dir / "stats.json").read_text())


@pytest.fixture(scope="module")
def partial_never(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("never"), tiny_bert(layers=2, **PARTIAL), "never")


@pytest.fixture(scope="module")
def partial_always(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("always"), tiny_bert(layers=2, **PARTIAL), "always")


@pytest.fixture(scope="module")
def degenerate(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("degenerate"), tiny_bert(layers=3, **DEGENERATE), "auto")


def test_export_writes_the_contract_files(partial_never):
    export_dir, _, _ = partial_never
    assert {p.name for p in export_dir.iterdir()} == {
        "model.onnx",
        "samples.npz",
        "shrink.json",
        "verification.json",
    }
    verification = json.loads((export_dir / "verification.json").read_text())
    assert [r["artefact"] for r in verification["reports"]] == ["model.onnx"]
    assert all(r["ok"] for r in verification["reports"])
    shrink = json.loads((export_dir / "shrink.json").read_text())
    assert shrink["onnx"] is None and shrink["structure"]["masked_heads"] == 3


def test_openvino_alone_removes_masked_ffn_of_bert_and_heads_only_on_transformers_4(partial_never):
    """export.shrink: never leaves everything to OpenVINO's pass: FFN neurons go on both stacks,
    heads only in transformers 4.x graphs (why `auto` drops heads torch-side)."""
    _, convert_dir, stats = partial_never
    heads = 1.0 if openvino_pass_removes_heads() else 0.0
    assert stats["removal_efficiency"] == {"attention_heads": heads, "ffn_neurons": 1.0}
    assert stats["removal_efficiency_openvino_only"] == stats["removal_efficiency"]
    assert stats["pruned"]["source"] == "model.onnx"
    assert all(r["ok"] for r in stats["verification"]) and stats["inference_precision"] == "f32"
    shapes = {m["name"].split("/model/")[-1]: m["pruned_shape"] for m in stats["matmuls"]}
    query = (2 if openvino_pass_removes_heads() else 4) * HEAD_DIM
    assert shapes["bert/encoder/layer.0/attention/self/query/MatMul"] == [query, HIDDEN]
    assert shapes["bert/encoder/layer.1/output/dense/MatMul"] == [HIDDEN, FFN - FFN // 4]


def test_auto_drops_heads_torch_side_and_removes_everything(tmp_path):
    _, _, stats = _run(tmp_path, tiny_bert(layers=2, **PARTIAL), "auto")
    assert stats["pruned"]["source"] == "model_shrunk.onnx"
    assert stats["removal_efficiency"] == {"attention_heads": 1.0, "ffn_neurons": 1.0}
    assert stats["dense"]["parameters"] - stats["pruned"]["parameters"] == _removed_parameters(
        heads=3, neurons=FFN // 2 + FFN // 4
    )


def _removed_parameters(heads: int, neurons: int) -> int:
    per_head = 3 * (HEAD_DIM * HIDDEN + HEAD_DIM) + HIDDEN * HEAD_DIM  # Q/K/V rows + bias, O columns
    per_neuron = 2 * HIDDEN + 1  # intermediate row + bias, output column
    return heads * per_head + neurons * per_neuron


def test_pruned_bin_shrinks_in_proportion_to_the_masked_structure(partial_always):
    _, convert_dir, stats = partial_always
    dense, pruned = (convert_dir / "dense.bin").stat().st_size, (convert_dir / "pruned.bin").stat().st_size
    assert stats["dense"]["bin_bytes"] == dense and stats["pruned"]["bin_bytes"] == pruned
    expected = 4 * _removed_parameters(heads=3, neurons=FFN // 2 + FFN // 4)
    assert abs((dense - pruned) - expected) <= 0.10 * expected
    assert stats["dense"]["parameters"] - stats["pruned"]["parameters"] == expected // 4
    assert stats["flop_bound_speedup"] > 1.3


def test_torch_side_shrink_reaches_the_same_ir(partial_never, partial_always):
    _, _, never = partial_never
    export_dir, _, always = partial_always
    assert (export_dir / "model_shrunk.onnx").exists() and always["pruned"]["source"] == "model_shrunk.onnx"
    assert always["removal_efficiency"] == {"attention_heads": 1.0, "ffn_neurons": 1.0}
    assert always["removal_efficiency_openvino_only"] == never["removal_efficiency"]
    removed = _removed_parameters(heads=3, neurons=FFN // 2 + FFN // 4)
    assert always["dense"]["parameters"] - always["pruned"]["parameters"] == removed
    if openvino_pass_removes_heads():
        assert always["pruned"]["parameters"] == never["pruned"]["parameters"]


def test_whole_masked_blocks_convert_compile_and_match(degenerate):
    export_dir, convert_dir, stats = degenerate
    shrink = json.loads((export_dir / "shrink.json").read_text())
    assert [b["index"] for b in shrink["blocks"]] == [0, 1]  # only the whole blocks, auto mode
    assert all(r["ok"] for r in stats["verification"])
    assert stats["removal_efficiency"] == {"attention_heads": 1.0, "ffn_neurons": 1.0}
    # OpenVINO's pass alone fails on whole masked blocks where it follows heads (transformers 4.x
    # graphs): recorded, not hidden. In 5.x graphs it does not fail but keeps masked heads.
    if openvino_pass_removes_heads():
        assert stats["removal_efficiency_openvino_only"]["attention_heads"] is None
        assert "pruning transformation failed" in stats["removal_efficiency_openvino_only"]["error"]
    else:
        assert stats["removal_efficiency_openvino_only"]["attention_heads"] < 1.0
    names = [m["name"] for m in stats["matmuls"] if m["pruned_shape"] is not None]
    assert not any("layer.0/attention" in n or "layer.1/intermediate" in n for n in names)


@pytest.mark.parametrize(("batch", "seq"), [(1, 16), (4, 64)])
def test_dynamic_pruned_ir_runs_at_other_shapes(degenerate, batch, seq):
    from ov_movement.deploy.ir import compile_f32, infer
    from ov_movement.deploy.verify import compare_outputs

    _, convert_dir, _ = degenerate
    x = sample_inputs(batch=batch, seq=seq, seed=1)
    dense, pruned = (infer(compile_f32(convert_dir / f"{n}.xml"), x) for n in ("dense", "pruned"))
    assert pruned["logits"].shape == (batch, 3)
    compare_outputs(
        dense, pruned, atol=1e-4, artefact="pruned.xml", reference_label="dense.xml"
    ).raise_if_failed()


def test_fp16_weights_halve_the_bin_and_still_match(tmp_path):
    _, convert_dir, stats = _run(tmp_path, tiny_bert(layers=2, **PARTIAL), "never", compress_to_fp16=True)
    assert stats["compress_to_fp16"] and stats["verification"][-1]["artefact"] == "pruned.xml (fp16)"
    assert all(r["ok"] for r in stats["verification"])
    fp32 = 4 * stats["dense"]["parameters"]
    assert stats["dense"]["bin_bytes"] < 0.6 * fp32


def test_distilbert_heads_need_the_torch_side_shrink(tmp_path):
    """DistilBERT: OpenVINO's pass removes FFN neurons but keeps every masked head (docs/design.md)."""
    model = tiny_distilbert(heads={0: [2], 1: [1]}, neurons={1: range(0, FFN, 2)})
    _, _, stats = _run(tmp_path, model, "auto")
    assert stats["removal_efficiency_openvino_only"] == {"attention_heads": 0.0, "ffn_neurons": 1.0}
    assert stats["removal_efficiency"] == {"attention_heads": 1.0, "ffn_neurons": 1.0}
    assert all(r["ok"] for r in stats["verification"])


def test_ptq_of_the_pruned_ir_keeps_the_structure_removed_and_benchmarks(partial_never, tmp_path):
    """convert's IRs through NNCF post-training quantization, then one interleaved benchmark round."""
    import openvino as ov

    from ov_movement.benchmarking.accuracy import evaluate_models
    from ov_movement.benchmarking.benchmark_app import BenchmarkSettings, run_interleaved
    from ov_movement.config.pipeline import QuantizeConfig
    from ov_movement.deploy.precision import precision_summary
    from ov_movement.stages.quantize import quantize_ir

    _, convert_dir, _ = partial_never
    calibration, check = sample_inputs(batch=16, seq=32, seed=1), sample_inputs(batch=32, seq=32, seed=2)
    paths = {"dense": convert_dir / "dense.xml", "pruned": convert_dir / "pruned.xml"}
    for name in ("dense", "pruned"):
        model, reverted = quantize_ir(paths[name], calibration, (check, None), QuantizeConfig(), task=None)
        assert reverted is None  # no accuracy control asked for
        assert precision_summary(model)["matmuls_quantized"] > 0
        ov.save_model(model, str(tmp_path / f"{name}_int8.xml"), compress_to_fp16=False)
        paths[f"{name}_int8"] = tmp_path / f"{name}_int8.xml"
    # Structure removed before quantization stays removed: fewer INT8 weights.
    assert (tmp_path / "pruned_int8.bin").stat().st_size < (tmp_path / "dense_int8.bin").stat().st_size

    labels = np.zeros(32, dtype=np.int64)  # only the agreement is read
    sources = {"dense_int8": "dense", "pruned_int8": "pruned"}
    accuracy = evaluate_models(paths, check, labels, references=sources)
    for name in sources:
        assert accuracy[name]["agreement"] >= 0.9, accuracy[name]  # tiny random logits: a few near-ties

    settings = BenchmarkSettings(time_s=1, seq_length=32, nthreads=1)
    runs = run_interleaved(paths, settings, tmp_path / "runs", repeats=1)
    assert [r.model for r in runs] == ["dense", "pruned", "dense_int8", "pruned_int8"]
    assert all(r.latency_median_ms > 0 and r.throughput_fps > 0 for r in runs)
