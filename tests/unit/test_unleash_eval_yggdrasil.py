"""``core.unleash_eval`` agrees with Yggdrasil (``yggdrasil-engine`` from PyPI: the Rust engine of
Unleash's Python SDK and others, driven in process) on random client features and contexts:
every feature's ``is_enabled`` and ``get_variant``.

The features are what segmux serves and its admin API accepts (operators of Unleash 8.2, values
its validation lets through), plus what only Yggdrasil's compiler refuses (a rollout over 100,
a trailing backslash, a quote in a name, a segment missing from the snapshot). Random draws
are kept out of the comparison: a random stickiness only with a 0 or 100 rollout, and every
context carries the fields the generated stickiness reads.
"""

from __future__ import annotations

import json
import random
import socket
from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.unleash_context import UnleashContext
from core.unleash_eval import compile_features
from tests import pg
from tests.examples import examples

ygg = pg.require("yggdrasil_engine.engine")

USERS = ["u1", "u2", "u3", "u17", "vip", "Ana", "x\\y", 'q"t']
PLANS = ["free", "pro", "Gold", "gold-plus"]
COUNTRIES = ["SE", "NO", "es", "C1"]
TIERS = ["t1", "t2", "t3"]
NUMBERS = ["5", "5.0", "12.50", "-3", "100", "abc", "1e2"]
SEMVERS = ["1.2.3", "2.0.0-alpha", "2.0.0-beta.2", "2.0.0", "10.0.0", "1.2", "v1.2.3"]
EMAILS = ["ana@example.com", "BOB@EXAMPLE.COM", "eve@other.org"]
TIMES = [
    "2024-05-01T10:00:00Z",
    "2031-01-01T00:00:00.000Z",
    "2027-03-01T12:00:00+02:00",
    "2031-01-01 00:00:00z",
    "2031-01-01",  # not an instant to Rust: DATE_* is false
    "2031-01-01T00:00:00",
]
ADDRESSES = ["10.0.0.1", "10.1.2.3", "192.168.7.9", "2001:db8::5", "8.8.8.8", "nope"]
PAYLOADS = [
    None,
    {"type": "string", "value": "blue"},
    {"type": "json", "value": '{"a":1}'},
    {"type": "number", "value": "7"},
]

WEIRD_VALUES = ["ends\\", "mid\\dle", 'quo"te']
"""Values Yggdrasil must carry in its rule text (a trailing backslash breaks it)."""


def _listed(operator: str, pool: list[str], context: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda values, inverted, ci: {
            "contextName": context,
            "operator": operator,
            "values": values,
            "inverted": inverted,
            "caseInsensitive": ci,
        },
        st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True),
        st.booleans(),
        st.booleans(),
    )


def _single(operator: str, values: list[str], context: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda value, inverted: {
            "contextName": context,
            "operator": operator,
            "value": value,
            "values": [],
            "inverted": inverted,
        },
        st.sampled_from(values),
        st.booleans(),
    )


constraints = st.one_of(
    _listed("IN", USERS + WEIRD_VALUES, "userId"),
    _listed("NOT_IN", PLANS, "plan"),
    _listed("IN", COUNTRIES, "country"),
    _listed("STR_STARTS_WITH", ["gold", "Go", "pr"], "plan"),
    _listed("STR_ENDS_WITH", ["@example.com", ".org"], "email"),
    _listed("STR_CONTAINS", ["na", "OB"], "email"),
    _listed("IN", ["x"], "a.b"),
    _listed("IN", ["x"], 'we"ird'),
    *(_single(op, ["5", "12.5", "-3", "1e2"], "n") for op in ("NUM_EQ", "NUM_GT", "NUM_LTE")),
    *(
        _single(op, ["1.2.3", "2.0.0-beta.1", "2.0.0"], "v")
        for op in ("SEMVER_EQ", "SEMVER_LT", "SEMVER_GTE")
    ),
    *(
        _single(op, ["2025-01-01T00:00:00.000Z", "2030-06-01T12:00:00Z"], "currentTime")
        for op in ("DATE_AFTER", "DATE_BEFORE")
    ),
    st.builds(
        lambda value, ci: {
            "contextName": "plan",
            "operator": "REGEX",
            "value": value,
            "values": [],
            "caseInsensitive": ci,
        },
        st.sampled_from(["^go", "[0-9]+$", "o.d", "^(free|pro)$"]),
        st.booleans(),
    ),
)


def _variants(weights: st.SearchStrategy[int]) -> st.SearchStrategy[list[dict[str, Any]]]:
    one = st.builds(
        lambda name, weight, payload: {
            "name": name,
            "weight": weight,
            "weightType": "variable",
            "stickiness": "default",
            **({"payload": payload} if payload else {}),
        },
        st.sampled_from(["blue", "red", "green", "off-white"]),
        weights,
        st.sampled_from(PAYLOADS),
    )
    return st.lists(one, max_size=3, unique_by=lambda v: v["name"]).filter(
        lambda vs: not vs or sum(v["weight"] for v in vs) > 0
    )


@st.composite
def strategies(draw: st.DrawFn, segment_ids: list[int]) -> dict[str, Any]:
    kind = draw(
        st.sampled_from(
            [
                "default",
                "flexibleRollout",
                "flexibleRollout",
                "userWithId",
                "gradualRolloutUserId",
                "gradualRolloutSessionId",
                "gradualRolloutRandom",
                "remoteAddress",
                "applicationHostname",
                "myCustomStrategy",
            ]
        )
    )
    params: dict[str, str] = {}
    rollouts = st.one_of(
        st.integers(0, 100).map(str), st.sampled_from(["101", "fifty", "+40", "007"])
    )
    if kind == "flexibleRollout":
        stickiness = draw(st.sampled_from(["default", "userId", "sessionId", "tier", "random"]))
        params["stickiness"] = stickiness
        params["rollout"] = (
            draw(st.sampled_from(["0", "100"])) if stickiness == "random" else draw(rollouts)
        )
        if draw(st.booleans()):
            params["groupId"] = draw(st.sampled_from(["g1", "shared", 'bad"group', "a\\b"]))
    elif kind in ("gradualRolloutUserId", "gradualRolloutSessionId"):
        params["percentage"] = draw(rollouts)
        if draw(st.integers(0, 4)):
            params["groupId"] = draw(st.sampled_from(["g1", "shared"]))
    elif kind == "gradualRolloutRandom":
        params["percentage"] = draw(st.sampled_from(["0", "100", "250"]))
    elif kind == "userWithId":
        params["userIds"] = ", ".join(draw(st.lists(st.sampled_from(USERS), max_size=4)))
    elif kind == "remoteAddress":
        ips = ["10.0.0.1", "192.168.0.0/16", "2001:db8::/32", "garbage", "10.1.0.0/33"]
        params["IPs"] = ",".join(draw(st.lists(st.sampled_from(ips), min_size=1, max_size=3)))
    elif kind == "applicationHostname":
        params["hostNames"] = ", ".join(
            draw(st.lists(st.sampled_from([socket.gethostname().upper(), "elsewhere"]), max_size=2))
        )
    pool = [*segment_ids, 99] if segment_ids else [99]
    segs = draw(st.lists(st.sampled_from(pool), max_size=2, unique=True))
    if draw(st.integers(0, 9)) and 99 in segs:
        segs.remove(99)  # a missing segment now and then, not every other time
    # Random draws stay out of the comparison: random stickiness never carries variants.
    carries_variants = params.get("stickiness") != "random" and kind != "gradualRolloutRandom"
    return {
        "name": kind,
        "constraints": draw(st.lists(constraints, max_size=2)),
        "parameters": params,
        "variants": draw(_variants(st.integers(0, 1000))) if carries_variants else [],
        "segments": sorted(segs),
    }


@st.composite
def client_features(draw: st.DrawFn) -> dict[str, Any]:
    segment_ids = draw(st.lists(st.integers(1, 5), max_size=3, unique=True))
    segments = [
        {
            "id": i,
            "name": f"s{i}",
            "constraints": draw(st.lists(constraints, min_size=1, max_size=2)),
        }
        for i in segment_ids
    ]
    features = []
    for n in range(draw(st.integers(1, 4))):
        overrides = st.lists(
            st.builds(
                lambda name, values: {"contextName": name, "values": values},
                st.sampled_from(["userId", "plan"]),
                st.lists(st.sampled_from(USERS + PLANS), min_size=1, max_size=2),
            ),
            max_size=1,
        )
        feature_variants = draw(_variants(st.integers(0, 1000)))
        for v in feature_variants:
            v["stickiness"] = draw(st.sampled_from(["default", "tier"]))
            v["overrides"] = draw(overrides)
        features.append(
            {
                "name": f"feature-{n}",
                "type": "release",
                "enabled": draw(st.integers(0, 5)) > 0,
                "project": "default",
                "stale": False,
                "strategies": draw(st.lists(strategies(segment_ids), max_size=3)),
                "variants": feature_variants,
                "description": None,
                "impressionData": draw(st.booleans()),
            }
        )
    return {"version": 2, "features": features, "segments": segments}


@st.composite
def contexts(draw: st.DrawFn) -> UnleashContext:
    user = draw(st.none() | st.sampled_from([*USERS, ""]))  # an empty id is an id
    # Default stickiness reads userId, then sessionId: one of them is always there, so no
    # answer depends on a random draw.
    session = draw(
        st.sampled_from(["s1", "s2", "s3"]) if user is None else st.none() | st.just("s9")
    )
    properties = {"tier": draw(st.sampled_from(TIERS))}
    optional = {
        "plan": st.sampled_from(PLANS),
        "country": st.sampled_from(COUNTRIES),
        "email": st.sampled_from(EMAILS),
        "n": st.sampled_from(NUMBERS),
        "v": st.sampled_from(SEMVERS),
        "a.b": st.just("x"),
        'we"ird': st.just("x"),
        # Standard fields under properties: read only when the context lacks them.
        "userId": st.sampled_from(USERS),
        "sessionId": st.just("s7"),
        "remoteAddress": st.sampled_from(ADDRESSES),
    }
    for key, values in optional.items():
        if draw(st.booleans()):
            properties[key] = draw(values)
    return UnleashContext(
        user_id=user,
        session_id=session,
        remote_address=draw(st.none() | st.sampled_from(ADDRESSES)),
        app_name=draw(st.none() | st.just("web")),
        environment=draw(st.none() | st.just("development")),
        current_time=draw(st.none() | st.sampled_from(TIMES)),
        properties=properties,
    )


@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(state=client_features(), context_list=st.lists(contexts(), min_size=1, max_size=4))
def test_the_engine_agrees_with_yggdrasil(
    state: dict[str, Any], context_list: list[UnleashContext]
) -> None:
    engine = ygg.UnleashEngine()
    engine.take_state(json.dumps(state))
    segments = {s["id"]: s["constraints"] for s in state["segments"]}
    ours = compile_features(state["features"], segments)
    for context in context_list:
        theirs_context = msgspec.to_builtins(context)  # the SDKs' context JSON
        for answer in ours.evaluate(context):
            enabled = engine.is_enabled(answer.name, theirs_context).is_enabled
            assert answer.enabled == enabled, (answer.name, context, state)
            variant = engine.get_variant(answer.name, theirs_context).variant
            got = (answer.variant.name, answer.variant.enabled, answer.variant.payload)
            assert got == (variant.name, variant.enabled, variant.payload), (
                answer.name,
                context,
                state,
            )
            assert answer.variant.feature_enabled == variant.feature_enabled


@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(state=client_features(), context_list=st.lists(contexts(), min_size=1, max_size=4))
def test_explain_answers_as_evaluate_and_says_why(
    state: dict[str, Any], context_list: list[UnleashContext]
) -> None:
    """``explain`` (what OFREP's reasons are read from) takes the same steps as ``evaluate``:
    the same answers for the same random draws, and a reason that fits each."""
    segments = {s["id"]: s["constraints"] for s in state["segments"]}
    ours = compile_features(state["features"], segments)
    for i, context in enumerate(context_list):
        answers = ours.evaluate(context, rng=random.Random(i))
        explained = ours.explain(context, rng=random.Random(i))
        assert [a for a, _ in explained] == answers
        for answer, why in explained:
            assert answer.enabled == (why not in ("disabled", "default")), (answer, why)
            # One feature alone draws its own random numbers: only its name is certain.
            one = ours.explain_one(answer.name, context, rng=random.Random(i))
            assert one is not None and one[0].name == answer.name


# Strings whose Unicode case folding differs from their lower case: Yggdrasil lower-cases
# (Rust's ``to_lowercase``) for ``caseInsensitive``, and so must the engine; case folding would
# match more ("STRASSE" would contain "straße").
CASE_ROWS = [
    ("STR_CONTAINS", ["straße"], "STRASSE", False),
    ("STR_CONTAINS", ["ss"], "Straße", False),
    ("STR_CONTAINS", ["straße"], "STRAẞE", True),  # capital sharp s lower-cases to ß
    ("STR_CONTAINS", ["Straße"], "STRAßE", True),
    ("STR_STARTS_WITH", ["FILE"], "ﬁle", False),  # a ligature is not its letters
    ("STR_STARTS_WITH", ["fi"], "ﬁ", False),
    ("STR_ENDS_WITH", ["οδοσ"], "ΟΔΟΣ", False),  # a final capital sigma lower-cases to ς
    ("STR_ENDS_WITH", ["ΟΔΟΣ"], "οδος", True),
    ("STR_CONTAINS", ["\u017f"], "S", False),  # long s folds to s; lower-cased, it stays
    ("STR_STARTS_WITH", ["\u0130"], "i\u0307x", True),  # İ lower-cases to i and a combining dot
    ("STR_ENDS_WITH", ["Com"], "ana@EXAMPLE.COM", True),
]


def test_case_insensitive_lower_cases_as_yggdrasil_does() -> None:
    features = [
        {
            "name": f"case-{n}",
            "enabled": True,
            "strategies": [
                {
                    "name": "default",
                    "constraints": [
                        {
                            "contextName": "k",
                            "operator": operator,
                            "values": values,
                            "caseInsensitive": True,
                        }
                    ],
                }
            ],
        }
        for n, (operator, values, _, _) in enumerate(CASE_ROWS)
    ]
    engine = ygg.UnleashEngine()
    engine.take_state(json.dumps({"version": 2, "features": features}))
    ours = compile_features(features, {})
    for n, (operator, values, value, expected) in enumerate(CASE_ROWS):
        context = UnleashContext(properties={"k": value})
        got = ours.evaluate_one(f"case-{n}", context)
        assert got is not None
        theirs = engine.is_enabled(f"case-{n}", msgspec.to_builtins(context)).is_enabled
        assert (got.enabled, theirs) == (expected, expected), (operator, values, value)


def test_in_and_not_in_on_one_name_across_segments_agree_with_yggdrasil() -> None:
    # A strategy's IN constraints on one name must all hold (the engine intersects their
    # sets), its NOT_IN constraints must all hold (it unites what they refuse).
    def c(name: str, operator: str, values: list[str]) -> dict[str, Any]:
        return {"contextName": name, "operator": operator, "values": values}

    segments = [
        {"id": 1, "name": "s1", "constraints": [c("userId", "IN", ["a", "b"])]},
        {"id": 2, "name": "s2", "constraints": [c("userId", "IN", ["b", "c"])]},
        {"id": 3, "name": "s3", "constraints": [c("plan", "NOT_IN", ["free"])]},
        {
            "id": 4,
            "name": "s4",
            "constraints": [c("plan", "NOT_IN", ["trial"]), c("k", "IN", ["x"])],
        },
    ]
    features = [
        {
            "name": f"f{n}",
            "enabled": True,
            "strategies": [{"name": "default", "constraints": own, "segments": used}],
        }
        for n, (own, used) in enumerate(
            [
                ([], [1, 2]),
                ([c("userId", "IN", ["b"])], [1, 2]),
                ([], [3, 4]),
                ([c("userId", "NOT_IN", ["a"])], [1, 3]),
                ([c("userId", "IN", ["a"])], [2]),
            ]
        )
    ]
    engine = ygg.UnleashEngine()
    engine.take_state(json.dumps({"version": 2, "features": features, "segments": segments}))
    ours = compile_features(features, {s["id"]: s["constraints"] for s in segments})
    seen = set()
    for user in (None, "a", "b", "c"):
        for plan in (None, "free", "trial", "pro"):
            for k in (None, "x", "y"):
                props = {n: v for n, v in (("plan", plan), ("k", k)) if v is not None}
                context = UnleashContext(user_id=user, properties=props)
                for answer in ours.evaluate(context):
                    theirs = engine.is_enabled(answer.name, msgspec.to_builtins(context))
                    assert answer.enabled == theirs.is_enabled, (answer.name, context)
                    seen.add((answer.name, answer.enabled))
    # Every feature is on for some context and off for another, but f4, whose sets are disjoint.
    assert seen == {(f"f{n}", on) for n in range(4) for on in (True, False)} | {("f4", False)}
