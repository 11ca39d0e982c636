"""The JPQD parts of a pipeline: a `quantization` section that runs, and the `distillation` section."""

from __future__ import annotations

from pathlib import Path

import pytest

from ov_movement.config import validate_pipeline
from ov_movement.config.summary import algorithm_notes
from ov_movement.errors import ConfigError
from tests.config.samples import section


def problems(document: dict) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        validate_pipeline(document)
    return {issue.loc: issue.msg for issue in caught.value.issues}


def test_quantization_is_said_to_run_and_others_not():
    config = validate_pipeline(
        {"compression": [section(), {"algorithm": "quantization"}, {"algorithm": "magnitude_sparsity"}]}
    )
    notes = dict(algorithm_notes(config))
    assert "runs as quantization-aware training" in notes["quantization"]
    assert "compression[1]" in notes["quantization"]
    assert notes["other algorithm"] == "magnitude_sparsity: not yet supported (kept, not run)"


def test_without_quantization_nothing_is_said():
    assert algorithm_notes(validate_pipeline({})) == []


def test_distillation_defaults_are_optimum_intels():
    config = validate_pipeline({"distillation": {}, "baseline": {"enabled": True}})
    assert (config.distillation.teacher, config.distillation.temperature, config.distillation.weight) == (
        "baseline",
        2.0,
        0.5,
    )
    assert "from the baseline stage, temperature 2" in dict(algorithm_notes(config))["distillation"]


def test_a_baseline_teacher_needs_the_baseline_stage():
    found = problems({"distillation": {"teacher": "baseline"}})
    assert "baseline.enabled: true" in found["distillation.teacher"]
    assert (
        validate_pipeline({"distillation": {"teacher": "models/teacher"}}).distillation.teacher
        == "models/teacher"
    )


@pytest.mark.parametrize(
    ("values", "loc", "text"),
    [
        ({"weight": 1.5}, "distillation.weight", "at most 1"),
        ({"weight": -0.1}, "distillation.weight", "at least 0"),
        ({"temperature": 0.5}, "distillation.temperature", "at least 1"),
        ({"teacher": "baseline", "alpha": 1}, "distillation.alpha", ""),
    ],
)
def test_distillation_values_are_checked(values, loc, text):
    found = problems({"distillation": values, "baseline": {"enabled": True}})
    assert loc in found and text in found[loc]


def test_a_quantization_section_next_to_movement_sparsity_serialises_without_warnings(tmp_path):
    """Every JPQD example of optimum-intel has this list; `run` dumps the config for fingerprints and
    summaries, which must not print pydantic's PydanticSerializationUnexpectedValue warnings."""
    import warnings

    from ov_movement.config import load_pipeline
    from ov_movement.runner.plan import make_plan
    from ov_movement.stages import STAGES

    fixture = Path(__file__).parent / "fixtures" / "bert_text_classification_jpqd.json"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = load_pipeline(fixture)
        assert loaded.config.quantization is not None
        loaded.config.model_dump(mode="json")
        loaded.config.model_dump(mode="json", by_alias=True, exclude_none=True)
        loaded.config.model_dump_json()
        make_plan(loaded, STAGES, tmp_path)
