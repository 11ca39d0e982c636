"""Scope patterns are searched with NNCF's engine under a time limit before NNCF uses them."""

from __future__ import annotations

from ov_movement.config.scopes import searches_in_time

NAMES = [
    "BertForSequenceClassification/BertModel[bert]/BertEncoder[encoder]/ModuleList[layer]/BertLayer[0]/"
    "BertAttention[attention]/BertSelfAttention[self]/NNCFLinear[query]/linear_0"
] * 20


def test_catastrophic_backtracking_is_detected_not_hung_on():
    # `re` needs about 2**29 steps per name here; the limit interrupts it.
    assert not searches_in_time("{re}([A-Za-z]+)+\\d$", NAMES, limit_s=0.2)


def test_ordinary_patterns_pass():
    assert searches_in_time("{re}.*BertAttention.*", NAMES, limit_s=30)
    assert searches_in_time("NNCFLinear[query]", NAMES, limit_s=30)  # not a regex: never searched
