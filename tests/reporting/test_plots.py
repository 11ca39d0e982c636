import numpy as np
import pytest
from PIL import Image

from ov_movement.reporting.plots import (
    LIFECYCLE_SIZE,
    STRUCTURE_SIZE,
    plot_kept_structure,
    plot_sparsity_lifecycle,
    short_labels,
)
from ov_movement.reporting.sources import (
    BlockRow,
    TrainingHistory,
    read_jsonl,
    sparsity_table,
    training_history,
)
from tests.reporting.fixtures import write_upstream


def assert_real_plot(path, size):
    """A PNG of the promised pixel size with content: not one flat colour."""
    assert path.stat().st_size > 5_000
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size == size
        pixels = np.asarray(image.convert("L"), dtype=float)
    assert pixels.std() > 5  # blank or single-colour images have ~0
    return pixels


@pytest.fixture()
def upstream(tmp_path):
    return write_upstream(tmp_path / "up")


def test_lifecycle_plot(upstream, tmp_path):
    logs = [read_jsonl(upstream[s] / "train_log.jsonl") for s in ("sparsify", "mask")]
    path = plot_sparsity_lifecycle(training_history(logs, (1, 3)), tmp_path / "lifecycle.png")
    assert_real_plot(path, LIFECYCLE_SIZE)


def test_lifecycle_warmup_window_is_shaded(upstream, tmp_path):
    # The same log with and without the warm-up window must differ in the shaded area's colour.
    logs = [read_jsonl(upstream[s] / "train_log.jsonl") for s in ("sparsify", "mask")]
    with_window = assert_real_plot(
        plot_sparsity_lifecycle(training_history(logs, (1, 3)), tmp_path / "a.png"), LIFECYCLE_SIZE
    )
    without = assert_real_plot(
        plot_sparsity_lifecycle(training_history(logs), tmp_path / "b.png"), LIFECYCLE_SIZE
    )
    assert np.abs(with_window - without).mean() > 1


def test_kept_structure_plot(upstream, tmp_path):
    _, blocks = sparsity_table(
        __import__("json").loads((upstream["mask"] / "sparsity_table.json").read_text())
    )
    assert_real_plot(plot_kept_structure(blocks, tmp_path / "kept.png"), STRUCTURE_SIZE)


def test_plots_without_data_still_render(tmp_path):
    assert_real_plot(plot_sparsity_lifecycle(TrainingHistory(), tmp_path / "a.png"), LIFECYCLE_SIZE)
    assert_real_plot(plot_kept_structure([], tmp_path / "b.png"), STRUCTURE_SIZE)
    partial = [BlockRow("0", None, None, 5, 8)]
    assert_real_plot(plot_kept_structure(partial, tmp_path / "c.png"), STRUCTURE_SIZE)


def test_short_labels_drop_the_common_prefix():
    assert short_labels(["bert.encoder.layer.0", "bert.encoder.layer.11"]) == ["0", "11"]
    assert short_labels(["swin.layers.0.blocks.0", "swin.layers.1.blocks.0"]) == ["0.blocks.0", "1.blocks.0"]
    assert short_labels(["bert.encoder.layer.0"]) == ["0"]
