"""Files and directories a config names are part of the fingerprints, by content (issue 15, item 1).

Before content hashing, each of these cases reused results computed from other bytes: the rows
of a CSV replaced at the same path, a local model directory whose weights were swapped, and two
projects whose configs both say `data.path: data.csv` sharing one workdir.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml

from ov_movement.config.load import load_pipeline
from ov_movement.config.paths import path_fields
from ov_movement.config.pipeline import PipelineConfig
from ov_movement.runner import dependencies, store
from ov_movement.runner.plan import CACHED, STALE, make_plan
from ov_movement.stages import STAGES
from ov_movement.stages.base import StageResult
from tests.runner import runner_toys

ALL = ["sparsify", "mask", "export", "convert", "benchmark", "report"]
CSV = "text,label\nthe match was won,sport\nshares fell,business\n"
CSV_THREE_CLASSES = "text,label\nthe match was won,sport\nshares fell,business\na new phone,tech\n"


def _csv_toy(toy, text: str = CSV):
    (toy.root / "data.csv").write_text(text, encoding="utf-8")
    return toy.load(data__source="csv", data__path="data.csv")


def _replace(path: Path, text: str) -> None:
    """Rewrite a file as an editor or a data export would: same path, new bytes."""
    path.write_text(text, encoding="utf-8")


def test_replacing_the_rows_of_a_csv_makes_the_training_stages_stale(toy):
    _csv_toy(toy)
    assert toy.run().executed == ALL
    _replace(toy.root / "data.csv", CSV_THREE_CLASSES)
    plan = toy.status()
    assert plan["sparsify"].state == STALE
    assert plan["sparsify"].reasons == ("data.path: data.csv content changed",)
    assert plan["mask"].reasons == ("data.path: data.csv content changed", "upstream sparsify changed")
    assert plan["export"].reasons == ("upstream mask changed",)
    # Scoring downstream stages alone on the new data is refused: their upstream is not cached for it.
    with pytest.raises(runner_toys.StageError, match="sparsify .stale: data.path: data.csv content changed"):
        toy.run(only="benchmark", force=True)
    assert toy.run().executed == ALL
    assert toy.lock()["stages"]["sparsify"]["files"]["data.path"]["path"] == "data.csv"


def test_touching_a_file_without_changing_it_reruns_nothing(toy):
    _csv_toy(toy)
    toy.run()
    path = toy.root / "data.csv"
    path.write_bytes(path.read_bytes())  # new mtime and ctime, same bytes
    assert toy.status()["sparsify"].state == CACHED
    assert toy.run().executed == []


def test_unchanged_files_are_not_reread_and_verify_rereads_them(toy, monkeypatch):
    monkeypatch.setattr(store, "RACY_NS", 0)  # trust even brand-new timestamps
    _csv_toy(toy)
    toy.run()
    reads: list[Path] = []
    real = store.hash_file
    monkeypatch.setattr(store, "hash_file", lambda path, **kw: reads.append(Path(path)) or real(path, **kw))
    toy.status()
    assert (toy.root / "data.csv") not in reads
    toy.status(verify=True)
    assert (toy.root / "data.csv") in reads


def test_verify_rehashes_dependencies_even_when_the_stat_record_matches(toy, monkeypatch):
    monkeypatch.setattr(store, "RACY_NS", 0)
    _csv_toy(toy)
    toy.run()
    record_path = toy.workdir / "cache" / dependencies.RECORD_NAME
    record = json.loads(record_path.read_text())
    # A record that lies (as a stat-preserving in-place edit would make it): stat matches, digest old.
    (key,) = [name for name in record["files"] if name.endswith("data.csv")]
    record["files"][key][-1] = "0" * 64
    record_path.write_text(json.dumps(record))
    assert toy.status()["sparsify"].state == STALE  # the lie is trusted by the quick check ...
    assert toy.status(verify=True)["sparsify"].state == CACHED  # ... and --verify reads the bytes


def test_a_missing_data_file_is_named(toy):
    _csv_toy(toy)
    toy.run()
    (toy.root / "data.csv").unlink()
    assert toy.status()["sparsify"].reasons == ("data.path: data.csv no longer exists",)


def test_two_projects_whose_configs_both_say_data_csv_do_not_share_stages(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    registry, workdir = runner_toys.make_registry(), tmp_path / "shared-workdir"
    loaded = {}
    for project, text in (("news", CSV), ("tickets", CSV_THREE_CLASSES)):
        (tmp_path / project).mkdir()
        (tmp_path / project / "data.csv").write_text(text, encoding="utf-8")
        loaded[project] = runner_toys.write_config(
            tmp_path / project / "pipeline.yaml", name=project, data__source="csv", data__path="data.csv"
        )
    from ov_movement.runner.execute import run_pipeline

    assert run_pipeline(loaded["news"], registry, workdir, progress=False).executed == ALL
    assert run_pipeline(loaded["tickets"], registry, workdir, progress=False).executed == ALL
    # Same bytes under another directory: the same inputs, so the results are shared.
    (tmp_path / "copy").mkdir()
    shutil.copy(tmp_path / "news" / "data.csv", tmp_path / "copy" / "data.csv")
    copy = runner_toys.write_config(
        tmp_path / "copy" / "pipeline.yaml", name="news", data__source="csv", data__path="data.csv"
    )
    assert run_pipeline(copy, registry, workdir, progress=False).executed == []


# ---- the real registry: which stages read the files (fabricated entries, no ML) --------------------


def _fabricate(loaded, workdir: Path) -> None:
    """Commit a small entry for every stage's current fingerprint (the real registry's)."""
    workdir.mkdir(parents=True, exist_ok=True)  # as `run` does, before it plans
    plan = make_plan(loaded, STAGES, workdir)
    digests: dict[str, str] = {}
    for stage in plan.stages:
        output = plan.store.prepare(stage.name, stage.fingerprint.digest, resumable=False)
        (output / "out.txt").write_text(stage.name)
        manifest = plan.store.commit(
            stage.fingerprint,
            StageResult(),
            wall_time_s=0.0,
            upstream_outputs={up: digests[up] for up in STAGES[stage.name].upstream},
            pipeline=plan.pipeline,
        )
        digests[stage.name] = manifest["outputs_digest"]
        plan.lockfile.record(stage.name, manifest, f"cache/{stage.name}/{stage.fingerprint.digest}")
    plan.dependencies.save()  # as `run` does once the cache directory exists


def test_swapping_the_weights_of_a_local_model_directory_makes_training_stale(tmp_path):
    model = tmp_path / "my-model"
    model.mkdir()
    (model / "config.json").write_text('{"model_type": "bert"}')
    (model / "model.safetensors").write_bytes(b"weights, first version")
    config = tmp_path / "pipeline.yaml"
    config.write_text(yaml.safe_dump({"model": {"name_or_path": "my-model"}, "baseline": {"enabled": True}}))
    loaded, workdir = load_pipeline(config), tmp_path / "runs"
    _fabricate(loaded, workdir)
    assert {stage.state for stage in make_plan(loaded, STAGES, workdir).stages} == {CACHED}
    (model / "model.safetensors").write_bytes(b"weights, other version")
    plan = make_plan(loaded, STAGES, workdir)
    changed = "model.name_or_path: my-model content changed"
    for name in ("sparsify", "mask", "baseline"):  # the stages that read `model`
        assert plan[name].state == STALE and changed in plan[name].reasons, plan[name].reasons
    for name in ("export", "convert", "benchmark", "report"):  # through their upstream
        assert plan[name].state == STALE and changed not in plan[name].reasons


def test_a_file_added_to_a_model_directory_changes_it(tmp_path):
    model = tmp_path / "m"
    model.mkdir()
    (model / "config.json").write_text("{}")
    config = tmp_path / "p.json"
    config.write_text(json.dumps({"model": {"name_or_path": "m"}}))
    loaded, workdir = load_pipeline(config), tmp_path / "runs"
    _fabricate(loaded, workdir)
    (model / "sub").mkdir()
    (model / "sub" / "tokenizer.json").write_text("{}")
    assert make_plan(loaded, STAGES, workdir)["sparsify"].reasons == (
        "model.name_or_path: m content changed",
    )


def test_package_paths_are_hashed_once_per_release(tmp_path, monkeypatch):
    site = tmp_path / "site"
    (site / "ovm_fake_corpus" / "data" / "a").mkdir(parents=True)
    (site / "ovm_fake_corpus" / "__init__.py").write_text("")
    (site / "ovm_fake_corpus" / "data" / "a" / "1.txt").write_text("one")
    dist = site / "ovm_fake_corpus-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: ovm-fake-corpus\nVersion: 1.0\n")
    monkeypatch.syspath_prepend(str(site))
    config = tmp_path / "p.json"
    config.write_text(json.dumps({"data": {"path": "package:ovm_fake_corpus/data"}}))
    loaded, workdir = load_pipeline(config), tmp_path / "runs"
    _fabricate(loaded, workdir)
    reads: list[Path] = []
    real = store.hash_file
    monkeypatch.setattr(store, "hash_file", lambda path, **kw: reads.append(Path(path)) or real(path, **kw))
    (site / "ovm_fake_corpus" / "data" / "a" / "1.txt").write_text("edited in place")
    # An installed release does not change without a new version: nothing is read, nothing is stale ...
    assert make_plan(loaded, STAGES, workdir)["sparsify"].state == CACHED
    assert not [path for path in reads if site in path.parents]
    # ... unless --verify is asked for, which re-hashes the package's files too.
    plan = make_plan(loaded, STAGES, workdir, verify=True)
    assert plan["sparsify"].reasons == ("data.path: package:ovm_fake_corpus/data content changed",)
    assert [path for path in reads if site in path.parents]


def test_every_path_field_of_the_config_is_a_dependency():
    """A field whose name says it holds a path must be declared as one (a ConfigPath), so new path
    fields (a teacher model, calibration data) are hashed without touching the runner."""
    named = path_fields(
        PipelineConfig.model_validate(
            {
                "data": {"eval_path": "e.csv"},
                "model": {"tokenizer": "t"},
                "distillation": {"teacher": "teacher-model"},
            }
        )
    )
    assert {"model.name_or_path", "model.tokenizer", "data.path", "data.eval_path"} <= set(named)
    from_baseline = PipelineConfig.model_validate(
        {"distillation": {"teacher": "baseline"}, "baseline": {"enabled": True}}
    )
    assert "distillation.teacher" not in path_fields(from_baseline)  # a keyword, not a file
    not_inputs = {"workdir", "log_dir"}  # outputs, or NNCF keys that are ignored

    def walk(model_class, prefix=""):
        for name, field in model_class.model_fields.items():
            annotation = field.annotation
            nested = [
                arg for arg in (annotation, *getattr(annotation, "__args__", ())) if isinstance(arg, type)
            ]
            for arg in nested:
                if hasattr(arg, "model_fields"):
                    yield from walk(arg, f"{prefix}{name}.")
            yield f"{prefix}{name}", name

    for loc, name in walk(PipelineConfig):
        if (
            any(word in name for word in ("path", "dir", "file", "tokenizer", "teacher"))
            and name not in not_inputs
        ):
            assert loc in named, f"{loc} names a file: declare it as ConfigPath (ov_movement/config/paths.py)"


def test_status_stays_quiet_about_files_when_a_path_itself_changed(toy):
    _csv_toy(toy)
    toy.run()
    shutil.copy(toy.root / "data.csv", toy.root / "other.csv")
    _replace(toy.root / "other.csv", CSV_THREE_CLASSES)
    toy.load(data__source="csv", data__path="other.csv")
    assert toy.status()["sparsify"].reasons == ('data.path changed "data.csv" -> "other.csv"',)


def test_an_unreadable_data_file_does_not_break_status(toy):
    if os.geteuid() == 0:
        pytest.skip("root reads files whatever their permissions")
    _csv_toy(toy)
    (toy.root / "data.csv").chmod(0)
    try:
        assert toy.status()["sparsify"].state != CACHED
    finally:
        (toy.root / "data.csv").chmod(0o644)
