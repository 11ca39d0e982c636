"""Reruns, reuse and verification with small real stages (tests/runner/runner_toys.py)."""

from __future__ import annotations

import json
import os

import pytest

from ov_movement.errors import ConfigError, StageError
from ov_movement.runner import store as store_module
from ov_movement.runner.plan import CACHED, DAMAGED, MISSING, STALE
from tests.runner import runner_toys

ALL = ["sparsify", "mask", "export", "convert", "benchmark", "report"]


def test_first_run_executes_all_second_run_nothing(toy, capsys):
    assert toy.run().executed == ALL
    capsys.readouterr()
    runner_toys.CALLS.clear()
    summary = toy.run()
    assert summary.executed == [] and runner_toys.CALLS == []
    out = capsys.readouterr().out
    assert "mask       cached (" in out and "running" not in out
    assert "outputs: wd/toy/<stage>" in out
    for stage in ALL:
        assert len(toy.entries(stage)) == 1


def test_entry_layout_manifest_lock_and_views(toy):
    toy.run()
    manifest = toy.manifest("mask")
    assert list(manifest)[:3] == ["format", "stage", "fingerprint"]
    assert manifest["upstream"] == {"sparsify": toy.lock()["stages"]["sparsify"]["fingerprint"]}
    assert manifest["inputs"]["training"]["epochs"] == 5
    assert manifest["metrics"] == {"accuracy": 0.9}
    (output,) = manifest["outputs"]
    assert output["path"] == "checkpoint/model.txt" and output["size"] == 16 and len(output["sha256"]) == 64
    view = toy.workdir / "toy" / "mask"
    assert view.is_symlink() and not os.path.isabs(os.readlink(view))
    assert view.resolve() == toy.entries("mask")[0]
    lock = toy.lock()
    assert list(lock) == ["format", "pipeline", "config", "updated", "stages"]
    assert list(lock["stages"]) == ALL
    assert list(lock["stages"]["mask"])[:2] == ["fingerprint", "entry"]
    assert lock["stages"]["mask"]["outputs"] == manifest["outputs"]
    assert not list(toy.workdir.glob("cache/*/*.partial"))


def test_benchmark_setting_reruns_only_benchmark_and_report(toy):
    toy.run()
    before = {stage: toy.manifest(stage)["fingerprint"] for stage in ALL}
    toy.load(benchmark__time_s=2.0)
    assert toy.run().executed == ["benchmark", "report"]
    after = {stage: toy.manifest(stage)["fingerprint"] for stage in ALL}
    assert [s for s in ALL if before[s] != after[s]] == ["benchmark", "report"]
    assert json.loads((toy.workdir / "toy" / "benchmark" / "summary.json").read_text())["time_s"] == 2.0


def test_epochs_rerun_from_mask_not_sparsify(toy):
    toy.run()
    sparsify_created = toy.manifest("sparsify")["created"]
    toy.load(training__epochs=6)
    assert toy.run().executed == ALL[1:]
    assert toy.manifest("sparsify")["created"] == sparsify_created
    assert len(toy.entries("sparsify")) == 1 and len(toy.entries("mask")) == 2


def test_regularization_reruns_everything(toy):
    toy.run()
    toy.load(compression__params__importance_regularization_factor=0.05)
    assert toy.run().executed == ALL
    assert all(len(toy.entries(stage)) == 2 for stage in ALL)


def test_descriptive_fields_invalidate_only_the_report_that_shows_them(toy):
    toy.run()
    toy.load(name="toy", description="a new description")
    assert toy.run().executed == ["report"]  # shown under the title; nothing upstream reruns
    assert toy.run().executed == []


def test_switching_back_reuses_earlier_entries(toy):
    toy.run()
    first = toy.lock()["stages"]
    toy.load(training__epochs=6)
    toy.run()
    toy.load(training__epochs=5)
    plan = toy.status()
    assert plan["mask"].state == CACHED and "training.epochs changed 6 -> 5" in plan["mask"].reasons[0]
    runner_toys.CALLS.clear()
    assert toy.run().executed == [] and runner_toys.CALLS == []
    assert {s: r["fingerprint"] for s, r in toy.lock()["stages"].items()} == {
        s: r["fingerprint"] for s, r in first.items()
    }


def test_status_names_changed_keys(toy):
    toy.run()
    toy.load(training__epochs=6, benchmark__time_s=3.0)
    plan = toy.status()
    assert [(s.name, s.state) for s in plan.stages] == [
        ("sparsify", CACHED),
        ("mask", STALE),
        ("export", STALE),
        ("convert", STALE),
        ("benchmark", STALE),
        ("report", STALE),
    ]
    assert plan["mask"].reasons == ("training.epochs changed 5 -> 6",)
    assert plan["export"].reasons == ("upstream mask changed",)
    assert plan["benchmark"].reasons == ("benchmark.time_s changed 1.0 -> 3.0", "upstream convert changed")


def test_status_versions_and_never_run(toy, monkeypatch):
    plan = toy.status()
    assert all(s.state == MISSING and s.reasons == ("never run",) for s in plan.stages)
    toy.run()
    from ov_movement.runner import fingerprint

    upgraded = {**fingerprint.package_versions(), "torch": "99.0"}
    monkeypatch.setattr(fingerprint, "package_versions", lambda: upgraded)
    plan = toy.status()
    assert "versions: torch " in plan["sparsify"].reasons[0] and plan["sparsify"].reasons[0].endswith(
        "-> 99.0"
    )


def test_tampered_byte_detected_moved_aside_and_rerun(toy, capsys):
    toy.run()
    target = toy.workdir / "toy" / "mask" / "checkpoint" / "model.txt"
    data = bytearray(target.read_bytes())
    data[0] ^= 1
    target.write_bytes(bytes(data))  # same size
    plan = toy.status()
    assert plan["mask"].state == DAMAGED
    assert plan["mask"].reasons == ("cached entry damaged: mask/checkpoint/model.txt hash mismatch",)
    runner_toys.CALLS.clear()
    capsys.readouterr()
    # The toy mask is deterministic, so downstream entries built from its bytes remain valid.
    assert toy.run().executed == ["mask"]
    assert "moved aside to" in capsys.readouterr().out
    (aside,) = (toy.workdir / "cache" / "mask").glob("*.damaged-*")
    assert (aside / "checkpoint" / "model.txt").read_bytes() == bytes(data)
    assert toy.status()["mask"].state == CACHED and target.read_bytes() != bytes(data)


def test_missing_output_file_is_not_a_hit(toy):
    toy.run()
    (toy.workdir / "toy" / "convert" / "dense.txt").unlink()
    assert toy.status()["convert"].reasons == ("cached entry damaged: convert/dense.txt missing",)
    assert toy.run().executed == ["convert"]


def test_rerun_upstream_with_new_bytes_invalidates_downstream(toy, monkeypatch):
    toy.run()
    # A non-deterministic stage (real training) rerun with --force may produce other bytes.
    original = runner_toys.export

    def noisy_export(ctx):
        result = original(ctx)
        (ctx.output_dir / "model.onnx.txt").write_text("different bytes")
        return result

    toy.registry["export"] = runner_toys.dataclasses.replace(toy.registry["export"], run=noisy_export)
    assert toy.run(only="export", force=True).executed == ["export"]
    plan = toy.status()
    assert plan["convert"].state == STALE
    assert plan["convert"].reasons == ("upstream export outputs changed since this entry was built",)
    assert toy.run().executed == ["convert", "benchmark", "report"]


def test_force_with_from_reruns_downstream_only_if_bytes_change(toy):
    toy.run()
    assert toy.run(from_="convert", force=True).executed == ["convert", "benchmark", "report"]
    # same bytes from the deterministic toy stages: nothing else became stale
    assert toy.run().executed == []


def test_fast_verification_skips_unchanged_files_and_catches_replaced_ones(toy, monkeypatch):
    monkeypatch.setattr(store_module, "RACY_NS", 0)  # trust even brand-new timestamps
    toy.run()
    calls = []
    real_hash = store_module.hash_file
    monkeypatch.setattr(
        store_module, "hash_file", lambda path, **kw: calls.append(path) or real_hash(path, **kw)
    )
    assert toy.run().executed == [] and calls == []
    assert toy.run(verify=True).executed == []
    outputs = [
        path for path in calls if toy.workdir in path.parents
    ]  # (the config's files are re-hashed too)
    assert len(outputs) == 10  # every output file, re-hashed
    # Same size, same mtime, new inode (editors save by replace): still caught.
    target = toy.workdir / "toy" / "benchmark" / "summary.json"
    stat = target.stat()
    tampered = target.read_bytes().replace(b"1.0", b"2.0")
    tmp = target.with_name("tmp")
    tmp.write_bytes(tampered)
    os.utime(tmp, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    os.replace(tmp, target.resolve())
    assert toy.status()["benchmark"].state == DAMAGED


def test_racily_fresh_files_are_always_rehashed(toy, monkeypatch):
    toy.run()  # default margin: files written a moment ago are never trusted by stat
    assert not list(toy.workdir.glob("cache/*/*/.verified.json"))
    target = toy.workdir / "toy" / "export" / "model.onnx.txt"
    stat = target.stat()
    target.write_text(target.read_text()[::-1])
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert toy.status()["export"].state == DAMAGED


def test_only_with_missing_upstream_is_an_error(toy):
    with pytest.raises(StageError) as error:
        toy.run(only="export")
    message = str(error.value)
    assert "mask (missing: never run)" in message and "sparsify (missing: never run)" in message
    assert "--until mask" in message
    assert runner_toys.CALLS == [] and not (toy.workdir / "cache").exists()


def test_only_with_stale_upstream_is_an_error_not_a_silent_rerun(toy):
    toy.run()
    toy.load(training__epochs=7)
    with pytest.raises(StageError, match=r"mask \(stale: training.epochs changed 5 -> 7\)"):
        toy.run(only="convert")
    with pytest.raises(StageError, match="--until mask"):
        toy.run(from_="export")
    assert toy.run(until="mask").executed == ["mask"]
    assert toy.run(only="export").executed == ["export"]
    assert toy.run(only=["convert", "benchmark"]).executed == ["convert", "benchmark"]
    assert toy.status()["report"].state == STALE


def test_from_until_force_selections(toy):
    assert toy.run(until="mask").executed == ["sparsify", "mask"]
    assert "export" not in toy.lock()["stages"]
    assert toy.run(from_="export", until="convert").executed == ["export", "convert"]
    assert toy.run(from_="benchmark").executed == ["benchmark", "report"]
    assert toy.run(only="mask", force=True).executed == ["mask"]
    assert toy.run(force=True).executed == ALL
    assert all(len(toy.entries(stage)) == 1 for stage in ALL)  # --force replaces, never piles up


def test_dry_run_runs_nothing(toy, capsys):
    toy.run(until="mask")
    capsys.readouterr()
    runner_toys.CALLS.clear()
    summary = toy.run(dry_run=True, from_="export")
    assert runner_toys.CALLS == [] and summary.executed == []
    out = capsys.readouterr().out
    assert "sparsify   cached (" in out and "mask       cached (" in out
    assert out.count("input, not selected\n") == 2  # every upstream entry is handed to the stages
    assert "export     would run" in out and "missing: never run" in out
    assert not (toy.workdir / "toy" / "ov-movement.lock").read_text().count('"export"')
    toy.load(training__epochs=9)
    with pytest.raises(StageError, match="--until mask"):  # the plan itself is checked, too
        toy.run(dry_run=True, only="export")


def test_unknown_stage_names_list_valid_ones(toy):
    for options in ({"only": "maks"}, {"from_": "nope"}, {"until": "x"}):
        with pytest.raises(ConfigError) as error:
            toy.run(**options)
        assert "valid stages: sparsify, mask, export, convert, benchmark, report" in str(error.value)
    with pytest.raises(ConfigError, match="--only cannot be combined"):
        toy.run(only="mask", from_="sparsify")
    with pytest.raises(ConfigError, match="selects no stage"):
        toy.run(from_="report", until="mask")


def test_pipeline_named_cache_is_refused(toy):
    toy.load(name="cache")
    with pytest.raises(ConfigError, match="pipeline name 'cache'"):
        toy.run()
