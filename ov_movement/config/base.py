"""Shared base for config models: unknown keys are errors, as in NNCF's own schema."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True, populate_by_name=True)
