"""Strategy variants as Unleash 8.2.0 keeps them (core.strategy_variants): weights shared
out of 1000, the order SDKs walk, and the refusals (the real server's answers to the same
inputs are recorded in tests/interop/test_unleash_admin_recording.py)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.constraints import SchemaInvalid
from core.errors import Invalid
from core.strategy_variants import strategy_variants


def v(name: str, weight: int = 1000, kind: str = "variable", **extra: Any) -> dict[str, Any]:
    return {"name": name, "weight": weight, "weightType": kind, "stickiness": "default", **extra}


def test_no_variants_stay_none() -> None:
    assert strategy_variants([]) == []


def test_variable_weights_share_what_fix_ones_leave() -> None:
    out = strategy_variants([v("b", 300, "fix"), v("a", 1), v("c", 1)])
    assert [(x["name"], x["weight"]) for x in out] == [("a", 350), ("b", 300), ("c", 350)]


def test_the_first_variants_sent_get_the_remainder() -> None:
    out = strategy_variants([v("c"), v("b"), v("a")])
    assert {x["name"]: x["weight"] for x in out} == {"c": 334, "b": 333, "a": 333}


def test_order_is_javascripts_locale_compare() -> None:
    names = ["B", "a", "_z", "-y", "9", "~", "b", "(p)", "*", "!x", "'q", ".d"]
    out = strategy_variants([v(n, 1) for n in names])
    # What unleash-server 8.2.0 stored for the first seven (observed), the rest by ICU's order.
    assert [x["name"] for x in out] == [
        "_z",
        "-y",
        "!x",
        ".d",
        "'q",
        "(p)",
        "*",
        "~",
        "9",
        "a",
        "b",
        "B",
    ]


def test_input_is_not_changed() -> None:
    sent = [v("a", 5)]
    strategy_variants(sent)
    assert sent == [v("a", 5)]


@pytest.mark.parametrize(
    ("variants", "message"),
    [
        ([v("a", kind="fix")], 'There must be at least one "variable" variant'),
        (
            [v("a", 700, "fix"), v("b", 301, "fix"), v("c")],
            "The traffic distribution total must equal 100%",
        ),
    ],
)
def test_weight_rules(variants: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(Invalid) as err:
        strategy_variants(variants)
    assert err.value.reason == message


@pytest.mark.parametrize(
    ("variant", "field", "reason"),
    [
        (v(""), "[0].name", "is not allowed to be empty"),
        (v("a b"), "[0].name", "must be URL friendly"),
        (v(".."), "[0].name", "must be URL friendly"),
        (v("a" * 101), "[0].name", "length must be less than or equal to 100 characters long"),
        ({**v("a"), "stickiness": ""}, "[0].stickiness", "is not allowed to be empty"),
        (
            v("a", payload={"type": "string", "value": ""}),
            "[0].payload.value",
            "is not allowed to be empty",
        ),
        (
            v("a", payload={"type": "json", "value": "1"}),
            "",
            "'value' must be a valid json string when 'type' is json",
        ),
        (
            v("a", payload={"type": "json", "value": "null"}),
            "",
            "'value' must be a valid json string when 'type' is json",
        ),
        (
            v("a", payload={"type": "string", "value": "x", "y": 1}),
            "[0].payload.y",
            "is not allowed",
        ),
        (v("a", extra=1), "[0].extra", "is not allowed"),
        (v("a", overrides="x"), "[0].overrides", "must be an array"),
        (v("a", overrides=[{"values": []}]), "[0].overrides[0].contextName", "is required"),
        (
            v("a", overrides=[{"contextName": "u", "values": [1]}]),
            "[0].overrides[0].values[0]",
            "must be a string",
        ),
    ],
)
def test_joi_refusals(variant: dict[str, Any], field: str, reason: str) -> None:
    with pytest.raises(SchemaInvalid) as err:
        strategy_variants([variant])
    assert (err.value.field, err.value.reason) == (field, reason)


def test_json_payloads_that_are_objects_or_arrays_pass() -> None:
    for value in ('{"a": 1}', "[1, 2]", " {} "):
        assert strategy_variants([v("a", payload={"type": "json", "value": value})])


def test_duplicates_are_named_by_the_second() -> None:
    with pytest.raises(SchemaInvalid) as err:
        strategy_variants([v("a"), v("b"), v("a", 3)])
    assert (err.value.field, err.value.reason, err.value.value) == (
        "[2]",
        "contains a duplicate value",
        v("a", 3),
    )


NAMES = st.text(alphabet="abcAB09_-.!~*'()", min_size=1, max_size=6).filter(
    lambda s: s not in (".", "..")
)


@given(st.lists(NAMES, min_size=1, max_size=8, unique=True), st.integers(0, 1000))
def test_weights_always_add_up_to_1000(names: list[str], fixed: int) -> None:
    variants = (
        [v(names[0], fixed, "fix"), *(v(n) for n in names[1:])] if len(names) > 1 else [v(names[0])]
    )
    out = strategy_variants(variants)
    assert sum(x["weight"] for x in out) == 1000
    assert sorted(x["name"] for x in out) == sorted(names)
