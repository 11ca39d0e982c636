"""The YAML reader of pipeline files: YAML 1.2 scalars, unique keys, bounded alias expansion."""

from __future__ import annotations

import pytest

from ov_movement.config.base import OversizedInteger
from ov_movement.config.load import MAX_DEPTH, parse_document
from ov_movement.errors import ConfigError


def read(text: str):
    return parse_document(text, "yaml")[0]


def test_numbers_follow_yaml_1_2():
    document = read(
        "lr: 5e-5\nbig: 1e3\nneg: -.5\nhigh: .inf\nlow: -.Inf\noctal: 0o17\nhex: 0x1F\nten: 010\n"
        "under: 1_000\nsexagesimal: 1:30\n"
    )
    assert document["lr"] == 5e-5 and isinstance(document["lr"], float)
    assert document["big"] == 1000.0 and document["neg"] == -0.5
    assert document["high"] == float("inf") and document["low"] == float("-inf")
    assert (document["octal"], document["hex"], document["ten"]) == (15, 31, 10)  # YAML 1.1: 010 == 8
    assert document["under"] == "1_000" and document["sexagesimal"] == "1:30"  # YAML 1.1: numbers


def test_booleans_and_nulls_follow_yaml_1_2():
    document = read("a: yes\nb: no\nc: on\nd: off\ne: True\nf: false\ng: ~\nh:\ni: 2024-01-01\n")
    assert [document[k] for k in "abcd"] == ["yes", "no", "on", "off"]
    assert (document["e"], document["f"], document["g"], document["h"]) == (True, False, None, None)
    assert document["i"] == "2024-01-01"  # no timestamps in the core schema


def test_duplicate_keys_are_errors_with_both_lines():
    with pytest.raises(ConfigError, match=r"line 3, column 1: duplicate key 'training' \(first at line 1\)"):
        read("training:\n  epochs: 5\ntraining:\n  epochs: 6\n")
    with pytest.raises(ConfigError, match="line 4, column 5: duplicate key 'b'"):
        read("a:\n  x:\n    b: 1\n    b: 2\n")


def test_merge_keys_and_small_aliases_still_work():
    document = read("base: &base {epochs: 5, batch_size: 8}\ntraining:\n  <<: *base\n  epochs: 6\n")
    assert document["training"] == {"epochs": 6, "batch_size": 8}
    assert read("a: &a [1, 2]\nb: *a\n")["b"] == [1, 2]


def test_alias_expansion_is_bounded_before_anything_is_built():
    laughs = "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
        f"{n}: &{n} [{', '.join([f'*{p}'] * 10)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True)
    )  # 10**9 values when expanded
    with pytest.raises(ConfigError, match="line 5, column 4: expands to more than 100,000 values"):
        read(laughs)
    merges = "a0: &a0 {x: 1}\n" + "".join(
        f"a{i}: &a{i} {{<<: [*a{i - 1}, *a{i - 1}]}}\n" for i in range(1, 40)
    )  # exponential through merge keys
    with pytest.raises(ConfigError, match="expands to more than"):
        read(merges)
    with pytest.raises(ConfigError, match="a cycle"):
        read("a: &a [1, *a]\n")


def test_depth_is_bounded_in_both_formats():
    read("a: " + "[" * (MAX_DEPTH - 2) + "]" * (MAX_DEPTH - 2) + "\n")
    with pytest.raises(ConfigError, match=f"nested more than {MAX_DEPTH} levels deep"):
        read("a: " + "[" * 300 + "]" * 300 + "\n")
    with pytest.raises(ConfigError, match=r"a\[0\]\[0\].*nested more than"):
        parse_document('{"a": ' + "[" * 300 + "]" * 300 + "}", "json")


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_integers_too_long_for_any_setting_are_named_not_converted(fmt):
    text = (
        "{training: {seed: " + "9" * 5000 + "}}"
        if fmt == "yaml"
        else '{"training": {"seed": ' + "9" * 5000 + "}}"
    )
    with pytest.raises(ConfigError, match=r"training\.seed: an integer of 5000 digits"):
        parse_document(text, fmt)
    assert repr(OversizedInteger(41)) == "an integer of 41 digits"


def test_only_json_values_pass_whatever_the_yaml_tags():
    with pytest.raises(
        ConfigError, match=r"model\.config\.id2label: key 0 must be a string \(quote it: '0'\)"
    ):
        read("model:\n  config: {id2label: {0: neg}}\n")
    with pytest.raises(ConfigError, match=r"model\.config: a set is not a JSON value"):
        read("model:\n  config: !!set {a, b}\n")
    with pytest.raises(ConfigError, match=r"model\.config\.d: a date is not a JSON value"):
        read("model: {config: {d: !!timestamp 2024-01-01}}\n")
