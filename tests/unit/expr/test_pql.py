"""PQL text: parsing to the AST, rendering from it, refusals, syntax errors and limits."""

from __future__ import annotations

import math

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
from core.expr.pql import parse_pql
from core.expr.pql_render import render_pql


def s(value: str) -> Lit:
    return Lit("string", value)


def n(value: float) -> Lit:
    return Lit("number", value)


A, B, C = ("a",), ("b",), ("c",)
A1, B1, C1 = Cmp("eq", A, n(1)), Cmp("eq", B, n(2)), Cmp("eq", C, n(3))

PARSES: list[tuple[str, Expr | None]] = [
    # comparisons and literal kinds
    ('workAddress.country = "US"', Cmp("eq", ("workAddress", "country"), s("US"))),
    ('a != "x"', Cmp("ne", A, s("x"))),
    ("a < 1", Cmp("lt", A, n(1))),
    ("a <= 1", Cmp("le", A, n(1))),
    ("a > 1", Cmp("gt", A, n(1))),
    ("a >= 1", Cmp("ge", A, n(1))),
    ("a.b.c = true", Cmp("eq", ("a", "b", "c"), Lit("bool", True))),
    ("a = false", Cmp("eq", A, Lit("bool", False))),
    ("a = -201", Cmp("eq", A, n(-201))),
    ("a = 3.14", Cmp("eq", A, n(3.14))),
    ("a = -51.24", Cmp("eq", A, n(-51.24))),
    ("a = 1e3", Cmp("eq", A, n(1000))),
    ("a = 2.5E-3", Cmp("eq", A, n(0.0025))),
    ("a = 3.0", Cmp("eq", A, n(3))),
    ("a = date(2020, 3, 14)", Cmp("eq", A, Lit("date", "2020-03-14"))),
    ("a >= date(999,1,2)", Cmp("ge", A, Lit("date", "0999-01-02"))),
    ('"US" = a', Cmp("eq", A, s("US"))),
    ("1 < a", Cmp("gt", A, n(1))),
    ("1 >= a", Cmp("le", A, n(1))),
    # strings and escapes
    (r'a = "say \"hi\""', Cmp("eq", A, s('say "hi"'))),
    (r'a = "back\\slash"', Cmp("eq", A, s("back\\slash"))),
    (r'a = "\n\t\r\b\f\/"', Cmp("eq", A, s("\n\t\r\b\f/"))),
    (r'a = "\u00e9\uD83D\uDE00"', Cmp("eq", A, s("é😀"))),
    (r'a = "@(\w+)"', Cmp("eq", A, s(r"@(\w+)"))),
    ('a = "%_ like chars"', Cmp("eq", A, s("%_ like chars"))),
    # paths
    ("$1.homeAddress.stateProvince = 1", Cmp("eq", ("homeAddress", "stateProvince"), n(1))),
    ("(Profile) => Profile.home.state = 1", Cmp("eq", ("home", "state"), n(1))),
    ("(P) => $1.x = 1 and P.y = 2", And((Cmp("eq", ("x",), n(1)), Cmp("eq", ("y",), n(2))))),
    ("$1.not = 1", Cmp("eq", ("not",), n(1))),
    ("a.not.in.exists = 1", Cmp("eq", ("a", "not", "in", "exists"), n(1))),
    ("_tenant.x1 = 1", Cmp("eq", ("_tenant", "x1"), n(1))),
    ("a.select.now = 1", Cmp("eq", ("a", "select", "now"), n(1))),
    ("date.x = 1", Cmp("eq", ("date", "x"), n(1))),
    # boolean structure and precedence
    ("a = 1 and b = 2", And((A1, B1))),
    ("a = 1 or b = 2", Or((A1, B1))),
    ("a = 1 or b = 2 and c = 3", Or((A1, And((B1, C1))))),
    ("(a = 1 or b = 2) and c = 3", And((Or((A1, B1)), C1))),
    ("a = 1 and (b = 2 and c = 3)", And((A1, B1, C1))),
    ("(a = 1 or b = 2) or c = 3", Or((A1, B1, C1))),
    ("not (a = 1)", Not(A1)),
    ("!(a = 1)", Not(A1)),
    ("not a = 1", Not(A1)),
    ("not a = 1 and b = 2", And((Not(A1), B1))),
    ("not not (a = 1)", Not(Not(A1))),
    ("((a = 1))", A1),
    ("true", None),
    ("  (true) ", None),
    # sets
    ("a in [3, 6, 9]", In(A, (n(3), n(6), n(9)))),
    ('a in ["US", "CA"]', In(A, (s("US"), s("CA")))),
    ("a in []", In(A, ())),
    ("a in [date(2020, 1, 2)]", In(A, (Lit("date", "2020-01-02"),))),
    ("a notIn [3, 6]", And((Exists(A), Not(In(A, (n(3), n(6))))))),
    ("a notIn [1] and b = 2", And((Exists(A), Not(In(A, (n(1),))), B1))),
    # strings
    ('city like "%es%"', Like(("city",), "%es%")),
    ('a.startsWith("Joe")', StrOp("starts_with", A, ("Joe",))),
    ('a.startsWith("Joe", true)', StrOp("starts_with", A, ("Joe",))),
    ('a.startsWith("Joe", false)', StrOp("starts_with", A, ("Joe",), ci=True)),
    ('a.endsWith(".com")', StrOp("ends_with", A, (".com",))),
    ('a.contains("2010@gm", false)', StrOp("contains", A, ("2010@gm",), ci=True)),
    ('a.doesNotStartWith("x")', And((Exists(A), Not(StrOp("starts_with", A, ("x",)))))),
    ('a.doesNotEndWith("x", false)', And((Exists(A), Not(StrOp("ends_with", A, ("x",), True))))),
    ('a.doesNotContain("x")', And((Exists(A), Not(StrOp("contains", A, ("x",)))))),
    ('a.equals("John")', Cmp("eq", A, s("John"))),
    ('a.equals("John", false)', Cmp("eq", A, s("John"), ci=True)),
    ('a.notEqualTo("John")', Cmp("ne", A, s("John"))),
    ('a.notEqualTo("John", false)', Cmp("ne", A, s("John"), ci=True)),
    ('a.matches("(?i)^John")', Regex(A, "(?i)^John")),
    ("a.isNull()", Not(Exists(A))),
    ("person.homeAddress.isNotNull()", Exists(("person", "homeAddress"))),
    # quantifiers
    (
        "exists X from orders where X.price > 50",
        Quant("any", ("orders",), Cmp("gt", ("price",), n(50))),
    ),
    ('forall X from tags: X = "a"', Quant("all", ("tags",), Cmp("eq", (), s("a")))),
    (
        "exists X from o where X.p > 1 and X.q = 2",
        Quant("any", ("o",), And((Cmp("gt", ("p",), n(1)), Cmp("eq", ("q",), n(2))))),
    ),
    (
        "(exists X from o where X.p > 1) and q = 2",
        And((Quant("any", ("o",), Cmp("gt", ("p",), n(1))), Cmp("eq", ("q",), n(2)))),
    ),
    (
        'exists X from a where exists Y from X.b where Y.startsWith("z")',
        Quant("any", A, Quant("any", B, StrOp("starts_with", (), ("z",)))),
    ),
    (
        "exists X from a where exists X from X.b where X = 1",
        Quant("any", A, Quant("any", B, Cmp("eq", (), n(1)))),
    ),
    ("exists X from X where X.isNull()", Quant("any", ("X",), Not(Exists(())))),
]


@pytest.mark.parametrize(("text", "expected"), PARSES)
def test_parse(text: str, expected: Expr | None) -> None:
    assert parse_pql(text) == expected


@pytest.mark.parametrize(("text", "expected"), PARSES)
def test_render_parses_back(text: str, expected: Expr | None) -> None:
    assert parse_pql(render_pql(expected)) == expected


RENDERS: list[tuple[Expr | None, str]] = [
    (None, "true"),
    (Cmp("eq", ("workAddress", "country"), s("US")), 'workAddress.country = "US"'),
    (Cmp("ne", A, s("x")), 'a != "x"'),
    (Cmp("lt", A, n(1)), "a < 1"),
    (Cmp("le", A, n(1.5)), "a <= 1.5"),
    (Cmp("gt", A, n(1e-7)), "a > 1e-07"),
    (Cmp("ge", A, n(2.0)), "a >= 2"),
    (Cmp("eq", A, Lit("bool", True)), "a = true"),
    (Cmp("eq", A, Lit("date", "2020-03-14")), "a = date(2020, 3, 14)"),
    (Cmp("eq", A, s('q"\\\n\x01')), r'a = "q\"\\\n\u0001"'),
    (Cmp("eq", A, s("x"), ci=True), 'a.equals("x", false)'),
    (Cmp("ne", A, s("x"), ci=True), 'a.notEqualTo("x", false)'),
    (In(A, (n(1), n(2))), "a in [1, 2]"),
    (And((Exists(A), Not(In(A, (s("x"),))))), 'a notIn ["x"]'),
    (
        And((Exists(A), Not(StrOp("starts_with", A, ("x",), True)))),
        'a.doesNotStartWith("x", false)',
    ),
    (And((B1, Exists(A), Not(StrOp("contains", A, ("x",))))), 'b = 2 and a.doesNotContain("x")'),
    (And((Not(In(A, ())), Exists(A))), "not (a in []) and a.isNotNull()"),
    (StrOp("ends_with", A, ("x",)), 'a.endsWith("x")'),
    (Like(A, "a%_"), 'a like "a%_"'),
    (Regex(A, "^a\\d"), 'a.matches("^a\\\\d")'),
    (Exists(A), "a.isNotNull()"),
    (Not(Exists(A)), "a.isNull()"),
    (Not(A1), "not (a = 1)"),
    (Or((A1, And((B1, C1)))), "a = 1 or b = 2 and c = 3"),
    (And((Or((A1, B1)), C1)), "(a = 1 or b = 2) and c = 3"),
    (Quant("any", ("o",), Cmp("gt", ("p",), n(1))), "exists X1 from o where X1.p > 1"),
    (Quant("all", ("o",), Cmp("eq", (), n(1))), "forall X1 from o where X1 = 1"),
    (
        Quant("any", A, Quant("all", (), Exists(("c",)))),
        "exists X1 from a where forall X2 from X1 where X2.c.isNotNull()",
    ),
    (And((Quant("any", A, Exists(())), B1)), "(exists X1 from a where X1.isNotNull()) and b = 2"),
    (Or((B1, Quant("any", A, Exists(())))), "b = 2 or (exists X1 from a where X1.isNotNull())"),
    (Cmp("eq", ("not", "x"), n(1)), "$1.not.x = 1"),
    (Cmp("eq", ("select",), n(1)), "$1.select = 1"),
    (Cmp("eq", ("date",), n(1)), "$1.date = 1"),
    (Cmp("eq", ("x", "not"), n(1)), "x.not = 1"),
    # A segment reference keeps the string as written: which segment it names (an id, a slug or
    # segments/<slug>) is decided when the condition is stored (core.segment_links).
    (
        SegmentRef("7ba8b3ba-c1ba-4b4a-bf62-c91ee0d0d948"),
        'inSegment("7ba8b3ba-c1ba-4b4a-bf62-c91ee0d0d948")',
    ),
    (Not(And((A1, SegmentRef("segments/s")))), 'not (a = 1 and inSegment("segments/s"))'),
    (Cmp("eq", ("inSegment",), n(1)), "$1.inSegment = 1"),
]


@pytest.mark.parametrize(("expr", "text"), RENDERS)
def test_render(expr: Expr | None, text: str) -> None:
    assert render_pql(expr) == text
    assert parse_pql(text) == expr


RESTRUCTURED: list[tuple[Expr, str, Expr]] = [
    # Exact in meaning, but the parser reads the text back in its own (flat, one-value) form.
    (Cmp("eq", A, n(1), ci=True), "a = 1", A1),  # ci means nothing on numbers
    (
        StrOp("contains", A, ("x", "y")),
        'a.contains("x") or a.contains("y")',
        Or((StrOp("contains", A, ("x",)), StrOp("contains", A, ("y",)))),
    ),
    (
        And((B1, StrOp("starts_with", A, ("x", "y"), True))),
        'b = 2 and (a.startsWith("x", false) or a.startsWith("y", false))',
        And(
            (B1, Or((StrOp("starts_with", A, ("x",), True), StrOp("starts_with", A, ("y",), True))))
        ),
    ),
    (And((A1, And((B1, C1)))), "a = 1 and (b = 2 and c = 3)", And((A1, B1, C1))),
    (Or((Or((A1, B1)), C1)), "(a = 1 or b = 2) or c = 3", Or((A1, B1, C1))),
    (And((A1,)), "a = 1", A1),
]


@pytest.mark.parametrize(("expr", "text", "back"), RESTRUCTURED)
def test_render_restructured(expr: Expr, text: str, back: Expr) -> None:
    assert render_pql(expr) == text
    assert parse_pql(text) == back


NOT_EXPRESSIBLE: list[tuple[Expr, str]] = [
    (Cmp("lt", A, Lit("datetime", "2020-01-01T00:00:00Z")), "datetime"),
    (Cmp("eq", A, Lit("semver", "1.2.3")), "semver"),
    (Cmp("eq", A, Lit("version", "1.2")), "version"),
    (Cmp("eq", A, Lit("null", None)), "null"),
    (Cmp("eq", A, n(math.nan)), "not a valid number"),
    (Cmp("eq", A, Lit("date", "2020-02-30")), "not a valid date"),
    (Cmp("lt", A, s("m"), ci=True), "case-insensitive ordering"),
    (In(A, (s("x"),), ci=True), "in has no case-insensitive"),
    (In(A, (s("x"), n(1))), "mixing"),
    (Like(A, "x%", ci=True), "like has no case-insensitive"),
    (Regex(A, "x", ci=True), "matches() has no case-insensitive"),
    (StrOp("contains", A, ()), "no values"),
    (Quant("any", A, SegmentRef("segments/s")), "inSegment() inside exists/forall"),
    (And(()), "empty and"),
    (Or(()), "empty or"),
    (Exists(()), "empty path"),
    (Cmp("eq", ("a", ""), n(1)), "''"),
    (Cmp("eq", ("",), n(1)), "''"),
]


@pytest.mark.parametrize(("expr", "reason"), NOT_EXPRESSIBLE)
def test_not_expressible(expr: Expr, reason: str) -> None:
    with pytest.raises(NotExpressible) as info:
        render_pql(expr)
    assert info.value.language == "pql"
    assert reason in info.value.reason


REFUSALS: list[tuple[str, str, str]] = [
    # (text, construct named in the message, the text found at the reported position)
    ("select X from xEvent where X.a = 1", "select … from", "select"),
    ('exists E from xEvent where E.a = "x"', "xEvent", "xEvent"),
    ("chain(xEvent, timestamp, [A: WHAT(x)])", "chain()", "chain"),
    ("CHAIN(xEvent, timestamp, [A: WHAT(x)])", "CHAIN()", "CHAIN"),
    ("let S = (a) in (S > 100)", "let", "let"),
    ('if (a = "CA", 1, 2) = 1', "if()", "if"),
    ('exists X from a where inSegment("s")', "inSegment() inside exists/forall", "inSegment"),
    ("a = 1 or b < now", "the time word now outside occurs", "now"),
    ("b > today", "the time word today outside occurs", "today"),
    ("b > yesterday", "the time word yesterday outside occurs", "yesterday"),
    ("b < tomorrow", "the time word tomorrow outside occurs", "tomorrow"),
    ("a = null", "the null literal", "null"),
    ("orders.sum(order.price) > 1", "aggregation .sum()", "sum"),
    ("orders.average(order.price) > 1", "aggregation .average()", "average"),
    ("orders.min(order.price) > 1", "aggregation .min()", "min"),
    ("orders.max(order.price) > 1", "aggregation .max()", "max"),
    ("orders.topN(price, 5).head().x = 1", "aggregation .topN()", "topN"),
    ("orders.bottomN(price, 5)", "aggregation .bottomN()", "bottomN"),
    ("orders.head().x = 1", "aggregation .head()", "head"),
    ("sum X.price over X from xEvent", "aggregation … over", "over"),
    ("count(a) > 1", "count() as a function", "count"),
    ("a.groupBy(b) = 1", "array function .groupBy()", "groupBy"),
    ("a.subsetOf(b)", "subsetOf() of another attribute", "subsetOf"),
    ("a.intersection(b.c) = [1]", "intersection() of two attributes", "intersection"),
    ("identityMap.values() = 1", "map function .values()", "values"),
    ("birth.getHours() = 6", "function .getHours()", "getHours"),
    ('a.regexGroup("@(\\w+)", 1) = "x"', ".regexGroup()", "regexGroup"),
    ("a.foo() = 1", "function .foo()", "foo"),
    ("foo(1) = a", "function foo()", "foo"),
    ("a = -b", "arithmetic (unary -)", "-"),
    ("a = 1 and (P) => P.x = 1", "a lambda (=>)", "=>"),
]


@pytest.mark.parametrize(("text", "construct", "found"), REFUSALS)
def test_refusal_names_construct_and_position(text: str, construct: str, found: str) -> None:
    with pytest.raises(Invalid) as info:
        parse_pql(text)
    error = info.value
    assert error.field == "expression"
    assert error.position is not None
    assert text[error.position :].startswith(found)
    assert error.reason.startswith(construct)
    assert error.reason.endswith(
        f" is not supported in segment conditions (position {error.position})"
    )


SYNTAX_ERRORS: list[tuple[str, int, str]] = [
    ("a = ", 4, "unexpected end of the expression at position 4; expected $1, '[',"),
    (
        "a = 1 b = 2",
        6,
        "unexpected 'b' at position 6; expected 'and', 'or', the end of the expression",
    ),
    ("(a = 1", 6, "expected ')'"),
    ("a == 1", 3, "unexpected '=' at position 3"),
    ("a = 1 and", 9, "'exists'"),
    ('a = "open', 4, "unterminated string starting at position 4"),
    ("a = 'x'", 4, "PQL strings use double quotes (position 4)"),
    ("a = 1 # x", 6, "unexpected character '#' at position 6"),
    ("a.", 2, "expected a name"),
    ("a in 1", 5, "expected '['"),
    ("exists X from a", 15, "unexpected end of the expression at position 15; expected"),
    ("a = 1 AND b = 2", 6, "unexpected 'AND' at position 6"),
    ("", 0, "unexpected end of the expression at position 0"),
]


@pytest.mark.parametrize(("text", "position", "message"), SYNTAX_ERRORS)
def test_syntax_error_says_where_and_what(text: str, position: int, message: str) -> None:
    with pytest.raises(Invalid) as info:
        parse_pql(text)
    assert info.value.position == position
    assert message in info.value.reason
    assert not isinstance(info.value, LimitExceeded)


INVALID: list[tuple[str, str]] = [
    ("a", "an attribute alone is not a condition; compare it with a value (position 0)"),
    ("false", "false alone (a condition no profile matches) is not supported"),
    ("true and a = 1", "true/false can only stand alone as the whole condition (position 0)"),
    ("not (false)", "true/false can only stand alone"),
    ("1 = 2", "a comparison needs an attribute on one side (position 2)"),
    ("a = [1]", "a list can only follow in / notIn"),
    ("a.startsWith(1)", "expected a string literal (position 13)"),
    ("a.startsWith(b)", "expected a string literal"),
    ('a.startsWith("x", 1)', "the case-sensitivity flag must be true or false (position 18)"),
    ('a.startsWith("x", true, 1)', "startsWith() takes a string and an optional true/false"),
    ("a.startsWith()", "startsWith() takes a string"),
    ("a.isNull(1)", "isNull takes 1 operand(s), got 2"),
    ("a.isNull() = true", "isNull is a condition, not a value to compare (position 2)"),
    ('a in [1, "x"]', "the values of a list must all be of one type (position 5)"),
    ("a in [b]", "the values of a list must be literals (position 6)"),
    ("a in [[1]]", "the values of a list must be literals"),
    ("a like 1", "expected a string literal"),
    ('a.matches("(")', "matches() needs an RE2 regular expression: missing ')'"),
    ('a.matches("(?<=x)y")', "lookaround is not supported (RE2) at position 1 in the pattern"),
    ('a.matches("(a)\\\\1")', "back-references"),
    ('a.matches("a++")', "bad repetition operator"),
    ('a.matches("\\\\p{L}")', "invalid escape"),
    ("date(2020, 2, 30) = a", "date(2020, 2, 30) is not a valid date (position 0)"),
    ("a = date(2020, 2)", "date() takes three integers"),
    ("a = date(2020, 1, 1.5)", "date() takes three integers"),
    ("$2.a = 1", "$2 is not a parameter; $1 is the profile (position 0)"),
    ('$1.startsWith("x")', "$1 is the profile itself; name one of its attributes"),
    ("(P) => a = 1", "paths must start with the lambda's parameter P (position 7)"),
    (
        "exists X from a where b = 1",
        "inside exists/forall a path must start at the quantifier's variable (position 22)",
    ),
    ("exists X from a where X.b = 1 and c = 2", "(position 34)"),
    ("exists X from a where $1.b = 1", "inside exists/forall"),
]


@pytest.mark.parametrize(("text", "message"), INVALID)
def test_invalid(text: str, message: str) -> None:
    with pytest.raises(Invalid) as info:
        parse_pql(text)
    assert message in info.value.reason
    assert info.value.field == "expression"


# --------------------------------------------------------------------------------- limits


def test_too_long_text_is_refused_before_parsing() -> None:
    with pytest.raises(LimitExceeded, match="longer than 65536"):
        parse_pql('a = "' + "x" * 1_000_000 + '"')
    with pytest.raises(LimitExceeded):
        parse_pql("a = 1 " + " " * 100, Limits(max_text=100))
    assert parse_pql("a = 1" + " " * 95, Limits(max_text=100)) == A1


def test_ten_thousand_nested_parentheses_stop_at_the_limit() -> None:
    with pytest.raises(LimitExceeded) as info:
        parse_pql("(" * 10_000 + "a = 1" + ")" * 10_000)
    assert info.value.position == 64


def test_nesting_at_the_limit_is_accepted() -> None:
    assert parse_pql("(" * 64 + "a = 1" + ")" * 64) == A1
    assert parse_pql("not " * 63 + "a = 1") is not None
    with pytest.raises(LimitExceeded):
        parse_pql("not " * 64 + "a = 1")


@pytest.mark.parametrize(
    "text",
    [
        "not " * 15_000 + "a = 1",
        "!" * 30_000 + "a = 1",
        "exists X from a where " * 2_500 + "X = 1",
        " or ".join(["(a = 1 and (b = 2 or (c = 3 and not (d = 4))))"] * 10)
        + " and "
        + "not " * 100
        + "e = 1",
    ],
)
def test_deep_chains_without_brackets_never_recurse(text: str) -> None:
    with pytest.raises(LimitExceeded, match="nests deeper than 64 levels"):
        parse_pql(text)


def test_small_depth_limit() -> None:
    limits = Limits(max_depth=4)  # an atom is one level: And(Or(Not(Cmp))) is four
    assert parse_pql("a = 1 and (b = 2 or not c = 3)", limits) is not None
    with pytest.raises(LimitExceeded, match="nests deeper than 4 levels"):
        parse_pql("a = 1 and (b = 2 or not not c = 3)", limits)
    with pytest.raises(LimitExceeded, match="brackets nest deeper than 4"):
        parse_pql("(((((a = 1)))))", limits)


def test_set_size_limit() -> None:
    values = ", ".join(str(i) for i in range(10_001))
    with pytest.raises(LimitExceeded, match="more than 10000 values"):
        parse_pql(f"a in [{values}]")
    parsed = parse_pql(f"a notIn [{', '.join(str(i) for i in range(10_000))}]")
    assert isinstance(parsed, And)
    assert len(parsed.args[1].arg.values) == 10_000  # type: ignore[union-attr]
    with pytest.raises(LimitExceeded):
        parse_pql("a in [1, 2, 3]", Limits(max_values=2))


def test_sixty_kib_parses_flat() -> None:
    atoms: list[str] = []
    while len(" and ".join(atoms)) < 60 * 1024:
        i = len(atoms)
        atoms.append(f'(p{i}.q = "v{i}" or not (p{i}.r.startsWith("x", false)))')
    text = " and ".join(atoms)
    assert 60 * 1024 <= len(text) <= 64 * 1024
    parsed = parse_pql(text)
    assert isinstance(parsed, And)
    assert len(parsed.args) == len(atoms)  # flat, one argument per conjunct
    assert parse_pql(render_pql(parsed)) == parsed


@pytest.mark.parametrize(
    "text",
    [
        "inSegment()",
        "inSegment(1)",
        'inSegment("")',
        'inSegment("a", "b")',
        'inSegment("a") = 1',
        'a = inSegment("x")',
    ],
)
def test_in_segment_takes_one_segment_id_as_a_condition(text: str) -> None:
    with pytest.raises(Invalid) as info:
        parse_pql(text)
    assert "inSegment" in str(info.value)
