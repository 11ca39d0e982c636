"""Accuracy of what is deployed: an OpenVINO model evaluated on the eval split.

Inference runs at f32 by default: on CPUs with AVX512-BF16 the plugin would otherwise pick bf16,
and the question here is whether pruning changed the model, not what bf16 does to it.

Classification: the arg-max class per example. A task that defines `predictions(logits)` and
`metrics(logits, labels)` (question answering: start/end spans, exact match and F1) is scored with
its own, the same functions the torch evaluation uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ov_movement.errors import StageError
from ov_movement.metrics import agreement, class_predictions, classification_metrics


def predict(
    model_path: Path,
    inputs: Mapping[str, np.ndarray],
    *,
    batch_size: int = 32,
    device: str = "CPU",
    precision: str = "f32",
) -> np.ndarray:
    """Arg-max class of every row of `inputs` ([N, seq] int64 arrays keyed by input name)."""
    logits = infer_logits(model_path, inputs, batch_size=batch_size, device=device, precision=precision)
    return class_predictions(logits)


def infer_logits(
    model_path: Path,
    inputs: Mapping[str, np.ndarray],
    *,
    batch_size: int = 32,
    device: str = "CPU",
    precision: str = "f32",
) -> np.ndarray:
    """The model's first output (`logits`) for every row of `inputs`, concatenated along the batch."""
    import openvino as ov

    core = ov.Core()
    model = core.read_model(str(model_path))
    names = [port.get_any_name() for port in model.inputs]
    missing = [n for n in names if n not in inputs]
    if missing:
        raise StageError(f"{model_path.name} expects inputs {names}; the eval data lacks {missing}")
    rows = len(next(iter(inputs.values())))
    static_batch, static_seq = _static_dims(model, names[0])
    if static_seq is not None and static_seq != inputs[names[0]].shape[1]:
        raise StageError(
            f"{model_path.name} has a static sequence length {static_seq} but the eval data is "
            f"{inputs[names[0]].shape[1]} tokens long (data.max_seq_length)"
        )
    step = static_batch or batch_size
    config = {} if precision == "default" else {"INFERENCE_PRECISION_HINT": precision}
    request = core.compile_model(model, device, config).create_infer_request()
    outputs = []
    for start in range(0, rows, step):
        batch = {n: inputs[n][start : start + step] for n in names}
        real = len(batch[names[0]])
        if static_batch and real < static_batch:  # a static batch must be full: pad, then drop the padding
            batch = {
                n: np.concatenate([a, np.repeat(a[-1:], static_batch - real, axis=0)])
                for n, a in batch.items()
            }
        logits = request.infer(batch)[0]  # the first output: logits
        outputs.append(np.array(logits[:real]))  # a copy: the request reuses its output tensor
    return np.concatenate(outputs) if outputs else np.zeros(0, dtype=np.float32)


def _static_dims(model: Any, name: str) -> tuple[int | None, int | None]:
    shape = model.input(name).get_partial_shape()
    dims = [d.get_length() if d.is_static else None for d in shape]
    return (dims[0] if dims else None), (dims[1] if len(dims) > 1 else None)


def score(logits: np.ndarray, labels: np.ndarray, task: Any = None) -> tuple[np.ndarray, dict[str, float]]:
    """Per-example predictions and the task's metrics (`accuracy` among them) from a model's logits:
    the task's own `predictions` and `metrics`, the functions the torch evaluation uses
    (ov_movement.metrics); None: arg-max class and `classification_metrics`."""
    predict_with = task.predictions if task is not None else class_predictions
    metrics_with = task.metrics if task is not None else classification_metrics
    return predict_with(logits), metrics_with(logits, labels)


def evaluate_models(
    models: Mapping[str, Path],
    inputs: Mapping[str, np.ndarray],
    labels: np.ndarray,
    *,
    batch_size: int = 32,
    device: str = "CPU",
    precision: str = "f32",
    task: Any = None,
    references: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Metrics per model plus how often each model's predictions agree with a reference model's.

    `task`: see `score`. `references`: model -> the earlier model it is compared with (an INT8 IR with
    its FP32 source); default: the first model."""
    results: dict[str, Any] = {}
    predicted: dict[str, np.ndarray] = {}
    first = next(iter(models), None)
    for name, path in models.items():
        logits = infer_logits(path, inputs, batch_size=batch_size, device=device, precision=precision)
        predictions, metrics = score(logits, labels, task)
        entry: dict[str, Any] = {"samples": int(len(labels)), **metrics}
        reference = (references or {}).get(name, first)
        if reference != name and reference in predicted:
            # Same predictions as the reference, example by example (a span: start and end both):
            # stricter than equal accuracy.
            same = agreement(predictions, predicted[reference])
            entry["agreement"] = same
            entry["agreement_with"] = reference
        predicted[name] = predictions
        results[name] = entry
    return results


__all__ = ["agreement", "classification_metrics", "evaluate_models", "infer_logits", "predict", "score"]
