"""Training checkpoints that load with `torch.load(weights_only=True)`, and the sparse model contract.

A checkpoint is a directory:

    model.pt              state_dict of the NNCF-wrapped model (weights, importance scores, binary
                          masks `<layer>.pre_ops.<i>.op.{weight,bias}_ctx._binary_mask`)
    compression_state.json  `ctrl.get_compression_state()`; NNCF's CompressionStage enum is written as
                          {"__enum__": ..., "value": ...}, since a pickled enum breaks weights_only loading
    training_state.pt     optimizer and LR-scheduler state_dicts, RNG states (torch, CUDA, numpy, random)
    meta.json             phase, completed epochs, global step, steps per epoch, labels, input names,
                          NNCF scheduler state, eval history, structured-masking step, resume key

It is written to a temporary sibling and renamed into place, so a directory that exists is whole.
"""

from __future__ import annotations

import enum
import importlib
import json
import random
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ov_movement.errors import StageError

if TYPE_CHECKING:
    from ov_movement.config.pipeline import PipelineConfig

FORMAT_VERSION = 1
MODEL_FILE = "model.pt"
COMPRESSION_FILE = "compression_state.json"
TRAINING_FILE = "training_state.pt"
META_FILE = "meta.json"

_MASK_KEY = re.compile(r"^(?P<module>.+)\.pre_ops\.\d+\.op\.(?P<kind>weight|bias)_ctx\._binary_mask$")


# ---------------------------------------------------------------------------------------------
# JSON for NNCF's compression state.


def to_json_tree(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        cls = type(value)
        return {"__enum__": f"{cls.__module__}:{cls.__qualname__}", "value": value.value}
    if isinstance(value, dict):
        return {str(k): to_json_tree(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json_tree(v) for v in value]
    if isinstance(value, (np.generic,)):
        return value.item()
    if isinstance(value, torch.Tensor):
        return value.tolist()
    return value


def from_json_tree(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__enum__", "value"}:
            module_name, _, qualname = value["__enum__"].partition(":")
            if not module_name.startswith("nncf."):
                raise StageError(f"compression state names a foreign class {value['__enum__']!r}")
            cls: Any = importlib.import_module(module_name)
            for part in qualname.split("."):
                cls = getattr(cls, part)
            if not (isinstance(cls, type) and issubclass(cls, enum.Enum)):
                raise StageError(f"compression state names a non-enum {value['__enum__']!r}")
            return cls(value["value"])
        return {k: from_json_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_json_tree(v) for v in value]
    return value


# ---------------------------------------------------------------------------------------------
# RNG states, as tensors and plain numbers only.


def capture_rng() -> dict[str, Any]:
    np_state = np.random.get_state()
    py_state = random.getstate()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": {
            "keys": torch.from_numpy(np.asarray(np_state[1], dtype=np.int64)),
            "pos": int(np_state[2]),
            "has_gauss": int(np_state[3]),
            "cached_gaussian": float(np_state[4]),
        },
        "python": {"version": py_state[0], "state": list(py_state[1]), "gauss": py_state[2]},
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"].cpu())
    np_state = state["numpy"]
    np.random.set_state(
        (
            "MT19937",
            np_state["keys"].numpy().astype(np.uint32),
            np_state["pos"],
            np_state["has_gauss"],
            np_state["cached_gaussian"],
        )
    )
    py = state["python"]
    random.setstate((py["version"], tuple(py["state"]), py["gauss"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])


# ---------------------------------------------------------------------------------------------
# Saving and loading.


@dataclass
class Checkpoint:
    path: Path
    meta: dict[str, Any]
    model_state: dict[str, torch.Tensor]
    compression_state: dict[str, Any]
    optimizer_state: dict[str, Any] | None
    lr_scheduler_state: dict[str, Any] | None
    rng_state: dict[str, Any] | None


def save_checkpoint(
    path: Path,
    *,
    model: torch.nn.Module,
    ctrl: Any,
    optimizer: torch.optim.Optimizer,
    lr_scheduler: Any,
    meta: dict[str, Any],
) -> Path:
    """Write a checkpoint directory atomically (temporary sibling, then rename)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    torch.save(model.state_dict(), tmp / MODEL_FILE)
    (tmp / COMPRESSION_FILE).write_text(json.dumps(to_json_tree(ctrl.get_compression_state()), indent=1))
    torch.save(
        {
            "optimizer": optimizer.state_dict(),
            "lr_scheduler": lr_scheduler.state_dict(),
            "rng": capture_rng(),
        },
        tmp / TRAINING_FILE,
    )
    full_meta = {
        "format_version": FORMAT_VERSION,
        **meta,
        "scheduler_state": to_json_tree(ctrl.scheduler.get_state()),
    }
    (tmp / META_FILE).write_text(json.dumps(full_meta, indent=1, allow_nan=True))
    if path.exists():
        shutil.rmtree(path)
    tmp.rename(path)
    return path


class CorruptCheckpointError(StageError):
    """A checkpoint file that cannot be read back (truncated by a power loss, a full disk, bit rot)."""

    def __init__(self, file: Path, error: BaseException):
        self.file = Path(file)
        reason = str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__
        super().__init__(f"{self.file} is unreadable ({reason})")


def _read_json(file: Path) -> Any:
    try:
        return json.loads(file.read_text())
    except (OSError, ValueError) as error:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise CorruptCheckpointError(file, error) from error


def _torch_load(file: Path, map_location: str | torch.device) -> Any:
    try:
        return torch.load(file, map_location=map_location, weights_only=True)
    except Exception as error:  # truncated zip, EOF, a refused (non-allow-listed) pickle ...
        raise CorruptCheckpointError(file, error) from error


def read_meta(path: Path) -> dict[str, Any]:
    file = Path(path) / META_FILE
    if not file.is_file():
        raise StageError(f"{path} is not a training checkpoint (no {META_FILE})")
    meta = _read_json(file)
    if not isinstance(meta, dict):
        raise CorruptCheckpointError(file, ValueError(f"expected a JSON object, got {type(meta).__name__}"))
    return meta


def is_checkpoint(path: Path) -> bool:
    path = Path(path)
    return all((path / name).is_file() for name in (MODEL_FILE, COMPRESSION_FILE, TRAINING_FILE, META_FILE))


def load_checkpoint(
    path: Path, *, map_location: str | torch.device = "cpu", training_state: bool = True
) -> Checkpoint:
    path = Path(path)
    if not is_checkpoint(path):
        raise StageError(f"{path} is not a complete training checkpoint")
    meta = read_meta(path)
    if meta.get("format_version") != FORMAT_VERSION:
        raise StageError(
            f"{path}: checkpoint format {meta.get('format_version')} (expected {FORMAT_VERSION})"
        )
    model_state = _torch_load(path / MODEL_FILE, map_location)
    compression = from_json_tree(_read_json(path / COMPRESSION_FILE))
    optimizer = lr = rng = None
    if training_state:
        state = _torch_load(path / TRAINING_FILE, "cpu")
        try:
            optimizer, lr, rng = state["optimizer"], state["lr_scheduler"], state["rng"]
        except (KeyError, TypeError) as error:
            raise CorruptCheckpointError(path / TRAINING_FILE, KeyError(f"no {error}")) from error
    return Checkpoint(path, meta, model_state, compression, optimizer, lr, rng)


# ---------------------------------------------------------------------------------------------
# From an NNCF checkpoint to a plain Hugging Face model.


def masks_from_state(state: dict[str, torch.Tensor]) -> dict[str, dict[str, torch.Tensor]]:
    """Binary masks by module path: {"bert.encoder.layer.0.attention.self.query": {"weight": m, "bias": m}}."""
    masks: dict[str, dict[str, torch.Tensor]] = {}
    for key, value in state.items():
        match = _MASK_KEY.match(key)
        if match:
            masks.setdefault(match["module"], {})[match["kind"]] = value
    return masks


def read_masks(checkpoint_dir: Path) -> dict[str, dict[str, torch.Tensor]]:
    """The binary masks stored in a checkpoint, by module path (1 = kept, 0 = masked)."""
    state = _torch_load(Path(checkpoint_dir) / MODEL_FILE, "cpu")
    return masks_from_state(state)


def _nncf_key(key: str) -> bool:
    """State entries NNCF adds: its operations, its own state (also under a wrapper's attribute, e.g.
    CLIP's `backbone._nncf...`) and the padding value buffer of NNCF convolutions (ViT, Swin, CLIP, Wav2Vec2)."""
    return (
        ".pre_ops." in key
        or ".post_ops." in key
        or key.startswith("_nncf")
        or "._nncf." in key
        or key.endswith(".nncf_padding_value")
    )


def plain_state_dict(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The NNCF model's state without NNCF entries, masked weights and biases set to exact +0.0."""
    masks = masks_from_state(state)
    plain = {k: v for k, v in state.items() if not _nncf_key(k)}
    for module, entry in masks.items():
        for kind, mask in entry.items():
            key = f"{module}.{kind}"
            if key not in plain:
                raise StageError(f"checkpoint has a {kind} mask for {module} but no {key}")
            tensor = plain[key]
            if tensor.shape != mask.shape:
                raise StageError(f"{key}: mask shape {tuple(mask.shape)} != {tuple(tensor.shape)}")
            plain[key] = torch.where(mask.to(tensor.device) > 0, tensor, torch.zeros((), dtype=tensor.dtype))
    return plain


def load_sparse_model(config: PipelineConfig, checkpoint_dir: Path, config_dir: Path) -> torch.nn.Module:
    """A plain Hugging Face model (no NNCF) from a sparsify/mask checkpoint: eval mode, CPU, float32,
    every weight and bias entry that movement sparsity masked exactly 0.0."""
    from ov_movement.models import build_model

    checkpoint_dir = Path(checkpoint_dir)
    meta = read_meta(checkpoint_dir)
    state = _torch_load(checkpoint_dir / MODEL_FILE, "cpu")
    model = build_model(
        config.model,
        Path(config_dir),
        num_labels=int(meta["num_labels"]),
        label_names=meta.get("label_names"),
        load_weights=False,
    )
    plain = {k: v.float() if v.is_floating_point() else v for k, v in plain_state_dict(state).items()}
    missing, unexpected = model.load_state_dict(plain, strict=False)
    if missing or unexpected:
        raise StageError(
            f"{checkpoint_dir}: checkpoint does not fit {type(model).__name__} "
            f"(missing {missing[:5]}, unexpected {unexpected[:5]}); was it trained with another model config?"
        )
    return model.float().cpu().eval()


__all__ = [
    "Checkpoint",
    "CorruptCheckpointError",
    "capture_rng",
    "from_json_tree",
    "is_checkpoint",
    "load_checkpoint",
    "load_sparse_model",
    "masks_from_state",
    "plain_state_dict",
    "read_masks",
    "read_meta",
    "restore_rng",
    "save_checkpoint",
    "to_json_tree",
]
