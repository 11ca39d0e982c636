"""The tasks, one registry: one module per task behind the `Task` base class (tasks.base).

A plugin adds a task through the `ov_movement.tasks` entry-point group (ov_movement.plugins)."""

from __future__ import annotations

from ov_movement.config.pipeline import TASKS as TASK_READS
from ov_movement.errors import ConfigError, ConfigIssue
from ov_movement.tasks.audio_classification import AudioClassificationTask
from ov_movement.tasks.base import Task, quiet_transformers
from ov_movement.tasks.image_classification import ImageClassificationTask
from ov_movement.tasks.question_answering import QuestionAnsweringTask
from ov_movement.tasks.text_classification import TextClassificationTask

TASKS: dict[str, Task] = {
    task.name: task
    for task in (
        TextClassificationTask(),
        ImageClassificationTask(),
        AudioClassificationTask(),
        QuestionAnsweringTask(),
    )
}


def register_task(task: Task) -> None:
    """Add a task to the registry and to the declarations validation reads."""
    TASKS[task.name] = task
    TASK_READS[task.name] = task.reads


def get_task(name: str) -> Task:
    try:
        return TASKS[name]
    except KeyError:
        raise ConfigError(
            [ConfigIssue("model.task", f"unsupported task {name!r}; known: {sorted(TASKS)}")]
        ) from None


__all__ = [
    "TASKS",
    "AudioClassificationTask",
    "ImageClassificationTask",
    "QuestionAnsweringTask",
    "Task",
    "TextClassificationTask",
    "get_task",
    "quiet_transformers",
    "register_task",
]
