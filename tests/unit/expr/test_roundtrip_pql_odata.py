"""Properties: random ASTs → render → parse gives the same AST (PQL text, pql/json, OData), and
parsers given arbitrary text fail only with ``Invalid``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import Invalid, NotExpressible
from core.expr.ast import ATOMS, And, Expr, Not, Or, Quant, StrOp
from core.expr.normalize import normalize
from core.expr.odata import parse_odata, render_odata
from core.expr.pql import parse_pql
from core.expr.pql_render import render_pql
from core.expr.pqljson import parse_pqljson, render_pqljson
from tests.examples import examples
from tests.unit.expr.strategies import ALL_NODES, AstProfile, exprs

NODES = (*ATOMS, And, Or, Not, Quant)
SETTINGS = settings(max_examples=examples(250), deadline=None, database=None)

PQL = AstProfile(
    kinds=("string", "number", "bool", "date"),
    nodes=ALL_NODES,
    ci=False,
    empty_sets=False,
    max_str_values=1,
    segment_refs=("7ba8b3ba-c1ba-4b4a-bf62-c91ee0d0d948", "segments/seg-a", "seg-b"),
    refs_in_quant=False,
)
"""Everything PQL can say: every draw must render."""

ODATA = AstProfile(
    kinds=("string", "number", "bool", "date", "datetime"),
    nodes=ALL_NODES - {"like", "regex", "segment", "count", "datepart", "cmpattr", "mod"},
    cmp_ops=("eq", "lt", "le", "gt", "ge"),
    ci=False,
    empty_sets=False,
    max_str_values=1,
)
"""Everything OData can say (``ne`` arrives as ``Not(Cmp("eq"))``): every draw must render."""

ANYTHING = AstProfile(max_str_values=1)
"""The whole AST: rendering may refuse, but only with NotExpressible."""

_T = TypeVar("_T")
_A = TypeVar("_A")


def _outcome(function: Callable[[_A], _T], argument: _A) -> _T | Invalid | NotExpressible:
    """The result, or the expected kind of refusal (any other exception fails the test)."""
    try:
        return function(argument)
    except (Invalid, NotExpressible) as exc:
        return exc


Render = Callable[[Expr | None], str]
Parse = Callable[[str], Expr | None]
LANGUAGES: list[tuple[str, Render, Parse, AstProfile]] = [
    ("pql", render_pql, parse_pql, PQL),
    ("pql/json", render_pqljson, parse_pqljson, PQL),
    ("odata", render_odata, parse_odata, ODATA),
]
IDS = [language[0] for language in LANGUAGES]


@pytest.mark.parametrize(("name", "render", "parse", "profile"), LANGUAGES, ids=IDS)
def test_expressible_asts_round_trip(
    name: str, render: Render, parse: Parse, profile: AstProfile
) -> None:
    @SETTINGS
    @given(exprs(profile, depth=4))
    def check(expr: Expr) -> None:
        assert parse(render(expr)) == expr

    check()


@pytest.mark.parametrize(("name", "render", "parse", "profile"), LANGUAGES, ids=IDS)
def test_any_ast_round_trips_or_is_not_expressible(
    name: str, render: Render, parse: Parse, profile: AstProfile
) -> None:
    @SETTINGS
    @given(exprs(ANYTHING, depth=4))
    def check(expr: Expr) -> None:
        text = _outcome(render, expr)
        if isinstance(text, NotExpressible):
            assert text.language == name
        else:
            assert isinstance(text, str)
            assert parse(text) == expr

    check()


def _expand(expr: Expr) -> Expr:
    """What PQL / OData read back for a StrOp with several values: an Or of one-value tests
    (flattened into an enclosing Or, as the parsers flatten)."""
    match expr:
        case StrOp(values=values) if len(values) > 1:
            return Or(tuple(StrOp(expr.op, expr.path, (v,), expr.ci) for v in values))
        case And(args=args) | Or(args=args):
            kind = type(expr)
            out: list[Expr] = []
            for arg in map(_expand, args):
                out.extend(arg.args if isinstance(arg, kind) else (arg,))
            return kind(tuple(out))
        case Not(arg=arg):
            return Not(_expand(arg))
        case Quant():
            return Quant(expr.q, expr.path, _expand(expr.cond))
    return expr


@pytest.mark.parametrize(("name", "render", "parse", "profile"), LANGUAGES, ids=IDS)
def test_string_tests_with_several_values_read_back_as_or(
    name: str, render: Render, parse: Parse, profile: AstProfile
) -> None:
    several = AstProfile(
        kinds=profile.kinds,
        nodes=profile.nodes,
        cmp_ops=profile.cmp_ops,
        ci=False,
        empty_sets=False,
        max_str_values=3,
        segment_refs=profile.segment_refs,
        refs_in_quant=profile.refs_in_quant,
    )

    @SETTINGS
    @given(exprs(several, depth=3))
    def check(expr: Expr) -> None:
        assert parse(render(expr)) == _expand(expr)

    check()


@pytest.mark.parametrize(("name", "render", "parse", "profile"), LANGUAGES, ids=IDS)
def test_normal_forms_agree_for_any_ast(
    name: str, render: Render, parse: Parse, profile: AstProfile
) -> None:
    """Where a parser restructures (several-value string tests → Or, nested junctions
    flattened, instants in UTC) the meaning is kept: both sides normalise to one AST."""

    @SETTINGS
    @given(exprs(AstProfile(max_str_values=3, flat=False), depth=4))
    def check(expr: Expr) -> None:
        text = _outcome(render, expr)
        if isinstance(text, str):
            assert normalize(parse(text)) == normalize(expr)

    check()


@SETTINGS
@given(exprs(PQL, depth=4))
def test_pql_text_and_json_agree(expr: Expr) -> None:
    from_text = parse_pql(render_pql(expr))
    assert parse_pqljson(render_pqljson(from_text)) == from_text
    assert render_pql(parse_pqljson(render_pqljson(expr))) == render_pql(expr)


@SETTINGS
@given(exprs(AstProfile(max_str_values=1, ci=True, kinds=("string",)), depth=3))
def test_case_insensitive_where_pql_has_it(expr: Expr) -> None:
    try:
        text = render_pql(expr)
    except NotExpressible:
        return
    assert parse_pql(text) == expr


# Fragments that make random text look like the languages, so parsers get past the first token.
PQL_WORDS = st.sampled_from(
    ['a', '.', 'b', ' = ', ' != ', ' < ', '1', '-2.5', '"x"', '"', '\\', ' and ', ' or ', 'not ',
     '!', '(', ')', '[', ']', ', ', ' in ', ' notIn ', ' like ', '.startsWith(', ', false', 'true',
     'exists X from ', ' where ', 'X', '$1', 'date(2020, 1, 2)', '.isNull()', ':', '+', '=>'],
)  # fmt: skip
ODATA_WORDS = st.sampled_from(
    ['a', '/', 'b', ' eq ', ' ne ', ' gt ', '1', '-2.5', "'x'", "'", "''", ' and ', ' or ', 'not ',
     '(', ')', ',', ' in ', 'startswith(', 'contains(', 'null', 'true', '/any(', 'x: ', 'x',
     '2018-02-13T12:33:12Z', '2018-02-13', '$it', ' add '],
)  # fmt: skip


@pytest.mark.parametrize(
    ("parse", "words"), [(parse_pql, PQL_WORDS), (parse_odata, ODATA_WORDS)], ids=["pql", "odata"]
)
def test_parsers_fail_only_with_invalid(parse: Parse, words: st.SearchStrategy[str]) -> None:
    @SETTINGS
    @given(st.one_of(st.text(max_size=40), st.lists(words, max_size=25).map("".join)))
    def check(text: str) -> None:
        result = _outcome(parse, text)
        if isinstance(result, Invalid):
            assert result.reason
            assert result.position is None or 0 <= result.position <= len(text)
        else:
            assert result is None or isinstance(result, NODES)

    check()


JSON_VALUES = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.text(max_size=5),
        st.sampled_from(["fnApply", "fieldLookup", "parameterReference", "literal", "=", "and",
                         "isNull", "in", "String", "Array", "Integer"]),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(
            st.sampled_from(["nodeType", "fnName", "params", "fieldName", "object", "position",
                             "literalType", "value"]),
            children,
            max_size=4,
        ),
    ),
    max_leaves=12,
)  # fmt: skip


@SETTINGS
@given(JSON_VALUES)
def test_pqljson_fails_only_with_invalid(value: object) -> None:
    if isinstance(value, dict | list):
        result = _outcome(parse_pqljson, value)
        assert not isinstance(result, Invalid) or result.reason
        assert not isinstance(result, Expr | None) or result is None or isinstance(result, NODES)
