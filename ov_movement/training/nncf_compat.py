"""Every place ov-movement changes or relies on NNCF's (and transformers') internals, in one module,
each with the version it was verified on. Check them all when NNCF is upgraded (docs/design.md).

- `legacy_tracing_environment()`: NNCF 2.19.0 reads `NNCF_TORCH_LEGACY_TRACING` when `nncf.torch`
  is imported (movement sparsity needs the legacy tracer) and `NNCF_EXTENSION_LOAD_TIMEOUT` when
  it compiles its CPU extension (quantization-aware training: minutes on a small machine, past
  NNCF's 60 s default). NNCF 2.19.0 builds that extension under torch's `TORCH_EXTENSIONS_DIR`,
  by default one per-user directory per torch version: two environments with the same torch at
  different paths (two clones' venvs) would rebuild it in turn, each waiting minutes on the other's
  lock. Unless the user set it, each environment gets its own directory there.
- `family_alias(model_family)`: NNCF 2.19.0's structured masking admits a model by the module name
  of its class (`algo.is_supported_model_family`); RoBERTa has BERT's layer layout, so while the
  controller is built that check is replaced by one that admits it.
- `install_fast_threshold()` / `uninstall_fast_threshold()`: NNCF 2.19.x's movement layers call
  `binary_mask_by_threshold` through the module attribute `layers.binary_mask_by_threshold`; the
  bit-identical, faster clamp of `training.fast_threshold` is registered there under NNCF's own
  operator name.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from ov_movement.architectures import nncf_family_aliases
from ov_movement.training import fast_threshold

# Families NNCF refuses only because its check reads the class's module name, whose layers are
# those of an admitted family: treated as that family (RoBERTa is BERT's layer layout; docs/design.md).
FAMILY_ALIASES = nncf_family_aliases()  # {"roberta": "bert"}: the records of ov_movement.architectures
EXTENSION_LOAD_TIMEOUT_S = 1800
VERIFIED_NNCF = "2.19.0"  # every patch below was verified on this release


def legacy_tracing_environment() -> None:
    """Set the environment NNCF reads at import (verified: NNCF 2.19.0); before `import nncf.torch`."""
    os.environ["NNCF_TORCH_LEGACY_TRACING"] = "1"
    os.environ.setdefault("NNCF_EXTENSION_LOAD_TIMEOUT", str(EXTENSION_LOAD_TIMEOUT_S))
    if "TORCH_EXTENSIONS_DIR" not in os.environ:
        os.environ["TORCH_EXTENSIONS_DIR"] = environment_extensions_dir()


def environment_extensions_dir() -> str:
    """This Python environment's own directory for compiled torch extensions, next to torch's
    per-user default (`~/.cache/torch_extensions`): named by interpreter version and a digest of
    `sys.prefix`, so one venv never rebuilds another's."""
    from torch.utils.cpp_extension import get_default_build_root

    tag = hashlib.sha256(sys.prefix.encode()).hexdigest()[:12]
    return os.path.join(
        get_default_build_root(), f"py{sys.version_info.major}{sys.version_info.minor}-env-{tag}"
    )


@contextmanager
def family_alias(model_family: str | None) -> Iterator[None]:
    """Let NNCF's family check admit an aliased family (RoBERTa as bert) while the controller is
    built (verified: NNCF 2.19.0, `nncf.experimental.torch.sparsity.movement.algo`)."""
    if model_family not in FAMILY_ALIASES:
        yield
        return
    from nncf.experimental.torch.sparsity.movement import algo

    original = algo.is_supported_model_family
    algo.is_supported_model_family = lambda network: True
    try:
        yield
    finally:
        algo.is_supported_model_family = original


def install_fast_threshold() -> bool:
    """Route NNCF's movement layers through the fast clamp (verified: NNCF 2.19.x; see
    training.fast_threshold for the exactness checks); True when it is (now) in place."""
    return fast_threshold.install()


def uninstall_fast_threshold() -> None:
    """Put NNCF's own `binary_mask_by_threshold` back."""
    fast_threshold.uninstall()


__all__ = [
    "EXTENSION_LOAD_TIMEOUT_S",
    "FAMILY_ALIASES",
    "VERIFIED_NNCF",
    "environment_extensions_dir",
    "family_alias",
    "install_fast_threshold",
    "legacy_tracing_environment",
    "uninstall_fast_threshold",
]
