"""Spotify's cross-resolver conformance suite, transcribed for segmux's tests.

Source: ``spotify/confidence-resolver`` at commit ``1ac8d80a65d523f57b6c2c5a63acfcecef6d106a``,
files ``confidence-resolver/test-payloads/resolver-spec/state.json`` (the resolver's state: account,
clients with their secrets, flags, segments with their targeting and bitsets) and ``tests.json``
(resolve requests, each with the reference answer under ``general``). Every case below names the
test it comes from (``Case.cite``).

What changed in the transcription, and why:

* Variant names are written as the admin API names them, ``flags/<flag>/variants/<variant>``
  (the suite's state uses the bare ``<variant>``, which no real resolver answers); an empty
  variant stays empty.
* Reasons drop the ``RESOLVE_REASON_`` prefix; bitsets are ``ALL`` or the tuple of set buckets.
* The suite's own secrets are kept as keys: a test maps each to the secret segmux issues.
* ``materializations`` keeps the suite's per-unit materialization records for the cases that
  need them; segmux serves no materialized segments, so those cases pass only where the answer
  does not depend on them (``tests/dialects/confidence/test_resolve_spec.py`` lists which).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

RESOLVER_SHA = "1ac8d80a65d523f57b6c2c5a63acfcecef6d106a"
SPEC = (
    f"https://github.com/spotify/confidence-resolver/blob/{RESOLVER_SHA}"
    "/confidence-resolver/test-payloads/resolver-spec"
)
STATE_FILE = f"{SPEC}/state.json"
TESTS_FILE = f"{SPEC}/tests.json"
ACCOUNT = "test-account"
"""The Confidence account (``accounts/<id>``) whose salt buckets units."""


@dataclass(frozen=True)
class Expected:
    flag: str
    reason: str
    """``RESOLVE_REASON_<reason>``."""
    variant: str
    value: dict[str, Any] | None
    should_apply: bool
    extra: dict[str, str] = field(default_factory=dict)
    """``assignmentId`` (from the resolve token) or ``assignmentOrigin``, where the case checks
    them."""


@dataclass(frozen=True)
class Case:
    name: str
    secret: str
    flags: list[str]
    context: dict[str, Any] | None
    apply: bool
    expected: list[Expected]
    materializations: dict[str, Any] | None = None
    rust_differs: bool = False
    """The suite lists another answer for the Rust resolver; the ``general`` one is kept."""

    @property
    def cite(self) -> str:
        return f"{TESTS_FILE} case {self.name!r} over {STATE_FILE}"


def E(flag: str, reason: str, variant: str, value: Any, apply: bool, **extra: str) -> Expected:
    return Expected(flag, reason, variant, value, apply, extra)


# secret -> client, credential and the credential's environments
CLIENTS: dict[str, dict[str, Any]] = {
    "test-secret": {
        "client": "clients/test-client",
        "credential": "clients/test-client/credentials/cred1",
        "environments": ["production"],
    },
    "minimal-secret": {
        "client": "clients/minimal-client",
        "credential": "clients/minimal-client/credentials/cred1",
        "environments": ["production"],
    },
}

# segment id -> (targeting as proto3 JSON or None for everyone, its buckets)
SEGMENTS: dict[str, tuple[dict[str, Any] | None, Any]] = {
    "country-se": (
        {
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
        "ALL",
    ),
    "country-set": (
        {
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
        "ALL",
    ),
    "age-range": (
        {
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
        "ALL",
    ),
    "starts-with": (
        {
            "criteria": {
                "c1": {
                    "attribute": {"attributeName": "email", "startsWithRule": {"value": "test@"}}
                }
            },
            "expression": {"ref": "c1"},
        },
        "ALL",
    ),
    "ends-with": (
        {
            "criteria": {
                "c1": {
                    "attribute": {
                        "attributeName": "email",
                        "endsWithRule": {"value": "@example.com"},
                    }
                }
            },
            "expression": {"ref": "c1"},
        },
        "ALL",
    ),
    "starts-with-numeric": (
        {
            "criteria": {
                "c1": {"attribute": {"attributeName": "code", "startsWithRule": {"value": "4"}}}
            },
            "expression": {"ref": "c1"},
        },
        "ALL",
    ),
    "ends-with-numeric": (
        {
            "criteria": {
                "c1": {"attribute": {"attributeName": "code", "endsWithRule": {"value": "2"}}}
            },
            "expression": {"ref": "c1"},
        },
        "ALL",
    ),
    "contains": (
        {
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
        "ALL",
    ),
    "contains-number-like": (
        {
            "criteria": {
                "c1": {"attribute": {"attributeName": "code", "containsRule": {"value": "2"}}}
            },
            "expression": {"ref": "c1"},
        },
        "ALL",
    ),
    "contains-edge": (
        {
            "criteria": {
                "c1": {"attribute": {"attributeName": "text", "containsRule": {"value": "bar"}}}
            },
            "expression": {"ref": "c1"},
        },
        "ALL",
    ),
    "contains-escaped": (
        {
            "criteria": {
                "c1": {"attribute": {"attributeName": "path", "containsRule": {"value": 'a"b\\c'}}}
            },
            "expression": {"ref": "c1"},
        },
        "ALL",
    ),
    "contains-unicode": (
        {
            "criteria": {
                "c1": {"attribute": {"attributeName": "word", "containsRule": {"value": "é"}}}
            },
            "expression": {"ref": "c1"},
        },
        "ALL",
    ),
    "not-contains": (
        {
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
        "ALL",
    ),
    "any-rule": (
        {
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
        "ALL",
    ),
    "all-rule": (
        {
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
        "ALL",
    ),
    "unrecognized-rule": (
        {
            "criteria": {"c1": {"attribute": {"attributeName": "country"}}},
            "expression": {"ref": "c1"},
        },
        "ALL",
    ),
    "bitset-specific": (
        {
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
        (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    ),
    "nested-parent": (
        {
            "criteria": {"c1": {"segment": {"segment": "segments/country-se"}}},
            "expression": {"ref": "c1"},
        },
        "ALL",
    ),
    "circular-a": (
        {
            "criteria": {"c1": {"segment": {"segment": "segments/circular-b"}}},
            "expression": {"ref": "c1"},
        },
        "ALL",
    ),
    "circular-b": (
        {
            "criteria": {"c1": {"segment": {"segment": "segments/circular-a"}}},
            "expression": {"ref": "c1"},
        },
        "ALL",
    ),
    "self-referencing": (
        {
            "criteria": {"c1": {"segment": {"segment": "segments/self-referencing"}}},
            "expression": {"ref": "c1"},
        },
        "ALL",
    ),
    "any-set-inner": (
        {
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
        "ALL",
    ),
    "any-starts-with-inner": (
        {
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
        "ALL",
    ),
    "any-ends-with-inner": (
        {
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
        "ALL",
    ),
    "any-contains-inner": (
        {
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
        "ALL",
    ),
    "all-contains-inner": (
        {
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
        "ALL",
    ),
    "range-exclusive": (
        {
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
        "ALL",
    ),
    "range-end-inclusive-only": (
        {
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
        "ALL",
    ),
    "range-end-exclusive-only": (
        {
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
        "ALL",
    ),
    "bloom-filter-seg": (
        {
            "criteria": {
                "c1": {"materializedSegment": {"materializedSegment": "materializations/bf-seg"}}
            },
            "expression": {"ref": "c1"},
        },
        "ALL",
    ),
    "mat-criterion": (
        {
            "criteria": {
                "c1": {"materializedSegment": {"materializedSegment": "materializations/mat-seg"}}
            },
            "expression": {"ref": "c1"},
        },
        "ALL",
    ),
    "criterion-not-set": ({"criteria": {"c1": {}}, "expression": {"ref": "c1"}}, "ALL"),
    "empty-set": (
        {
            "criteria": {
                "c1": {"attribute": {"attributeName": "country", "setRule": {"values": []}}}
            },
            "expression": {"ref": "c1"},
        },
        "ALL",
    ),
    "empty-range": (
        {
            "criteria": {"c1": {"attribute": {"attributeName": "score", "rangeRule": {}}}},
            "expression": {"ref": "c1"},
        },
        "ALL",
    ),
    "any-empty-set-inner": (
        {
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
        "ALL",
    ),
    "any-unrecognized-inner": (
        {
            "criteria": {"c1": {"attribute": {"attributeName": "tags", "anyRule": {"rule": {}}}}},
            "expression": {"ref": "c1"},
        },
        "ALL",
    ),
    "and-country-age": (
        {
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
        "ALL",
    ),
    "or-country-email": (
        {
            "criteria": {
                "c1": {
                    "attribute": {
                        "attributeName": "country",
                        "eqRule": {"value": {"stringValue": "SE"}},
                    }
                },
                "c2": {
                    "attribute": {"attributeName": "email", "startsWithRule": {"value": "admin@"}}
                },
            },
            "expression": {"or": {"operands": [{"ref": "c1"}, {"ref": "c2"}]}},
        },
        "ALL",
    ),
    "not-country-se": (
        {
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
        "ALL",
    ),
    "country-us": (
        {
            "criteria": {
                "c1": {
                    "attribute": {
                        "attributeName": "country",
                        "eqRule": {"value": {"stringValue": "US"}},
                    }
                }
            },
            "expression": {"ref": "c1"},
        },
        "ALL",
    ),
    "catch-all": (None, "ALL"),
    "is-null": (
        {
            "criteria": {
                "c1": {"attribute": {"attributeName": "null-attribute", "eqRule": {"value": {}}}}
            },
            "expression": {"ref": "c1"},
        },
        "ALL",
    ),
    "is-not-null": (
        {
            "criteria": {
                "c1": {"attribute": {"attributeName": "null-attribute", "eqRule": {"value": {}}}}
            },
            "expression": {"not": {"ref": "c1"}},
        },
        "ALL",
    ),
    "not-any-rule": (
        {
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
        "ALL",
    ),
    "not-all-rule": (
        {
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
        "ALL",
    ),
    "semver-range": (
        {
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
        "ALL",
    ),
    "timestamp-range": (
        {
            "criteria": {
                "c1": {
                    "attribute": {
                        "attributeName": "releaseTime",
                        "rangeRule": {
                            "startInclusive": {"timestampValue": "2022-11-17T15:16:17.118Z"}
                        },
                    }
                }
            },
            "expression": {"ref": "c1"},
        },
        "ALL",
    ),
    "same-segment-twice": (
        {
            "criteria": {
                "c1": {"segment": {"segment": "segments/country-se"}},
                "c2": {"segment": {"segment": "segments/country-se"}},
            },
            "expression": {"or": {"operands": [{"ref": "c1"}, {"ref": "c2"}]}},
        },
        "ALL",
    ),
    "mat-nested-inner": (
        {
            "criteria": {
                "c1": {
                    "materializedSegment": {"materializedSegment": "materializations/mat-nested"}
                }
            },
            "expression": {"ref": "c1"},
        },
        "ALL",
    ),
    "mat-nested-outer": (
        {
            "criteria": {"c1": {"segment": {"segment": "segments/mat-nested-inner"}}},
            "expression": {"ref": "c1"},
        },
        "ALL",
    ),
    "combined-criteria": (
        {
            "criteria": {
                "c1": {
                    "attribute": {
                        "attributeName": "country",
                        "eqRule": {"value": {"stringValue": "SE"}},
                    }
                },
                "c2": {
                    "materializedSegment": {"materializedSegment": "materializations/mat-combined"}
                },
            },
            "expression": {"and": {"operands": [{"ref": "c1"}, {"ref": "c2"}]}},
        },
        "ALL",
    ),
    "diamond-parent": (
        {
            "criteria": {
                "c1": {"segment": {"segment": "segments/diamond-child"}},
                "c2": {"segment": {"segment": "segments/diamond-leaf"}},
            },
            "expression": {"or": {"operands": [{"ref": "c1"}, {"ref": "c2"}]}},
        },
        "ALL",
    ),
    "diamond-child": (
        {
            "criteria": {"c1": {"segment": {"segment": "segments/diamond-leaf"}}},
            "expression": {"ref": "c1"},
        },
        "ALL",
    ),
    "diamond-leaf": (
        {
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
        "ALL",
    ),
}

# flag name -> state, clients, variants (id -> value) and rules as proto3 JSON, in order
FLAGS: dict[str, dict[str, Any]] = {
    "flags/simple-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}, "off": {"enabled": False}},
        "rules": [
            {
                "name": "flags/simple-flag/rules/rule1",
                "segment": "segments/country-se",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/simple-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/other-client-flag": {
        "state": "ACTIVE",
        "clients": ["clients/other-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/other-client-flag/rules/rule1",
                "segment": "segments/country-se",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/other-client-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/inactive-flag": {
        "state": "ARCHIVED",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [],
    },
    "flags/disabled-rule-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/disabled-rule-flag/rules/rule1",
                "segment": "segments/country-se",
                "enabled": False,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/disabled-rule-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/env-restricted-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/env-restricted-flag/rules/rule1",
                "segment": "segments/country-se",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "environments": ["staging"],
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/env-restricted-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/missing-segment-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/missing-segment-flag/rules/rule1",
                "segment": "segments/nonexistent",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/missing-segment-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/full-rollout-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/full-rollout-flag/rules/rule1",
                "segment": "segments/country-se",
                "enabled": True,
                "targetingKeySelector": "",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/full-rollout-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/targeting-key-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/targeting-key-flag/rules/rule1",
                "segment": "segments/country-se",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/targeting-key-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/eq-match-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}, "off": {"enabled": False}},
        "rules": [
            {
                "name": "flags/eq-match-flag/rules/rule1",
                "segment": "segments/country-se",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/eq-match-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/set-match-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/set-match-flag/rules/rule1",
                "segment": "segments/country-set",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/set-match-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/range-match-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/range-match-flag/rules/rule1",
                "segment": "segments/age-range",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/range-match-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/starts-with-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/starts-with-flag/rules/rule1",
                "segment": "segments/starts-with",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/starts-with-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/ends-with-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/ends-with-flag/rules/rule1",
                "segment": "segments/ends-with",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/ends-with-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/starts-with-numeric-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/starts-with-numeric-flag/rules/rule1",
                "segment": "segments/starts-with-numeric",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/starts-with-numeric-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/ends-with-numeric-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/ends-with-numeric-flag/rules/rule1",
                "segment": "segments/ends-with-numeric",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/ends-with-numeric-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/contains-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/contains-flag/rules/rule1",
                "segment": "segments/contains",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/contains-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/contains-number-like-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/contains-number-like-flag/rules/rule1",
                "segment": "segments/contains-number-like",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/contains-number-like-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/contains-edge-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/contains-edge-flag/rules/rule1",
                "segment": "segments/contains-edge",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/contains-edge-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/contains-escaped-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/contains-escaped-flag/rules/rule1",
                "segment": "segments/contains-escaped",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/contains-escaped-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/contains-unicode-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/contains-unicode-flag/rules/rule1",
                "segment": "segments/contains-unicode",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/contains-unicode-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/not-contains-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/not-contains-flag/rules/rule1",
                "segment": "segments/not-contains",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/not-contains-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/any-rule-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/any-rule-flag/rules/rule1",
                "segment": "segments/any-rule",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/any-rule-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/all-rule-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/all-rule-flag/rules/rule1",
                "segment": "segments/all-rule",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/all-rule-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/missing-attr-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/missing-attr-flag/rules/rule1",
                "segment": "segments/country-se",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/missing-attr-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/unrecognized-rule-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/unrecognized-rule-flag/rules/rule1",
                "segment": "segments/unrecognized-rule",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/unrecognized-rule-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/bitset-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/bitset-flag/rules/rule1",
                "segment": "segments/bitset-specific",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/bitset-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/nested-segment-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/nested-segment-flag/rules/rule1",
                "segment": "segments/nested-parent",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/nested-segment-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/circular-segment-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/circular-segment-flag/rules/rule1",
                "segment": "segments/circular-a",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/circular-segment-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/self-ref-segment-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/self-ref-segment-flag/rules/rule1",
                "segment": "segments/self-referencing",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/self-ref-segment-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/fallthrough-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"treatment": {"color": "red"}, "control": {"color": "blue"}},
        "rules": [
            {
                "name": "flags/fallthrough-flag/rules/rule1",
                "segment": "segments/country-se",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a-ft",
                            "fallthrough": {},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            },
            {
                "name": "flags/fallthrough-flag/rules/rule2",
                "segment": "segments/country-se",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a-match",
                            "variant": {"variant": "flags/fallthrough-flag/variants/treatment"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            },
        ],
    },
    "flags/client-default-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/client-default-flag/rules/rule1",
                "segment": "segments/country-se",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a-cd",
                            "clientDefault": {},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/bucket-gap-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/bucket-gap-flag/rules/rule1",
                "segment": "segments/country-se",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/bucket-gap-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/multi-variant-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"treatment": {"color": "red"}, "control": {"color": "blue"}},
        "rules": [
            {
                "name": "flags/multi-variant-flag/rules/rule1",
                "segment": "segments/country-se",
                "enabled": True,
                "targetingKeySelector": "",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a-treat",
                            "variant": {"variant": "flags/multi-variant-flag/variants/treatment"},
                            "bucketRanges": [{"lower": 0, "upper": 500}],
                        },
                        {
                            "assignmentId": "a-ctrl",
                            "variant": {"variant": "flags/multi-variant-flag/variants/control"},
                            "bucketRanges": [{"lower": 500, "upper": 1000}],
                        },
                    ],
                },
            }
        ],
    },
    "flags/bitset-no-unit-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/bitset-no-unit-flag/rules/rule1",
                "segment": "segments/bitset-specific",
                "enabled": True,
                "targetingKeySelector": "",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/bitset-no-unit-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/any-set-inner-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/any-set-inner-flag/rules/rule1",
                "segment": "segments/any-set-inner",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/any-set-inner-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/any-starts-with-inner-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/any-starts-with-inner-flag/rules/rule1",
                "segment": "segments/any-starts-with-inner",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/any-starts-with-inner-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/any-ends-with-inner-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/any-ends-with-inner-flag/rules/rule1",
                "segment": "segments/any-ends-with-inner",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/any-ends-with-inner-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/any-contains-inner-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/any-contains-inner-flag/rules/rule1",
                "segment": "segments/any-contains-inner",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/any-contains-inner-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/all-contains-inner-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/all-contains-inner-flag/rules/rule1",
                "segment": "segments/all-contains-inner",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/all-contains-inner-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/range-exclusive-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/range-exclusive-flag/rules/rule1",
                "segment": "segments/range-exclusive",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/range-exclusive-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/env-matching-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/env-matching-flag/rules/rule1",
                "segment": "segments/country-se",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "environments": ["production"],
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/env-matching-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/mat-read-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"treatment": {"color": "red"}, "control": {"color": "blue"}},
        "rules": [
            {
                "name": "flags/mat-read-flag/rules/rule1",
                "segment": "segments/country-se",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/mat-read-flag/variants/treatment"},
                            "bucketRanges": [{"lower": 0, "upper": 500}],
                        },
                        {
                            "assignmentId": "a2",
                            "variant": {"variant": "flags/mat-read-flag/variants/control"},
                            "bucketRanges": [{"lower": 500, "upper": 1000}],
                        },
                    ],
                },
                "materializationSpec": {
                    "readMaterialization": "materializations/mat1",
                    "writeMaterialization": "materializations/mat1",
                },
            }
        ],
    },
    "flags/mat-must-match-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/mat-must-match-flag/rules/rule1",
                "segment": "segments/country-se",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/mat-must-match-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
                "materializationSpec": {
                    "readMaterialization": "materializations/mat1",
                    "mode": {"materializationMustMatch": True},
                },
            }
        ],
    },
    "flags/mat-ignore-targeting-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"treatment": {"color": "red"}, "control": {"color": "blue"}},
        "rules": [
            {
                "name": "flags/mat-ignore-targeting-flag/rules/rule1",
                "segment": "segments/country-se",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {
                                "variant": "flags/mat-ignore-targeting-flag/variants/treatment"
                            },
                            "bucketRanges": [{"lower": 0, "upper": 500}],
                        },
                        {
                            "assignmentId": "a2",
                            "variant": {
                                "variant": "flags/mat-ignore-targeting-flag/variants/control"
                            },
                            "bucketRanges": [{"lower": 500, "upper": 1000}],
                        },
                    ],
                },
                "materializationSpec": {
                    "readMaterialization": "materializations/mat1",
                    "mode": {"segmentTargetingCanBeIgnored": True},
                },
            }
        ],
    },
    "flags/mat-no-unit-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/mat-no-unit-flag/rules/rule1",
                "segment": "segments/country-se",
                "enabled": True,
                "targetingKeySelector": "",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/mat-no-unit-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
                "materializationSpec": {"readMaterialization": "materializations/mat1"},
            }
        ],
    },
    "flags/bloom-filter-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/bloom-filter-flag/rules/rule1",
                "segment": "segments/bloom-filter-seg",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/bloom-filter-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/mat-criterion-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/mat-criterion-flag/rules/rule1",
                "segment": "segments/mat-criterion",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/mat-criterion-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/range-end-inclusive-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/range-end-inclusive-flag/rules/rule1",
                "segment": "segments/range-end-inclusive-only",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/range-end-inclusive-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/range-end-exclusive-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/range-end-exclusive-flag/rules/rule1",
                "segment": "segments/range-end-exclusive-only",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/range-end-exclusive-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/mat-read-not-matched-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/mat-read-not-matched-flag/rules/rule1",
                "segment": "segments/country-se",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/mat-read-not-matched-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
                "materializationSpec": {"readMaterialization": "materializations/mat1"},
            }
        ],
    },
    "flags/mat-write-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/mat-write-flag/rules/rule1",
                "segment": "segments/country-se",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/mat-write-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
                "materializationSpec": {"writeMaterialization": "materializations/mat-write"},
            }
        ],
    },
    "flags/minimal-flag": {
        "state": "ACTIVE",
        "clients": ["clients/minimal-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/minimal-flag/rules/rule1",
                "segment": "segments/country-se",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/minimal-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/minimal-flag-2": {
        "state": "ACTIVE",
        "clients": ["clients/minimal-client"],
        "variants": {"blue": {"color": "blue"}},
        "rules": [
            {
                "name": "flags/minimal-flag-2/rules/rule1",
                "segment": "segments/country-se",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/minimal-flag-2/variants/blue"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/minimal-flag-us-only": {
        "state": "ACTIVE",
        "clients": ["clients/minimal-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/minimal-flag-us-only/rules/rule1",
                "segment": "segments/country-us",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/minimal-flag-us-only/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/minimal-flag-inactive": {
        "state": "ARCHIVED",
        "clients": ["clients/minimal-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/minimal-flag-inactive/rules/rule1",
                "segment": "segments/country-se",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/minimal-flag-inactive/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/multi-bucket-range-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/multi-bucket-range-flag/rules/rule1",
                "segment": "segments/country-se",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/multi-bucket-range-flag/variants/on"},
                            "bucketRanges": [
                                {"lower": 0, "upper": 500},
                                {"lower": 500, "upper": 1000},
                            ],
                        }
                    ],
                },
            }
        ],
    },
    "flags/nonzero-lower-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/nonzero-lower-flag/rules/rule1",
                "segment": "segments/country-se",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/nonzero-lower-flag/variants/on"},
                            "bucketRanges": [{"lower": 1, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/mat-no-variant-for-rule-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"treatment": {"color": "red"}},
        "rules": [
            {
                "name": "flags/mat-no-variant-for-rule-flag/rules/rule1",
                "segment": "segments/country-se",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {
                                "variant": "flags/mat-no-variant-for-rule-flag/variants/treatment"
                            },
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
                "materializationSpec": {
                    "readMaterialization": "materializations/mat1",
                    "mode": {"segmentTargetingCanBeIgnored": True},
                },
            }
        ],
    },
    "flags/criterion-not-set-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/criterion-not-set-flag/rules/rule1",
                "segment": "segments/criterion-not-set",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/criterion-not-set-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/empty-set-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/empty-set-flag/rules/rule1",
                "segment": "segments/empty-set",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/empty-set-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/empty-range-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/empty-range-flag/rules/rule1",
                "segment": "segments/empty-range",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/empty-range-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/any-empty-set-inner-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/any-empty-set-inner-flag/rules/rule1",
                "segment": "segments/any-empty-set-inner",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/any-empty-set-inner-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/mat-write-no-unit-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/mat-write-no-unit-flag/rules/rule1",
                "segment": "segments/country-se",
                "enabled": True,
                "targetingKeySelector": "",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/mat-write-no-unit-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
                "materializationSpec": {"writeMaterialization": "materializations/mat-write"},
            }
        ],
    },
    "flags/mat-variant-mismatch-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"treatment": {"color": "red"}},
        "rules": [
            {
                "name": "flags/mat-variant-mismatch-flag/rules/rule1",
                "segment": "segments/country-se",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {
                                "variant": "flags/mat-variant-mismatch-flag/variants/treatment"
                            },
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
                "materializationSpec": {
                    "readMaterialization": "materializations/mat1",
                    "mode": {"segmentTargetingCanBeIgnored": True},
                },
            }
        ],
    },
    "flags/any-unrecognized-inner-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/any-unrecognized-inner-flag/rules/rule1",
                "segment": "segments/any-unrecognized-inner",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/any-unrecognized-inner-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/disabled-then-match": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/disabled-then-match/rules/rule1",
                "segment": "segments/country-se",
                "enabled": False,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/disabled-then-match/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            },
            {
                "name": "flags/disabled-then-match/rules/rule2",
                "segment": "segments/country-se",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a2",
                            "variant": {"variant": "flags/disabled-then-match/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            },
        ],
    },
    "flags/env-then-match": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/env-then-match/rules/rule1",
                "segment": "segments/country-se",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "environments": ["staging"],
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/env-then-match/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            },
            {
                "name": "flags/env-then-match/rules/rule2",
                "segment": "segments/country-se",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a2",
                            "variant": {"variant": "flags/env-then-match/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            },
        ],
    },
    "flags/missing-seg-then-match": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/missing-seg-then-match/rules/rule1",
                "segment": "segments/does-not-exist",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/missing-seg-then-match/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            },
            {
                "name": "flags/missing-seg-then-match/rules/rule2",
                "segment": "segments/country-se",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a2",
                            "variant": {"variant": "flags/missing-seg-then-match/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            },
        ],
    },
    "flags/null-key-then-match": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/null-key-then-match/rules/rule1",
                "segment": "segments/country-se",
                "enabled": True,
                "targetingKeySelector": "nonexistent_field",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/null-key-then-match/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            },
            {
                "name": "flags/null-key-then-match/rules/rule2",
                "segment": "segments/country-se",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a2",
                            "variant": {"variant": "flags/null-key-then-match/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            },
        ],
    },
    "flags/no-assignment-then-match": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/no-assignment-then-match/rules/rule1",
                "segment": "segments/country-se",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/no-assignment-then-match/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1}],
                        }
                    ],
                },
            },
            {
                "name": "flags/no-assignment-then-match/rules/rule2",
                "segment": "segments/country-se",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a2",
                            "variant": {"variant": "flags/no-assignment-then-match/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            },
        ],
    },
    "flags/and-both-match": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/and-both-match/rules/rule1",
                "segment": "segments/and-country-age",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/and-both-match/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/or-one-match": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/or-one-match/rules/rule1",
                "segment": "segments/or-country-email",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/or-one-match/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/not-match-inverted": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/not-match-inverted/rules/rule1",
                "segment": "segments/not-country-se",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/not-match-inverted/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/mat-targeting-check-no-variant": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"treatment": {"color": "red"}},
        "rules": [
            {
                "name": "flags/mat-targeting-check-no-variant/rules/rule1",
                "segment": "segments/country-se",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {
                                "variant": "flags/mat-targeting-check-no-variant/variants/treatment"
                            },
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
                "materializationSpec": {
                    "readMaterialization": "materializations/mat1",
                    "mode": {"segmentTargetingCanBeIgnored": False},
                },
            }
        ],
    },
    "flags/mat-targeting-fails": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/mat-targeting-fails/rules/rule1",
                "segment": "segments/country-us",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/mat-targeting-fails/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
                "materializationSpec": {
                    "readMaterialization": "materializations/mat1",
                    "mode": {"segmentTargetingCanBeIgnored": False},
                },
            }
        ],
    },
    "flags/all-one-fails": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/all-one-fails/rules/rule1",
                "segment": "segments/all-rule",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/all-one-fails/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/fallthrough-write-mat": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"treatment": {"color": "red"}},
        "rules": [
            {
                "name": "flags/fallthrough-write-mat/rules/rule1",
                "segment": "segments/country-se",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a-ft",
                            "fallthrough": {},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
                "materializationSpec": {"writeMaterialization": "materializations/mat-write"},
            },
            {
                "name": "flags/fallthrough-write-mat/rules/rule2",
                "segment": "segments/country-se",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a-match",
                            "variant": {
                                "variant": "flags/fallthrough-write-mat/variants/treatment"
                            },
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            },
        ],
    },
    "flags/fallthrough-read-mat": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"treatment": {"color": "red"}},
        "rules": [
            {
                "name": "flags/fallthrough-read-mat/rules/rule1",
                "segment": "segments/country-se",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a-ft",
                            "fallthrough": {},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
                "materializationSpec": {"readMaterialization": "materializations/mat1"},
            },
            {
                "name": "flags/fallthrough-read-mat/rules/rule2",
                "segment": "segments/country-se",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a-match",
                            "variant": {"variant": "flags/fallthrough-read-mat/variants/treatment"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            },
        ],
    },
    "flags/fallthrough-no-match": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/fallthrough-no-match/rules/rule1",
                "segment": "segments/country-se",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a-ft",
                            "fallthrough": {},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            },
            {
                "name": "flags/fallthrough-no-match/rules/rule2",
                "segment": "segments/country-us",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a-match",
                            "variant": {"variant": "flags/fallthrough-no-match/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            },
        ],
    },
    "flags/is-null-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/is-null-flag/rules/rule1",
                "segment": "segments/is-null",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/is-null-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/is-not-null-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/is-not-null-flag/rules/rule1",
                "segment": "segments/is-not-null",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/is-not-null-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/not-any-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/not-any-flag/rules/rule1",
                "segment": "segments/not-any-rule",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/not-any-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/not-all-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/not-all-flag/rules/rule1",
                "segment": "segments/not-all-rule",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/not-all-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/semver-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/semver-flag/rules/rule1",
                "segment": "segments/semver-range",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/semver-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/timestamp-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/timestamp-flag/rules/rule1",
                "segment": "segments/timestamp-range",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/timestamp-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/custom-key-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/custom-key-flag/rules/rule1",
                "segment": "segments/country-se",
                "enabled": True,
                "targetingKeySelector": "customId",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/custom-key-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/catch-all-100pct-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/catch-all-100pct-flag/rules/rule1",
                "segment": "segments/catch-all",
                "enabled": True,
                "targetingKeySelector": "",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/catch-all-100pct-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/catch-all-50pct-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"control": {"group": "control"}, "treatment": {"group": "treatment"}},
        "rules": [
            {
                "name": "flags/catch-all-50pct-flag/rules/rule1",
                "segment": "segments/catch-all",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a-ctrl",
                            "variant": {"variant": "flags/catch-all-50pct-flag/variants/control"},
                            "bucketRanges": [{"lower": 0, "upper": 500}],
                        },
                        {
                            "assignmentId": "a-treat",
                            "variant": {"variant": "flags/catch-all-50pct-flag/variants/treatment"},
                            "bucketRanges": [{"lower": 500, "upper": 1000}],
                        },
                    ],
                },
            }
        ],
    },
    "flags/same-segment-twice-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/same-segment-twice-flag/rules/rule1",
                "segment": "segments/same-segment-twice",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/same-segment-twice-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/fallthrough-single-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/fallthrough-single-flag/rules/rule1",
                "segment": "segments/country-se",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a-ft",
                            "fallthrough": {},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/mat-nested-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/mat-nested-flag/rules/rule1",
                "segment": "segments/mat-nested-outer",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/mat-nested-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/combined-criteria-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/combined-criteria-flag/rules/rule1",
                "segment": "segments/combined-criteria",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/combined-criteria-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/diamond-dep-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/diamond-dep-flag/rules/rule1",
                "segment": "segments/diamond-parent",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/diamond-dep-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/diamond-ok-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}, "off": {"enabled": False}},
        "rules": [
            {
                "name": "flags/diamond-ok-flag/rules/rule1",
                "segment": "segments/country-se",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/diamond-ok-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 1000}],
                        }
                    ],
                },
            }
        ],
    },
    "flags/mat-same-variant-flag": {
        "state": "ACTIVE",
        "clients": ["clients/test-client"],
        "variants": {"on": {"enabled": True}},
        "rules": [
            {
                "name": "flags/mat-same-variant-flag/rules/rule1",
                "segment": "segments/country-se",
                "enabled": True,
                "targetingKeySelector": "targeting_key",
                "assignmentSpec": {
                    "bucketCount": 1000,
                    "assignments": [
                        {
                            "assignmentId": "a1",
                            "variant": {"variant": "flags/mat-same-variant-flag/variants/on"},
                            "bucketRanges": [{"lower": 0, "upper": 500}],
                        },
                        {
                            "assignmentId": "a2",
                            "variant": {"variant": "flags/mat-same-variant-flag/variants/on"},
                            "bucketRanges": [{"lower": 500, "upper": 1000}],
                        },
                    ],
                },
                "materializationSpec": {
                    "readMaterialization": "materializations/mat1",
                    "writeMaterialization": "materializations/mat1",
                },
            }
        ],
    },
}

CASES: list[Case] = [
    Case(
        "no_flags_for_client",
        "test-secret",
        ["flags/other-client-flag"],
        {"targeting_key": "user1", "country": "SE"},
        False,
        [],
    ),
    Case(
        "inactive_flag_filtered",
        "test-secret",
        ["flags/inactive-flag"],
        {"targeting_key": "user1"},
        False,
        [],
    ),
    Case(
        "flag_name_filter",
        "test-secret",
        ["flags/simple-flag"],
        {"targeting_key": "user1", "country": "SE"},
        False,
        [E("flags/simple-flag", "MATCH", "flags/simple-flag/variants/on", {"enabled": True}, True)],
    ),
    Case(
        "rule_not_enabled",
        "test-secret",
        ["flags/disabled-rule-flag"],
        {"targeting_key": "user1", "country": "SE"},
        False,
        [E("flags/disabled-rule-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "rule_not_enabled_for_env",
        "test-secret",
        ["flags/env-restricted-flag"],
        {"targeting_key": "user1", "country": "SE"},
        False,
        [E("flags/env-restricted-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "segment_not_found",
        "test-secret",
        ["flags/missing-segment-flag"],
        {"targeting_key": "user1", "country": "SE"},
        False,
        [E("flags/missing-segment-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "targeting_key_blank_full_rollout",
        "test-secret",
        ["flags/full-rollout-flag"],
        {"country": "SE"},
        False,
        [
            E(
                "flags/full-rollout-flag",
                "MATCH",
                "flags/full-rollout-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "targeting_key_null_value",
        "test-secret",
        ["flags/targeting-key-flag"],
        {"country": "SE"},
        False,
        [E("flags/targeting-key-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "targeting_key_string",
        "test-secret",
        ["flags/targeting-key-flag"],
        {"targeting_key": "user1", "country": "SE"},
        False,
        [
            E(
                "flags/targeting-key-flag",
                "MATCH",
                "flags/targeting-key-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "targeting_key_integer",
        "test-secret",
        ["flags/targeting-key-flag"],
        {"targeting_key": 12345, "country": "SE"},
        False,
        [
            E(
                "flags/targeting-key-flag",
                "MATCH",
                "flags/targeting-key-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "targeting_key_fractional",
        "test-secret",
        ["flags/targeting-key-flag"],
        {"targeting_key": 3.14, "country": "SE"},
        False,
        [E("flags/targeting-key-flag", "TARGETING_KEY_ERROR", "", None, False)],
    ),
    Case(
        "targeting_key_non_string_number",
        "test-secret",
        ["flags/targeting-key-flag"],
        {"targeting_key": True, "country": "SE"},
        False,
        [E("flags/targeting-key-flag", "TARGETING_KEY_ERROR", "", None, False)],
    ),
    Case(
        "targeting_key_too_long",
        "test-secret",
        ["flags/targeting-key-flag"],
        {
            "targeting_key": "aaaaaaaaaabbbbbbbbbbccccccccccddddddddddeeeeeeeeee" * 2 + "X",
            "country": "SE",
        },
        False,
        [E("flags/targeting-key-flag", "TARGETING_KEY_ERROR", "", None, False)],
    ),
    Case(
        "targeting_eq_match",
        "test-secret",
        ["flags/eq-match-flag"],
        {"targeting_key": "user1", "country": "SE"},
        False,
        [
            E(
                "flags/eq-match-flag",
                "MATCH",
                "flags/eq-match-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "targeting_eq_no_match",
        "test-secret",
        ["flags/eq-match-flag"],
        {"targeting_key": "user1", "country": "US"},
        False,
        [E("flags/eq-match-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "targeting_set_match",
        "test-secret",
        ["flags/set-match-flag"],
        {"targeting_key": "user1", "country": "NO"},
        False,
        [
            E(
                "flags/set-match-flag",
                "MATCH",
                "flags/set-match-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "targeting_range_match",
        "test-secret",
        ["flags/range-match-flag"],
        {"targeting_key": "user1", "age": 25},
        False,
        [
            E(
                "flags/range-match-flag",
                "MATCH",
                "flags/range-match-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "targeting_starts_with",
        "test-secret",
        ["flags/starts-with-flag"],
        {"targeting_key": "user1", "email": "test@company.com"},
        False,
        [
            E(
                "flags/starts-with-flag",
                "MATCH",
                "flags/starts-with-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "targeting_ends_with",
        "test-secret",
        ["flags/ends-with-flag"],
        {"targeting_key": "user1", "email": "user@example.com"},
        False,
        [
            E(
                "flags/ends-with-flag",
                "MATCH",
                "flags/ends-with-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "targeting_contains",
        "test-secret",
        ["flags/contains-flag"],
        {"targeting_key": "user1", "repository": "platform/repo.*admin"},
        False,
        [
            E(
                "flags/contains-flag",
                "MATCH",
                "flags/contains-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "targeting_contains_list",
        "test-secret",
        ["flags/contains-flag"],
        {
            "targeting_key": "user1",
            "repository": ["platform/repo-123-admin", "platform/repo.*admin"],
        },
        False,
        [
            E(
                "flags/contains-flag",
                "MATCH",
                "flags/contains-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "targeting_contains_prefix",
        "test-secret",
        ["flags/contains-edge-flag"],
        {"targeting_key": "user1", "text": "barista"},
        False,
        [
            E(
                "flags/contains-edge-flag",
                "MATCH",
                "flags/contains-edge-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "targeting_contains_suffix",
        "test-secret",
        ["flags/contains-edge-flag"],
        {"targeting_key": "user1", "text": "crowbar"},
        False,
        [
            E(
                "flags/contains-edge-flag",
                "MATCH",
                "flags/contains-edge-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "targeting_contains_exact",
        "test-secret",
        ["flags/contains-edge-flag"],
        {"targeting_key": "user1", "text": "bar"},
        False,
        [
            E(
                "flags/contains-edge-flag",
                "MATCH",
                "flags/contains-edge-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "targeting_contains_mixed_list",
        "test-secret",
        ["flags/contains-edge-flag"],
        {"targeting_key": "user1", "text": [123, False, "crowbar"]},
        False,
        [
            E(
                "flags/contains-edge-flag",
                "MATCH",
                "flags/contains-edge-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "targeting_contains_comma_separated_string",
        "test-secret",
        ["flags/contains-edge-flag"],
        {"targeting_key": "user1", "text": "foo,bar,baz"},
        False,
        [
            E(
                "flags/contains-edge-flag",
                "MATCH",
                "flags/contains-edge-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "targeting_contains_tab_separated_string",
        "test-secret",
        ["flags/contains-edge-flag"],
        {"targeting_key": "user1", "text": "foo\tbar\tbaz"},
        False,
        [
            E(
                "flags/contains-edge-flag",
                "MATCH",
                "flags/contains-edge-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "targeting_contains_string_number_like",
        "test-secret",
        ["flags/contains-number-like-flag"],
        {"targeting_key": "user1", "code": "123"},
        False,
        [
            E(
                "flags/contains-number-like-flag",
                "MATCH",
                "flags/contains-number-like-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "targeting_contains_escaped_literals",
        "test-secret",
        ["flags/contains-escaped-flag"],
        {"targeting_key": "user1", "path": 'prefix/a"b\\c/suffix'},
        False,
        [
            E(
                "flags/contains-escaped-flag",
                "MATCH",
                "flags/contains-escaped-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "targeting_contains_unicode_precomposed",
        "test-secret",
        ["flags/contains-unicode-flag"],
        {"targeting_key": "user1", "word": "café"},
        False,
        [
            E(
                "flags/contains-unicode-flag",
                "MATCH",
                "flags/contains-unicode-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "not_contains_match",
        "test-secret",
        ["flags/not-contains-flag"],
        {"targeting_key": "user1", "repository": "platform/repo-123-admin"},
        False,
        [
            E(
                "flags/not-contains-flag",
                "MATCH",
                "flags/not-contains-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "targeting_any_rule",
        "test-secret",
        ["flags/any-rule-flag"],
        {"targeting_key": "user1", "tags": ["basic", "premium"]},
        False,
        [
            E(
                "flags/any-rule-flag",
                "MATCH",
                "flags/any-rule-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "targeting_all_rule",
        "test-secret",
        ["flags/all-rule-flag"],
        {"targeting_key": "user1", "scores": [10, 50, 90]},
        False,
        [
            E(
                "flags/all-rule-flag",
                "MATCH",
                "flags/all-rule-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "targeting_missing_attribute",
        "test-secret",
        ["flags/missing-attr-flag"],
        {"targeting_key": "user1"},
        False,
        [E("flags/missing-attr-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "unrecognized_targeting_rule",
        "test-secret",
        ["flags/unrecognized-rule-flag"],
        {"targeting_key": "user1", "country": "SE"},
        False,
        [E("flags/unrecognized-rule-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "bitset_not_matched",
        "test-secret",
        ["flags/bitset-flag"],
        {"targeting_key": "user-definitely-not-in-bitset-xyz-abc-123", "country": "SE"},
        False,
        [E("flags/bitset-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "nested_segment_match",
        "test-secret",
        ["flags/nested-segment-flag"],
        {"targeting_key": "user1", "country": "SE"},
        False,
        [
            E(
                "flags/nested-segment-flag",
                "MATCH",
                "flags/nested-segment-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "circular_segment_dependency",
        "test-secret",
        ["flags/circular-segment-flag"],
        {"targeting_key": "user1", "country": "SE"},
        False,
        [E("flags/circular-segment-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "self_referencing_segment",
        "test-secret",
        ["flags/self-ref-segment-flag"],
        {"targeting_key": "user1", "country": "SE"},
        False,
        [E("flags/self-ref-segment-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "fallthrough_then_match",
        "test-secret",
        ["flags/fallthrough-flag"],
        {"targeting_key": "user1", "country": "SE"},
        False,
        [
            E(
                "flags/fallthrough-flag",
                "MATCH",
                "flags/fallthrough-flag/variants/treatment",
                {"color": "red"},
                True,
            )
        ],
    ),
    Case(
        "client_default_match",
        "test-secret",
        ["flags/client-default-flag"],
        {"targeting_key": "user1", "country": "SE"},
        False,
        [E("flags/client-default-flag", "MATCH", "", None, True)],
    ),
    Case(
        "bucket_gap_no_match",
        "test-secret",
        ["flags/bucket-gap-flag"],
        {"targeting_key": "user1", "country": "SE"},
        False,
        [E("flags/bucket-gap-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "multi_variant_no_targeting_key",
        "test-secret",
        ["flags/multi-variant-flag"],
        {"country": "SE"},
        False,
        [E("flags/multi-variant-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "bitset_no_unit",
        "test-secret",
        ["flags/bitset-no-unit-flag"],
        {"country": "SE"},
        False,
        [E("flags/bitset-no-unit-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "any_rule_set_inner",
        "test-secret",
        ["flags/any-set-inner-flag"],
        {"targeting_key": "user1", "tags": ["basic", "vip"]},
        False,
        [
            E(
                "flags/any-set-inner-flag",
                "MATCH",
                "flags/any-set-inner-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "any_rule_starts_with_inner",
        "test-secret",
        ["flags/any-starts-with-inner-flag"],
        {"targeting_key": "user1", "ids": ["admin-1", "user-42"]},
        False,
        [
            E(
                "flags/any-starts-with-inner-flag",
                "MATCH",
                "flags/any-starts-with-inner-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "any_rule_ends_with_inner",
        "test-secret",
        ["flags/any-ends-with-inner-flag"],
        {"targeting_key": "user1", "emails": ["user@example.org", "test@example.com"]},
        False,
        [
            E(
                "flags/any-ends-with-inner-flag",
                "MATCH",
                "flags/any-ends-with-inner-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "any_rule_contains_inner",
        "test-secret",
        ["flags/any-contains-inner-flag"],
        {
            "targeting_key": "user1",
            "repositories": ["open-feature/admin", "open-feature/confidence-resolver"],
        },
        False,
        [
            E(
                "flags/any-contains-inner-flag",
                "MATCH",
                "flags/any-contains-inner-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "all_rule_contains_inner",
        "test-secret",
        ["flags/all-contains-inner-flag"],
        {"targeting_key": "user1", "repositories": ["confidence-admin", "local-confidence"]},
        False,
        [
            E(
                "flags/all-contains-inner-flag",
                "MATCH",
                "flags/all-contains-inner-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "all_rule_contains_inner_empty_list",
        "test-secret",
        ["flags/all-contains-inner-flag"],
        {"targeting_key": "user1", "repositories": []},
        False,
        [
            E(
                "flags/all-contains-inner-flag",
                "MATCH",
                "flags/all-contains-inner-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "range_exclusive_match",
        "test-secret",
        ["flags/range-exclusive-flag"],
        {"targeting_key": "user1", "score": 50},
        False,
        [
            E(
                "flags/range-exclusive-flag",
                "MATCH",
                "flags/range-exclusive-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "env_matching",
        "test-secret",
        ["flags/env-matching-flag"],
        {"targeting_key": "user1", "country": "SE"},
        False,
        [
            E(
                "flags/env-matching-flag",
                "MATCH",
                "flags/env-matching-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "mat_unit_in_mat_variant_found",
        "test-secret",
        ["flags/mat-read-flag"],
        {"targeting_key": "user1", "country": "SE"},
        False,
        [
            E(
                "flags/mat-read-flag",
                "MATCH",
                "flags/mat-read-flag/variants/treatment",
                {"color": "red"},
                True,
            )
        ],
        materializations={
            "user1": {
                "materializations/mat1": {
                    "isUnitInMaterialization": True,
                    "ruleToVariant": {"flags/mat-read-flag/rules/rule1": "treatment"},
                }
            }
        },
    ),
    Case(
        "mat_unit_not_in_mat",
        "test-secret",
        ["flags/mat-read-flag"],
        {"targeting_key": "user1", "country": "SE"},
        False,
        [
            E(
                "flags/mat-read-flag",
                "MATCH",
                "flags/mat-read-flag/variants/control",
                {"color": "blue"},
                True,
            )
        ],
        materializations={
            "user1": {
                "materializations/mat1": {"isUnitInMaterialization": False, "ruleToVariant": {}}
            }
        },
    ),
    Case(
        "mat_must_match_skip",
        "test-secret",
        ["flags/mat-must-match-flag"],
        {"targeting_key": "user1", "country": "SE"},
        False,
        [E("flags/mat-must-match-flag", "NO_SEGMENT_MATCH", "", None, False)],
        materializations={
            "user1": {
                "materializations/mat1": {"isUnitInMaterialization": False, "ruleToVariant": {}}
            }
        },
    ),
    Case(
        "mat_ignore_targeting",
        "test-secret",
        ["flags/mat-ignore-targeting-flag"],
        {"targeting_key": "user1", "country": "WRONG"},
        False,
        [
            E(
                "flags/mat-ignore-targeting-flag",
                "MATCH",
                "flags/mat-ignore-targeting-flag/variants/treatment",
                {"color": "red"},
                True,
            )
        ],
        materializations={
            "user1": {
                "materializations/mat1": {
                    "isUnitInMaterialization": True,
                    "ruleToVariant": {"flags/mat-ignore-targeting-flag/rules/rule1": "treatment"},
                }
            }
        },
    ),
    Case(
        "mat_no_unit",
        "test-secret",
        ["flags/mat-no-unit-flag"],
        {"country": "SE"},
        False,
        [E("flags/mat-no-unit-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "mat_write",
        "test-secret",
        ["flags/mat-write-flag"],
        {"targeting_key": "user1", "country": "SE"},
        False,
        [
            E(
                "flags/mat-write-flag",
                "MATCH",
                "flags/mat-write-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "range_end_inclusive_only",
        "test-secret",
        ["flags/range-end-inclusive-flag"],
        {"targeting_key": "user1", "score": 50},
        False,
        [
            E(
                "flags/range-end-inclusive-flag",
                "MATCH",
                "flags/range-end-inclusive-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "range_end_exclusive_only",
        "test-secret",
        ["flags/range-end-exclusive-flag"],
        {"targeting_key": "user1", "score": 50},
        False,
        [
            E(
                "flags/range-end-exclusive-flag",
                "MATCH",
                "flags/range-end-exclusive-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "mat_unit_in_mat_targeting_fails",
        "test-secret",
        ["flags/mat-read-not-matched-flag"],
        {"targeting_key": "user1", "country": "WRONG"},
        False,
        [E("flags/mat-read-not-matched-flag", "NO_SEGMENT_MATCH", "", None, False)],
        materializations={
            "user1": {
                "materializations/mat1": {"isUnitInMaterialization": True, "ruleToVariant": {}}
            }
        },
    ),
    Case(
        "mat_criterion_match",
        "test-secret",
        ["flags/mat-criterion-flag"],
        {"targeting_key": "user1"},
        False,
        [
            E(
                "flags/mat-criterion-flag",
                "MATCH",
                "flags/mat-criterion-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
        materializations={
            "user1": {
                "materializations/mat-seg": {"isUnitInMaterialization": True, "ruleToVariant": {}}
            }
        },
    ),
    Case(
        "resolve_all_for_client",
        "minimal-secret",
        [],
        {"targeting_key": "user1", "country": "SE"},
        False,
        [
            E(
                "flags/minimal-flag",
                "MATCH",
                "flags/minimal-flag/variants/on",
                {"enabled": True},
                True,
            ),
            E(
                "flags/minimal-flag-2",
                "MATCH",
                "flags/minimal-flag-2/variants/blue",
                {"color": "blue"},
                True,
            ),
            E("flags/minimal-flag-us-only", "NO_SEGMENT_MATCH", "", None, False),
        ],
    ),
    Case(
        "multi_bucket_range_match",
        "test-secret",
        ["flags/multi-bucket-range-flag"],
        {"targeting_key": "user1", "country": "SE"},
        False,
        [
            E(
                "flags/multi-bucket-range-flag",
                "MATCH",
                "flags/multi-bucket-range-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "nonzero_lower_match",
        "test-secret",
        ["flags/nonzero-lower-flag"],
        {"targeting_key": "user1", "country": "SE"},
        False,
        [
            E(
                "flags/nonzero-lower-flag",
                "MATCH",
                "flags/nonzero-lower-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "mat_matched_no_variant_for_rule",
        "test-secret",
        ["flags/mat-no-variant-for-rule-flag"],
        {"targeting_key": "user1", "country": "WHATEVER"},
        False,
        [
            E(
                "flags/mat-no-variant-for-rule-flag",
                "MATCH",
                "flags/mat-no-variant-for-rule-flag/variants/treatment",
                {"color": "red"},
                True,
            )
        ],
        materializations={
            "user1": {
                "materializations/mat1": {"isUnitInMaterialization": True, "ruleToVariant": {}}
            }
        },
        rust_differs=True,
    ),
    Case(
        "batch_mat_and_non_mat",
        "test-secret",
        ["flags/mat-read-flag", "flags/simple-flag"],
        {"targeting_key": "user1", "country": "SE"},
        False,
        [
            E(
                "flags/mat-read-flag",
                "MATCH",
                "flags/mat-read-flag/variants/treatment",
                {"color": "red"},
                True,
            ),
            E(
                "flags/simple-flag",
                "MATCH",
                "flags/simple-flag/variants/on",
                {"enabled": True},
                True,
            ),
        ],
        materializations={
            "user1": {
                "materializations/mat1": {
                    "isUnitInMaterialization": True,
                    "ruleToVariant": {"flags/mat-read-flag/rules/rule1": "treatment"},
                }
            }
        },
    ),
    Case(
        "criterion_not_set",
        "test-secret",
        ["flags/criterion-not-set-flag"],
        {"targeting_key": "user1"},
        False,
        [E("flags/criterion-not-set-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "empty_set_rule",
        "test-secret",
        ["flags/empty-set-flag"],
        {"targeting_key": "user1", "country": "SE"},
        False,
        [E("flags/empty-set-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "empty_range_rule",
        "test-secret",
        ["flags/empty-range-flag"],
        {"targeting_key": "user1", "score": 50},
        False,
        [E("flags/empty-range-flag", "NO_SEGMENT_MATCH", "", None, False)],
        rust_differs=True,
    ),
    Case(
        "any_empty_set_inner",
        "test-secret",
        ["flags/any-empty-set-inner-flag"],
        {"targeting_key": "user1", "tags": ["basic", "premium"]},
        False,
        [E("flags/any-empty-set-inner-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "mat_write_no_unit",
        "test-secret",
        ["flags/mat-write-no-unit-flag"],
        {"country": "SE"},
        False,
        [
            E(
                "flags/mat-write-no-unit-flag",
                "MATCH",
                "flags/mat-write-no-unit-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "mat_variant_mismatch",
        "test-secret",
        ["flags/mat-variant-mismatch-flag"],
        {"targeting_key": "user1", "country": "WHATEVER"},
        False,
        [
            E(
                "flags/mat-variant-mismatch-flag",
                "MATCH",
                "flags/mat-variant-mismatch-flag/variants/treatment",
                {"color": "red"},
                True,
            )
        ],
        materializations={
            "user1": {
                "materializations/mat1": {
                    "isUnitInMaterialization": True,
                    "ruleToVariant": {
                        "flags/mat-variant-mismatch-flag/rules/rule1": "nonexistent-variant"
                    },
                }
            }
        },
    ),
    Case(
        "any_unrecognized_inner_rule",
        "test-secret",
        ["flags/any-unrecognized-inner-flag"],
        {"targeting_key": "user1", "tags": ["basic", "premium"]},
        False,
        [E("flags/any-unrecognized-inner-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "and_targeting_both_match",
        "test-secret",
        ["flags/and-both-match"],
        {"targeting_key": "user1", "country": "SE", "age": 25},
        False,
        [
            E(
                "flags/and-both-match",
                "MATCH",
                "flags/and-both-match/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "and_targeting_one_fails",
        "test-secret",
        ["flags/and-both-match"],
        {"targeting_key": "user1", "country": "SE", "age": 10},
        False,
        [E("flags/and-both-match", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "or_targeting_one_match",
        "test-secret",
        ["flags/or-one-match"],
        {"targeting_key": "user1", "country": "US", "email": "admin@company.com"},
        False,
        [
            E(
                "flags/or-one-match",
                "MATCH",
                "flags/or-one-match/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "or_targeting_none_match",
        "test-secret",
        ["flags/or-one-match"],
        {"targeting_key": "user1", "country": "US", "email": "user@company.com"},
        False,
        [E("flags/or-one-match", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "not_expression_inverts_match",
        "test-secret",
        ["flags/not-match-inverted"],
        {"targeting_key": "user1", "country": "SE"},
        False,
        [E("flags/not-match-inverted", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "not_expression_inverts_non_match",
        "test-secret",
        ["flags/not-match-inverted"],
        {"targeting_key": "user1", "country": "US"},
        False,
        [
            E(
                "flags/not-match-inverted",
                "MATCH",
                "flags/not-match-inverted/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "disabled_rule_then_match",
        "test-secret",
        ["flags/disabled-then-match"],
        {"targeting_key": "user1", "country": "SE"},
        False,
        [
            E(
                "flags/disabled-then-match",
                "MATCH",
                "flags/disabled-then-match/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "env_mismatch_then_match",
        "test-secret",
        ["flags/env-then-match"],
        {"targeting_key": "user1", "country": "SE"},
        False,
        [
            E(
                "flags/env-then-match",
                "MATCH",
                "flags/env-then-match/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "missing_segment_then_match",
        "test-secret",
        ["flags/missing-seg-then-match"],
        {"targeting_key": "user1", "country": "SE"},
        False,
        [
            E(
                "flags/missing-seg-then-match",
                "MATCH",
                "flags/missing-seg-then-match/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "null_targeting_key_then_match",
        "test-secret",
        ["flags/null-key-then-match"],
        {"targeting_key": "user1", "country": "SE"},
        False,
        [
            E(
                "flags/null-key-then-match",
                "MATCH",
                "flags/null-key-then-match/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "no_assignment_then_match",
        "test-secret",
        ["flags/no-assignment-then-match"],
        {"targeting_key": "user1", "country": "SE"},
        False,
        [
            E(
                "flags/no-assignment-then-match",
                "MATCH",
                "flags/no-assignment-then-match/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "mat_targeting_check_no_variant",
        "test-secret",
        ["flags/mat-targeting-check-no-variant"],
        {"targeting_key": "user1", "country": "SE"},
        False,
        [
            E(
                "flags/mat-targeting-check-no-variant",
                "MATCH",
                "flags/mat-targeting-check-no-variant/variants/treatment",
                {"color": "red"},
                True,
            )
        ],
        materializations={
            "user1": {
                "materializations/mat1": {"isUnitInMaterialization": True, "ruleToVariant": {}}
            }
        },
    ),
    Case(
        "mat_targeting_check_fails",
        "test-secret",
        ["flags/mat-targeting-fails"],
        {"targeting_key": "user1", "country": "SE"},
        False,
        [E("flags/mat-targeting-fails", "NO_SEGMENT_MATCH", "", None, False)],
        materializations={
            "user1": {
                "materializations/mat1": {"isUnitInMaterialization": True, "ruleToVariant": {}}
            }
        },
    ),
    Case(
        "all_rule_one_element_fails",
        "test-secret",
        ["flags/all-one-fails"],
        {"targeting_key": "user1", "scores": [10, 50, 200]},
        False,
        [E("flags/all-one-fails", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "any_rule_none_match",
        "test-secret",
        ["flags/any-rule-flag"],
        {"targeting_key": "user1", "tags": ["basic", "free"]},
        False,
        [E("flags/any-rule-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "fallthrough_with_write_mat",
        "test-secret",
        ["flags/fallthrough-write-mat"],
        {"targeting_key": "user1", "country": "SE"},
        False,
        [
            E(
                "flags/fallthrough-write-mat",
                "MATCH",
                "flags/fallthrough-write-mat/variants/treatment",
                {"color": "red"},
                True,
            )
        ],
    ),
    Case(
        "fallthrough_with_read_mat_should_not_match_as_variant",
        "test-secret",
        ["flags/fallthrough-read-mat"],
        {"targeting_key": "user1", "country": "SE"},
        False,
        [
            E(
                "flags/fallthrough-read-mat",
                "MATCH",
                "flags/fallthrough-read-mat/variants/treatment",
                {"color": "red"},
                True,
            )
        ],
        materializations={
            "user1": {
                "materializations/mat1": {
                    "isUnitInMaterialization": True,
                    "ruleToVariant": {"flags/fallthrough-read-mat/rules/rule1": ""},
                }
            }
        },
    ),
    Case(
        "set_no_match",
        "test-secret",
        ["flags/set-match-flag"],
        {"targeting_key": "user1", "country": "US"},
        False,
        [E("flags/set-match-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "range_no_match",
        "test-secret",
        ["flags/range-match-flag"],
        {"targeting_key": "user1", "age": 5},
        False,
        [E("flags/range-match-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "starts_with_no_match",
        "test-secret",
        ["flags/starts-with-flag"],
        {"targeting_key": "user1", "email": "admin@company.com"},
        False,
        [E("flags/starts-with-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "ends_with_no_match",
        "test-secret",
        ["flags/ends-with-flag"],
        {"targeting_key": "user1", "email": "user@example.org"},
        False,
        [E("flags/ends-with-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "starts_with_numeric_context_no_match",
        "test-secret",
        ["flags/starts-with-numeric-flag"],
        {"targeting_key": "user1", "code": 42},
        False,
        [E("flags/starts-with-numeric-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "ends_with_numeric_context_no_match",
        "test-secret",
        ["flags/ends-with-numeric-flag"],
        {"targeting_key": "user1", "code": 42},
        False,
        [E("flags/ends-with-numeric-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "contains_no_match",
        "test-secret",
        ["flags/contains-flag"],
        {"targeting_key": "user1", "repository": "platform/repo-123-admin"},
        False,
        [E("flags/contains-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "contains_case_sensitive_no_match",
        "test-secret",
        ["flags/contains-flag"],
        {"targeting_key": "user1", "repository": "platform/Repo.*admin"},
        False,
        [E("flags/contains-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "contains_empty_list_no_match",
        "test-secret",
        ["flags/contains-edge-flag"],
        {"targeting_key": "user1", "text": []},
        False,
        [E("flags/contains-edge-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "contains_null_no_match",
        "test-secret",
        ["flags/contains-edge-flag"],
        {"targeting_key": "user1", "text": None},
        False,
        [E("flags/contains-edge-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "contains_missing_attribute_no_match",
        "test-secret",
        ["flags/contains-flag"],
        {"targeting_key": "user1"},
        False,
        [E("flags/contains-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "contains_unicode_normalization_no_match",
        "test-secret",
        ["flags/contains-unicode-flag"],
        {"targeting_key": "user1", "word": "café"},
        False,
        [E("flags/contains-unicode-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "contains_non_string_no_match",
        "test-secret",
        ["flags/contains-number-like-flag"],
        {"targeting_key": "user1", "code": 123},
        False,
        [E("flags/contains-number-like-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "any_rule_contains_inner_no_match",
        "test-secret",
        ["flags/any-contains-inner-flag"],
        {"targeting_key": "user1", "repositories": [42, True, "open-feature/admin"]},
        False,
        [E("flags/any-contains-inner-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "all_rule_contains_inner_no_match",
        "test-secret",
        ["flags/all-contains-inner-flag"],
        {"targeting_key": "user1", "repositories": ["confidence-admin", "local-admin"]},
        False,
        [E("flags/all-contains-inner-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "not_contains_no_match",
        "test-secret",
        ["flags/not-contains-flag"],
        {"targeting_key": "user1", "repository": "platform/repo.*admin"},
        False,
        [E("flags/not-contains-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "not_contains_missing_attribute_match",
        "test-secret",
        ["flags/not-contains-flag"],
        {"targeting_key": "user1"},
        False,
        [
            E(
                "flags/not-contains-flag",
                "MATCH",
                "flags/not-contains-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "not_contains_non_string_match",
        "test-secret",
        ["flags/not-contains-flag"],
        {"targeting_key": "user1", "repository": 42},
        False,
        [
            E(
                "flags/not-contains-flag",
                "MATCH",
                "flags/not-contains-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "fallthrough_then_no_match_should_apply",
        "test-secret",
        ["flags/fallthrough-no-match"],
        {"targeting_key": "user1", "country": "SE"},
        False,
        [E("flags/fallthrough-no-match", "NO_SEGMENT_MATCH", "", None, True)],
    ),
    Case(
        "resolve_with_apply_true",
        "test-secret",
        ["flags/simple-flag"],
        {"targeting_key": "user1", "country": "SE"},
        True,
        [E("flags/simple-flag", "MATCH", "flags/simple-flag/variants/on", {"enabled": True}, True)],
    ),
    Case(
        "resolve_with_apply_true_no_match",
        "test-secret",
        ["flags/eq-match-flag"],
        {"targeting_key": "user1", "country": "US"},
        True,
        [E("flags/eq-match-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "resolve_with_apply_true_empty_result",
        "test-secret",
        ["flags/other-client-flag"],
        {"targeting_key": "user1", "country": "SE"},
        True,
        [],
    ),
    Case(
        "is_null_explicit",
        "test-secret",
        ["flags/is-null-flag"],
        {"targeting_key": "user1", "null-attribute": None},
        False,
        [
            E(
                "flags/is-null-flag",
                "MATCH",
                "flags/is-null-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
        rust_differs=True,
    ),
    Case(
        "is_null_implicit",
        "test-secret",
        ["flags/is-null-flag"],
        {"targeting_key": "user1"},
        False,
        [
            E(
                "flags/is-null-flag",
                "MATCH",
                "flags/is-null-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
        rust_differs=True,
    ),
    Case(
        "is_null_non_null_value",
        "test-secret",
        ["flags/is-null-flag"],
        {"targeting_key": "user1", "null-attribute": "hello"},
        False,
        [E("flags/is-null-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "is_not_null_with_value",
        "test-secret",
        ["flags/is-not-null-flag"],
        {"targeting_key": "user1", "null-attribute": "hello"},
        False,
        [
            E(
                "flags/is-not-null-flag",
                "MATCH",
                "flags/is-not-null-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "is_not_null_missing",
        "test-secret",
        ["flags/is-not-null-flag"],
        {"targeting_key": "user1"},
        False,
        [E("flags/is-not-null-flag", "NO_SEGMENT_MATCH", "", None, False)],
        rust_differs=True,
    ),
    Case(
        "not_any_no_overlap",
        "test-secret",
        ["flags/not-any-flag"],
        {"targeting_key": "user1", "tags": ["basic", "free"]},
        False,
        [
            E(
                "flags/not-any-flag",
                "MATCH",
                "flags/not-any-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "not_any_has_overlap",
        "test-secret",
        ["flags/not-any-flag"],
        {"targeting_key": "user1", "tags": ["basic", "premium"]},
        False,
        [E("flags/not-any-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "not_any_empty_list",
        "test-secret",
        ["flags/not-any-flag"],
        {"targeting_key": "user1", "tags": []},
        False,
        [
            E(
                "flags/not-any-flag",
                "MATCH",
                "flags/not-any-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "not_any_null_list",
        "test-secret",
        ["flags/not-any-flag"],
        {"targeting_key": "user1", "tags": None},
        False,
        [
            E(
                "flags/not-any-flag",
                "MATCH",
                "flags/not-any-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "not_any_missing_field",
        "test-secret",
        ["flags/not-any-flag"],
        {"targeting_key": "user1"},
        False,
        [
            E(
                "flags/not-any-flag",
                "MATCH",
                "flags/not-any-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "not_all_some_outside",
        "test-secret",
        ["flags/not-all-flag"],
        {"targeting_key": "user1", "scores": [10, 200]},
        False,
        [
            E(
                "flags/not-all-flag",
                "MATCH",
                "flags/not-all-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "not_all_all_inside",
        "test-secret",
        ["flags/not-all-flag"],
        {"targeting_key": "user1", "scores": [10, 50]},
        False,
        [E("flags/not-all-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "not_all_empty_list",
        "test-secret",
        ["flags/not-all-flag"],
        {"targeting_key": "user1", "scores": []},
        False,
        [E("flags/not-all-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "not_all_null_list",
        "test-secret",
        ["flags/not-all-flag"],
        {"targeting_key": "user1", "scores": None},
        False,
        [E("flags/not-all-flag", "NO_SEGMENT_MATCH", "", None, False)],
        rust_differs=True,
    ),
    Case(
        "not_all_missing_field",
        "test-secret",
        ["flags/not-all-flag"],
        {"targeting_key": "user1"},
        False,
        [E("flags/not-all-flag", "NO_SEGMENT_MATCH", "", None, False)],
        rust_differs=True,
    ),
    Case(
        "all_rule_empty_list",
        "test-secret",
        ["flags/all-rule-flag"],
        {"targeting_key": "user1", "scores": []},
        False,
        [
            E(
                "flags/all-rule-flag",
                "MATCH",
                "flags/all-rule-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "all_rule_null_list",
        "test-secret",
        ["flags/all-rule-flag"],
        {"targeting_key": "user1", "scores": None},
        False,
        [
            E(
                "flags/all-rule-flag",
                "MATCH",
                "flags/all-rule-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
        rust_differs=True,
    ),
    Case(
        "all_rule_missing_field",
        "test-secret",
        ["flags/all-rule-flag"],
        {"targeting_key": "user1"},
        False,
        [
            E(
                "flags/all-rule-flag",
                "MATCH",
                "flags/all-rule-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
        rust_differs=True,
    ),
    Case(
        "all_rule_heterogeneous",
        "test-secret",
        ["flags/all-rule-flag"],
        {"targeting_key": "user1", "scores": [10, "text", 50]},
        False,
        [E("flags/all-rule-flag", "NO_SEGMENT_MATCH", "", None, False)],
        rust_differs=True,
    ),
    Case(
        "any_rule_empty_list",
        "test-secret",
        ["flags/any-rule-flag"],
        {"targeting_key": "user1", "tags": []},
        False,
        [E("flags/any-rule-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "any_rule_null_list",
        "test-secret",
        ["flags/any-rule-flag"],
        {"targeting_key": "user1", "tags": None},
        False,
        [E("flags/any-rule-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "any_rule_missing_field",
        "test-secret",
        ["flags/any-rule-flag"],
        {"targeting_key": "user1"},
        False,
        [E("flags/any-rule-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "any_rule_nested_list",
        "test-secret",
        ["flags/any-rule-flag"],
        {"targeting_key": "user1", "tags": [["a", "b"]]},
        False,
        [E("flags/any-rule-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "set_with_input_list",
        "test-secret",
        ["flags/set-match-flag"],
        {"targeting_key": "user1", "country": ["NO", "IT"]},
        False,
        [
            E(
                "flags/set-match-flag",
                "MATCH",
                "flags/set-match-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "eq_with_input_list",
        "test-secret",
        ["flags/eq-match-flag"],
        {"targeting_key": "user1", "country": ["SE", "US"]},
        False,
        [
            E(
                "flags/eq-match-flag",
                "MATCH",
                "flags/eq-match-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "range_with_input_list",
        "test-secret",
        ["flags/range-match-flag"],
        {"targeting_key": "user1", "age": [25, 5]},
        False,
        [
            E(
                "flags/range-match-flag",
                "MATCH",
                "flags/range-match-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "custom_key_match",
        "test-secret",
        ["flags/custom-key-flag"],
        {"customId": "user1", "country": "SE"},
        False,
        [
            E(
                "flags/custom-key-flag",
                "MATCH",
                "flags/custom-key-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "custom_key_missing",
        "test-secret",
        ["flags/custom-key-flag"],
        {"country": "SE"},
        False,
        [E("flags/custom-key-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "custom_key_wrong_type",
        "test-secret",
        ["flags/custom-key-flag"],
        {"customId": 3.14, "country": "SE"},
        False,
        [E("flags/custom-key-flag", "TARGETING_KEY_ERROR", "", None, False)],
    ),
    Case(
        "semver_match",
        "test-secret",
        ["flags/semver-flag"],
        {"targeting_key": "user1", "version": "10.0.0"},
        False,
        [E("flags/semver-flag", "MATCH", "flags/semver-flag/variants/on", {"enabled": True}, True)],
    ),
    Case(
        "semver_no_match",
        "test-secret",
        ["flags/semver-flag"],
        {"targeting_key": "user1", "version": "1.0.0"},
        False,
        [E("flags/semver-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "timestamp_match",
        "test-secret",
        ["flags/timestamp-flag"],
        {"targeting_key": "user1", "releaseTime": "2022-11-17T15:16:17.200Z"},
        False,
        [
            E(
                "flags/timestamp-flag",
                "MATCH",
                "flags/timestamp-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "timestamp_no_match",
        "test-secret",
        ["flags/timestamp-flag"],
        {"targeting_key": "user1", "releaseTime": "2022-11-17T15:16:17.000Z"},
        False,
        [E("flags/timestamp-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "timestamp_bad_value",
        "test-secret",
        ["flags/timestamp-flag"],
        {"targeting_key": "user1", "releaseTime": ""},
        False,
        [E("flags/timestamp-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "timestamp_epoch_seconds_number",
        "test-secret",
        ["flags/timestamp-flag"],
        {"targeting_key": "user1", "releaseTime": 1668698178},
        False,
        [
            E(
                "flags/timestamp-flag",
                "MATCH",
                "flags/timestamp-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "timestamp_epoch_millis_number",
        "test-secret",
        ["flags/timestamp-flag"],
        {"targeting_key": "user1", "releaseTime": 1668698177200},
        False,
        [
            E(
                "flags/timestamp-flag",
                "MATCH",
                "flags/timestamp-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "full_rollout_invalid_key_type",
        "test-secret",
        ["flags/catch-all-100pct-flag"],
        {"targeting_key": {}},
        False,
        [
            E(
                "flags/catch-all-100pct-flag",
                "MATCH",
                "flags/catch-all-100pct-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "partial_rollout_invalid_key_type",
        "test-secret",
        ["flags/catch-all-50pct-flag"],
        {"targeting_key": {}},
        False,
        [E("flags/catch-all-50pct-flag", "TARGETING_KEY_ERROR", "", None, False)],
    ),
    Case(
        "same_segment_twice",
        "test-secret",
        ["flags/same-segment-twice-flag"],
        {"targeting_key": "user1", "country": "SE"},
        False,
        [
            E(
                "flags/same-segment-twice-flag",
                "MATCH",
                "flags/same-segment-twice-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "fallthrough_single_rule",
        "test-secret",
        ["flags/fallthrough-single-flag"],
        {"targeting_key": "user1", "country": "SE"},
        False,
        [E("flags/fallthrough-single-flag", "NO_SEGMENT_MATCH", "", None, True)],
    ),
    Case(
        "mat_criterion_no_match",
        "test-secret",
        ["flags/mat-criterion-flag"],
        {"targeting_key": "user1"},
        False,
        [E("flags/mat-criterion-flag", "NO_SEGMENT_MATCH", "", None, False)],
        materializations={
            "user1": {
                "materializations/mat-seg": {"isUnitInMaterialization": False, "ruleToVariant": {}}
            }
        },
    ),
    Case(
        "nested_mat_match",
        "test-secret",
        ["flags/mat-nested-flag"],
        {"targeting_key": "user1"},
        False,
        [
            E(
                "flags/mat-nested-flag",
                "MATCH",
                "flags/mat-nested-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
        materializations={
            "user1": {
                "materializations/mat-nested": {
                    "isUnitInMaterialization": True,
                    "ruleToVariant": {},
                }
            }
        },
    ),
    Case(
        "nested_mat_no_match",
        "test-secret",
        ["flags/mat-nested-flag"],
        {"targeting_key": "user1"},
        False,
        [E("flags/mat-nested-flag", "NO_SEGMENT_MATCH", "", None, False)],
        materializations={
            "user1": {
                "materializations/mat-nested": {
                    "isUnitInMaterialization": False,
                    "ruleToVariant": {},
                }
            }
        },
    ),
    Case(
        "combined_both_match",
        "test-secret",
        ["flags/combined-criteria-flag"],
        {"targeting_key": "user1", "country": "SE"},
        False,
        [
            E(
                "flags/combined-criteria-flag",
                "MATCH",
                "flags/combined-criteria-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
        materializations={
            "user1": {
                "materializations/mat-combined": {
                    "isUnitInMaterialization": True,
                    "ruleToVariant": {},
                }
            }
        },
    ),
    Case(
        "combined_only_attr",
        "test-secret",
        ["flags/combined-criteria-flag"],
        {"targeting_key": "user1", "country": "SE"},
        False,
        [E("flags/combined-criteria-flag", "NO_SEGMENT_MATCH", "", None, False)],
        materializations={
            "user1": {
                "materializations/mat-combined": {
                    "isUnitInMaterialization": False,
                    "ruleToVariant": {},
                }
            }
        },
    ),
    Case(
        "combined_only_mat",
        "test-secret",
        ["flags/combined-criteria-flag"],
        {"targeting_key": "user1", "country": "US"},
        False,
        [E("flags/combined-criteria-flag", "NO_SEGMENT_MATCH", "", None, False)],
        materializations={
            "user1": {
                "materializations/mat-combined": {
                    "isUnitInMaterialization": True,
                    "ruleToVariant": {},
                }
            }
        },
    ),
    Case(
        "combined_neither",
        "test-secret",
        ["flags/combined-criteria-flag"],
        {"targeting_key": "user1", "country": "US"},
        False,
        [E("flags/combined-criteria-flag", "NO_SEGMENT_MATCH", "", None, False)],
        materializations={
            "user1": {
                "materializations/mat-combined": {
                    "isUnitInMaterialization": False,
                    "ruleToVariant": {},
                }
            }
        },
    ),
    Case(
        "diamond_segment_dependency",
        "test-secret",
        ["flags/diamond-dep-flag"],
        {"targeting_key": "user1", "country": "SE"},
        False,
        [E("flags/diamond-dep-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "diamond_unaffected_flag",
        "test-secret",
        ["flags/diamond-ok-flag"],
        {"targeting_key": "user1", "country": "SE"},
        False,
        [
            E(
                "flags/diamond-ok-flag",
                "MATCH",
                "flags/diamond-ok-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "bloom_filter_match",
        "test-secret",
        ["flags/bloom-filter-flag"],
        {"targeting_key": "user1"},
        False,
        [
            E(
                "flags/bloom-filter-flag",
                "MATCH",
                "flags/bloom-filter-flag/variants/on",
                {"enabled": True},
                True,
            )
        ],
    ),
    Case(
        "bloom_filter_no_match",
        "test-secret",
        ["flags/bloom-filter-flag"],
        {"targeting_key": "user3"},
        False,
        [E("flags/bloom-filter-flag", "NO_SEGMENT_MATCH", "", None, False)],
    ),
    Case(
        "mat_same_variant_two_assignments_returns_correct_assignment_id",
        "test-secret",
        ["flags/mat-same-variant-flag"],
        {"targeting_key": "user1", "country": "SE"},
        False,
        [
            E(
                "flags/mat-same-variant-flag",
                "MATCH",
                "flags/mat-same-variant-flag/variants/on",
                {"enabled": True},
                True,
                assignmentId="a2",
            )
        ],
        materializations={
            "user1": {
                "materializations/mat1": {
                    "isUnitInMaterialization": True,
                    "ruleToVariant": {"flags/mat-same-variant-flag/rules/rule1": "on"},
                }
            }
        },
    ),
    Case(
        "assignment_origin_is_matched_rule_name",
        "test-secret",
        ["flags/simple-flag"],
        {"targeting_key": "user1", "country": "SE"},
        False,
        [
            E(
                "flags/simple-flag",
                "MATCH",
                "flags/simple-flag/variants/on",
                {"enabled": True},
                True,
                assignmentOrigin="flags/simple-flag/rules/rule1",
            )
        ],
    ),
]

NEED_MATERIALIZATIONS = (
    "mat_unit_in_mat_variant_found",
    "mat_unit_not_in_mat",
    "mat_must_match_skip",
    "mat_ignore_targeting",
    "mat_write",
    "mat_unit_in_mat_targeting_fails",
    "mat_criterion_match",
    "mat_matched_no_variant_for_rule",
    "batch_mat_and_non_mat",
    "mat_variant_mismatch",
    "mat_targeting_check_no_variant",
    "mat_targeting_check_fails",
    "fallthrough_with_write_mat",
    "fallthrough_with_read_mat_should_not_match_as_variant",
    "nested_mat_match",
    "combined_both_match",
    "bloom_filter_match",
    "mat_same_variant_two_assignments_returns_correct_assignment_id",
)
"""The cases whose ``general`` answer segmux does not give, each because it needs a
materialization: a rule's ``materializationSpec`` (the flag answers
``RESOLVE_REASON_MATERIALIZATION_NOT_SUPPORTED``) or a ``materializedSegment`` criterion (the
segments API refuses to store it, so the flag answers ``NO_SEGMENT_MATCH``). Never a wider
answer. Every other case, materialization cases whose answer does not depend on one included,
is met."""


def segments_reached(segment: str) -> set[str]:
    """``segment`` and every segment its segment criteria name, transitively (``segments/x``)."""
    seen: set[str] = set()
    pending = [segment]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        targeting, _ = SEGMENTS.get(name.removeprefix("segments/"), (None, None))
        for criterion in ((targeting or {}).get("criteria") or {}).values():
            ref = (criterion.get("segment") or {}).get("segment")
            if ref:
                pending.append(ref)
    return seen
