"""pql/json: the documented conversion byte for byte, every fnName and literalType, errors."""

from __future__ import annotations

import json

import pytest

from core.errors import Invalid, LimitExceeded, NotExpressible
from core.expr.ast import (
    And,
    Cmp,
    CmpAttr,
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
from core.expr.limits import Limits
from core.expr.pql import parse_pql
from core.expr.pql_render import render_pql
from core.expr.pqljson import parse_pqljson, render_pqljson

DOCUMENTED_TEXT = 'workAddress.country = "US"'
DOCUMENTED_JSON = (
    '{"nodeType":"fnApply","fnName":"=","params":[{"nodeType":"fieldLookup","fieldName":"country",'
    '"object":{"nodeType":"fieldLookup","fieldName":"workAddress","object":{"nodeType":'
    '"parameterReference","position":1}}},{"nodeType":"literal","literalType":"String","value":"US"}]}'
)
SPEC_CREATE_EXAMPLE = (
    '{"nodeType":"fnApply","fnName":"=","params":[{"nodeType":"fieldLookup","fieldName":"a",'
    '"object":{"nodeType":"parameterReference","position":1}},{"nodeType":"fieldLookup",'
    '"fieldName":"b","object":{"nodeType":"parameterReference","position":1}}]}'
)

A = ("a",)
PROFILE = {"nodeType": "parameterReference", "position": 1}


def field(name: str, parent: dict[str, object] = PROFILE) -> dict[str, object]:
    return {"nodeType": "fieldLookup", "fieldName": name, "object": parent}


def lit(kind: str, value: object) -> dict[str, object]:
    return {"nodeType": "literal", "literalType": kind, "value": value}


def fn(name: str, *params: object) -> dict[str, object]:
    return {"nodeType": "fnApply", "fnName": name, "params": list(params)}


def compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def test_documented_conversion_text_to_json_is_byte_exact() -> None:
    assert render_pqljson(parse_pql(DOCUMENTED_TEXT)) == DOCUMENTED_JSON


def test_documented_conversion_json_to_text() -> None:
    expr = parse_pqljson(DOCUMENTED_JSON)
    assert expr == Cmp("eq", ("workAddress", "country"), Lit("string", "US"))
    assert render_pql(expr) == DOCUMENTED_TEXT


def test_spec_example_compares_two_attributes() -> None:
    assert parse_pqljson(SPEC_CREATE_EXAMPLE) == CmpAttr("eq", ("a",), ("b",))
    assert render_pqljson(CmpAttr("eq", ("a",), ("b",))) == SPEC_CREATE_EXAMPLE


def test_everyone() -> None:
    assert render_pqljson(None) == '{"nodeType":"literal","literalType":"Boolean","value":true}'
    assert parse_pqljson(render_pqljson(None)) is None
    assert parse_pqljson(lit("Boolean", True)) is None


# Every fnName and literalType, as emitted (compact, documented key order) and read back.
EMITTED: list[tuple[Expr, object]] = [
    (Cmp("ne", A, Lit("string", "x")), fn("!=", field("a"), lit("String", "x"))),
    (Cmp("lt", A, Lit("number", 1)), fn("<", field("a"), lit("Integer", 1))),
    (Cmp("le", A, Lit("number", 1.5)), fn("<=", field("a"), lit("Double", 1.5))),
    (Cmp("gt", A, Lit("bool", True)), fn(">", field("a"), lit("Boolean", True))),
    (Cmp("ge", A, Lit("date", "2020-03-14")), fn(">=", field("a"), lit("Date", "2020-03-14"))),
    (
        Cmp("eq", A, Lit("string", "x"), ci=True),
        fn("equals", field("a"), lit("String", "x"), lit("Boolean", False)),
    ),
    (
        Cmp("ne", A, Lit("string", "x"), ci=True),
        fn("notEqualTo", field("a"), lit("String", "x"), lit("Boolean", False)),
    ),
    (
        In(A, (Lit("number", 1), Lit("number", 2))),
        fn("in", field("a"), lit("Array", [lit("Integer", 1), lit("Integer", 2)])),
    ),
    (
        And((Exists(A), Not(In(A, (Lit("string", "x"),))))),
        fn("notIn", field("a"), lit("Array", [lit("String", "x")])),
    ),
    (Like(A, "%es%"), fn("like", field("a"), lit("String", "%es%"))),
    (StrOp("starts_with", A, ("J",)), fn("startsWith", field("a"), lit("String", "J"))),
    (
        StrOp("ends_with", A, ("J",), ci=True),
        fn("endsWith", field("a"), lit("String", "J"), lit("Boolean", False)),
    ),
    (StrOp("contains", A, ("J",)), fn("contains", field("a"), lit("String", "J"))),
    (
        And((Exists(A), Not(StrOp("starts_with", A, ("J",))))),
        fn("doesNotStartWith", field("a"), lit("String", "J")),
    ),
    (
        And((Exists(A), Not(StrOp("ends_with", A, ("J",))))),
        fn("doesNotEndWith", field("a"), lit("String", "J")),
    ),
    (
        And((Exists(A), Not(StrOp("contains", A, ("J",), ci=True)))),
        fn("doesNotContain", field("a"), lit("String", "J"), lit("Boolean", False)),
    ),
    (Regex(A, "^J"), fn("matches", field("a"), lit("String", "^J"))),
    (Exists(A), fn("isNotNull", field("a"))),
    (Not(Exists(A)), fn("isNull", field("a"))),
    (Not(Exists(A)), fn("isNull", field("a"))),
    (
        Or((Exists(A), Exists(("b",)), Exists(("c",)))),
        fn(
            "or",
            fn("isNotNull", field("a")),
            fn("isNotNull", field("b")),
            fn("isNotNull", field("c")),
        ),
    ),
    (
        And((Exists(A), Not(Exists(("b",))))),
        fn("and", fn("isNotNull", field("a")), fn("isNull", field("b"))),
    ),
    (Not(Cmp("eq", A, Lit("number", 1))), fn("not", fn("=", field("a"), lit("Integer", 1)))),
    (
        Quant("any", ("orders",), Cmp("gt", ("price",), Lit("number", 50))),
        fn(
            "exists",
            field("orders"),
            fn(
                ">",
                field("price", {"nodeType": "parameterReference", "position": 2}),
                lit("Integer", 50),
            ),
        ),
    ),
    (
        Quant("all", A, Quant("any", ("b",), Exists(()))),
        fn(
            "forall",
            field("a"),
            fn(
                "exists",
                field("b", {"nodeType": "parameterReference", "position": 2}),
                fn("isNotNull", {"nodeType": "parameterReference", "position": 3}),
            ),
        ),
    ),
]


@pytest.mark.parametrize(("expr", "node"), EMITTED)
def test_render_exact(expr: Expr, node: object) -> None:
    assert render_pqljson(expr) == compact(node)


@pytest.mark.parametrize(("expr", "node"), EMITTED)
def test_parse_text_and_object(expr: Expr, node: object) -> None:
    assert parse_pqljson(compact(node)) == expr
    assert isinstance(node, dict)
    assert parse_pqljson(node) == expr


TEXTS = [
    'a.b != "x" and c < 3 or not (d.startsWith("a", false))',
    "exists X from orders where X.price > 50 and X.sku.isNotNull()",
    'a notIn [1, 2] and b.doesNotContain("z") and c in [date(2020, 1, 2)]',
    '(P) => P.a.equals("x", false) or P.b.notEqualTo("y", false) or P.c like "%"',
    'forall X from a: exists Y from X.b where Y.matches("^q")',
    '"US" = a and 3 >= b and $1.not = true',
    "true",
]


@pytest.mark.parametrize("text", TEXTS)
def test_text_and_json_agree(text: str) -> None:
    expr = parse_pql(text)
    assert parse_pqljson(render_pqljson(expr)) == expr
    assert render_pql(parse_pqljson(render_pqljson(expr))) == render_pql(expr)


READ: list[tuple[object, Expr]] = [
    # accepted though never emitted
    (fn("=", lit("String", "US"), field("a")), Cmp("eq", A, Lit("string", "US"))),
    (fn("<", lit("Integer", 1), field("a")), Cmp("gt", A, Lit("number", 1))),
    (fn("=", field("a"), lit("Double", 3.0)), Cmp("eq", A, Lit("number", 3))),
    (fn("=", field("a"), lit("Double", 3)), Cmp("eq", A, Lit("number", 3))),
    (fn("equals", field("a"), lit("String", "x")), Cmp("eq", A, Lit("string", "x"))),
    (
        fn("equals", field("a"), lit("String", "x"), lit("Boolean", True)),
        Cmp("eq", A, Lit("string", "x")),
    ),
    (fn("and", fn("isNotNull", field("a"))), Exists(A)),
    (
        fn(
            "and",
            fn("isNotNull", field("a")),
            fn("and", fn("isNull", field("b")), fn("isNull", field("c"))),
        ),
        And((Exists(A), Not(Exists(("b",))), Not(Exists(("c",))))),
    ),
    (
        fn("and", fn("notIn", field("a"), lit("Array", [])), fn("isNull", field("b"))),
        And((Exists(A), Not(In(A, ())), Not(Exists(("b",))))),
    ),
    (
        {**fn("isNull", field("a")), "extra": "ignored"},
        Not(Exists(A)),
    ),
]


def test_in_segment_reads_as_a_segment_reference() -> None:
    node = fn("inSegment", lit("String", "7ba8b3ba-c1ba-4b4a-bf62-c91ee0d0d948"))
    assert parse_pqljson(compact(node)) == SegmentRef("7ba8b3ba-c1ba-4b4a-bf62-c91ee0d0d948")


@pytest.mark.parametrize(("node", "expr"), READ)
def test_parse_lenient_forms(node: object, expr: Expr) -> None:
    assert parse_pqljson(compact(node)) == expr


ERRORS: list[tuple[object, str]] = [
    (fn("count", field("a")), "count() is a value, not a condition: compare it (at $)"),
    (fn(">", fn("sum", field("a")), lit("Integer", 1)), "aggregation sum() is not supported"),
    (fn(">", fn("count", field("a")), lit("String", "1")), "count() is compared with a number"),
    (fn("inSegment", lit("Integer", 1)), "expected a string literal"),
    (fn("inSegment", lit("String", "")), "inSegment() needs a segment id"),
    (fn("inSegment"), "inSegment takes 1 operand(s), got 0"),
    (fn("if", lit("Boolean", True)), "if() is not supported"),
    (fn("+", field("a"), lit("Integer", 1)), "+() is a value, not a condition"),
    (fn("and"), "and needs at least one condition (at $)"),
    (fn("not"), "not takes 1 operand(s), got 0"),
    (fn("=", field("a")), "= takes 2 operand(s), got 1"),
    (fn("=", lit("Integer", 1), lit("Integer", 2)), "a comparison needs an attribute on one side"),
    (
        fn("=", field("a"), lit("Date", "2020-02-30")),
        "'2020-02-30' is not a valid Date literal (at $.params[1])",
    ),
    (fn("=", field("a"), lit("Integer", "1")), "'1' is not a valid Integer literal"),
    (fn("=", field("a"), lit("Integer", True)), "True is not a valid Integer literal"),
    (fn("=", field("a"), lit("Timestamp", 1)), "unknown literalType 'Timestamp'"),
    (fn("=", field("a"), lit("Array", [])), "a list can only follow in / notIn"),
    (fn("=", fn("isNull", field("a")), lit("Boolean", True)), "isNull is a condition, not a value"),
    (fn("in", field("a"), lit("String", "x")), "in / notIn takes a list of literals"),
    (fn("in", field("a"), lit("Array", "x")), "an Array literal's value must be a list"),
    (
        fn("in", field("a"), lit("Array", [lit("Integer", 1), lit("String", "x")])),
        "all be of one type",
    ),
    (
        fn("in", field("a"), lit("Array", [lit("Array", [])])),
        "a list can only follow in / notIn (at $.params[1].value[0])",
    ),
    (fn("like", field("a"), lit("Integer", 1)), "expected a string literal (at $.params[1])"),
    (
        fn("startsWith", field("a"), lit("String", "x"), lit("String", "no")),
        "the case-sensitivity flag",
    ),
    (fn("matches", field("a"), lit("String", "(?!x)")), "lookaround"),
    (fn("isNull", lit("String", "x")), "expected an attribute, got a literal"),
    (
        fn("isNull", field("a", fn("isNull", field("b")))),
        "expected an attribute (fieldLookup on a parameterReference)",
    ),
    (fn("isNull", {"nodeType": "parameterReference", "position": 1}), "$1 is the profile itself"),
    (
        fn("isNull", field("a", {"nodeType": "parameterReference", "position": 2})),
        "$2 is not a parameter",
    ),
    (
        fn("exists", field("a"), fn("isNull", field("b"))),
        "a path must start at the quantifier's variable (at $.params[1].params[0])",
    ),
    (field("a"), "an attribute alone is not a condition"),
    (lit("String", "x"), "a literal alone is not a condition"),
    (lit("Boolean", False), "false alone (a condition no profile matches) is not supported"),
    (fn("not", lit("Boolean", True)), "true/false can only stand alone as the whole condition"),
]


@pytest.mark.parametrize(("node", "message"), ERRORS)
def test_errors(node: object, message: str) -> None:
    with pytest.raises(Invalid) as info:
        parse_pqljson(compact(node))
    assert message in info.value.reason
    assert info.value.field == "expression"


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ('{"nodeType": tru}', "pql/json is not valid JSON", 14),
        ("", "pql/json is not valid JSON", None),
        ('{"nodeType":"fnApply","fnName":"="}', "Object missing required field `params`", None),
        ('{"nodeType":"select"}', "Invalid value 'select' - at `$.nodeType`", None),
        (
            '{"nodeType":"fnApply","fnName":1,"params":[]}',
            "Expected `str`, got `int` - at `$.fnName`",
            None,
        ),
        ("[]", "Expected `object`, got `array`", None),
    ],
)
def test_malformed_json(text: str, message: str, position: int | None) -> None:
    with pytest.raises(Invalid) as info:
        parse_pqljson(text)
    assert message in info.value.reason
    if position is not None:
        assert info.value.position == position


def test_object_input_errors() -> None:
    with pytest.raises(Invalid, match="Expected `object`, got `array`"):
        parse_pqljson([fn("isNull", field("a"))])
    with pytest.raises(Invalid, match="pql/json"):
        parse_pqljson({"nodeType": "literal", "literalType": "String", "value": {1, 2}})


NOT_EXPRESSIBLE: list[tuple[Expr, str]] = [
    (Cmp("eq", A, Lit("datetime", "2020-01-01T00:00:00Z")), "PQL has no datetime literal"),
    (Cmp("eq", A, Lit("semver", "1.0.0")), "PQL has no semver literal"),
    (Regex(A, "x", ci=True), "matches() has no case-insensitive"),
    (StrOp("contains", A, ()), "no values"),
    (Exists(()), "empty path"),
]


@pytest.mark.parametrize(("expr", "reason"), NOT_EXPRESSIBLE)
def test_not_expressible(expr: Expr, reason: str) -> None:
    with pytest.raises(NotExpressible) as info:
        render_pqljson(expr)
    assert info.value.language == "pql/json"
    assert reason in info.value.reason


def test_any_attribute_name_is_expressible_in_json() -> None:
    expr = Cmp("eq", ("a-b", "", "c d"), Lit("string", "é"))
    text = render_pqljson(expr)
    assert '"fieldName":"a-b"' in text and '"value":"é"' in text
    assert parse_pqljson(text) == expr
    with pytest.raises(NotExpressible):
        render_pql(expr)  # but not in PQL text


# --------------------------------------------------------------------------------- limits


def test_too_long() -> None:
    with pytest.raises(LimitExceeded, match="longer than 65536"):
        parse_pqljson(" " * 1_000_000 + DOCUMENTED_JSON)
    with pytest.raises(LimitExceeded, match="longer than 100"):
        parse_pqljson(json.loads(DOCUMENTED_JSON) | {"pad": "x" * 100}, Limits(max_text=100))


def test_deep_json_text_is_refused_before_decoding() -> None:
    with pytest.raises(LimitExceeded, match="nests deeper than 192") as info:
        parse_pqljson("[" * 30_000 + "]" * 30_000)
    assert info.value.position == 192
    deep = '{"nodeType":"fnApply","fnName":"not","params":[' * 1000
    with pytest.raises(LimitExceeded):
        parse_pqljson(deep + lit_text() + "]}" * 1000)


def lit_text() -> str:
    return compact(fn("isNull", field("a")))


def test_deep_object_is_refused_without_recursion() -> None:
    node: dict[str, object] = fn("isNull", field("a"))
    for _ in range(100_000):
        node = fn("not", node)
    with pytest.raises(LimitExceeded, match="nests deeper than 192"):
        parse_pqljson(node)


def test_condition_depth_is_exact() -> None:
    node: dict[str, object] = fn("isNull", field("a"))
    for _ in range(63):
        node = fn("not", node)
    assert parse_pqljson(node) is not None
    with pytest.raises(LimitExceeded, match="nests deeper than 64 levels"):
        parse_pqljson(fn("not", node))


def test_set_size_limit() -> None:
    values = [lit("Integer", i) for i in range(11)]
    with pytest.raises(LimitExceeded, match="more than 10 values"):
        parse_pqljson(fn("in", field("a"), lit("Array", values)), Limits(max_values=10))
    assert parse_pqljson(fn("in", field("a"), lit("Array", values[:10])), Limits(max_values=10))
