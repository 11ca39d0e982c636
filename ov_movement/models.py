"""Building a Hugging Face model and its pre-processor from the `model` config section.

Everything task-specific (which Auto class builds the head, which inputs the model takes, how
examples become tensors, which metric is reported) sits behind the `Task` base class, one module per
task in `ov_movement.tasks`; this module builds what a task describes.

Every Hugging Face loader call of the package is in this module (`_hf_config`, `_load_processor`
via the tasks' `load_processor`, `build_model`), so two rules hold everywhere:
- **no code from model folders** unless `model.trust_remote_code: true`: `trust_remote_code` is
  passed explicitly (False by default) to every config, tokenizer and model loader, and
  transformers' refusal becomes a ConfigError naming that key (never the interactive
  "Do you wish to run the custom code? [y/N]" prompt);
- **the weights are what the directory holds**: a tensor missing from the weights or whose shape
  differs from what config.json describes is a ConfigError naming the directory and the tensors;
  only the task head (`classifier.*`, `qa_outputs.*`, ... everything outside the base model) may
  be newly initialised, and that is logged ("newly initialised: classifier.weight, ...").

Models are always built with **eager attention**: with `sdpa`, NNCF's structured-mask grouping
silently finds no attention groups (docs/design.md). Heavy libraries are imported inside functions so
that importing this module stays cheap.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ov_movement.config.paths import resolve_path
from ov_movement.config.pipeline import DEFAULT_MODEL, ModelConfig
from ov_movement.errors import ConfigError, ConfigIssue, StageError
from ov_movement.tasks import get_task, quiet_transformers

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)
# The weights file transformers writes (`save_pretrained`), whose header gives the tensor shapes.
SAFETENSORS_WEIGHTS = "model.safetensors"


@dataclass(frozen=True)
class ModelSource:
    """Where the model's architecture/weights and its processor come from."""

    weights_dir: Path | None  # None: an inline config, randomly initialised
    processor_dir: Path | None  # None: an inline config of a task without a tokenizer
    inline_config: dict[str, Any] | None


def model_source(config: ModelConfig, config_dir: Path) -> ModelSource:
    if config.config is not None:
        if "model_type" not in config.config:
            raise ConfigError(
                [ConfigIssue("model.config", "an inline config needs `model_type` (e.g. 'bert')")]
            )
        processor = config.tokenizer or (DEFAULT_MODEL if get_task(config.task).uses_tokenizer else None)
        processor_dir = _existing_dir(processor, config_dir, "model.tokenizer") if processor else None
        return ModelSource(None, processor_dir, dict(config.config))
    if not config.name_or_path:
        raise ConfigError(
            [ConfigIssue("model.name_or_path", "give a model directory or an inline `model.config`")]
        )
    weights = _existing_dir(config.name_or_path, config_dir, "model.name_or_path")
    processor = (
        _existing_dir(config.tokenizer, config_dir, "model.tokenizer") if config.tokenizer else weights
    )
    return ModelSource(weights, processor, None)


def _existing_dir(spec: str, config_dir: Path, loc: str) -> Path:
    path = resolve_path(spec, config_dir)
    if not path.is_dir():
        raise ConfigError([ConfigIssue(loc, f"{spec!r}: no such directory ({path})")])
    return path


@contextlib.contextmanager
def _reading(loc: str, what: str, path: Path | None) -> Iterator[None]:
    """Errors of Hugging Face loaders on a user's directory (empty, half-copied, corrupt files) ->
    a StageError naming the config key and the directory, instead of a traceback."""
    try:
        yield
    except (ConfigError, StageError):
        raise
    except Exception as error:  # OSError, ValueError, AttributeError, json errors ...: all the files' fault
        if "trust_remote_code" in str(error):
            raise ConfigError(
                [
                    ConfigIssue(
                        "model.trust_remote_code",
                        f"{path} holds Python code that loading {what} would run (`auto_map` in its "
                        "config); it is not run unless you set model.trust_remote_code: true (only for a "
                        "directory you trust)",
                    )
                ]
            ) from None
        reason = str(error).strip().splitlines()[0][:300] if str(error).strip() else type(error).__name__
        raise StageError(f"{loc}: cannot load {what} from {path}: {reason}") from error


def _processor_loc(config: ModelConfig) -> str:
    return "model.tokenizer" if config.tokenizer or config.config is not None else "model.name_or_path"


def _load_processor(config: ModelConfig, source: ModelSource) -> Any:
    task = get_task(config.task)
    if task.processor_needs_model_config:  # images: size and channels of the model
        hf_config = _hf_config(config, source, None)
        with _reading(_processor_loc(config), "a pre-processor", source.processor_dir):
            return task.load_processor(
                source.processor_dir, hf_config, trust_remote_code=config.trust_remote_code
            )
    with _reading(_processor_loc(config), "a tokenizer", source.processor_dir):
        return task.load_processor(source.processor_dir, trust_remote_code=config.trust_remote_code)


def load_processor(config: ModelConfig, config_dir: Path) -> Any:
    """The tokenizer (text) or feature extractor (later tasks) for this model config."""
    return _load_processor(config, model_source(config, config_dir))


def _hf_config(config: ModelConfig, source: ModelSource, processor: Any) -> Any:
    from transformers import AutoConfig

    if source.inline_config is not None:
        inline = dict(source.inline_config)
        model_type = inline.pop("model_type")
        vocab = len(processor) if hasattr(processor, "__len__") else None
        if vocab is not None and "vocab_size" not in inline:
            inline["vocab_size"] = vocab
        try:
            hf_config = AutoConfig.for_model(model_type, **inline)
        except (ValueError, KeyError, TypeError) as error:
            raise ConfigError([ConfigIssue("model.config", str(error))]) from error
        if vocab is not None and getattr(hf_config, "vocab_size", vocab) < vocab:
            raise ConfigError(
                [
                    ConfigIssue(
                        "model.config.vocab_size",
                        f"{hf_config.vocab_size} is smaller than the tokenizer's vocabulary ({vocab})",
                    )
                ]
            )
        return hf_config
    with quiet_transformers(), _reading("model.name_or_path", "a model config", source.weights_dir):
        return AutoConfig.from_pretrained(str(source.weights_dir), trust_remote_code=config.trust_remote_code)


def hf_config(config: ModelConfig, config_dir: Path, processor: Any | None = None) -> Any:
    """The Hugging Face config the model is built from (what a deployed bundle's config.json starts from)."""
    source = model_source(config, config_dir)
    processor = processor if processor is not None else _load_processor(config, source)
    return _hf_config(config, source, processor)


def model_class(config: ModelConfig, config_dir: Path, processor: Any | None = None) -> type:
    """The Python class `build_model` would build (without building it)."""
    source = model_source(config, config_dir)
    processor = processor if processor is not None else load_processor(config, config_dir)
    hf_config = _hf_config(config, source, processor)
    auto = get_task(config.task).auto_model_class()
    try:
        return auto._model_mapping[type(hf_config)]
    except KeyError:
        raise StageError(f"{type(hf_config).__name__} has no {config.task} head in transformers") from None


def model_input_names(config: ModelConfig, config_dir: Path, processor: Any | None = None) -> tuple[str, ...]:
    """The model's forward inputs the processor produces, in NNCF/ONNX order (ids, mask, segments)."""
    processor = processor if processor is not None else load_processor(config, config_dir)
    cls = model_class(config, config_dir, processor)
    return get_task(config.task).input_names(cls, processor)


def build_model(
    config: ModelConfig,
    config_dir: Path,
    *,
    num_labels: int,
    label_names: Sequence[str] | None = None,
    processor: Any | None = None,
    load_weights: bool = True,
) -> Any:
    """A float32 Hugging Face model with eager attention and a `num_labels` head.

    With `load_weights=False` a pretrained model is built from its config only (random weights),
    for callers that overwrite every weight from a checkpoint anyway. Build the model **after**
    importing `nncf.torch` when it will be compressed (see training.nncf_setup.ensure_nncf).
    """
    if config.num_labels is not None and config.num_labels < num_labels:
        raise ConfigError(
            [
                ConfigIssue(
                    "model.num_labels",
                    f"{config.num_labels} is fewer than the {num_labels} labels in the data",
                )
            ]
        )
    num_labels = config.num_labels or num_labels
    task = get_task(config.task)
    source = model_source(config, config_dir)
    processor = processor if processor is not None else _load_processor(config, source)
    hf_config = _hf_config(config, source, processor)
    hf_config.num_labels = num_labels
    names = list(label_names or [])
    if len(names) == num_labels:
        hf_config.id2label = dict(enumerate(names))
        hf_config.label2id = {name: i for i, name in enumerate(names)}
    if (
        getattr(hf_config, "pad_token_id", None) is None
        and getattr(processor, "pad_token_id", None) is not None
    ):
        hf_config.pad_token_id = processor.pad_token_id
    hf_config._attn_implementation = config.attn_implementation
    auto = task.auto_model_class()
    with quiet_transformers():
        if source.weights_dir is not None and load_weights:
            with _reading("model.name_or_path", "the model weights", source.weights_dir):
                model, loading = auto.from_pretrained(
                    str(source.weights_dir),
                    config=hf_config,
                    attn_implementation=config.attn_implementation,
                    trust_remote_code=config.trust_remote_code,
                    # Loads a checkpoint whose head has another number of labels; every tensor this
                    # lets through is checked below (only the head may be new).
                    ignore_mismatched_sizes=True,
                    output_loading_info=True,
                )
            check_loaded_weights(model, loading, source.weights_dir)
        else:
            try:
                model = auto.from_config(
                    hf_config,
                    attn_implementation=config.attn_implementation,
                    trust_remote_code=config.trust_remote_code,
                )
            except ValueError as error:  # e.g. hidden_size not a multiple of num_attention_heads
                loc = "model.config" if source.inline_config is not None else "model.name_or_path"
                raise ConfigError([ConfigIssue(loc, str(error).strip())]) from error
    model = model.float()
    model = task.prepare_model(model)
    actual = getattr(model.config, "_attn_implementation", None)
    if actual != config.attn_implementation:
        raise StageError(
            f"{type(model).__name__} was built with {actual!r} attention instead of {config.attn_implementation!r}: "
            "NNCF's structured masking would find no attention groups"
        )
    return model


def _hf_model(model: Any) -> Any:
    """The Hugging Face model inside `model` (itself, or the one our task wrappers hold)."""
    from transformers import PreTrainedModel

    return next((m for m in model.modules() if isinstance(m, PreTrainedModel)), model)


def _checkpoint_shapes(weights_dir: Path) -> dict[str, list[int]]:
    """Tensor shapes recorded in the directory's model.safetensors header (empty if there is none)."""
    file = weights_dir / SAFETENSORS_WEIGHTS
    if not file.is_file():
        return {}
    try:
        from safetensors import safe_open

        with safe_open(str(file), framework="pt") as handle:
            return {key: list(handle.get_slice(key).get_shape()) for key in handle.keys()}
    except Exception:  # only used to enrich a message
        return {}


def _some(keys: Sequence[str], limit: int = 4) -> str:
    shown = ", ".join(keys[:limit])
    return shown + (f" and {len(keys) - limit} more" if len(keys) > limit else "")


def _key(entry: Any) -> str:
    """A tensor name from a loading-report entry: transformers 4.57 gives names, 5.x gives
    (name, stored shape, model shape) tuples for mismatched tensors."""
    return entry[0] if isinstance(entry, tuple | list) else entry


def check_loaded_weights(model: Any, loading: Mapping[str, Any], weights_dir: Path) -> None:
    """Refuse a model whose pretrained part was not fully loaded from `weights_dir`.

    `loading` is transformers' `output_loading_info`. A tensor is the task head's when it lies
    outside the base model (`base_model_prefix`: `bert.*` is BERT, `classifier.*` the head); only
    head tensors may be missing or of another shape (a new head, or another number of labels)."""
    hf = _hf_model(model)
    prefix = getattr(hf, "base_model_prefix", "")
    base = getattr(hf, prefix, None) if prefix else None
    has_base = base is not None and base is not hf

    def is_head(key: str) -> bool:
        return has_base and not key.startswith(prefix + ".")

    ours = {key: list(value.shape) for key, value in hf.state_dict().items()}
    order = {key: index for index, key in enumerate(ours)}

    def in_model_order(entries: Any) -> list[str]:
        # transformers 5 reports these as sets: list them as the model declares them, so the
        # message (and the first tensors it names) is the same on every run
        keys = {_key(entry) for entry in entries}
        return sorted(keys, key=lambda key: (order.get(key, len(order)), key))

    missing = [k for k in in_model_order(loading.get("missing_keys", [])) if not is_head(k)]
    mismatched = [k for k in in_model_order(loading.get("mismatched_keys", [])) if not is_head(k)]
    problems = []
    if mismatched:
        stored = _checkpoint_shapes(weights_dir)
        described = []
        for key in mismatched:
            found = stored.get(key) or stored.get(key.removeprefix(prefix + "."))
            described.append(f"{key} (config.json: {ours.get(key)}, weights: {found or '?'})")
        problems.append(
            f"{len(mismatched)} tensor(s) have another shape than config.json says: {_some(described, 3)}"
        )
    if missing:
        problems.append(f"{len(missing)} tensor(s) are missing from the weights: {_some(missing)}")
    if problems:
        raise ConfigError(
            [
                ConfigIssue(
                    "model.name_or_path",
                    f"{weights_dir}: the weights do not match the model config.json describes; "
                    + "; ".join(problems)
                    + ". Training would start from random values there: fix config.json or the weights",
                )
            ]
        )
    new = [
        k
        for k in in_model_order([*loading.get("missing_keys", []), *loading.get("mismatched_keys", [])])
        if is_head(k)
    ]
    if new:
        # Expected (a new task, or another number of labels), but worth a line: it is the one part
        # of the model that does not come from the directory.
        log.warning("model.name_or_path: task head newly initialised: %s", ", ".join(new))


__all__ = [
    "ModelSource",
    "build_model",
    "check_loaded_weights",
    "hf_config",
    "load_processor",
    "model_class",
    "model_input_names",
    "model_source",
]
