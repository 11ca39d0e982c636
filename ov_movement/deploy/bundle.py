"""Writing a bundle: the layouts that OpenVINO's own tools load.

- `hf/`: what optimum-intel's `OVModelFor<Task>.from_pretrained(dir)` reads: `openvino_model.xml/.bin`,
  the Hugging Face `config.json` (with `id2label`/`label2id`), tokenizer files (`save_pretrained`) or
  `preprocessor_config.json` (images, audio).
- `ovms/`: an OpenVINO Model Server model repository (`<name>/1/model.xml`, `config.json` with
  `model_config_list`); text models also get the tokenizer converted by openvino-tokenizers as a
  model of its own and a DAG pipeline (`pipeline_config_list`) tokenizer -> classifier, so the server
  takes strings (docs/deploy.md cites the OVMS documentation this follows).
- `bundle.json`: what `deploy.predictor` needs to run the bundle without the pipeline config.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ov_movement.deploy.predictor import BUNDLE_FILE, BUNDLE_FORMAT, HF_DIR, HF_MODEL_XML, OVMS_DIR
from ov_movement.tasks.media import PREPROCESSOR_FILE, AudioProcessor, ImageProcessor

OVMS_CONFIG = "config.json"
OVMS_VERSION = "1"
OVMS_MODEL_XML = "model.xml"
TOKENIZER_SUFFIX = "_tokenizer"
PIPELINE_SUFFIX = "_text"  # the DAG that takes strings
TEXT_INPUT = "text"  # the pipeline's string input
TEXT_PAIR_INPUT = "text_pair"  # its second string input, for text-pair tasks


def copy_ir(xml: Path, target_xml: Path) -> None:
    """Copies, not links: a bundle edited in place must not change the cached IR it came from."""
    target_xml.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(xml, target_xml)
    shutil.copyfile(xml.with_suffix(".bin"), target_xml.with_suffix(".bin"))


def write_hf(
    out: Path, ir_xml: Path, hf_config: Any, label_names: Sequence[str] | None, processor: Any, task: str
) -> None:
    """hf/: the IR under optimum-intel's file name, config.json with the labels, the pre-processor."""
    out.mkdir(parents=True, exist_ok=True)
    copy_ir(ir_xml, out / HF_MODEL_XML)
    if label_names and task != "question-answering":
        hf_config.num_labels = len(label_names)
        hf_config.id2label = dict(enumerate(label_names))
        hf_config.label2id = {name: i for i, name in enumerate(label_names)}
    hf_config.save_pretrained(str(out))
    if isinstance(processor, ImageProcessor):
        _write_json(out / PREPROCESSOR_FILE, image_preprocessor(processor))
    elif isinstance(processor, AudioProcessor):
        _write_json(out / PREPROCESSOR_FILE, audio_preprocessor(processor))
    else:
        processor.save_pretrained(str(out))


def image_preprocessor(processor: ImageProcessor) -> dict[str, Any]:
    """ViTImageProcessor's keys for what media.ImageProcessor does: bilinear resize, /255, normalise."""
    return {
        "image_processor_type": "ViTImageProcessor",
        "do_resize": True,
        "size": {"height": processor.size[0], "width": processor.size[1]},
        "resample": 2,  # PIL bilinear
        "do_rescale": True,
        "rescale_factor": 1 / 255,
        "do_normalize": True,
        "image_mean": list(processor.mean),
        "image_std": list(processor.std),
    }


def audio_preprocessor(processor: AudioProcessor) -> dict[str, Any]:
    """Wav2Vec2FeatureExtractor's keys for what media.AudioProcessor does."""
    return {
        "feature_extractor_type": "Wav2Vec2FeatureExtractor",
        "feature_size": 1,
        "sampling_rate": processor.sampling_rate,
        "do_normalize": processor.do_normalize,
        "padding_value": processor.padding_value,
        "return_attention_mask": False,
    }


def tokenizer_settings(tokenizer: Any) -> dict[str, Any]:
    """How the transformers tokenizer pads and truncates: the predictor redoes it with `tokenizers`."""
    return {
        "pad_id": int(tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0),
        "pad_token": str(tokenizer.pad_token or ""),
        "pad_type_id": int(getattr(tokenizer, "pad_token_type_id", 0) or 0),
        "padding_side": str(getattr(tokenizer, "padding_side", "right")),
        "truncation_side": str(getattr(tokenizer, "truncation_side", "right")),
    }


def convert_text_tokenizer(tokenizer: Any, max_length: int, pairs: bool) -> Any:
    """The tokenizer as an OpenVINO model (openvino-tokenizers): strings in, the model's inputs out,
    truncated and padded to `max_length` as the eval inputs were."""
    from openvino_tokenizers import convert_tokenizer

    return convert_tokenizer(
        tokenizer,
        with_detokenizer=False,
        truncation=True,
        max_length=max_length,
        use_max_padding=True,
        number_of_inputs=2 if pairs else 1,
    )


def write_ovms(
    out: Path, name: str, ir_xml: Path, input_names: Sequence[str], tokenizer_model: Any = None
) -> dict[str, Any]:
    """ovms/: `<name>/1/model.xml` (+ `<name>_tokenizer/1/` and a DAG when a tokenizer model is given)
    and the server's config.json; base paths are relative to it (OVMS resolves them so). Returns it."""
    import openvino as ov

    copy_ir(ir_xml, out / name / OVMS_VERSION / OVMS_MODEL_XML)
    models = [{"config": {"name": name, "base_path": name}}]
    config: dict[str, Any] = {"model_config_list": models}
    if tokenizer_model is not None:
        tokenizer_name = name + TOKENIZER_SUFFIX
        target = out / tokenizer_name / OVMS_VERSION / OVMS_MODEL_XML
        target.parent.mkdir(parents=True, exist_ok=True)
        request_names = [TEXT_INPUT, TEXT_PAIR_INPUT][: len(tokenizer_model.inputs)]
        for port, request_name in zip(tokenizer_model.inputs, request_names, strict=True):
            port.get_tensor().set_names({request_name})  # converted: `Parameter_<id>`, different every run
        ov.save_model(tokenizer_model, str(target), compress_to_fp16=False)
        models.append({"config": {"name": tokenizer_name, "base_path": tokenizer_name}})
        string_inputs = [port.get_any_name() for port in tokenizer_model.inputs]
        produced = {port.get_any_name() for port in tokenizer_model.outputs}
        config["pipeline_config_list"] = [
            {
                "name": name + PIPELINE_SUFFIX,
                "inputs": request_names,
                "nodes": [
                    {
                        "name": "tokenizer",
                        "model_name": tokenizer_name,
                        "type": "DL model",
                        "inputs": [
                            {port: {"node_name": "request", "data_item": item}}
                            for port, item in zip(string_inputs, request_names, strict=True)
                        ],
                        "outputs": [{"data_item": n, "alias": n} for n in input_names if n in produced],
                    },
                    {
                        "name": "classifier",
                        "model_name": name,
                        "type": "DL model",
                        "inputs": [{n: {"node_name": "tokenizer", "data_item": n}} for n in input_names],
                        "outputs": [{"data_item": "logits", "alias": "logits"}],
                    },
                ],
                "outputs": [{"logits": {"node_name": "classifier", "data_item": "logits"}}],
            }
        ]
    _write_json(out / OVMS_CONFIG, config)
    return config


def ovms_chain_logits(ovms_dir: Path | str, texts: Sequence[str], pairs: Sequence[str] | None = None) -> Any:
    """What the server's DAG computes, in process: the tokenizer model on raw strings, its outputs
    fed by name to the classifier, as `pipeline_config_list` wires them. Logits [N, classes]."""
    import numpy as np
    import openvino as ov
    import openvino_tokenizers  # noqa: F401  (registers the tokenizer operations with OpenVINO)

    ovms_dir = Path(ovms_dir)
    config = json.loads((ovms_dir / OVMS_CONFIG).read_text(encoding="utf-8"))
    pipeline = config["pipeline_config_list"][0]
    nodes = {node["name"]: node for node in pipeline["nodes"]}
    core = ov.Core()

    def compiled(model_name: str) -> Any:
        xml = ovms_dir / model_name / OVMS_VERSION / OVMS_MODEL_XML
        return core.compile_model(str(xml), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})

    tokenizer = compiled(nodes["tokenizer"]["model_name"])
    classifier = compiled(nodes["classifier"]["model_name"])
    strings = [list(texts)] + ([list(pairs)] if pairs is not None else [])
    # One 1-D string tensor per tokenizer input (the server's request `text`, `text_pair`).
    tokens = tokenizer({i: np.asarray(s) for i, s in enumerate(strings[: len(tokenizer.inputs)])})
    produced = {port.get_any_name(): tokens[port] for port in tokenizer.outputs}
    feed = {}
    for entry in nodes["classifier"]["inputs"]:
        ((port, source),) = entry.items()
        feed[port] = np.asarray(produced[source["data_item"]], dtype=np.int64)
    return np.asarray(classifier(feed)[0])


def write_bundle_info(root: Path, info: Mapping[str, Any]) -> None:
    _write_json(root / BUNDLE_FILE, {"format": BUNDLE_FORMAT, **info})


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


__all__ = [
    "HF_DIR",
    "OVMS_CONFIG",
    "OVMS_DIR",
    "OVMS_MODEL_XML",
    "OVMS_VERSION",
    "PIPELINE_SUFFIX",
    "TOKENIZER_SUFFIX",
    "audio_preprocessor",
    "convert_text_tokenizer",
    "copy_ir",
    "image_preprocessor",
    "ovms_chain_logits",
    "tokenizer_settings",
    "write_bundle_info",
    "write_hf",
    "write_ovms",
]
