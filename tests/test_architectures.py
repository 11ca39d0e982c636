"""Every architecture NNCF documents for structured masking, on tiny random configs (issue 10):
BERT, DistilBERT, RoBERTa (as the bert family), MobileBERT, ViT, Swin, CLIP's vision tower (head
outside the compressed part) and Wav2Vec2, each with its scope preset.

- the preset's scopes match the NNCF graph and NNCF forms attention-head and FFN groups;
- sparsify -> mask -> export -> convert: structured masks resolve, the pruned IR compiles, matches
  the dense IR (the convert stage raises otherwise) and its .bin is smaller (slow);
- heads / FFN neurons zeroed by hand are removed completely (torch-side shrink where OpenVINO
  cannot), and OpenVINO's pass alone removes heads exactly for the architectures docs/design.md says (slow).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.stages.in_process import run_through_convert
from tests.tiny import ARCHS, arch_pipeline, openvino_pass_removes_heads

NAMES = list(ARCHS)
# OpenVINO's pruning pass (read_model + MOC) removes masked heads of these by itself, in
# transformers 4.x graphs only (docs/compatibility.md).
OV_REMOVES_HEADS = {"bert", "roberta", "mobilebert", "swin"}


def _config(name: str, **params):
    from ov_movement.config.pipeline import PipelineConfig

    return PipelineConfig.model_validate(arch_pipeline(ARCHS[name], **params))


def _tiny_model(name: str, num_labels: int = 3):
    from ov_movement.models import build_model
    from ov_movement.training.nncf_setup import ensure_nncf

    ensure_nncf()  # before the model is built (docs/design.md)
    import torch

    torch.manual_seed(0)
    config = _config(name)
    return config, build_model(config.model, Path("."), num_labels=num_labels)


@pytest.mark.parametrize("name", NAMES)
def test_preset_matches_the_nncf_graph_and_nncf_groups_heads_and_ffn(name, tmp_path):
    from ov_movement.models import load_processor, model_input_names
    from ov_movement.tasks import get_task
    from ov_movement.training.nncf_setup import (
        attention_group_count,
        compress,
        group_unit_size,
        nncf_config_dict,
        structured_groups,
    )

    config, model = _tiny_model(name)
    processor = load_processor(config.model, Path("."))
    names = model_input_names(config.model, Path("."), processor)
    nncf_config = nncf_config_dict(
        config,
        input_info=get_task(config.model.task).nncf_input_info(
            names, config.data.max_seq_length, processor=processor
        ),
        steps_per_epoch=4,
        log_dir=tmp_path,
    )
    compressed = compress(model, config, nncf_config)  # scope checks: every preset pattern matches

    assert config.movement.preset_parts() == ["sparse_structure_by_scopes", "ignored_scopes"]
    layers = 2
    assert attention_group_count(compressed.ctrl) == layers
    ffn = [g for g in structured_groups(compressed.ctrl) if group_unit_size(g) == 1]
    assert len(ffn) >= layers
    if name == "clip":  # the head is outside NNCF: trained, never sparsified
        assert compressed.model.backbone is compressed.ctrl.model
        assert not any("classifier" in layer.module for layer in compressed.scopes.layers)


def test_roberta_is_refused_by_nncf_alone_and_works_as_the_bert_family():
    from ov_movement.training.nncf_setup import check_structured_family, model_family, structured_family

    config, model = _tiny_model("roberta")
    assert model_family(model) == "roberta" and structured_family(model) == "bert"
    check_structured_family(model, config)  # no error

    from nncf.experimental.torch.sparsity.movement.algo import MODEL_FAMILIES

    assert "roberta" not in MODEL_FAMILIES  # what the alias works around


def test_a_preset_for_another_architecture_is_named_in_the_error():
    from ov_movement.training.nncf_setup import CompressionSetupError, check_preset

    config, model = _tiny_model("bert")
    wrong = _config("vit")
    with pytest.raises(CompressionSetupError, match=r"compression\.preset.*'vit'.*'bert': use preset 'bert'"):
        check_preset(model, wrong)
    check_preset(model, config)


def test_nncf_exporter_fails_on_swin_whose_window_covers_the_last_stage_and_ours_does_not(tmp_path):
    """docs/design.md's Swin export failure is NNCF's exporter's; the pipeline exports the plain model."""
    from nncf import NNCFConfig

    from ov_movement.deploy.onnx_export import export_onnx
    from ov_movement.training.nncf_setup import ensure_nncf

    nncf_torch = ensure_nncf()
    config, model = _tiny_model("swin")
    swin = model.config
    assert swin.window_size >= swin.image_size // swin.patch_size // 2 ** (len(swin.depths) - 1)
    plain = _tiny_model("swin")[1].eval()
    nncf_config = NNCFConfig.from_dict(
        {
            "input_info": [{"sample_size": [1, 3, 32, 32], "type": "float", "keyword": "pixel_values"}],
            "compression": {
                "algorithm": "movement_sparsity",
                "params": {
                    "warmup_start_epoch": 1,
                    "warmup_end_epoch": 2,
                    "importance_regularization_factor": 0.1,
                    "enable_structured_masking": False,
                    "steps_per_epoch": 2,
                },
            },
        }
    )
    ctrl, _ = nncf_torch.create_compressed_model(model.eval(), nncf_config)
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        ctrl.export_model(str(tmp_path / "nncf.onnx"))
    pixels = {"pixel_values": np.random.RandomState(0).randn(2, 3, 32, 32).astype(np.float32)}
    assert export_onnx(plain, pixels, tmp_path / "plain.onnx") == ["pixel_values"]


@pytest.mark.parametrize("name", ["clip", "wav2vec2"])
def test_single_heads_of_clip_and_wav2vec2_are_dropped_exactly(name):
    """CLIP/Wav2Vec2 attention has no HF prune_heads: PrunedSelfAttention replaces it."""
    import copy

    import torch

    from ov_movement.deploy.onnx_export import torch_outputs
    from ov_movement.deploy.shrink import PrunedSelfAttention, plan_shrink, shrink_model
    from ov_movement.deploy.structure import find_masked_structure

    config, model = _tiny_model(name)
    model.eval()
    _zero_structure(model, heads={0: [1], 1: [0, 3]}, neurons={})
    structure = find_masked_structure(model)
    assert [b.masked_heads for b in structure.blocks] == [[1], [0, 3]]
    shrunk = shrink_model(copy.deepcopy(model), structure, plan_shrink(structure, "auto"))
    assert sum(isinstance(m, PrunedSelfAttention) for m in shrunk.modules()) == 2
    rng = np.random.RandomState(0)
    if name == "clip":
        inputs = {"pixel_values": rng.randn(2, 3, 32, 32).astype(np.float32)}
    else:
        inputs = {"input_values": rng.randn(2, 800).astype(np.float32)}
    with torch.no_grad():
        np.testing.assert_allclose(
            torch_outputs(shrunk, inputs)["logits"], torch_outputs(model, inputs)["logits"], atol=1e-5
        )


def _zero_structure(model, heads: dict[int, list[int]], neurons: dict[int, list[int]]) -> None:
    """Zero whole heads (Q/K/V rows and biases, output-projection columns) and FFN neurons."""
    import torch

    from ov_movement.deploy.structure import block_layout

    layout, blocks = block_layout(model)
    with torch.no_grad():
        for index, block in enumerate(blocks):
            q = model.get_submodule(f"{block}.{layout.q}")
            attention = model.get_submodule(f"{block}.{layout.attention_core or layout.attention}")
            count = next(
                getattr(attention, a)
                for a in ("num_attention_heads", "n_heads", "num_heads")
                if isinstance(getattr(attention, a, None), int)
            )
            width = q.out_features // count
            for head in heads.get(index, []):
                rows = slice(head * width, (head + 1) * width)
                for role in (layout.q, layout.k, layout.v):
                    linear = model.get_submodule(f"{block}.{role}")
                    linear.weight[rows] = 0
                    if linear.bias is not None:
                        linear.bias[rows] = 0
                model.get_submodule(f"{block}.{layout.o}").weight[:, rows] = 0
            ffn_in = model.get_submodule(f"{block}.{layout.ffn_in}")
            ffn_out = model.get_submodule(f"{block}.{layout.ffn_out}")
            for neuron in neurons.get(index, []):
                ffn_in.weight[neuron] = 0
                ffn_in.bias[neuron] = 0
                ffn_out.weight[:, neuron] = 0


def _inputs(name: str) -> dict[str, np.ndarray]:
    rng = np.random.RandomState(0)
    if name in ("vit", "clip", "swin"):
        return {"pixel_values": rng.randn(2, 3, 32, 32).astype(np.float32)}
    if name == "wav2vec2":
        return {"input_values": rng.randn(2, 800).astype(np.float32)}
    return {"input_ids": rng.randint(5, 90, size=(2, 12)).astype(np.int64)}


@pytest.mark.parametrize("name", NAMES)
def test_every_head_and_some_heads_are_dropped_exactly_torch_side(name):
    """Without HF prune_heads (gone in transformers 5): the shrink slices Q/K/V/output itself, and a
    block with no head left returns what the module it replaces returns (Wav2Vec2 4.57: three
    values, 5.x: two)."""
    import copy

    import torch

    from ov_movement.deploy.onnx_export import torch_outputs
    from ov_movement.deploy.shrink import plan_shrink, shrink_model
    from ov_movement.deploy.structure import find_masked_structure

    config, model = _tiny_model(name)
    model.eval()
    heads = find_masked_structure(model).blocks[1].num_heads
    _zero_structure(model, heads={0: [1], 1: list(range(heads))}, neurons={})
    structure = find_masked_structure(model)
    assert [len(b.masked_heads) for b in structure.blocks] == [1, heads]
    shrunk = shrink_model(copy.deepcopy(model), structure, plan_shrink(structure, "always"))
    after = sum(p.numel() for p in shrunk.parameters())
    assert after < sum(p.numel() for p in model.parameters())
    with torch.no_grad():
        np.testing.assert_allclose(
            torch_outputs(shrunk, _inputs(name))["logits"],
            torch_outputs(model, _inputs(name))["logits"],
            atol=1e-5,
        )


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_masked_heads_and_neurons_are_removed_from_the_ir(name, tmp_path):
    """Hand-masked structure -> export (shrink auto) -> convert: 100% removed, IR equal to dense.

    OpenVINO's pass alone removes the heads exactly for BERT, RoBERTa, MobileBERT and Swin on
    transformers 4.x and for none on 5.x (0%); export drops them torch-side on both."""
    from ov_movement.model_inputs import load_eval_arrays
    from ov_movement.stages.convert import build_irs
    from ov_movement.stages.export import export_model

    config, model = _tiny_model(name)
    model.eval()
    ffn = model.get_submodule(_ffn_in_path(model)).out_features
    _zero_structure(
        model, heads={0: [1], 1: [0, 1]}, neurons={0: list(range(0, ffn, 3)), 1: list(range(ffn // 2))}
    )
    arrays, _ = load_eval_arrays(config, Path("."), limit=4)
    export = export_model(model, arrays, tmp_path / "export", config.export)
    result = build_irs(tmp_path / "export", tmp_path / "convert", config.convert)

    metrics = result.metrics
    assert metrics["removal_efficiency"] == {"attention_heads": 1.0, "ffn_neurons": 1.0}
    assert metrics["pruned_bin_bytes"] < metrics["dense_bin_bytes"]
    ov_only = metrics["removal_efficiency_openvino_only"]
    assert ov_only["ffn_neurons"] == 1.0
    ov_heads = name in OV_REMOVES_HEADS and openvino_pass_removes_heads()
    assert ov_only["attention_heads"] == (1.0 if ov_heads else 0.0)
    assert export.metrics["dropped_heads"] == 3  # heads always go torch-side (shrink.plan_shrink)


def _ffn_in_path(model) -> str:
    from ov_movement.deploy.structure import block_layout

    layout, blocks = block_layout(model)
    return f"{blocks[0]}.{layout.ffn_in}"


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_architecture_through_sparsify_mask_export_convert(name, tmp_path):
    run = run_through_convert(arch_pipeline(ARCHS[name]), tmp_path)
    mask = run.results["mask"].metrics
    assert mask["structured_masking_step"] is not None  # structured masks resolved after the warm-up
    assert mask["attention_heads_total"] == (2 + 4 if name == "swin" else 2 * 4)  # attention groups exist
    assert mask["ffn_neurons_total"] > 0
    assert mask["linear_sparsity"] > 0

    convert = run.results["convert"].metrics
    stats = run.json("convert", "stats.json")
    assert all(report["ok"] for report in stats["verification"])  # pruned IR compiled and equals dense
    assert convert["pruned_bin_bytes"] < convert["dense_bin_bytes"]
    for kind in ("attention_heads", "ffn_neurons"):  # None: nothing of that kind was masked
        assert convert["removal_efficiency"][kind] in (None, 1.0)
    assert convert["removal_efficiency"]["ffn_neurons"] == 1.0


def test_one_record_per_architecture_names_its_preset_and_is_tested_on_a_tiny_model():
    """ov_movement.architectures is the one place an architecture is described: its preset exists,
    every preset has a record, and every record has a tiny model in this module's parametrisation."""
    from ov_movement.architectures import ARCHITECTURES
    from ov_movement.config.presets import PRESETS

    assert {record.preset for record in ARCHITECTURES.values()} == set(PRESETS)
    assert set(ARCHITECTURES) == {t for preset in PRESETS.values() for t in preset.model_types}
    assert {record.preset for record in ARCHITECTURES.values()} == set(ARCHS)
