"""A feature switched on in an environment whose strategies are all disabled, on both backends.

Unleash 8.2.0 never serves such a feature as on: disabling or deleting the last active strategy
switches the environment off, so ``/api/client/features`` carries it ``enabled: false`` with no
strategies. Served ``enabled: true`` with ``strategies: []``, the SDKs would answer on for every
user; segmux serves it off and its engine (the frontend API's answers) says off for everyone."""

from __future__ import annotations

from typing import Any

import httpx
from starlette.applications import Starlette

from core.model import Principal
from core.unleash_context import UnleashContext
from tests.dialects.unleash.helpers import add_strategy, auth, create_feature

MODERN = {"Unleash-Client-Spec": "5.2.0"}
SDK = Principal(tenant="tenant-a", scope="client:development", token_name="sdk")
ON = "/api/admin/projects/default/features/{}/environments/development/on"
CONTEXTS = [
    UnleashContext(user_id="u1", session_id="s1", app_name="web"),
    UnleashContext(session_id="s2"),
    UnleashContext(),
]


async def served(client: httpx.AsyncClient, token: str) -> dict[str, dict[str, Any]]:
    r = await client.get("/api/client/features", headers={**auth(token), **MODERN})
    assert r.status_code == 200, r.text
    return {f["name"]: f for f in r.json()["features"]}


async def answers(app: Starlette) -> dict[str, bool]:
    flags = app.state.services.flags
    seen: dict[str, set[bool]] = {}
    for context in CONTEXTS:
        for a in await flags.evaluate_features(SDK, "development", context):
            seen.setdefault(a.name, set()).add(a.enabled)
            if not a.enabled:
                assert (a.variant.name, a.variant.feature_enabled) == ("disabled", False)
    assert all(len(v) == 1 for v in seen.values()), seen
    return {name: next(iter(v)) for name, v in seen.items()}


async def switch_on(client: httpx.AsyncClient, token: str, name: str) -> None:
    r = await client.post(ON.format(name), headers=auth(token))
    assert r.status_code == 200, r.text


async def test_only_disabled_strategies_serve_off(
    client: httpx.AsyncClient, app: Starlette, token_a: str, client_token_a: str
) -> None:
    await create_feature(client, token_a, "dormant")
    await add_strategy(client, token_a, "dormant", disabled=True)
    await add_strategy(client, token_a, "dormant", disabled=True)
    await create_feature(client, token_a, "live")
    await add_strategy(client, token_a, "live", disabled=True)
    await add_strategy(client, token_a, "live")
    await create_feature(client, token_a, "bare")  # no strategies at all: on for everyone
    for name in ("dormant", "live", "bare"):
        await switch_on(client, token_a, name)

    features = await served(client, client_token_a)
    dormant = features["dormant"]
    assert (dormant["enabled"], dormant["strategies"]) == (False, [])
    live = features["live"]
    assert live["enabled"] is True
    assert [s["name"] for s in live["strategies"]] == ["default"]
    assert "disabled" not in live["strategies"][0]
    assert (features["bare"]["enabled"], features["bare"]["strategies"]) == (True, [])

    assert await answers(app) == {"dormant": False, "live": True, "bare": True}


async def test_the_admin_view_keeps_the_switch_and_the_strategies(
    client: httpx.AsyncClient, app: Starlette, token_a: str, client_token_a: str
) -> None:
    """Only what SDKs see changes: nothing stored is altered, and an active strategy added
    later makes the feature serve on again."""
    await create_feature(client, token_a, "dormant")
    await add_strategy(client, token_a, "dormant", disabled=True)
    await switch_on(client, token_a, "dormant")

    r = await client.get(
        "/api/admin/projects/default/features/dormant/environments/development",
        headers=auth(token_a),
    )
    assert r.status_code == 200, r.text
    assert r.json()["enabled"] is True
    assert [s["disabled"] for s in r.json()["strategies"]] == [True]
    assert (await served(client, client_token_a))["dormant"]["enabled"] is False
    assert await answers(app) == {"dormant": False}

    await add_strategy(client, token_a, "dormant")
    dormant = (await served(client, client_token_a))["dormant"]
    assert dormant["enabled"] is True
    assert len(dormant["strategies"]) == 1
    assert await answers(app) == {"dormant": True}
