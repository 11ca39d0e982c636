"""Sweeps as configs: --set parsing (YAML 1.2), the `sweep:` section, variant names and validation."""

from __future__ import annotations

import json

import pytest

from ov_movement.cli import main
from ov_movement.config.load import load_pipeline
from ov_movement.config.sweep import MAX_VARIANTS, expand, parse_set
from ov_movement.errors import ConfigError
from tests.pipelines import PIPELINES

FACTOR = "compression.params.importance_regularization_factor"


def _write(tmp_path, document, name="p.json"):
    path = tmp_path / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_set_values_are_yaml_12_scalars_and_lists():
    assert parse_set("training.epochs=5,6") == ("training.epochs", [5, 6])
    assert parse_set(f"{FACTOR}=5e-5, 0.01") == (FACTOR, [5e-5, 0.01])  # 5e-5: a number in YAML 1.2
    assert parse_set("quantize.enabled=true,false")[1] == [True, False]
    assert parse_set("report.title=yes,no")[1] == ["yes", "no"]  # YAML 1.1 booleans are text
    assert parse_set("x.sparse_factors=[16,16],[32,32]")[1] == [[16, 16], [32, 32]]


@pytest.mark.parametrize(
    "text, words",
    [
        ("training.epochs=", ["--set training.epochs", "no values"]),
        ("training.epochs=5,5", ["--set training.epochs", "value 5 given twice"]),
        ("training.epochs", ["--set training.epochs", "KEY=VALUE"]),
        ("training..epochs=1", ["not a dotted key"]),
        ("workdir=a,b", ["--set workdir", "cannot be swept"]),
        ("training.epochs=[1,2", ["--set training.epochs", "not YAML"]),
    ],
)
def test_bad_set_names_the_key(text, words):
    with pytest.raises(ConfigError) as caught:
        parse_set(text)
    assert all(word in str(caught.value) for word in words), str(caught.value)


def test_variants_are_full_pipelines_with_readable_names():
    sweep = expand(load_pipeline(PIPELINES / "tiny.yaml"), [f"{FACTOR}=0.01,0.03", "training.epochs=7,8"])
    assert [v.name for v in sweep.variants] == [
        "tiny-bert-importance_regularization_factor=0.01-epochs=7",
        "tiny-bert-importance_regularization_factor=0.01-epochs=8",
        "tiny-bert-importance_regularization_factor=0.03-epochs=7",
        "tiny-bert-importance_regularization_factor=0.03-epochs=8",
    ]
    last = sweep.variants[-1].loaded.config
    assert (last.movement.params.importance_regularization_factor, last.training.epochs) == (0.03, 8)
    assert last.name == sweep.variants[-1].name and last.sweep is None
    assert last.model.config["hidden_size"] == 64  # everything else as in the file


def test_a_key_with_one_value_applies_to_all_and_stays_out_of_the_names():
    sweep = expand(load_pipeline(PIPELINES / "tiny.yaml"), [f"{FACTOR}=0.01,0.03", "benchmark.time_s=1"])
    assert [v.name for v in sweep.variants][0] == "tiny-bert-importance_regularization_factor=0.01"
    assert all(v.loaded.config.benchmark.time_s == 1 for v in sweep.variants)


def test_list_indices_and_sections_left_at_their_defaults(tmp_path):
    params = {"warmup_start_epoch": 1, "warmup_end_epoch": 2, "importance_regularization_factor": 0.01}
    listed = _write(tmp_path, {"compression": [{"algorithm": "movement_sparsity", "params": params}]})
    sweep = expand(load_pipeline(listed), ["compression.0.params.power=2,3"])
    assert [v.loaded.config.movement.params.power for v in sweep.variants] == [2, 3]
    bare = _write(tmp_path, {"name": "d", "training": {"epochs": 6}}, "d.json")  # default compression
    sweep = expand(load_pipeline(bare), [f"{FACTOR}=0.02,0.04"])
    configs = [v.loaded.config for v in sweep.variants]
    assert [c.movement.params.importance_regularization_factor for c in configs] == [0.02, 0.04]
    assert configs[0].movement.sparse_structure_by_scopes[0].sparse_factors == [32, 32]  # default kept


def test_every_variant_is_validated_and_problems_name_variant_and_key(tmp_path):
    loaded = load_pipeline(PIPELINES / "tiny.yaml")
    with pytest.raises(ConfigError) as caught:
        expand(loaded, ["training.epochs=8,2,x"])
    message = str(caught.value)
    assert "training.epochs: must be at least compression.params.warmup_end_epoch" in message
    assert "variant tiny-bert-epochs=2: --set training.epochs=2" in message
    assert "variant tiny-bert-epochs=x: --set training.epochs=x" in message
    assert "epochs=8" not in message
    with pytest.raises(ConfigError, match=r"compression\.params\.nope: unknown key .*every variant"):
        expand(loaded, ["compression.params.nope=1,2"])
    with pytest.raises(ConfigError, match=r"--set training\.epochs\.x: .*is a value, not a section"):
        expand(loaded, ["training.epochs.x=1,2"])
    with pytest.raises(ConfigError, match=r"would share <workdir>/tiny-bert-title-a-b/"):
        expand(loaded, ["report.title=a b,a-b"])


def test_sweep_section_and_its_bounds(tmp_path):
    good = _write(tmp_path, {"name": "s", "sweep": {"grid": {"training.epochs": [5, 6]}}})
    assert [v.name for v in expand(load_pipeline(good)).variants] == ["s-epochs=5", "s-epochs=6"]
    # --set replaces a key of the file's grid
    assert len(expand(load_pipeline(good), ["training.epochs=5,6,7"]).variants) == 3
    too_many = {f"training.k{i}": list(range(4)) for i in range(5)}  # 4**5 combinations
    for grid, words in (
        ({"training.epochs": []}, "sweep.grid.training.epochs: no values"),
        ({"name": ["a", "b"]}, "sweep.grid.name: 'name' cannot be swept"),
        (too_many, f"at most {MAX_VARIANTS} variants"),
    ):
        path = _write(tmp_path, {"sweep": {"grid": grid}}, "bad.json")
        with pytest.raises(ConfigError) as caught:
            load_pipeline(path)
        assert words in str(caught.value)


def test_validate_checks_every_variant(tmp_path, capsys):
    path = _write(tmp_path, {"name": "s", "sweep": {"grid": {"training.epochs": [5, 2]}}})
    assert main(["validate", str(path)]) == 2
    assert "variant s-epochs=2: sweep.grid training.epochs=2" in capsys.readouterr().err
    path = _write(tmp_path, {"name": "s", "sweep": {"grid": {"training.epochs": [5, 6]}}})
    assert main(["validate", str(path)]) == 0
    assert "sweep: 2 variants (s-epochs=5, s-epochs=6)" in capsys.readouterr().out
