"""Confidence rows: targeting (criteria + expression) as ``POST /v1/segments`` takes it.

Sources:

* Spotify's cross-resolver specification in ``spotify/confidence-resolver`` @ 1ac8d80:
  ``confidence-resolver/test-payloads/resolver-spec/tests.json`` (resolve requests and the
  expected reason) over ``state.json`` (flags, rules, segments). Every test whose flag has one
  enabled rule on one segment with all buckets (full bitset, one assignment over every bucket)
  is a row: RESOLVE_REASON_MATCH means the segment matches the context, NO_SEGMENT_MATCH that it
  does not. ``SEGMENTS`` copies the targeting of the segments used. Where the spec gives the
  Rust resolver a different answer, the row follows the spec's ``general`` result, as
  ``docs/dialects/confidence.md`` decides, and the cite says so.
* The targeting proto's own comments (``confidence-resolver/protos/confidence/flags/types/v1/
  target.proto``) for the extra ``x-`` rows.
"""

from __future__ import annotations

from typing import Any

from tests.semantics.rows import Refused, Row

RESOLVER_SHA = "1ac8d80a65d523f57b6c2c5a63acfcecef6d106a"
RESOLVER = f"https://github.com/spotify/confidence-resolver/blob/{RESOLVER_SHA}/confidence-resolver"
TESTS = f"{RESOLVER}/test-payloads/resolver-spec/tests.json"
PROTO = f"{RESOLVER}/protos/confidence/flags/types/v1/target.proto"
SHEET = "docs/dialects/confidence.md"


def C(
    test: str, segment: str, context: dict[str, Any], expected: bool, rust: str = "", **extra: Any
) -> Row:
    cite = f"{TESTS} test {test!r} (segment segments/{segment} of state.json)"
    if rust:
        cite += f"; the spec's general result ({rust}; {SHEET}: follow the spec's general results)"
    suffix = "-unit" if "unit" in extra else ""
    return Row(
        f"c-{test}{suffix}",
        "confidence",
        segment,
        context,
        expected,
        cite,
        extra=extra,
    )


# The targeting of the state file's segments (None: no targeting, everyone).
SEGMENTS: dict[str, dict[str, Any] | None] = {
    "age-range": {
        "criteria": {
            "c1": {
                "attribute": {
                    "attributeName": "age",
                    "rangeRule": {
                        "startInclusive": {"numberValue": 18.0},
                        "endExclusive": {"numberValue": 65.0},
                    },
                }
            }
        },
        "expression": {"ref": "c1"},
    },
    "all-contains-inner": {
        "criteria": {
            "c1": {
                "attribute": {
                    "attributeName": "repositories",
                    "allRule": {"rule": {"containsRule": {"value": "confidence"}}},
                }
            }
        },
        "expression": {"ref": "c1"},
    },
    "all-rule": {
        "criteria": {
            "c1": {
                "attribute": {
                    "attributeName": "scores",
                    "allRule": {
                        "rule": {
                            "rangeRule": {
                                "startInclusive": {"numberValue": 0.0},
                                "endInclusive": {"numberValue": 100.0},
                            }
                        }
                    },
                }
            }
        },
        "expression": {"ref": "c1"},
    },
    "and-country-age": {
        "criteria": {
            "c1": {
                "attribute": {
                    "attributeName": "country",
                    "eqRule": {"value": {"stringValue": "SE"}},
                }
            },
            "c2": {
                "attribute": {
                    "attributeName": "age",
                    "rangeRule": {
                        "startInclusive": {"numberValue": 18.0},
                        "endExclusive": {"numberValue": 65.0},
                    },
                }
            },
        },
        "expression": {"and": {"operands": [{"ref": "c1"}, {"ref": "c2"}]}},
    },
    "any-contains-inner": {
        "criteria": {
            "c1": {
                "attribute": {
                    "attributeName": "repositories",
                    "anyRule": {"rule": {"containsRule": {"value": "confidence"}}},
                }
            }
        },
        "expression": {"ref": "c1"},
    },
    "any-empty-set-inner": {
        "criteria": {
            "c1": {
                "attribute": {
                    "attributeName": "tags",
                    "anyRule": {"rule": {"setRule": {"values": []}}},
                }
            }
        },
        "expression": {"ref": "c1"},
    },
    "any-ends-with-inner": {
        "criteria": {
            "c1": {
                "attribute": {
                    "attributeName": "emails",
                    "anyRule": {"rule": {"endsWithRule": {"value": ".com"}}},
                }
            }
        },
        "expression": {"ref": "c1"},
    },
    "any-rule": {
        "criteria": {
            "c1": {
                "attribute": {
                    "attributeName": "tags",
                    "anyRule": {"rule": {"eqRule": {"value": {"stringValue": "premium"}}}},
                }
            }
        },
        "expression": {"ref": "c1"},
    },
    "any-set-inner": {
        "criteria": {
            "c1": {
                "attribute": {
                    "attributeName": "tags",
                    "anyRule": {
                        "rule": {
                            "setRule": {
                                "values": [{"stringValue": "premium"}, {"stringValue": "vip"}]
                            }
                        }
                    },
                }
            }
        },
        "expression": {"ref": "c1"},
    },
    "any-starts-with-inner": {
        "criteria": {
            "c1": {
                "attribute": {
                    "attributeName": "ids",
                    "anyRule": {"rule": {"startsWithRule": {"value": "user-"}}},
                }
            }
        },
        "expression": {"ref": "c1"},
    },
    "any-unrecognized-inner": {
        "criteria": {"c1": {"attribute": {"attributeName": "tags", "anyRule": {"rule": {}}}}},
        "expression": {"ref": "c1"},
    },
    "bloom-filter-seg": {
        "criteria": {
            "c1": {"materializedSegment": {"materializedSegment": "materializations/bf-seg"}}
        },
        "expression": {"ref": "c1"},
    },
    "catch-all": None,
    "circular-a": {
        "criteria": {"c1": {"segment": {"segment": "segments/circular-b"}}},
        "expression": {"ref": "c1"},
    },
    "circular-b": {
        "criteria": {"c1": {"segment": {"segment": "segments/circular-a"}}},
        "expression": {"ref": "c1"},
    },
    "combined-criteria": {
        "criteria": {
            "c1": {
                "attribute": {
                    "attributeName": "country",
                    "eqRule": {"value": {"stringValue": "SE"}},
                }
            },
            "c2": {"materializedSegment": {"materializedSegment": "materializations/mat-combined"}},
        },
        "expression": {"and": {"operands": [{"ref": "c1"}, {"ref": "c2"}]}},
    },
    "contains": {
        "criteria": {
            "c1": {
                "attribute": {
                    "attributeName": "repository",
                    "containsRule": {"value": "repo.*admin"},
                }
            }
        },
        "expression": {"ref": "c1"},
    },
    "contains-edge": {
        "criteria": {
            "c1": {"attribute": {"attributeName": "text", "containsRule": {"value": "bar"}}}
        },
        "expression": {"ref": "c1"},
    },
    "contains-escaped": {
        "criteria": {
            "c1": {"attribute": {"attributeName": "path", "containsRule": {"value": 'a"b\\c'}}}
        },
        "expression": {"ref": "c1"},
    },
    "contains-number-like": {
        "criteria": {
            "c1": {"attribute": {"attributeName": "code", "containsRule": {"value": "2"}}}
        },
        "expression": {"ref": "c1"},
    },
    "contains-unicode": {
        "criteria": {
            "c1": {"attribute": {"attributeName": "word", "containsRule": {"value": "é"}}}
        },
        "expression": {"ref": "c1"},
    },
    "country-se": {
        "criteria": {
            "c1": {
                "attribute": {
                    "attributeName": "country",
                    "eqRule": {"value": {"stringValue": "SE"}},
                }
            }
        },
        "expression": {"ref": "c1"},
    },
    "country-set": {
        "criteria": {
            "c1": {
                "attribute": {
                    "attributeName": "country",
                    "setRule": {
                        "values": [
                            {"stringValue": "SE"},
                            {"stringValue": "NO"},
                            {"stringValue": "DK"},
                        ]
                    },
                }
            }
        },
        "expression": {"ref": "c1"},
    },
    "criterion-not-set": {"criteria": {"c1": {}}, "expression": {"ref": "c1"}},
    "diamond-child": {
        "criteria": {"c1": {"segment": {"segment": "segments/diamond-leaf"}}},
        "expression": {"ref": "c1"},
    },
    "diamond-leaf": {
        "criteria": {
            "c1": {
                "attribute": {
                    "attributeName": "country",
                    "eqRule": {"value": {"stringValue": "WILL_NOT_MATCH"}},
                }
            }
        },
        "expression": {"ref": "c1"},
    },
    "diamond-parent": {
        "criteria": {
            "c1": {"segment": {"segment": "segments/diamond-child"}},
            "c2": {"segment": {"segment": "segments/diamond-leaf"}},
        },
        "expression": {"or": {"operands": [{"ref": "c1"}, {"ref": "c2"}]}},
    },
    "empty-range": {
        "criteria": {"c1": {"attribute": {"attributeName": "score", "rangeRule": {}}}},
        "expression": {"ref": "c1"},
    },
    "empty-set": {
        "criteria": {"c1": {"attribute": {"attributeName": "country", "setRule": {"values": []}}}},
        "expression": {"ref": "c1"},
    },
    "ends-with": {
        "criteria": {
            "c1": {
                "attribute": {"attributeName": "email", "endsWithRule": {"value": "@example.com"}}
            }
        },
        "expression": {"ref": "c1"},
    },
    "ends-with-numeric": {
        "criteria": {
            "c1": {"attribute": {"attributeName": "code", "endsWithRule": {"value": "2"}}}
        },
        "expression": {"ref": "c1"},
    },
    "is-not-null": {
        "criteria": {
            "c1": {"attribute": {"attributeName": "null-attribute", "eqRule": {"value": {}}}}
        },
        "expression": {"not": {"ref": "c1"}},
    },
    "is-null": {
        "criteria": {
            "c1": {"attribute": {"attributeName": "null-attribute", "eqRule": {"value": {}}}}
        },
        "expression": {"ref": "c1"},
    },
    "mat-criterion": {
        "criteria": {
            "c1": {"materializedSegment": {"materializedSegment": "materializations/mat-seg"}}
        },
        "expression": {"ref": "c1"},
    },
    "mat-nested-inner": {
        "criteria": {
            "c1": {"materializedSegment": {"materializedSegment": "materializations/mat-nested"}}
        },
        "expression": {"ref": "c1"},
    },
    "mat-nested-outer": {
        "criteria": {"c1": {"segment": {"segment": "segments/mat-nested-inner"}}},
        "expression": {"ref": "c1"},
    },
    "nested-parent": {
        "criteria": {"c1": {"segment": {"segment": "segments/country-se"}}},
        "expression": {"ref": "c1"},
    },
    "not-all-rule": {
        "criteria": {
            "c1": {
                "attribute": {
                    "attributeName": "scores",
                    "allRule": {
                        "rule": {
                            "rangeRule": {
                                "startInclusive": {"numberValue": 0.0},
                                "endInclusive": {"numberValue": 100.0},
                            }
                        }
                    },
                }
            }
        },
        "expression": {"not": {"ref": "c1"}},
    },
    "not-any-rule": {
        "criteria": {
            "c1": {
                "attribute": {
                    "attributeName": "tags",
                    "anyRule": {"rule": {"eqRule": {"value": {"stringValue": "premium"}}}},
                }
            }
        },
        "expression": {"not": {"ref": "c1"}},
    },
    "not-contains": {
        "criteria": {
            "c1": {
                "attribute": {
                    "attributeName": "repository",
                    "containsRule": {"value": "repo.*admin"},
                }
            }
        },
        "expression": {"not": {"ref": "c1"}},
    },
    "not-country-se": {
        "criteria": {
            "c1": {
                "attribute": {
                    "attributeName": "country",
                    "eqRule": {"value": {"stringValue": "SE"}},
                }
            }
        },
        "expression": {"not": {"ref": "c1"}},
    },
    "or-country-email": {
        "criteria": {
            "c1": {
                "attribute": {
                    "attributeName": "country",
                    "eqRule": {"value": {"stringValue": "SE"}},
                }
            },
            "c2": {"attribute": {"attributeName": "email", "startsWithRule": {"value": "admin@"}}},
        },
        "expression": {"or": {"operands": [{"ref": "c1"}, {"ref": "c2"}]}},
    },
    "range-end-exclusive-only": {
        "criteria": {
            "c1": {
                "attribute": {
                    "attributeName": "score",
                    "rangeRule": {"endExclusive": {"numberValue": 100.0}},
                }
            }
        },
        "expression": {"ref": "c1"},
    },
    "range-end-inclusive-only": {
        "criteria": {
            "c1": {
                "attribute": {
                    "attributeName": "score",
                    "rangeRule": {"endInclusive": {"numberValue": 100.0}},
                }
            }
        },
        "expression": {"ref": "c1"},
    },
    "range-exclusive": {
        "criteria": {
            "c1": {
                "attribute": {
                    "attributeName": "score",
                    "rangeRule": {
                        "startExclusive": {"numberValue": 0.0},
                        "endInclusive": {"numberValue": 100.0},
                    },
                }
            }
        },
        "expression": {"ref": "c1"},
    },
    "same-segment-twice": {
        "criteria": {
            "c1": {"segment": {"segment": "segments/country-se"}},
            "c2": {"segment": {"segment": "segments/country-se"}},
        },
        "expression": {"or": {"operands": [{"ref": "c1"}, {"ref": "c2"}]}},
    },
    "self-referencing": {
        "criteria": {"c1": {"segment": {"segment": "segments/self-referencing"}}},
        "expression": {"ref": "c1"},
    },
    "semver-range": {
        "criteria": {
            "c1": {
                "attribute": {
                    "attributeName": "version",
                    "rangeRule": {"startInclusive": {"versionValue": {"version": "2.0.0"}}},
                }
            }
        },
        "expression": {"ref": "c1"},
    },
    "starts-with": {
        "criteria": {
            "c1": {"attribute": {"attributeName": "email", "startsWithRule": {"value": "test@"}}}
        },
        "expression": {"ref": "c1"},
    },
    "starts-with-numeric": {
        "criteria": {
            "c1": {"attribute": {"attributeName": "code", "startsWithRule": {"value": "4"}}}
        },
        "expression": {"ref": "c1"},
    },
    "timestamp-range": {
        "criteria": {
            "c1": {
                "attribute": {
                    "attributeName": "releaseTime",
                    "rangeRule": {"startInclusive": {"timestampValue": "2022-11-17T15:16:17.118Z"}},
                }
            }
        },
        "expression": {"ref": "c1"},
    },
    "unrecognized-rule": {
        "criteria": {"c1": {"attribute": {"attributeName": "country"}}},
        "expression": {"ref": "c1"},
    },
}

SPEC_ROWS = [
    C("flag_name_filter", "country-se", {"targeting_key": "user1", "country": "SE"}, True),
    C("targeting_key_string", "country-se", {"targeting_key": "user1", "country": "SE"}, True),
    C("targeting_key_integer", "country-se", {"targeting_key": 12345, "country": "SE"}, True),
    C("targeting_eq_match", "country-se", {"targeting_key": "user1", "country": "SE"}, True),
    C("targeting_eq_no_match", "country-se", {"targeting_key": "user1", "country": "US"}, False),
    C("targeting_set_match", "country-set", {"targeting_key": "user1", "country": "NO"}, True),
    C("targeting_range_match", "age-range", {"targeting_key": "user1", "age": 25}, True),
    C(
        "targeting_starts_with",
        "starts-with",
        {"targeting_key": "user1", "email": "test@company.com"},
        True,
    ),
    C(
        "targeting_ends_with",
        "ends-with",
        {"targeting_key": "user1", "email": "user@example.com"},
        True,
    ),
    C(
        "targeting_contains",
        "contains",
        {"targeting_key": "user1", "repository": "platform/repo.*admin"},
        True,
    ),
    C(
        "targeting_contains_list",
        "contains",
        {
            "targeting_key": "user1",
            "repository": ["platform/repo-123-admin", "platform/repo.*admin"],
        },
        True,
    ),
    C(
        "targeting_contains_prefix",
        "contains-edge",
        {"targeting_key": "user1", "text": "barista"},
        True,
    ),
    C(
        "targeting_contains_suffix",
        "contains-edge",
        {"targeting_key": "user1", "text": "crowbar"},
        True,
    ),
    C("targeting_contains_exact", "contains-edge", {"targeting_key": "user1", "text": "bar"}, True),
    C(
        "targeting_contains_mixed_list",
        "contains-edge",
        {"targeting_key": "user1", "text": [123, False, "crowbar"]},
        True,
    ),
    C(
        "targeting_contains_comma_separated_string",
        "contains-edge",
        {"targeting_key": "user1", "text": "foo,bar,baz"},
        True,
    ),
    C(
        "targeting_contains_tab_separated_string",
        "contains-edge",
        {"targeting_key": "user1", "text": "foo\tbar\tbaz"},
        True,
    ),
    C(
        "targeting_contains_string_number_like",
        "contains-number-like",
        {"targeting_key": "user1", "code": "123"},
        True,
    ),
    C(
        "targeting_contains_escaped_literals",
        "contains-escaped",
        {"targeting_key": "user1", "path": 'prefix/a"b\\c/suffix'},
        True,
    ),
    C(
        "targeting_contains_unicode_precomposed",
        "contains-unicode",
        {"targeting_key": "user1", "word": "café"},
        True,
    ),
    C(
        "not_contains_match",
        "not-contains",
        {"targeting_key": "user1", "repository": "platform/repo-123-admin"},
        True,
    ),
    C(
        "targeting_any_rule",
        "any-rule",
        {"targeting_key": "user1", "tags": ["basic", "premium"]},
        True,
    ),
    C("targeting_all_rule", "all-rule", {"targeting_key": "user1", "scores": [10, 50, 90]}, True),
    C("targeting_missing_attribute", "country-se", {"targeting_key": "user1"}, False),
    C(
        "unrecognized_targeting_rule",
        "unrecognized-rule",
        {"targeting_key": "user1", "country": "SE"},
        False,
    ),
    C("nested_segment_match", "nested-parent", {"targeting_key": "user1", "country": "SE"}, True),
    C(
        "circular_segment_dependency",
        "circular-a",
        {"targeting_key": "user1", "country": "SE"},
        False,
    ),
    C(
        "self_referencing_segment",
        "self-referencing",
        {"targeting_key": "user1", "country": "SE"},
        False,
    ),
    C("client_default_match", "country-se", {"targeting_key": "user1", "country": "SE"}, True),
    C(
        "any_rule_set_inner",
        "any-set-inner",
        {"targeting_key": "user1", "tags": ["basic", "vip"]},
        True,
    ),
    C(
        "any_rule_starts_with_inner",
        "any-starts-with-inner",
        {"targeting_key": "user1", "ids": ["admin-1", "user-42"]},
        True,
    ),
    C(
        "any_rule_ends_with_inner",
        "any-ends-with-inner",
        {"targeting_key": "user1", "emails": ["user@example.org", "test@example.com"]},
        True,
    ),
    C(
        "any_rule_contains_inner",
        "any-contains-inner",
        {
            "targeting_key": "user1",
            "repositories": ["open-feature/admin", "open-feature/confidence-resolver"],
        },
        True,
    ),
    C(
        "all_rule_contains_inner",
        "all-contains-inner",
        {"targeting_key": "user1", "repositories": ["confidence-admin", "local-confidence"]},
        True,
    ),
    C(
        "all_rule_contains_inner_empty_list",
        "all-contains-inner",
        {"targeting_key": "user1", "repositories": []},
        True,
    ),
    C("range_exclusive_match", "range-exclusive", {"targeting_key": "user1", "score": 50}, True),
    C(
        "range_end_inclusive_only",
        "range-end-inclusive-only",
        {"targeting_key": "user1", "score": 50},
        True,
    ),
    C(
        "range_end_exclusive_only",
        "range-end-exclusive-only",
        {"targeting_key": "user1", "score": 50},
        True,
    ),
    C("mat_criterion_match", "mat-criterion", {"targeting_key": "user1"}, True),
    C("criterion_not_set", "criterion-not-set", {"targeting_key": "user1"}, False),
    C("empty_set_rule", "empty-set", {"targeting_key": "user1", "country": "SE"}, False),
    C(
        "empty_range_rule",
        "empty-range",
        {"targeting_key": "user1", "score": 50},
        False,
        "rust resolver: RESOLVE_REASON_MATCH",
    ),
    C(
        "any_empty_set_inner",
        "any-empty-set-inner",
        {"targeting_key": "user1", "tags": ["basic", "premium"]},
        False,
    ),
    C(
        "any_unrecognized_inner_rule",
        "any-unrecognized-inner",
        {"targeting_key": "user1", "tags": ["basic", "premium"]},
        False,
    ),
    C(
        "and_targeting_both_match",
        "and-country-age",
        {"targeting_key": "user1", "country": "SE", "age": 25},
        True,
    ),
    C(
        "and_targeting_one_fails",
        "and-country-age",
        {"targeting_key": "user1", "country": "SE", "age": 10},
        False,
    ),
    C(
        "or_targeting_one_match",
        "or-country-email",
        {"targeting_key": "user1", "country": "US", "email": "admin@company.com"},
        True,
    ),
    C(
        "or_targeting_none_match",
        "or-country-email",
        {"targeting_key": "user1", "country": "US", "email": "user@company.com"},
        False,
    ),
    C(
        "not_expression_inverts_match",
        "not-country-se",
        {"targeting_key": "user1", "country": "SE"},
        False,
    ),
    C(
        "not_expression_inverts_non_match",
        "not-country-se",
        {"targeting_key": "user1", "country": "US"},
        True,
    ),
    C(
        "all_rule_one_element_fails",
        "all-rule",
        {"targeting_key": "user1", "scores": [10, 50, 200]},
        False,
    ),
    C(
        "any_rule_none_match",
        "any-rule",
        {"targeting_key": "user1", "tags": ["basic", "free"]},
        False,
    ),
    C("set_no_match", "country-set", {"targeting_key": "user1", "country": "US"}, False),
    C("range_no_match", "age-range", {"targeting_key": "user1", "age": 5}, False),
    C(
        "starts_with_no_match",
        "starts-with",
        {"targeting_key": "user1", "email": "admin@company.com"},
        False,
    ),
    C(
        "ends_with_no_match",
        "ends-with",
        {"targeting_key": "user1", "email": "user@example.org"},
        False,
    ),
    C(
        "starts_with_numeric_context_no_match",
        "starts-with-numeric",
        {"targeting_key": "user1", "code": 42},
        False,
    ),
    C(
        "ends_with_numeric_context_no_match",
        "ends-with-numeric",
        {"targeting_key": "user1", "code": 42},
        False,
    ),
    C(
        "contains_no_match",
        "contains",
        {"targeting_key": "user1", "repository": "platform/repo-123-admin"},
        False,
    ),
    C(
        "contains_case_sensitive_no_match",
        "contains",
        {"targeting_key": "user1", "repository": "platform/Repo.*admin"},
        False,
    ),
    C(
        "contains_empty_list_no_match",
        "contains-edge",
        {"targeting_key": "user1", "text": []},
        False,
    ),
    C("contains_null_no_match", "contains-edge", {"targeting_key": "user1", "text": None}, False),
    C("contains_missing_attribute_no_match", "contains", {"targeting_key": "user1"}, False),
    C(
        "contains_unicode_normalization_no_match",
        "contains-unicode",
        {"targeting_key": "user1", "word": "café"},
        False,
    ),
    C(
        "contains_non_string_no_match",
        "contains-number-like",
        {"targeting_key": "user1", "code": 123},
        False,
    ),
    C(
        "any_rule_contains_inner_no_match",
        "any-contains-inner",
        {"targeting_key": "user1", "repositories": [42, True, "open-feature/admin"]},
        False,
    ),
    C(
        "all_rule_contains_inner_no_match",
        "all-contains-inner",
        {"targeting_key": "user1", "repositories": ["confidence-admin", "local-admin"]},
        False,
    ),
    C(
        "not_contains_no_match",
        "not-contains",
        {"targeting_key": "user1", "repository": "platform/repo.*admin"},
        False,
    ),
    C("not_contains_missing_attribute_match", "not-contains", {"targeting_key": "user1"}, True),
    C(
        "not_contains_non_string_match",
        "not-contains",
        {"targeting_key": "user1", "repository": 42},
        True,
    ),
    C("resolve_with_apply_true", "country-se", {"targeting_key": "user1", "country": "SE"}, True),
    C(
        "resolve_with_apply_true_no_match",
        "country-se",
        {"targeting_key": "user1", "country": "US"},
        False,
    ),
    C(
        "is_null_explicit",
        "is-null",
        {"targeting_key": "user1", "null-attribute": None},
        True,
        "rust resolver: RESOLVE_REASON_NO_SEGMENT_MATCH",
    ),
    C(
        "is_null_implicit",
        "is-null",
        {"targeting_key": "user1"},
        True,
        "rust resolver: RESOLVE_REASON_NO_SEGMENT_MATCH",
    ),
    C(
        "is_null_non_null_value",
        "is-null",
        {"targeting_key": "user1", "null-attribute": "hello"},
        False,
    ),
    C(
        "is_not_null_with_value",
        "is-not-null",
        {"targeting_key": "user1", "null-attribute": "hello"},
        True,
    ),
    C(
        "is_not_null_missing",
        "is-not-null",
        {"targeting_key": "user1"},
        False,
        "rust resolver: RESOLVE_REASON_MATCH",
    ),
    C(
        "not_any_no_overlap",
        "not-any-rule",
        {"targeting_key": "user1", "tags": ["basic", "free"]},
        True,
    ),
    C(
        "not_any_has_overlap",
        "not-any-rule",
        {"targeting_key": "user1", "tags": ["basic", "premium"]},
        False,
    ),
    C("not_any_empty_list", "not-any-rule", {"targeting_key": "user1", "tags": []}, True),
    C("not_any_null_list", "not-any-rule", {"targeting_key": "user1", "tags": None}, True),
    C("not_any_missing_field", "not-any-rule", {"targeting_key": "user1"}, True),
    C(
        "not_all_some_outside",
        "not-all-rule",
        {"targeting_key": "user1", "scores": [10, 200]},
        True,
    ),
    C("not_all_all_inside", "not-all-rule", {"targeting_key": "user1", "scores": [10, 50]}, False),
    C("not_all_empty_list", "not-all-rule", {"targeting_key": "user1", "scores": []}, False),
    C(
        "not_all_null_list",
        "not-all-rule",
        {"targeting_key": "user1", "scores": None},
        False,
        "rust resolver: RESOLVE_REASON_MATCH",
    ),
    C(
        "not_all_missing_field",
        "not-all-rule",
        {"targeting_key": "user1"},
        False,
        "rust resolver: RESOLVE_REASON_MATCH",
    ),
    C("all_rule_empty_list", "all-rule", {"targeting_key": "user1", "scores": []}, True),
    C(
        "all_rule_null_list",
        "all-rule",
        {"targeting_key": "user1", "scores": None},
        True,
        "rust resolver: RESOLVE_REASON_NO_SEGMENT_MATCH",
    ),
    C(
        "all_rule_missing_field",
        "all-rule",
        {"targeting_key": "user1"},
        True,
        "rust resolver: RESOLVE_REASON_NO_SEGMENT_MATCH",
    ),
    C(
        "all_rule_heterogeneous",
        "all-rule",
        {"targeting_key": "user1", "scores": [10, "text", 50]},
        False,
        "rust resolver: none",
    ),
    C("any_rule_empty_list", "any-rule", {"targeting_key": "user1", "tags": []}, False),
    C("any_rule_null_list", "any-rule", {"targeting_key": "user1", "tags": None}, False),
    C("any_rule_missing_field", "any-rule", {"targeting_key": "user1"}, False),
    C("any_rule_nested_list", "any-rule", {"targeting_key": "user1", "tags": [["a", "b"]]}, False),
    C(
        "set_with_input_list",
        "country-set",
        {"targeting_key": "user1", "country": ["NO", "IT"]},
        True,
    ),
    C(
        "eq_with_input_list",
        "country-se",
        {"targeting_key": "user1", "country": ["SE", "US"]},
        True,
    ),
    C("range_with_input_list", "age-range", {"targeting_key": "user1", "age": [25, 5]}, True),
    C("semver_match", "semver-range", {"targeting_key": "user1", "version": "10.0.0"}, True),
    C("semver_no_match", "semver-range", {"targeting_key": "user1", "version": "1.0.0"}, False),
    C(
        "timestamp_match",
        "timestamp-range",
        {"targeting_key": "user1", "releaseTime": "2022-11-17T15:16:17.200Z"},
        True,
    ),
    C(
        "timestamp_no_match",
        "timestamp-range",
        {"targeting_key": "user1", "releaseTime": "2022-11-17T15:16:17.000Z"},
        False,
    ),
    C(
        "timestamp_bad_value",
        "timestamp-range",
        {"targeting_key": "user1", "releaseTime": ""},
        False,
    ),
    C(
        "timestamp_epoch_seconds_number",
        "timestamp-range",
        {"targeting_key": "user1", "releaseTime": 1668698178},
        True,
    ),
    C(
        "timestamp_epoch_millis_number",
        "timestamp-range",
        {"targeting_key": "user1", "releaseTime": 1668698177200},
        True,
    ),
    C("full_rollout_invalid_key_type", "catch-all", {"targeting_key": {}}, True),
    C(
        "same_segment_twice",
        "same-segment-twice",
        {"targeting_key": "user1", "country": "SE"},
        True,
    ),
    C("mat_criterion_no_match", "mat-criterion", {"targeting_key": "user1"}, False),
    C("nested_mat_match", "mat-nested-outer", {"targeting_key": "user1"}, True),
    C("nested_mat_no_match", "mat-nested-outer", {"targeting_key": "user1"}, False),
    C(
        "combined_both_match",
        "combined-criteria",
        {"targeting_key": "user1", "country": "SE"},
        True,
    ),
    C(
        "combined_only_attr",
        "combined-criteria",
        {"targeting_key": "user1", "country": "SE"},
        False,
    ),
    C("combined_only_mat", "combined-criteria", {"targeting_key": "user1", "country": "US"}, False),
    C("combined_neither", "combined-criteria", {"targeting_key": "user1", "country": "US"}, False),
    C(
        "diamond_segment_dependency",
        "diamond-parent",
        {"targeting_key": "user1", "country": "SE"},
        False,
    ),
    C("diamond_unaffected_flag", "country-se", {"targeting_key": "user1", "country": "SE"}, True),
    C("bloom_filter_match", "bloom-filter-seg", {"targeting_key": "user1"}, True),
    C("bloom_filter_no_match", "bloom-filter-seg", {"targeting_key": "user3"}, False),
    C(
        "assignment_origin_is_matched_rule_name",
        "country-se",
        {"targeting_key": "user1", "country": "SE"},
        True,
    ),
]


def _attr(name: str, rule: dict[str, Any]) -> dict[str, Any]:
    return {
        "criteria": {"c1": {"attribute": {"attributeName": name, **rule}}},
        "expression": {"ref": "c1"},
    }


# Extra segments for the proto-comment rows (ids are segmux slugs, 4-63 chars [a-z0-9-]).
SEGMENTS.update(
    {
        "x-premium-bool": _attr("premium", {"eqRule": {"value": {"boolValue": True}}}),
        "x-small-ids": _attr(
            "n",
            {"setRule": {"values": [{"numberValue": 1}, {"numberValue": 2}, {"numberValue": 3}]}},
        ),
        "x-plan-dotted": _attr("user.plan", {"eqRule": {"value": {"stringValue": "pro"}}}),
        "x-version-closed": _attr(
            "app",
            {
                "rangeRule": {
                    "startInclusive": {"versionValue": {"version": "1.2.0"}},
                    "endExclusive": {"versionValue": {"version": "2.0.0"}},
                }
            },
        ),
        "x-time-open-end": _attr(
            "signup", {"rangeRule": {"endExclusive": {"timestampValue": "2024-01-01T00:00:00Z"}}}
        ),
        "x-code-string": _attr("code", {"eqRule": {"value": {"stringValue": "25"}}}),
        "x-ratio-string": _attr("ratio", {"eqRule": {"value": {"stringValue": "2.5"}}}),
    }
)
VALUE_RS = f"{RESOLVER}/src/value.rs"


def X(row_id: str, segment: str, context: dict[str, Any], expected: bool, cite: str) -> Row:
    return Row(f"c-x-{row_id}", "confidence", segment, context, expected, cite)


_RANGE = f'{PROTO} RangeRule: "closed range start, end -> start <[=] x && x <[=] end"'
_EQ_ALL = f'{PROTO} Value: "equality (==, !=, ∈) defined for all types"'
_COERCE = (
    f"{SHEET} \"The context value is coerced to the rule's value type ... a string is "
    'parsed as bool/number/timestamp/version"'
)

EXTRA_ROWS = [
    # age-range is [18, 65): the inclusive start and the exclusive end
    X("range-start-inclusive", "age-range", {"age": 18}, True, _RANGE),
    X("range-end-exclusive", "age-range", {"age": 65}, False, _RANGE),
    X("range-just-below", "age-range", {"age": 17.999}, False, _RANGE),
    X("range-string-number", "age-range", {"age": "30"}, True, f"{_RANGE}; {_COERCE}"),
    X("bool-eq-true", "x-premium-bool", {"premium": True}, True, _EQ_ALL),
    X("bool-eq-false", "x-premium-bool", {"premium": False}, False, _EQ_ALL),
    X("bool-eq-string", "x-premium-bool", {"premium": "true"}, True, f"{_EQ_ALL}; {_COERCE}"),
    X(
        "set-number",
        "x-small-ids",
        {"n": 2},
        True,
        f'{PROTO} SetRule: "in {{a, b, c}} -> x == a || x == b || x == c"',
    ),
    X("set-number-miss", "x-small-ids", {"n": 4}, False, f"{PROTO} SetRule"),
    X("set-number-as-string", "x-small-ids", {"n": "3"}, True, f"{PROTO} SetRule; {_COERCE}"),
    X(
        "dotted-attribute",
        "x-plan-dotted",
        {"user": {"plan": "pro"}},
        True,
        f'{SHEET} "attributeName: \\"user.plan\\": a dotted path into the evaluation context"',
    ),
    X(
        "dotted-attribute-miss",
        "x-plan-dotted",
        {"user": {"plan": "free"}},
        False,
        f"{SHEET} attributeName dotted path",
    ),
    X(
        "dotted-attribute-flat-key",
        "x-plan-dotted",
        {"user.plan": "pro"},
        False,
        f"{SHEET} attributeName is a path (a key with a dot in it is another attribute)",
    ),
    X(
        "version-in-range",
        "x-version-closed",
        {"app": "1.10.0"},
        True,
        f"{_RANGE}; versions compare as numeric tuples ({SHEET} Versions)",
    ),
    X("version-at-end", "x-version-closed", {"app": "2.0.0"}, False, _RANGE),
    X("version-at-start", "x-version-closed", {"app": "1.2.0"}, True, _RANGE),
    X(
        "version-prerelease-dropped",
        "x-version-closed",
        {"app": "2.0.0-beta"},
        False,
        f'{SHEET} Versions "text after the first - is dropped" (2.0.0-beta is 2.0.0)',
    ),
    X(
        "version-leading-v",
        "x-version-closed",
        {"app": "v1.5.0"},
        False,
        f'{SHEET} Versions "a leading v is invalid"',
    ),
    X(
        "time-open-end-before",
        "x-time-open-end",
        {"signup": "2023-12-31T23:59:59Z"},
        True,
        f'{PROTO} RangeRule "open start ..., end -> x <[=] end"',
    ),
    X(
        "time-open-end-equal",
        "x-time-open-end",
        {"signup": "2024-01-01T00:00:00Z"},
        False,
        f"{PROTO} RangeRule (endExclusive)",
    ),
    X(
        "eq-string-rule-number-context",
        "x-code-string",
        {"code": 25},
        True,
        f"{VALUE_RS} convert_to_targeting_value: a number against a string rule becomes "
        'num_value.to_string() (25.0 prints as "25")',
    ),
    X(
        "eq-string-rule-float-context",
        "x-ratio-string",
        {"ratio": 2.5},
        True,
        f'{VALUE_RS} convert_to_targeting_value (2.5 prints as "2.5")',
    ),
    X(
        "eq-string-rule-other-number",
        "x-code-string",
        {"code": 26},
        False,
        f"{VALUE_RS} convert_to_targeting_value",
    ),
    X(
        "time-offset",
        "x-time-open-end",
        {"signup": "2024-01-01T00:30:00+01:00"},
        True,
        f"{PROTO} Value timestamp_value (an instant: +01:00 is 23:30Z the day before)",
    ),
]

# The nested-segment tests again with the unit (the spec's targeting_key) given to evaluate:
# membership of a unit = targeting AND buckets (docs/dialects/confidence.md), segment criteria
# included.
UNIT_ROWS = [
    C(
        "nested_segment_match",
        "nested-parent",
        {"targeting_key": "user1", "country": "SE"},
        True,
        unit="user1",
    ),
    C(
        "same_segment_twice",
        "same-segment-twice",
        {"targeting_key": "user1", "country": "SE"},
        True,
        unit="user1",
    ),
    C(
        "diamond_segment_dependency",
        "diamond-parent",
        {"targeting_key": "user1", "country": "SE"},
        False,
        unit="user1",
    ),
]

ROWS: list[Row] = [*SPEC_ROWS, *EXTRA_ROWS, *UNIT_ROWS]

# Segments of the state file that segmux's Confidence dialect refuses at write time (the
# resolver evaluates them to "no match"; the sheet decides a 400 instead). Rows on them are
# checked as refusals, not evaluated.
_SKIPS_BAD = (
    f'{SHEET} "resolver silently skips bad targeting (unknown ref, rule-less '
    'criterion)": DO NOT MIRROR at write time: 400'
)
_NO_MAT = (
    "segmux keeps no materializations: core/expr/confidence.py refuses materializedSegment "
    'criteria ("materialized segments are not supported")'
)
REFUSED_SEGMENTS: dict[str, str] = {
    "unrecognized-rule": _SKIPS_BAD,
    "criterion-not-set": _SKIPS_BAD,
    "any-unrecognized-inner": _SKIPS_BAD,
    "circular-a": f'{SHEET} step 4 "segment criteria name existing segments, with no cycles"',
    "self-referencing": f'{SHEET} step 4 "... with no cycles"',
    "mat-criterion": _NO_MAT,
    "mat-nested-outer": _NO_MAT,
    "combined-criteria": _NO_MAT,
    "bloom-filter-seg": _NO_MAT,
}
_REFUSED_TESTS = [r for r in ROWS if r.condition in REFUSED_SEGMENTS]
ROWS = [r for r in ROWS if r.condition not in REFUSED_SEGMENTS]
REFUSED: list[Refused] = [
    Refused(f"refused-{r.id}", "confidence", r.condition, r.cite, REFUSED_SEGMENTS[r.condition])
    for r in _REFUSED_TESTS
]
