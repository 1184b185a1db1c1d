"""OData $filter: parsing to the AST, rendering from it, errors and limits."""

from __future__ import annotations

import pytest

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
from core.expr.limits import Limits
from core.expr.odata import parse_odata, render_odata


def s(value: str) -> Lit:
    return Lit("string", value)


def n(value: float) -> Lit:
    return Lit("number", value)


def instant(value: str) -> Lit:
    return Lit("datetime", value)


A, B, C = ("a",), ("b",), ("c",)
A1, B1, C1 = Cmp("eq", A, n(1)), Cmp("eq", B, n(2)), Cmp("eq", C, n(3))

PARSES: list[tuple[str, Expr | None]] = [
    ("(demographics/age/value eq '30')", Cmp("eq", ("demographics", "age", "value"), s("30"))),
    ("a eq 'it''s'", Cmp("eq", A, s("it's"))),
    ("a eq ''", Cmp("eq", A, s(""))),
    ("a ne 'x'", Not(Cmp("eq", A, s("x")))),
    ("a gt 1", Cmp("gt", A, n(1))),
    ("a ge -1.5", Cmp("ge", A, n(-1.5))),
    ("a lt 1e3", Cmp("lt", A, n(1000))),
    ("a le 2.0", Cmp("le", A, n(2))),
    ("a eq true", Cmp("eq", A, Lit("bool", True))),
    ("a eq false", Cmp("eq", A, Lit("bool", False))),
    ("a eq null", Not(Exists(A))),
    ("a ne null", Exists(A)),
    ("null eq a", Not(Exists(A))),
    ("5 lt a", Cmp("gt", A, n(5))),
    ("'x' ne a", Not(Cmp("eq", A, s("x")))),
    (
        "dateCreated lt 2018-02-13T12:33:12Z",
        Cmp("lt", ("dateCreated",), instant("2018-02-13T12:33:12Z")),
    ),
    ("d ge 2018-02-13T12:33:12.250+01:00", Cmp("ge", ("d",), instant("2018-02-13T11:33:12.250Z"))),
    ("d ge 2018-02-13t12:33z", Cmp("ge", ("d",), instant("2018-02-13T12:33:00Z"))),
    ("d ge 2018-02-13T23:30:00-01:00", Cmp("ge", ("d",), instant("2018-02-14T00:30:00Z"))),
    ("d le 0999-01-01T00:00:00.000001Z", Cmp("le", ("d",), instant("0999-01-01T00:00:00.000001Z"))),
    ("d eq 2018-02-13", Cmp("eq", ("d",), Lit("date", "2018-02-13"))),
    ("a in ('x', 'y')", In(A, (s("x"), s("y")))),
    ("a in (1)", In(A, (n(1),))),
    (
        "a in (2018-01-01, 2018-01-02)",
        In(A, (Lit("date", "2018-01-01"), Lit("date", "2018-01-02"))),
    ),
    ("startswith(name,'Jo')", StrOp("starts_with", ("name",), ("Jo",))),
    ("endswith(name, 'son')", StrOp("ends_with", ("name",), ("son",))),
    ("contains(a/b,'x''y')", StrOp("contains", ("a", "b"), ("x'y",))),
    ("not contains(a,'x')", Not(StrOp("contains", A, ("x",)))),
    ("a eq 1 and b eq 2", And((A1, B1))),
    ("a eq 1 or b eq 2", Or((A1, B1))),
    ("a eq 1 or b eq 2 and c eq 3", Or((A1, And((B1, C1))))),
    ("(a eq 1 or b eq 2) and c eq 3", And((Or((A1, B1)), C1))),
    ("a eq 1 and (b eq 2 and c eq 3)", And((A1, B1, C1))),
    ("not (a eq 1)", Not(A1)),
    ("not a eq 1", Not(A1)),
    ("not not (a eq 1)", Not(Not(A1))),
    ("not (a eq null)", Not(Not(Exists(A)))),
    ("$it/a eq 1", A1),
    ("$it/not/true eq 1", Cmp("eq", ("not", "true"), n(1))),
    ("a/not/eq eq 1", Cmp("eq", ("a", "not", "eq"), n(1))),
    ("tags/any(t: t eq 'a')", Quant("any", ("tags",), Cmp("eq", (), s("a")))),
    ("items/all(i: i/price gt 5)", Quant("all", ("items",), Cmp("gt", ("price",), n(5)))),
    (
        "a/any(x: x/b/any(y: startswith(y,'q')) and x/c ne null)",
        Quant("any", A, And((Quant("any", B, StrOp("starts_with", (), ("q",))), Exists(C)))),
    ),
    ("a/any(x: x/any(x: x eq 1))", Quant("any", A, Quant("any", (), Cmp("eq", (), n(1))))),
    ("true", None),
    (" ( true ) ", None),
]


@pytest.mark.parametrize(("text", "expected"), PARSES)
def test_parse(text: str, expected: Expr | None) -> None:
    assert parse_odata(text) == expected


@pytest.mark.parametrize(("text", "expected"), PARSES)
def test_render_parses_back(text: str, expected: Expr | None) -> None:
    assert parse_odata(render_odata(expected)) == expected


RENDERS: list[tuple[Expr | None, str]] = [
    (None, "true"),
    (Cmp("eq", ("demographics", "age", "value"), s("30")), "demographics/age/value eq '30'"),
    (Cmp("eq", A, s("it's")), "a eq 'it''s'"),
    (Not(Cmp("eq", A, s("x"))), "a ne 'x'"),
    (Cmp("gt", A, n(1)), "a gt 1"),
    (Cmp("ge", A, n(0.5)), "a ge 0.5"),
    (Cmp("lt", A, n(1e-7)), "a lt 1e-07"),
    (Cmp("le", A, n(3.0)), "a le 3"),
    (Cmp("eq", A, Lit("bool", False)), "a eq false"),
    (Cmp("lt", A, instant("2018-02-13T12:33:12Z")), "a lt 2018-02-13T12:33:12Z"),
    (Cmp("eq", A, Lit("date", "2018-02-13")), "a eq 2018-02-13"),
    (Exists(A), "a ne null"),
    (Not(Exists(A)), "a eq null"),
    (In(A, (s("x"), s("y"))), "a in ('x','y')"),
    (StrOp("starts_with", A, ("J",)), "startswith(a,'J')"),
    (StrOp("ends_with", A, ("J",)), "endswith(a,'J')"),
    (StrOp("contains", A, ("J",)), "contains(a,'J')"),
    (Not(StrOp("contains", A, ("J",))), "not (contains(a,'J'))"),
    (Not(A1), "a ne 1"),
    (Not(Or((A1, B1))), "not (a eq 1 or b eq 2)"),
    (Or((A1, And((B1, C1)))), "a eq 1 or b eq 2 and c eq 3"),
    (And((Or((A1, B1)), C1)), "(a eq 1 or b eq 2) and c eq 3"),
    (Quant("any", ("tags",), Cmp("eq", (), s("a"))), "tags/any(x1: x1 eq 'a')"),
    (
        Quant("all", A, Quant("any", ("b",), Exists(("c",)))),
        "a/all(x1: x1/b/any(x2: x2/c ne null))",
    ),
    (And((Quant("any", A, Exists(())), B1)), "a/any(x1: x1 ne null) and b eq 2"),
    (Cmp("eq", ("not", "x"), n(1)), "$it/not/x eq 1"),
    (Cmp("eq", ("null",), n(1)), "$it/null eq 1"),
    (Cmp("eq", ("x", "null"), n(1)), "x/null eq 1"),
]


@pytest.mark.parametrize(("expr", "text"), RENDERS)
def test_render(expr: Expr | None, text: str) -> None:
    assert render_odata(expr) == text
    assert parse_odata(text) == expr


RESTRUCTURED: list[tuple[Expr, str, Expr]] = [
    (
        StrOp("contains", A, ("x", "y")),
        "contains(a,'x') or contains(a,'y')",
        Or((StrOp("contains", A, ("x",)), StrOp("contains", A, ("y",)))),
    ),
    (
        And((B1, StrOp("starts_with", A, ("x", "y")))),
        "b eq 2 and (startswith(a,'x') or startswith(a,'y'))",
        And((B1, Or((StrOp("starts_with", A, ("x",)), StrOp("starts_with", A, ("y",)))))),
    ),
    (And((A1, And((B1, C1)))), "a eq 1 and (b eq 2 and c eq 3)", And((A1, B1, C1))),
    (
        Cmp("eq", A, instant("2018-02-13T12:33:12+01:00")),
        "a eq 2018-02-13T11:33:12Z",
        Cmp("eq", A, instant("2018-02-13T11:33:12Z")),
    ),
    (Cmp("eq", A, n(1), ci=True), "a eq 1", A1),
    (  # a zone-less instant is UTC, as the evaluator reads it
        Cmp("eq", A, instant("2018-02-13T12:33:12")),
        "a eq 2018-02-13T12:33:12Z",
        Cmp("eq", A, instant("2018-02-13T12:33:12Z")),
    ),
]


@pytest.mark.parametrize(("expr", "text", "back"), RESTRUCTURED)
def test_render_restructured(expr: Expr, text: str, back: Expr) -> None:
    assert render_odata(expr) == text
    assert parse_odata(text) == back


NOT_EXPRESSIBLE: list[tuple[Expr, str]] = [
    (Cmp("ne", A, s("x")), "OData's ne is also true when the attribute is missing"),
    (Cmp("eq", A, s("x"), ci=True), "case-insensitive"),
    (In(A, (s("x"),), ci=True), "case-insensitive"),
    (StrOp("contains", A, ("x",), ci=True), "case-insensitive"),
    (In(A, ()), "at least one value"),
    (In(A, (s("x"), n(1))), "mixing"),
    (StrOp("contains", A, ()), "no values"),
    (Like(A, "x%"), "like"),
    (Regex(A, "x"), "regular-expression"),
    (SegmentRef("s"), "segments"),
    (Cmp("eq", A, Lit("semver", "1.2.3")), "OData has no semver literal"),
    (Cmp("eq", A, Lit("version", "1.2")), "OData has no version literal"),
    (Cmp("eq", A, Lit("null", None)), "OData has no null literal"),
    (Cmp("eq", A, instant("yesterday")), "not an RFC 3339 date-time"),
    (Cmp("eq", A, instant("9999-12-31T23:59:59-01:00")), "in the years 1-9999 (UTC)"),
    (Cmp("eq", A, Lit("date", "2018-02-30")), "not a valid date literal"),
    (Cmp("eq", A, n(float("inf"))), "not a valid number literal"),
    (And(()), "an empty and"),
    (Or(()), "an empty or"),
    (Exists(()), "empty path"),
    (Cmp("eq", ("a.b",), n(1)), "'a.b' cannot be written in OData"),
]


@pytest.mark.parametrize(("expr", "reason"), NOT_EXPRESSIBLE)
def test_not_expressible(expr: Expr, reason: str) -> None:
    with pytest.raises(NotExpressible) as info:
        render_odata(expr)
    assert info.value.language == "odata"
    assert reason in info.value.reason


ERRORS: list[tuple[str, int, str]] = [
    ("a eq", 4, "unexpected end of the filter at position 4; expected '$it', 'false', 'null'"),
    ("a eq 1 b", 7, "unexpected 'b' at position 7; expected 'and', 'or', the end of the filter"),
    ("(a eq 1", 7, "expected ')'"),
    ("a = 1", 2, "unexpected character '=' at position 2"),
    ("a eq 'open", 5, "unterminated string starting at position 5"),
    ('a eq "x"', 5, "OData strings use single quotes (position 5)"),
    ("a add 1 eq 2", 2, "the operator add is not supported in filters (position 2)"),
    ("a eq 1 AND b eq 2", 7, "unexpected 'AND' at position 7"),
    ("not/x eq 1", 3, "unexpected '/' at position 3"),
    ("a eq b", 2, "comparing two attributes is not supported (position 2)"),
    ("1 eq 2", 2, "a comparison needs an attribute on one side (position 2)"),
    ("tolower(a) eq 'x'", 0, "the function tolower() is not supported in filters (position 0)"),
    ("length(a) gt 1", 0, "the function length() is not supported in filters"),
    ("contains(a,'x') eq true", 0, "contains() is a condition, not a value to compare"),
    ("a gt null", 2, "null can only be compared with eq or ne, not gt (position 2)"),
    ("a eq 2018-02-13T12:33:12", 5, "needs a time zone, Z or ±hh:mm (position 5)"),
    ("a eq 2018-02-13T12:33:12.1234567Z", 5, "more precise than microseconds"),
    ("a eq 2018-13-01T00:00Z", 5, "is not a valid date-time (position 5)"),
    ("a eq 0001-01-01T00:00+01:00", 5, "is not a valid date-time"),
    ("a eq 2018-02-30", 5, "2018-02-30 is not a valid date (position 5)"),
    (
        "tags/any(t: x eq 1)",
        12,
        "a path must start with t, the innermost lambda variable (position 12)",
    ),
    ("a/any(x: x/b/any(y: x eq 1))", 20, "must start with y"),
    ("t/any(t: $it/b eq 1)", 9, "inside any()/all() a path must start with the lambda variable"),
    ("tags/any()", 0, "any() needs a condition"),
    ("tags/some(t: t eq 1)", 0, "some(x: …) is not a lambda operator; use any or all"),
    ("any(t: t eq 1)", 0, "is not a lambda operator"),
    ("startswith(a, 1)", 14, "the second argument of startswith() must be a string (position 14)"),
    ("startswith('x', a)", 11, "the first argument of startswith() must be an attribute"),
    ("startswith(a)", 0, "startswith() takes an attribute and a string"),
    ("a/startswith(b, 'x')", 0, "the function startswith() is not supported"),
    ("a in (1, 'x')", 0, "the values after in must all be of one type"),
    ("a in (null)", 6, "the values after in must be literals other than null (position 6)"),
    ("'x' in ('x')", 0, "in needs an attribute on its left"),
    ("a in ()", 0, ""),  # empty list parses; checked below
    ("false", 0, "false alone (a filter nobody matches) is not supported (position 0)"),
    ("a eq 1 and true", 11, "true/false can only stand alone as the whole filter (position 11)"),
    ("a", 0, "this is not a condition; compare it with a value (position 0)"),
    ("", 0, "unexpected end of the filter at position 0"),
]


@pytest.mark.parametrize(("text", "position", "message"), [e for e in ERRORS if e[2]])
def test_errors_say_where(text: str, position: int, message: str) -> None:
    with pytest.raises(Invalid) as info:
        parse_odata(text)
    assert info.value.field == "filter"
    assert info.value.position == position
    assert message in info.value.reason


def test_empty_in_list_never_matches() -> None:
    assert parse_odata("a in ()") == In(A, ())


# --------------------------------------------------------------------------------- limits


def test_too_long() -> None:
    with pytest.raises(LimitExceeded, match="longer than 65536"):
        parse_odata("a eq '" + "x" * 1_000_000 + "'")


def test_ten_thousand_nested_parentheses() -> None:
    with pytest.raises(LimitExceeded) as info:
        parse_odata("(" * 10_000 + "a eq 1" + ")" * 10_000)
    assert info.value.position == 64
    assert parse_odata("(" * 64 + "a eq 1" + ")" * 64) == A1


def test_parentheses_inside_strings_do_not_count() -> None:
    assert parse_odata("a eq '" + "(" * 100 + "''" + "'") == Cmp("eq", A, s("(" * 100 + "'"))


@pytest.mark.parametrize(
    "text",
    ["not " * 15_000 + "a eq 1", "a/any(x: " * 100 + "x eq 1" + ")" * 100],
)
def test_deep_nesting_is_refused(text: str) -> None:
    with pytest.raises(LimitExceeded, match="deeper than 64"):
        parse_odata(text)


def test_depth_counts_atoms() -> None:
    assert parse_odata("not " * 63 + "a eq 1") is not None
    with pytest.raises(LimitExceeded, match="the filter nests deeper than 64 levels"):
        parse_odata("not " * 64 + "a eq 1")


def test_set_size_limit() -> None:
    with pytest.raises(LimitExceeded, match="more than 10000 values"):
        parse_odata("a in (" + ",".join(["1"] * 10_001) + ")")
    with pytest.raises(LimitExceeded, match="more than 2 values"):
        parse_odata("a in (1,2,3)", Limits(max_values=2))


def test_sixty_kib_parses_flat() -> None:
    atoms: list[str] = []
    while len(" and ".join(atoms)) < 60 * 1024:
        i = len(atoms)
        atoms.append(f"(p{i}/q eq 'v{i}' or not startswith(p{i}/r,'x'))")
    text = " and ".join(atoms)
    parsed = parse_odata(text)
    assert isinstance(parsed, And)
    assert len(parsed.args) == len(atoms)
