"""The metrics (ov_movement.metrics), one function each: the torch evaluation, the IR evaluation and
the report read the same numbers. Classification accuracy / F1 and question answering's span exact
match / F1."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ov_movement.benchmarking.accuracy import score
from ov_movement.metrics import classification_metrics, span_metrics
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


def test_metrics():
    import numpy as np

    logits = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    labels = np.array([1, 0, 0, 1])
    assert classification_metrics(logits, labels) == {"accuracy": 0.5, "f1": 0.5}
    three = classification_metrics(np.eye(3), np.array([0, 1, 1]))
    assert three == {"accuracy": pytest.approx(2 / 3)}  # F1 only for binary tasks


def _logits(spans: list[tuple[int, int]], length: int = 8) -> np.ndarray:
    """[N, length, 2] logits whose arg-max start/end are the given positions."""
    logits = np.zeros((len(spans), length, 2), dtype=np.float32)
    for row, (start, end) in enumerate(spans):
        logits[row, start, 0] = 5.0
        logits[row, end, 1] = 3.0
    return logits


def test_exact_match_needs_start_and_end_and_f1_counts_token_overlap():
    gold = np.array([[2, 4], [1, 1], [3, 5], [0, 1]])
    predicted = _logits([(2, 4), (1, 2), (6, 7), (1, 0)])  # exact; 1 of 2 tokens; disjoint; end < start
    metrics = span_metrics(predicted, gold)
    assert metrics["exact_match"] == metrics["accuracy"] == 0.25
    # row 2: precision 1/2, recall 1/1 -> F1 2/3; rows 3 and 4: 0 (an end before the start is empty)
    assert metrics["f1"] == pytest.approx((1.0 + 2 / 3 + 0.0 + 0.0) / 4)


def test_metrics_of_an_empty_split_are_not_a_number_and_bad_shapes_are_refused():
    assert np.isnan(span_metrics(np.zeros((0, 8, 2)), np.zeros((0, 2)))["f1"])
    with pytest.raises(ValueError, match=r"\[N, sequence, 2\]"):
        span_metrics(np.zeros((3, 2)), np.zeros((3, 2)))


def test_ir_accuracy_scores_spans_with_the_task(monkeypatch):
    """benchmarking.accuracy uses the task's predictions/metrics (classification is unchanged)."""
    from ov_movement.benchmarking import accuracy
    from ov_movement.tasks import get_task

    gold = np.array([[2, 4], [1, 1], [3, 5]])
    outputs = {"dense": _logits([(2, 4), (1, 1), (3, 6)]), "pruned": _logits([(2, 4), (1, 1), (0, 0)])}
    monkeypatch.setattr(accuracy, "infer_logits", lambda path, inputs, **kw: outputs[path])
    results = accuracy.evaluate_models(
        {"dense": "dense", "pruned": "pruned"}, {}, gold, task=get_task("question-answering")
    )
    assert results["dense"]["exact_match"] == pytest.approx(2 / 3)
    assert results["dense"]["f1"] == pytest.approx((1 + 1 + 6 / 7) / 3)  # (3, 6) vs (3, 5): P 3/4, R 1
    assert results["pruned"]["agreement"] == pytest.approx(2 / 3)  # same (start, end) on 2 of 3

    classes = {"dense": np.array([[0.1, 0.9], [0.8, 0.2]])}
    monkeypatch.setattr(accuracy, "infer_logits", lambda path, inputs, **kw: classes[path])
    plain = accuracy.evaluate_models(
        {"dense": "dense"}, {}, np.array([1, 1]), task=get_task("text-classification")
    )
    assert plain["dense"]["accuracy"] == 0.5 and "exact_match" not in plain["dense"]
