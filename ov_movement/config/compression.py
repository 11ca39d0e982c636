"""The NNCF `movement_sparsity` configuration, mirrored as Pydantic models.

Reference: NNCF 2.19 `nncf/experimental/torch/sparsity/movement/MovementSparsity.md` and its JSON
schema `MOVEMENT_SPARSITY_SCHEMA`; rules listed in shared docs/movement-sparsity-config.md.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ov_movement.config.base import StrictModel

Scopes = str | list[str]


class MovementSparsityParams(StrictModel):
    warmup_start_epoch: float = Field(ge=0)
    warmup_end_epoch: float
    importance_regularization_factor: float = Field(ge=0)
    enable_structured_masking: bool = True
    init_importance_threshold: float | None = None
    final_importance_threshold: float = 0.0
    power: float = 3.0
    steps_per_epoch: int | None = Field(default=None, gt=0)


class SparseStructureEntry(StrictModel):
    mode: Literal["fine", "block", "per_dim"]
    target_scopes: Scopes
    sparse_factors: list[int] | None = None
    axis: int | None = None


class MovementSparsityConfig(StrictModel):
    algorithm: Literal["movement_sparsity"] = "movement_sparsity"
    params: MovementSparsityParams
    sparse_structure_by_scopes: list[SparseStructureEntry] = Field(default_factory=list)
    ignored_scopes: Scopes | None = None
    target_scopes: Scopes | None = None

    def to_nncf(self) -> dict[str, Any]:
        """The section handed to NNCF: normalised spellings, no keys NNCF does not know."""
        return self.model_dump(mode="json", exclude_none=True)


__all__ = ["MovementSparsityConfig", "MovementSparsityParams", "SparseStructureEntry"]
