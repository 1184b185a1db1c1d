"""The language registry and translate (parse → normalize → render)."""

from __future__ import annotations

import contextlib

import pytest

from core.errors import Invalid, NotExpressible
from core.expr.ast import Cmp, Lit
from core.expr.languages import LANGUAGES, translate


def test_registry_names() -> None:
    assert set(LANGUAGES) == {"pql", "pqljson", "odata", "unleash", "confidence"}


@pytest.mark.parametrize(
    ("source", "target", "field"),
    [
        ("cobol", "unleash", "from"),
        ("unleash", "cobol", "to"),
        ("", "pql", "from"),
    ],
)
def test_unknown_language(source: str, target: str, field: str) -> None:
    with pytest.raises(Invalid) as exc:
        translate(source, target, [])
    assert exc.value.field == field


def test_unleash_to_confidence_and_back() -> None:
    constraints = [
        {"contextName": "country", "operator": "IN", "values": ["SE", "NO"]},
        {"contextName": "age", "operator": "NUM_GTE", "value": "18"},
    ]
    targeting = translate("unleash", "confidence", constraints)
    assert isinstance(targeting, dict)
    assert set(targeting) == {"criteria", "expression"}
    back = translate("confidence", "unleash", targeting)
    assert back == [
        {"contextName": "age", "operator": "NUM_GTE", "value": "18"},
        {"contextName": "country", "operator": "IN", "values": ["NO", "SE"]},
    ]


def test_everyone_translates_to_everyone() -> None:
    assert translate("unleash", "confidence", []) == {}
    assert translate("confidence", "unleash", {}) == []


def test_not_expressible_propagates() -> None:
    targeting = {
        "criteria": {
            "a": {"attribute": {"attributeName": "x", "eqRule": {"value": {"stringValue": "1"}}}},
            "b": {"attribute": {"attributeName": "y", "eqRule": {"value": {"stringValue": "2"}}}},
        },
        "expression": {"or": {"operands": [{"ref": "a"}, {"ref": "b"}]}},
    }
    with pytest.raises(NotExpressible) as exc:
        translate("confidence", "unleash", targeting)
    assert exc.value.language == "unleash"


def test_pql_to_unleash() -> None:
    out = translate("pql", "unleash", 'person.country = "SE"')
    assert out == [{"contextName": "person.country", "operator": "IN", "values": ["SE"]}]


def test_parse_passes_limits() -> None:
    from core.expr.limits import Limits

    lang = LANGUAGES["unleash"]
    with pytest.raises(Invalid):
        lang.parse(
            [{"contextName": "a", "operator": "IN", "values": ["1", "2"]}], Limits(max_values=1)
        )
    assert lang.render(Cmp("eq", ("a",), Lit("string", "1"))) == [
        {"contextName": "a", "operator": "IN", "values": ["1"]}
    ]


@pytest.mark.parametrize("name", sorted(LANGUAGES))
@pytest.mark.parametrize("value", [None, 5, 1.5, True, [1], {"a": 1}, [None], "", ["x"]])
def test_any_json_value_is_parsed_or_refused_with_invalid(name: str, value: object) -> None:
    lang = LANGUAGES[name]
    if isinstance(value, lang.accepts) and not isinstance(value, bool):
        # Parsed, or refused with Invalid: any other exception fails the test.
        with contextlib.suppress(Invalid):
            lang.parse(value)
        return
    with pytest.raises(Invalid, match="expression is"):
        lang.parse(value)
