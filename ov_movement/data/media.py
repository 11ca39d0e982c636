"""Image and audio examples for `data.load_examples`: the sources that yield arrays, not text.

- `digits`: scikit-learn's handwritten digits (1,797 8x8 grey images, 10 classes), as uint8 0-255;
  the image processor upscales them to the model's image size.
- `synthetic_images`: 32x32 grey stripes, one orientation per class, random phase and noise.
- `image_folder`: `path/<class>/*.{png,jpg,jpeg,bmp,gif}` (PIL), kept as uint8 RGB.
- `synthetic_audio`: clips of `data.max_seq_length` samples, a sine per class (class k at
  0.5 * (k + 1) / (K + 1) cycles per sample, below Nyquist), random amplitude and phase, noise.
- `audio_folder`: `path/<class>/*.wav` (PCM, 8/16/24/32-bit, read with the standard library's
  `wave`), mixed down to mono as float32 in [-1, 1] and resampled (linear interpolation) to
  `data.sampling_rate`; the audio task then crops or pads each clip to `data.max_seq_length`.

Each returns rows like the text sources (`("", None, label)`) plus the arrays, in the same order.
All generated data is deterministic for a given `data.seed`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ov_movement.data.labels import label_name, warn_merged_spellings
from ov_movement.errors import StageError

if TYPE_CHECKING:
    from ov_movement.config.pipeline import DataConfig

ARRAY_SOURCES = ("image_folder", "audio_folder", "digits", "synthetic_images", "synthetic_audio")
FOLDER_SOURCES = ("image_folder", "audio_folder")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
AUDIO_SUFFIXES = (".wav",)
SYNTHETIC_IMAGE_SIZE = 32

Rows = list[tuple[str, None, Any]]


def _digits() -> tuple[Rows, list[str], list[np.ndarray]]:
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise StageError("data.source 'digits' needs scikit-learn (pip install scikit-learn)") from None
    digits = load_digits()
    images = np.rint(digits.images * (255.0 / 16.0)).astype(np.uint8)
    labels = [str(int(t)) for t in digits.target]
    return [("", None, label) for label in labels], [str(n) for n in digits.target_names], list(images)


def _synthetic_images(cfg: DataConfig) -> tuple[Rows, list[str], list[np.ndarray]]:
    rng = np.random.RandomState(cfg.seed)
    classes = cfg.synthetic_num_labels
    size = SYNTHETIC_IMAGE_SIZE
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    rows, arrays = [], []
    for index in range(cfg.synthetic_samples):
        label = index % classes
        angle = np.pi * label / classes
        phase = rng.uniform(0, 2 * np.pi)
        wave = np.sin(2 * np.pi * 4 * (x * np.cos(angle) + y * np.sin(angle)) + phase)
        image = 0.5 + 0.35 * wave + rng.normal(0, 0.15, size=(size, size))
        arrays.append(np.clip(image * 255, 0, 255).astype(np.uint8))
        rows.append(("", None, f"class_{label}"))
    return rows, [f"class_{i}" for i in range(classes)], arrays


def _synthetic_audio(cfg: DataConfig) -> tuple[Rows, list[str], list[np.ndarray]]:
    rng = np.random.RandomState(cfg.seed)
    classes = cfg.synthetic_num_labels
    t = np.arange(cfg.max_seq_length, dtype=np.float32)
    rows, arrays = [], []
    for index in range(cfg.synthetic_samples):
        label = index % classes
        frequency = 0.5 * (label + 1) / (classes + 1)  # cycles per sample
        clip = rng.uniform(0.5, 1.0) * np.sin(2 * np.pi * frequency * t + rng.uniform(0, 2 * np.pi))
        clip = clip + rng.normal(0, 0.3, size=t.shape)
        arrays.append(clip.astype(np.float32))
        rows.append(("", None, f"class_{label}"))
    return rows, [f"class_{i}" for i in range(classes)], arrays


def _read_image(file: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(file) as image:
            return np.asarray(image.convert("RGB"), dtype=np.uint8)
    except (OSError, UnidentifiedImageError) as error:
        raise ValueError(str(error)) from error


def read_wav(file: Path, rate: int) -> np.ndarray:
    """A PCM WAV file as mono float32 in [-1, 1] at `rate` Hz."""
    import wave

    try:
        with wave.open(str(file), "rb") as wav:
            channels, width, source_rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
            raw = wav.readframes(wav.getnframes())
    except (OSError, EOFError, wave.Error) as error:  # wave.Error: not RIFF/WAVE, or not PCM
        detail = str(error) or "truncated or not a WAV file"  # EOFError carries no message
        raise ValueError(f"{detail} (audio_folder reads PCM .wav files)") from error
    if width == 1:  # 8-bit WAV is unsigned
        samples = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width in (2, 3, 4):
        if width == 3:  # 24-bit little-endian: widen to 32 bits, the low byte zero
            packed = np.frombuffer(raw, np.uint8).reshape(-1, 3)
            raw = np.pad(packed, ((0, 0), (1, 0))).tobytes()
            width = 4
        dtype = "<i2" if width == 2 else "<i4"
        samples = np.frombuffer(raw, dtype).astype(np.float32) / float(2 ** (8 * width - 1))
    else:
        raise ValueError(f"{8 * width}-bit samples are not supported")
    if not len(samples):
        raise ValueError("no samples")
    samples = samples[: len(samples) // channels * channels].reshape(-1, channels).mean(axis=1)
    if source_rate != rate:  # linear interpolation: enough for classification features
        duration = len(samples) / source_rate
        target = np.arange(max(1, round(duration * rate))) / rate
        samples = np.interp(target, np.arange(len(samples)) / source_rate, samples)
    return samples.astype(np.float32)


def _dangling(entry: Path, where: str) -> StageError:
    return StageError(
        f"{where}: {entry} is a symbolic link to {os.readlink(entry)!r}, which does not exist "
        "(remove the link or restore its target)"
    )


def class_folder_files(
    root: Path, where: str, source: str, suffixes: tuple[str, ...]
) -> tuple[list[str], list[tuple[str, list[Path]]]]:
    """`root/<class>/<file>`: the class names (label names, see data.label_name) and each class's
    files with one of `suffixes` (any case), sorted. Hidden entries and other files are skipped;
    a dangling symbolic link, a class without files or fewer than 2 classes are errors."""
    if not root.is_dir():
        raise StageError(f"{where}: {root} is not a directory ({source} needs one sub-directory per class)")
    try:
        entries = sorted(e for e in root.iterdir() if not e.name.startswith("."))
    except OSError as error:
        raise StageError(f"{where}: cannot read {root}: {error.strerror or error}") from error
    by_class: dict[str, list[Path]] = {}
    spellings = []
    for entry in entries:
        if entry.is_symlink() and not entry.exists():
            raise _dangling(entry, where)
        if not entry.is_dir():
            continue
        name = label_name(entry.name, f"{where}: class directory {entry}")
        spellings.append((entry.name, name))
        by_class.setdefault(name, []).extend(_class_files(entry, where, suffixes))
    warn_merged_spellings(spellings, where)
    if len(by_class) < 2:
        raise StageError(f"{where}: {root} has {len(by_class)} class sub-directories; need at least 2")
    for name, files in by_class.items():
        if not files:
            raise StageError(f"{where}: class directory {root / name} holds no {'/'.join(suffixes)} files")
    classes = sorted(by_class)
    return classes, [(name, sorted(by_class[name])) for name in classes]


def _class_files(directory: Path, where: str, suffixes: tuple[str, ...]) -> list[Path]:
    try:
        entries = sorted(e for e in directory.iterdir() if not e.name.startswith("."))
    except OSError as error:
        raise StageError(f"{where}: cannot read {directory}: {error.strerror or error}") from error
    files = []
    for entry in entries:
        if entry.suffix.lower() not in suffixes:
            continue
        if entry.is_symlink() and not entry.exists():
            raise _dangling(entry, where)
        if entry.is_file():
            files.append(entry)
    return files


def _class_folder(
    root: Path, where: str, source: str, suffixes: tuple[str, ...], read: Any
) -> tuple[Rows, list[str], list[np.ndarray]]:
    """`root/<class>/<file>` -> rows labelled by directory name, and each file read by `read`."""
    classes, files_by_class = class_folder_files(root, where, source, suffixes)
    rows: Rows = []
    arrays: list[np.ndarray] = []
    for name, files in files_by_class:
        for file in files:
            try:
                arrays.append(read(file))
            except ValueError as error:
                kind = "image" if source == "image_folder" else "audio file"
                raise StageError(f"{where}: cannot read {kind} {file}: {error}") from error
            rows.append(("", None, name))
    return rows, classes, arrays


def read_array_source(
    cfg: DataConfig, path: Path | None, where: str = "data.path"
) -> tuple[Rows, list[str], list[np.ndarray]]:
    """Rows ("", None, label), label names and the arrays of an image/audio source."""
    if cfg.source == "digits":
        return _digits()
    if cfg.source == "synthetic_images":
        return _synthetic_images(cfg)
    if cfg.source == "synthetic_audio":
        return _synthetic_audio(cfg)
    if cfg.source in FOLDER_SOURCES:
        if path is None:
            raise StageError(f"{where}: {cfg.source} needs a directory")
        if cfg.source == "image_folder":
            return _class_folder(path, where, cfg.source, IMAGE_SUFFIXES, _read_image)
        return _class_folder(
            path, where, cfg.source, AUDIO_SUFFIXES, lambda file: read_wav(file, cfg.sampling_rate)
        )
    raise AssertionError(cfg.source)


__all__ = [
    "ARRAY_SOURCES",
    "AUDIO_SUFFIXES",
    "FOLDER_SOURCES",
    "IMAGE_SUFFIXES",
    "class_folder_files",
    "read_array_source",
    "read_wav",
]
