"""The evaluation metrics, computed once: the torch evaluation (training and baseline), the IR
evaluation (benchmarking.accuracy) and the report all read numbers made by these functions.

- classification: `accuracy`, plus `f1` of class 1 when the head has exactly two classes (decided
  by the logits' last dimension, never by which labels the eval split happens to hold);
- extractive question answering: `exact_match` (also reported as `accuracy`) and token-span `f1`.

An empty eval split has no accuracy: every metric is NaN (never a 0.0 that reads as a result).
Cheap to import: numpy only.
"""

from __future__ import annotations

import numpy as np


def class_predictions(logits: np.ndarray) -> np.ndarray:
    """The arg-max class of every row ([N] int64; empty for no rows)."""
    logits = np.asarray(logits)
    return logits.argmax(axis=-1).astype(np.int64) if len(logits) else np.zeros(0, np.int64)


def classification_metrics(logits: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Accuracy always; F1 of class 1 when the head is binary (two logits per example)."""
    logits = np.asarray(logits)
    labels = np.asarray(labels)
    predictions = class_predictions(logits)
    binary = logits.ndim >= 1 and logits.shape[-1] == 2
    if not len(labels):
        return {"accuracy": float("nan"), **({"f1": float("nan")} if binary else {})}
    result = {"accuracy": float((predictions == labels).mean())}
    if binary:
        tp = float(((predictions == 1) & (labels == 1)).sum())
        fp = float(((predictions == 1) & (labels == 0)).sum())
        fn = float(((predictions == 0) & (labels == 1)).sum())
        result["f1"] = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return result


def span_predictions(logits: np.ndarray) -> np.ndarray:
    """[N, 2] int64: the arg-max position over the sequence of the start and of the end logits."""
    logits = np.asarray(logits)
    if not len(logits):
        return np.zeros((0, 2), np.int64)
    if logits.ndim != 3 or logits.shape[-1] != 2:
        raise ValueError(f"span logits must be [N, sequence, 2], got shape {list(logits.shape)}")
    return logits.argmax(axis=1).astype(np.int64)


def span_metrics(logits: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """exact_match (= accuracy) and token-span F1 of arg-max spans against [N, 2] gold positions."""
    return span_scores(span_predictions(logits), labels)


def span_scores(predictions: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """exact_match (= accuracy) and mean token-span F1 of [N, 2] predicted spans (an end before the
    start is an empty span: F1 0)."""
    predicted = np.asarray(predictions, dtype=np.int64).reshape(-1, 2)
    gold = np.asarray(labels, dtype=np.int64).reshape(-1, 2)
    if not len(gold):
        return {"exact_match": float("nan"), "accuracy": float("nan"), "f1": float("nan")}
    exact = float((predicted == gold).all(axis=1).mean())
    overlap = np.minimum(predicted[:, 1], gold[:, 1]) - np.maximum(predicted[:, 0], gold[:, 0]) + 1
    overlap = np.clip(overlap, 0, None).astype(np.float64)
    predicted_length = np.clip(predicted[:, 1] - predicted[:, 0] + 1, 1, None)  # empty: overlap is 0
    gold_length = gold[:, 1] - gold[:, 0] + 1
    precision = overlap / predicted_length
    recall = overlap / gold_length
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(overlap > 0, 2 * precision * recall / (precision + recall), 0.0)
    return {"exact_match": exact, "accuracy": exact, "f1": float(f1.mean())}


def agreement(predictions: np.ndarray, reference: np.ndarray) -> float:
    """Share of examples whose prediction (a class, or a span's start and end both) equals the reference's."""
    same = (np.asarray(predictions) == np.asarray(reference)).reshape(len(predictions), -1).all(axis=1)
    return float(np.mean(same)) if len(same) else float("nan")


__all__ = [
    "agreement",
    "class_predictions",
    "classification_metrics",
    "span_metrics",
    "span_predictions",
    "span_scores",
]
