"""Unleash constraints ⇄ AST: every operator both ways, validation (sheet §4 step 6), refusals,
SDK semantics (sheet §9 table, client-specification 11/13/14/21), render→parse identity."""

from __future__ import annotations

import datetime as dt
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
from core.expr.evaluate import evaluate
from core.expr.limits import Limits
from core.expr.normalize import normalize
from core.expr.unleash import parse_constraints, render_constraints, unleash_context
from tests.examples import examples
from tests.unit.expr.ast_strategies import exprs, random_profiles


def c(operator: str, name: str = "f", **kw: Any) -> dict[str, Any]:
    return {"contextName": name, "operator": operator, **kw}


S = lambda v: Lit("string", v)  # noqa: E731
N = lambda v: Lit("number", v)  # noqa: E731

PARSED: list[tuple[dict[str, Any], Expr]] = [
    (c("IN", values=["b", "a", "a"]), In(("f",), (S("a"), S("b")))),
    (c("IN", values=["a"]), Cmp("eq", ("f",), S("a"))),
    (c("IN", values=["a", "b"], caseInsensitive=True), In(("f",), (S("a"), S("b")))),
    (c("NOT_IN", values=["a", "b"]), Not(In(("f",), (S("a"), S("b"))))),
    (c("NOT_IN", values=["a"], inverted=True), Cmp("eq", ("f",), S("a"))),
    (c("IN", values=["a", "b"], inverted=True), Not(In(("f",), (S("a"), S("b"))))),
    (c("STR_STARTS_WITH", values=["x", "a"]), StrOp("starts_with", ("f",), ("a", "x"))),
    (
        c("STR_ENDS_WITH", values=["x"], caseInsensitive=True),
        StrOp("ends_with", ("f",), ("x",), ci=True),
    ),
    (c("STR_CONTAINS", values=["x"], inverted=True), Not(StrOp("contains", ("f",), ("x",)))),
    (c("NUM_EQ", value="12.0"), Cmp("eq", ("f",), N(12))),
    (c("NUM_GT", value=" 1.5 "), Cmp("gt", ("f",), N(1.5))),
    (c("NUM_GTE", value="1e3"), Cmp("ge", ("f",), N(1000))),
    (c("NUM_LT", value="-2"), Cmp("lt", ("f",), N(-2))),
    (c("NUM_LTE", value="0"), Cmp("le", ("f",), N(0))),
    (c("NUM_EQ", value="12", inverted=True), Not(Cmp("eq", ("f",), N(12)))),
    (
        c("DATE_AFTER", value="2022-01-22T13:00:00.000+02:00"),
        Cmp("gt", ("f",), Lit("datetime", "2022-01-22T11:00:00Z")),
    ),
    (
        c("DATE_BEFORE", value="2022-01-29T13:00:00.500Z"),
        Cmp("lt", ("f",), Lit("datetime", "2022-01-29T13:00:00.500Z")),
    ),
    (c("SEMVER_EQ", value="1.2.2"), Cmp("eq", ("f",), Lit("semver", "1.2.2"))),
    (c("SEMVER_GT", value="2.0.0-alpha.1"), Cmp("gt", ("f",), Lit("semver", "2.0.0-alpha.1"))),
    (c("SEMVER_GTE", value="1.0.0"), Cmp("ge", ("f",), Lit("semver", "1.0.0"))),
    (c("SEMVER_LT", value="1.0.0"), Cmp("lt", ("f",), Lit("semver", "1.0.0"))),
    (c("SEMVER_LTE", value="1.0.0"), Cmp("le", ("f",), Lit("semver", "1.0.0"))),
    (c("REGEX", value="^a.b$"), Regex(("f",), "^a.b$")),
    (c("REGEX", value="^abc$", caseInsensitive=True), Regex(("f",), "^abc$", ci=True)),
    (c("IN", "user.plan", values=["pro"]), Cmp("eq", ("user", "plan"), S("pro"))),
    (c("IN", values=[1, 2.0, True]), In(("f",), (S("1"), S("2"), S("true")))),  # ajv coercion
]


@pytest.mark.parametrize(("constraint", "expected"), PARSED)
def test_parse_each_operator(constraint: dict[str, Any], expected: Expr) -> None:
    assert parse_constraints([constraint]) == expected


def test_empty_list_is_everyone_and_several_are_anded() -> None:
    assert parse_constraints([]) is None
    expr = parse_constraints([c("IN", "a", values=["1"]), c("NUM_GT", "b", value="2")])
    assert expr == And((Cmp("eq", ("a",), S("1")), Cmp("gt", ("b",), N(2))))


def test_not_in_lists_on_one_field_merge() -> None:
    expr = parse_constraints([c("NOT_IN", values=["a"]), c("NOT_IN", values=["b"])])
    assert expr == Not(In(("f",), (S("a"), S("b"))))
    assert render_constraints(expr) == [c("NOT_IN", values=["a", "b"])]


INVALID: list[tuple[Any, str]] = [
    ("nope", "constraints"),
    ([5], "constraints[0]"),
    ([{"operator": "IN", "values": ["a"]}], "constraints[0].contextName"),
    ([c("IN", "a..b", values=["x"])], "constraints[0].contextName"),
    ([c("IN_CIDR", values=["10.0.0.0/8"])], "constraints[0].operator"),
    ([c("IN", values=["a"], extra=1)], "constraints[0].extra"),
    ([c("IN")], "constraints[0].values"),
    ([c("IN", value="a")], "constraints[0].values"),  # a lone value does not count
    ([c("STR_CONTAINS", values=[])], "constraints[0].values"),
    ([c("IN", values=[""])], "constraints[0].values[0]"),
    ([c("IN", values=["x" * 101])], "constraints[0].values[0]"),
    ([c("IN", values=[["x"]])], "constraints[0].values[0]"),
    ([c("NUM_EQ")], "constraints[0].value"),
    ([c("NUM_EQ", value="")], "constraints[0].value"),
    ([c("NUM_EQ", value="twelve")], "constraints[0].value"),
    ([c("NUM_EQ", value="Infinity")], "constraints[0].value"),
    ([c("SEMVER_EQ", value="v1.2.3")], "constraints[0].value"),
    ([c("SEMVER_EQ", value="1.2")], "constraints[0].value"),
    ([c("SEMVER_EQ", value="1.2.3+build")], "constraints[0].value"),
    ([c("DATE_AFTER", value="2022-02-30")], "constraints[0].value"),
    ([c("DATE_AFTER", value="yesterday")], "constraints[0].value"),
    ([c("REGEX", value="(regex")], "constraints[0].value"),
    ([c("REGEX", value="^(?=a)b$")], "constraints[0].value"),
    ([c("REGEX", value="^(a)\\1$")], "constraints[0].value"),
    ([c("REGEX", value="^a$", inverted=True)], "constraints[0].inverted"),
    ([c("IN", values=["a"], inverted="yes")], "constraints[0].inverted"),
    ([c("IN", values=["a"]), c("NUM_EQ", "g", value="x")], "constraints[1].value"),
]


@pytest.mark.parametrize(("constraints", "field"), INVALID)
def test_validation_errors_name_the_field(constraints: Any, field: str) -> None:
    with pytest.raises(Invalid) as exc:
        parse_constraints(constraints)
    assert exc.value.field == field


def test_limits() -> None:
    many = [c("IN", values=[str(i) for i in range(6)])]
    with pytest.raises(LimitExceeded):
        parse_constraints(many, Limits(max_values=5))
    with pytest.raises(LimitExceeded):
        parse_constraints(many, Limits(max_text=20))


# ----------------------------------------------------------------------------- render

RENDERED: list[tuple[Expr, list[dict[str, Any]]]] = [
    (Or((Cmp("eq", ("f",), S("b")), Cmp("eq", ("f",), S("a")))), [c("IN", values=["a", "b"])]),
    (
        Or((Cmp("eq", ("f",), S("a")), In(("f",), (S("b"), S("c"))))),
        [c("IN", values=["a", "b", "c"])],
    ),
    (
        Not(Or((Cmp("eq", ("f",), S("a")), Cmp("eq", ("g",), S("b"))))),
        [c("NOT_IN", values=["a"]), c("NOT_IN", "g", values=["b"])],
    ),
    (In(("f",), (N(3),)), [c("NUM_EQ", value="3")]),
    (Cmp("ge", ("f",), N(0.1)), [c("NUM_GTE", value="0.1")]),
    (Not(Cmp("lt", ("f",), N(1e21))), [c("NUM_LT", value="1000000000000000000000", inverted=True)]),
    (
        Cmp("gt", ("f",), Lit("datetime", "2022-01-01T00:00:00+01:00")),
        [c("DATE_AFTER", value="2021-12-31T23:00:00Z")],
    ),
    (Like(("f",), "abc%", ci=True), [c("STR_STARTS_WITH", values=["abc"], caseInsensitive=True)]),
    (
        Or((StrOp("contains", ("f",), ("b",)), StrOp("contains", ("f",), ("a",)))),
        [c("STR_CONTAINS", values=["a", "b"])],
    ),
    (Quant("any", ("tags",), Cmp("eq", (), S("x"))), [c("IN", "tags", values=["x"])]),
    (Regex(("f",), "^a", ci=True), [c("REGEX", value="^a", caseInsensitive=True)]),
    (None, []),
]


@pytest.mark.parametrize(("expr", "expected"), RENDERED)
def test_render(expr: Expr | None, expected: list[dict[str, Any]]) -> None:
    assert render_constraints(expr) == expected


REFUSED: list[Expr] = [
    Or((Cmp("eq", ("f",), S("a")), Cmp("eq", ("g",), S("b")))),  # OR across fields
    Or((Cmp("gt", ("f",), N(1)), Cmp("eq", ("f",), S("x")))),
    In(("f",), (N(1), N(2))),  # IN compares text: "1.0" is not "1"
    Cmp("eq", ("f",), S("a"), ci=True),  # IN ignores caseInsensitive
    In(("f",), (S("a"), S("b")), ci=True),
    Exists(("f",)),
    Not(Exists(("f",))),
    Cmp("ne", ("f",), S("a")),  # present and different ≠ NOT_IN
    Cmp("ne", ("f",), N(1)),
    Like(("f",), "a_c"),
    Quant("all", ("f",), Cmp("eq", (), S("a"))),
    SegmentRef("segments/x"),
    Cmp("eq", ("f",), Lit("version", "1.2")),
    Cmp("gt", ("f",), Lit("date", "2024-01-01")),
    Cmp("ge", ("f",), Lit("datetime", "2024-01-01T00:00:00Z")),
    Cmp("eq", ("f",), Lit("bool", True)),
    Cmp("lt", ("f",), S("m")),
    Not(Regex(("f",), "^a")),  # the admin API refuses inverted REGEX
    Regex(("f",), "(?=x)"),
    Cmp("eq", ("a.b",), S("x")),  # a dotted step cannot be written
    Cmp("eq", ("f",), S("")),  # the admin API refuses empty values
    Cmp("eq", ("f",), Lit("semver", "1.2.3+build")),
    Not(And((Cmp("eq", ("f",), S("a")), Cmp("eq", ("g",), S("b"))))),
    In(("f",), ()),
]


@pytest.mark.parametrize("expr", REFUSED)
def test_refusals(expr: Expr) -> None:
    with pytest.raises(NotExpressible) as exc:
        render_constraints(expr)
    assert exc.value.language == "unleash" and exc.value.reason


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expr=exprs())
def test_render_then_parse_is_the_normal_form(expr: Expr) -> None:
    try:
        rendered = render_constraints(expr)
    except NotExpressible:
        return
    assert parse_constraints(rendered) == normalize(expr)


CORPUS = random_profiles(150, seed=11)


@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expr=exprs())
def test_rendering_never_changes_who_matches(expr: Expr) -> None:
    try:
        back = parse_constraints(render_constraints(expr))
    except NotExpressible:
        return
    for profile in CORPUS:
        assert evaluate(back, profile) == evaluate(expr, profile), profile


# ----------------------------------------------------------------------------- SDK semantics

SPEC = [
    # client-specification 13-constraint-operators (name, constraints, context, expected)
    (
        "F1.startsWith",
        [c("STR_STARTS_WITH", "customField", values=["some-string"])],
        {"properties": {"customField": "some-string-is-cool"}},
        True,
    ),
    (
        "F1.startsWith",
        [c("STR_STARTS_WITH", "customField", values=["some-string"])],
        {"properties": {"customField": "some2-is-cool-string"}},
        False,
    ),
    (
        "F2.startsWith.caseInsensitve",
        [c("STR_STARTS_WITH", "customField", values=["TEST"], caseInsensitive=True)],
        {"properties": {"customField": "TEsT@example.com"}},
        True,
    ),
    (
        "F3.endsWith",
        [c("STR_ENDS_WITH", "email", values=["some-email.com"])],
        {"properties": {"email": "test@some-EMAIL.com"}},
        False,
    ),
    (
        "F4.contains.inverted",
        [c("STR_CONTAINS", "email", values=["email"], inverted=True)],
        {"properties": {"email": "test@another.com"}},
        True,
    ),
    (
        "F5.numEq",
        [c("NUM_EQ", "someValue", value="12")],
        {"properties": {"someValue": "12.0"}},
        True,
    ),
    (
        "F5.numEq.float",
        [c("NUM_EQ", "someValue", value="12.0")],
        {"properties": {"someValue": "12"}},
        True,
    ),
    (
        "F5.numGT",
        [c("NUM_GT", "someValue", value="12")],
        {"properties": {"someValue": "12"}},
        False,
    ),
    (
        "F5.numLTE",
        [c("NUM_LTE", "someValue", value="12")],
        {"properties": {"someValue": "0"}},
        True,
    ),
    (
        "F7.dateAfter",
        [c("DATE_AFTER", "currentTime", value="2022-01-29T13:00:00.000Z")],
        {"currentTime": "2022-01-29T13:00:00.000Z"},
        False,
    ),  # equal → false
    (
        "F7.date-with-timezone",
        [
            c("DATE_AFTER", "currentTime", value="2022-01-22T13:00:00.000+02:00"),
            c("DATE_BEFORE", "currentTime", value="2022-01-22T14:00:00.000+02:00"),
        ],
        {"currentTime": "2022-01-22T11:30:00.000Z"},
        True,
    ),
    ("F8.missing-field.IN", [c("IN", "customFieldMissing", values=["s1"])], {}, False),
    (
        "F8.missing-field.NOT_IN",
        [c("NOT_IN", "customFieldMissing", values=["s1"])],
        {"properties": {"customFieldMissing": None}},
        True,
    ),
    (
        "F9.inverted.IN",
        [c("IN", "someValue", values=["s1", "s2"], inverted=True)],
        {"properties": {"someValue": "s1"}},
        False,
    ),
    (
        "F10.inverted.NOT_IN",
        [c("NOT_IN", "someValue", values=["s1", "s2"], inverted=True)],
        {"properties": {"someValue": "s1"}},
        True,
    ),
    # 14-constraint-semver-operators
    (
        "F8.semverAlphaGT",
        [c("SEMVER_GT", "version", value="2.0.0-alpha.1")],
        {"properties": {"version": "2.0.0-beta.1"}},
        True,
    ),
    (
        "F8.semverAlphaLT",
        [c("SEMVER_LT", "version", value="2.0.0-alpha.1")],
        {"properties": {"version": "1.9.1-beta.1"}},
        True,
    ),
    (
        "F8.alphaUnnumbered",
        [c("SEMVER_GT", "version", value="2.0.0-alpha")],
        {"properties": {"version": "2.0.0-alpha.1"}},
        True,
    ),
    (
        "F8.releaseCandidate",
        [c("SEMVER_GT", "version", value="2.0.0-rc")],
        {"properties": {"version": "2.0.0-beta.1"}},
        False,
    ),
    (
        "F8.releaseCandidate",
        [c("SEMVER_GT", "version", value="2.0.0-rc")],
        {"properties": {"version": "2.0.0"}},
        True,
    ),
    (
        "F8.invalidSemverWithLeadingV",
        [c("SEMVER_EQ", "version", value="2.0.0")],
        {"properties": {"version": "v2.0.0"}},
        False,
    ),
    # 21-regex-constraint-operators
    (
        "R02.perl_digit_class",
        [c("REGEX", "userId", value="^user\\d{3}$")],
        {"userId": "user12"},
        False,
    ),
    (
        "R03.ascii_class",
        [c("REGEX", "userId", value="^[[:alpha:]]+$")],
        {"userId": "Alpha1"},
        False,
    ),
    (
        "R04.word_boundary_ascii",
        [c("REGEX", "userId", value="\\bcat\\b")],
        {"userId": "a cat b"},
        True,
    ),
    ("R09.inline_flag_i", [c("REGEX", "userId", value="^(?i)abc$")], {"userId": "AbC"}, True),
    ("R09.inline_flag_i", [c("REGEX", "userId", value="^(?i)abc$")], {"userId": "zAbCz"}, False),
    (
        "Global.case.insensitive",
        [c("REGEX", "userId", value="^abc$", caseInsensitive=True)],
        {"userId": "AbC"},
        True,
    ),
    ("R10.inline_flag_m", [c("REGEX", "userId", value="(?m)^foo$")], {"userId": "x\nfoo\ny"}, True),
    (
        "R11.inline_flag_s_dotall",
        [c("REGEX", "userId", value="^(?s)a.b$")],
        {"userId": "a\nb"},
        True,
    ),
    (
        "R01.literal_and_anchors.referencing.property",
        [c("REGEX", "nested", value="^[^@]+@[^@]+$")],
        {"properties": {"nested": None}},
        False,
    ),
    # 11-strategy-constraints-edge-cases
    ("Feature.constraints.empty", [], {}, True),
]


@pytest.mark.parametrize(("name", "constraints", "context", "expected"), SPEC)
def test_client_specification(
    name: str, constraints: list[dict[str, Any]], context: dict[str, Any], expected: bool
) -> None:
    flat = unleash_context(context, now=dt.datetime(2022, 1, 25, tzinfo=dt.UTC))
    assert evaluate(parse_constraints(constraints), flat) is expected, name


def test_current_time_defaults_to_now_in_the_unleash_context() -> None:
    """Sheet §9: DATE_* on a missing currentTime uses now; the evaluator itself invents nothing."""
    expr = parse_constraints([c("DATE_AFTER", "currentTime", value="2022-01-01T00:00:00Z")])
    now = dt.datetime(2023, 5, 1, tzinfo=dt.UTC)
    assert evaluate(expr, unleash_context({}, now=now)) is True
    assert evaluate(expr, {}) is False
    assert unleash_context({"properties": {"userId": "p"}, "userId": "u"})["userId"] == "u"


def _unleash_shaped() -> Any:
    """Conjunctions of (negated) atoms that mostly have a constraint: the identity bites."""
    from hypothesis import strategies as st

    from tests.unit.expr.ast_strategies import lits

    path = st.sampled_from([("a",), ("b",), ("o", "a")])
    atom = st.one_of(
        st.builds(Cmp, st.just("eq"), path, lits("string")),
        st.builds(In, path, st.lists(lits("string"), min_size=1, max_size=3).map(tuple)),
        st.builds(Cmp, st.sampled_from(["eq", "lt", "le", "gt", "ge"]), path, lits("number")),
        st.builds(Cmp, st.sampled_from(["lt", "gt"]), path, lits("datetime")),
        st.builds(Cmp, st.sampled_from(["eq", "lt", "le", "gt", "ge"]), path, lits("semver")),
        st.builds(
            StrOp,
            st.sampled_from(["starts_with", "ends_with", "contains"]),
            path,
            st.lists(st.sampled_from(["a", "B", "ß"]), min_size=1, max_size=2).map(tuple),
            st.booleans(),
        ),
        st.builds(Regex, path, st.sampled_from(["^a", "b$", "(?i)x"]), st.booleans()),
    )
    item = st.one_of(atom, atom.filter(lambda a: not isinstance(a, Regex)).map(Not))
    return st.lists(item, min_size=1, max_size=4).map(lambda a: And(tuple(a)))


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expr=_unleash_shaped())
def test_render_then_parse_on_constraint_shaped_conditions(expr: Expr) -> None:
    try:
        rendered = render_constraints(expr)
    except NotExpressible:
        return  # e.g. a merged Or-free conjunction still holding an empty value
    assert parse_constraints(rendered) == normalize(expr)
    for profile in CORPUS:
        assert evaluate(normalize(expr), profile) == evaluate(expr, profile)
