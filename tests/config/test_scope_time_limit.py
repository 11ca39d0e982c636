"""Scope patterns are searched with NNCF's engine under a time limit before NNCF uses them."""

from __future__ import annotations

from ov_movement.config.scopes import searches_in_time, slow_patterns

NAMES = [
    "BertForSequenceClassification/BertModel[bert]/BertEncoder[encoder]/ModuleList[layer]/BertLayer[0]/"
    "BertAttention[attention]/BertSelfAttention[self]/NNCFLinear[query]/linear_0"
] * 20
CATASTROPHIC = "{re}([A-Za-z]+)+\\d$"  # `re` needs about 2**29 steps per name here


def test_catastrophic_backtracking_is_detected_not_hung_on():
    assert not searches_in_time(CATASTROPHIC, NAMES, limit_s=0.5)


def test_each_slow_pattern_is_named_and_the_others_pass():
    patterns = ["{re}.*BertAttention.*", CATASTROPHIC, "NNCFLinear[query]", "{re}.*LayerNorm.*"]
    assert slow_patterns(patterns, NAMES, limit_s=0.5) == [CATASTROPHIC]


def test_ordinary_patterns_pass():
    assert searches_in_time("{re}.*BertAttention.*", NAMES, limit_s=30)
