"""``core.expr.matchers``: ``Regex`` and ``Like`` on RE2 — RE2's meaning, linear time on hostile
patterns, and the parse tree (what PostgreSQL's emission is built from) meaning the same."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.budget import CURRENT_BUDGET, Budget, BudgetExceeded
from core.errors import LimitExceeded
from core.expr import ast
from core.expr.ast import Cmp, Like, Lit, Or, Regex
from core.expr.evaluate import compile_expr
from core.expr.matchers import (
    PatternRefused,
    like_matcher,
    like_pattern,
    regex_matcher,
    regex_problem,
)
from core.expr.re2 import RegexError, SqlUnsupported, postgres_pattern, problem
from core.expr.segment_set import SegmentSet
from tests.examples import examples
from tests.unit.expr.re2_oracle import oracle

LONG = 10_000
GENEROUS_SECONDS = 10.0
"""Liveness bound for a whole test of hostile inputs (each finishes in milliseconds on RE2; the
backtracking engine took seconds for 26 characters and doubled per character after that)."""


# ----------------------------------------------------------------------------- hostile inputs

CATASTROPHIC_REGEX = [
    "(a+)+$",
    "(a*)*$",
    "(a|a)+$",
    "(a|aa)+$",
    "(.*a){20}$",
    "^(a+)+b",
    "(\\w+\\s?)+$",
    "(x+x+)+y",
    "^(([a-z])+.)+[A-Z]([a-z])+$",
    "(a{1,1000}){1,1000}$",
]


@pytest.mark.parametrize("pattern", CATASTROPHIC_REGEX)
def test_catastrophic_regex_on_10000_characters_finishes(pattern: str) -> None:
    started = time.monotonic()
    try:
        matches = regex_matcher(pattern)
    except PatternRefused:
        assert problem(pattern) is not None  # refused at write time too, never run
        return
    answers = [
        matches(text)
        for text in ("a" * LONG + "!", "a" * LONG, "x" * LONG, ("ab " * LONG)[:LONG] + "1")
    ]
    assert len(answers) == 4
    assert time.monotonic() - started < GENEROUS_SECONDS


def test_the_issue_patterns_answer_correctly_on_long_inputs() -> None:
    assert regex_matcher("(a+)+$")("a" * LONG + "!") is False  # no "a" at the end
    assert regex_matcher("(a+)+$")("!" + "a" * LONG) is True
    assert regex_matcher("^(a+)+$")("a" * LONG + "!") is False
    assert regex_matcher("^(a+)+$")("a" * LONG) is True
    like = like_matcher("%a%a%a%a%a%!")
    assert like("a" * LONG) is False
    assert like("a" * LONG + "!") is True
    assert like("a" * 4 + "!") is False  # five "a" are needed


@pytest.mark.parametrize(
    "pattern", ["%a%a%a%a%a%!", "%_%_%_%_%_%_%!", "%" * 50 + "b", "_%a" * 30 + "!"]
)
def test_catastrophic_like_on_10000_characters_finishes(pattern: str) -> None:
    started = time.monotonic()
    matches = like_matcher(pattern)
    for text in ("a" * LONG, "a" * LONG + "!", "ab" * (LONG // 2)):
        matches(text)
        like_matcher(pattern, ci=True)(text.upper())
    assert time.monotonic() - started < GENEROUS_SECONDS


def test_a_batch_of_hostile_contexts_through_a_segment_set_finishes() -> None:
    conditions = [
        (f"s{i}", ast.encode(Regex(("email",), p)))
        for i, p in enumerate(CATASTROPHIC_REGEX)
        if regex_problem(p) is None
    ]
    conditions.append(("like", ast.encode(Like(("city",), "%a%a%a%a%a%!"))))
    segments = SegmentSet(conditions)
    context = {"email": "a" * LONG + "!", "city": "a" * LONG}
    started = time.monotonic()
    for _ in range(20):
        result = segments.evaluate(context)
        assert result["like"] is False and result["s0"] is False
        assert segments.evaluate({"email": "!" + "a" * LONG})["s0"] is True
    assert time.monotonic() - started < GENEROUS_SECONDS


# ----------------------------------------------------------------------------- RE2's meaning


@pytest.mark.parametrize(
    ("pattern", "ci", "text", "expected"),
    [
        ("b$", False, "ab\n", False),  # $ is the end of the text, not before a final newline
        ("(?m)b$", False, "ab\nc", True),
        ("^\\d$", False, "\u0663", False),  # \d is ASCII
        ("^\\w$", False, "é", False),
        ("\\bcat\\b", False, "écat", True),  # \b is ASCII: "é" is not a word character
        ("^(?i)abc$", False, "AbC", True),
        ("abc", True, "xABCx", True),
        ("a(?-i)bc", True, "ABC", False),  # the pattern's own flag overrides ci
        ("a(?-i)bc", True, "Abc", True),
        ("^.$", False, "\n", False),
        ("(?s)^.$", False, "\n", True),
        ("^.$", False, "😀", True),  # one code point, not two UTF-16 units
        ("^[^a]$", False, "😀", True),
        ("k", True, "\u212a", True),  # Kelvin sign folds to k (RE2's case folding)
        ("^\\x{1F600}$", False, "😀", True),
        ("\\Qa.b\\E", False, "a.b", True),
        ("\\Qa.b\\E", False, "axb", False),
        ("^$", False, "", True),
        ("^a.b$", False, "a\ud800b", True),  # a lone surrogate is one character
    ],
)
def test_regex_has_re2_meaning(pattern: str, ci: bool, text: str, expected: bool) -> None:
    assert regex_matcher(pattern, ci)(text) is expected


@pytest.mark.parametrize(
    ("pattern", "ci", "text", "expected"),
    [
        ("a%c", False, "a\nb\nc", True),  # % takes newlines
        ("a_c", False, "a\nc", True),
        ("a_c", False, "a😀c", True),  # _ is one code point
        ("a.c", False, "abc", False),  # regex specials are literal
        ("a.c", False, "a.c", True),
        ("(a+)+$", False, "(a+)+$", True),
        ("\\d", False, "\\d", True),
        ("100%", False, "100% sure", True),
        ("100%", False, "10", False),
        ("%%", False, "", True),
        ("_", False, "", False),
        ("", False, "", True),
        ("", False, "x", False),
        ("ab", False, "xab", False),  # the whole text, not a search
        ("STRA%", True, "straße", True),  # ci: both sides casefolded
        ("%SS", True, "STRAß", True),
        ("a\ud800%", False, "a\ud800b", True),  # a lone surrogate is a character…
        ("a\ud800_", False, "a\ud800b", False),  # …but RE2 cannot read it in a pattern with "_"
    ],
)
def test_like_meaning(pattern: str, ci: bool, text: str, expected: bool) -> None:
    try:
        matches = like_matcher(pattern, ci)
    except PatternRefused:
        assert expected is False
        return
    assert matches(text) is expected


def test_like_pattern_is_one_star_per_run_of_percents() -> None:
    assert like_pattern("a%%%b_") == "(?s)a.*b."


def test_regex_outside_the_subset_is_refused_before_re2() -> None:
    with pytest.raises(RegexError):
        regex_matcher("(?=a)a")
    with pytest.raises(RegexError):
        regex_matcher("\\pL")  # RE2 has it; the accepted language does not


def test_patterns_re2_refuses_are_problems_at_write_time_and_never_match() -> None:
    big = "((a{1000}){1000}){1000}"
    assert problem(big) is not None and "RE2" in (problem(big) or "")
    with pytest.raises(PatternRefused):
        regex_matcher(big)
    assert compile_expr(Regex(("r",), big))({"r": "a" * 5000}) is False
    assert problem("(a+)+$") is None


# Differential: the parse tree (PostgreSQL's source) and RE2 agree on every pair below.
TREE_PATTERNS = [
    "abc",
    "^abc$",
    "a.c",
    "(?s)a.c",
    "a|b|",
    "(a|ab)(c|bcd)",
    "x*",
    "x+?y",
    "x{2,3}",
    "x{2,}",
    "[a-c]+",
    "[^a-c]",
    "[[:alpha:]]+",
    "[[:^digit:]]",
    "\\d\\D\\s\\S\\w\\W",
    "\\bfoo\\B",
    "(?i)straße",
    "(?i)[k-m]",
    "(?im)^b$",
    "(?m)^$",
    "\\Aa\\z",
    "a{0}b",
    "(?:ab)*c",
    "[\\-\\]]",
    "\\x41\\x{42}",
    "(?P<n>a)(?<m>b)",
    "(?i:A)a",
    "[a\\d]",
    "(?U)a+b",
    "^",
    "$",
    "\\.\\*",
    "(a+)+$",
    "(?s:.)$",
    "[\\x{100}-\\x{10FFFF}]",
    "^(?i)k$",
    "[^\\n]+",
]
TREE_TEXTS = [
    "",
    "abc",
    "ABC",
    "a\nc",
    "a\n",
    "\nb\n",
    "xx",
    "xxxy",
    "ab",
    "abcd",
    "bcd",
    "foo bar",
    "foobar",
    "STRASSE",
    "straße",
    "K",
    "\u212a",
    "L",
    "a",
    "-]",
    "AB",
    "a1",
    "ab.*",
    "aaaa!",
    "ā",
    "😀",
    "x y\tz",
    "1",
    "٣",
]


# Every pattern with and without ci, but for the one case where the parse tree and RE2 are known
# to differ (a negated class of cased letters under ci): the test after this one covers it.
TREE_CASES = [(p, ci) for p in TREE_PATTERNS for ci in (False, True) if not (ci and p == "[^a-c]")]


@pytest.mark.parametrize(("pattern", "ci"), TREE_CASES)
def test_the_parse_tree_means_what_re2_means(pattern: str, ci: bool) -> None:
    engine, tree = regex_matcher(pattern, ci), oracle(pattern, ci)
    for text in TREE_TEXTS:
        assert engine(text) is (tree.search(text) is not None), (pattern, ci, text)


def test_a_negated_cased_class_under_ci_is_re2s_and_never_sent_to_postgresql() -> None:
    """RE2 folds case before negating: ``(?i)[^a-c]`` refuses "A" and "a". The parse tree keeps
    the complement with a ci mark (which would read "a" as matching through "A"), and that
    reading reaches no engine: PostgreSQL refuses ci over cased characters, so such a segment
    is evaluated here, by RE2."""
    assert regex_matcher("[^a-c]", True)("a") is False
    assert regex_matcher("[^a-c]", True)("A") is False
    assert regex_matcher("[^a-c]", True)("d") is True
    with pytest.raises(SqlUnsupported):
        postgres_pattern("[^a-c]", True)


@pytest.mark.parametrize("pattern", ["\\w", "\\W", "[\\w]", "\\D"])
def test_perl_classes_fold_case_under_ci_and_postgresql_leaves_them_to_re2(pattern: str) -> None:
    """``(?i)\\w`` matches the long s and the Kelvin sign (they fold to "s" and "k"), which
    PostgreSQL's ``[0-9A-Z_a-z]`` would not: such a pattern is evaluated here."""
    assert regex_matcher("^\\w$", True)("\u017f") is True
    assert regex_matcher("^\\w$", True)("\u212a") is True
    assert regex_matcher("^\\W$", True)("\u212a") is False
    assert regex_matcher("^\\w$")("\u017f") is False
    with pytest.raises(SqlUnsupported):
        postgres_pattern(pattern, True)
    assert postgres_pattern("\\d", True) == "[0-9]"  # no cased character: exact there


# ----------------------------------------------------------------------------- the budget


def _costly_set() -> SegmentSet:
    patterns = [f"(a+)+{c}$" for c in "bcdefghijklmnopqrstuvwxyz"]
    return SegmentSet(
        (p, ast.encode(Or(tuple(Regex(("v",), p + str(i)) for i in range(4))))) for p in patterns
    )


def test_a_budget_ends_work_inside_one_context() -> None:
    context = {"v": ["a" * 200] * 2000}  # 100 patterns x 2,000 values: seconds of matching
    budget = Budget(50, field="context")
    token = CURRENT_BUDGET.set(budget)
    try:
        with pytest.raises(BudgetExceeded) as caught:
            _costly_set().evaluate(context)
    finally:
        CURRENT_BUDGET.reset(token)
    assert isinstance(caught.value, LimitExceeded)  # every dialect's 4xx for a limit
    assert caught.value.field == "context"
    assert "50 ms of CPU" in caught.value.reason
    assert budget.spent_ms >= 50


async def test_a_budget_pauses_between_steps_and_ends_runaway_work() -> None:
    budget = Budget(30, field="contexts")
    segments = _costly_set()
    done = 0

    async def run() -> None:
        nonlocal done
        for _ in range(10_000):
            segments.evaluate({"v": ["a" * 100] * 20})
            done += 1
            await budget.pause()

    with pytest.raises(BudgetExceeded) as caught:
        await run()
    assert budget.done == done and caught.value.done == done < 10_000
    assert caught.value.field == "contexts"


async def test_without_a_limit_a_budget_only_counts() -> None:
    budget = Budget(None)
    for _ in range(3):
        await budget.pause()
    budget.charge()
    assert budget.done == 3


def test_a_budget_ends_a_context_of_many_plain_values() -> None:
    """Not only patterns cost: 300 orderings over 200,000 values are many seconds of compares."""
    segments = SegmentSet(
        (f"n{i}", ast.encode(Cmp("gt", ("n",), Lit("number", i)))) for i in range(300)
    )
    budget = Budget(50, field="context")
    token = CURRENT_BUDGET.set(budget)
    try:
        with pytest.raises(BudgetExceeded):
            segments.evaluate({"n": list(range(200_000))})
    finally:
        CURRENT_BUDGET.reset(token)
    assert segments.evaluate({"n": [5]})["n4"] is True  # without a budget: answered


def _like_oracle(pattern: str) -> re.Pattern[str]:
    """The backtracking translation ``like`` used to run: right, but exponential."""
    body = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.compile(body, re.DOTALL)


@settings(max_examples=examples(400), deadline=None)
@given(
    pattern=st.text("ab%_.\n", max_size=8), text=st.text("ab.\n%", max_size=10), ci=st.booleans()
)
def test_like_agrees_with_the_backtracking_translation_on_short_texts(
    pattern: str, text: str, ci: bool
) -> None:
    if ci:
        pattern, text = pattern.upper(), text.lower()
    expected = (
        _like_oracle(pattern.casefold() if ci else pattern).fullmatch(
            text.casefold() if ci else text
        )
        is not None
    )
    assert like_matcher(pattern, ci)(text) is expected


_ATOMS = st.sampled_from(
    [
        "a",
        "b",
        "K",
        ".",
        "[ab]",
        "[^0-9]",
        "[a-c]",
        "\\d",
        "\\w",
        "\\W",
        "\\s",
        "\\b",
        "\\B",
        "^",
        "$",
        "\\A",
        "\\z",
        "(?i)",
        "(?m)",
        "(?s)",
        "(?-i)",
        "[[:upper:]]",
        "\\x{212A}",
        "\u017f",
    ]
)
_QUANTS = st.sampled_from(["", "", "*", "+", "?", "{1,2}", "*?"])


def _regexes() -> st.SearchStrategy[str]:
    def item(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        group = st.builds(lambda p, g: f"({g}{p})", inner, st.sampled_from(["", "?:", "?i:"]))
        return st.builds(
            lambda a, q: a if a.startswith("(?") and a.endswith(")") and ":" not in a else a + q,
            st.one_of(_ATOMS, group),
            _QUANTS,
        )

    seq = st.recursive(
        st.lists(item(_ATOMS), min_size=1, max_size=3).map("".join),
        lambda inner: st.one_of(
            st.lists(item(inner), min_size=1, max_size=3).map("".join),
            st.lists(inner, min_size=2, max_size=3).map("|".join),
        ),
        max_leaves=6,
    )
    return seq


@settings(max_examples=examples(400), deadline=None)
@given(
    pattern=_regexes(),
    ci=st.booleans(),
    text=st.text(st.sampled_from("abABkK\u212a\u017fs 1\n_"), max_size=8),
)
def test_the_parse_tree_agrees_with_re2_on_generated_patterns(
    pattern: str, ci: bool, text: str
) -> None:
    try:
        tree = oracle(pattern, ci)
    except RegexError:
        return  # e.g. a repeated flag group: refused by both (checked below)
    except re.error:
        return
    if (ci or "(?i" in pattern) and ("[^" in pattern or "\\W" in pattern):
        return  # a negated class under ci: see test_a_negated_cased_class_under_ci_…
    if "\\B" in pattern and (text == "" or not text.isascii()):
        # Python's \B never matches an empty text; RE2 tests \B between UTF-8 bytes, so it
        # matches inside the long s (two non-word bytes). PostgreSQL refuses \b and \B: this reading
        # of the tree reaches no engine.
        return
    engine = regex_matcher(pattern, ci)
    assert engine(text) is (tree.search(text) is not None), (pattern, ci, text)
