"""The root cause of "transformers 5 corrupts position_ids under NNCF": NNCF's legacy tracing replaces
torch's factory functions, and a device-constructor cache filled after that makes
`with torch.device("meta")` build CPU tensors. ensure_nncf primes the cache first and checks it.

Each case runs in a fresh interpreter: the cache and NNCF's patching are per process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    )
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_meta_device_still_creates_meta_tensors_after_nncf_is_set_up(tmp_path):
    result = _run(
        """
        import torch
        from ov_movement.training.nncf_setup import ensure_nncf
        ensure_nncf()
        from nncf.torch.dynamic_graph.patch_pytorch_state import PATCHING_STATE
        assert PATCHING_STATE.operators_are_wrapped  # NNCF's wrappers are in place...
        with torch.device("meta"):  # ...and the device mode still sees every factory call
            print(torch.empty(1).device, torch.tensor([]).device, torch.zeros(2, 2).device)
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["meta", "meta", "meta"]


def test_a_saved_model_reloads_with_its_position_ids_and_logits_under_nncf(tmp_path):
    """What a user would notice: from_pretrained after NNCF set-up gives the saved model back."""
    result = _run(
        """
        import torch
        from ov_movement.training.nncf_setup import ensure_nncf
        ensure_nncf()
        from transformers import AutoModelForSequenceClassification, BertConfig
        torch.manual_seed(0)
        config = BertConfig(vocab_size=64, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                            intermediate_size=64, max_position_embeddings=16, num_labels=2)
        model = AutoModelForSequenceClassification.from_config(config).eval()
        model.save_pretrained("saved")
        loaded = AutoModelForSequenceClassification.from_pretrained("saved").eval()
        ids = torch.arange(12).reshape(2, 6) % 64
        assert torch.equal(loaded.bert.embeddings.position_ids[0], torch.arange(16))
        with torch.no_grad():
            diff = (loaded(input_ids=ids).logits - model(input_ids=ids).logits).abs().max().item()
        print(diff)
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert float(result.stdout.split()[-1]) == 0.0


def test_nncf_imported_before_the_project_is_refused_with_a_clear_error(tmp_path):
    """The guard: a process whose cache was filled after NNCF's patching cannot run movement sparsity."""
    result = _run(
        """
        import os
        os.environ["NNCF_TORCH_LEGACY_TRACING"] = "1"
        import nncf.torch  # patches torch first...
        import torch
        torch.utils._device._device_constructors()  # ...then the cache is filled with the wrappers
        from ov_movement.errors import StageError
        from ov_movement.training.nncf_setup import ensure_nncf
        try:
            ensure_nncf()
        except StageError as error:
            print("refused:", error)
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "refused:" in result.stdout and "meta" in result.stdout
