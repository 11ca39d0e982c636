"""The oracle: ov-movement's validator against NNCF 2.19's own, over a corpus of compression sections.

For every case both verdicts are pinned. Where they differ, the difference must be one listed in
`reference.NNCF_DIFFERENCES` (and so in docs/configuration.md), of the right kind; for "runtime"
differences NNCF's own training-time code is run to show it rejects the config too. Every config we
accept must, once normalised, pass NNCF's schema. Imports nncf (and so torch): a few seconds.
"""

from __future__ import annotations

import copy
import re
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from pydantic import TypeAdapter, ValidationError

from ov_movement.config import CompressionSection, MovementSparsityConfig, read_document
from ov_movement.config.reference import NNCF_DIFFERENCES
from ov_movement.training.nncf_setup import ensure_nncf
from tests.config.samples import DOC_SECTION, FIXTURES, params, section
from tests.config.strategies import compression_values

jsonschema = pytest.importorskip("jsonschema")
# Through the project's one NNCF entry point (legacy tracing on, torch's device cache primed first):
# a bare `import nncf.torch` here, at collection, would break the meta device for every later test.
nncf_torch = ensure_nncf()
from nncf import NNCFConfig  # noqa: E402
from nncf.experimental.torch.sparsity.movement.algo import MovementSparsityBuilder  # noqa: E402
from nncf.experimental.torch.sparsity.movement.layers import SparseConfigByScope  # noqa: E402
from nncf.experimental.torch.sparsity.movement.scheduler import MovementSchedulerParams  # noqa: E402

OURS = TypeAdapter(CompressionSection)


def ours_accepts(compression: Any) -> bool:
    try:
        OURS.validate_python(compression)
    except ValidationError:
        return False
    return True


def nncf_schema_accepts(compression: Any) -> bool:
    try:
        NNCFConfig.from_dict({"compression": compression})
    except jsonschema.ValidationError:
        return False
    return True


def nncf_runtime_rejects(compression: dict[str, Any]) -> bool:
    """Whether NNCF's training-time code (scheduler params, sparse structures, scope matching) fails."""
    from nncf.common.scopes import matches_any
    from nncf.errors import InternalError

    try:
        MovementSchedulerParams.from_dict(compression.get("params", {}))
        for entry in compression.get("sparse_structure_by_scopes", []):
            SparseConfigByScope.from_config(entry)
        for key in ("ignored_scopes", "target_scopes"):
            matches_any("Model/NNCFLinear[probe]/linear_0", compression.get(key))
        builder = MovementSparsityBuilder(NNCFConfig.from_dict({"compression": compression}))
    except Exception:  # noqa: BLE001 - any failure is NNCF refusing the config
        return True
    # Every scope string used as a node name: one that two entries match makes NNCF stop. (The
    # fake node goes no further than that check, so other errors after it are not NNCF's verdict.)
    for entry in compression.get("sparse_structure_by_scopes", []):
        scopes = entry["target_scopes"]
        for scope in [scopes] if isinstance(scopes, str) else scopes:
            try:
                builder.create_weight_sparsifying_operation(SimpleNamespace(node_name=scope), 1.0)
            except (InternalError, re.error):  # matched twice / pattern does not compile
                return True
            except Exception:  # noqa: BLE001, S112 - the fake node lacks layer attributes
                continue
    return False


def entry(**fields: Any) -> dict[str, Any]:
    return section(sparse_structure_by_scopes=[fields])


def fixture_compression(name: str) -> Any:
    return read_document(FIXTURES / name)["compression"]


AGREE, LENIENT = "agree", "lenient"
# (id, compression section, verdict): verdict is "agree" or a key of NNCF_DIFFERENCES.
CORPUS: list[tuple[str, Any, bool | None, str]] = [
    # --- both accept
    ("doc", DOC_SECTION, True, AGREE),
    ("fixture-bert-qa", fixture_compression("bert_qa_movement.json"), True, AGREE),
    ("fixture-bert-tc", fixture_compression("bert_text_classification_movement.json"), True, AGREE),
    ("fixture-swin", fixture_compression("swin_movement.json"), True, AGREE),
    ("fixture-wav2vec2-list", fixture_compression("wav2vec2_jpqd.json"), True, AGREE),
    ("fixture-bert-jpqd-list", fixture_compression("bert_text_classification_jpqd.json"), True, AGREE),
    (
        "all-optional-keys",
        section(
            params=params(
                init_importance_threshold=-1, final_importance_threshold=0.5, power=2, steps_per_epoch=100
            ),
            target_scopes="{re}.*Bert.*",
            validate_scopes=False,
            compression_lr_multiplier=2.0,
        ),
        True,
        AGREE,
    ),
    ("fractional-epochs", section(params=params(warmup_start_epoch=1.5, warmup_end_epoch=3.25)), True, AGREE),
    ("start-zero-with-steps", section(params=params(warmup_start_epoch=0, steps_per_epoch=10)), True, AGREE),
    ("fine-unit-factors", entry(mode="fine", sparse_factors=[1, 1], target_scopes="x"), True, AGREE),
    ("no-structures", section(sparse_structure_by_scopes=None), True, AGREE),
    ("empty-structures", section(sparse_structure_by_scopes=[]), True, AGREE),
    ("ignored-string", section(ignored_scopes="{re}.*LayerNorm.*"), True, AGREE),
    ("ignored-empty-list", section(ignored_scopes=[]), True, AGREE),
    ("zero-regularization", section(params=params(importance_regularization_factor=0)), True, AGREE),
    # --- both reject
    ("params-unknown-key", section(params=params(warmup_epochs=3)), False, AGREE),
    ("section-unknown-key", section(ignore_scopes=["x"]), False, AGREE),
    ("entry-unknown-key", entry(mode="fine", target_scopes="x", factors=[1, 1]), False, AGREE),
    ("mode-invalid", entry(mode="blocks", target_scopes="x"), False, AGREE),
    ("mode-missing", entry(target_scopes="x"), False, AGREE),
    ("target-scopes-missing", entry(mode="fine"), False, AGREE),
    ("target-scopes-number", entry(mode="fine", target_scopes=3), False, AGREE),
    ("ignored-number", section(ignored_scopes=3), False, AGREE),
    ("start-string", section(params=params(warmup_start_epoch="1")), False, AGREE),
    ("start-bool", section(params=params(warmup_start_epoch=True)), False, AGREE),
    ("end-missing", section(params=params(warmup_end_epoch=None)), False, AGREE),
    ("factor-null", section(params={**params(), "importance_regularization_factor": None}), False, AGREE),
    ("masking-string", section(params=params(enable_structured_masking="true")), False, AGREE),
    ("factors-string", entry(mode="block", sparse_factors="32x32", target_scopes="x"), False, AGREE),
    ("params-list", section(params=[1, 4]), False, AGREE),
    ("list-unknown-algorithm", [DOC_SECTION, {"algorithm": "quantisation"}], False, AGREE),
    ("list-item-not-object", [DOC_SECTION, 3], False, AGREE),
    ("other-algorithm-missing-name", [DOC_SECTION, {"preset": "mixed"}], False, AGREE),
    # --- we accept on purpose, NNCF's schema does not
    (
        "doc-threshold-spelling",
        section(params=params(initial_importance_threshold=-0.1)),
        True,
        "initial_threshold_spelling",
    ),
    ("algorithm-left-out", section(algorithm=None), True, "algorithm_optional"),
    (
        "scope-preset",
        section(sparse_structure_by_scopes=None, ignored_scopes=None, preset="vit"),
        True,
        "preset",
    ),
    # --- NNCF's schema accepts, NNCF fails once training starts, we reject up front
    ("params-missing", section(params=None), False, "params_required"),
    ("end-equals-start", section(params=params(warmup_end_epoch=1)), False, "warmup_order"),
    (
        "end-before-start",
        section(params=params(warmup_start_epoch=3, warmup_end_epoch=2)),
        False,
        "warmup_order",
    ),
    (
        "steps-missing-start-0",
        section(params=params(warmup_start_epoch=0)),
        False,
        "steps_per_epoch_required",
    ),
    (
        "steps-missing-start-half",
        section(params=params(warmup_start_epoch=0.5)),
        False,
        "steps_per_epoch_required",
    ),
    (
        "negative-regularization",
        section(params=params(importance_regularization_factor=-1)),
        False,
        "non_negative",
    ),
    (
        "negative-start",
        section(params=params(warmup_start_epoch=-1, steps_per_epoch=5)),
        False,
        "non_negative",
    ),
    ("block-no-factors", entry(mode="block", target_scopes="x"), False, "mode_keys"),
    ("block-one-factor", entry(mode="block", sparse_factors=[32], target_scopes="x"), False, "mode_keys"),
    (
        "block-with-axis",
        entry(mode="block", sparse_factors=[8, 8], axis=0, target_scopes="x"),
        False,
        "mode_keys",
    ),
    ("per-dim-no-axis", entry(mode="per_dim", target_scopes="x"), False, "mode_keys"),
    (
        "per-dim-with-factors",
        entry(mode="per_dim", axis=0, sparse_factors=[1, 1], target_scopes="x"),
        False,
        "mode_keys",
    ),
    ("fine-big-factors", entry(mode="fine", sparse_factors=[2, 2], target_scopes="x"), False, "mode_keys"),
    ("fine-with-axis", entry(mode="fine", axis=1, target_scopes="x"), False, "mode_keys"),
    ("target-scopes-empty-list", entry(mode="fine", target_scopes=[]), False, "empty_target_scopes"),
    ("target-scopes-empty-string", entry(mode="fine", target_scopes=""), False, "empty_target_scopes"),
    ("bad-regex-entry", entry(mode="fine", target_scopes="{re}.*(Bert"), False, "regex_compiles"),
    ("bad-regex-ignored", section(ignored_scopes=["{re}[LayerNorm"]), False, "regex_compiles"),
    (
        "duplicate-scope",
        section(
            sparse_structure_by_scopes=[
                {"mode": "fine", "target_scopes": ["{re}.*BertOutput.*"]},
                {"mode": "per_dim", "axis": 1, "target_scopes": "{re}.*BertOutput.*"},
            ]
        ),
        False,
        "duplicate_scope",
    ),
    # --- NNCF accepts, ov-movement refuses as meaningless
    ("steps-fraction", section(params=params(steps_per_epoch=10.5)), False, "integers"),
    (
        "factors-floats",
        entry(mode="block", sparse_factors=[32.0, 32.0], target_scopes="x"),
        False,
        "integers",
    ),
    ("factors-zero", entry(mode="block", sparse_factors=[0, 32], target_scopes="x"), False, "integers"),
    ("axis-two", entry(mode="per_dim", axis=2, target_scopes="x"), False, "integers"),
    ("axis-float", entry(mode="per_dim", axis=1.0, target_scopes="x"), False, "integers"),
    ("power-zero", section(params=params(power=0)), False, "positive"),
    ("lr-multiplier-negative", section(compression_lr_multiplier=-1), False, "positive"),
    (
        "nan-threshold",
        section(params=params(final_importance_threshold=float("nan"))),
        False,
        "finite_no_null",
    ),
    ("empty-ignored-scope", section(ignored_scopes=["{re}.*LayerNorm.*", ""]), False, "empty_scope"),
    ("two-movement-sections", [DOC_SECTION, DOC_SECTION], False, "one_movement_section"),
    ("no-movement-section", [{"algorithm": "quantization"}], False, "one_movement_section"),
]


def test_corpus_ids_are_unique_and_every_difference_is_exercised():
    assert len({case[0] for case in CORPUS}) == len(CORPUS)
    assert {case[3] for case in CORPUS} - {AGREE} == set(NNCF_DIFFERENCES)


@pytest.mark.parametrize(
    ("compression", "we_accept", "verdict"), [c[1:] for c in CORPUS], ids=[c[0] for c in CORPUS]
)
def test_validators_agree_or_differ_as_documented(compression, we_accept, verdict):
    original = copy.deepcopy(compression)
    assert ours_accepts(compression) is we_accept
    nncf_accepts = nncf_schema_accepts(compression)
    if verdict == AGREE:
        assert nncf_accepts is we_accept
        return
    kind, _ = NNCF_DIFFERENCES[verdict]
    assert (we_accept, nncf_accepts) == ((True, False) if kind == LENIENT else (False, True))
    if kind == "runtime":
        assert nncf_runtime_rejects(compression), "NNCF's training-time checks accept it: not a runtime rule"
    assert compression == original


def _normalised(compression: Any) -> Any:
    validated = OURS.validate_python(compression)
    if isinstance(validated, MovementSparsityConfig):
        return validated.to_nncf()
    return [item.to_nncf() if isinstance(item, MovementSparsityConfig) else item for item in validated]


@pytest.mark.parametrize("compression", [c[1] for c in CORPUS if c[2]], ids=[c[0] for c in CORPUS if c[2]])
def test_what_we_accept_passes_nncf_once_normalised(compression):
    normalised = _normalised(compression)
    assert nncf_schema_accepts(normalised)
    if isinstance(normalised, dict):
        assert not nncf_runtime_rejects(normalised)


@settings(max_examples=80, deadline=None)
@given(compression=compression_values())
def test_generated_configs_pass_nncf(compression):
    assert nncf_schema_accepts(compression)
    normalised = _normalised(compression)
    assert nncf_schema_accepts(normalised)
