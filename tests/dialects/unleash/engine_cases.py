"""The features and contexts the engine's agreement tests share: five features over two
segments (every strategy kind that does not depend on the machine, strategy variants with
payloads, a disabled strategy, a feature never turned on) made through the Unleash admin API,
and a table of contexts that reaches every answer they can give."""

from __future__ import annotations

from typing import Any

import httpx

from core.unleash_context import UnleashContext
from tests.dialects.unleash.helpers import (
    FEATURES,
    add_strategy,
    auth,
    create_feature,
    create_segment,
)

FEATURE_NAMES = ["checkout", "beta-banner", "dark-launch", "gradual", "office"]
VARIANTS = [
    {
        "name": "blue",
        "weight": 500,
        "weightType": "variable",
        "stickiness": "userId",
        "payload": {"type": "string", "value": "b"},
    },
    {
        "name": "red",
        "weight": 300,
        "weightType": "variable",
        "stickiness": "userId",
        "payload": {"type": "json", "value": '{"shade": 3}'},
    },
    {"name": "green", "weight": 200, "weightType": "fix", "stickiness": "userId"},
]
SERVED_VARIANTS = [
    {**VARIANTS[0], "weight": 400},
    VARIANTS[2],
    {**VARIANTS[1], "weight": 400},
]
"""``VARIANTS`` as Unleash 8.2 stores them: the 800 the fixed one leaves, shared; by name."""


async def turn_on(client: httpx.AsyncClient, token: str, feature: str) -> None:
    r = await client.post(f"{FEATURES}/{feature}/environments/development/on", headers=auth(token))
    assert r.status_code == 200, r.text


async def setup(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    """Five features over two segments, every strategy kind that needs no machine."""
    nordic = await create_segment(
        client,
        token,
        "nordic",
        [{"contextName": "country", "operator": "IN", "values": ["SE", "NO", "DK"]}],
    )
    paying = await create_segment(
        client,
        token,
        "paying",
        [
            {"contextName": "plan", "operator": "NOT_IN", "values": ["free"]},
            {"contextName": "appVersion", "operator": "SEMVER_GTE", "value": "2.0.0"},
        ],
    )
    await create_feature(client, token, "checkout")
    await add_strategy(
        client,
        token,
        "checkout",
        [nordic["id"]],
        name="flexibleRollout",
        parameters={"rollout": "60", "stickiness": "userId", "groupId": "checkout-exp"},
        variants=VARIANTS,
    )
    await add_strategy(
        client, token, "checkout", [paying["id"]], name="default", parameters={}, variants=[]
    )
    await turn_on(client, token, "checkout")

    await create_feature(client, token, "beta-banner")
    await add_strategy(
        client,
        token,
        "beta-banner",
        name="userWithId",
        parameters={"userIds": "u1, u2,u3"},
        constraints=[
            {
                "contextName": "email",
                "operator": "STR_ENDS_WITH",
                "values": ["@example.com"],
                "caseInsensitive": True,
            }
        ],
    )
    await turn_on(client, token, "beta-banner")

    await create_feature(client, token, "dark-launch")  # strategies, never turned on
    await add_strategy(client, token, "dark-launch")

    await create_feature(client, token, "gradual")
    await add_strategy(
        client,
        token,
        "gradual",
        [paying["id"]],
        name="gradualRolloutUserId",
        parameters={"percentage": "40", "groupId": "gradual"},
    )
    await turn_on(client, token, "gradual")

    await create_feature(client, token, "office")
    await add_strategy(
        client, token, "office", name="remoteAddress", parameters={"IPs": "10.0.0.0/8, 192.0.2.7"}
    )
    disabled = await add_strategy(client, token, "office", name="default", disabled=True)
    assert disabled["disabled"] is True
    await turn_on(client, token, "office")
    return {"nordic": nordic, "paying": paying}


def table() -> list[UnleashContext]:
    countries = ["SE", "NO", "ES", None]
    plans = ["free", "pro", None]
    versions = ["1.9.0", "2.0.0", "2.1.0-beta.1", "3.0.0"]
    emails = ["ana@EXAMPLE.com", "bob@other.org"]
    addresses = ["10.1.2.3", "192.0.2.7", "198.51.100.1", None]
    out = []
    for i in range(48):
        props = {"email": emails[i % 2], "appVersion": versions[i % 4]}
        country, plan = countries[i % 4], plans[i % 3]
        if country is not None:
            props["country"] = country
        if plan is not None:
            props["plan"] = plan
        out.append(
            UnleashContext(
                user_id=f"u{i}" if i % 7 else None,
                session_id=f"s{i}",
                remote_address=addresses[i % 4],
                app_name="web",
                environment="development",
                properties=props,
            )
        )
    return out


def ids_under_properties() -> list[UnleashContext]:
    """Contexts whose ``userId`` is only under ``properties`` (as a custom field would be)."""
    return [
        UnleashContext(
            session_id=f"p{i}",
            app_name="web",
            properties={
                "userId": f"u{i}",
                "email": "ana@example.com",
                "country": "SE",
                "plan": "pro",
                "appVersion": "2.0.0",
            },
        )
        for i in range(1, 9)
    ]
