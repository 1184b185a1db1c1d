"""Unleash features and strategies (enough to give segments a use), on both backends."""

from __future__ import annotations

import httpx
import pytest

from core.store import Store
from tests.dialects.unleash.helpers import (
    FEATURES,
    WITH_MESSAGE,
    add_strategy,
    auth,
    create_feature,
    create_segment,
    strategies_url,
)


async def test_create_feature_is_201(client: httpx.AsyncClient, token_a: str) -> None:
    r = await client.post(
        FEATURES,
        json={"name": "new-ui", "type": "experiment", "description": "d", "impressionData": True},
        headers=auth(token_a),
    )
    assert r.status_code == 201
    body = r.json()
    assert {
        k: body[k]
        for k in ("name", "type", "description", "project", "stale", "impressionData", "archived")
    } == {
        "name": "new-ui",
        "type": "experiment",
        "description": "d",
        "project": "default",
        "stale": False,
        "impressionData": True,
        "archived": False,
    }
    assert body["createdAt"].endswith("Z")


async def test_create_feature_errors(client: httpx.AsyncClient, token_a: str) -> None:
    await create_feature(client, token_a, "taken")
    r = await client.post(FEATURES, json={"name": "taken"}, headers=auth(token_a))
    assert r.status_code == 409
    assert r.json()["name"] == "NameExistsError"
    assert r.json()["message"] == "A flag with that name already exists"
    r = await client.post(
        "/api/admin/projects/nope/features", json={"name": "x"}, headers=auth(token_a)
    )
    assert r.status_code == 404
    assert r.json()["message"] == "Active project with id nope does not exist"
    r = await client.post(FEATURES, json={"name": "not url friendly"}, headers=auth(token_a))
    assert r.status_code == 400
    assert r.json()["details"] == [
        {"message": '"name" must be URL friendly. You provided "not url friendly".'}
    ]
    r = await client.post(FEATURES, json={"name": "x", "type": "bogus"}, headers=auth(token_a))
    assert r.status_code == 400
    assert r.json()["details"][0]["path"] == "type"
    r = await client.post(FEATURES, json={}, headers=auth(token_a))
    assert r.status_code == 400
    r = await client.post(FEATURES, content=b"x", headers=auth(token_a))
    assert r.status_code == 415


async def test_strategy_crud(client: httpx.AsyncClient, token_a: str) -> None:
    seg = await create_segment(client, token_a, "s")
    await create_feature(client, token_a, "f1")
    created = await add_strategy(
        client,
        token_a,
        "f1",
        [seg["id"]],
        title="Beta",
        constraints=[{"contextName": "appName", "operator": "IN", "values": ["web"]}],
        parameters={"groupId": "g"},
    )
    assert len(created["id"]) == 26
    assert created["segments"] == [seg["id"]]
    assert created["sortOrder"] == 0
    assert created["title"] == "Beta"
    assert created["constraints"] == [
        {"values": ["web"], "contextName": "appName", "operator": "IN"}
    ]
    url = f"{strategies_url('f1')}/{created['id']}"
    assert (await client.get(url, headers=auth(token_a))).json() == created
    second = await add_strategy(client, token_a, "f1")
    assert second["sortOrder"] == 1
    listed = (await client.get(strategies_url("f1"), headers=auth(token_a))).json()
    assert [s["id"] for s in listed] == [created["id"], second["id"]]
    r = await client.put(
        url,
        json={"name": "flexibleRollout", "segments": [], "parameters": {"rollout": 50}},
        headers=auth(token_a),
    )
    assert r.status_code == 200
    updated = r.json()
    assert updated["segments"] == []
    assert updated["parameters"] == {"rollout": "50", "stickiness": "default", "groupId": "f1"}
    r = await client.delete(url, headers=auth(token_a))
    assert (r.status_code, r.content) == (200, b"")
    assert (await client.get(url, headers=auth(token_a))).status_code == 404


async def test_strategy_segment_rules(client: httpx.AsyncClient, token_a: str) -> None:
    await create_feature(client, token_a, "f1")
    segs = [await create_segment(client, token_a, f"s{i}") for i in range(6)]
    r = await client.post(
        strategies_url("f1"),
        json={"name": "default", "segments": [s["id"] for s in segs]},
        headers=auth(token_a),
    )
    assert r.status_code == 400
    assert r.json()["message"] == (WITH_MESSAGE + "Strategies may not have more than 5 segments")
    r = await client.post(
        strategies_url("f1"), json={"name": "default", "segments": [999]}, headers=auth(token_a)
    )
    assert r.status_code == 404
    assert (await client.get(strategies_url("f1"), headers=auth(token_a))).json() == []


async def test_strategy_constraints_are_validated(client: httpx.AsyncClient, token_a: str) -> None:
    await create_feature(client, token_a, "f1")
    r = await client.post(
        strategies_url("f1"),
        json={
            "name": "default",
            "constraints": [{"contextName": "a", "operator": "NUM_EQ", "value": "x"}],
        },
        headers=auth(token_a),
    )
    assert r.status_code == 400
    assert r.json()["details"] == [{"message": '"value" must be a number. You provided "x".'}]
    r = await client.post(
        strategies_url("f1"),
        json={
            "name": "default",
            "constraints": [
                {"contextName": "a", "operator": "IN", "values": [str(i) for i in range(251)]}
            ],
        },
        headers=auth(token_a),
    )
    assert r.status_code == 400
    assert r.json()["name"] == "ExceedsLimitError"
    assert r.json()["message"] == (
        "Failed to create constraint values for a. You can't "
        "create more than the established limit of 250."
    )


@pytest.mark.parametrize(
    "path",
    [
        "/api/admin/projects/default/features/nope/environments/development/strategies",
        "/api/admin/projects/other/features/f1/environments/development/strategies",
        "/api/admin/projects/default/features/f1/environments/staging/strategies",
    ],
)
async def test_strategies_of_unknown_feature_project_or_env_are_404(
    client: httpx.AsyncClient, token_a: str, path: str
) -> None:
    await create_feature(client, token_a, "f1")
    assert (await client.get(path, headers=auth(token_a))).status_code == 404
    r = await client.post(path, json={"name": "default"}, headers=auth(token_a))
    assert r.status_code == 404
    assert r.json()["name"] == "NotFoundError"


async def test_strategy_of_another_feature_is_404(client: httpx.AsyncClient, token_a: str) -> None:
    await create_feature(client, token_a, "f1")
    await create_feature(client, token_a, "f2")
    s = await add_strategy(client, token_a, "f1")
    for url in (
        f"{strategies_url('f2')}/{s['id']}",
        f"{strategies_url('f1', 'production')}/{s['id']}",
    ):
        assert (await client.get(url, headers=auth(token_a))).status_code == 404
        assert (await client.delete(url, headers=auth(token_a))).status_code == 404


async def test_on_and_off(client: httpx.AsyncClient, token_a: str, store: Store) -> None:
    await create_feature(client, token_a, "f1")
    base = f"{FEATURES}/f1/environments/production"
    r = await client.post(f"{base}/on", headers=auth(token_a))
    assert (r.status_code, r.content) == (200, b"")
    assert (await store.get_flag("tenant-a", "f1")).enabled == {"production": True}
    r = await client.post(f"{base}/off", headers=auth(token_a))
    assert r.status_code == 200
    assert (await store.get_flag("tenant-a", "f1")).enabled == {"production": False}
    r = await client.post(f"{FEATURES}/nope/environments/production/on", headers=auth(token_a))
    assert r.status_code == 404
    r = await client.post(f"{FEATURES}/f1/environments/staging/on", headers=auth(token_a))
    assert r.status_code == 404


async def test_features_need_an_admin_token(client: httpx.AsyncClient, client_token_a: str) -> None:
    r = await client.post(FEATURES, json={"name": "x"}, headers=auth(client_token_a))
    assert r.status_code == 403
    r = await client.post(FEATURES, json={"name": "x"})
    assert r.status_code == 401


async def test_out_of_range_numbers_and_nul_are_400_not_500(
    client: httpx.AsyncClient, token_a: str
) -> None:
    await create_feature(client, token_a, "f1")
    r = await client.post(
        strategies_url("f1"), json={"name": "default", "sortOrder": 10**30}, headers=auth(token_a)
    )
    assert r.status_code == 400
    r = await client.post(
        FEATURES, json={"name": "nul", "description": "a\u0000b"}, headers=auth(token_a)
    )
    assert r.status_code == 400
    r = await client.post(
        "/api/admin/segments",
        json={"name": "x", "constraints": [], "id": 10**30},
        headers=auth(token_a),
    )
    assert r.status_code == 400
    r = await client.get(f"{strategies_url('f1')}/a%00b", headers=auth(token_a))
    assert r.status_code == 404
    r = await client.post(
        "/api/admin/segments/strategies",
        json={
            "projectId": "default",
            "strategyId": "x",
            "environmentId": "development",
            "segmentIds": [10**30],
        },
        headers=auth(token_a),
    )
    assert r.status_code == 404
