"""The data sources, one registry: each source's readers keyed by the kind of examples they yield
(config.pipeline's LABELLED_TEXT, QA_RECORDS, ...). A task reads the kind it declares
(`Task.reads`) through `read_examples`; validation checks a task against a source from the kinds
declared in config.pipeline.DATA_SOURCES, which a test holds equal to this registry. A plugin adds
a source to both (ov_movement.plugins)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ov_movement.config.pipeline import (
    DATA_SOURCES,
    LABELLED_AUDIO,
    LABELLED_IMAGES,
    LABELLED_TEXT,
    QA_RECORDS,
    DataConfig,
)
from ov_movement.data.examples import load_examples
from ov_movement.data.qa import load_qa_examples
from ov_movement.errors import ConfigError, ConfigIssue

# (data config, directory of the config file) -> the examples, in the shape the kind promises:
# labelled kinds give data.examples.RawData, QA_RECORDS a (train, eval) pair of data.qa.QAExample lists.
Reader = Callable[[DataConfig, Path], Any]


@dataclass(frozen=True)
class DataSource:
    name: str
    readers: Mapping[str, Reader]  # kind of examples -> reader

    @property
    def feeds(self) -> frozenset[str]:
        return frozenset(self.readers)


def _labelled(kind: str) -> dict[str, Reader]:
    return {kind: load_examples}


SOURCES: dict[str, DataSource] = {
    source.name: source
    for source in (
        DataSource("text_folder", _labelled(LABELLED_TEXT)),
        DataSource("csv", _labelled(LABELLED_TEXT)),
        DataSource("jsonl", {LABELLED_TEXT: load_examples, QA_RECORDS: load_qa_examples}),
        DataSource("hf_disk", _labelled(LABELLED_TEXT)),
        DataSource("synthetic", _labelled(LABELLED_TEXT)),
        DataSource("image_folder", _labelled(LABELLED_IMAGES)),
        DataSource("audio_folder", _labelled(LABELLED_AUDIO)),
        DataSource("digits", _labelled(LABELLED_IMAGES)),
        DataSource("synthetic_images", _labelled(LABELLED_IMAGES)),
        DataSource("synthetic_audio", _labelled(LABELLED_AUDIO)),
        DataSource("synthetic_qa", {QA_RECORDS: load_qa_examples}),
    )
}


def register_source(source: DataSource) -> None:
    """Add a source to the registry and to the declarations validation reads."""
    SOURCES[source.name] = source
    DATA_SOURCES[source.name] = source.feeds


def read_examples(cfg: DataConfig, config_dir: Path, kind: str) -> Any:
    """The examples of `kind` that source `cfg.source` yields (validation refuses a source that
    yields no such kind first; this names it again for callers that skip validation)."""
    source = SOURCES.get(cfg.source)
    reader = source.readers.get(kind) if source is not None else None
    if reader is None:
        raise ConfigError([ConfigIssue("data.source", f"{cfg.source!r} gives no {kind}")])
    return reader(cfg, Path(config_dir))


__all__ = ["SOURCES", "DataSource", "Reader", "read_examples", "register_source"]
