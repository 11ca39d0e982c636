"""Reading data: one reader per source (data.examples: text sources and the dispatch of
`load_examples`; data.media: images and audio; data.qa: question-answering records), registered
with the kinds of examples each yields (data.sources).

Encoding for a model is the task's (ov_movement.tasks); the read-and-encode entry points
(`prepare_data`, `load_eval_arrays`, `load_split_arrays`) are in ov_movement.model_inputs, above the
tasks and the model loader they need."""

from __future__ import annotations

from ov_movement.data.examples import (
    DataBundle,
    EncodedSplit,
    Example,
    RawData,
    limit_splits,
    load_examples,
    quotable,
    read_jsonl_lines,
    stratified_split,
)
from ov_movement.data.labels import label_name, warn_merged_spellings
from ov_movement.data.sources import SOURCES, DataSource, read_examples, register_source

__all__ = [
    "SOURCES",
    "DataBundle",
    "DataSource",
    "EncodedSplit",
    "Example",
    "RawData",
    "label_name",
    "limit_splits",
    "load_examples",
    "quotable",
    "read_examples",
    "read_jsonl_lines",
    "register_source",
    "stratified_split",
    "warn_merged_spellings",
]
