"""Quantization-aware training next to movement sparsity (JPQD) with distillation, on the tiny BERT.

`trained_jpqd` (conftest): baseline, then sparsify + mask with NNCF's default `quantization` section
and distillation from the baseline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from ov_movement.config.pipeline import PipelineConfig
from tests.stages.in_process import assert_same_masks, read_log, run_stage
from tests.tiny import tiny_jpqd_dict

FIXTURES = Path(__file__).parents[1] / "config" / "fixtures"


def _quantizer_state(checkpoint: Path) -> dict[str, torch.Tensor]:
    state = torch.load(checkpoint / "model.pt", weights_only=True)
    return {k: v for k, v in state.items() if k.endswith((".scale", ".input_low", ".input_range"))}


def test_a_quantization_section_produces_quantizers(trained_jpqd):
    for result in (trained_jpqd.sparsify, trained_jpqd.mask):
        assert result.metrics["weight_quantizers"] > 0 and result.metrics["activation_quantizers"] > 0
        assert "QAT" in result.summary
    scales = _quantizer_state(trained_jpqd.mask_dir / "checkpoint")
    assert len(scales) >= trained_jpqd.mask.metrics["weight_quantizers"]
    state = json.loads((trained_jpqd.mask_dir / "checkpoint" / "compression_state.json").read_text())
    assert {"movement_sparsity", "quantization"} <= set(state["builder_state"])


def test_quantizer_ranges_were_initialised_and_trained(trained_jpqd):
    after_warmup = _quantizer_state(trained_jpqd.sparsify_dir / "checkpoint")
    final = _quantizer_state(trained_jpqd.mask_dir / "checkpoint")
    # NNCF's uninitialised scale is 1.0 everywhere; range init on the train split sets real ranges.
    assert any(not torch.all(v == 1) for v in after_warmup.values())
    assert any(not torch.equal(after_warmup[k], final[k]) for k in final)  # trainable, and trained


def test_structured_masking_still_removes_whole_heads_and_neurons(trained_jpqd):
    metrics = trained_jpqd.mask.metrics
    assert metrics["structured_masking_step"] is not None
    assert metrics["ffn_neurons_kept"] < metrics["ffn_neurons_total"]


def test_distillation_loss_is_logged_every_step(trained_jpqd):
    records = [r for r in read_log(trained_jpqd.sparsify_dir / "train_log.jsonl") if "event" not in r]
    assert records and all(r["distillation_loss"] >= 0 for r in records)
    assert trained_jpqd.mask.metrics["distillation_teacher"] == "baseline"


class Interrupt(Exception):
    pass


def test_interrupted_jpqd_sparsify_resumes_to_the_same_result(trained_jpqd, tmp_path):
    def stop_after_second_epoch(epoch, record):
        if epoch == 1:
            raise Interrupt

    (tmp_path / "baseline").symlink_to(trained_jpqd.root / "baseline")
    with pytest.raises(Interrupt):
        run_stage("sparsify", trained_jpqd.config, tmp_path, callbacks=[stop_after_second_epoch])
    epochs = []
    run_stage("sparsify", trained_jpqd.config, tmp_path, callbacks=[lambda e, r: epochs.append(e)])
    assert epochs == [2]  # resumed, not restarted
    ours, reference = tmp_path / "sparsify" / "checkpoint", trained_jpqd.sparsify_dir / "checkpoint"
    assert_same_masks(reference, ours)
    theirs, mine = _quantizer_state(reference), _quantizer_state(ours)
    assert theirs.keys() == mine.keys() and all(torch.equal(theirs[k], mine[k]) for k in theirs)
    assert read_log(tmp_path / "sparsify" / "train_log.jsonl") == read_log(
        trained_jpqd.sparsify_dir / "train_log.jsonl"
    )


def test_interrupted_jpqd_mask_resumes_to_the_same_result(trained_jpqd, tmp_path):
    def stop(epoch, record):
        if epoch == 3:
            raise Interrupt

    (tmp_path / "baseline").symlink_to(trained_jpqd.root / "baseline")
    upstream = trained_jpqd.sparsify_dir
    with pytest.raises(Interrupt):
        run_stage("mask", trained_jpqd.config, tmp_path, upstream=upstream, callbacks=[stop])
    result = run_stage("mask", trained_jpqd.config, tmp_path, upstream=upstream)
    assert_same_masks(trained_jpqd.mask_dir / "checkpoint", tmp_path / "mask" / "checkpoint")
    theirs = _quantizer_state(trained_jpqd.mask_dir / "checkpoint")
    mine = _quantizer_state(tmp_path / "mask" / "checkpoint")
    assert all(torch.equal(theirs[k], mine[k]) for k in theirs)
    assert result.metrics["eval_loss"] == trained_jpqd.mask.metrics["eval_loss"]


def test_fp32_export_model_is_the_qat_model_with_quantizers_disabled(trained_jpqd):
    """model.onnx keeps its FP32 meaning: the plain sparse model = the QAT model, quantizers off."""
    from ov_movement.training.checkpoint import load_sparse_model
    from ov_movement.training.qat import load_qat_network

    checkpoint = trained_jpqd.mask_dir / "checkpoint"
    plain = load_sparse_model(trained_jpqd.config, checkpoint, Path("."))
    qat, quantization = load_qat_network(trained_jpqd.config, checkpoint, Path("."))
    generator = torch.Generator().manual_seed(0)
    batch = {
        "input_ids": torch.randint(5, 100, (4, 16), generator=generator),
        "attention_mask": torch.ones(4, 16, dtype=torch.long),
        "token_type_ids": torch.zeros(4, 16, dtype=torch.long),
    }
    with torch.no_grad():
        expected = plain(**batch).logits
        quantized = qat(**batch).logits
        quantization.disable_weight_quantization()
        quantization.disable_activation_quantization()
        disabled = qat(**batch).logits
    assert not torch.allclose(quantized, expected, atol=1e-6)  # the quantizers act ...
    torch.testing.assert_close(disabled, expected, atol=1e-5, rtol=0)  # ... and without them: the FP32 model


@pytest.mark.parametrize("fixture", ["bert_text_classification_jpqd.json", "wav2vec2_jpqd.json"])
def test_optimum_intel_jpqd_examples_build_quantizers_and_movement_sparsity(fixture, tmp_path):
    """optimum-intel's JPQD examples, as written, on a tiny model of their architecture."""
    from tests.tiny import ARCHS, arch_pipeline

    arch = ARCHS["bert" if fixture.startswith("bert") else "wav2vec2"]
    raw = arch_pipeline(arch)
    raw["compression"] = json.loads((FIXTURES / fixture).read_text().replace(",\n        ]", "\n        ]"))
    raw["training"] = {**raw["training"], "epochs": 9}
    config = PipelineConfig.model_validate(raw)
    assert config.quantization is not None and not config.unsupported_algorithms
    compressed = _compress(config, tmp_path)
    assert compressed.quantization is not None and len(compressed.quantization.weight_quantizers) > 0
    assert len(compressed.ctrl.sparsified_module_info) > 0  # movement sparsity on the same model


def _compress(config, tmp_path):
    from ov_movement.model_inputs import prepare_data
    from ov_movement.models import build_model, load_processor, model_input_names
    from ov_movement.tasks import get_task
    from ov_movement.training.nncf_setup import compress, ensure_nncf, nncf_config_dict
    from ov_movement.training.session import _range_init_data

    ensure_nncf()
    task = get_task(config.model.task)
    processor = load_processor(config.model, Path("."))
    names = model_input_names(config.model, Path("."), processor)
    data = prepare_data(config, Path("."), processor, names)
    model = build_model(config.model, Path("."), num_labels=data.num_labels, processor=processor)
    nncf_config = nncf_config_dict(
        config,
        input_info=task.nncf_input_info(names, config.data.max_seq_length, processor=processor),
        steps_per_epoch=4,
        log_dir=tmp_path / "nncf",
    )
    init = _range_init_data(data, task, names, 8, torch.device("cpu"), 4)
    return compress(model, config, nncf_config, init_data=init)


def test_tiny_jpqd_dict_is_valid():
    config = PipelineConfig.model_validate(tiny_jpqd_dict())
    assert config.quantization == {"algorithm": "quantization"} and config.distillation.teacher == "baseline"
