"""One metric function: the torch evaluation, the IR evaluation and the report read the same numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ov_movement.benchmarking.accuracy import score
from ov_movement.tasks import get_task


def torch_side(logits, labels):
    return get_task("text-classification").metrics(np.asarray(logits), np.asarray(labels))


def ir_side(logits, labels):
    return score(np.asarray(logits), np.asarray(labels), get_task("text-classification"))[1]


THREE_CLASSES_LABELS_0_1 = (
    [[0.9, 0.1, 0.0], [0.1, 0.9, 0.0], [0.8, 0.1, 0.1], [0.2, 0.7, 0.1]],
    [0, 1, 1, 1],
)
BINARY = ([[0.9, 0.1], [0.1, 0.9], [0.8, 0.2], [0.3, 0.7]], [0, 1, 1, 1])


@pytest.mark.parametrize("case", [THREE_CLASSES_LABELS_0_1, BINARY], ids=["3-class, labels {0,1}", "binary"])
def test_torch_and_ir_evaluation_report_the_same_metrics(case):
    assert torch_side(*case) == ir_side(*case)


def test_f1_only_for_a_two_class_head():
    assert "f1" not in ir_side(*THREE_CLASSES_LABELS_0_1)
    assert ir_side(*BINARY) == {"accuracy": 0.75, "f1": pytest.approx(0.8)}


def test_empty_eval_is_not_a_number_on_both_sides():
    empty = np.zeros((0, 3), np.float32), np.zeros(0, np.int64)
    torch_metrics, ir_metrics = torch_side(*empty), ir_side(*empty)
    assert math.isnan(torch_metrics["accuracy"]) and math.isnan(ir_metrics["accuracy"])
    assert torch_metrics.keys() == ir_metrics.keys()
