"""Config samples shared by the tests: the documentation's movement section and variations."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"

DOC_SECTION: dict[str, Any] = {
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
    "ignored_scopes": ["{re}.*NNCFEmbedding", "{re}.*qa_outputs*", "{re}.*LayerNorm.*"],
}


def section(**changes: Any) -> dict[str, Any]:
    """A copy of the documentation's section with top-level keys replaced (None deletes)."""
    result = copy.deepcopy(DOC_SECTION)
    for key, value in changes.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return result


def params(**changes: Any) -> dict[str, Any]:
    """A copy of the documentation's params with keys replaced (None deletes)."""
    result = copy.deepcopy(DOC_SECTION["params"])
    for key, value in changes.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return result
