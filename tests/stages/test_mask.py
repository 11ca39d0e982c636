"""mask: structured masks on the tiny BERT, the sparsity table, resuming, the split across processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from ov_movement.training.checkpoint import read_masks
from tests.stages.in_process import assert_same_masks, read_log, run_stage
from tests.tiny import HEAD_DIM, tiny_config, tiny_pipeline_dict

LAYERS = 2


def _head_structure(masks, layer):
    """Kept heads of one layer as seen by Q, K, V (rows + bias) and the output projection (columns)."""
    prefix = f"bert.encoder.layer.{layer}.attention"
    views = []
    for name in ("self.query", "self.key", "self.value"):
        weight, bias = masks[f"{prefix}.{name}"]["weight"], masks[f"{prefix}.{name}"]["bias"]
        blocks = weight.reshape(-1, HEAD_DIM, weight.shape[1])
        kept = blocks.amax(dim=(1, 2)) > 0
        # Whole heads: every row block is all ones or all zeros, and so is the bias.
        assert torch.all((blocks.amin(dim=(1, 2)) > 0) == kept), f"{prefix}.{name}: partial head"
        assert torch.equal(bias.reshape(-1, HEAD_DIM).amin(dim=1) > 0, kept)
        assert torch.equal(bias.reshape(-1, HEAD_DIM).amax(dim=1) > 0, kept)
        views.append(kept)
    out = masks[f"{prefix}.output.dense"]["weight"]
    columns = out.t().reshape(-1, HEAD_DIM, out.shape[0])
    kept = columns.amax(dim=(1, 2)) > 0
    assert torch.all((columns.amin(dim=(1, 2)) > 0) == kept), f"{prefix}.output.dense: partial head"
    views.append(kept)
    assert all(torch.equal(v, views[0]) for v in views), f"layer {layer}: Q/K/V/output keep different heads"
    return views[0]


def _ffn_structure(masks, layer):
    inner = masks[f"bert.encoder.layer.{layer}.intermediate.dense"]
    outer = masks[f"bert.encoder.layer.{layer}.output.dense"]["weight"]
    rows_kept = inner["weight"].amax(dim=1) > 0
    assert torch.all((inner["weight"].amin(dim=1) > 0) == rows_kept), "intermediate: partial rows"
    assert torch.equal(inner["bias"] > 0, rows_kept)
    cols_kept = outer.amax(dim=0) > 0
    assert torch.all((outer.amin(dim=0) > 0) == cols_kept), "output: partial columns"
    assert torch.equal(rows_kept, cols_kept), "intermediate rows and output columns disagree"
    return rows_kept


def test_masks_are_whole_heads_and_whole_ffn_neurons(trained):
    masks = read_masks(trained.mask_dir / "checkpoint")
    heads = [_head_structure(masks, layer) for layer in range(LAYERS)]
    neurons = [_ffn_structure(masks, layer) for layer in range(LAYERS)]
    kept_heads = sum(int(h.sum()) for h in heads)
    kept_neurons = sum(int(n.sum()) for n in neurons)
    metrics = trained.mask.metrics
    assert (metrics["attention_heads_kept"], metrics["attention_heads_total"]) == (kept_heads, 4 * LAYERS)
    assert (metrics["ffn_neurons_kept"], metrics["ffn_neurons_total"]) == (kept_neurons, 128 * LAYERS)
    # The tiny run keeps some heads and drops others, so the check above means something.
    assert 0 < kept_heads < 4 * LAYERS and 0 < kept_neurons < 128 * LAYERS


def test_warmup_masks_whole_blocks_but_not_whole_heads(trained):
    masks = read_masks(trained.sparsify_dir / "checkpoint")
    partial_heads = 0
    for layer in range(LAYERS):
        for name in ("query", "key", "value"):
            weight = masks[f"bert.encoder.layer.{layer}.attention.self.{name}"]["weight"]
            blocks = weight.reshape(4, HEAD_DIM, 4, HEAD_DIM).permute(0, 2, 1, 3).reshape(4, 4, -1)
            # block mode: every 16x16 block is kept or masked as a whole ...
            assert torch.equal(blocks.amin(dim=2), blocks.amax(dim=2))
            # ... but a head (a band of 4 blocks) may be partly masked until structured masking.
            per_block = blocks.amax(dim=2)
            partial_heads += int(((per_block.amin(dim=1) == 0) & (per_block.amax(dim=1) > 0)).sum())
    assert partial_heads > 0


def test_log_continues_the_steps_and_marks_structured_masking(trained):
    records = read_log(trained.mask_dir / "train_log.jsonl")
    events = [r for r in records if "event" in r]
    steps = [r for r in records if "event" not in r]
    assert {"event": "structured_masking", "step": 12, "epoch": 3} in events  # = warmup_end_epoch * 4
    assert [r["step"] for r in steps] == list(range(12, 20))
    assert all(r["stage"] == "mask" and r["importance_threshold"] == 0.0 for r in steps)
    assert len({r["linear_sparsity"] for r in steps}) == 1  # frozen masks
    assert trained.mask.metrics["structured_masking_step"] == 12
    assert trained.mask.metrics["global_step"] == 20 and trained.mask.metrics["steps"] == 8
    evals = json.loads((trained.mask_dir / "eval.json").read_text())
    assert [e["epoch"] for e in evals] == [3, 4]


def test_sparsity_table(trained):
    table = json.loads((trained.mask_dir / "sparsity_table.json").read_text())
    assert table["structured_masking"] is True and table["structured_masking_step"] == 12
    assert table["linear_sparsity_before"] == pytest.approx(trained.sparsify.metrics["linear_sparsity"])
    assert table["linear_sparsity_after"] == pytest.approx(trained.mask.metrics["linear_sparsity"])
    modules = [row["module"] for row in table["layers"]]
    assert "bert.encoder.layer.1.output.dense" in modules and "bert.pooler.dense" in modules
    row = table["layers"][0]
    assert {"nncf_name", "module", "weight_shape", "before", "after"} <= row.keys()
    assert row["weight_shape"] == [64, 64] and "weight_sparsity" in row["before"]
    assert [b["block"] for b in table["blocks"]] == ["bert.encoder.layer.0", "bert.encoder.layer.1"]
    for block in table["blocks"]:
        assert block["attention_heads"]["total"] == 4 and block["ffn_neurons"]["total"] == 128
        for kind in ("attention_heads", "ffn_neurons"):
            assert block[kind]["kept_after"] <= block[kind]["kept_before"]


def test_unstructured_masks_are_kept_when_structured_masking_is_off(tmp_path):
    config = tiny_config(params={"enable_structured_masking": False})
    run_stage("sparsify", config, tmp_path)
    result = run_stage("mask", config, tmp_path)
    assert_same_masks(tmp_path / "sparsify" / "checkpoint", tmp_path / "mask" / "checkpoint")
    records = read_log(tmp_path / "mask" / "train_log.jsonl")
    assert not any(r.get("event") == "structured_masking" for r in records)
    assert {"event": "masks_frozen", "step": 12, "epoch": 3} in records
    table = json.loads((tmp_path / "mask" / "sparsity_table.json").read_text())
    assert table["structured_masking"] is False
    assert (
        table["linear_sparsity_before"] == table["linear_sparsity_after"] == result.metrics["linear_sparsity"]
    )
    assert table["blocks"]  # heads/neurons are still counted (from the unstructured masks)


def test_mask_resumes_after_interruption(trained, tmp_path):
    class Interrupt(Exception):
        pass

    def stop(epoch, record):
        if epoch == 3:
            raise Interrupt

    with pytest.raises(Interrupt):
        run_stage("mask", trained.config, tmp_path, upstream=trained.sparsify_dir, callbacks=[stop])
    result = run_stage("mask", trained.config, tmp_path, upstream=trained.sparsify_dir)
    assert_same_masks(trained.mask_dir / "checkpoint", tmp_path / "mask" / "checkpoint")
    assert read_log(tmp_path / "mask" / "train_log.jsonl") == read_log(trained.mask_dir / "train_log.jsonl")
    assert json.loads((tmp_path / "mask" / "sparsity_table.json").read_text()) == json.loads(
        (trained.mask_dir / "sparsity_table.json").read_text()
    )
    assert result.metrics["eval_loss"] == trained.mask.metrics["eval_loss"]


def test_no_finetuning_epochs_still_resolves_structured_masks(trained, tmp_path):
    config = tiny_config(training={"epochs": 3})
    result = run_stage("mask", config, tmp_path, upstream=trained.sparsify_dir)
    masks = read_masks(tmp_path / "mask" / "checkpoint")
    for layer in range(LAYERS):
        _head_structure(masks, layer)
        _ffn_structure(masks, layer)
    assert result.metrics["steps"] == 0 and result.metrics["structured_masking_step"] == 12
    # The same resolution as NNCF's at the first post-warm-up step (weights are not yet updated then).
    assert_same_masks(trained.mask_dir / "checkpoint", tmp_path / "mask" / "checkpoint")


@pytest.mark.slow
def test_fractional_warmup_end_splits_mid_epoch(tmp_path):
    config = tiny_config(params={"warmup_end_epoch": 2.5})
    first = run_stage("sparsify", config, tmp_path)
    second = run_stage("mask", config, tmp_path)
    assert first.metrics["global_step"] == 10 and second.metrics["global_step"] == 20
    records = [r for r in read_log(tmp_path / "mask" / "train_log.jsonl")]
    assert records[0] == {"event": "structured_masking", "step": 10, "epoch": 2}
    masks = read_masks(tmp_path / "mask" / "checkpoint")
    for layer in range(LAYERS):
        _head_structure(masks, layer)


_STAGE_SCRIPT = """
import sys
from pathlib import Path
from ov_movement.config.load import load_pipeline
from ov_movement.stages.base import StageContext
from ov_movement.stages import mask, sparsify
loaded = load_pipeline(sys.argv[1])
root, stage = Path(sys.argv[2]), sys.argv[3]
inputs = {"sparsify": root / "sparsify"} if stage == "mask" else {}
ctx = StageContext(stage, loaded.config, loaded.config_dir, root / stage, inputs, progress=False)
{"sparsify": sparsify, "mask": mask}[stage].run(ctx)
"""


@pytest.mark.slow
def test_stages_in_separate_processes_match_one_process(trained, tmp_path):
    config_file = tmp_path / "tiny.json"
    config_file.write_text(json.dumps(tiny_pipeline_dict()))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    for stage in ("sparsify", "mask"):
        subprocess.run(
            [sys.executable, "-c", _STAGE_SCRIPT, str(config_file), str(tmp_path), stage],
            check=True,
            env=env,
            capture_output=True,
            timeout=1800,  # a bound for a loaded machine; nothing here races
        )
    assert_same_masks(trained.mask_dir / "checkpoint", tmp_path / "mask" / "checkpoint")
    ours = json.loads((tmp_path / "mask" / "eval.json").read_text())
    theirs = json.loads((trained.mask_dir / "eval.json").read_text())
    for a, b in zip(ours, theirs, strict=True):
        assert a["accuracy"] == b["accuracy"] and a["loss"] == pytest.approx(b["loss"], abs=1e-6)
