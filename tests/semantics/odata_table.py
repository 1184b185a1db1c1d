"""HAL rows: OData ``filter`` text as ``POST /{projectId}/individual-segments`` takes it.

Sources: Pulpo's general API guide, section "Filtering" (``liferay-labs/pulpo-docs``
``docs/general/index.html``, the tables of comparison, logical, grouping operators and string
functions — most rows are its own examples), OData Version 4.01 Part 2: URL Conventions §5.1.1
(built-in filter operations), and segmux's decisions in ``docs/dialects/hal.md`` and
``core/expr/odata.py`` (two-valued logic as Pulpo's Elasticsearch engine; ``ne`` keeps OData's
null rule).
"""

from __future__ import annotations

from typing import Any

from tests.semantics.rows import Row

PULPO = "https://github.com/liferay-labs/pulpo-docs/blob/master/docs/general/index.html#filtering"
ODATA = "https://docs.oasis-open.org/odata/odata/v4.01/odata-v4.01-part2-url-conventions.html"
SHEET = "docs/dialects/hal.md"
DECISION = "core/expr/odata.py docstring (Semantics)"
TWO_VALUED = (
    f"two-valued logic: a test on a missing attribute is false and not is plain "
    f"negation, as Pulpo's Elasticsearch engine evaluated filters ({DECISION}); OData "
    "4.01 would make `not` of a null comparison null (no match)"
)


def H(
    row_id: str, odata: str, context: dict[str, Any], expected: bool, cite: str, note: str = ""
) -> Row:
    return Row(f"h-{row_id}", "hal", odata, context, expected, cite, note)


def city(name: Any) -> dict[str, Any]:
    return {"Address": {"City": name}}


def demographics_age(*values: str) -> dict[str, Any]:
    """Pulpo's individual shape: a property maps to a list of fields with string values."""
    return {
        "demographics": {
            "age": [
                {
                    "context": "demographics",
                    "fieldType": "http://schema.org/age",
                    "name": "age",
                    "value": v,
                }
                for v in values
            ]
        }
    }


ROWS = [
    # Comparison operators (Pulpo's table, each example)
    H("eq", "Address/City eq 'Redmond'", city("Redmond"), True, f"{PULPO} eq: Equal"),
    H("eq-other", "Address/City eq 'Redmond'", city("London"), False, f"{PULPO} eq"),
    H(
        "eq-case",
        "Address/City eq 'Redmond'",
        city("redmond"),
        False,
        f"{ODATA} §5.1.1.1.1 Equals (string comparison is exact)",
    ),
    H("eq-missing", "Address/City eq 'Redmond'", {}, False, f"{PULPO} eq; {DECISION}"),
    H("eq-null-missing", "Address/City eq null", {}, True, f'{PULPO} eq: "Equal null"'),
    H("eq-null-json-null", "Address/City eq null", city(None), True, f'{PULPO} eq: "Equal null"'),
    H("eq-null-present", "Address/City eq null", city("Redmond"), False, f"{PULPO} Equal null"),
    H("ne", "Address/City ne 'London'", city("Paris"), True, f"{PULPO} ne: Not equal"),
    H("ne-equal", "Address/City ne 'London'", city("London"), False, f"{PULPO} ne"),
    H(
        "ne-missing",
        "Address/City ne 'London'",
        {},
        True,
        f"{ODATA} §5.1.1.1.2 Not Equals (null is not equal to 'London'); {DECISION}: \"ne keeps "
        "OData's null rule\"",
    ),
    H("ne-null", "Address/City ne null", city("Redmond"), True, f'{PULPO} ne: "Not null"'),
    H("ne-null-missing", "Address/City ne null", {}, False, f'{PULPO} ne: "Not null"'),
    H("gt", "Price gt 20", {"Price": 25}, True, f"{PULPO} gt: Greater than"),
    H("gt-equal", "Price gt 20", {"Price": 20}, False, f"{PULPO} gt"),
    H(
        "gt-missing",
        "Price gt 20",
        {},
        False,
        f"{ODATA} §5.1.1.1.3 Greater Than (with a null operand: false)",
    ),
    H("ge", "Price ge 10", {"Price": 10}, True, f"{PULPO} ge: Greater than or equal"),
    H("ge-below", "Price ge 10", {"Price": 9.99}, False, f"{PULPO} ge"),
    H("lt", "Price lt 20", {"Price": 19.99}, True, f"{PULPO} lt: Less than"),
    H("lt-equal", "Price lt 20", {"Price": 20}, False, f"{PULPO} lt"),
    H("le", "Price le 100", {"Price": 100}, True, f"{PULPO} le: Less than or equal"),
    H("le-above", "Price le 100", {"Price": 100.5}, False, f"{PULPO} le"),
    # Logical and grouping operators
    H("and", "Price le 200 and Price gt 3.5", {"Price": 100}, True, f"{PULPO} and: Logical and"),
    H("and-edge", "Price le 200 and Price gt 3.5", {"Price": 3.5}, False, f"{PULPO} and"),
    H("or", "Price le 3.5 or Price gt 200", {"Price": 300}, True, f"{PULPO} or: Logical or"),
    H("or-none", "Price le 3.5 or Price gt 200", {"Price": 100}, False, f"{PULPO} or"),
    H(
        "group",
        "(Price eq 5) or (Address/City eq 'London')",
        {"Price": 7, **city("London")},
        True,
        f"{PULPO} ( ): Precedence grouping example",
    ),
    H(
        "group-none",
        "(Price eq 5) or (Address/City eq 'London')",
        {"Price": 7, **city("Oslo")},
        False,
        f"{PULPO} ( ): Precedence grouping",
    ),
    H(
        "precedence",
        "Price eq 1 or Price eq 2 and Address/City eq 'London'",
        {"Price": 1, **city("Oslo")},
        True,
        f"{ODATA} §5.1.1.15 Operator Precedence (and binds tighter than or)",
    ),
    H(
        "datasource-example",
        "(author/name eq 'Julio') and (name ne 'datasource-name')",
        {"author": {"name": "Julio"}, "name": "my source"},
        True,
        f"{PULPO} example `?filter=(author/name eq 'Julio') and (name ne 'datasource-name')`",
    ),
    H(
        "not",
        "not (Price gt 20)",
        {"Price": 10},
        True,
        f"{SHEET} (not is in the subset); {ODATA} §5.1.1.1.9 Logical Negation",
    ),
    H(
        "not-true",
        "not (Price gt 20)",
        {"Price": 30},
        False,
        f"{ODATA} §5.1.1.1.9 Logical Negation",
    ),
    H(
        "not-missing",
        "not (Price gt 20)",
        {},
        True,
        f"{ODATA} §5.1.1.1.9 Logical Negation",
        note=TWO_VALUED,
    ),
    # String functions (Pulpo's table, each example)
    H(
        "contains",
        "contains(Address/City,'edmon')",
        city("Redmond"),
        True,
        f"{PULPO} contains example",
    ),
    H(
        "contains-miss",
        "contains(Address/City,'edmon')",
        city("London"),
        False,
        f"{PULPO} contains",
    ),
    H(
        "startswith",
        "startswith(Address/City,'Red')",
        city("Redmond"),
        True,
        f"{PULPO} startswith example",
    ),
    H(
        "startswith-case",
        "startswith(Address/City,'Red')",
        city("redmond"),
        False,
        f"{ODATA} §5.1.1.5.4 startswith (case-sensitive)",
    ),
    H(
        "endswith",
        "endswith(Address/City,'mond')",
        city("Redmond"),
        True,
        f"{PULPO} endswith example",
    ),
    H(
        "endswith-miss",
        "endswith(Address/City,'mond')",
        city("Redmondo"),
        False,
        f"{PULPO} endswith",
    ),
    H(
        "not-contains",
        "not contains(Address/City,'edmon')",
        city("London"),
        True,
        f"{ODATA} §5.1.1.1.9 Logical Negation of §5.1.1.5.1 contains",
    ),
    # Literals
    H(
        "quote-escape",
        "name eq 'O''Brien'",
        {"name": "O'Brien"},
        True,
        f"{SHEET} \"strings in single quotes with '' escaping a quote\"",
    ),
    H(
        "datetime-lt",
        "lastSeen lt 2018-02-13T12:33:12Z",
        {"lastSeen": "2018-02-13T12:33:11Z"},
        True,
        f'{SHEET} "dates as unquoted ISO-8601 (dateCreated lt 2018-02-13T12:33:12Z)" (on an '
        "attribute: dateCreated itself is an individual's read-only field in HAL)",
    ),
    H(
        "datetime-equal",
        "lastSeen lt 2018-02-13T12:33:12Z",
        {"lastSeen": "2018-02-13T12:33:12Z"},
        False,
        f"{SHEET} dates (lt is strict)",
    ),
    H(
        "datetime-offset",
        "lastSeen lt 2018-02-13T12:33:12Z",
        {"lastSeen": "2018-02-13T13:00:00+01:00"},
        True,
        f"{ODATA} §5.1.1.1.5 Less Than on Edm.DateTimeOffset (instants: 12:00Z)",
    ),
    H(
        "bool",
        "active eq true",
        {"active": True},
        True,
        f"{ODATA} §5.1.1.1.1 Equals on Edm.Boolean literals",
    ),
    H("bool-false", "active eq true", {"active": False}, False, f"{ODATA} §5.1.1.1.1 Equals"),
    # Paths through lists (Pulpo's demographics)
    H(
        "list-any-element",
        "demographics/age/value eq '30'",
        demographics_age("41", "30"),
        True,
        f'{SHEET} "A path that passes through an array matches when any element matches '
        "(demographics/age/value eq '30')\"",
    ),
    H(
        "list-no-element",
        "demographics/age/value eq '30'",
        demographics_age("41"),
        False,
        f"{SHEET} paths through arrays",
    ),
    H(
        "contains-case",
        "contains(Address/City,'EDMON')",
        city("Redmond"),
        False,
        f"{ODATA} §5.1.1.5.1 contains (case-sensitive)",
    ),
    H(
        "list-eq",
        "tags eq 'vip'",
        {"tags": ["basic", "vip"]},
        True,
        f'{SHEET} paths through arrays: "matches when any element matches"',
    ),
    H(
        "list-ne",
        "tags ne 'vip'",
        {"tags": ["basic", "vip"]},
        False,
        f"{ODATA} §5.1.1.1.2 Not Equals",
        note="over a list, `ne` holds when no element equals "
        f"the value: the negation of the any-element `eq` ({DECISION})",
    ),
    # OData 4.01 `in` and lambda operators
    H(
        "in",
        "Address/City in ('Redmond', 'London')",
        city("London"),
        True,
        f"{ODATA} §5.1.1.1.12 Is a member of (in)",
    ),
    H(
        "in-miss",
        "Address/City in ('Redmond', 'London')",
        city("Paris"),
        False,
        f"{ODATA} §5.1.1.1.12 in",
    ),
    H(
        "any",
        "tags/any(t: t eq 'vip')",
        {"tags": ["basic", "vip"]},
        True,
        f"{ODATA} §5.1.1.13.1 any",
    ),
    H(
        "any-empty",
        "tags/any(t: t eq 'vip')",
        {"tags": []},
        False,
        f"{ODATA} §5.1.1.13.1 any (false on an empty collection)",
    ),
    H("all", "tags/all(t: t eq 'vip')", {"tags": ["vip", "vip"]}, True, f"{ODATA} §5.1.1.13.2 all"),
    H(
        "all-one-fails",
        "tags/all(t: t eq 'vip')",
        {"tags": ["vip", "basic"]},
        False,
        f"{ODATA} §5.1.1.13.2 all",
    ),
    H(
        "all-empty",
        "tags/all(t: t eq 'vip')",
        {"tags": []},
        True,
        f"{ODATA} §5.1.1.13.2 all (true on an empty collection)",
    ),
]
