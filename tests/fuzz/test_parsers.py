"""The parsers under hypothesis with random input: every language's parser, the JSON decoder
and the JSON-to-language path either return a value or raise a core error (which every dialect
renders as a 4xx) — never any other exception, never a hang.

``make test`` runs a bounded number of examples; ``make fuzz`` sets ``SEGMUX_FUZZ_EXAMPLES`` high.
Inputs are drawn three ways: random bytes decoded leniently, random text over the characters the
grammars care about (so the parsers get past their first token), and random JSON values.
"""

from __future__ import annotations

import contextlib
import json
import os
from typing import Any

import hypothesis
import pytest
from hypothesis import HealthCheck, given
from hypothesis import strategies as st

from core.errors import CoreError
from core.expr.languages import LANGUAGES, translate
from core.expr.normalize import normalize
from dialects.http import MalformedJSON, decode_json
from tests.examples import examples

# `make fuzz` asks for its own count; otherwise 100 (a tenth in the inner loop).
EXAMPLES = int(os.environ.get("SEGMUX_FUZZ_EXAMPLES") or examples(100))
SETTINGS = hypothesis.settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
TEXT_LANGUAGES = ["pql", "pqljson", "odata"]
# What the grammars are made of: operators, quotes, brackets, keywords, digits, escapes.
ALPHABET = (
    st.sampled_from(list(" \t\n()[]{}\"'\\.,:;=!<>~-+*/%&|^$?@#0123456789abcdefxyzAEINORTUS_"))
    | st.characters()
)
TOKENS = st.sampled_from(
    [
        "and",
        "or",
        "not",
        "eq",
        "ne",
        "lt",
        "le",
        "gt",
        "ge",
        "in",
        "contains",
        "startsWith",
        "endswith",
        "like",
        "matches",
        "exists",
        "null",
        "true",
        "false",
        "select",
        "from",
        "workAddress.country",
        "person.age",
        "'x'",
        '"x"',
        "1.5e308",
        "-0",
        "2026-01-01",
        'date("2026-01-01")',
        "now()",
        "(",
        ")",
        "[",
        "]",
        ",",
        "=",
        "!=",
        ">=",
        "<=",
        " ",
    ]
)
GRAMMAR_TEXT = st.lists(TOKENS | st.text(ALPHABET, max_size=3), max_size=40).map("".join)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=40,
)
UNLEASH_CONSTRAINT = st.fixed_dictionaries(
    {
        "contextName": st.text(max_size=8) | st.sampled_from(["country", "userId", "currentTime"]),
        "operator": st.sampled_from(
            [
                "IN",
                "NOT_IN",
                "STR_CONTAINS",
                "STR_STARTS_WITH",
                "STR_ENDS_WITH",
                "NUM_EQ",
                "NUM_GT",
                "NUM_GTE",
                "NUM_LT",
                "NUM_LTE",
                "DATE_AFTER",
                "DATE_BEFORE",
                "SEMVER_EQ",
                "SEMVER_GT",
                "SEMVER_LT",
                "BOGUS",
            ]
        )
        | st.text(max_size=5),
    },
    optional={
        "values": st.lists(st.text(max_size=10) | JSON, max_size=4),
        "value": st.text(max_size=12) | JSON,
        "inverted": JSON,
        "caseInsensitive": JSON,
    },
)


def expect_clean(fn: Any, *args: Any) -> Any:
    """Call ``fn``: a result, or a core error; anything else is a crash (re-raised)."""
    try:
        return fn(*args)
    except CoreError:
        return None


@pytest.mark.parametrize("name", TEXT_LANGUAGES)
@SETTINGS
@given(data=st.binary(max_size=300))
def test_text_parsers_survive_random_bytes(name: str, data: bytes) -> None:
    text = data.decode("utf-8", "surrogateescape")
    expect_clean(LANGUAGES[name].parse, text)


@pytest.mark.parametrize("name", TEXT_LANGUAGES)
@SETTINGS
@given(text=GRAMMAR_TEXT)
def test_text_parsers_survive_grammar_shaped_text(name: str, text: str) -> None:
    expr = expect_clean(LANGUAGES[name].parse, text)
    if expr is not None:
        # What parses can be normalised and rendered back, or refused with a reason.
        for target in LANGUAGES.values():
            expect_clean(target.render, normalize(expr))


@pytest.mark.parametrize("name", list(LANGUAGES))
@SETTINGS
@given(value=JSON)
def test_every_parser_survives_random_json(name: str, value: Any) -> None:
    expect_clean(LANGUAGES[name].parse, value)


@SETTINGS
@given(constraints=st.lists(UNLEASH_CONSTRAINT, max_size=4))
def test_unleash_constraints_survive_random_fields(constraints: list[Any]) -> None:
    for target in LANGUAGES:
        expect_clean(translate, "unleash", target, constraints)


@SETTINGS
@given(data=st.binary(max_size=400) | JSON.map(lambda v: json.dumps(v).encode()))
def test_json_decoder_survives_random_bytes(data: bytes) -> None:
    with contextlib.suppress(MalformedJSON):
        decode_json(data)
