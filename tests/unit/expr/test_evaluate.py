"""The evaluator's semantics, table by table, each row citing the rule it checks."""

from __future__ import annotations

from typing import Any

import pytest

from core.expr import kinds
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
from core.expr.evaluate import compile_expr, evaluate

S = lambda v: Lit("string", v)  # noqa: E731
N = lambda v: Lit("number", v)  # noqa: E731
DT = lambda v: Lit("datetime", v)  # noqa: E731
SV = lambda v: Lit("semver", v)  # noqa: E731
V = lambda v: Lit("version", v)  # noqa: E731

ROWS: list[tuple[str, Expr, dict[str, Any], bool]] = [
    # -- missing / null (ast contract; Unleash §9 "Missing field" column)
    ("atom false on missing", Cmp("eq", ("a",), S("x")), {}, False),
    ("atom false on null", Cmp("eq", ("a",), S("x")), {"a": None}, False),
    ("Not(atom) true on missing (NOT_IN)", Not(In(("a",), (S("x"), S("y")))), {}, True),
    ("ne is present-and-different", Cmp("ne", ("a",), S("x")), {}, False),
    ("ne true when different", Cmp("ne", ("a",), S("x")), {"a": "y"}, True),
    ("Exists: null is absent", Exists(("a",)), {"a": None}, False),
    ("Exists: empty list is present", Exists(("a",)), {"a": []}, True),
    ("Exists through a list of objects", Exists(("l", "a")), {"l": [{}, {"a": 0}]}, True),
    # -- any element (HAL/Confidence list semantics)
    ("ends on a list: any element", Cmp("eq", ("t",), S("b")), {"t": ["a", "b"]}, True),
    (
        "through a list of objects",
        Cmp("eq", ("l", "a"), S("x")),
        {"l": [{"a": "y"}, {"a": "x"}]},
        True,
    ),
    ("lists open one level only", Cmp("eq", ("t",), S("b")), {"t": [["b"]]}, False),
    ("a step into a scalar finds nothing", Exists(("a", "b")), {"a": "x"}, False),
    # -- numbers (Unleash NUM_*: "12.0" equals 12; unparsable → false)
    ("numeric string equals number", Cmp("eq", ("n",), N(12)), {"n": "12.0"}, True),
    ("number kind parses exponents", Cmp("eq", ("n",), N(1000)), {"n": "1e3"}, True),
    ("unparsable is false", Cmp("lt", ("n",), N(12)), {"n": "abc"}, False),
    ("no spaces, no hex", Cmp("eq", ("n",), N(16)), {"n": "0x10"}, False),
    ("booleans are not numbers", Cmp("eq", ("n",), N(1)), {"n": True}, False),
    (
        "float comparisons are IEEE doubles",
        Cmp("eq", ("n",), N(0.30000000000000004)),
        {"n": 0.1 + 0.2},
        True,
    ),
    # -- strings (Unleash stringifies; Confidence: number → text, bool no string form)
    ("number stringified for IN", In(("n",), (S("12"), S("x"))), {"n": 12.0}, True),
    ("shortest text, no exponent", Cmp("eq", ("n",), S("10000000000000000")), {"n": 1e16}, True),
    ("booleans not stringified", Cmp("eq", ("b",), S("true")), {"b": True}, False),
    ("string order is code-point order", Cmp("lt", ("s",), S("b")), {"s": "B"}, True),
    ("ci casefolds both sides", Cmp("eq", ("s",), S("STRASSE"), ci=True), {"s": "straße"}, True),
    ("IN ignores nothing when not ci", In(("s",), (S("A"), S("B"))), {"s": "a"}, False),
    # -- string tests: JSON strings only (Confidence §9 "a number never starts with 1")
    ("starts_with on a number is false", StrOp("starts_with", ("c",), ("4",)), {"c": 42}, False),
    ("STR_* any of several values", StrOp("ends_with", ("e",), ("x", "y")), {"e": "ay"}, True),
    (
        "STR_* ci lowercases",
        StrOp("contains", ("e",), ("EMAIL",), ci=True),
        {"e": "some-email"},
        True,
    ),
    ("empty prefix matches any string", StrOp("starts_with", ("e",), ("",)), {"e": "z"}, True),
    # -- like: whole string, % and _
    ("like % and _", Like(("s",), "a_c%"), {"s": "abcdef"}, True),
    ("like is anchored", Like(("s",), "b%"), {"s": "abc"}, False),
    ("like % spans newlines", Like(("s",), "a%b"), {"s": "a\nb"}, True),
    ("like specials of regex are literal", Like(("s",), "a.c"), {"s": "abc"}, False),
    ("like ci", Like(("s",), "ABC%", ci=True), {"s": "abcd"}, True),
    # -- regex (RE2 semantics; Unleash client-spec 21)
    ("regex is searched", Regex(("r",), "cat"), {"r": "concatenate"}, True),
    ("$ is the end of the text", Regex(("r",), "b$"), {"r": "ab\n"}, False),
    ("\\d is ASCII", Regex(("r",), "^\\d$"), {"r": "٣"}, False),
    ("inline flag mid-pattern", Regex(("r",), "^(?i)abc$"), {"r": "AbC"}, True),
    ("invalid pattern never matches", Regex(("r",), "(regex"), {"r": "(regex"}, False),
    ("lookaround refused: never matches", Regex(("r",), "(?=a)a"), {"r": "a"}, False),
    ("regex sees strings only", Regex(("r",), "1"), {"r": 1}, False),
    # -- datetimes (Unleash DATE_*: zone honoured, equal → false; Confidence epochs)
    (
        "zone honoured",
        Cmp("gt", ("t",), DT("2022-01-22T11:00:00Z")),
        {"t": "2022-01-22T13:00:01+02:00"},
        True,
    ),
    (
        "equal is not after",
        Cmp("gt", ("t",), DT("2022-01-29T13:00:00Z")),
        {"t": "2022-01-29T13:00:00.000Z"},
        False,
    ),
    (
        "no zone = UTC",
        Cmp("eq", ("t",), DT("2022-01-29T13:00:00Z")),
        {"t": "2022-01-29 13:00:00"},
        True,
    ),
    (
        "date-only = midnight UTC",
        Cmp("eq", ("t",), DT("2022-01-29T00:00:00Z")),
        {"t": "2022-01-29"},
        True,
    ),
    ("epoch seconds", Cmp("ge", ("t",), DT("2022-11-17T15:16:17.118Z")), {"t": 1668698178}, True),
    (
        "epoch millis from 1e12",
        Cmp("ge", ("t",), DT("2022-11-17T15:16:17.118Z")),
        {"t": 1668698177200},
        True,
    ),
    (
        "invalid date is false",
        Cmp("lt", ("t",), DT("2022-01-01T00:00:00Z")),
        {"t": "2021-02-30"},
        False,
    ),
    (
        "date kind is the UTC day",
        Cmp("eq", ("d",), Lit("date", "2024-01-01")),
        {"d": "2024-01-02T03:00:00+05:00"},
        True,
    ),
    # -- semver (Unleash SEMVER_*: pre-release order, v-prefix invalid)
    ("alpha.1 < beta.1", Cmp("lt", ("v",), SV("2.0.0-beta.1")), {"v": "2.0.0-alpha.1"}, True),
    ("beta.1 < rc", Cmp("lt", ("v",), SV("2.0.0-rc")), {"v": "2.0.0-beta.1"}, True),
    ("rc < release", Cmp("lt", ("v",), SV("2.0.0")), {"v": "2.0.0-rc"}, True),
    ("alpha < alpha.1", Cmp("lt", ("v",), SV("2.0.0-alpha.1")), {"v": "2.0.0-alpha"}, True),
    (
        "numeric ids compare as numbers",
        Cmp("lt", ("v",), SV("1.0.0-beta.11")),
        {"v": "1.0.0-beta.2"},
        True,
    ),
    ("build metadata ignored", Cmp("eq", ("v",), SV("1.0.0")), {"v": "1.0.0+abc"}, True),
    ("v-prefix is invalid", Cmp("eq", ("v",), SV("2.0.0")), {"v": "v2.0.0"}, False),
    ("1.2 is not semver", Cmp("lt", ("v",), SV("2.0.0")), {"v": "1.2"}, False),
    # -- versions (Confidence: 2-4 parts, suffix dropped, 3rd part >3 digits is a tag)
    ("2 parts", Cmp("eq", ("v",), V("1.2.0")), {"v": "1.2"}, True),
    ("suffix dropped", Cmp("eq", ("v",), V("1.2.3")), {"v": "1.2.3-beta"}, True),
    ("1.0.1000 is 1.0.0.1000", Cmp("gt", ("v",), V("1.0.999")), {"v": "1.0.1000"}, False),
    ("v-prefix invalid", Cmp("lt", ("v",), V("2.0")), {"v": "v1.0"}, False),
    ("10.0.0 > 2.0.0 (numeric)", Cmp("gt", ("v",), V("2.0.0")), {"v": "10.0.0"}, True),
    # -- booleans (Confidence: strings parsed, equality only)
    ("bool from string", Cmp("eq", ("b",), Lit("bool", True)), {"b": "true"}, True),
    ("bool ordering is false", Cmp("lt", ("b",), Lit("bool", True)), {"b": False}, False),
    ("null literal never compares", Cmp("eq", ("b",), Lit("null", None)), {"b": None}, False),
    # -- quantifiers (Confidence anyRule/allRule)
    ("all over missing", Quant("all", ("s",), Cmp("gt", (), N(0))), {}, True),
    ("all over null", Quant("all", ("s",), Cmp("gt", (), N(0))), {"s": None}, True),
    ("all over []", Quant("all", ("s",), Cmp("gt", (), N(0))), {"s": []}, True),
    ("any over []", Quant("any", ("s",), Cmp("gt", (), N(0))), {"s": []}, False),
    ("scalar is a one-element list", Quant("all", ("s",), Cmp("gt", (), N(0))), {"s": 3}, True),
    (
        "same element for both bounds",
        Quant("any", ("s",), And((Cmp("ge", (), N(18)), Cmp("lt", (), N(65))))),
        {"s": [70, 5]},
        False,
    ),
    (
        "element paths are relative",
        Quant("any", ("o",), And((Cmp("eq", ("k",), S("a")), Cmp("eq", ("v",), N(1))))),
        {"o": [{"k": "a", "v": 2}, {"k": "b", "v": 1}]},
        False,
    ),
    (
        "nested list element is not opened",
        Quant("any", ("s",), Cmp("eq", (), S("a"))),
        {"s": [["a"]]},
        False,
    ),
    # -- logic
    ("or", Or((Cmp("eq", ("a",), S("x")), Exists(("b",)))), {"b": 0}, True),
    ("empty In never matches", In(("a",), ()), {"a": "x"}, False),
]


@pytest.mark.parametrize(("name", "expr", "context", "expected"), ROWS)
def test_semantics(name: str, expr: Expr, context: dict[str, Any], expected: bool) -> None:
    assert evaluate(expr, context) is expected, name


def test_none_matches_everyone() -> None:
    assert evaluate(None, {}) is True


def test_segment_refs_use_the_resolver_with_the_whole_context() -> None:
    expr = Quant("any", ("l",), SegmentRef("segments/x"))
    seen: list[Any] = []

    def resolve(ref: str, ctx: Any) -> bool:
        seen.append((ref, ctx))
        return True

    context = {"l": [1]}
    assert evaluate(expr, context, resolve) is True
    assert seen == [("segments/x", context)]
    assert evaluate(SegmentRef("segments/x"), context) is False


def test_compiled_once_then_reused() -> None:
    fn = compile_expr(And((Cmp("eq", ("a",), S("x")), Regex(("b",), "^y"))))
    assert fn({"a": "x", "b": "yz"}) is True
    assert fn({"a": "x", "b": "zy"}) is False
    assert fn({"a": ["q", "x"], "b": ["zy", "y"]}) is True


def test_mappings_other_than_dict() -> None:
    from types import MappingProxyType

    ctx = MappingProxyType({"a": MappingProxyType({"b": "x"})})
    assert evaluate(Cmp("eq", ("a", "b"), S("x")), ctx) is True


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12", 12.0),
        ("-0", 0.0),
        (".5", 0.5),
        ("5.", 5.0),
        ("1E+2", 100.0),
        ("1e400", None),
        (" 1", None),
        ("", None),
        ("nan", None),
        ("inf", None),
        ("1_0", None),
    ],
)
def test_number_grammar(text: str, expected: float | None) -> None:
    assert kinds.number_key(text) == expected


def test_number_text_matches_js_and_rust_for_ordinary_values() -> None:
    assert [kinds.number_text(x) for x in (12.0, 0.1, 1e16, 1.5e-7, -0.0, 123456789.125)] == [
        "12",
        "0.1",
        "10000000000000000",
        "0.00000015",
        "0",
        "123456789.125",
    ]


def test_datetime_canonical_form() -> None:
    assert kinds.canonical_datetime("2022-01-22T13:00:00.000+02:00") == "2022-01-22T11:00:00Z"
    assert kinds.canonical_datetime("2022-01-22T13:00:00.1234567Z") == "2022-01-22T13:00:00.123456Z"
    assert kinds.canonical_datetime("2022-01-22T13:00:00.120Z") == "2022-01-22T13:00:00.120Z"
    assert kinds.canonical_datetime("0001-01-01T00:00:00+01:00") is None  # before year 1 UTC
