"""The `quantize` section (NNCF post-training quantization) and `report.max_accuracy_drop`."""

from __future__ import annotations

import pytest

from ov_movement.benchmarking.variants import QUANTIZED_FROM, VARIANTS
from ov_movement.config import PipelineConfig, validate_pipeline
from ov_movement.config.pipeline import BenchmarkConfig, QuantizeConfig
from ov_movement.errors import ConfigError


def problems(document: dict) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        validate_pipeline(document)
    return {issue.loc: issue.msg for issue in caught.value.issues}


def test_defaults_quantize_both_irs_with_nncf_defaults_and_128_calibration_examples():
    config = PipelineConfig.model_validate({})
    q = config.quantize
    assert q.enabled and q.models == ["dense", "pruned"] and q.subset_size == 128
    assert q.preset is None and q.smooth_quant_alpha is None and q.model_type == "transformer"
    assert q.fast_bias_correction and not q.accuracy_control.enabled
    assert q.accuracy_control.max_drop == 0.01 and q.accuracy_control.drop_type == "absolute"
    assert config.report.max_accuracy_drop == 0.01


def test_nncf_parameters_are_accepted_as_nncf_names_them():
    config = PipelineConfig.model_validate(
        {
            "quantize": {
                "models": ["pruned"],
                "subset_size": 300,
                "preset": "mixed",
                "fast_bias_correction": False,
                "smooth_quant_alpha": -1,
                "ignored_scope": {"names": ["/classifier/MatMul"], "types": ["Softmax"], "validate": False},
                "accuracy_control": {"enabled": True, "max_drop": 0.005, "drop_type": "relative"},
            }
        }
    )
    scope = config.quantize.ignored_scope
    assert scope.names == ["/classifier/MatMul"] and scope.types == ["Softmax"] and scope.validate_ is False
    assert config.quantize.accuracy_control.drop_type == "relative"


@pytest.mark.parametrize(
    ("section", "location"),
    [
        ({"quantize": {"subset_size": 0}}, "quantize.subset_size"),
        ({"quantize": {"preset": "fast"}}, "quantize.preset"),
        ({"quantize": {"models": ["onnx"]}}, "quantize.models[0]"),
        ({"quantize": {"smooth_quant_alpha": 1.5}}, "quantize.smooth_quant_alpha"),
        ({"quantize": {"ignored_scope": {"name": ["x"]}}}, "quantize.ignored_scope.name"),
        ({"quantize": {"accuracy_control": {"max_drop": -0.1}}}, "quantize.accuracy_control.max_drop"),
        ({"quantize": {"accuracy_control": {"drop_type": "percent"}}}, "quantize.accuracy_control.drop_type"),
        ({"quantize": {"min_agreement": 2}}, "quantize.min_agreement"),
        ({"report": {"max_accuracy_drop": 1.5}}, "report.max_accuracy_drop"),
        ({"benchmark": {"models": ["int8"]}}, "benchmark.models[0]"),
    ],
)
def test_bad_values_are_config_errors_at_their_location(section, location):
    found = problems(section)
    assert location in found, found


def test_the_config_names_exactly_the_variants_of_the_variants_table():
    benchmarked = BenchmarkConfig.model_json_schema()["properties"]["models"]["items"]["enum"]
    assert set(benchmarked) == set(VARIANTS)
    quantizable = QuantizeConfig.model_json_schema()["properties"]["models"]["items"]["enum"]
    assert set(quantizable) == set(QUANTIZED_FROM)
