"""Reading question-answering records (ov_movement.data.qa): a bad record is named by its config key,
file and line."""

from __future__ import annotations

import json
import re

import pytest

from ov_movement.errors import StageError
from tests.tiny import qa_config


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"context": "a b c", "answer": "b"}, r"no 'question' field"),
        ({"question": "q", "context": "a b c"}, r"no 'answers' or 'answer' field"),
        (
            {"question": "q", "context": "a b c", "answer": "z"},
            r"the answer 'z' does not occur in the context",
        ),
        (
            {"question": "q", "context": "a b c", "answers": {"text": ["b"], "answer_start": [0]}},
            r"the answer 'b' is not at character 0 of the context \(found 'a' there\)",
        ),
        ({"question": "q", "context": "a b c", "answers": {"text": [], "answer_start": []}}, "unanswerable"),
        ({"question": "q", "context": "a b c", "answers": ["b"]}, r"'answers' must be"),
    ],
)
def test_bad_qa_records_name_the_config_key_file_and_line(tmp_path, record, message):
    from ov_movement.data.qa import load_qa_examples

    good = {"question": "q", "context": "a b c", "answer": "c"}
    path = tmp_path / "qa.jsonl"
    path.write_text(json.dumps(good) + "\n\n" + json.dumps(record) + "\n")
    config = qa_config({"source": "jsonl", "path": "qa.jsonl"})
    with pytest.raises(StageError, match=rf"^data\.path: {re.escape(str(path))}:3: .*{message}"):
        load_qa_examples(config.data, tmp_path)
