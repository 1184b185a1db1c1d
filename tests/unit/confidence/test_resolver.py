"""The resolver as a pure function: Spotify's conformance suite over records built here, and the
rules the suite does not reach (never widen, tokens, limits).

The HTTP proof (the same suite loaded through the admin API, on both stores) is
``tests/dialects/confidence/test_resolve_spec.py``; this file pins the algorithm itself."""

from __future__ import annotations

from typing import Any

import pytest

from core import resolve_tokens
from core.buckets import BUCKETS, bucket, from_members, to_bytes
from core.confidence_model import (
    Assignment,
    BucketRange,
    ConfidenceFlag,
    FlagRule,
    FlagVariant,
)
from core.errors import Invalid, LimitExceeded
from core.expr import ast
from core.expr.confidence import parse_targeting
from core.model import Allocation, Segment
from core.resolver import (
    MATCH,
    MATERIALIZATION_NOT_SUPPORTED,
    NO_SEGMENT_MATCH,
    TARGETING_KEY_ERROR,
    ResolveClient,
    ResolvedFlag,
    ResolverState,
    resolve,
    unit_at,
    variant_bucket,
)
from tests.dialects.confidence import resolver_spec as spec

# --- records from the transcription ------------------------------------------------------------


def _assignment(raw: dict[str, Any]) -> Assignment:
    ranges = tuple(BucketRange(r.get("lower", 0), r["upper"]) for r in raw["bucketRanges"])
    if "variant" in raw:
        return Assignment(
            assignment_id=raw["assignmentId"],
            kind="variant",
            variant=raw["variant"]["variant"],
            bucket_ranges=ranges,
        )
    kind = "fallthrough" if "fallthrough" in raw else "client_default"
    return Assignment(assignment_id=raw["assignmentId"], kind=kind, bucket_ranges=ranges)


def _rule(raw: dict[str, Any]) -> FlagRule:
    assignment_spec = raw.get("assignmentSpec") or {}
    return FlagRule(
        name=raw["name"],
        segment=raw["segment"],
        targeting_key_selector=raw["targetingKeySelector"],
        enabled=raw["enabled"],
        environments=tuple(raw.get("environments", ())),
        bucket_count=assignment_spec.get("bucketCount", 0),
        assignments=tuple(_assignment(a) for a in assignment_spec.get("assignments", ())),
        materialization_spec=raw.get("materializationSpec", {}),
    )


def _schema_of(variants: dict[str, dict[str, Any]]) -> dict[str, Any]:
    kinds = {bool: "boolSchema", str: "stringSchema", int: "intSchema", float: "doubleSchema"}
    fields: dict[str, Any] = {}
    for value in variants.values():
        for key, v in value.items():
            fields[key] = {kinds.get(type(v), "structSchema"): {}}
    return {"schema": fields}


def spec_flags() -> list[ConfidenceFlag]:
    return [
        ConfidenceFlag(
            tenant="t",
            name=name,
            state=raw["state"],
            clients=tuple(raw["clients"]),
            schema=_schema_of(raw["variants"]),
            variants=tuple(
                FlagVariant(name=f"{name}/variants/{v}", value=value)
                for v, value in raw["variants"].items()
            ),
            rules=tuple(_rule(r) for r in raw["rules"]),
        )
        for name, raw in spec.FLAGS.items()
    ]


def spec_segments() -> tuple[list[Segment], dict[str, bytes | None], dict[str, str]]:
    """The suite's segments whose targeting segmux takes, their bitsets, and why the others
    were refused."""
    segments, bitsets, refused = [], {}, {}
    for i, (slug, (targeting, buckets)) in enumerate(spec.SEGMENTS.items()):
        try:
            expr = parse_targeting(targeting)
        except Invalid as exc:
            refused[slug] = exc.message
            continue
        segment = Segment(
            id=f"id-{slug}",
            seq=i,
            slug=slug,
            tenant="t",
            sandbox="prod",
            name=slug,
            expression=None if expr is None else ast.encode(expr),
            allocation=Allocation(proportion="1" if buckets == "ALL" else "0.5"),
            created_at=0,
            updated_at=0,
        )
        segments.append(segment)
        bitsets[segment.id] = None if buckets == "ALL" else to_bytes(from_members(list(buckets)))
    return segments, bitsets, refused


def spec_state() -> ResolverState:
    segments, bitsets, _ = spec_segments()
    return ResolverState(
        account=spec.ACCOUNT, flags=spec_flags(), segments=segments, bitsets=bitsets
    )


def client_of(secret: str) -> ResolveClient:
    c = spec.CLIENTS[secret]
    return ResolveClient(
        tenant="t",
        client=c["client"],
        credential=c["credential"],
        environments=tuple(c["environments"]),
    )


def mismatches(case: spec.Case, got: list[ResolvedFlag]) -> list[str]:
    """How the answer differs from the case's ``general`` expectation (empty: it is met)."""
    by_flag = {r.flag: r for r in got}
    found = []
    if len(got) != len(case.expected):
        found.append(f"{len(got)} flags, expected {len(case.expected)}")
    for e in case.expected:
        r = by_flag.get(e.flag)
        if r is None:
            found.append(f"{e.flag} missing")
            continue
        value = r.value if r.value else None  # the client's default: {} stands for no value
        seen = (r.reason.removeprefix("RESOLVE_REASON_"), r.variant, value, r.should_apply)
        want = (e.reason, e.variant, e.value or None, e.should_apply)
        if seen != want:
            found.append(f"{e.flag}: got {seen}, expected {want}")
        if "assignmentOrigin" in e.extra and r.rule != e.extra["assignmentOrigin"]:
            found.append(f"{e.flag}: assignmentOrigin {r.rule!r}")
        if "assignmentId" in e.extra and r.assignment_id != e.extra["assignmentId"]:
            found.append(f"{e.flag}: assignmentId {r.assignment_id!r}")
    return found


def refused_materialization(case: spec.Case, got: list[ResolvedFlag]) -> bool:
    """Whether the answer differs only because a materialization was needed: the resolver said
    so (``MATERIALIZATION_NOT_SUPPORTED``), or the segment it needs names a materialized segment,
    which the segments API refuses to store."""
    _, _, refused = spec_segments()
    for r in got:
        if r.reason == MATERIALIZATION_NOT_SUPPORTED:
            return True
        for rule in spec.FLAGS[r.flag]["rules"]:
            for name in spec.segments_reached(rule["segment"]):
                why = refused.get(name.removeprefix("segments/"), "")
                if "materialized segments are not supported" in why:
                    return True
    return False


STATE = spec_state()


@pytest.mark.parametrize("case", spec.CASES, ids=lambda c: c.name)
def test_the_conformance_suite(case: spec.Case) -> None:
    got = resolve(STATE, client_of(case.secret), case.context or {}, case.flags)
    wrong = mismatches(case, got)
    # Every expectation is met, but where a materialization is needed: then it is refused.
    assert not wrong or refused_materialization(case, got), f"{case.cite}: {wrong}"
    assert (case.name in spec.NEED_MATERIALIZATIONS) == bool(wrong)


def test_only_cases_that_need_materializations_differ() -> None:
    differ = {
        c.name
        for c in spec.CASES
        if mismatches(c, resolve(STATE, client_of(c.secret), c.context or {}, c.flags))
    }
    assert len(spec.CASES) == 166
    assert differ == set(spec.NEED_MATERIALIZATIONS)


# --- what the suite does not reach -------------------------------------------------------------

SE = {
    "criteria": {
        "c": {"attribute": {"attributeName": "country", "eqRule": {"value": {"stringValue": "SE"}}}}
    },
    "expression": {"ref": "c"},
}


def _segment(slug: str, *, state: str = "OK", proportion: str = "1") -> Segment:
    expr = parse_targeting(SE)
    assert expr is not None
    return Segment(
        id=f"id-{slug}",
        seq=0,
        slug=slug,
        tenant="t",
        sandbox="prod",
        name=slug,
        expression=ast.encode(expr),
        allocation=Allocation(proportion=proportion),
        state=state,
        created_at=0,
        updated_at=0,
    )


def _flag(*rules: FlagRule, name: str = "flags/f") -> ConfidenceFlag:
    return ConfidenceFlag(
        tenant="t",
        name=name,
        clients=("clients/c",),
        schema={"schema": {"on": {"boolSchema": {}}, "size": {"intSchema": {}}}},
        variants=(
            FlagVariant(name=f"{name}/variants/a", value={"on": True}),
            FlagVariant(name=f"{name}/variants/b", value={"on": False, "size": 2}),
        ),
        rules=rules,
    )


def _split_rule(segment: str, selector: str = "targeting_key") -> FlagRule:
    return FlagRule(
        name="flags/f/rules/r",
        segment=segment,
        targeting_key_selector=selector,
        bucket_count=2,
        assignments=(
            Assignment(
                kind="variant", variant="flags/f/variants/a", bucket_ranges=(BucketRange(0, 1),)
            ),
            Assignment(
                kind="variant", variant="flags/f/variants/b", bucket_ranges=(BucketRange(1, 2),)
            ),
        ),
    )


CLIENT = ResolveClient(tenant="t", client="clients/c", credential="clients/c/credentials/k")


def test_a_variant_is_chosen_by_the_bucket_of_segment_and_unit() -> None:
    state = ResolverState(
        account="acct",
        flags=[_flag(_split_rule("segments/sweden"))],
        segments=[_segment("sweden")],
        bitsets={},
    )
    for unit in ("u1", "u2", "u3", "u4", "u5", "u6"):
        [r] = resolve(state, CLIENT, {"country": "SE", "targeting_key": unit})
        want = "a" if variant_bucket("sweden", unit, 2) == 0 else "b"
        assert r.reason == MATCH and r.variant == f"flags/f/variants/{want}"
        # Every field of the schema is present; the missing one is null.
        assert set(r.value or {}) == {"on", "size"}


def test_the_published_bucket_vector_holds() -> None:
    # Spotify's resolver test_hash: account confidence-test, unit roug -> bucket 567493.
    assert bucket("confidence-test", "roug") == 567493


def test_archived_and_unallocated_segments_are_skipped_like_unknown_ones() -> None:
    for state_name in ("ARCHIVED", "UNALLOCATED"):
        state = ResolverState(
            account="acct",
            flags=[_flag(_split_rule("segments/sweden"))],
            segments=[_segment("sweden", state=state_name)],
            bitsets={},
        )
        [r] = resolve(state, CLIENT, {"country": "SE", "targeting_key": "u1"})
        assert (r.reason, r.should_apply) == (NO_SEGMENT_MATCH, False)


def test_a_partial_segment_matches_by_the_units_bucket_and_never_without_a_unit() -> None:
    members = [bucket("acct", "inside")]
    state = ResolverState(
        account="acct",
        flags=[_flag(_split_rule("segments/sweden", selector=""))],
        segments=[_segment("sweden", proportion="0.000001")],
        bitsets={"id-sweden": to_bytes(from_members(members))},
    )
    [inside] = resolve(state, CLIENT, {"country": "SE", "targeting_key": "inside"})
    [outside] = resolve(state, CLIENT, {"country": "SE", "targeting_key": "outside"})
    [nobody] = resolve(state, CLIENT, {"country": "SE"})
    assert inside.reason == MATCH
    assert bucket("acct", "outside") not in members and outside.reason == NO_SEGMENT_MATCH
    assert nobody.reason == NO_SEGMENT_MATCH


def test_the_unit_is_a_string_or_an_integral_number_of_at_most_100_bytes() -> None:
    assert unit_at({"targeting_key": 12345}, "") == "12345"
    assert unit_at({"targeting_key": 3.0}, "") == "3"
    assert unit_at({"user": {"id": "x"}}, "user.id") == "x"
    assert unit_at({}, "") is None
    for bad in (3.5, True, [1], {"a": 1}, "é" * 51):
        with pytest.raises(Exception, match="unit"):
            unit_at({"targeting_key": bad}, "")
    state = ResolverState(
        account="acct",
        flags=[_flag(_split_rule("segments/sweden"))],
        segments=[_segment("sweden")],
        bitsets={},
    )
    [r] = resolve(state, CLIENT, {"country": "SE", "targeting_key": 2.5})
    assert (r.reason, r.variant, r.value) == (TARGETING_KEY_ERROR, "", None)


def test_more_than_1000_flags_are_refused() -> None:
    flags = [_flag(name=f"flags/f{i}") for i in range(1001)]
    state = ResolverState(account="acct", flags=flags, segments=[], bitsets={})
    with pytest.raises(LimitExceeded, match="max 1000 flags"):
        resolve(state, CLIENT, {})
    assert len(resolve(state, CLIENT, {}, [f.name for f in flags[:1000]])) == 1000


def test_a_token_cannot_be_forged_or_altered() -> None:
    payload = resolve_tokens.TokenPayload(
        tenant="t", credential="clients/c/credentials/k", resolve_id="r", assignments={}
    )
    token = resolve_tokens.sign(b"k" * 32, payload)
    assert resolve_tokens.verify(b"k" * 32, token) == payload
    with pytest.raises(Invalid):
        resolve_tokens.verify(b"other-key" * 4, token)
    altered = token.replace(b'"tenant":"t"', b'"tenant":"u"')
    with pytest.raises(Invalid):
        resolve_tokens.verify(b"k" * 32, altered)


def test_buckets_cover_the_million() -> None:
    assert 0 <= bucket("acct", "anyone") < BUCKETS
