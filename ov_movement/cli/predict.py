"""`ov-movement predict FILE INPUT...`: run a pipeline's bundle (the package stage's output) on raw inputs.

Everything comes from the bundle: the IR, the tokenizer or pre-processor, the label names. Startup
stays short: no torch, no transformers (`tokenizers` and `openvino` only, imported once the inputs
are read), and OpenVINO's compiled-model cache (`deploy.predictor.user_cache_dir`) spares the calls
after the first most of compiling.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ov_movement.errors import StageError

EPILOG = """examples:
  ov-movement predict pipelines/bert.json "The central bank raised interest rates again"
  ov-movement predict runs/bert/package "first text" "second text" --json
  ov-movement predict pipelines/bert.json --input texts.jsonl      (one {"text": ...} per line)
  ov-movement predict pipelines/tiny-vit.yaml --input images/      (a folder or a file of images / .wav clips)
  ov-movement predict pipelines/tiny-qa.yaml --question "Who?" --context "Ada wrote it."
FILE is a pipeline file (its bundle is <workdir>/<pipeline>/package/ once `ov-movement run` has written
it) or a bundle directory."""

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
AUDIO_SUFFIXES = (".wav",)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "predict",
        help="label raw inputs with a pipeline's deployable bundle",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", type=Path, help="pipeline file (JSON or YAML) or bundle directory")
    parser.add_argument("inputs", nargs="*", help="texts (text models) or image / .wav files")
    parser.add_argument(
        "--input", type=Path, default=None, help="a .jsonl file, a folder, or one image / .wav file"
    )
    parser.add_argument("--question", default=None, help="question answering: the question")
    parser.add_argument("--context", default=None, help="question answering: the text to find the answer in")
    parser.add_argument("--json", action="store_true", help="one JSON object per input, per line")
    parser.add_argument("--workdir", type=Path, default=None, help="override the config's `workdir`")
    parser.set_defaults(func=main)


def bundle_dir(file: Path, workdir: Path | None) -> Path:
    """The bundle FILE names: the directory itself, or the package view of the pipeline file."""
    from ov_movement.deploy.predictor import BUNDLE_FILE

    if file.is_dir():
        for candidate in (file, file / "package"):
            if (candidate / BUNDLE_FILE).is_file():
                return candidate
        raise StageError(f"{file}: no bundle here (no {BUNDLE_FILE}); the package stage writes one")
    from ov_movement.cli.report import view_dir
    from ov_movement.config.load import load_pipeline

    loaded = load_pipeline(file)
    root = view_dir(loaded, workdir) / "package"
    if not (root / BUNDLE_FILE).is_file():
        raise StageError(
            f"no bundle of pipeline {loaded.name!r} at {root}; run `ov-movement run {file}` first "
            "(the package stage writes it; package.enabled must be true)"
        )
    return root


def _read_jsonl(file: Path, keys: tuple[str, ...]) -> list[dict[str, Any]]:
    records = []
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise StageError(f"--input {file}: cannot read it ({error})") from error
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as error:
            raise StageError(f"--input {file}:{number}: not JSON ({error})") from None
        if not isinstance(record, dict) or not all(isinstance(record.get(k), str) for k in keys):
            raise StageError(f"--input {file}:{number}: needs string field(s) {', '.join(keys)}")
        records.append(record)
    if not records:
        raise StageError(f"--input {file}: no records")
    return records


def _files(path: Path, suffixes: tuple[str, ...]) -> list[Path]:
    if path.is_file():
        return [path]
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)
    if not files:
        raise StageError(f"--input {path}: no {'/'.join(suffixes)} files")
    return files


def _text_inputs(args: argparse.Namespace, qa: bool) -> list[dict[str, Any]]:
    if qa:
        if args.input is not None:
            return _read_jsonl(args.input, ("question", "context"))
        if args.question is None or args.context is None:
            raise StageError("question answering needs --question and --context (or --input records.jsonl)")
        return [{"question": args.question, "context": args.context}]
    records = [{"text": text} for text in args.inputs]
    if args.input is not None:
        if args.input.is_dir():
            records += [
                {"text": f.read_text(encoding="utf-8"), "source": str(f)}
                for f in _files(args.input, (".txt",))
            ]
        else:
            records += _read_jsonl(args.input, ("text",))
    if not records:
        raise StageError("nothing to predict: give texts, or --input a .jsonl file or a folder of .txt files")
    return records


def _media_inputs(args: argparse.Namespace, task: str) -> list[Path]:
    suffixes = IMAGE_SUFFIXES if task == "image-classification" else AUDIO_SUFFIXES
    paths = [Path(p) for p in args.inputs] + ([args.input] if args.input is not None else [])
    if not paths:
        raise StageError(f"nothing to predict: give {'/'.join(suffixes)} files or --input a folder of them")
    files = []
    for path in paths:
        if not path.exists():
            raise StageError(f"{path}: no such file or folder")
        files += _files(path, suffixes)
    return files


def predict(root: Path, args: argparse.Namespace) -> list[dict[str, Any]]:
    """One result per input: what it was (text or file) and the bundle's prediction."""
    from ov_movement.deploy.predictor import Predictor, read_bundle_info, user_cache_dir

    cache = user_cache_dir()
    info = read_bundle_info(root)
    task = info["task"]
    if task in ("image-classification", "audio-classification"):
        from ov_movement.data.media import _read_image, read_wav

        rate = int(info.get("audio", {}).get("sampling_rate", 16000))
        files = _media_inputs(args, task)
        arrays = []
        for file in files:  # all read before the model is loaded: a bad file fails fast
            try:
                arrays.append(_read_image(file) if task == "image-classification" else read_wav(file, rate))
            except ValueError as error:
                raise StageError(f"{file}: {error}") from None
        predictor = Predictor(root, cache_dir=cache)
        run = predictor.predict_images if task == "image-classification" else predictor.predict_audio
        return [{"input": str(f), **p.to_json()} for f, p in zip(files, run(arrays), strict=True)]
    records = _text_inputs(args, task == "question-answering")
    predictor = Predictor(root, cache_dir=cache)
    if task == "question-answering":
        predictions = predictor.answer([r["question"] for r in records], [r["context"] for r in records])
        return [{"input": r["question"], **p.to_json()} for r, p in zip(records, predictions, strict=True)]
    pairs = [r.get("text_pair") for r in records] if predictor.info.get("text_pairs") else None
    predictions = predictor.predict_texts([r["text"] for r in records], pairs)
    return [
        {"input": r.get("source", r["text"]), **p.to_json()}
        for r, p in zip(records, predictions, strict=True)
    ]


def _short(text: str, width: int = 70) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def main(args: argparse.Namespace) -> int:
    results = predict(bundle_dir(args.file, args.workdir), args)
    for result in results:
        if args.json:
            print(json.dumps(result, ensure_ascii=False))
        else:
            shown = repr(result["label"]) if "answer" in result else result["label"]
            print(f"{shown}\t{result['score']:.4f}\t{_short(result['input'])}")
    sys.stdout.flush()
    return 0


__all__ = ["bundle_dir", "predict", "register"]
