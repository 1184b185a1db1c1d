"""The evaluation engine behind per-user answers (``FlagService.evaluate_features``), on both
backends: features, strategies (with variants) and segments made through the Unleash admin API
are evaluated as Yggdrasil — Unleash's SDK engine, fed the very ``/api/client/features`` body
segmux serves — evaluates them; a change is seen by the next evaluation; only tokens of the
environment (or admin tokens) may evaluate, and only their own tenant's features."""

from __future__ import annotations

import json
from typing import Any

import httpx
import msgspec
import pytest
from starlette.applications import Starlette

from core.errors import Forbidden
from core.model import Principal
from core.unleash_context import UnleashContext
from core.unleash_eval import FeatureAnswer
from core.unleash_variants import VariantAnswer
from tests import pg
from tests.dialects.unleash.engine_cases import (
    SERVED_VARIANTS,
    VARIANTS,
    ids_under_properties,
    setup,
    table,
    turn_on,
)
from tests.dialects.unleash.helpers import (
    FEATURES,
    WITH_MESSAGE,
    add_strategy,
    auth,
    create_feature,
    strategies_url,
)

ygg = pg.require("yggdrasil_engine.engine")

MODERN = {"Unleash-Client-Spec": "5.2.0"}
SDK = Principal(tenant="tenant-a", scope="client:development", token_name="sdk")


async def served(client: httpx.AsyncClient, client_token: str) -> dict[str, Any]:
    r = await client.get("/api/client/features", headers={**auth(client_token), **MODERN})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def services(app: Starlette) -> Any:
    return app.state.services


async def test_the_engine_agrees_with_yggdrasil_on_the_served_features(
    client: httpx.AsyncClient, app: Starlette, token_a: str, client_token_a: str
) -> None:
    await setup(client, token_a)
    body = await served(client, client_token_a)
    [checkout] = [f for f in body["features"] if f["name"] == "checkout"]
    # Strategy variants are served as Unleash 8.2 keeps them: "variable" weights share what the
    # "fix" ones leave of 1000, sorted by name; stickiness and payloads as written.
    assert checkout["strategies"][0]["variants"] == SERVED_VARIANTS
    assert checkout["strategies"][0]["parameters"]["groupId"] == "checkout-exp"

    engine = ygg.UnleashEngine()
    engine.take_state(json.dumps(body))
    flags = services(app).flags
    enabled_somewhere: set[str] = set()
    variants_seen: set[str] = set()
    for context in [*table(), *ids_under_properties()]:
        answers = await flags.evaluate_features(SDK, "development", context)
        assert [a.name for a in answers] == [f["name"] for f in body["features"]]
        theirs = msgspec.to_builtins(context)
        for a in answers:
            assert a.enabled == engine.is_enabled(a.name, theirs).is_enabled, (a, context)
            v = engine.get_variant(a.name, theirs).variant
            assert (a.variant.name, a.variant.enabled, a.variant.payload) == (
                v.name,
                v.enabled,
                v.payload,
            ), (a, context)
            assert a.variant.feature_enabled == a.enabled == v.feature_enabled
            if a.enabled:
                enabled_somewhere.add(a.name)
            variants_seen.add(a.variant.name)
    # The table reaches every branch that can be reached: not a vacuous agreement.
    assert enabled_somewhere == {"checkout", "beta-banner", "gradual", "office"}
    assert variants_seen == {"blue", "red", "green", "disabled"}


async def test_impression_data_and_the_disabled_variant(
    client: httpx.AsyncClient, app: Starlette, token_a: str
) -> None:
    r = await client.post(
        FEATURES, json={"name": "seen", "impressionData": True}, headers=auth(token_a)
    )
    assert r.status_code == 201, r.text
    await add_strategy(client, token_a, "seen")
    await turn_on(client, token_a, "seen")
    [answer] = await services(app).flags.evaluate_features(SDK, "development", UnleashContext())
    assert answer == FeatureAnswer(
        name="seen",
        enabled=True,
        impression_data=True,
        variant=VariantAnswer(name="disabled", enabled=False, feature_enabled=True),
    )


async def test_a_change_is_seen_by_the_next_evaluation(
    client: httpx.AsyncClient, app: Starlette, token_a: str
) -> None:
    segments = await setup(client, token_a)
    flags = services(app).flags
    ana = UnleashContext(user_id="ana", properties={"plan": "free", "appVersion": "2.0.0"})

    async def checkout() -> FeatureAnswer:
        [found] = [
            a
            for a in await flags.evaluate_features(SDK, "development", ana)
            if a.name == "checkout"
        ]
        return found

    assert not (await checkout()).enabled
    paying = segments["paying"]
    r = await client.put(
        f"/api/admin/segments/{paying['id']}",
        json={
            "name": "paying",
            "constraints": [{"contextName": "plan", "operator": "IN", "values": ["free"]}],
        },
        headers=auth(token_a),
    )
    assert r.status_code == 204, r.text
    assert (await checkout()).enabled
    r = await client.post(
        f"{FEATURES}/checkout/environments/development/off", headers=auth(token_a)
    )
    assert r.status_code == 200
    assert not (await checkout()).enabled
    r = await client.get(strategies_url("checkout"), headers=auth(token_a))
    assert r.status_code == 200 and len(r.json()) == 2


@pytest.mark.parametrize(
    ("scope", "allowed"),
    [
        ("admin", True),
        ("client:development", True),
        ("frontend:development", True),
        ("client:production", False),
        ("frontend:production", False),
    ],
)
async def test_only_tokens_of_the_environment_evaluate_it(
    client: httpx.AsyncClient, app: Starlette, token_a: str, scope: str, allowed: bool
) -> None:
    await setup(client, token_a)
    who = Principal(tenant="tenant-a", scope=scope, token_name="t")
    flags = services(app).flags
    if allowed:
        answers = await flags.evaluate_features(who, "development", UnleashContext())
        assert len(answers) == 5
    else:
        with pytest.raises(Forbidden):
            await flags.evaluate_features(who, "development", UnleashContext())


async def test_a_tenant_evaluates_only_its_own_features(
    client: httpx.AsyncClient, app: Starlette, token_a: str, token_b: str
) -> None:
    await setup(client, token_a)
    other = Principal(tenant="tenant-b", scope="client:development", token_name="sdk")
    assert await services(app).flags.evaluate_features(other, "development", UnleashContext()) == []


async def test_strategy_variant_weights_as_unleash_fixes_them(
    client: httpx.AsyncClient, token_a: str
) -> None:
    await create_feature(client, token_a, "split")
    made = await add_strategy(client, token_a, "split", variants=VARIANTS)
    assert made["variants"] == SERVED_VARIANTS
    thirds = [
        {"name": n, "weight": 0, "weightType": "variable", "stickiness": "default"}
        for n in ("b", "a", "C")
    ]
    made = await add_strategy(client, token_a, "split", variants=thirds)
    assert [(v["name"], v["weight"]) for v in made["variants"]] == [
        ("a", 333),
        ("b", 334),  # the remainder goes to the first variable variant as sent
        ("C", 333),
    ]
    only_fixed = [{"name": "x", "weight": 1000, "weightType": "fix", "stickiness": "default"}]
    for variants, message in [
        (only_fixed, 'There must be at least one "variable" variant'),
        (
            [
                *thirds,
                {**only_fixed[0], "weight": 600},
                {**only_fixed[0], "name": "y", "weight": 600},
            ],
            "The traffic distribution total must equal 100%",
        ),
    ]:
        r = await client.post(
            strategies_url("split"),
            json={"name": "default", "variants": variants},
            headers=auth(token_a),
        )
        assert r.status_code == 400, r.text
        assert r.json() == {
            "name": "BadDataError",
            "message": WITH_MESSAGE + message,
            "details": [{"message": message}],
        }


async def test_the_features_are_compiled_once_per_revision(
    client: httpx.AsyncClient, app: Starlette, token_a: str
) -> None:
    await setup(client, token_a)
    flags = services(app).flags
    first = await flags.feature_engine(SDK, "development")
    assert await flags.feature_engine(SDK, "development") is first  # nothing changed
    await create_feature(client, token_a, "late")
    second = await flags.feature_engine(SDK, "development")
    assert second is not first
    assert "late" in {f.name for f in second.features} - {f.name for f in first.features}
