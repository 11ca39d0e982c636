"""Fingerprints, diffs and graph selection, without running anything."""

from __future__ import annotations

import dataclasses

import pytest

from ov_movement.errors import ConfigError
from ov_movement.runner import fingerprint as fp
from ov_movement.runner.graph import ancestors, descendants, select, topological_order
from ov_movement.stages import STAGES
from ov_movement.stages.base import StageSpec
from tests.runner import runner_toys


def _noop(ctx):
    return None


def _fingerprints(tmp_path, **changes):
    loaded = runner_toys.write_config(tmp_path / "p.yaml", **changes)
    dump = loaded.config.model_dump(mode="json", by_alias=False)
    return fp.compute_fingerprints(STAGES, topological_order(STAGES), dump, versions={"torch": "1"})


def _changed(tmp_path, **changes):
    base, other = _fingerprints(tmp_path), _fingerprints(tmp_path, **changes)
    return [name for name in STAGES if base[name].digest != other[name].digest]


def test_real_registry_staleness_rules(tmp_path):
    """The real stage specs: what each kind of edit invalidates (acceptance list of issue 3)."""
    assert _changed(tmp_path, benchmark__time_s=20) == ["benchmark", "report", "package"]
    assert (
        _changed(tmp_path, training__epochs=6)
        == "mask export convert quantize benchmark baseline report package".split()
    )
    # Quantization settings: the INT8 IRs change, so they are timed again; training and IRs stay.
    assert _changed(tmp_path, quantize__subset_size=64) == ["quantize", "benchmark", "report", "package"]
    # The dense baseline reads no compression settings: only the sparse chain reruns.
    assert _changed(tmp_path, compression__params__importance_regularization_factor=0.1) == [
        s for s in STAGES if s != "baseline"
    ]
    assert _changed(tmp_path, baseline__enabled=True) == ["baseline", "report", "package"]
    assert _changed(tmp_path, report__title="Other") == ["report"]
    # The recommendation rule's drop is the bundle's default choice too.
    assert _changed(tmp_path, report__max_accuracy_drop=0.05) == ["report", "package"]
    assert _changed(tmp_path, package__model="dense") == ["package"]
    assert _changed(tmp_path, description="words") == ["report"]  # shown in it
    assert _changed(tmp_path, name="renamed") == ["report", "package"]  # the served model's name
    assert _changed(tmp_path, workdir="elsewhere") == []


def test_fingerprint_is_canonical_and_versioned():
    a = fp.make_fingerprint("s", {"x": {"b": 1, "a": [1, {"d": 2, "c": 3}]}}, {}, {"torch": "1"})
    b = fp.make_fingerprint("s", {"x": {"a": [1, {"c": 3, "d": 2}], "b": 1}}, {}, {"torch": "1"})
    assert a.digest == b.digest and len(a.digest) == 64 and a.short == a.digest[:7]
    assert fp.make_fingerprint("s", a.inputs, {}, {"torch": "2"}).digest != a.digest
    assert fp.make_fingerprint("t", a.inputs, {}, {"torch": "1"}).digest != a.digest
    assert fp.make_fingerprint("s", a.inputs, {"up": "f"}, {"torch": "1"}).digest != a.digest


def test_package_versions_without_importing(monkeypatch):
    monkeypatch.setattr(fp, "VERSIONED_PACKAGES", ("ov-movement", "surely-not-installed-ovm"))
    versions = fp.package_versions.__wrapped__()
    assert versions["surely-not-installed-ovm"] == "absent"
    assert versions["ov-movement"] != "absent"


def test_stage_inputs_respects_ignores_and_rejects_bad_paths():
    config = {"training": {"epochs": 5, "lr": 0.1}, "compression": [{"params": {"power": 3}}]}
    spec = StageSpec("s", _noop, reads=("training", "compression"), ignores=("training.epochs",))
    assert fp.stage_inputs(spec, config) == {
        "compression": [{"params": {"power": 3}}],
        "training": {"lr": 0.1},
    }
    nested = StageSpec("s", _noop, reads=("compression",), ignores=("compression.0.params.power",))
    assert fp.stage_inputs(nested, config) == {"compression": [{"params": {}}]}
    with pytest.raises(ConfigError, match="reads 'nope'"):
        fp.stage_inputs(StageSpec("s", _noop, reads=("nope",)), config)
    with pytest.raises(ConfigError, match="not under any path it reads"):
        fp.stage_inputs(StageSpec("s", _noop, reads=("training",), ignores=("export.opset",)), config)


def test_paths_read_if_set_are_hashed_when_present_and_skipped_when_absent():
    spec = StageSpec("s", _noop, reads=("training",), reads_if_set=("description",))
    assert fp.stage_inputs(spec, {"training": {"lr": 0.1}}) == {"training": {"lr": 0.1}}
    with_text = fp.stage_inputs(spec, {"training": {"lr": 0.1}, "description": "run *one*"})
    assert with_text == {"training": {"lr": 0.1}, "description": "run *one*"}


def test_a_new_description_makes_only_the_report_stale():
    from ov_movement.stages import STAGES

    base = {"name": "tiny", "report": {"html": True}, "benchmark": {"repeats": 3}}
    before = {name: fp.stage_inputs(spec, base) for name, spec in STAGES.items() if name == "report"}
    after = {"report": fp.stage_inputs(STAGES["report"], {**base, "description": "new words"})}
    assert before["report"] != after["report"] and after["report"]["description"] == "new words"
    readers = [name for name, spec in STAGES.items() if "description" in spec.reads + spec.reads_if_set]
    assert readers == ["report"]


def test_describe_changes_wording():
    old = {
        "inputs": {"t": {"a": 1, "gone": "x", "l": [1, 2]}},
        "upstream": {"u": "1"},
        "versions": {"torch": "1"},
    }
    new = {
        "inputs": {"t": {"a": 2, "new": None, "l": [1]}},
        "upstream": {"u": "2"},
        "versions": {"torch": "2"},
    }
    assert fp.describe_changes(old, new) == [
        "t.a changed 1 -> 2",
        "t.new added (null)",
        't.gone removed (was "x")',
        "t.l.1 removed (was 2)",
        "upstream u changed",
        "versions: torch 1 -> 2",
    ]
    many_old = {"inputs": {"k": {str(i): i for i in range(10)}}}
    many_new = {"inputs": {"k": {str(i): -i - 1 for i in range(10)}}}
    reasons = fp.describe_changes(many_old, many_new)
    assert len(reasons) == 6 and reasons[-1] == "and 5 more config changes"
    assert fp.describe_changes(old, old) == ["stage definition changed"]


def _diamond() -> dict[str, StageSpec]:
    specs = [
        StageSpec("a", _noop),
        StageSpec("b", _noop, upstream=("a",)),
        StageSpec("c", _noop, upstream=("a",)),
        StageSpec("d", _noop, upstream=("c", "b")),
    ]
    return {spec.name: spec for spec in specs}


def test_graph_order_ancestry_and_selection():
    graph = _diamond()
    assert topological_order(graph) == ["a", "b", "c", "d"]
    assert ancestors(graph, "d") == {"a", "b", "c"} and descendants(graph, "b") == {"d"}
    assert select(graph, from_="b") == ["b", "d"]
    assert select(graph, until="c") == ["a", "c"]
    assert select(graph, from_="a", until="b") == ["a", "b"]
    assert select(graph, only=["d", "a"]) == ["a", "d"]
    assert select(STAGES, from_="convert") == ["convert", "quantize", "benchmark", "report", "package"]


def test_graph_errors():
    graph = _diamond()
    graph["a"] = dataclasses.replace(graph["a"], upstream=("d",))
    with pytest.raises(ConfigError, match="cycle: a -> d -> c -> a"):
        topological_order(graph)
    with pytest.raises(ConfigError, match="upstream 'zz' is not a registered stage"):
        topological_order({"x": StageSpec("x", _noop, upstream=("zz",))})
    with pytest.raises(ConfigError, match="named 'y'"):
        topological_order({"x": StageSpec("y", _noop)})


def test_rich_progress_lines_escape_markup(capsys):
    from ov_movement.runner.progress import Progress

    progress = Progress(rich=True, width=8)
    progress.running("mask", ['data.path changed "[a]" -> "[b]"'])
    progress.done("mask", 12.34, "abcdef1", "[bold]not markup[/bold]")
    out = capsys.readouterr().out
    assert "mask      running" in out and '"[a]" -> "[b]"' in out
    assert "done in 12.3 s (abcdef1)" in out and "[bold]not markup[/bold]" in out


def test_distillation_from_the_baseline_adds_the_baseline_to_the_training_stages_upstream():
    """A config-dependent edge, through StageSpec.configure: the runner applies it without knowing why."""
    from ov_movement.config.pipeline import PipelineConfig
    from ov_movement.runner.graph import for_config

    plain = for_config(STAGES, PipelineConfig.model_validate({}))
    assert plain["sparsify"].upstream == () and "distillation" not in plain["sparsify"].reads
    distilled = for_config(
        STAGES, PipelineConfig.model_validate({"distillation": {}, "baseline": {"enabled": True}})
    )
    assert distilled["sparsify"].upstream == ("baseline",)
    assert "distillation" in distilled["sparsify"].reads and "distillation" in distilled["mask"].reads
    order = topological_order(distilled)
    assert order.index("baseline") < order.index("sparsify")
    assert "baseline" in ancestors(distilled, "mask")
    from_a_directory = for_config(
        STAGES, PipelineConfig.model_validate({"distillation": {"teacher": "teacher-model"}})
    )
    assert from_a_directory["sparsify"].upstream == ()
