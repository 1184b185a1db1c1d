"""OFREP answers what the vendors' own APIs answer, on random contexts: the Unleash frontend
API's toggles and variants for the Unleash features, and Confidence's ``flags:resolve`` for the
Confidence flags (one engine each, one code path; both backends)."""

from __future__ import annotations

from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.store import Store
from tests.conftest import make_token
from tests.dialects.confidence.resolve_helpers import resolve
from tests.dialects.ofrep.helpers import (
    bulk,
    confidence_flag,
    enable,
    evaluate,
    everyone_gets,
    swedes,
)
from tests.dialects.unleash.helpers import add_strategy, create_feature
from tests.examples import examples


class World:
    def __init__(self, front: str, ofrep: str, secret: str) -> None:
        self.front = front
        self.ofrep = ofrep
        self.secret = secret


_WORLDS: dict[str, World] = {}


def _variant(name: str, colour: str) -> dict[str, Any]:
    return {
        "name": name,
        "weight": 500,
        "weightType": "variable",
        "stickiness": "default",
        "payload": {"type": "string", "value": colour},
    }


async def world(client: httpx.AsyncClient, store: Store, token: str) -> World:
    """The features, flags and tokens, made once per test (its examples share the store)."""
    if token in _WORLDS:
        return _WORLDS[token]
    features: dict[str, dict[str, Any]] = {
        "gated": {"constraints": [{"contextName": "plan", "operator": "IN", "values": ["pro"]}]},
        "rollout": {
            "name": "flexibleRollout",
            "parameters": {"rollout": "50", "stickiness": "default", "groupId": "rollout"},
        },
        "colours": {"variants": [_variant("red", "#f00"), _variant("blue", "#00f")]},
        "many-seats": {
            "constraints": [
                {"contextName": "seats", "operator": "NUM_GT", "values": [], "value": "5"}
            ]
        },
    }
    for name, strategy in features.items():
        await create_feature(client, token, name)
        await add_strategy(client, token, name, **strategy)
        await enable(client, token, name)
    await swedes(client, token)
    half = everyone_gets("split", "on", "segments/swedes")
    half["assignmentSpec"]["assignments"] = [
        {
            "assignmentId": "a",
            "variant": {"variant": "flags/split/variants/on"},
            "bucketRanges": [{"lower": 0, "upper": 5}],
        },
        {
            "assignmentId": "b",
            "variant": {"variant": "flags/split/variants/off"},
            "bucketRanges": [{"lower": 5, "upper": 10}],
        },
    ]
    secret = await confidence_flag(client, token, "split", rules=[half])
    _WORLDS[token] = World(
        front=await make_token(store, "tenant-a", scope="frontend:development", name="web"),
        ofrep=await make_token(store, "tenant-a", scope="ofrep:development", name="ofrep"),
        secret=secret,
    )
    return _WORLDS[token]


contexts = st.fixed_dictionaries(
    {
        # Any text a store can look up (OFREP refuses NUL and lone surrogates: tested apart).
        "targetingKey": st.sampled_from(["u1", "u2", "u3"])
        | st.text(
            st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
            min_size=1,
            max_size=12,
        ),
        "plan": st.sampled_from(["free", "pro", "PRO", ""]),
        "country": st.sampled_from(["SE", "NO"]),
        "seats": st.integers(0, 10),
    }
)


@settings(
    max_examples=examples(40),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(context=contexts)
async def test_ofrep_agrees_with_the_frontend_api_and_flags_resolve(
    client: httpx.AsyncClient, store: Store, token_a: str, context: dict[str, Any]
) -> None:
    w = await world(client, store, token_a)
    # The frontend API draws a random sessionId and takes the caller's address when none is
    # sent; OFREP does neither, so both are sent.
    fixed = {"sessionId": "s-1", "remoteAddress": "10.0.0.1"}
    r = await bulk(client, w.ofrep, {**context, **fixed})
    assert r.status_code == 200, r.text
    answers = {f["key"]: f for f in r.json()["flags"]}

    front_context = {
        "userId": context["targetingKey"],
        **fixed,
        "properties": {k: str(v) for k, v in context.items() if k != "targetingKey"},
    }
    r = await client.post(
        "/api/frontend", json={"context": front_context}, headers={"Authorization": w.front}
    )
    assert r.status_code == 200, r.text
    toggles = {t["name"]: t for t in r.json()["toggles"]}
    unleash = {k: a for k, a in answers.items() if a["metadata"]["namespace"] == "unleash"}
    assert {k for k, a in unleash.items() if a["value"] is True} == set(toggles)
    for name, toggle in toggles.items():
        if toggle["variant"]["enabled"]:
            assert unleash[name]["variant"] == toggle["variant"]["name"]
            payload = await evaluate(client, w.ofrep, f"{name}@payload", {**context, **fixed})
            assert payload.json()["value"] == toggle["variant"]["payload"]["value"]

    confidence_context = {k: v for k, v in context.items() if k != "targetingKey"}
    confidence_context["targeting_key"] = context["targetingKey"]
    r = await resolve(client, w.secret, confidence_context, ["flags/split"])
    assert r.status_code == 200, r.text
    [resolved] = r.json()["resolvedFlags"]
    mine = answers["split"]
    if resolved["variant"]:
        assert mine["variant"] == resolved["variant"].rsplit("/", 1)[1]
        assert mine["value"] == resolved["value"]
        assert mine["reason"] == "TARGETING_MATCH"
    else:
        assert "value" not in mine and mine["reason"] == "DEFAULT"
