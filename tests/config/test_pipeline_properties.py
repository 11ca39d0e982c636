"""Properties of whole pipeline files (test_properties.py covers the compression section alone):
any valid pipeline round-trips load -> dump -> load unchanged, in YAML and JSON; no mutation of
one, structural or textual, makes loading raise anything but ConfigError."""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ov_movement.config import MovementSparsityConfig, PipelineConfig, load_pipeline, validate_pipeline
from ov_movement.config.pipeline import NNCF_IGNORED_KEYS
from ov_movement.errors import ConfigError
from tests.config.strategies import compression_values, mutate

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=16)
name = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=16)
positive = st.integers(1, 100_000)
small = st.integers(1, 512)
fraction = st.floats(0.01, 0.99, allow_nan=False)
tolerance = st.floats(1e-9, 1.0, allow_nan=False)


def maybe(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.none() | strategy


def section(**fields: st.SearchStrategy) -> st.SearchStrategy[dict[str, Any]]:
    """A config section holding any subset of `fields` (the rest keep their defaults)."""
    return st.fixed_dictionaries({}, optional=fields)


model = section(
    task=st.just("text-classification"),
    name_or_path=maybe(name),
    config=maybe(
        st.fixed_dictionaries(
            {"model_type": st.sampled_from(["bert", "distilbert", "mobilebert"])},
            optional={"hidden_size": st.sampled_from([64, 128]), "num_hidden_layers": st.integers(1, 4)},
        )
    ),
    tokenizer=maybe(name),
    num_labels=maybe(st.integers(2, 100)),
    attn_implementation=st.just("eager"),
)
data = section(
    source=st.sampled_from(["text_folder", "csv", "jsonl", "hf_disk", "synthetic"]),
    path=maybe(name),
    eval_path=maybe(name),
    text_column=name,
    text_pair_column=maybe(name),
    label_column=name,
    encoding=st.sampled_from(["utf-8", "latin-1", "cp1252", "utf-16", "ascii"]),
    eval_fraction=fraction,
    max_train_samples=maybe(positive),
    max_eval_samples=maybe(positive),
    max_seq_length=st.integers(1, 4096),
    seed=st.integers(0, 2**32 - 1),  # numpy's RandomState takes [0, 2**32)
    synthetic_samples=positive,
    synthetic_num_labels=st.integers(2, 50),
)
export = section(
    opset=st.integers(14, 21),
    dynamic_axes=st.booleans(),
    static_batch_size=small,
    static_seq_length=small,
    shrink=st.sampled_from(["auto", "always", "never"]),
    atol=tolerance,
    verify_samples=small,
)
convert = section(
    compress_to_fp16=st.booleans(),
    batch_size=small,
    seq_length=small,
    keep_dynamic=st.booleans(),
    atol=tolerance,
    verify_samples=small,
)
benchmark = section(
    device=st.sampled_from(["CPU", "GPU", "AUTO"]),
    hint=st.sampled_from(["latency", "throughput", "none"]),
    time_s=st.floats(0.01, 600, allow_nan=False),
    repeats=st.integers(1, 10),
    batch_size=small,
    seq_length=small,
    nthreads=maybe(st.integers(1, 64)),
    api=maybe(st.sampled_from(["sync", "async"])),
    inference_precision=st.sampled_from(["f32", "bf16", "f16", "default"]),
    models=st.lists(st.sampled_from(["dense", "pruned", "onnx"]), min_size=1, unique=True),
    evaluate_accuracy=st.booleans(),
)
report = section(title=maybe(text), html=st.booleans())


def _warmup_end(compression: Any) -> float:
    sections = compression if isinstance(compression, list) else [compression]
    movement = next(s for s in sections if s["algorithm"] == "movement_sparsity")
    return float(movement["params"]["warmup_end_epoch"])


@st.composite
def pipelines(draw) -> dict[str, Any]:
    """A valid pipeline document: any subset of sections, each with any subset of its keys."""
    compression = draw(compression_values())
    end = _warmup_end(compression)
    training = draw(
        section(
            batch_size=small,
            eval_batch_size=small,
            learning_rate=st.floats(1e-8, 1.0, allow_nan=False),
            weight_decay=st.floats(0, 1, allow_nan=False),
            lr_warmup_ratio=st.floats(0, 0.99, allow_nan=False),
            max_grad_norm=maybe(st.floats(0.01, 100, allow_nan=False)),
            max_steps_per_epoch=maybe(positive),
            seed=st.integers(0, 2**31),
            device=st.sampled_from(["auto", "cpu", "cuda"]),
            num_threads=maybe(st.integers(1, 64)),
        )
    )
    if draw(st.booleans()):  # else derived from the warm-up
        training["epochs"] = math.ceil(end) + draw(st.integers(0, 3))
    document = draw(
        st.fixed_dictionaries(
            {"compression": st.just(compression), "training": st.just(training)},
            optional={
                "$schema": name,
                "name": maybe(name),
                "description": maybe(text),
                "workdir": name,
                "model": model,
                "data": data,
                "export": export,
                "convert": convert,
                "benchmark": benchmark,
                "report": report,
                "target_device": maybe(st.sampled_from(["ANY", "CPU", "GPU"])),
            },
        )
    )
    return document


def dump(config: PipelineConfig) -> dict[str, Any]:
    """A validated pipeline as it would be written back to a file (every value explicit)."""
    document = config.model_dump(mode="json", by_alias=True, exclude={"compression"})
    compression = config.compression
    if isinstance(compression, MovementSparsityConfig):
        document["compression"] = compression.to_nncf()
    else:
        document["compression"] = [
            item.to_nncf() if isinstance(item, MovementSparsityConfig) else item for item in compression
        ]
    for key in ("$schema", *NNCF_IGNORED_KEYS):  # absent, not null, as a person would write it
        if document.get(key) is None:
            document.pop(key, None)
    return document


def _write(path, document: Any, as_yaml: bool) -> None:
    text = yaml.safe_dump(document, allow_unicode=True) if as_yaml else json.dumps(document)
    path.write_text(text, encoding="utf-8")


@SETTINGS
@given(document=pipelines(), as_yaml=st.booleans())
def test_valid_pipeline_round_trips(tmp_path, document, as_yaml):
    path = tmp_path / ("p.yaml" if as_yaml else "p.json")
    _write(path, document, as_yaml)
    first = load_pipeline(path).config
    dumped = dump(first)
    _write(path, dumped, as_yaml)
    second = load_pipeline(path).config
    assert second == first
    assert dump(second) == dumped


@st.composite
def mutated_pipelines(draw) -> dict[str, Any]:
    actions = ["replace", "delete", "rename", "add", "wrap"]
    return mutate(draw, draw(pipelines()), draw(st.integers(1, 4)), actions, text)


@settings(max_examples=200, deadline=None)
@given(document=mutated_pipelines())
def test_mutated_pipeline_raises_only_config_error(document):
    original = copy.deepcopy(document)
    try:
        validate_pipeline(document)
    except ConfigError as error:
        assert error.issues and all(issue.msg for issue in error.issues)
    assert document == original


@SETTINGS
@given(document=pipelines(), data=st.data())
def test_damaged_pipeline_text_raises_only_config_error(tmp_path, document, data):
    content = yaml.safe_dump(document, allow_unicode=True)
    for _ in range(data.draw(st.integers(1, 5))):
        at = data.draw(st.integers(0, len(content)))
        edit = data.draw(st.sampled_from(["delete", "insert", "replace"]))
        piece = data.draw(st.sampled_from(list(":-[]{}'\"#&*!|>%@`, \n\t")) | text)
        if edit == "delete":
            content = content[:at] + content[at + 1 :]
        elif edit == "insert":
            content = content[:at] + piece + content[at:]
        else:
            content = content[:at] + piece + content[at + 1 :]
    path = tmp_path / "p.yaml"
    path.write_text(content, encoding="utf-8")
    try:
        load_pipeline(path)
    except ConfigError as error:
        assert str(error)
