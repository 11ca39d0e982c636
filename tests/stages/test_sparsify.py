"""sparsify: warm-up training on the tiny BERT; log, checkpoint, determinism, resume, early errors."""

from __future__ import annotations

import json

import pytest
import torch

from ov_movement.errors import ConfigError, StageError
from tests.stages.in_process import assert_same_masks, read_log, run_stage
from tests.tiny import tiny_config, tiny_pipeline_dict


def test_log_shows_sparsity_rising_through_warmup(trained):
    records = [
        r for r in read_log(trained.sparsify_dir / "train_log.jsonl", timings=True) if "event" not in r
    ]
    spe = 4
    assert [r["step"] for r in records] == list(range(3 * spe))  # 0-based, NNCF's current_step
    assert all(r["epoch"] == r["step"] // spe for r in records)
    expected = {
        "stage",
        "epoch",
        "step",
        "loss",
        "task_loss",
        "importance_regularization_factor",
        "importance_threshold",
        "linear_sparsity",
        "model_sparsity",
        "lr",
        "seconds",
    }
    assert expected <= records[0].keys()
    by_epoch = {e: [r for r in records if r["epoch"] == e] for e in range(3)}
    # Before warm-up (epoch 0): nothing masked, no regularization, no threshold.
    assert all(r["linear_sparsity"] == 0 and r["importance_regularization_factor"] == 0 for r in by_epoch[0])
    assert all(r["importance_threshold"] is None for r in by_epoch[0])
    # Warm-up epochs 1..2: sparsity > 0 and rising epoch over epoch, factor and threshold rising.
    ends = [by_epoch[e][-1]["linear_sparsity"] for e in range(3)]
    assert 0 < ends[1] < ends[2]
    factors = [r["importance_regularization_factor"] for r in by_epoch[1] + by_epoch[2]]
    assert factors == sorted(factors) and factors[-1] > 0
    assert trained.sparsify.metrics["linear_sparsity"] == pytest.approx(ends[2])
    assert 0 < records[-1]["model_sparsity"] < records[-1]["linear_sparsity"]


def test_eval_and_metrics(trained):
    evals = json.loads((trained.sparsify_dir / "eval.json").read_text())
    assert [e["epoch"] for e in evals] == [0, 1, 2]
    assert {"accuracy", "f1", "loss", "linear_sparsity"} <= evals[-1].keys()  # binary task: F1 too
    metrics = trained.sparsify.metrics
    assert metrics["steps"] == 12 and metrics["eval_accuracy"] == evals[-1]["accuracy"]
    assert 0 < metrics["seconds_per_step"] < 5


def test_checkpoint_loads_with_weights_only(trained):
    folder = trained.sparsify_dir / "checkpoint"
    assert not (trained.sparsify_dir / "epochs").exists()  # per-epoch checkpoints are gone
    state = torch.load(folder / "model.pt", weights_only=True)
    assert any(k.endswith("weight_ctx._binary_mask") for k in state)
    training = torch.load(folder / "training_state.pt", weights_only=True)
    assert {"optimizer", "lr_scheduler", "rng"} <= training.keys()
    compression = json.loads((folder / "compression_state.json").read_text())
    assert compression["ctrl_state"]["movement_sparsity"]["compression_stage"]["__enum__"].endswith(
        "CompressionStage"
    )
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["global_step"] == 12 and meta["scheduler_state"]["current_step"] == 11


def test_same_seed_gives_identical_masks(trained, tmp_path):
    run_stage("sparsify", trained.config, tmp_path)
    assert_same_masks(trained.sparsify_dir / "checkpoint", tmp_path / "sparsify" / "checkpoint")


class Interrupt(Exception):
    pass


def test_interrupted_sparsify_resumes_from_last_epoch(trained, tmp_path):
    def stop_after_second_epoch(epoch, record):
        if epoch == 1:
            raise Interrupt

    with pytest.raises(Interrupt):
        run_stage("sparsify", trained.config, tmp_path, callbacks=[stop_after_second_epoch])
    saved = list((tmp_path / "sparsify" / "epochs").iterdir())
    assert [p.name for p in saved] == ["step-0000008"]
    # A torn log line, as a kill mid-write leaves it, is dropped on resume.
    with (tmp_path / "sparsify" / "train_log.jsonl").open("a") as handle:
        handle.write('{"stage": "sparsify", "step": 8, "lo')
    trained_epochs = []
    result = run_stage(
        "sparsify", trained.config, tmp_path, callbacks=[lambda e, r: trained_epochs.append(e)]
    )
    assert trained_epochs == [2]  # only the missing epoch ran
    assert_same_masks(trained.sparsify_dir / "checkpoint", tmp_path / "sparsify" / "checkpoint")
    assert read_log(tmp_path / "sparsify" / "train_log.jsonl") == read_log(
        trained.sparsify_dir / "train_log.jsonl"
    )
    assert json.loads((tmp_path / "sparsify" / "eval.json").read_text()) == json.loads(
        (trained.sparsify_dir / "eval.json").read_text()
    )
    assert result.metrics["linear_sparsity"] == trained.sparsify.metrics["linear_sparsity"]


# --- errors before the first training step -------------------------------------------------------


def _fails_before_training(config, tmp_path, *fragments):
    with pytest.raises(StageError) as caught:
        run_stage("sparsify", config, tmp_path)
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message, message
    assert not (tmp_path / "sparsify" / "train_log.jsonl").exists()
    return caught.value


def test_regex_matching_no_layer(tmp_path):
    raw = tiny_pipeline_dict()
    raw["compression"]["sparse_structure_by_scopes"][0]["target_scopes"] = "{re}.*BertAtention.*"
    from ov_movement.config.pipeline import PipelineConfig

    error = _fails_before_training(
        PipelineConfig.model_validate(raw),
        tmp_path,
        "compression.sparse_structure_by_scopes[0].target_scopes",
        "BertAtention",
        "matches no sparsifiable Linear layer",
    )
    assert isinstance(error, ConfigError)


def test_ignored_scope_matching_nothing(tmp_path):
    config = tiny_config(
        compression={**tiny_pipeline_dict()["compression"], "ignored_scopes": ["{re}.*qa_outputs.*"]}
    )
    _fails_before_training(
        config, tmp_path, "compression.ignored_scopes[0]", "qa_outputs", "matches no operation"
    )


def test_block_not_dividing_a_weight(tmp_path):
    raw = tiny_pipeline_dict()
    raw["compression"]["sparse_structure_by_scopes"][0]["sparse_factors"] = [32, 24]
    from ov_movement.config.pipeline import PipelineConfig

    _fails_before_training(
        PipelineConfig.model_validate(raw),
        tmp_path,
        "sparse_structure_by_scopes[0].sparse_factors",
        "[32, 24]",
        "bert.encoder.layer.0.attention.self.query",
        "shape [64, 64]",
    )


def test_a_preset_block_error_names_preset_block_size_not_the_expanded_entry(tmp_path):
    raw = tiny_pipeline_dict()
    for key in ("sparse_structure_by_scopes", "ignored_scopes"):
        del raw["compression"][key]
    raw["compression"] |= {"preset": "bert", "preset_block_size": 48}
    from ov_movement.config.pipeline import PipelineConfig

    error = _fails_before_training(
        PipelineConfig.model_validate(raw),
        tmp_path,
        "  - compression.preset_block_size: block [48, 48] does not divide",
        "(preset 'bert' expanded to compression.sparse_structure_by_scopes[0].sparse_factors)",
    )
    assert "  - compression.sparse_structure_by_scopes" not in str(error)  # a key the file lacks


def test_an_error_in_the_default_compression_names_the_missing_section(tmp_path):
    raw = tiny_pipeline_dict()
    del raw["compression"]  # the default: 32x32 blocks, which a head size of 16 (hidden 48) refuses
    raw["model"]["config"] |= {"hidden_size": 48, "num_attention_heads": 3}
    from ov_movement.config.pipeline import PipelineConfig

    error = _fails_before_training(
        PipelineConfig.model_validate(raw),
        tmp_path,
        "  - compression: block [32, 32] does not divide",
        "the file has no compression section: the default one, NNCF's BERT recipe, has "
        "sparse_structure_by_scopes[0].sparse_factors",
    )
    assert "  - compression.sparse_structure_by_scopes" not in str(error)


def test_layer_matched_by_two_entries(tmp_path):
    raw = tiny_pipeline_dict()
    raw["compression"]["sparse_structure_by_scopes"].append(
        {"mode": "fine", "target_scopes": "{re}.*BertSelfAttention.*"}
    )
    from ov_movement.config.pipeline import PipelineConfig

    _fails_before_training(PipelineConfig.model_validate(raw), tmp_path, "matched by entries [0, 3]")


def test_family_without_structured_masking_support(tmp_path):
    # RoBERTa is admitted as the bert family now; ELECTRA is outside NNCF's list entirely.
    roberta = {
        "model_type": "electra",
        "embedding_size": 64,
        "hidden_size": 64,
        "num_hidden_layers": 1,
        "num_attention_heads": 4,
        "intermediate_size": 128,
        "max_position_embeddings": 66,
        "pad_token_id": 0,
    }
    config = tiny_config(model={"config": roberta})
    _fails_before_training(
        config,
        tmp_path,
        "compression.params.enable_structured_masking",
        "'electra'",
        "enable_structured_masking: false",
    )


_SPARSIFY_SCRIPT = """
import sys
from pathlib import Path
from ov_movement.config.load import load_pipeline
from ov_movement.stages.base import StageContext
from ov_movement.stages import sparsify
loaded = load_pipeline(sys.argv[1])
root = Path(sys.argv[2])
sparsify.run(StageContext("sparsify", loaded.config, loaded.config_dir, root / "sparsify", {}, progress=False))
"""


@pytest.mark.slow
def test_sigkill_mid_epoch_then_rerun_gives_the_same_masks(trained, tmp_path):
    """A real kill (no cleanup code runs) in the middle of an epoch; the rerun resumes and matches.

    The run is held right after its 6th step (inside the second epoch of 4 steps) by the
    OV_MOVEMENT_TEST_PAUSE_AT hook and killed there, whatever the machine's load."""
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    from ov_movement.pause_points import ENV

    config_file = tmp_path / "tiny.json"
    config_file.write_text(json.dumps(tiny_pipeline_dict()))
    log = tmp_path / "sparsify" / "train_log.jsonl"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), ENV: "sparsify:step:6"}
    process = subprocess.Popen(
        [sys.executable, "-c", _SPARSIFY_SCRIPT, str(config_file), str(tmp_path)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []
        for line in process.stderr:  # ends (without the line) if the process dies first
            lines.append(line)
            if line.startswith("paused at sparsify:step:6"):
                break
        assert lines and lines[-1].startswith("paused at"), "".join(lines)
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert len([line for line in log.read_text().splitlines() if '"loss"' in line]) >= 6
    assert not (tmp_path / "sparsify" / "checkpoint").exists()
    from ov_movement.config.load import load_pipeline

    loaded = load_pipeline(config_file)
    run_stage("sparsify", loaded.config, tmp_path)
    assert_same_masks(trained.sparsify_dir / "checkpoint", tmp_path / "sparsify" / "checkpoint")
    assert read_log(log) == read_log(trained.sparsify_dir / "train_log.jsonl")
