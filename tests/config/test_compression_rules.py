"""The documented movement-sparsity rules, checked on the models directly (no files)."""

from __future__ import annotations

import pytest

from ov_movement.config import (
    MovementSparsityConfig,
    PipelineConfig,
    matches,
    matches_any,
    validate_pipeline,
)
from ov_movement.errors import ConfigError
from tests.config.samples import DOC_SECTION, params, section


def problems(document: dict) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        validate_pipeline(document)
    return {issue.loc: issue.msg for issue in caught.value.issues}


def test_doc_section_round_trips_through_to_nncf():
    config = MovementSparsityConfig.model_validate(DOC_SECTION)
    nncf = config.to_nncf()
    assert nncf["params"]["power"] == 3.0 and nncf["params"]["final_importance_threshold"] == 0.0
    assert MovementSparsityConfig.model_validate(nncf) == config
    assert "validate_scopes" not in nncf  # unset optional keys are left to NNCF's defaults


def test_integers_stay_integers():
    nncf = MovementSparsityConfig.model_validate(DOC_SECTION).to_nncf()
    assert nncf["params"]["warmup_end_epoch"] == 4 and isinstance(nncf["params"]["warmup_end_epoch"], int)


def test_fractional_warmup_epochs_are_numbers_as_in_nncf():
    config = MovementSparsityConfig.model_validate(
        section(params=params(warmup_start_epoch=1.5, warmup_end_epoch=2.5))
    )
    assert config.params.warmup_end_epoch == 2.5


def test_warmup_end_must_follow_start_with_exact_message():
    found = problems({"compression": section(params=params(warmup_end_epoch=1))})
    assert found == {"compression.params.warmup_end_epoch": "must be greater than warmup_start_epoch (1)"}


@pytest.mark.parametrize("start", [0, 0.5])
def test_steps_per_epoch_required_before_epoch_one(start):
    found = problems({"compression": section(params=params(warmup_start_epoch=start))})
    assert "compression.params.steps_per_epoch" in found
    ok = section(params=params(warmup_start_epoch=start, steps_per_epoch=100))
    assert validate_pipeline({"compression": ok}).movement.params.steps_per_epoch == 100


def test_threshold_spellings():
    same = section(params=params(initial_importance_threshold=-0.5, init_importance_threshold=-0.5))
    assert validate_pipeline({"compression": same}).movement.params.init_importance_threshold == -0.5
    doc = section(params=params(initial_importance_threshold=-0.5))
    dumped = validate_pipeline({"compression": doc}).movement.to_nncf()["params"]
    assert dumped["init_importance_threshold"] == -0.5 and "initial_importance_threshold" not in dumped
    clash = section(params=params(initial_importance_threshold=-0.5, init_importance_threshold=-0.2))
    assert (
        "conflicts with init_importance_threshold"
        in problems({"compression": clash})["compression.params.initial_importance_threshold"]
    )


@pytest.mark.parametrize(
    ("entry", "loc", "text"),
    [
        ({"mode": "block", "target_scopes": "a"}, "sparse_factors", "required when mode is 'block'"),
        (
            {"mode": "block", "sparse_factors": [32, 32, 1], "target_scopes": "a"},
            "sparse_factors",
            "two numbers",
        ),
        (
            {"mode": "block", "sparse_factors": [0, 32], "target_scopes": "a"},
            "sparse_factors[0]",
            "greater than 0",
        ),
        (
            {"mode": "block", "sparse_factors": [32, 32], "axis": 0, "target_scopes": "a"},
            "axis",
            "not allowed",
        ),
        ({"mode": "per_dim", "target_scopes": "a"}, "axis", "required when mode is 'per_dim'"),
        ({"mode": "per_dim", "axis": 2, "target_scopes": "a"}, "axis", "must be 0 (rows) or 1 (columns)"),
        (
            {"mode": "per_dim", "axis": 0, "sparse_factors": [1, 1], "target_scopes": "a"},
            "sparse_factors",
            "not allowed when mode is 'per_dim'",
        ),
        (
            {"mode": "fine", "sparse_factors": [2, 2], "target_scopes": "a"},
            "sparse_factors",
            "must be [1, 1]",
        ),
        ({"mode": "fine", "axis": 1, "target_scopes": "a"}, "axis", "not allowed when mode is 'fine'"),
        ({"mode": "fine", "target_scopes": []}, "target_scopes", "at least one scope"),
        ({"mode": "fine", "target_scopes": "{re}.*(Bert"}, "target_scopes", "invalid regular expression"),
        ({"mode": "fine", "target_scopes": ["ok", "{re}[x"]}, "target_scopes[1]", "'{re}[x'"),
        ({"mode": "fine", "target_scopes": ""}, "target_scopes", "must not be empty"),
        ({"mode": "Block", "target_scopes": "a"}, "mode", "did you mean 'block'?"),
    ],
)
def test_mode_specific_keys(entry, loc, text):
    found = problems({"compression": section(sparse_structure_by_scopes=[entry])})
    assert text in found[f"compression.sparse_structure_by_scopes[0].{loc}"]


def test_fine_accepts_unit_factors():
    entry = {"mode": "fine", "sparse_factors": [1, 1], "target_scopes": "a"}
    assert validate_pipeline({"compression": section(sparse_structure_by_scopes=[entry])})


def test_identical_scope_in_two_entries():
    entries = [
        {"mode": "fine", "target_scopes": ["x", "{re}y"]},
        {"mode": "per_dim", "axis": 0, "target_scopes": "{re}y"},
    ]
    found = problems({"compression": section(sparse_structure_by_scopes=entries)})
    assert "sparse_structure_by_scopes[0]" in found["compression.sparse_structure_by_scopes[1].target_scopes"]


def test_all_problems_are_collected():
    document = {
        "compression": section(
            params=params(warmup_end_epoch=0, power=-1, warmup_end_epochs=3),
            sparse_structure_by_scopes=[{"mode": "per_dim", "target_scopes": "a"}],
            ignored_scopes="{re}(",
        ),
        "training": {"epochs": "five"},
        "modle": {},
    }
    found = problems(document)
    assert set(found) == {
        "compression.params.warmup_end_epoch",
        "compression.params.power",
        "compression.params.warmup_end_epochs",
        "compression.sparse_structure_by_scopes[0].axis",
        "compression.ignored_scopes",
        "training.epochs",
        "modle",
    }
    assert found["modle"] == "unknown key 'modle'; did you mean 'model'?"


def test_list_needs_exactly_one_movement_section():
    assert "found: quantization" in problems({"compression": [{"algorithm": "quantization"}]})["compression"]
    assert "the list is empty" in problems({"compression": []})["compression"]
    two = problems({"compression": [section(), section()]})
    assert "a second movement_sparsity section" in two["compression[1].algorithm"]


def test_other_algorithms_are_checked_loosely_and_kept():
    quant = {"algorithm": "quantization", "anything": {"goes": [1]}}
    distil = {"algorithm": "knowledge_distillation", "type": "mse"}
    config = validate_pipeline({"compression": [section(), quant, distil]})
    # quantization runs (JPQD); the others are kept as written and reported as not run
    assert config.quantization == quant and config.quantization_loc == "compression[1]"
    assert config.quantization is not quant  # a copy: the document is not aliased
    assert config.unsupported_sections == [distil] and config.unsupported_algorithms == [
        "knowledge_distillation"
    ]
    found = problems({"compression": [section(), {"algorithm": 7}, {"preset": "mixed"}]})
    assert found["compression[1].algorithm"] == "must be a string, got 7"
    assert found["compression[2].algorithm"] == "missing (required)"


def test_object_section_for_another_algorithm():
    found = problems({"compression": {"algorithm": "quantization", "preset": "mixed"}})
    assert list(found) == ["compression.algorithm"] and "alongside" in found["compression.algorithm"]


def test_algorithm_may_be_left_out_of_an_object_section():
    config = validate_pipeline({"compression": section(algorithm=None)})
    assert config.movement.to_nncf()["algorithm"] == "movement_sparsity"


def test_epochs_must_cover_the_warmup():
    found = problems({"compression": section(), "training": {"epochs": 3}})
    assert found["training.epochs"].startswith("must be at least compression.params.warmup_end_epoch (4)")
    assert validate_pipeline({"compression": section(), "training": {"epochs": 4}}).training.epochs == 4
    listed = problems({"compression": [{"algorithm": "quantization"}, section()], "training": {"epochs": 2}})
    assert "compression[1].params.warmup_end_epoch" in listed["training.epochs"]


def test_nncf_top_level_keys():
    config = validate_pipeline(
        {"compression": section(), "input_info": {"sample_size": [1, 128]}, "log_dir": "x"}
    )
    assert config.ignored_nncf_keys == ["input_info", "log_dir"]
    found = problems(
        {"compression": section(), "compression_lr_multiplier": 2.0, "accuracy_aware_training": {}}
    )
    assert "compression.compression_lr_multiplier" in found["compression_lr_multiplier"]
    assert "not supported" in found["accuracy_aware_training"]


def test_strict_json_types():
    found = problems(
        {"compression": section(params=params(enable_structured_masking="yes", warmup_start_epoch=True))}
    )
    assert found["compression.params.enable_structured_masking"].startswith(
        "must be true or false, got the string 'yes' (pipeline files are read as YAML 1.2"
    )
    assert found["compression.params.warmup_start_epoch"] == "must be a number, got true"
    nan = problems({"compression": section(params=params(power=float("nan")))})
    assert "finite" in nan["compression.params.power"]
    null = problems(
        {"compression": section(ignored_scopes=[], target_scopes=None) | {"validate_scopes": None}}
    )
    assert "must not be null" in null["compression.validate_scopes"]


def test_python_construction_still_works():
    config = PipelineConfig(compression=MovementSparsityConfig.model_validate(DOC_SECTION))
    assert config.movement.params.warmup_start_epoch == 1 and config.movement_loc == "compression"


@pytest.mark.parametrize(
    ("node", "pattern", "expected"),
    [
        ("Bert/BertAttention[attention]/NNCFLinear[query]/linear_0", "{re}.*BertAttention.*", True),
        ("Bert/BertAttention[attention]/NNCFLinear[query]/linear_0", "{re}BertAttention", True),  # search
        ("Bert/BertOutput[output]", "{re}^BertOutput", False),
        ("Bert/BertOutput[output]", "Bert/BertOutput[output]", True),
        ("Bert/BertOutput[output]", "Bert/BertOutput", False),
    ],
)
def test_scope_matching_mirrors_nncf(node, pattern, expected):
    assert matches(node, pattern) is expected
    assert matches_any(node, [pattern]) is expected


def test_entries_matching():
    config = MovementSparsityConfig.model_validate(DOC_SECTION)
    assert config.entries_matching("M/BertIntermediate[intermediate]/NNCFLinear[dense]/linear_0") == [1]
    assert config.entries_matching("M/classifier") == []
