"""Former home of question answering; kept so that existing imports work. The task is
ov_movement.tasks.question_answering, the span metrics ov_movement.metrics."""

from ov_movement.metrics import span_metrics, span_predictions, span_scores
from ov_movement.tasks.question_answering import LABEL_NAMES, QuestionAnsweringAuto, QuestionAnsweringTask

__all__ = [
    "LABEL_NAMES",
    "QuestionAnsweringAuto",
    "QuestionAnsweringTask",
    "span_metrics",
    "span_predictions",
    "span_scores",
]
