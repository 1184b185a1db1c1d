"""Confidence targeting ⇄ AST: every rule and value type both ways, validation (sheet §4 step 4),
refusals, evaluation per §9 / the resolver spec's ``general`` results, render→parse identity."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from core.errors import Invalid, LimitExceeded, NotExpressible
from core.expr.ast import (
    And,
    Cmp,
    Exists,
    Expr,
    In,
    Like,
    Lit,
    Not,
    Or,
    Quant,
    Regex,
    SegmentRef,
    StrOp,
)
from core.expr.confidence import parse_targeting, render_targeting
from core.expr.evaluate import evaluate
from core.expr.limits import Limits
from core.expr.normalize import normalize
from tests.examples import examples
from tests.unit.expr.ast_strategies import exprs, random_profiles

S = lambda v: Lit("string", v)  # noqa: E731
N = lambda v: Lit("number", v)  # noqa: E731


def attr(rule: str, body: Any, name: str = "f") -> dict[str, Any]:
    return {
        "criteria": {"c": {"attribute": {"attributeName": name, rule: body}}},
        "expression": {"ref": "c"},
    }


PARSED: list[tuple[dict[str, Any], Expr | None]] = [
    ({}, None),
    ({"criteria": {}}, None),
    (attr("eqRule", {"value": {"stringValue": "SE"}}), Cmp("eq", ("f",), S("SE"))),
    (attr("eqRule", {"value": {"numberValue": 12.0}}), Cmp("eq", ("f",), N(12))),
    (attr("eqRule", {"value": {"boolValue": True}}), Cmp("eq", ("f",), Lit("bool", True))),
    (
        attr("eqRule", {"value": {"timestampValue": "2022-11-17T17:16:17.118+02:00"}}),
        Cmp("eq", ("f",), Lit("datetime", "2022-11-17T15:16:17.118Z")),
    ),
    # the resolver compares version *text* for equality
    (
        attr("eqRule", {"value": {"versionValue": {"version": "1.2.3"}}}),
        Cmp("eq", ("f",), S("1.2.3")),
    ),
    (attr("eqRule", {"value": {}}), Not(Exists(("f",)))),
    (
        attr("setRule", {"values": [{"stringValue": "b"}, {"stringValue": "a"}]}),
        In(("f",), (S("a"), S("b"))),
    ),
    (attr("setRule", {"values": []}), In(("f",), ())),
    (
        attr("setRule", {"values": [{"stringValue": "a"}, {}]}),
        Or((Cmp("eq", ("f",), S("a")), Not(Exists(("f",))))),
    ),
    (attr("rangeRule", {"startInclusive": {"numberValue": 18}}), Cmp("ge", ("f",), N(18))),
    (attr("rangeRule", {"startExclusive": {"numberValue": 18}}), Cmp("gt", ("f",), N(18))),
    (attr("rangeRule", {"endInclusive": {"stringValue": "m"}}), Cmp("le", ("f",), S("m"))),
    (
        attr("rangeRule", {"endExclusive": {"versionValue": {"version": "2.0"}}}),
        Cmp("lt", ("f",), Lit("version", "2.0")),
    ),
    (
        attr(
            "rangeRule",
            {"startInclusive": {"numberValue": 18}, "endExclusive": {"numberValue": 65}},
        ),
        Quant("any", ("f",), And((Cmp("ge", (), N(18)), Cmp("lt", (), N(65))))),
    ),
    (
        attr(
            "rangeRule", {"startInclusive": {"numberValue": 5}, "endInclusive": {"numberValue": 5}}
        ),
        Cmp("eq", ("f",), N(5)),
    ),
    (attr("rangeRule", {}), In(("f",), ())),  # no bound: never (resolver spec)
    (attr("startsWithRule", {"value": "test@"}), StrOp("starts_with", ("f",), ("test@",))),
    (attr("endsWithRule", {"value": ".com"}), StrOp("ends_with", ("f",), (".com",))),
    (attr("containsRule", {"value": "repo.*admin"}), StrOp("contains", ("f",), ("repo.*admin",))),
    (
        attr("anyRule", {"rule": {"eqRule": {"value": {"stringValue": "premium"}}}}),
        Cmp("eq", ("f",), S("premium")),
    ),
    (
        attr(
            "allRule",
            {
                "rule": {
                    "rangeRule": {
                        "startInclusive": {"numberValue": 0},
                        "endInclusive": {"numberValue": 100},
                    }
                }
            },
        ),
        Quant("all", ("f",), And((Cmp("ge", (), N(0)), Cmp("le", (), N(100))))),
    ),
    (
        attr("allRule", {"rule": {"containsRule": {"value": "x"}}}),
        Quant("all", ("f",), StrOp("contains", (), ("x",))),
    ),
    (attr("anyRule", {"rule": {"eqRule": {"value": {}}}}), Quant("any", ("f",), Not(Exists(())))),
    (
        attr("eqRule", {"value": {"stringValue": "x"}}, name="user.plan"),
        Cmp("eq", ("user", "plan"), S("x")),
    ),
    (
        {"criteria": {"s": {"segment": {"segment": "segments/base"}}}, "expression": {"ref": "s"}},
        SegmentRef("segments/base"),
    ),
    (
        {
            "criteria": {
                "a": attr("eqRule", {"value": {"stringValue": "1"}}, "x")["criteria"]["c"],
                "b": attr("eqRule", {"value": {"stringValue": "2"}}, "y")["criteria"]["c"],
            },
            "expression": {"or": {"operands": [{"ref": "a"}, {"not": {"ref": "b"}}]}},
        },
        Or((Cmp("eq", ("x",), S("1")), Not(Cmp("eq", ("y",), S("2"))))),
    ),
    (
        {
            "criteria": {
                "a": attr("eqRule", {"value": {"stringValue": "1"}}, "x")["criteria"]["c"]
            },
            "expression": {"and": {"operands": [{"ref": "a"}, {"not": {"not": {"ref": "a"}}}]}},
        },
        Cmp("eq", ("x",), S("1")),
    ),
]


@pytest.mark.parametrize(("targeting", "expected"), PARSED)
def test_parse(targeting: dict[str, Any], expected: Expr | None) -> None:
    assert parse_targeting(targeting) == expected


INVALID: list[tuple[Any, str]] = [
    ([], "targeting"),
    ({"criteria": [], "expression": {"ref": "c"}}, "targeting.criteria"),
    ({"criteria": {}, "expression": {"ref": "c"}}, "targeting.expression.ref"),
    ({"criteria": {"c": {}}, "expression": {"ref": "c"}}, "targeting.criteria.c"),
    (
        {"criteria": {"c": {"attribute": {"attributeName": "f"}}}, "expression": {"ref": "c"}},
        "targeting.criteria.c.attribute",
    ),
    (
        {
            "criteria": {
                "c": {
                    "attribute": {
                        "attributeName": "f",
                        "eqRule": {"value": {}},
                        "setRule": {"values": []},
                    }
                }
            },
            "expression": {"ref": "c"},
        },
        "targeting.criteria.c.attribute",
    ),
    (
        {
            "criteria": {
                "c": {"segment": {"segment": "segments/x"}, "attribute": {"attributeName": "f"}}
            },
            "expression": {"ref": "c"},
        },
        "targeting.criteria.c",
    ),
    (
        {
            "criteria": {"c": {"materializedSegment": {"materializedSegment": "m/x"}}},
            "expression": {"ref": "c"},
        },
        "targeting.criteria.c.materializedSegment",
    ),
    (
        {"criteria": {"c": {"segment": {"segment": "x"}}}, "expression": {"ref": "c"}},
        "targeting.criteria.c.segment.segment",
    ),
    (attr("startsWithRule", {"value": 4}), "targeting.criteria.c.attribute.startsWithRule.value"),
    (
        attr("eqRule", {"value": {"numberValue": "NaN"}}),
        "targeting.criteria.c.attribute.eqRule.value.numberValue",
    ),
    (
        attr("eqRule", {"value": {"stringValue": 5}}),
        "targeting.criteria.c.attribute.eqRule.value.stringValue",
    ),
    (
        attr("eqRule", {"value": {"timestampValue": "tomorrow"}}),
        "targeting.criteria.c.attribute.eqRule.value.timestampValue",
    ),
    (
        attr("eqRule", {"value": {"versionValue": {"version": "v1.2"}}}),
        "targeting.criteria.c.attribute.eqRule.value.versionValue",
    ),
    (
        attr("eqRule", {"value": {"listValue": {"values": []}}}),
        "targeting.criteria.c.attribute.eqRule.value.listValue",
    ),
    (
        attr("eqRule", {"value": {"stringValue": "a", "numberValue": 1}}),
        "targeting.criteria.c.attribute.eqRule.value",
    ),
    (
        attr("setRule", {"values": [{"stringValue": "a"}, {"numberValue": 1}]}),
        "targeting.criteria.c.attribute.setRule.values",
    ),
    (
        attr("rangeRule", {"startInclusive": {"boolValue": True}}),
        "targeting.criteria.c.attribute.rangeRule.startInclusive",
    ),
    (
        attr(
            "rangeRule",
            {"startInclusive": {"numberValue": 1}, "startExclusive": {"numberValue": 2}},
        ),
        "targeting.criteria.c.attribute.rangeRule",
    ),
    (
        attr(
            "rangeRule",
            {"startInclusive": {"numberValue": 1}, "endInclusive": {"stringValue": "z"}},
        ),
        "targeting.criteria.c.attribute.rangeRule",
    ),
    (attr("anyRule", {"rule": {}}), "targeting.criteria.c.attribute.anyRule.rule"),
    (attr("anyRule", {"rule": {"anyRule": {}}}), "targeting.criteria.c.attribute.anyRule.rule"),
    (attr("fooRule", {}), "targeting.criteria.c.attribute.fooRule"),
    (
        {
            "criteria": {"c": {"attribute": {"attributeName": "f", "eqRule": {"value": {}}}}},
            "expression": {"and": {"operands": []}},
        },
        "targeting.expression.and",
    ),
    (
        {
            "criteria": {"c": {"attribute": {"attributeName": "f", "eqRule": {"value": {}}}}},
            "expression": {},
        },
        "targeting.expression",
    ),
    (
        {
            "criteria": {"c": {"attribute": {"attributeName": "f", "eqRule": {"value": {}}}}},
            "expression": {"xor": {}},
        },
        "targeting.expression.xor",
    ),
    (
        {
            "criteria": {"": {"attribute": {"attributeName": "f", "eqRule": {"value": {}}}}},
            "expression": {"ref": ""},
        },
        "targeting.criteria",
    ),
    ({"criteria": {}, "expression": {"ref": "c"}, "extra": 1}, "targeting.extra"),
]


@pytest.mark.parametrize(("targeting", "field"), INVALID)
def test_validation_errors_name_the_field(targeting: Any, field: str) -> None:
    with pytest.raises(Invalid) as exc:
        parse_targeting(targeting)
    assert exc.value.field == field


def test_limits() -> None:
    deep: dict[str, Any] = {"ref": "c"}
    for _ in range(70):
        deep = {"not": deep}
    t = {
        "criteria": {"c": {"attribute": {"attributeName": "f", "eqRule": {"value": {}}}}},
        "expression": deep,
    }
    with pytest.raises(LimitExceeded):
        parse_targeting(t)
    many = attr("setRule", {"values": [{"numberValue": i} for i in range(6)]})
    with pytest.raises(LimitExceeded):
        parse_targeting(many, Limits(max_values=5))


# ----------------------------------------------------------------------------- render


def test_render_ids_in_order_of_first_use_and_reused() -> None:
    a = Cmp("eq", ("x",), S("1"))
    b = StrOp("starts_with", ("y",), ("p",))
    out = render_targeting(Or((And((b, a)), Not(a))))
    assert out["criteria"] == {
        "c0": {"attribute": {"attributeName": "x", "eqRule": {"value": {"stringValue": "1"}}}},
        "c1": {"attribute": {"attributeName": "y", "startsWithRule": {"value": "p"}}},
    }
    assert out["expression"] == {
        "or": {
            "operands": [
                {"and": {"operands": [{"ref": "c0"}, {"ref": "c1"}]}},
                {"not": {"ref": "c0"}},
            ]
        }
    }
    assert render_targeting(None) == {}


def _rule_of(expr: Expr) -> dict[str, Any]:
    out = render_targeting(expr)
    (criterion,) = out["criteria"].values()
    return {"criterion": criterion, "expression": out["expression"]}


RENDERED: list[tuple[Expr, dict[str, Any], dict[str, Any]]] = [
    (
        Exists(("f",)),
        {"attribute": {"attributeName": "f", "eqRule": {"value": {}}}},
        {"not": {"ref": "c0"}},
    ),
    (
        Cmp("eq", ("f",), Lit("version", "1.2")),
        {
            "attribute": {
                "attributeName": "f",
                "rangeRule": {
                    "startInclusive": {"versionValue": {"version": "1.2"}},
                    "endInclusive": {"versionValue": {"version": "1.2"}},
                },
            }
        },
        {"ref": "c0"},
    ),
    (
        Quant("all", ("f",), Not(Cmp("eq", (), S("x")))),
        {"attribute": {"attributeName": "f", "eqRule": {"value": {"stringValue": "x"}}}},
        {"not": {"ref": "c0"}},
    ),
    (
        Quant("any", ("f",), Not(Cmp("eq", (), S("x")))),
        {
            "attribute": {
                "attributeName": "f",
                "allRule": {"rule": {"eqRule": {"value": {"stringValue": "x"}}}},
            }
        },
        {"not": {"ref": "c0"}},
    ),
    (
        Cmp("lt", ("f",), Lit("datetime", "2024-01-01T00:00:00Z")),
        {
            "attribute": {
                "attributeName": "f",
                "rangeRule": {"endExclusive": {"timestampValue": "2024-01-01T00:00:00Z"}},
            }
        },
        {"ref": "c0"},
    ),
    (
        Like(("f",), "%abc%"),
        {"attribute": {"attributeName": "f", "containsRule": {"value": "abc"}}},
        {"ref": "c0"},
    ),
]


@pytest.mark.parametrize(("expr", "criterion", "expression"), RENDERED)
def test_render(expr: Expr, criterion: dict[str, Any], expression: dict[str, Any]) -> None:
    assert _rule_of(expr) == {"criterion": criterion, "expression": expression}


def test_ne_renders_as_below_or_above() -> None:
    out = render_targeting(Cmp("ne", ("f",), N(3)))
    assert len(out["criteria"]) == 2 and "or" in out["expression"]
    assert parse_targeting(out) == Cmp("ne", ("f",), N(3))


REFUSED: list[Expr] = [
    Cmp("eq", ("f",), S("a"), ci=True),
    StrOp("contains", ("f",), ("a",), ci=True),
    Like(("f",), "a_c"),
    Regex(("f",), "^a"),
    Cmp("eq", ("f",), Lit("semver", "1.2.3")),
    Cmp("eq", ("f",), Lit("date", "2024-01-01")),
    Cmp("lt", ("f",), Lit("bool", True)),
    Cmp("ne", ("f",), Lit("semver", "1.2.3")),
    Quant("all", ("f",), Cmp("eq", ("a",), S("x"))),  # inner rules see the element itself
    Quant("all", ("f",), Or((Cmp("eq", (), S("x")), StrOp("contains", (), ("y",))))),
    Quant("all", ("f",), StrOp("contains", (), ("x", "y"))),
    Cmp("eq", ("a.b",), S("x")),
]


@pytest.mark.parametrize("expr", REFUSED)
def test_refusals(expr: Expr) -> None:
    with pytest.raises(NotExpressible) as exc:
        render_targeting(expr)
    assert exc.value.language == "confidence"


@settings(max_examples=examples(400), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expr=exprs())
def test_render_then_parse_is_the_normal_form(expr: Expr) -> None:
    try:
        rendered = render_targeting(expr)
    except NotExpressible:
        return
    assert parse_targeting(rendered) == normalize(expr)


CORPUS = random_profiles(150, seed=13)


@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expr=exprs())
def test_rendering_never_changes_who_matches(expr: Expr) -> None:
    try:
        back = parse_targeting(render_targeting(expr))
    except NotExpressible:
        return
    for profile in CORPUS:
        assert evaluate(back, profile) == evaluate(expr, profile), profile


# ----------------------------------------------------------------------------- §9 semantics

EQ_SE = attr("eqRule", {"value": {"stringValue": "SE"}}, "country")
RANGE = attr(
    "rangeRule", {"startInclusive": {"numberValue": 18}, "endExclusive": {"numberValue": 65}}, "age"
)
ALL_0_100 = attr(
    "allRule",
    {
        "rule": {
            "rangeRule": {
                "startInclusive": {"numberValue": 0},
                "endInclusive": {"numberValue": 100},
            }
        }
    },
    "scores",
)
ANY_PREMIUM = attr("anyRule", {"rule": {"eqRule": {"value": {"stringValue": "premium"}}}}, "tags")
IS_NULL = attr("eqRule", {"value": {}}, "n")
STARTS_4 = attr("startsWithRule", {"value": "4"}, "code")
CONTAINS_BAR = attr("containsRule", {"value": "bar"}, "text")
TS = attr(
    "rangeRule", {"startInclusive": {"timestampValue": "2022-11-17T15:16:17.118Z"}}, "releaseTime"
)
VERSION = attr("rangeRule", {"startInclusive": {"versionValue": {"version": "2.0.0"}}}, "version")


def _not(t: dict[str, Any]) -> dict[str, Any]:
    return {**t, "expression": {"not": t["expression"]}}


SPEC = [
    # resolver-spec tests.json, "general" results (case name, targeting, context, match)
    ("targeting_eq_match", EQ_SE, {"country": "SE"}, True),
    ("eq_with_input_list", EQ_SE, {"country": ["SE", "US"]}, True),
    ("range_with_input_list", RANGE, {"age": [25, 5]}, True),
    ("range: one element must be in range", RANGE, {"age": [70, 5]}, False),
    ("range_no_match", RANGE, {"age": 5}, False),
    ("targeting_missing_attribute", EQ_SE, {}, False),
    ("all_rule_empty_list", ALL_0_100, {"scores": []}, True),
    ("all_rule_null_list", ALL_0_100, {"scores": None}, True),
    ("all_rule_missing_field", ALL_0_100, {}, True),
    ("all_rule_heterogeneous", ALL_0_100, {"scores": [10, "text", 50]}, False),
    ("all_rule_one_element_fails", ALL_0_100, {"scores": [10, 50, 200]}, False),
    ("not_all_null_list", _not(ALL_0_100), {"scores": None}, False),
    ("not_all_some_outside", _not(ALL_0_100), {"scores": [10, 200]}, True),
    ("any_rule_empty_list", ANY_PREMIUM, {"tags": []}, False),
    ("any_rule_null_list", ANY_PREMIUM, {"tags": None}, False),
    ("any_rule_nested_list", ANY_PREMIUM, {"tags": [["premium"]]}, False),
    ("not_any_missing_field", _not(ANY_PREMIUM), {}, True),
    ("is_null_explicit", IS_NULL, {"n": None}, True),
    ("is_null_implicit", IS_NULL, {}, True),
    ("is_null_non_null_value", IS_NULL, {"n": "hello"}, False),
    ("is_not_null_missing", _not(IS_NULL), {}, False),
    ("starts_with_numeric_context_no_match", STARTS_4, {"code": 42}, False),
    ("contains_non_string_no_match", CONTAINS_BAR, {"text": 123}, False),
    ("targeting_contains_mixed_list", CONTAINS_BAR, {"text": [123, False, "crowbar"]}, True),
    ("contains_null_no_match", CONTAINS_BAR, {"text": None}, False),
    (
        "contains_unicode_normalization_no_match",
        attr("containsRule", {"value": "é"}, "w"),
        {"w": "cafe\u0301"},
        False,
    ),
    ("not_contains_non_string_match", _not(CONTAINS_BAR), {"text": 42}, True),
    ("empty_set_rule", attr("setRule", {"values": []}, "country"), {"country": "SE"}, False),
    ("empty_range_rule", attr("rangeRule", {}, "score"), {"score": 50}, False),
    ("timestamp_match", TS, {"releaseTime": "2022-11-17T15:16:17.200Z"}, True),
    ("timestamp_no_match", TS, {"releaseTime": "2022-11-17T15:16:17.000Z"}, False),
    ("timestamp_bad_value", TS, {"releaseTime": ""}, False),
    ("timestamp_epoch_seconds_number", TS, {"releaseTime": 1668698178}, True),
    ("timestamp_epoch_millis_number", TS, {"releaseTime": 1668698177200}, True),
    ("semver_match", VERSION, {"version": "10.0.0"}, True),
    ("semver_no_match", VERSION, {"version": "1.0.0"}, False),
    ("version: text after - is dropped", VERSION, {"version": "2.0.0-beta"}, True),
    (
        "version: 1.0.1000 reads as 1.0.0.1000",
        attr("rangeRule", {"startInclusive": {"versionValue": {"version": "1.0.0.999"}}}, "v"),
        {"v": "1.0.1000"},
        True,
    ),
    (
        "number rule parses strings (§9 coercion)",
        attr("eqRule", {"value": {"numberValue": 12}}),
        {"f": "12.0"},
        True,
    ),
    (
        "string rule sees numbers as text (§9 coercion)",
        attr("eqRule", {"value": {"stringValue": "12"}}),
        {"f": 12.0},
        True,
    ),
    (
        "bool rule parses true/false strings",
        attr("eqRule", {"value": {"boolValue": True}}),
        {"f": "true"},
        True,
    ),
]


@pytest.mark.parametrize(("name", "targeting", "context", "expected"), SPEC)
def test_resolver_spec(
    name: str, targeting: dict[str, Any], context: dict[str, Any], expected: bool
) -> None:
    assert evaluate(parse_targeting(targeting), context) is expected, name


def test_segment_criteria_ask_the_resolver() -> None:
    t = {"criteria": {"s": {"segment": {"segment": "segments/se"}}}, "expression": {"ref": "s"}}
    seen: list[str] = []

    def resolve(ref: str, ctx: Any) -> bool:
        seen.append(ref)
        return ctx.get("country") == "SE"

    assert evaluate(parse_targeting(t), {"country": "SE"}, resolve) is True
    assert seen == ["segments/se"]
    assert evaluate(parse_targeting(t), {"country": "SE"}) is False  # unknown segment: no match
