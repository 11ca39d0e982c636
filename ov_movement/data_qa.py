"""Former home of question-answering data; kept so that existing imports work. Reading is
ov_movement.data.qa, encoding ov_movement.tasks.question_answering."""

from ov_movement.data.qa import QAExample, load_qa_examples, read_qa_jsonl, synthetic_qa_examples
from ov_movement.tasks.question_answering import encode_qa

__all__ = ["QAExample", "encode_qa", "load_qa_examples", "read_qa_jsonl", "synthetic_qa_examples"]
