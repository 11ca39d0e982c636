"""Question-answering data: SQuAD-style jsonl and a generated task (encoded to answer token
positions by tasks.question_answering).

Sources (`data.source`, with `model.task: question-answering`):

- `jsonl`: one JSON object per line with `question`, `context` and either
  `answers: {"text": [...], "answer_start": [...]}` (the layout of SQuAD as Hugging Face `datasets`
  stores it; the first answer is used) or a flat `answer` string with an optional `answer_start`
  (character offset into `context`; when absent, the answer's first occurrence in the context).
  Other keys are ignored. Unanswerable questions (SQuAD 2.0's empty answers) are not supported.
- `synthetic_qa`: `data.synthetic_samples` generated examples, deterministic for `data.seed`:
  filler words around one "the <keyword> is <value>" phrase; the question names the keyword and
  the answer is its value (one or two words). A tiny random BERT learns it in seconds.

Encoding: the fast tokenizer's offset mapping turns the answer's characters into the positions of
its first and last token (the label [start, end]); question and context are truncated to
`data.max_seq_length` (context only) and padded to it, so every example has the same length.
Examples whose answer lies beyond the truncated context are dropped, with a count logged; when
none remain, that is a ConfigError on `data.max_seq_length`.

Without `data.eval_path` the examples are split by a seeded permutation (`data.eval_fraction`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ov_movement.config.paths import resolve_path
from ov_movement.config.pipeline import QA_SOURCES
from ov_movement.data.examples import limit_splits, read_jsonl_lines
from ov_movement.errors import ConfigError, ConfigIssue, StageError

if TYPE_CHECKING:
    from ov_movement.config.pipeline import DataConfig

log = logging.getLogger(__name__)

# The two labels of an answer span: its first and last token.
LABEL_NAMES = ["start", "end"]
RECORD_FIELDS = "`question`, `context` and `answers: {text: [...], answer_start: [...]}` (or `answer`)"


@dataclass(frozen=True)
class QAExample:
    question: str
    context: str
    answer_start: int  # character offset of the answer in `context`
    answer: str
    where: str  # `file:line` (or `synthetic_qa[i]`) for messages


# ---------------------------------------------------------------------------------------------
# Reading.


def _text_field(record: dict[str, Any], key: str, where: str) -> str:
    if key not in record:
        raise StageError(f"{where}: no {key!r} field; question-answering records need {RECORD_FIELDS}")
    value = record[key]
    if not isinstance(value, str) or not value.strip():
        raise StageError(f"{where}: {key!r} must be a non-empty string")
    return value


def _answer(record: dict[str, Any], context: str, where: str) -> tuple[str, int]:
    """(answer text, character start) from `answers` (SQuAD) or `answer` / `answer_start` (flat)."""
    if "answers" in record:
        answers = record["answers"]
        texts = answers.get("text") if isinstance(answers, dict) else None
        starts = answers.get("answer_start") if isinstance(answers, dict) else None
        if not isinstance(texts, list) or not isinstance(starts, list) or len(texts) != len(starts):
            raise StageError(
                f'{where}: \'answers\' must be {{"text": [...], "answer_start": [...]}} with one start per text'
            )
        if not texts:
            raise StageError(
                f"{where}: 'answers' is empty (an unanswerable question); question answering here needs an answer"
            )
        text, start = texts[0], starts[0]
    elif "answer" in record:
        text, start = record["answer"], record.get("answer_start")
    else:
        raise StageError(
            f"{where}: no 'answers' or 'answer' field; question-answering records need {RECORD_FIELDS}"
        )
    if not isinstance(text, str) or not text.strip():
        raise StageError(f"{where}: the answer must be a non-empty string, got {text!r}")
    if start is None:
        start = context.find(text)
        if start < 0:
            raise StageError(f"{where}: the answer {text!r} does not occur in the context")
    if isinstance(start, bool) or not isinstance(start, int) or start < 0:
        raise StageError(f"{where}: answer_start must be a character offset (an integer >= 0), got {start!r}")
    found = context[start : start + len(text)]
    if found != text:
        raise StageError(
            f"{where}: the answer {text!r} is not at character {start} of the context (found {found!r} there)"
        )
    return text, start


def read_qa_jsonl(path: Path, cfg: DataConfig, loc: str) -> list[QAExample]:
    """Every record of a SQuAD-style jsonl file; errors name `loc`, the file and the line."""
    if not path.exists():
        raise StageError(f"{loc}: {path} does not exist")
    if not path.is_file():
        raise StageError(f"{loc}: {path} is not a file (question-answering jsonl is one file)")
    try:
        lines = read_jsonl_lines(path, cfg.encoding)
    except OSError as error:
        raise StageError(f"{loc}: cannot read {path}: {error.strerror or error}") from error
    except UnicodeDecodeError as error:
        raise StageError(f"{loc}: {path} is not valid {cfg.encoding} ({error}); set data.encoding") from error
    except StageError as error:  # invalid JSON: `path:line: ...`
        raise StageError(f"{loc}: {error}") from error
    examples = []
    for number, record in lines:
        where = f"{loc}: {path}:{number}"
        context = _text_field(record, "context", where)
        question = _text_field(record, "question", where)
        answer, start = _answer(record, context, where)
        examples.append(QAExample(question, context, start, answer, f"{path}:{number}"))
    if not examples:
        raise StageError(f"{loc}: {path} holds no records")
    return examples


_FILLER = (
    "the a of to and in that it with as for on was is by at from this be or an are which but not have "
    "one all were when we there can been has more if will no out so up said what its about into than them"
).split()
# keyword -> values (single WordPiece tokens of bert-base-uncased) and the modifiers that may precede
# one, so that answers are one or two words long.
_SYNTHETIC_FACTS = {
    "color": (("red", "blue", "green", "yellow", "black", "white"), ("dark", "light")),
    "city": (("london", "paris", "berlin", "tokyo", "rome", "madrid"), ("old", "new")),
    "animal": (("dog", "cat", "horse", "bird", "fish", "cow"), ("big", "small")),
    "food": (("bread", "rice", "cheese", "apple", "soup", "cake"), ("hot", "cold")),
}


def synthetic_qa_examples(cfg: DataConfig) -> list[QAExample]:
    """Filler words around one "the <keyword> is <value>" phrase; the question names the keyword.

    One phrase, no distractor: a tiny random BERT then learns the task in ~100 steps (with a
    second phrase of another keyword it needed ~1,000 dense steps, too slow for a one-minute
    pipeline). At most 7 question tokens and 17 context words: all fit `max_seq_length` 32 with
    BERT's uncased WordPiece vocabulary."""
    rng = np.random.RandomState(cfg.seed)
    keywords = list(_SYNTHETIC_FACTS)
    examples = []
    for index in range(cfg.synthetic_samples):
        keyword = keywords[rng.randint(len(keywords))]
        values, modifiers = _SYNTHETIC_FACTS[keyword]
        answer = str(rng.choice(values))
        if rng.rand() < 0.5:  # answers of one or two words: the end position is not the start's
            answer = f"{rng.choice(modifiers)} {answer}"
        words = [str(w) for w in rng.choice(_FILLER, size=rng.randint(4, 13))]
        cut = rng.randint(0, len(words) + 1)  # the phrase at a random gap between the filler words
        before = " ".join([*words[:cut], "the", keyword, "is"])
        context = " ".join([before, answer, *words[cut:]])
        question = f"what is the {keyword} ?"
        examples.append(QAExample(question, context, len(before) + 1, answer, f"synthetic_qa[{index}]"))
    return examples


def _split(examples: list[QAExample], cfg: DataConfig) -> tuple[list[QAExample], list[QAExample]]:
    rng = np.random.RandomState(cfg.seed)
    order = rng.permutation(len(examples))
    count = min(max(int(round(cfg.eval_fraction * len(examples))), 1), len(examples) - 1)
    return [examples[i] for i in order[count:]], [examples[i] for i in order[:count]]


def load_qa_examples(cfg: DataConfig, config_dir: Path) -> tuple[list[QAExample], list[QAExample]]:
    """Train and eval examples, deterministic for a given config."""
    if cfg.source == "synthetic_qa":
        train, evaluation = _split(synthetic_qa_examples(cfg), cfg)
    elif cfg.source == "jsonl":
        if not cfg.path:
            raise ConfigError([ConfigIssue("data.path", "source 'jsonl' needs a path")])
        examples = read_qa_jsonl(resolve_path(cfg.path, config_dir), cfg, "data.path")
        if cfg.eval_path:
            train = [examples[i] for i in np.random.RandomState(cfg.seed).permutation(len(examples))]
            evaluation = read_qa_jsonl(resolve_path(cfg.eval_path, config_dir), cfg, "data.eval_path")
        elif len(examples) < 2:
            raise StageError(f"data.path: {len(examples)} record(s); a train/eval split needs at least 2")
        else:
            train, evaluation = _split(examples, cfg)
    else:  # config validation refuses this pairing first
        raise ConfigError(
            [
                ConfigIssue(
                    "data.source", f"question-answering reads {' or '.join(QA_SOURCES)}, got {cfg.source!r}"
                )
            ]
        )
    return limit_splits(train, evaluation, cfg)


__all__ = [
    "LABEL_NAMES",
    "QAExample",
    "RECORD_FIELDS",
    "load_qa_examples",
    "read_qa_jsonl",
    "synthetic_qa_examples",
]
