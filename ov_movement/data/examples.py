"""Labelled examples from the `data` config section (text sources; images and audio: data.media).

Sources: `text_folder` (one sub-directory of .txt files per class), `csv`, `jsonl` (text and label
columns), `hf_disk` (a `datasets.save_to_disk` directory; `datasets` imported only then) and
`synthetic` (a deterministic generated task for tests). Without `eval_path` the examples are split
into train/eval by a stratified, seeded split, so the same config always yields the same split.

Labels are compared by *name*, normalised once by `label_name` wherever they come from (a file's
column, a folder's name, a dataset's ClassLabel): surrounding whitespace is dropped, text is put in
Unicode NFC, and a label that reads as a number is written canonically (`1`, `1.0`, `01` and
` 1 ` are the class `1`; `0.50` is `0.5`). So `sport` and `sport ` (or `café` typed on macOS and
on Windows) are one class, and an eval file's label `1` is the class named `1` of the train
labels, never the second train label. Differences that remain (`Sport` vs `sport`) are classes
of their own. When two spellings became one class, a warning names them. A label that is
empty, not finite, or not a string or number is an error naming the example.

No example is dropped or changed silently: an empty or whitespace-only text, a text that is not a
string (a JSON object in a jsonl `text`), a duplicate key in a jsonl record or a duplicate CSV
column, a dangling symbolic link or an unreadable file in a class folder are errors naming the
file (and line). Messages quote a file's content (e.g. a CSV header) only when the file is
readable by everyone, so an error never shows part of a protected file.

Encoding for the model is the task's (ov_movement.tasks); `model_inputs.load_eval_arrays` is the
contract the export/convert/benchmark stages use.
"""

from __future__ import annotations

import codecs
import csv
import json
import logging
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ov_movement.config.paths import resolve_path
from ov_movement.data.labels import describe_kind, index_labels, label_name, warn_merged_spellings
from ov_movement.data.media import ARRAY_SOURCES, FOLDER_SOURCES, class_folder_files, read_array_source
from ov_movement.errors import ConfigError, ConfigIssue, StageError

if TYPE_CHECKING:
    from ov_movement.config.pipeline import DataConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Example:
    text: str
    label: int
    text_pair: str | None = None
    # Image (uint8 H x W [x 3]) or audio clip (float) of the array sources; None for text.
    array: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class RawData:
    train: list[Example]
    eval: list[Example]
    label_names: list[str]

    @property
    def num_labels(self) -> int:
        return len(self.label_names)


@dataclass(frozen=True)
class EncodedSplit:
    """Tokenised examples: one dict per example with the model's input names and `label`."""

    features: list[dict[str, Any]]

    def __len__(self) -> int:
        return len(self.features)

    @property
    def labels(self) -> np.ndarray:
        return np.asarray([f["label"] for f in self.features], dtype=np.int64)


@dataclass(frozen=True)
class DataBundle:
    train: EncodedSplit
    eval: EncodedSplit
    label_names: list[str]
    input_names: tuple[str, ...]
    pad_id: int

    @property
    def num_labels(self) -> int:
        return len(self.label_names)


# ---------------------------------------------------------------------------------------------
# Reading each source: rows of (text, text_pair, raw label) plus the label names when known.

_Row = tuple[str, str | None, Any]


def _read_text_folder(root: Path, encoding: str, where: str = "data.path") -> tuple[list[_Row], list[str]]:
    rows: list[_Row] = []
    latin1: list[str] = []
    undecodable: list[str] = []
    try:
        is_utf8 = codecs.lookup(encoding).name == "utf-8"
    except LookupError:
        raise ConfigError([ConfigIssue("data.encoding", f"unknown encoding {encoding!r}")]) from None
    classes, files_by_class = class_folder_files(root, where, "text_folder", (".txt",))
    for name, files in files_by_class:
        for file in files:
            try:
                raw = file.read_bytes()
            except OSError as error:
                raise StageError(f"{where}: cannot read {file}: {error.strerror or error}") from error
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError:
                # Mostly-UTF-8 corpora often hold a few legacy 8-bit files (BBC News has one with a
                # latin-1 pound sign): latin-1 reads those correctly and never fails.
                if is_utf8:
                    latin1.append(str(file.relative_to(root)))
                    text = raw.decode("latin-1")
                else:
                    undecodable.append(str(file.relative_to(root)))
                    text = raw.decode(encoding, errors="replace")
            if not text.strip():
                raise StageError(
                    f"{where}: {file} is empty: every .txt file of a class folder is one example "
                    "(remove the file or give it its text)"
                )
            rows.append((text.strip(), None, name))
    if latin1:
        log.info("%d file(s) under %s are not UTF-8 (e.g. %s): read as latin-1", len(latin1), root, latin1[0])
    if undecodable:
        log.warning(
            "%d file(s) under %s are not valid %s (e.g. %s); undecodable bytes were replaced. Set data.encoding.",
            len(undecodable),
            root,
            encoding,
            undecodable[0],
        )
    return rows, classes


def quotable(path: Path) -> bool:
    """Whether a message may quote this file's content: only when everyone may read the file."""
    try:
        return bool(path.stat().st_mode & stat.S_IROTH)
    except OSError:
        return False


def _read_csv(path: Path, cfg: DataConfig) -> tuple[list[dict[str, Any]], list[int], list[str]]:
    """The rows, the line each row ends on, and the header's columns."""
    try:
        with path.open(newline="", encoding=cfg.encoding) as handle:
            reader = csv.DictReader(handle)
            columns = list(reader.fieldnames or [])
            repeated = sorted({c for c in columns if columns.count(c) > 1})
            if repeated:
                shown = f" {repeated}" if quotable(path) else ""
                raise StageError(
                    f"{path}:1: the header repeats column(s){shown}; a repeated column would silently "
                    "replace the earlier one"
                )
            records, lines = [], []
            for record in reader:
                records.append(record)
                lines.append(reader.line_num)
            return records, lines, columns
    except UnicodeDecodeError as error:
        raise StageError(f"{path}: not valid {cfg.encoding} ({error}); set data.encoding") from error


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for key, value in pairs:
        if key in record:
            raise _DuplicateKey(key)
        record[key] = value
    return record


def read_jsonl_lines(path: Path, encoding: str) -> list[tuple[int, dict[str, Any]]]:
    """(line number, object) per non-blank line; errors name `path:line`."""
    records = []
    with path.open(encoding=encoding) as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line, object_pairs_hook=_unique_keys)
            except _DuplicateKey as error:
                raise StageError(
                    f"{path}:{number}: key {error.args[0]!r} appears twice in one record (JSON keeps the "
                    "last one silently)"
                ) from None
            except json.JSONDecodeError as error:
                raise StageError(f"{path}:{number}: invalid JSON ({error.msg})") from error
            except ValueError as error:  # e.g. an integer of more than 4300 digits
                raise StageError(f"{path}:{number}: invalid JSON ({error})") from None
            if not isinstance(record, dict):
                raise StageError(f"{path}:{number}: each line must be a JSON object")
            records.append((number, record))
    return records


def _columns_message(path_or_where: str, missing: list[str], columns: list[str], show: bool) -> str:
    listed = f"columns are {columns}" if show else f"{len(columns)} column(s), not shown"
    return f"{path_or_where}: no column(s) {missing}; {listed} (set data.text_column / data.label_column)"


def _records_to_rows(
    records: Sequence[Any],
    cfg: DataConfig,
    where: str,
    columns: Iterable[str],
    *,
    lines: Sequence[int] | None = None,
    show_columns: bool = True,
    class_names: Sequence[str] | None = None,
) -> list[_Row]:
    """Rows of (text, pair, label name). `lines`: the file line of each record, for messages;
    `class_names`: a dataset's ClassLabel names, which its integer labels index."""
    columns = list(columns)
    needed = [cfg.text_column, cfg.label_column] + ([cfg.text_pair_column] if cfg.text_pair_column else [])
    missing = [c for c in needed if c not in columns]
    if missing:
        raise StageError(_columns_message(where, missing, columns, show_columns))
    rows: list[_Row] = []
    spellings: list[tuple[Any, str]] = []
    for number, record in enumerate(records, 1):
        at = (f"{where}:{lines[number - 1]}" if lines else where) + f": example {number}"
        absent = [c for c in needed if c not in record]  # jsonl records need not share their keys
        if absent:
            raise StageError(f"{at} has no {', '.join(map(repr, absent))}")
        text = record[cfg.text_column]
        pair = record[cfg.text_pair_column] if cfg.text_pair_column else None
        label = record[cfg.label_column]
        if text is None or label is None or label == "" or (isinstance(text, str) and not text.strip()):
            raise StageError(f"{at} has an empty text or label")
        _check_text(text, cfg.text_column, at)
        if pair is not None:
            _check_text(pair, cfg.text_pair_column, at)
        if class_names is not None and isinstance(label, int) and not isinstance(label, bool):
            if not 0 <= label < len(class_names):
                raise StageError(f"{at}: label {label} is outside the dataset's {len(class_names)} classes")
            label = class_names[label]
        name = label_name(label, f"{at}: {cfg.label_column!r}")
        spellings.append((label, name))
        rows.append((text, pair, name))
    warn_merged_spellings(spellings, where)
    return rows


def _check_text(value: Any, column: str, at: str) -> None:
    if not isinstance(value, str):
        raise StageError(
            f"{at}: {column!r} must be a string, got {describe_kind(value)} (it would be trained on as its "
            "Python spelling)"
        )


def _load_hf_disk(path: Path) -> Any:
    try:
        import datasets
    except ImportError:
        raise StageError(
            "data.source 'hf_disk' needs the Hugging Face `datasets` package, which is not installed: "
            "pip install datasets"
        ) from None
    try:
        return datasets.load_from_disk(str(path))
    except FileNotFoundError as error:
        raise StageError(f"data.path: {path} is not a `datasets.save_to_disk` directory ({error})") from error


def _hf_rows(dataset: Any, cfg: DataConfig, where: str) -> tuple[list[_Row], list[str] | None]:
    """Rows labelled by name: a ClassLabel's integers become its names (so another split with the
    same names in another order still maps correctly)."""
    feature = dataset.features.get(cfg.label_column) if hasattr(dataset, "features") else None
    class_names = list(feature.names) if getattr(feature, "names", None) else None
    rows = _records_to_rows(list(dataset), cfg, where, dataset.column_names, class_names=class_names)
    names = (
        [label_name(n, f"{where}: ClassLabel {cfg.label_column!r}") for n in class_names]
        if class_names
        else None
    )
    return rows, names


_SYNTHETIC_FILLER = (
    "the a of to and in that it with as for on was is by at from this be or an are which but not have "
    "one all were when we there can been has more if will no out so up said what its about into than them"
).split()
_SYNTHETIC_TOPICS = (
    ("market", "shares", "profit", "bank"),
    ("film", "music", "actor", "award"),
    ("election", "minister", "party", "vote"),
    ("match", "goal", "team", "season"),
    ("software", "phone", "internet", "computer"),
    ("river", "forest", "weather", "ocean"),
)


def _synthetic_rows(cfg: DataConfig) -> tuple[list[_Row], list[str]]:
    """A learnable, deterministic task: filler words plus two keywords of the example's class."""
    num_labels = cfg.synthetic_num_labels
    rng = np.random.RandomState(cfg.seed)
    topics = [_SYNTHETIC_TOPICS[i % len(_SYNTHETIC_TOPICS)] for i in range(num_labels)]
    if num_labels > len(_SYNTHETIC_TOPICS):  # make extra classes distinct: a class number word
        topics = [
            tuple(f"{w}{i}" for w in t) if i >= len(_SYNTHETIC_TOPICS) else t for i, t in enumerate(topics)
        ]
    rows: list[_Row] = []
    for index in range(cfg.synthetic_samples):
        label = index % num_labels
        words = list(rng.choice(_SYNTHETIC_FILLER, size=rng.randint(6, 14)))
        for keyword in rng.choice(topics[label], size=2, replace=False):
            words.insert(rng.randint(0, len(words) + 1), str(keyword))
        rows.append((" ".join(words), None, f"class_{label}"))
    return rows, [f"class_{i}" for i in range(num_labels)]


# ---------------------------------------------------------------------------------------------


def _read_source(cfg: DataConfig, path: Path, where: str) -> tuple[list[_Row], list[str] | None]:
    if cfg.source == "text_folder":
        return _read_text_folder(path, cfg.encoding, where)
    if not path.exists():
        raise StageError(f"{where}: {path} does not exist")
    if not path.is_file():
        raise StageError(f"{where}: {path} is not a file (data.source {cfg.source!r} reads one file)")
    try:
        if cfg.source == "csv":
            records, lines, columns = _read_csv(path, cfg)
        else:
            numbered = read_jsonl_lines(path, cfg.encoding)
            records, lines = [r for _, r in numbered], [n for n, _ in numbered]
            columns = sorted(set().union(*(r.keys() for r in records))) if records else []
    except OSError as error:
        raise StageError(f"{where}: cannot read {path}: {error.strerror or error}") from error
    except UnicodeDecodeError as error:
        raise StageError(
            f"{where}: {path} is not valid {cfg.encoding} ({error}); set data.encoding"
        ) from error
    except csv.Error as error:
        raise StageError(f"{where}: {path} is not valid CSV ({error})") from error
    except LookupError:  # an unknown data.encoding (the config check catches it first)
        raise ConfigError([ConfigIssue("data.encoding", f"unknown encoding {cfg.encoding!r}")]) from None
    rows = _records_to_rows(records, cfg, str(path), columns, lines=lines, show_columns=quotable(path))
    return rows, None


def stratified_split(labels: Sequence[int], eval_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """Indices of (train, eval): per class a seeded permutation, `eval_fraction` of it to eval."""
    rng = np.random.RandomState(seed)
    labels = np.asarray(labels)
    train: list[int] = []
    evaluation: list[int] = []
    for label in sorted(set(labels.tolist())):
        members = np.flatnonzero(labels == label)
        members = members[rng.permutation(len(members))]
        count = int(round(eval_fraction * len(members)))
        if len(members) >= 2:
            count = min(max(count, 1), len(members) - 1)
        else:
            count = 0
        evaluation += members[:count].tolist()
        train += members[count:].tolist()
    train = [train[i] for i in rng.permutation(len(train))]
    evaluation = [evaluation[i] for i in rng.permutation(len(evaluation))]
    return train, evaluation


def load_examples(cfg: DataConfig, config_dir: Path) -> RawData:
    """Train and eval examples with integer labels, deterministic for a given config."""
    arrays: list[Any] | None = None
    eval_arrays: list[Any] | None = None
    if cfg.source in ARRAY_SOURCES:  # images / audio: rows carry no text, the arrays come alongside
        folder = cfg.source in FOLDER_SOURCES
        if folder and not cfg.path:
            raise ConfigError([ConfigIssue("data.path", f"{cfg.source} needs a directory")])
        rows, names, arrays = read_array_source(cfg, resolve_path(cfg.path, config_dir) if folder else None)
        eval_rows = None
        if folder and cfg.eval_path:
            eval_rows, _, eval_arrays = read_array_source(
                cfg, resolve_path(cfg.eval_path, config_dir), "data.eval_path"
            )
    elif cfg.source == "synthetic_qa":  # config validation refuses this pairing first
        raise ConfigError(
            [ConfigIssue("data.source", "'synthetic_qa' is question-answering data: set model.task")]
        )
    elif cfg.source == "synthetic":
        rows, names = _synthetic_rows(cfg)
        eval_rows: list[_Row] | None = None
    elif cfg.source == "hf_disk":
        if not cfg.path:
            raise ConfigError([ConfigIssue("data.path", "hf_disk needs a directory")])
        loaded = _load_hf_disk(resolve_path(cfg.path, config_dir))
        eval_rows = None
        if hasattr(loaded, "keys"):  # a DatasetDict
            splits = list(loaded.keys())
            if "train" not in loaded:
                raise StageError(f"data.path: the dataset has splits {splits} but no 'train'")
            rows, names = _hf_rows(loaded["train"], cfg, "data.path[train]")
            for split in ("validation", "test", "eval"):
                if split in loaded and not cfg.eval_path:
                    eval_rows, _ = _hf_rows(loaded[split], cfg, f"data.path[{split}]")
                    break
        else:
            rows, names = _hf_rows(loaded, cfg, "data.path")
        if cfg.eval_path:
            other = _load_hf_disk(resolve_path(cfg.eval_path, config_dir))
            other = other["validation"] if hasattr(other, "keys") and "validation" in other else other
            eval_rows, _ = _hf_rows(other, cfg, "data.eval_path")
    else:
        if not cfg.path:
            raise ConfigError([ConfigIssue("data.path", f"source {cfg.source!r} needs a path")])
        rows, names = _read_source(cfg, resolve_path(cfg.path, config_dir), "data.path")
        eval_rows = (
            _read_source(cfg, resolve_path(cfg.eval_path, config_dir), "data.eval_path")[0]
            if cfg.eval_path
            else None
        )

    if not rows:
        raise StageError("data.path: no examples found")
    labels, names = index_labels([r[2] for r in rows], names, "data.path")
    if len(names) < 2:
        raise StageError(f"data: found a single label {names}; classification needs at least 2")
    examples = [
        Example(r[0], label, r[1], arrays[i] if arrays is not None else None)
        for i, (r, label) in enumerate(zip(rows, labels, strict=True))
    ]
    if eval_rows is None:
        train_idx, eval_idx = stratified_split(labels, cfg.eval_fraction, cfg.seed)
        train = [examples[i] for i in train_idx]
        evaluation = [examples[i] for i in eval_idx]
    else:
        eval_labels, _ = index_labels([r[2] for r in eval_rows], names, "data.eval_path")
        rng = np.random.RandomState(cfg.seed)
        train = [examples[i] for i in rng.permutation(len(examples))]
        evaluation = [
            Example(r[0], label, r[1], eval_arrays[i] if eval_arrays is not None else None)
            for i, (r, label) in enumerate(zip(eval_rows, eval_labels, strict=True))
        ]
    train, evaluation = limit_splits(train, evaluation, cfg)
    return RawData(train=train, eval=evaluation, label_names=list(names))


def limit_splits(train: list, evaluation: list, cfg: DataConfig) -> tuple[list, list]:
    """Apply max_train_samples / max_eval_samples; both splits must keep at least one example."""
    if cfg.max_train_samples:
        train = train[: cfg.max_train_samples]
    if cfg.max_eval_samples:
        evaluation = evaluation[: cfg.max_eval_samples]
    if not train or not evaluation:
        raise StageError(
            f"data: {len(train)} train and {len(evaluation)} eval examples; both must be non-empty"
        )
    return train, evaluation


__all__ = [
    "DataBundle",
    "EncodedSplit",
    "Example",
    "RawData",
    "load_examples",
    "label_name",
    "limit_splits",
    "quotable",
    "read_jsonl_lines",
    "stratified_split",
]
