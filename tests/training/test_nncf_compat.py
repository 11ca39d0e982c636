"""The environment ov-movement sets before NNCF is imported (training/nncf_compat.py)."""

from __future__ import annotations

import os
import sys

from ov_movement.training import nncf_compat


def test_each_environment_compiles_nncf_extensions_into_its_own_directory(monkeypatch):
    """Two venvs with the same torch (two clones) must not share NNCF's extension build: each would
    rebuild it for its own paths while the other waits on the build lock."""
    monkeypatch.delenv("TORCH_EXTENSIONS_DIR", raising=False)
    nncf_compat.legacy_tracing_environment()
    here = os.environ["TORCH_EXTENSIONS_DIR"]
    monkeypatch.setattr(sys, "prefix", "/elsewhere/.venv")
    elsewhere = nncf_compat.environment_extensions_dir()
    assert here != elsewhere
    assert os.path.dirname(here) == os.path.dirname(elsewhere)  # both under torch's per-user root
    assert os.environ["NNCF_TORCH_LEGACY_TRACING"] == "1"


def test_a_directory_the_user_chose_is_kept(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_EXTENSIONS_DIR", str(tmp_path))
    nncf_compat.legacy_tracing_environment()
    assert os.environ["TORCH_EXTENSIONS_DIR"] == str(tmp_path)
