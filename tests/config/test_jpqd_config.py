"""The JPQD parts of a pipeline: a `quantization` section that runs, and the `distillation` section."""

from __future__ import annotations

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
