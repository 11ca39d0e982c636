"""JPQD export and convert on the tiny BERT (`trained_jpqd`): model_qat.onnx with standard Q/DQ,
pruned_qat.xml structurally pruned with INT8 weights, predicting what the QAT torch model predicts."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
import torch


@pytest.fixture(scope="module")
def deployed(trained_jpqd, tmp_path_factory):
    from ov_movement.model_inputs import load_eval_arrays
    from ov_movement.stages.convert import build_irs
    from ov_movement.stages.export import export_model
    from ov_movement.tasks import get_task
    from ov_movement.training.checkpoint import load_sparse_model
    from ov_movement.training.qat import load_qat_model

    root = tmp_path_factory.mktemp("jpqd-deploy")
    config, checkpoint = trained_jpqd.config, trained_jpqd.mask_dir / "checkpoint"
    plain = load_sparse_model(config, checkpoint, Path("."))
    qat = (load_qat_model(config, checkpoint, Path(".")), *load_eval_arrays(config, Path(".")))
    arrays, _ = load_eval_arrays(config, Path("."), limit=config.export.verify_samples)
    exported = export_model(plain, arrays, root / "export", config.export, qat=qat)
    converted = build_irs(root / "export", root / "convert", config.convert, task=get_task(config.model.task))
    return root, exported, converted


def test_export_writes_fp32_and_qdq_models(deployed):
    import onnx

    root, exported, _ = deployed
    fp32 = {n.op_type for n in onnx.load(str(root / "export" / "model.onnx")).graph.node}
    qat_graph = onnx.load(str(root / "export" / "model_qat.onnx")).graph
    qat_ops = {n.op_type for n in qat_graph.node}
    assert "QuantizeLinear" not in fp32 and {"QuantizeLinear", "DequantizeLinear"} <= qat_ops
    assert [i.name for i in qat_graph.input] == ["input_ids", "attention_mask", "token_type_ids"]
    assert qat_graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"  # dynamic axes
    assert exported.metrics["qat_max_abs_diff"] < 1e-4


def test_pruned_qat_ir_is_pruned_int8_and_agrees_with_the_qat_model(deployed):
    root, _, converted = deployed
    stats = json.loads((root / "convert" / "stats.json").read_text())
    qat = stats["pruned_qat"]
    assert (root / "convert" / "pruned_qat.xml").is_file()
    assert (
        qat["quantized_matmuls"] > 0
        and qat["quantized_matmuls"] == converted.metrics["pruned_qat_quantized_matmuls"]
    )
    assert qat["removal_efficiency"] == {"attention_heads": 1.0, "ffn_neurons": 1.0} or (
        stats["masked"]["heads"] == 0 and qat["removal_efficiency"]["ffn_neurons"] == 1.0
    )
    assert qat["agreement"] >= 0.99 and qat["eval_samples"] > 0
    assert qat["bin_bytes"] < stats["pruned"]["bin_bytes"] / 2  # INT8 weights
    assert qat["linear_flops_per_token"] == stats["pruned"]["linear_flops_per_token"]


def test_an_ir_that_disagrees_with_the_qat_model_fails_the_stage(deployed, tmp_path):
    """Below the agreement threshold convert stops with a StageError naming the numbers."""
    from ov_movement.config.pipeline import ConvertConfig
    from ov_movement.errors import StageError
    from ov_movement.stages.convert import build_irs

    root, _, _ = deployed
    export_dir = tmp_path / "export"
    export_dir.mkdir()
    for item in (root / "export").iterdir():
        (export_dir / item.name).symlink_to(item)
    (export_dir / "qat_reference.npz").unlink()
    with np.load(root / "export" / "qat_reference.npz") as npz:
        reference = {k: npz[k] for k in npz.files}
    reference["logits"] = -reference["logits"]  # every prediction flipped
    np.savez(export_dir / "qat_reference.npz", **reference)
    with pytest.raises(StageError, match=r"pruned_qat.xml predicts .* only"):
        build_irs(export_dir, tmp_path / "convert", ConvertConfig(seq_length=32))


def test_shrink_slices_weight_quantizers_with_the_ffn_neurons(trained_jpqd):
    """Torch-side shrink of the QAT model: masked FFN neurons dropped, quantizer scales sliced with
    the weights, outputs unchanged."""
    from ov_movement.deploy.shrink import BlockShrink, shrink_model
    from ov_movement.deploy.shrink_qat import weight_quantizers
    from ov_movement.deploy.structure import find_masked_structure
    from ov_movement.training.checkpoint import load_sparse_model
    from ov_movement.training.qat import load_qat_model

    config, checkpoint = trained_jpqd.config, trained_jpqd.mask_dir / "checkpoint"
    structure = find_masked_structure(load_sparse_model(config, checkpoint, Path(".")))
    plan = [
        BlockShrink(b.index, b.path, neurons=b.masked_neurons) for b in structure.blocks if b.masked_neurons
    ]
    assert plan, "the tiny JPQD run masks FFN neurons"
    qat = load_qat_model(config, checkpoint, Path("."))
    shrunk = shrink_model(copy.deepcopy(qat), structure, plan)
    block = structure.blocks[plan[0].index]
    ffn_in = shrunk.get_submodule(block.paths["ffn_in"])
    kept = block.intermediate_size - len(plan[0].neurons)
    assert ffn_in.weight.shape[0] == kept
    (quantizer,) = weight_quantizers(ffn_in)
    assert quantizer.scale.shape[0] == kept
    batch = {
        "input_ids": torch.randint(5, 100, (3, 16), generator=torch.Generator().manual_seed(1)),
        "attention_mask": torch.ones(3, 16, dtype=torch.long),
        "token_type_ids": torch.zeros(3, 16, dtype=torch.long),
    }
    with torch.no_grad():
        torch.testing.assert_close(shrunk(**batch).logits, qat(**batch).logits, atol=1e-5, rtol=0)


def _mask_all_heads(model: torch.nn.Module, block: str) -> None:
    """What movement sparsity leaves when it masks every head of a block: Q/K/V rows and biases and
    the output projection's columns exactly zero."""
    with torch.no_grad():
        for name in ("query", "key", "value"):
            linear = model.get_submodule(f"{block}.attention.self.{name}")
            linear.weight.zero_()
            linear.bias.zero_()
        model.get_submodule(f"{block}.attention.output.dense").weight.zero_()


def test_a_block_without_heads_is_shrunk_torch_side_for_the_qat_model_too(trained_jpqd, tmp_path):
    """OpenVINO's pass fails on a block with every head masked: export drops it torch-side from the
    FP32 and from the QAT model alike, and pruned_qat.xml still agrees with the QAT model."""
    from ov_movement.model_inputs import load_eval_arrays
    from ov_movement.stages.convert import build_irs
    from ov_movement.stages.export import export_model
    from ov_movement.tasks import get_task
    from ov_movement.training.checkpoint import load_sparse_model
    from ov_movement.training.qat import load_qat_model

    config, checkpoint = trained_jpqd.config, trained_jpqd.mask_dir / "checkpoint"
    plain = load_sparse_model(config, checkpoint, Path("."))
    qat = load_qat_model(config, checkpoint, Path("."))
    for model in (plain, qat):
        _mask_all_heads(model, "bert.encoder.layer.0")
    arrays, _ = load_eval_arrays(config, Path("."), limit=config.export.verify_samples)
    exported = export_model(
        plain, arrays, tmp_path / "export", config.export, qat=(qat, *load_eval_arrays(config, Path(".")))
    )
    assert exported.metrics["shrunk"] and exported.metrics["dropped_heads"] >= 4
    converted = build_irs(
        tmp_path / "export", tmp_path / "convert", config.convert, task=get_task(config.model.task)
    )
    stats = json.loads((tmp_path / "convert" / "stats.json").read_text())["pruned_qat"]
    assert stats["agreement"] >= 0.99 and stats["quantized_matmuls"] > 0
    assert stats["removal_efficiency"]["attention_heads"] == 1.0
    assert converted.metrics["pruned_qat_quantized_matmuls"] == stats["quantized_matmuls"]
