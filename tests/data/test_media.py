"""Image and audio data (ov_movement.data.media): the digits / synthetic_images / image_folder /
audio_folder / synthetic_audio sources, and the arrays the tasks' pre-processors make of them
(`pixel_values` / `input_values`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ov_movement.config.pipeline import DataConfig
from ov_movement.data import load_examples
from ov_movement.errors import StageError
from ov_movement.model_inputs import load_eval_arrays
from tests.tiny import audio_config, image_config


def test_digits_are_ten_classes_of_8x8_images_upscaled_to_the_model():
    raw = load_examples(DataConfig(source="digits", path=None, max_eval_samples=6), Path("."))
    assert raw.label_names == [str(i) for i in range(10)]
    first = raw.train[0].array
    assert first.shape == (8, 8) and first.dtype == np.uint8 and first.max() > 200
    arrays, labels = load_eval_arrays(image_config({"source": "digits", "max_eval_samples": 6}), Path("."))
    assert arrays["pixel_values"].shape == (6, 3, 16, 16) and arrays["pixel_values"].dtype == np.float32
    assert -1.0 <= arrays["pixel_values"].min() and arrays["pixel_values"].max() <= 1.0  # mean/std 0.5
    assert labels.shape == (6,)


def test_synthetic_images_are_deterministic_and_balanced():
    cfg = DataConfig(
        source="synthetic_images", path=None, synthetic_samples=30, synthetic_num_labels=3, seed=3
    )
    first, second = load_examples(cfg, Path(".")), load_examples(cfg, Path("."))
    assert first.label_names == ["class_0", "class_1", "class_2"]
    assert all(np.array_equal(a.array, b.array) for a, b in zip(first.train, second.train, strict=True))
    labels = [e.label for e in first.train + first.eval]
    assert sorted(set(labels)) == [0, 1, 2] and labels.count(0) == 10


def test_synthetic_audio_clips_are_normalised_to_max_seq_length():
    config = audio_config({"source": "synthetic_audio", "synthetic_samples": 20, "max_seq_length": 500})
    arrays, labels = load_eval_arrays(config, Path("."))
    values = arrays["input_values"]
    assert values.shape == (len(labels), 500) and values.dtype == np.float32
    np.testing.assert_allclose(values.mean(axis=1), 0, atol=1e-4)
    np.testing.assert_allclose(values.std(axis=1), 1, atol=1e-3)


def test_image_folder_reads_one_directory_per_class(tmp_path):
    from PIL import Image

    for name, value in (("cat", 30), ("dog", 220)):
        (tmp_path / name).mkdir()
        for i in range(3):
            Image.new("RGB", (20, 12), (value, value, i)).save(tmp_path / name / f"{i}.png")
    (tmp_path / "dog" / "notes.txt").write_text("ignored")
    config = image_config({"source": "image_folder", "path": str(tmp_path), "eval_fraction": 0.34})
    raw = load_examples(config.data, tmp_path)
    assert raw.label_names == ["cat", "dog"] and len(raw.train) + len(raw.eval) == 6
    assert raw.train[0].array.shape == (12, 20, 3)
    arrays, labels = load_eval_arrays(config, tmp_path)
    assert arrays["pixel_values"].shape == (len(labels), 3, 16, 16)

    (tmp_path / "dog" / "3.png").write_bytes(b"not a png")
    with pytest.raises(StageError, match="cannot read image .*3.png"):
        load_examples(config.data, tmp_path)


def _write_wav(path: Path, samples: np.ndarray, rate: int, width: int = 2, channels: int = 1) -> None:
    import wave

    scale = 2 ** (8 * width - 1) - 1
    ints = np.repeat(np.round(samples * scale).astype("<i4"), channels)
    if width == 2:
        frames = ints.astype("<i2").tobytes()
    elif width == 3:
        frames = ints.astype("<i4").view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    else:
        frames = ints.tobytes()
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width)
        wav.setframerate(rate)
        wav.writeframes(frames)


@pytest.mark.parametrize("width", [2, 3, 4])
def test_wav_files_read_as_mono_float_at_the_configured_rate(tmp_path, width):
    from ov_movement.data.media import read_wav

    t = np.arange(8000) / 8000
    tone = 0.5 * np.sin(2 * np.pi * 440 * t)
    _write_wav(tmp_path / "a.wav", tone, 8000, width=width, channels=2)
    at_source = read_wav(tmp_path / "a.wav", 8000)
    np.testing.assert_allclose(at_source, tone, atol=1e-4)  # stereo of equal channels -> the same mono
    upsampled = read_wav(tmp_path / "a.wav", 16000)
    assert upsampled.dtype == np.float32 and len(upsampled) == 16000
    np.testing.assert_allclose(upsampled[::2], tone, atol=1e-4)  # every other sample is an original one


def test_audio_folder_reads_one_directory_per_class(tmp_path):
    rate = 16000
    for name, frequency in (("low", 200), ("high", 2000)):
        (tmp_path / name).mkdir()
        for i in range(3):
            t = np.arange(rate // 4 + 100 * i) / rate
            _write_wav(tmp_path / name / f"{i}.wav", 0.3 * np.sin(2 * np.pi * frequency * t), rate)
    (tmp_path / "low" / "readme.txt").write_text("ignored")
    config = audio_config(
        {"source": "audio_folder", "path": str(tmp_path), "max_seq_length": 2000, "eval_fraction": 0.34}
    )
    raw = load_examples(config.data, tmp_path)
    assert raw.label_names == ["high", "low"] and len(raw.train) + len(raw.eval) == 6
    arrays, labels = load_eval_arrays(config, tmp_path)
    assert arrays["input_values"].shape == (len(labels), 2000)

    (tmp_path / "high" / "3.wav").write_bytes(b"RIFF....not a wave file")
    with pytest.raises(StageError, match="cannot read audio file .*3.wav"):
        load_examples(config.data, tmp_path)
