"""The quantize stage on a tiny BERT's IRs: real NNCF post-training quantization, real OpenVINO inference.

The calibration and eval data are replaced by random token ids (the encoding path is the data
module's, tested with the data); labels are the FP32 dense IR's own predictions, so the FP32 model
scores 100% and every INT8 miss shows as an accuracy drop.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

pytest.importorskip("nncf")

from ov_movement.benchmarking.accuracy import predict  # noqa: E402
from ov_movement.deploy.precision import precision_summary  # noqa: E402
from ov_movement.errors import StageError  # noqa: E402
from ov_movement.stages import quantize  # noqa: E402
from ov_movement.stages.base import StageContext  # noqa: E402
from tests.reporting.fixtures import pipeline_config  # noqa: E402
from tests.tiny import IR_SEQ, ir_inputs, tiny_irs  # noqa: E402

pytestmark = pytest.mark.slow
# Tiny random models have near-tied logits: INT8 rounding may flip a few of them. Real models agree
# on ~100% (the default pipeline: 400 of 400 eval articles); below 90% something is broken.
MIN_AGREEMENT = 0.9


@pytest.fixture()
def convert_dir(tmp_path, tmp_path_factory):
    models = tiny_irs(tmp_path_factory)
    directory = tmp_path / "convert"
    directory.mkdir()
    for name in ("dense", "pruned"):
        for suffix in (".xml", ".bin"):
            shutil.copy(models[name].with_suffix(suffix), directory / f"{name}{suffix}")
    return directory


@pytest.fixture()
def tiny_data(monkeypatch, convert_dir):
    calibration = ir_inputs(24, seed=1)
    inputs = ir_inputs(40, seed=2)
    labels = predict(convert_dir / "dense.xml", inputs)
    monkeypatch.setattr(
        "ov_movement.model_inputs.load_split_arrays",
        lambda config, config_dir, split, limit=None: (
            {k: v[:limit] for k, v in calibration.items()},
            np.zeros(len(calibration["input_ids"][:limit]), np.int64),
        ),
    )
    monkeypatch.setattr(
        "ov_movement.model_inputs.load_eval_arrays", lambda config, config_dir, limit=None: (inputs, labels)
    )
    return inputs, labels


def _context(tmp_path, convert_dir, **settings):
    config = pipeline_config(
        quantize={"subset_size": 16, **settings}, data={"max_seq_length": IR_SEQ}, training={"epochs": 5}
    )
    out = tmp_path / "out"
    out.mkdir()
    return StageContext("quantize", config, tmp_path, out, {"convert": convert_dir}, progress=False)


def test_int8_irs_are_written_quantized_smaller_and_predict_like_fp32(tmp_path, convert_dir, tiny_data):
    ctx = _context(tmp_path, convert_dir)
    result = quantize.run(ctx)

    summary = json.loads((ctx.output_dir / quantize.SUMMARY_NAME).read_text())
    assert summary["calibration_samples"] == 16  # subset_size of the 24 train examples
    for name, source in (("dense_int8", "dense"), ("pruned_int8", "pruned")):
        entry = summary[name]
        xml = ctx.output_dir / f"{name}.xml"
        assert xml.is_file() and entry["source"] == f"convert/{source}.xml"
        assert entry["fake_quantize"] > 0 and entry["matmuls_quantized"] > 0
        # INT8 linear weights; the embeddings stay in floating point, a large share of a tiny model.
        assert entry["bin_bytes"] < 0.7 * (convert_dir / f"{source}.bin").stat().st_size
        assert entry["eval"]["samples"] == 40 and entry["eval"]["fp32_accuracy"] == 1.0
        assert entry["eval"]["agreement"] >= MIN_AGREEMENT, entry["eval"]
        assert "warning" not in entry
        assert result.metrics[f"{name}_matmuls_quantized"] == entry["matmuls_quantized"]
    # The pruned model has fewer heads: its INT8 IR is smaller than the dense INT8 IR.
    assert summary["pruned_int8"]["bin_bytes"] < summary["dense_int8"]["bin_bytes"]
    assert "MatMuls INT8" in result.summary


def test_the_fp32_ir_counts_no_int8_matmul(convert_dir):
    import openvino as ov

    counts = precision_summary(ov.Core().read_model(str(convert_dir / "dense.xml")))
    assert counts["matmuls"] > 0 and counts["matmuls_quantized"] == 0 and counts["fake_quantize"] == 0


def test_accuracy_control_reports_what_it_reverted_and_holds_the_drop(tmp_path, convert_dir, tiny_data):
    ctx = _context(
        tmp_path, convert_dir, models=["pruned"], accuracy_control={"enabled": True, "max_drop": 0.0}
    )
    quantize.run(ctx)

    entry = json.loads((ctx.output_dir / quantize.SUMMARY_NAME).read_text())["pruned_int8"]
    assert not (ctx.output_dir / "dense_int8.xml").exists()  # only the configured models
    assert isinstance(entry["reverted_by_accuracy_control"], list)
    # NNCF validated on the same eval split with our metric: no drop is left (f32 hint vs NNCF's own
    # compile may differ at near-ties, hence agreement rather than equality of every prediction).
    assert entry["eval"]["int8_accuracy"] >= MIN_AGREEMENT


def test_ignoring_every_matmul_is_an_error_not_a_silent_fp32_copy(tmp_path, convert_dir, tiny_data):
    ctx = _context(tmp_path, convert_dir, models=["dense"], ignored_scope={"types": ["MatMul"]})
    with pytest.raises(StageError, match="quantized no MatMul"):
        quantize.run(ctx)


def test_an_ignored_name_that_matches_nothing_names_the_config_key(tmp_path, convert_dir, tiny_data):
    ctx = _context(tmp_path, convert_dir, models=["dense"], ignored_scope={"names": ["no/such/op"]})
    with pytest.raises(StageError, match="quantize.ignored_scope"):
        quantize.run(ctx)


def test_disabled_writes_nothing(tmp_path, convert_dir):
    ctx = _context(tmp_path, convert_dir, enabled=False)
    result = quantize.run(ctx)
    assert result.metrics == {"enabled": False} and not list(ctx.output_dir.iterdir())
