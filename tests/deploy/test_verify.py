"""Output comparison: names, then shapes, then values; failures name output and difference."""

from __future__ import annotations

import numpy as np
import pytest

from ov_movement.deploy.verify import compare_outputs, fit_inputs
from ov_movement.errors import VerificationError

REF = {"logits": np.zeros((2, 3), np.float32)}


def test_equal_outputs_pass_and_log_a_tick(caplog):
    caplog.set_level("INFO")
    report = compare_outputs(
        REF, {"logits": REF["logits"] + 1e-6}, atol=1e-4, artefact="a.onnx", reference_label="torch"
    )
    report.raise_if_failed()
    assert report.ok and report.to_json()["outputs"][0]["ok"]
    assert "[✓] logits" in caplog.text


def test_value_difference_names_output_and_max_diff():
    report = compare_outputs(
        REF, {"logits": REF["logits"] + 0.5}, atol=1e-4, artefact="pruned IR", reference_label="dense IR"
    )
    with pytest.raises(VerificationError, match=r"pruned IR .*'logits': max abs diff 0\.5"):
        report.raise_if_failed()


@pytest.mark.parametrize(
    "candidate",
    [
        {"scores": REF["logits"]},
        {"logits": np.zeros((2, 4), np.float32)},
        {"logits": np.full((2, 3), np.nan)},
    ],
)
def test_wrong_names_shapes_or_nan_fail(candidate):
    report = compare_outputs(REF, candidate, atol=1e-4, artefact="x", reference_label="y")
    assert not report.ok
    with pytest.raises(VerificationError):
        report.raise_if_failed()


def test_fit_inputs_tiles_and_crops():
    x = {"input_ids": np.arange(6).reshape(2, 3)}
    assert fit_inputs(x, ["input_ids"], 3, 2)["input_ids"].tolist() == [[0, 1], [3, 4], [0, 1]]
    assert fit_inputs(x, ["input_ids"], 1, 5)["input_ids"].tolist() == [[0, 1, 2, 0, 0]]
