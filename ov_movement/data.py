"""Labelled examples from the `data` config section, tokenised for the model.

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

`load_eval_arrays` is the contract the export/convert/benchmark stages use: the eval split as
int64 arrays padded to `data.max_seq_length`, keyed by the model's input names.
"""

from __future__ import annotations

import codecs
import csv
import json
import logging
import math
import re
import stat
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ov_movement.errors import ConfigError, ConfigIssue, StageError
from ov_movement.models import get_task, load_processor, model_input_names, resolve_path

if TYPE_CHECKING:
    from ov_movement.config.pipeline import DataConfig, PipelineConfig

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
    from ov_movement.data_media import class_folder_files

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
            f"{at}: {column!r} must be a string, got {_kind(value)} (it would be trained on as its "
            "Python spelling)"
        )


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return f"a {type(value).__name__}"


_NUMERIC = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")


def label_name(value: Any, where: str) -> str:
    """The one spelling of a label: trimmed, Unicode NFC, numbers canonical (see the module doc)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        if not math.isfinite(value):
            raise StageError(f"{where}: label {value} is not a finite number")
        return _canonical_number(repr(float(value)))
    if not isinstance(value, str):
        raise StageError(f"{where}: a label must be a string or a number, got {_kind(value)}")
    text = unicodedata.normalize("NFC", value).strip()
    if not text:
        raise StageError(f"{where}: the label is empty (only whitespace)")
    return _canonical_number(text) if _NUMERIC.fullmatch(text) else text


def _canonical_number(text: str) -> str:
    try:
        number = Decimal(text)
    except InvalidOperation:
        return text
    if abs(number.adjusted()) > 30:  # not a class number anyone writes: keep the spelling
        return text
    if number == number.to_integral_value():
        return str(int(number))
    return format(number.normalize(), "f")


def _number_key(name: str) -> Decimal | None:
    try:
        return Decimal(name) if _NUMERIC.fullmatch(name) else None
    except InvalidOperation:
        return None


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


def _index_labels(
    names_seen: Sequence[str], names: list[str] | None, where: str
) -> tuple[list[int], list[str]]:
    """Label names (already `label_name`d) -> ids 0..K-1. Known class names (folders, ClassLabel, the
    train labels for an eval file) win; else the sorted unique names, numerically when all are numbers."""
    if names is None:
        unique = set(names_seen)
        keys = {name: _number_key(name) for name in unique}
        if all(key is not None for key in keys.values()):
            names = sorted(unique, key=lambda name: keys[name])
        else:
            names = sorted(unique)
    lookup = {name: i for i, name in enumerate(names)}
    ids = []
    for name in names_seen:
        if name not in lookup:
            raise StageError(f"{where}: label {name!r} is not one of {names}")
        ids.append(lookup[name])
    return ids, names


def warn_merged_spellings(raw_labels: Iterable[tuple[Any, str]], where: str) -> None:
    spellings: dict[str, set[str]] = {}
    for raw, name in raw_labels:
        spellings.setdefault(name, set()).add(raw if isinstance(raw, str) else repr(raw))
    merged = {name: sorted(found) for name, found in spellings.items() if len(found) > 1}
    for name, found in list(merged.items())[:5]:
        log.warning(
            "%s: labels %s are one class %r (labels are compared trimmed, in Unicode NFC, numbers by value)",
            where,
            ", ".join(map(repr, found)),
            name,
        )


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
    from ov_movement.data_media import ARRAY_SOURCES, FOLDER_SOURCES, read_array_source

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
    labels, names = _index_labels([r[2] for r in rows], names, "data.path")
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
        eval_labels, _ = _index_labels([r[2] for r in eval_rows], names, "data.eval_path")
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


def encode(
    processor: Any,
    examples: Sequence[Example],
    input_names: Sequence[str],
    max_length: int,
    *,
    pad_to_max: bool = False,
) -> EncodedSplit:
    """Tokenise (truncating to max_length); padding is left to batching unless pad_to_max.

    Image/audio pre-processors (`media.ImageProcessor`, `AudioProcessor`) encode their examples
    themselves: fixed-size float arrays, nothing to pad."""
    if not examples:
        return EncodedSplit([])
    if hasattr(processor, "encode_examples"):
        return EncodedSplit(processor.encode_examples(examples, input_names, max_length))
    texts = [e.text for e in examples]
    pairs = [e.text_pair for e in examples]
    kwargs: dict[str, Any] = {"truncation": True, "max_length": max_length}
    if pad_to_max:
        kwargs["padding"] = "max_length"
    if any(p is not None for p in pairs):
        encoded = processor(texts, [p or "" for p in pairs], **kwargs)
    else:
        encoded = processor(texts, **kwargs)
    features = []
    for i, example in enumerate(examples):
        feature = {name: list(encoded[name][i]) for name in input_names if name in encoded}
        if "token_type_ids" in input_names and "token_type_ids" not in feature:
            feature["token_type_ids"] = [0] * len(feature["input_ids"])
        if "attention_mask" in input_names and "attention_mask" not in feature:
            feature["attention_mask"] = [1] * len(feature["input_ids"])
        feature["label"] = example.label
        features.append(feature)
    return EncodedSplit(features)


def prepare_data(
    config: PipelineConfig, config_dir: Path, processor: Any, input_names: Sequence[str]
) -> DataBundle:
    """Examples read, split and tokenised for training and per-epoch evaluation.

    A task with data of its own shape (question answering: question, context, answer span) reads
    and encodes it itself through its optional `prepare_data` hook."""
    own = getattr(get_task(config.model.task), "prepare_data", None)
    if own is not None:
        return own(config, config_dir, processor, input_names)
    raw = load_examples(config.data, config_dir)
    length = config.data.max_seq_length
    pad_id = getattr(processor, "pad_token_id", None)
    return DataBundle(
        train=encode(processor, raw.train, input_names, length),
        eval=encode(processor, raw.eval, input_names, length),
        label_names=raw.label_names,
        input_names=tuple(input_names),
        pad_id=int(pad_id) if pad_id is not None else 0,
    )


def load_eval_arrays(
    config: PipelineConfig, config_dir: Path, limit: int | None = None
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The eval split as int64 arrays [N, data.max_seq_length] by input name, and int64 labels [N].

    Images: float32 `pixel_values` [N, C, H, W]; audio: float32 `input_values` [N, max_seq_length].
    Question answering (the task's `load_eval_arrays` hook): labels [N, 2], answer start and end."""
    return load_split_arrays(config, config_dir, "eval", limit)


def load_split_arrays(
    config: PipelineConfig, config_dir: Path, split: Literal["train", "eval"], limit: int | None = None
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """`load_eval_arrays` for either split: the first `limit` examples of the train split are the
    calibration set of post-training quantization, encoded exactly as the eval inputs are."""
    config_dir = Path(config_dir)
    processor = load_processor(config.model, config_dir)
    input_names = model_input_names(config.model, config_dir, processor)
    own = getattr(get_task(config.model.task), "load_eval_arrays", None)
    if own is not None:
        return own(config, config_dir, processor, input_names, limit, split=split)
    raw = load_examples(config.data, config_dir)
    examples = raw.eval if split == "eval" else raw.train
    examples = examples if limit is None else examples[: max(int(limit), 0)]
    split_data = encode(processor, examples, input_names, config.data.max_seq_length, pad_to_max=True)
    length = config.data.max_seq_length
    arrays = {
        name: (
            np.stack([f[name] for f in split_data.features]).astype(np.float32)
            if split_data.features and isinstance(split_data.features[0][name], np.ndarray)
            else np.asarray([f[name] for f in split_data.features], dtype=np.int64).reshape(
                len(split_data), length
            )
        )
        for name in input_names
    }
    return arrays, split_data.labels.reshape(len(split_data))


__all__ = [
    "DataBundle",
    "EncodedSplit",
    "Example",
    "RawData",
    "encode",
    "load_eval_arrays",
    "load_examples",
    "load_split_arrays",
    "prepare_data",
    "label_name",
    "quotable",
    "read_jsonl_lines",
    "stratified_split",
]
