"""The Unleash client API SDKs poll: segments by reference or inlined, ETags, tokens."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from core.store import Store
from tests.conftest import make_token
from tests.dialects.unleash.helpers import (
    FEATURES,
    SEGMENTS,
    WITH_MESSAGE,
    add_strategy,
    auth,
    create_feature,
    create_segment,
)

CLIENT = "/api/client/features"
MODERN = {"Unleash-Client-Spec": "5.2.0"}
BETA = [{"contextName": "userId", "operator": "IN", "values": ["u1"]}]


async def setup_feature(client: httpx.AsyncClient, token: str) -> tuple[dict[str, Any], str]:
    seg = await create_segment(client, token, "beta", BETA)
    await create_feature(client, token, "new-ui")
    strategy = await add_strategy(
        client,
        token,
        "new-ui",
        [seg["id"]],
        constraints=[{"contextName": "appName", "operator": "IN", "values": ["web"]}],
    )
    r = await client.post(f"{FEATURES}/new-ui/environments/development/on", headers=auth(token))
    assert r.status_code == 200
    return seg, strategy["id"]


async def poll(client: httpx.AsyncClient, token: str, **headers: str) -> httpx.Response:
    return await client.get(CLIENT, headers={**auth(token), **headers})


async def test_modern_spec_gets_segments_by_reference(
    client: httpx.AsyncClient, token_a: str, client_token_a: str
) -> None:
    seg, _ = await setup_feature(client, token_a)
    r = await poll(client, client_token_a, **MODERN)
    assert r.status_code == 200
    body = r.json()
    assert body["version"] == 2
    assert body["query"] == {"environment": "development", "inlineSegmentConstraints": False}
    assert body["segments"] == [
        {"id": seg["id"], "name": "beta", "constraints": seg["constraints"]}
    ]
    [feature] = body["features"]
    assert {
        k: feature[k]
        for k in (
            "name",
            "type",
            "enabled",
            "project",
            "stale",
            "impressionData",
            "variants",
            "description",
        )
    } == {
        "name": "new-ui",
        "type": "release",
        "enabled": True,
        "project": "default",
        "stale": False,
        "impressionData": False,
        "variants": [],
        "description": None,
    }
    [strategy] = feature["strategies"]
    assert "id" not in strategy
    assert strategy == {
        "name": "default",
        "parameters": {},
        "variants": [],
        "segments": [seg["id"]],
        "constraints": [{"values": ["web"], "contextName": "appName", "operator": "IN"}],
    }
    assert r.headers["etag"] == body["meta"]["etag"]
    assert r.headers["etag"].startswith('"') and r.headers["etag"].endswith(':v1"')


@pytest.mark.parametrize("spec", [None, "", "4.1.9", "4.2.0-beta.1", "3.0.0"])
async def test_old_or_no_spec_gets_segment_constraints_inlined(
    client: httpx.AsyncClient, token_a: str, client_token_a: str, spec: str | None
) -> None:
    seg, _ = await setup_feature(client, token_a)
    headers = {} if spec is None else {"Unleash-Client-Spec": spec}
    body = (await poll(client, client_token_a, **headers)).json()
    assert "segments" not in body
    assert body["query"]["inlineSegmentConstraints"] is True
    [strategy] = body["features"][0]["strategies"]
    assert "segments" not in strategy
    assert strategy["constraints"] == [
        {"values": ["web"], "contextName": "appName", "operator": "IN"},
        *seg["constraints"],
    ]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("abc", 'Invalid prefix in the Unleash-Client-Spec header: "abc".'),
        ("4.x", 'Invalid SemVer in the Unleash-Client-Spec header: "4.x".'),
    ],
)
async def test_bad_spec_header_is_400(
    client: httpx.AsyncClient, client_token_a: str, spec: str, message: str
) -> None:
    r = await poll(client, client_token_a, **{"Unleash-Client-Spec": spec})
    assert r.status_code == 400
    assert r.json() == {
        "name": "BadDataError",
        "message": WITH_MESSAGE + message,
        "details": [{"message": message}],
    }


async def test_if_none_match_is_304_until_anything_changes(
    client: httpx.AsyncClient, token_a: str, client_token_a: str
) -> None:
    seg, strategy_id = await setup_feature(client, token_a)
    etags = [(await poll(client, client_token_a, **MODERN)).headers["etag"]]

    async def unchanged() -> None:
        r = await poll(client, client_token_a, **MODERN, **{"If-None-Match": etags[-1]})
        assert (r.status_code, r.content) == (304, b"")
        assert r.headers["etag"] == etags[-1]

    async def changed() -> None:
        r = await poll(client, client_token_a, **MODERN, **{"If-None-Match": etags[-1]})
        assert r.status_code == 200
        assert r.headers["etag"] not in etags
        etags.append(r.headers["etag"])

    await unchanged()
    # a segment the feature uses
    r = await client.put(
        f"{SEGMENTS}/{seg['id']}",
        json={
            "name": "beta",
            "constraints": [{"contextName": "userId", "operator": "IN", "values": ["u2"]}],
        },
        headers=auth(token_a),
    )
    assert r.status_code == 204
    await changed()
    await unchanged()
    # a segment nothing uses yet
    other = await create_segment(client, token_a, "other")
    await changed()
    # the strategy's segment list
    r = await client.post(
        f"{SEGMENTS}/strategies",
        json={
            "projectId": "default",
            "strategyId": strategy_id,
            "environmentId": "development",
            "segmentIds": [seg["id"], other["id"]],
        },
        headers=auth(token_a),
    )
    assert r.status_code == 201
    await changed()
    # the feature's state
    await client.post(f"{FEATURES}/new-ui/environments/development/off", headers=auth(token_a))
    await changed()
    # a new feature
    await create_feature(client, token_a, "another")
    await changed()
    await unchanged()


async def test_etag_differs_by_spec_mode(
    client: httpx.AsyncClient, token_a: str, client_token_a: str
) -> None:
    await setup_feature(client, token_a)
    modern = (await poll(client, client_token_a, **MODERN)).headers["etag"]
    inline = await poll(client, client_token_a, **{"If-None-Match": modern})
    assert inline.status_code == 200
    assert inline.headers["etag"] != modern


async def test_only_the_tokens_environment_and_live_strategies(
    client: httpx.AsyncClient, token_a: str, store: Store, client_token_a: str
) -> None:
    await setup_feature(client, token_a)
    await add_strategy(client, token_a, "new-ui", env="production", name="userWithId")
    await add_strategy(client, token_a, "new-ui", name="remoteAddress", disabled=True)
    dev = (await poll(client, client_token_a, **MODERN)).json()
    assert [s["name"] for s in dev["features"][0]["strategies"]] == ["default"]
    prod_token = await make_token(store, "tenant-a", scope="client:production", name="prod")
    prod = (await poll(client, prod_token, **MODERN)).json()
    [feature] = prod["features"]
    assert feature["enabled"] is False
    assert [s["name"] for s in feature["strategies"]] == ["userWithId"]
    assert prod["segments"] == []
    assert prod["query"]["environment"] == "production"


async def test_query_filters_are_applied_and_echoed(
    client: httpx.AsyncClient, token_a: str, client_token_a: str
) -> None:
    await setup_feature(client, token_a)
    await create_feature(client, token_a, "other")
    body = (
        await client.get(
            CLIENT, params={"namePrefix": "new"}, headers={**auth(client_token_a), **MODERN}
        )
    ).json()
    assert [f["name"] for f in body["features"]] == ["new-ui"]
    assert body["query"]["namePrefix"] == "new"
    body = (
        await client.get(
            CLIENT, params={"project": "elsewhere"}, headers={**auth(client_token_a), **MODERN}
        )
    ).json()
    assert body["features"] == []
    assert body["query"]["project"] == ["elsewhere"]


async def test_one_client_feature(
    client: httpx.AsyncClient, token_a: str, client_token_a: str
) -> None:
    seg, _ = await setup_feature(client, token_a)
    r = await client.get(f"{CLIENT}/new-ui", headers={**auth(client_token_a), **MODERN})
    assert r.status_code == 200
    body = r.json()
    assert body["name"] == "new-ui"
    assert body["strategies"][0]["segments"] == [seg["id"]]
    assert "segments" not in body
    inline = (await client.get(f"{CLIENT}/new-ui", headers=auth(client_token_a))).json()
    assert inline["strategies"][0]["constraints"][-1] == seg["constraints"][0]
    r = await client.get(f"{CLIENT}/nope", headers=auth(client_token_a))
    assert r.status_code == 404
    assert r.json()["name"] == "NotFoundError"


async def test_client_api_tokens(
    client: httpx.AsyncClient, token_a: str, client_token_a: str
) -> None:
    message = (
        "This endpoint requires an API token. Please add an authorization header to your "
        "request with a valid token"
    )
    for headers in ({}, auth("default:development.nope")):
        r = await client.get(CLIENT, headers=headers)
        assert r.status_code == 401
        assert r.json() == {"message": message}
    r = await client.get(CLIENT, headers=auth(token_a))
    assert r.status_code == 403
    assert r.json() == {
        "message": "invalid token: expected a different token type for this endpoint"
    }
    r = await client.get(CLIENT, headers={"Authorization": f"Bearer {client_token_a}"})
    assert r.status_code == 200


async def test_tenants_do_not_mix(client: httpx.AsyncClient, token_a: str, store: Store) -> None:
    await setup_feature(client, token_a)
    other = await make_token(store, "tenant-b", scope="client:development", name="sdk")
    body = (await poll(client, other, **MODERN)).json()
    assert (body["features"], body["segments"]) == ([], [])


REGISTER = {
    "appName": "app",
    "instanceId": "i",
    "sdkVersion": "unleash-client-python:6.9.1",
    "strategies": ["default"],
    "started": "2024-01-01T00:00:00Z",
    "interval": 15,
}


async def test_register_and_metrics_are_202(client: httpx.AsyncClient, client_token_a: str) -> None:
    r = await client.post("/api/client/register", json=REGISTER, headers=auth(client_token_a))
    assert (r.status_code, r.content) == (202, b"")
    metrics = {
        "appName": "app",
        "instanceId": "i",
        "bucket": {
            "start": "2024-01-01T00:00:00Z",
            "stop": "2024-01-01T01:00:00Z",
            "toggles": {"new-ui": {"yes": 3, "no": 1, "variants": {}}},
        },
    }
    r = await client.post("/api/client/metrics", json=metrics, headers=auth(client_token_a))
    assert r.status_code == 202


async def test_register_and_metrics_errors(client: httpx.AsyncClient, client_token_a: str) -> None:
    r = await client.post(
        "/api/client/register", json={**REGISTER, "appName": ""}, headers=auth(client_token_a)
    )
    assert r.status_code == 400
    assert r.json()["details"][0]["path"] == "/body/appName"
    r = await client.post("/api/client/metrics", json={}, headers=auth(client_token_a))
    assert r.status_code == 400
    r = await client.post("/api/client/register", json=REGISTER)
    assert r.status_code == 401
    r = await client.post(
        "/api/client/metrics",
        content=b"x",
        headers={**auth(client_token_a), "Content-Type": "text/plain"},
    )
    assert r.status_code == 415
