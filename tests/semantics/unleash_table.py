"""Unleash rows: constraint lists as ``POST /api/admin/segments`` takes them.

Sources:

* the Unleash client specification (``Unleash/client-specification`` @ 931b695): every
  constraint test of ``09``, ``11``, ``13``, ``14`` and ``21`` is a row, its feature's
  constraints the segment and its ``expectedResult`` the answer (SDKs must pass these);
* the reference page "Activation strategies" (https://docs.getunleash.io/reference/activation-strategies),
  sections "Constraint operators" and "Client-side implementation";
* the fact sheet ``docs/dialects/unleash.md`` (what the admin API refuses, and the SDK
  semantics), where segmux records its decisions.

The constraints are copied from the spec; the rows only name the feature and the test.
"""

from __future__ import annotations

from typing import Any

from tests.semantics.rows import Refused, Row

SPEC_SHA = "931b695b2a9911e1ab46a03516566e8da09dd6ec"
SPEC_FILES = {
    "09": "09-strategy-constraints",
    "11": "11-strategy-constraints-edge-cases",
    "13": "13-constraint-operators",
    "14": "14-constraint-semver-operators",
    "16": "16-case-insensitive-in-operators",
    "21": "21-regex-constraint-operators",
}
DOCS = "https://docs.getunleash.io/reference/activation-strategies"
SHEET = "docs/dialects/unleash.md"
UNLEASH_VALIDATION = "docs/dialects/unleash.md"


def spec_url(short: str, commit: str = SPEC_SHA) -> str:
    return (
        f"https://github.com/Unleash/client-specification/blob/{commit}/specifications/"
        f"{SPEC_FILES[short]}.json"
    )


FEATURES: dict[str, list[dict[str, Any]]] = {
    # 09-strategy-constraints.json
    "09:Feature.constraints.simple": [
        {"contextName": "environment", "operator": "IN", "values": ["dev"]}
    ],
    "09:Feature.constraints.list": [
        {"contextName": "environment", "operator": "IN", "values": ["dev", "stage", "prod"]}
    ],
    "09:Feature.constraints.multi": [
        {"contextName": "environment", "operator": "IN", "values": ["prod"]},
        {"contextName": "userId", "operator": "IN", "values": ["1", "2", "3"]},
        {"contextName": "appName", "operator": "NOT_IN", "values": ["web", "sun-app"]},
    ],
    "09:Feature.constraints.custom": [
        {"contextName": "environment", "operator": "IN", "values": ["prod"]},
        {"contextName": "country", "operator": "IN", "values": ["norway", "sweeden"]},
    ],
    "09:Feature.constraints.dual": [
        {"contextName": "environment", "operator": "IN", "values": ["prod", "dev"]},
        {"contextName": "environment", "operator": "NOT_IN", "values": ["dev", "qa"]},
    ],
    "09:Feature.constraints.empty": [
        {"contextName": "environment", "operator": "IN", "values": []}
    ],
    "09:Feature.constraints.empty-not-in": [
        {"contextName": "environment", "operator": "NOT_IN", "values": []}
    ],
    # 11-strategy-constraints-edge-cases.json
    "11:Feature.constraints.no_values": [
        {"contextName": "environment", "operator": "IN", "values": []}
    ],
    "11:Feature.constraints.no_values_NOT_IN": [
        {"contextName": "environment", "operator": "NOT_IN", "values": []}
    ],
    "11:Feature.constraints.empty": [],
    # 13-constraint-operators.json
    "13:F1.startsWith": [
        {"contextName": "customField", "operator": "STR_STARTS_WITH", "values": ["some-string"]}
    ],
    "13:F2.startsWith.multiple": [
        {"contextName": "customField", "operator": "STR_STARTS_WITH", "values": ["e1", "e2"]}
    ],
    "13:F2.startsWith.caseInsensitve": [
        {
            "contextName": "customField",
            "operator": "STR_STARTS_WITH",
            "values": ["TEST"],
            "caseInsensitive": True,
        }
    ],
    "13:F3.endsWith": [
        {"contextName": "email", "operator": "STR_ENDS_WITH", "values": ["some-email.com"]}
    ],
    "13:F3.endsWith.ignoringCase": [
        {
            "contextName": "email",
            "operator": "STR_ENDS_WITH",
            "values": ["some-email.com"],
            "caseInsensitive": True,
        }
    ],
    "13:F4.contains": [{"contextName": "email", "operator": "STR_CONTAINS", "values": ["email"]}],
    "13:F4.contains.inverted": [
        {"contextName": "email", "operator": "STR_CONTAINS", "values": ["email"], "inverted": True}
    ],
    "13:F5.numEq": [{"contextName": "someValue", "operator": "NUM_EQ", "value": "12"}],
    "13:F5.numEq.inverted": [
        {"contextName": "someValue", "operator": "NUM_EQ", "value": "12", "inverted": True}
    ],
    "13:F5.numEq.float": [{"contextName": "someValue", "operator": "NUM_EQ", "value": "12.0"}],
    "13:F5.numGT": [{"contextName": "someValue", "operator": "NUM_GT", "value": "12"}],
    "13:F5.numGTE": [{"contextName": "someValue", "operator": "NUM_GTE", "value": "12"}],
    "13:F5.numLTE": [{"contextName": "someValue", "operator": "NUM_LTE", "value": "12"}],
    "13:F5.numLT": [{"contextName": "someValue", "operator": "NUM_LT", "value": "12"}],
    "13:F6.number-range": [
        {"contextName": "someValue", "operator": "NUM_GT", "value": "12"},
        {"contextName": "someValue", "operator": "NUM_LT", "value": "16"},
    ],
    "13:F7.dateAfter": [
        {
            "contextName": "currentTime",
            "operator": "DATE_AFTER",
            "value": "2022-01-29T13:00:00.000Z",
        }
    ],
    "13:F7.dateBefore": [
        {
            "contextName": "currentTime",
            "operator": "DATE_BEFORE",
            "value": "2022-01-29T13:00:00.000Z",
        }
    ],
    "13:F7.date-range": [
        {
            "contextName": "currentTime",
            "operator": "DATE_AFTER",
            "value": "2022-01-22T13:00:00.000Z",
        },
        {
            "contextName": "currentTime",
            "operator": "DATE_BEFORE",
            "value": "2022-01-29T13:00:00.000Z",
        },
    ],
    "13:F7.date-with-timezone": [
        {
            "contextName": "currentTime",
            "operator": "DATE_AFTER",
            "value": "2022-01-22T13:00:00.000+02:00",
        },
        {
            "contextName": "currentTime",
            "operator": "DATE_BEFORE",
            "value": "2022-01-22T14:00:00.000+02:00",
        },
    ],
    "13:F7.invalid-operator": [
        {
            "contextName": "customField",
            "operator": "NOT_A_VALID_OPERATOR",
            "value": "2022-01-22T13:00:00.000Z",
        }
    ],
    "13:F8.missing-field.IN": [
        {"contextName": "customFieldMissing", "operator": "IN", "values": ["s1"]}
    ],
    "13:F8.missing-field.NOT_IN": [
        {"contextName": "customFieldMissing", "operator": "NOT_IN", "values": ["s1"]}
    ],
    "13:F9.inverted.IN": [
        {"contextName": "someValue", "operator": "IN", "values": ["s1", "s2"], "inverted": True}
    ],
    "13:F10.inverted.NOT_IN": [
        {"contextName": "someValue", "operator": "NOT_IN", "values": ["s1", "s2"], "inverted": True}
    ],
    # 14-constraint-semver-operators.json
    "14:F8.semverEQ": [{"contextName": "version", "operator": "SEMVER_EQ", "value": "1.2.2"}],
    "14:F8.semverGT": [{"contextName": "version", "operator": "SEMVER_GT", "value": "1.2.2"}],
    "14:F8.semverGTE": [{"contextName": "version", "operator": "SEMVER_GTE", "value": "1.2.2"}],
    "14:F8.semverLT": [{"contextName": "version", "operator": "SEMVER_LT", "value": "1.2.2"}],
    "14:F8.semverLTE": [{"contextName": "version", "operator": "SEMVER_LTE", "value": "1.2.2"}],
    "14:F8.semverAlphaGT": [
        {"contextName": "version", "operator": "SEMVER_GT", "value": "2.0.0-alpha.1"}
    ],
    "14:F8.semverAlphaLT": [
        {"contextName": "version", "operator": "SEMVER_LT", "value": "2.0.0-alpha.1"}
    ],
    "14:F8.semverAlphaVersioning": [
        {"contextName": "version", "operator": "SEMVER_LT", "value": "2.0.0-alpha.3"}
    ],
    "14:F8.alphaUnnumbered": [
        {"contextName": "version", "operator": "SEMVER_GT", "value": "2.0.0-alpha"}
    ],
    "14:F8.releaseCandidate": [
        {"contextName": "version", "operator": "SEMVER_GT", "value": "2.0.0-rc"}
    ],
    "14:F8.invalidSemverWithLeadingV": [
        {"contextName": "version", "operator": "SEMVER_EQ", "value": "v2.0.0"}
    ],
    # 21-regex-constraint-operators.json
    "21:R01.literal_and_anchors": [
        {"contextName": "userId", "operator": "REGEX", "value": "^[^@]+@[^@]+$"}
    ],
    "21:invalid-regex-defaults-to-false": [
        {"contextName": "userId", "operator": "REGEX", "value": "(regex"}
    ],
    "21:R01.literal_and_anchors.referencing.property": [
        {"contextName": "nested", "operator": "REGEX", "value": "^[^@]+@[^@]+$"}
    ],
    "21:R02.perl_digit_class": [
        {"contextName": "userId", "operator": "REGEX", "value": "^user\\d{3}$"}
    ],
    "21:R03.ascii_class": [
        {"contextName": "userId", "operator": "REGEX", "value": "^[[:alpha:]]+$"}
    ],
    "21:R04.word_boundary_ascii": [
        {"contextName": "userId", "operator": "REGEX", "value": "\\bcat\\b"}
    ],
    "21:R05.alternation_prefer_left": [
        {"contextName": "userId", "operator": "REGEX", "value": "^(foo|fo)$"}
    ],
    "21:R06.grouping_and_optional": [
        {"contextName": "userId", "operator": "REGEX", "value": "^(ab)?c$"}
    ],
    "21:R07.repetition_range_limits": [
        {"contextName": "userId", "operator": "REGEX", "value": "^a{2,4}$"}
    ],
    "21:R08.greedy_vs_nongreedy": [
        {"contextName": "userId", "operator": "REGEX", "value": "^a.*?b$"}
    ],
    "21:R09.inline_flag_i": [{"contextName": "userId", "operator": "REGEX", "value": "^(?i)abc$"}],
    "21:Global.case.insensitive": [
        {"contextName": "userId", "operator": "REGEX", "value": "^abc$", "caseInsensitive": True}
    ],
    "21:regex.case.sensitive": [{"contextName": "userId", "operator": "REGEX", "value": "^cat$"}],
    "21:Inverted.constraint": [
        {"contextName": "userId", "operator": "REGEX", "value": "^abc$", "inverted": True}
    ],
    "21:R10.inline_flag_m": [{"contextName": "userId", "operator": "REGEX", "value": "(?m)^foo$"}],
    "21:R11.inline_flag_s_dotall": [
        {"contextName": "userId", "operator": "REGEX", "value": "^(?s)a.b$"}
    ],
    "21:R90.reject_lookahead": [
        {"contextName": "userId", "operator": "REGEX", "value": "^(?=a)b$"}
    ],
    "21:R91.reject_backreference": [
        {"contextName": "userId", "operator": "REGEX", "value": "^(a)\\1$"}
    ],
}

# Features the admin API refuses to create (the vendor's own validation, real 8.2.0 and
# docs/dialects/unleash.md): the spec still tests how an SDK evaluates such legacy data, segmux
# answers 400 BadDataError instead, so these become `Refused` rows. The reasons are the admin
# API's validation rules (UNLEASH_VALIDATION).
REFUSED_FEATURES: dict[str, str] = {
    "09:Feature.constraints.empty": ("IN needs at least one value (" + UNLEASH_VALIDATION + ")"),
    "09:Feature.constraints.empty-not-in": (
        "NOT_IN needs at least one value (" + UNLEASH_VALIDATION + ")"
    ),
    "11:Feature.constraints.no_values": (
        "IN needs at least one value (" + UNLEASH_VALIDATION + ")"
    ),
    "11:Feature.constraints.no_values_NOT_IN": (
        "NOT_IN needs at least one value (" + UNLEASH_VALIDATION + ")"
    ),
    "13:F7.invalid-operator": "operator outside the enum (ajv; " + UNLEASH_VALIDATION + ")",
    "14:F8.invalidSemverWithLeadingV": (
        "SEMVER value must be strict semver, no v (" + UNLEASH_VALIDATION + ")"
    ),
    "21:invalid-regex-defaults-to-false": (
        "REGEX value must compile as RE2 (" + UNLEASH_VALIDATION + ")"
    ),
    "21:Inverted.constraint": ("REGEX may not be inverted (" + UNLEASH_VALIDATION + ")"),
    "21:R90.reject_lookahead": ("lookahead is not RE2 (" + UNLEASH_VALIDATION + ")"),
    "21:R91.reject_backreference": ("back-references are not RE2 (" + UNLEASH_VALIDATION + ")"),
}


def _spec_rows(entries: list[tuple[str, str, dict[str, Any], bool, str]]) -> list[Row]:
    rows = []
    for row_id, key, context, expected, description in entries:
        if key in REFUSED_FEATURES:
            continue
        short, feature = key.split(":", 1)
        rows.append(
            Row(
                row_id,
                "unleash",
                FEATURES[key],
                context,
                expected,
                f"{spec_url(short)} test {description!r} (feature {feature})",
            )
        )
    return rows


def U(
    row_id: str, key: str, context: dict[str, Any], expected: bool, description: str
) -> tuple[str, str, dict[str, Any], bool, str]:
    return (row_id, key, context, expected, description)


SPEC_ENTRIES = [
    # --- 09-strategy-constraints.json
    U(
        "u09-01",
        "09:Feature.constraints.simple",
        {"environment": "default"},
        False,
        "Feature.constraints.simple should not be enabled in default environment",
    ),
    U(
        "u09-02",
        "09:Feature.constraints.simple",
        {"environment": "dev"},
        True,
        "Feature.constraints.simple should be enabled in dev environment",
    ),
    U(
        "u09-03",
        "09:Feature.constraints.list",
        {"environment": "stage"},
        True,
        "Feature.constraints.list should be enabled in stage environment",
    ),
    U(
        "u09-04",
        "09:Feature.constraints.list",
        {"environment": "qa"},
        False,
        "Feature.constraints.list should NOT be enabled in qa environment",
    ),
    U(
        "u09-05",
        "09:Feature.constraints.multi",
        {"environment": "prod", "userId": "2"},
        True,
        "Feature.constraints.multi should be enabled in prod for user 2",
    ),
    U(
        "u09-06",
        "09:Feature.constraints.multi",
        {"environment": "prod"},
        False,
        "Feature.constraints.multi should NOT be enabled for unknown user",
    ),
    U(
        "u09-07",
        "09:Feature.constraints.multi",
        {"environment": "prod", "userId": "2", "appName": "web"},
        False,
        "Feature.constraints.multi should NOT be enabled appName=web",
    ),
    U(
        "u09-08",
        "09:Feature.constraints.custom",
        {"environment": "prod", "properties": {"country": "norway"}},
        True,
        "Feature.constraints.custom should be enabled in prod for norway",
    ),
    U(
        "u09-09",
        "09:Feature.constraints.custom",
        {"environment": "prod", "properties": {"country": "denmark"}},
        False,
        "Feature.constraints.custom should NOT be enabled in prod for denmark",
    ),
    U(
        "u09-10",
        "09:Feature.constraints.dual",
        {"environment": "prod"},
        True,
        "Feature.constraints.dual should be enabled in prod",
    ),
    U(
        "u09-11",
        "09:Feature.constraints.dual",
        {"environment": "dev"},
        False,
        "Feature.constraints.dual should not be enabled in dev",
    ),
    U(
        "u09-12",
        "09:Feature.constraints.empty",
        {"environment": "dev"},
        False,
        "Feature.constraints.empty should always be disabled",
    ),
    U(
        "u09-13",
        "09:Feature.constraints.empty-not-in",
        {"environment": "dev"},
        True,
        "Always enabled for value not in empty list",
    ),
    # not a constraint test (or no such feature): 'Enabled in prod for userId=123'
    # not a constraint test (or no such feature): 'Disabled in dev for userId=123'
    # not a constraint test (or no such feature): 'Disabled in prod for userId=44'
    # not a constraint test (or no such feature): 'Constraint should work with the latter strategy'
    # --- 11-strategy-constraints-edge-cases.json
    U(
        "u11-01",
        "11:Feature.constraints.no_values",
        {"environment": "default"},
        False,
        "Feature.constraints.no_value should not be enabled in default environment",
    ),
    U(
        "u11-02",
        "11:Feature.constraints.no_values",
        {},
        False,
        "Feature.constraints.no_value should not be enabled in empty environment",
    ),
    U(
        "u11-03",
        "11:Feature.constraints.no_values_NOT_IN",
        {"environment": "default"},
        True,
        "Feature.constraints.no_values_NOT_IN should be enabled in default environment",
    ),
    U(
        "u11-04",
        "11:Feature.constraints.no_values_NOT_IN",
        {},
        True,
        "Feature.constraints.no_values_NOT_IN should be enabled in empty environment",
    ),
    U(
        "u11-05",
        "11:Feature.constraints.empty",
        {"environment": "default"},
        True,
        "Feature.constraints.empty should be enabled",
    ),
    U(
        "u11-06",
        "11:Feature.constraints.empty",
        {},
        True,
        "Feature.constraints.empty should be enabled for empty env",
    ),
    # --- 13-constraint-operators.json
    U(
        "u13-01",
        "13:F1.startsWith",
        {"properties": {"customField": "some-string-is-cool"}},
        True,
        "F1.startsWith should be enabled",
    ),
    U(
        "u13-02",
        "13:F1.startsWith",
        {"properties": {"customField": "some2-is-cool-string"}},
        False,
        "F1.startsWith should be disabled",
    ),
    U(
        "u13-03",
        "13:F2.startsWith.multiple",
        {"properties": {"customField": "e2 cool"}},
        True,
        "F2.startsWith.multiple should be enabled",
    ),
    U(
        "u13-04",
        "13:F2.startsWith.multiple",
        {"properties": {"customField": "cool e1"}},
        False,
        "F2.startsWith.multiple should be disabled",
    ),
    U(
        "u13-05",
        "13:F2.startsWith.caseInsensitve",
        {"properties": {"customField": "test@example.com"}},
        True,
        "F2.startsWith.caseInsensitve should be enabled",
    ),
    U(
        "u13-06",
        "13:F2.startsWith.caseInsensitve",
        {"properties": {"customField": "TEsT@example.com"}},
        True,
        "F2.startsWith.caseInsensitve should handle various cases when enabled",
    ),
    U(
        "u13-07",
        "13:F3.endsWith",
        {"properties": {"email": "test@some-email.com"}},
        True,
        "F3.endsWith should be enabled",
    ),
    U(
        "u13-08",
        "13:F3.endsWith",
        {"properties": {"email": "test@some-EMAIL.com"}},
        False,
        "F3.endsWith should be disabled when casing is incorrect",
    ),
    U(
        "u13-09",
        "13:F3.endsWith.ignoringCase",
        {"properties": {"email": "test@SOME-EMAIL.com"}},
        True,
        "F3.endsWith.ignoringCase should be enabled",
    ),
    U(
        "u13-10",
        "13:F3.endsWith",
        {"properties": {"email": "test@another-email.com"}},
        False,
        "F3.endsWith should be disabled",
    ),
    U(
        "u13-11",
        "13:F4.contains",
        {"properties": {"email": "test@some-email.com"}},
        True,
        "F4.contains should be enabled",
    ),
    U(
        "u13-12",
        "13:F4.contains",
        {"properties": {"email": "test@another.com"}},
        False,
        "F4.contains should be disabled",
    ),
    U(
        "u13-13",
        "13:F4.contains.inverted",
        {"properties": {"email": "test@another.com"}},
        True,
        "F4.contains.inverted should be enabled",
    ),
    U("u13-14", "13:F5.numEq", {"properties": {"someValue": "12"}}, True, "F5.numEq"),
    U(
        "u13-15",
        "13:F5.numEq",
        {"properties": {"someValue": "12.0"}},
        True,
        "F5.numEq works for floats",
    ),
    U(
        "u13-16",
        "13:F5.numEq.inverted",
        {"properties": {"someValue": "12"}},
        False,
        "F5.numEq.inverted should be false",
    ),
    U(
        "u13-17",
        "13:F5.numEq.float",
        {"properties": {"someValue": "12.0"}},
        True,
        "F5.numEq.float works for floats",
    ),
    U(
        "u13-18",
        "13:F5.numEq.float",
        {"properties": {"someValue": "12"}},
        True,
        "F5.numEq.float works for integers",
    ),
    U(
        "u13-19",
        "13:F5.numEq.inverted",
        {"properties": {"someValue": "13"}},
        True,
        "F5.numEq.inverted should be true",
    ),
    U(
        "u13-20",
        "13:F5.numGT",
        {"properties": {"someValue": "13"}},
        True,
        "F5.numGT should be true",
    ),
    U(
        "u13-21",
        "13:F5.numGT",
        {"properties": {"someValue": "12"}},
        False,
        "F5.numGT should be false",
    ),
    U(
        "u13-22",
        "13:F5.numGTE",
        {"properties": {"someValue": "12"}},
        True,
        "F5.numGTE should be true when equal",
    ),
    U(
        "u13-23",
        "13:F5.numGTE",
        {"properties": {"someValue": "13"}},
        True,
        "F5.numGTE should be true when larger",
    ),
    U(
        "u13-24",
        "13:F5.numGTE",
        {"properties": {"someValue": "11"}},
        False,
        "F5.numGTE should be false when lower",
    ),
    U(
        "u13-25",
        "13:F5.numLTE",
        {"properties": {"someValue": "13"}},
        False,
        "F5.numLTE should be false when higher",
    ),
    U(
        "u13-26",
        "13:F5.numLTE",
        {"properties": {"someValue": "12"}},
        True,
        "F5.numLTE should be true when equal",
    ),
    U(
        "u13-27",
        "13:F5.numLTE",
        {"properties": {"someValue": "0"}},
        True,
        "F5.numLTE should be true when lower",
    ),
    U(
        "u13-28",
        "13:F5.numLT",
        {"properties": {"someValue": "0"}},
        True,
        "F5.numLT should be true when lower",
    ),
    U(
        "u13-29",
        "13:F5.numLT",
        {"properties": {"someValue": "12"}},
        False,
        "F5.numLT should be false when equal",
    ),
    U(
        "u13-30",
        "13:F6.number-range",
        {"properties": {"someValue": "11"}},
        False,
        "F6.number-range should be false when not in range",
    ),
    U(
        "u13-31",
        "13:F6.number-range",
        {"properties": {"someValue": "14"}},
        True,
        "F6.number-range should be true when in range",
    ),
    U(
        "u13-32",
        "13:F7.dateAfter",
        {"currentTime": "2022-01-30T13:00:00.000Z"},
        True,
        "F7.dateAfter should be enabled",
    ),
    U(
        "u13-33",
        "13:F7.dateAfter",
        {"currentTime": "2022-01-28T13:00:00.000Z"},
        False,
        "F7.dateAfter should be disabled",
    ),
    U(
        "u13-34",
        "13:F7.dateAfter",
        {"currentTime": "2022-01-29T13:00:00.000Z"},
        False,
        "F7.dateAfter is exclusive of date parameter",
    ),
    U(
        "u13-35",
        "13:F7.dateBefore",
        {"currentTime": "2022-01-28T13:00:00.000Z"},
        True,
        "F7.dateBefore should be enabled",
    ),
    U(
        "u13-36",
        "13:F7.dateBefore",
        {"currentTime": "2022-01-30T13:00:00.000Z"},
        False,
        "F7.dateBefore should be disabled",
    ),
    U(
        "u13-37",
        "13:F7.dateBefore",
        {"currentTime": "2022-01-29T13:00:00.000Z"},
        False,
        "F7.dateBefore is exclusive of date parameter",
    ),
    U(
        "u13-38",
        "13:F7.date-range",
        {"currentTime": "2022-01-25T13:00:00.000Z"},
        True,
        "F7.date-range should be enabled",
    ),
    U(
        "u13-39",
        "13:F7.date-with-timezone",
        {"currentTime": "2022-01-22T11:30:00.000Z"},
        True,
        "F7.date-with-timezone should respect timezone",
    ),
    U(
        "u13-40",
        "13:F7.invalid-operator",
        {"properties": {"someValue": "12"}},
        False,
        "F7.invalid-operator should always return false",
    ),
    U("u13-41", "13:F8.missing-field.IN", {}, False, "F8.missing-field.IN should return false"),
    U(
        "u13-42",
        "13:F8.missing-field.IN",
        {"properties": {"customFieldMissing": "s1"}},
        True,
        "F8.missing-field.IN should return true when present",
    ),
    U(
        "u13-43",
        "13:F8.missing-field.NOT_IN",
        {},
        True,
        "F8.missing-field.NOT_IN should return true",
    ),
    U(
        "u13-44",
        "13:F8.missing-field.NOT_IN",
        {"properties": {"customFieldMissing": None}},
        True,
        "F8.missing-field.NOT_IN should return true when null",
    ),
    U(
        "u13-45",
        "13:F9.inverted.IN",
        {"properties": {"someValue": "s1"}},
        False,
        "F9.inverted.IN should return false when present but inverted",
    ),
    U(
        "u13-46",
        "13:F10.inverted.NOT_IN",
        {"properties": {"someValue": "s1"}},
        True,
        "F10.inverted.NOT_IN should return true when present but inverted",
    ),
    # --- 14-constraint-semver-operators.json
    U(
        "u14-01",
        "14:F8.semverEQ",
        {"properties": {"version": "1.2.2"}},
        True,
        "F8.semverEQ should be enabled",
    ),
    U(
        "u14-02",
        "14:F8.semverEQ",
        {"properties": {"version": "1.2.0"}},
        False,
        "F8.semverEQ should be disabled",
    ),
    U(
        "u14-03",
        "14:F8.semverGT",
        {"properties": {"version": "1.2.3"}},
        True,
        "F8.semverGT should be enabled",
    ),
    U(
        "u14-04",
        "14:F8.semverGT",
        {"properties": {"version": "1.2.0"}},
        False,
        "F8.semverGT should be disabled",
    ),
    U(
        "u14-05",
        "14:F8.semverGTE",
        {"properties": {"version": "1.2.2"}},
        True,
        "F8.semverGTE should be enabled",
    ),
    U(
        "u14-06",
        "14:F8.semverGTE",
        {"properties": {"version": "1.2.3"}},
        True,
        "F8.semverGTE should be enabled for greater",
    ),
    U(
        "u14-07",
        "14:F8.semverGTE",
        {"properties": {"version": "1.2.1"}},
        False,
        "F8.semverGTE should be disabled",
    ),
    U(
        "u14-08",
        "14:F8.semverLT",
        {"properties": {"version": "1.2.1"}},
        True,
        "F8.semverLT should be enabled",
    ),
    U(
        "u14-09",
        "14:F8.semverLT",
        {"properties": {"version": "1.2.3"}},
        False,
        "F8.semverLT should be disabled",
    ),
    U(
        "u14-10",
        "14:F8.semverLTE",
        {"properties": {"version": "1.2.2"}},
        True,
        "F8.semverLTE should be enabled",
    ),
    U(
        "u14-11",
        "14:F8.semverLTE",
        {"properties": {"version": "1.2.1"}},
        True,
        "F8.semverLTE should be enabled for less",
    ),
    U(
        "u14-12",
        "14:F8.semverLTE",
        {"properties": {"version": "1.2.3"}},
        False,
        "F8.semverLTE should be disabled",
    ),
    U(
        "u14-13",
        "14:F8.semverAlphaGT",
        {"properties": {"version": "2.0.0-beta.1"}},
        True,
        "F8.semverAlphaGT is less than beta",
    ),
    U(
        "u14-14",
        "14:F8.semverAlphaGT",
        {"properties": {"version": "2.0.0"}},
        True,
        "F8.semverAlphaGT operator is less than release",
    ),
    U(
        "u14-15",
        "14:F8.semverAlphaLT",
        {"properties": {"version": "2.0.0-beta.1"}},
        False,
        "F8.semverAlphaLT is less than beta",
    ),
    U(
        "u14-16",
        "14:F8.semverAlphaLT",
        {"properties": {"version": "1.9.1-beta.1"}},
        True,
        "F8.semverAlphaLT is greater than old beta",
    ),
    # not a constraint test (or no such feature): 'F8.semverAlpha is less than release'
    U(
        "u14-17",
        "14:F8.semverAlphaVersioning",
        {"properties": {"version": "2.0.0-alpha.1"}},
        True,
        "F8.semverAlphaVersioning alpha.1 is less than alpha.3",
    ),
    U(
        "u14-18",
        "14:F8.semverAlphaVersioning",
        {"properties": {"version": "2.0.0-alpha.4"}},
        False,
        "F8.semverAlphaVersioning alpha.4 is greater than alpha.3",
    ),
    U(
        "u14-19",
        "14:F8.alphaUnnumbered",
        {"properties": {"version": "2.0.0-alpha.1"}},
        True,
        "F8.alphaUnnumbered - unnumbered is LT than numbered",
    ),
    U(
        "u14-20",
        "14:F8.releaseCandidate",
        {"properties": {"version": "2.0.0-alpha.1"}},
        False,
        "F8.releaseCandidate - alpha is not greater than rc",
    ),
    U(
        "u14-21",
        "14:F8.releaseCandidate",
        {"properties": {"version": "2.0.0-beta.1"}},
        False,
        "F8.releaseCandidate - beta is not greater tha rc",
    ),
    U(
        "u14-22",
        "14:F8.releaseCandidate",
        {"properties": {"version": "2.0.0"}},
        True,
        "F8.releaseCandidate - release is greater than rc",
    ),
    U(
        "u14-23",
        "14:F8.invalidSemverWithLeadingV",
        {"properties": {"version": "v2.0.0"}},
        False,
        "F8.invalidSemverWithLeadingV - invalid semver resolves to false",
    ),
    U(
        "u14-24",
        "14:F8.invalidSemverWithLeadingV",
        {"properties": {"version": "not a semver"}},
        False,
        "F8.invalidSemverWithLeadingV - broken semver resolves to false",
    ),
    # --- 21-regex-constraint-operators.json
    U(
        "u21-01",
        "21:R01.literal_and_anchors",
        {"userId": "test@example.com"},
        True,
        "Basic email match should be enabled when regex matches",
    ),
    U(
        "u21-02",
        "21:R01.literal_and_anchors",
        {"userId": "not-an-email"},
        False,
        "Broken regex should not match anything",
    ),
    U(
        "u21-03",
        "21:invalid-regex-defaults-to-false",
        {"userId": "any-value"},
        False,
        "Invalid regex should result in toggle being disabled",
    ),
    U(
        "u21-04",
        "21:R01.literal_and_anchors.referencing.property",
        {"properties": {"nested": None}},
        False,
        "Null value should result in toggle being disabled",
    ),
    U(
        "u21-05",
        "21:R01.literal_and_anchors.referencing.property",
        {"properties": {"nested": "test@example.com"}},
        True,
        "Sanity check for 'Null value should result in toggle being disabled'",
    ),
    U(
        "u21-06",
        "21:R01.literal_and_anchors",
        {},
        False,
        "Undefined value should result in toggle being disabled",
    ),
    U(
        "u21-07",
        "21:R01.literal_and_anchors",
        {"userId": "test@example.com"},
        True,
        "R01 matches basic email-ish",
    ),
    U(
        "u21-08",
        "21:R01.literal_and_anchors",
        {"userId": "not-an-email"},
        False,
        "R01 rejects missing @",
    ),
    U(
        "u21-09",
        "21:R02.perl_digit_class",
        {"userId": "user123"},
        True,
        "R02 matches user + 3 digits",
    ),
    U(
        "u21-10",
        "21:R02.perl_digit_class",
        {"userId": "user12"},
        False,
        "R02 rejects wrong digit count",
    ),
    U(
        "u21-11",
        "21:R03.ascii_class",
        {"userId": "AlphaBeta"},
        True,
        "R03 matches ASCII alpha only",
    ),
    U("u21-12", "21:R03.ascii_class", {"userId": "Alpha1"}, False, "R03 rejects digits"),
    U(
        "u21-13",
        "21:R04.word_boundary_ascii",
        {"userId": "a cat b"},
        True,
        "R04 matches whole word cat",
    ),
    U(
        "u21-14",
        "21:R04.word_boundary_ascii",
        {"userId": "concatenate"},
        False,
        "R04 does not match inside 'concatenate'",
    ),
    U("u21-15", "21:R05.alternation_prefer_left", {"userId": "foo"}, True, "R05 matches foo"),
    U("u21-16", "21:R05.alternation_prefer_left", {"userId": "fo"}, True, "R05 matches fo"),
    U("u21-17", "21:R05.alternation_prefer_left", {"userId": "f"}, False, "R05 rejects f"),
    U(
        "u21-18",
        "21:R06.grouping_and_optional",
        {"userId": "abc"},
        True,
        "R06 matches abc (optional 'ab')",
    ),
    U("u21-19", "21:R06.grouping_and_optional", {"userId": "c"}, True, "R06 matches c"),
    U(
        "u21-20",
        "21:R06.grouping_and_optional",
        {"userId": "ac"},
        False,
        "R06 rejects ac (missing b)",
    ),
    U(
        "u21-21",
        "21:R07.repetition_range_limits",
        {"userId": "aaaa"},
        True,
        "R07 matches aaaa (4 a's)",
    ),
    U(
        "u21-22",
        "21:R07.repetition_range_limits",
        {"userId": "a"},
        False,
        "R07 rejects a (too short)",
    ),
    U(
        "u21-23",
        "21:R07.repetition_range_limits",
        {"userId": "aaaaa"},
        False,
        "R07 rejects aaaaa (too long)",
    ),
    U(
        "u21-24",
        "21:R08.greedy_vs_nongreedy",
        {"userId": "a___b___b"},
        True,
        "R08 non-greedy still matches full string ending in b",
    ),
    U(
        "u21-25",
        "21:R08.greedy_vs_nongreedy",
        {"userId": "a___b___c"},
        False,
        "R08 rejects missing ending b",
    ),
    U("u21-26", "21:R09.inline_flag_i", {"userId": "AbC"}, True, "R09 (?i) matches different case"),
    U("u21-27", "21:R09.inline_flag_i", {"userId": "zAbCz"}, False, "R09 (?i) rejects extra chars"),
    U(
        "u21-28",
        "21:Global.case.insensitive",
        {"userId": "AbC"},
        True,
        "Global case-insensitive matches different case",
    ),
    U(
        "u21-29",
        "21:regex.case.sensitive",
        {"userId": "Cat"},
        False,
        "Regex constraint is case sensitive by default",
    ),
    U(
        "u21-30",
        "21:regex.case.sensitive",
        {"userId": "cat"},
        True,
        "Regex constraint is case sensitive by default (validate)",
    ),
    U(
        "u21-31",
        "21:Inverted.constraint",
        {"userId": "xyz"},
        True,
        "Inverted constraint should enable when regex does not match",
    ),
    U(
        "u21-32",
        "21:Inverted.constraint",
        {"userId": "abc"},
        False,
        "Inverted constraint should disable when regex matches",
    ),
    U(
        "u21-33",
        "21:R10.inline_flag_m",
        {"userId": "x\nfoo\ny"},
        True,
        "R10 (?m) matches line 'foo' inside multiline string",
    ),
    U(
        "u21-34",
        "21:R10.inline_flag_m",
        {"userId": "x\nfo\ny"},
        False,
        "R10 without foo line would fail",
    ),
    U(
        "u21-35",
        "21:R11.inline_flag_s_dotall",
        {"userId": "a\nb"},
        True,
        "R11 (?s) dot matches newline",
    ),
    U(
        "u21-36",
        "21:R90.reject_lookahead",
        {"userId": "ab"},
        False,
        "R90 lookahead should be rejected upstream; if it leaks through, it must not enable",
    ),
    U(
        "u21-37",
        "21:R91.reject_backreference",
        {"userId": "aa"},
        False,
        "R91 backreference should be rejected upstream; if it leaks through, it must not enable",
    ),
]


def _doc(
    row_id: str,
    constraints: list[dict[str, Any]],
    context: dict[str, Any],
    expected: bool,
    cite: str,
    note: str = "",
    sdk: bool | None = None,
) -> Row:
    return Row(row_id, "unleash", constraints, context, expected, cite, note, sdk)


_CONSTRAINT_OPS = f"{DOCS}#constraint-operators"
_CLIENT_SIDE = (
    f'{DOCS}#client-side-implementation "If the conversion fails, the constraint '
    'evaluates to false."'
)
_NO_NOW = (
    "segmux's evaluate reads the context as given: the evaluator never invents values "
    '(core/expr/evaluate.py docstring; the SDKs\' "currentTime missing -> now" is '
    "core.expr.unleash.unleash_context's job), so a missing currentTime is a missing "
    "field; the SDK uses the current time instead"
)
_CI_IN = (
    "spec 16 (removed from the spec repo after b5df3a0) made IN/NOT_IN honour "
    "caseInsensitive; segmux follows the SDKs, which ignore it there "
    f'({SHEET} "IN/NOT_IN ignore it in the SDKs ... Follow the SDKs.")'
)
_SPEC16 = spec_url("16", "b5df3a0d480a122ca689ba92784b8ed2ee08f64d")
_APP_IN = [
    {
        "contextName": "appName",
        "operator": "IN",
        "caseInsensitive": True,
        "inverted": False,
        "values": ["app", "app2-ios-[v1]"],
    }
]
_APP_NOT_IN = [{**_APP_IN[0], "operator": "NOT_IN"}]

DOC_ROWS = [
    # Basic operators: "IN: The context field is equal to any of the provided values; case
    # sensitive." (example row: plan IN Premium, Plus)
    _doc(
        "udoc-in-example",
        [{"contextName": "plan", "operator": "IN", "values": ["Premium", "Plus"]}],
        {"properties": {"plan": "Plus"}},
        True,
        f"{_CONSTRAINT_OPS} basic operators, IN",
    ),
    _doc(
        "udoc-in-case-sensitive",
        [{"contextName": "plan", "operator": "IN", "values": ["Premium", "Plus"]}],
        {"properties": {"plan": "premium"}},
        False,
        f'{_CONSTRAINT_OPS} "IN ... case sensitive"',
    ),
    _doc(
        "udoc-not-in-case-sensitive",
        [{"contextName": "plan", "operator": "NOT_IN", "values": ["Premium", "Plus"]}],
        {"properties": {"plan": "premium"}},
        True,
        f'{_CONSTRAINT_OPS} "NOT_IN: ... not equal to any of the values provided; case sensitive"',
    ),
    # Example constraint: userId STR_ENDS_WITH @example.com, @mycompany.com
    _doc(
        "udoc-ends-with-any",
        [
            {
                "contextName": "userId",
                "operator": "STR_ENDS_WITH",
                "values": ["@example.com", "@mycompany.com"],
            }
        ],
        {"userId": "ann@mycompany.com"},
        True,
        f"{DOCS}#constraint-structure example userId STR_ENDS_WITH",
    ),
    _doc(
        "udoc-ends-with-none",
        [
            {
                "contextName": "userId",
                "operator": "STR_ENDS_WITH",
                "values": ["@example.com", "@mycompany.com"],
            }
        ],
        {"userId": "ann@example.org"},
        False,
        f"{DOCS}#constraint-structure example userId STR_ENDS_WITH",
    ),
    # "All constraints can be negated": STR_ENDS_WITH "@user.com" / "hello@user.com"
    _doc(
        "udoc-negation-plain",
        [{"contextName": "email", "operator": "STR_ENDS_WITH", "values": ["@user.com"]}],
        {"properties": {"email": "hello@user.com"}},
        True,
        f"{_CONSTRAINT_OPS} negation table, row 1",
    ),
    _doc(
        "udoc-negation-inverted",
        [
            {
                "contextName": "email",
                "operator": "STR_ENDS_WITH",
                "values": ["@user.com"],
                "inverted": True,
            }
        ],
        {"properties": {"email": "hello@user.com"}},
        False,
        f"{_CONSTRAINT_OPS} negation table, row 2 (NOT STR_ENDS_WITH)",
    ),
    # String operators "can be set to be case-sensitive or case-insensitive"
    _doc(
        "udoc-contains-ci",
        [
            {
                "contextName": "email",
                "operator": "STR_CONTAINS",
                "values": ["EMAIL"],
                "caseInsensitive": True,
            }
        ],
        {"properties": {"email": "test@some-email.com"}},
        True,
        f"{_CONSTRAINT_OPS} string operators, caseInsensitive",
    ),
    _doc(
        "udoc-contains-cs",
        [{"contextName": "email", "operator": "STR_CONTAINS", "values": ["EMAIL"]}],
        {"properties": {"email": "test@some-email.com"}},
        False,
        f"{_CONSTRAINT_OPS} string operators (case-sensitive by default)",
    ),
    # Several constraints: "every constraint must be evaluated to true" (AND)
    _doc(
        "udoc-and-both",
        [
            {"contextName": "email", "operator": "STR_ENDS_WITH", "values": ["@mycompany.com"]},
            {"contextName": "beta", "operator": "IN", "values": ["true"]},
        ],
        {"properties": {"email": "a@mycompany.com", "beta": "true"}},
        True,
        f'{DOCS}#constraints "every constraint must be evaluated to true"',
    ),
    _doc(
        "udoc-and-one-fails",
        [
            {"contextName": "email", "operator": "STR_ENDS_WITH", "values": ["@mycompany.com"]},
            {"contextName": "beta", "operator": "IN", "values": ["true"]},
        ],
        {"properties": {"email": "a@mycompany.com", "beta": "false"}},
        False,
        f'{DOCS}#constraints "every constraint must be evaluated to true"',
    ),
    # Numeric operators on values that do not convert
    _doc(
        "udoc-num-unparsable",
        [{"contextName": "age", "operator": "NUM_GT", "value": "12"}],
        {"properties": {"age": "twelve"}},
        False,
        _CLIENT_SIDE,
    ),
    _doc(
        "udoc-num-unparsable-inverted",
        [{"contextName": "age", "operator": "NUM_GT", "value": "12", "inverted": True}],
        {"properties": {"age": "twelve"}},
        True,
        f"{_CLIENT_SIDE}; negation turns that false into true ({_CONSTRAINT_OPS})",
    ),
    _doc(
        "udoc-num-trailing-text",
        [{"contextName": "age", "operator": "NUM_LTE", "value": "12"}],
        {"properties": {"age": "12abc"}},
        False,
        _CLIENT_SIDE,
    ),
    _doc(
        "udoc-num-missing",
        [{"contextName": "age", "operator": "NUM_LT", "value": "100"}],
        {},
        False,
        f"{SHEET} NUM_* missing field → false",
    ),
    _doc(
        "udoc-num-decimal",
        [{"contextName": "price", "operator": "NUM_EQ", "value": "12.5"}],
        {"properties": {"price": "12.50"}},
        True,
        f'{_CONSTRAINT_OPS} "NUM_EQ: The context field is equal to the provided value" '
        "(numeric, not textual)",
    ),
    _doc(
        "udoc-num-negative",
        [{"contextName": "delta", "operator": "NUM_LT", "value": "0"}],
        {"properties": {"delta": "-1.5"}},
        True,
        f'{_CONSTRAINT_OPS} "NUM_LT: ... strictly less than"',
    ),
    # Date operators: the docs' example value, with a space before the time
    _doc(
        "udoc-date-after-example",
        [{"contextName": "currentTime", "operator": "DATE_AFTER", "value": "2022-06-05 21:43:22Z"}],
        {"currentTime": "2022-06-06T00:00:00Z"},
        True,
        f"{DOCS}#constraint-structure example: currentTime DATE_AFTER `2022-06-05 21:43:22Z` "
        '"Evaluates to true if the current time is after 2022-06-05 21:43:22Z"',
        note="the SDK engine (Yggdrasil) cannot parse the docs' own value (a space, not T, "
        "before the time) and answers false; segmux parses it (ISO 8601 with a space, "
        "core/expr/kinds.py) and, like the real admin API, serves the value as sent",
        sdk=False,
    ),
    _doc(
        "udoc-date-after-t-form",
        [{"contextName": "currentTime", "operator": "DATE_AFTER", "value": "2022-06-05T21:43:22Z"}],
        {"currentTime": "2022-06-05T21:43:23Z"},
        True,
        f'{DOCS}#date-and-time-operators "DATE_AFTER: currentTime is a date after the '
        'provided value"',
    ),
    _doc(
        "udoc-date-after-no-time",
        [{"contextName": "currentTime", "operator": "DATE_AFTER", "value": "2022-06-05T21:43:22Z"}],
        {},
        False,
        f"{DOCS}#date-and-time-operators (currentTime defaults to now in SDKs)",
        note=_NO_NOW,
        sdk=True,
    ),
    _doc(
        "udoc-date-before-no-time",
        [
            {
                "contextName": "currentTime",
                "operator": "DATE_BEFORE",
                "value": "2999-01-01T00:00:00Z",
            }
        ],
        {},
        False,
        f"{DOCS}#date-and-time-operators (currentTime defaults to now in SDKs)",
        note=_NO_NOW,
        sdk=True,
    ),
    # SemVer: "must ... contain at least major, minor, and patch"; pre-releases sort first
    _doc(
        "udoc-semver-two-parts",
        [{"contextName": "version", "operator": "SEMVER_LT", "value": "1.2.2"}],
        {"properties": {"version": "1.2"}},
        False,
        f'{_CONSTRAINT_OPS} SemVer "must start with and contain at least major, minor, and '
        'patch versions" (an invalid context version never matches, docs/dialects/unleash.md)',
    ),
    _doc(
        "udoc-semver-prerelease-lt-release",
        [{"contextName": "version", "operator": "SEMVER_GT", "value": "1.2.3-rc.2"}],
        {"properties": {"version": "1.2.3"}},
        True,
        f'{_CONSTRAINT_OPS} SemVer "Values with pre-release versions are considered less '
        'than versions without a pre-release"',
    ),
    _doc(
        "udoc-semver-prerelease-eq",
        [{"contextName": "version", "operator": "SEMVER_EQ", "value": "1.2.3-rc.2"}],
        {"properties": {"version": "1.2.3-rc.2"}},
        True,
        f"{_CONSTRAINT_OPS} SemVer, 1.2.3-rc.2",
    ),
    _doc(
        "udoc-semver-leading-v-context",
        [{"contextName": "version", "operator": "SEMVER_EQ", "value": "2.0.0"}],
        {"properties": {"version": "v2.0.0"}},
        False,
        f'{spec_url("14")} feature F8.invalidSemverWithLeadingV "invalid semver resolves to '
        f'false" (the v-prefixed value here is the context\'s; {SHEET} "invalid or '
        'v-prefixed context → false")',
    ),
    # Missing fields: false, and inversion negates that too
    _doc(
        "udoc-missing-contains",
        [{"contextName": "email", "operator": "STR_CONTAINS", "values": ["@"]}],
        {},
        False,
        f"{SHEET} STR_* missing field → false",
    ),
    _doc(
        "udoc-missing-contains-inverted",
        [{"contextName": "email", "operator": "STR_CONTAINS", "values": ["@"], "inverted": True}],
        {},
        True,
        f"{SHEET} \"inverted: true negates the operator's result, including the "
        'missing-field result"',
    ),
    _doc(
        "udoc-missing-in-inverted",
        [{"contextName": "tier", "operator": "IN", "values": ["gold"], "inverted": True}],
        {},
        True,
        f'{SHEET} "inverted IN on a missing field → true"',
    ),
    # Edges of the documented operators
    _doc(
        "udoc-date-offset-equal",
        [
            {
                "contextName": "currentTime",
                "operator": "DATE_AFTER",
                "value": "2022-01-29T13:00:00.000Z",
            }
        ],
        {"currentTime": "2022-01-29T15:00:00.000+02:00"},
        False,
        f"{spec_url('13')} tests 'F7.dateAfter is exclusive of date parameter' and "
        "'F7.date-with-timezone should respect timezone' (15:00+02:00 is 13:00Z)",
    ),
    _doc(
        "udoc-num-exponent",
        [{"contextName": "n", "operator": "NUM_EQ", "value": "1000"}],
        {"properties": {"n": "1e3"}},
        True,
        f'{_CLIENT_SIDE} ("1e3" converts to the number 1000)',
    ),
    _doc(
        "udoc-semver-numeric-order",
        [{"contextName": "version", "operator": "SEMVER_LT", "value": "1.10.0"}],
        {"properties": {"version": "1.9.0"}},
        True,
        f"{_CONSTRAINT_OPS} SemVer operators (semver.org §11: numeric, not textual, order)",
    ),
    _doc(
        "udoc-regex-search",
        [{"contextName": "userId", "operator": "REGEX", "value": "cat"}],
        {"userId": "concatenate"},
        True,
        f"{spec_url('21')} feature R04.word_boundary_ascii (\\bcat\\b needs boundaries, so a "
        f'bare pattern matches inside a word); {SHEET} "RE2 search anywhere in the value '
        '(not full match)"',
    ),
    _doc(
        "udoc-ci-casefold",
        [
            {
                "contextName": "street",
                "operator": "STR_CONTAINS",
                "values": ["SS"],
                "caseInsensitive": True,
            }
        ],
        {"properties": {"street": "Straße"}},
        True,
        f"{_CONSTRAINT_OPS} string operators, caseInsensitive",
        note="segmux case-folds (ß → ss) where the SDKs lower-case (ß stays): an accepted "
        'difference, core/expr/unleash.py docstring "lower-case (segmux case-folds) for '
        'caseInsensitive"',
        sdk=False,
    ),
    _doc(
        "udoc-dotted-context-name",
        [{"contextName": "user.plan", "operator": "IN", "values": ["pro"]}],
        {"properties": {"user.plan": "pro"}},
        False,
        f"{DOCS}#constraints (constraints reference custom context fields by name)",
        note="segmux reads contextName `a.b` as the path a → b (core/expr/unleash.py docstring "
        '"contextName a.b is the path (\\"a\\", \\"b\\")"), so a property whose '
        "name has a dot is not found; the SDK looks the whole name up",
        sdk=True,
    ),
    _doc(
        "udoc-dotted-context-path",
        [{"contextName": "user.plan", "operator": "IN", "values": ["pro"]}],
        {"properties": {"user": {"plan": "pro"}}},
        True,
        f"{DOCS}#constraints",
        note="the other side of the same decision: segmux finds user → plan in a nested "
        "context, which SDK contexts (flat string properties) cannot hold",
        sdk=False,
    ),
    _doc(
        "udoc-semver-build-metadata",
        [{"contextName": "version", "operator": "SEMVER_EQ", "value": "1.2.2"}],
        {"properties": {"version": "1.2.2+build.5"}},
        True,
        f"{_CONSTRAINT_OPS} SemVer operators (semver.org §10: build metadata MUST be ignored "
        "when determining version precedence)",
    ),
    _doc(
        "udoc-num-signed",
        [{"contextName": "n", "operator": "NUM_EQ", "value": "12"}],
        {"properties": {"n": "+12"}},
        True,
        f'{_CLIENT_SIDE} ("+12" converts to 12)',
    ),
    _doc(
        "udoc-num-fraction-exponent",
        [{"contextName": "n", "operator": "NUM_EQ", "value": "12"}],
        {"properties": {"n": ".12e2"}},
        True,
        f'{_CLIENT_SIDE} (".12e2" converts to 12)',
    ),
    _doc(
        "udoc-date-only-context",
        [
            {
                "contextName": "currentTime",
                "operator": "DATE_AFTER",
                "value": "2022-01-29T13:00:00.000Z",
            }
        ],
        {"currentTime": "2022-01-30"},
        True,
        f'{_CLIENT_SIDE} (the Node SDK converts with new Date(): "2022-01-30" is midnight '
        "UTC, after the value)",
        note="segmux reads YYYY-MM-DD as midnight UTC (core/expr/kinds.py docstring, "
        "datetime) as the Node SDK does; the Yggdrasil engine accepts only RFC 3339 "
        "date-times and answers false",
        sdk=False,
    ),
    _doc(
        "udoc-regex-dollar-newline",
        [{"contextName": "userId", "operator": "REGEX", "value": "^abc$"}],
        {"userId": "abc\n"},
        False,
        f"{SHEET} REGEX is RE2 (https://github.com/google/re2/wiki/Syntax: without m, $ "
        "is the end of the text, not before a final newline)",
    ),
    _doc(
        "udoc-regex-ascii-digit",
        [{"contextName": "userId", "operator": "REGEX", "value": "^user\\d{3}$"}],
        {"userId": "user\u0661\u0662\u0663"},
        False,
        f"{spec_url('21')} feature R02.perl_digit_class; {SHEET} REGEX is RE2 "
        '(https://github.com/google/re2/wiki/Syntax "\\d digits (≡ [0-9])")',
        note="segmux gives \\d RE2's ASCII meaning (core/expr/re2.py docstring \"\\d → "
        '[0-9]"); the Yggdrasil engine (Rust regex, Unicode \\d) matches Arabic-Indic '
        "digits",
        sdk=True,
    ),
    # Spec 16 (case-insensitive IN / NOT_IN), since removed from the spec repo
    _doc(
        "u16-01",
        _APP_IN,
        {"properties": {"appName": "App"}},
        False,
        f"{_SPEC16} test 'F9.caseInsensitiveIn should be enabled' (spec: true)",
        _CI_IN,
    ),
    _doc(
        "u16-02",
        _APP_IN,
        {"properties": {"appName": "App2-iOS-[v1]"}},
        False,
        f"{_SPEC16} test 'F9.caseInsensitiveIn should be enabled with special characters' "
        "(spec: true)",
        _CI_IN,
    ),
    _doc(
        "u16-03",
        _APP_IN,
        {"properties": {"appName": "app2-ios-[v1]"}},
        True,
        f"{_SPEC16} feature F9.caseInsensitiveIn, exact-case value (true either way)",
    ),
    _doc(
        "u16-04",
        [{**_APP_IN[0], "inverted": True}],
        {"properties": {"appName": "App"}},
        True,
        f"{_SPEC16} test 'F9.caseInsensitiveInInverted should be disabled' (spec: false)",
        _CI_IN,
    ),
    _doc(
        "u16-05",
        _APP_NOT_IN,
        {"properties": {"appName": "APP"}},
        True,
        f"{_SPEC16} test 'F9.caseInsensitiveNotIn should be disabled' (spec: false)",
        _CI_IN,
    ),
    _doc(
        "u16-06",
        [{**_APP_NOT_IN[0], "inverted": True}],
        {"properties": {"appName": "APP2-IOS-[V1]"}},
        False,
        f"{_SPEC16} test 'F9.caseInsensitiveNotInInverted should be enabled and handle special "
        "characters' (spec: true)",
        _CI_IN,
    ),
]

ROWS: list[Row] = [*_spec_rows(SPEC_ENTRIES), *DOC_ROWS]

REFUSED: list[Refused] = [
    Refused(
        f"refused-{key}",
        "unleash",
        FEATURES[key],
        f"{spec_url(key.split(':')[0])} feature {key.split(':', 1)[1]}",
        f"the admin API refuses it: {why}",
    )
    for key, why in REFUSED_FEATURES.items()
]
