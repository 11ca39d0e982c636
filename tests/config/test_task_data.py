"""Every task against every data source: a source that cannot feed the task is refused at validation,
named at `data.source`, for any pair (not only question answering)."""

from __future__ import annotations

import pytest

from ov_movement.config import validate_pipeline
from ov_movement.config.pipeline import DATA_SOURCES, TASKS
from ov_movement.errors import ConfigError

# What a user would expect, written out by hand (the registration must agree with it).
FEEDS = {
    "text-classification": {"text_folder", "csv", "jsonl", "hf_disk", "synthetic"},
    "image-classification": {"image_folder", "digits", "synthetic_images"},
    "audio-classification": {"audio_folder", "synthetic_audio"},
    "question-answering": {"jsonl", "synthetic_qa"},
}


def document(task: str, source: str) -> dict:
    return {"model": {"task": task}, "data": {"source": source, "path": "."}}


@pytest.mark.parametrize("task", sorted(FEEDS))
@pytest.mark.parametrize("source", sorted(set().union(*FEEDS.values())))
def test_task_and_source_pair(task, source):
    if source in FEEDS[task]:
        validate_pipeline(document(task, source))
        return
    with pytest.raises(ConfigError) as caught:
        validate_pipeline(document(task, source))
    locations = [issue.loc for issue in caught.value.issues]
    assert "data.source" in locations
    message = str(caught.value)
    assert task in message and source in message


@pytest.mark.parametrize(
    ("task", "source"), [("image-classification", None), ("text-classification", "synthetic_audio")]
)
def test_review_cases(task, source):
    """image classification with the default text_folder data; text classification on audio clips."""
    raw = {"model": {"task": task}}
    if source:
        raw["data"] = {"source": source}
    with pytest.raises(ConfigError, match="data.source"):
        validate_pipeline(raw)


def test_registration_lists_every_task_and_source():
    assert set(TASKS) == set(FEEDS)
    assert set(DATA_SOURCES) == set().union(*FEEDS.values())


def test_the_declarations_validation_reads_are_the_registries():
    from ov_movement.data.sources import SOURCES
    from ov_movement.tasks import TASKS as TASK_REGISTRY

    assert {name: source.feeds for name, source in SOURCES.items()} == DATA_SOURCES
    assert {name: task.reads for name, task in TASK_REGISTRY.items()} == TASKS


def test_a_task_or_source_of_the_wrong_type_is_a_config_error():
    """Found by the property test: a list where the task name goes reached the task/source check."""
    from ov_movement.config.load import validate_pipeline
    from ov_movement.errors import ConfigError

    for document in ({"model": {"task": [None]}}, {"data": {"source": {"a": 1}}}):
        with pytest.raises(ConfigError):
            validate_pipeline(document)


def test_question_answering_reads_only_qa_sources_and_has_two_logits():
    from ov_movement.config import validate_pipeline

    with pytest.raises(ConfigError) as caught:
        validate_pipeline({"model": {"task": "question-answering", "num_labels": 3}})
    issues = {issue.loc: issue.msg for issue in caught.value.issues}
    assert issues["data.source"].startswith("model.task 'question-answering' reads 'jsonl' or 'synthetic_qa'")
    assert issues["model.num_labels"].startswith("question-answering predicts two logits")
    with pytest.raises(ConfigError, match=r"data\.source: .*'synthetic_qa' is question-answering data"):
        validate_pipeline({"data": {"source": "synthetic_qa", "path": None}})
