"""Unleash's frontend API (``/api/frontend``) over HTTP, on both backends: frontend tokens, the
context as Unleash builds it from a query or a body, the enabled toggles with their variants,
ETags, and answers that are never kept (they depend on the clock and on the caller)."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import httpx
import pytest

from core.store import Store
from dialects.unleash.errors import CLIENT_TOKEN_REQUIRED, WRONG_TOKEN_KIND
from tests.conftest import make_token
from tests.dialects.unleash.helpers import (
    FEATURES,
    WITH_MESSAGE,
    add_strategy,
    auth,
    create_feature,
    create_segment,
    without_id,
)

FRONTEND = "/api/frontend"
BETA = [{"contextName": "userId", "operator": "IN", "values": ["u1", "u3"]}]
DISABLED = {
    "name": "disabled",
    "enabled": False,
    "feature_enabled": True,
    "featureEnabled": True,
}


@pytest.fixture
async def front_a(store: Store) -> str:
    return await make_token(store, "tenant-a", scope="frontend:development", name="web")


async def enable(
    client: httpx.AsyncClient, token: str, feature: str, env: str = "development"
) -> None:
    r = await client.post(f"{FEATURES}/{feature}/environments/{env}/on", headers=auth(token))
    assert r.status_code == 200, r.text


async def beta_feature(client: httpx.AsyncClient, token: str, name: str = "new-ui") -> int:
    """``name``, on in development for the users of the segment ``beta`` (u1, u3)."""
    seg = await create_segment(client, token, f"beta-{name}", BETA)
    await create_feature(client, token, name)
    await add_strategy(client, token, name, [seg["id"]])
    await enable(client, token, name)
    return int(seg["id"])


async def toggles(client: httpx.AsyncClient, token: str, **params: str) -> list[dict[str, Any]]:
    r = await client.get(FRONTEND, params=params, headers=auth(token))
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()["toggles"]
    return found


def names(found: list[dict[str, Any]]) -> list[str]:
    return [t["name"] for t in found]


# --- tokens --------------------------------------------------------------------------------


async def test_a_frontend_token_gets_the_enabled_toggles_of_its_users(
    client: httpx.AsyncClient, token_a: str, front_a: str
) -> None:
    await beta_feature(client, token_a)
    await create_feature(client, token_a, "off-everywhere")
    r = await client.get(FRONTEND, params={"userId": "u1"}, headers=auth(front_a))
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    assert r.headers["cache-control"] == "no-cache"
    assert r.json() == {
        "toggles": [
            {"name": "new-ui", "enabled": True, "variant": DISABLED, "impressionData": False}
        ]
    }
    assert await toggles(client, front_a, userId="u2") == []
    assert await toggles(client, front_a) == []  # no userId: not in the segment


async def test_no_token_or_an_unknown_one_is_a_401(client: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": "not-a-token"}, {"Authorization": "Bearer nope"}):
        r = await client.get(FRONTEND, headers=headers)
        assert r.status_code == 401, headers
        assert r.json() == {"message": CLIENT_TOKEN_REQUIRED}


async def test_admin_and_client_tokens_are_the_wrong_kind(
    client: httpx.AsyncClient, token_a: str, client_token_a: str
) -> None:
    for token in (token_a, client_token_a):
        for method, path in (
            ("GET", FRONTEND),
            ("POST", FRONTEND),
            ("POST", f"{FRONTEND}/client/metrics"),
        ):
            r = await client.request(method, path, json={}, headers=auth(token))
            assert r.status_code == 403, (path, r.text)
            assert r.json() == {"message": WRONG_TOKEN_KIND}


async def test_a_frontend_token_is_refused_by_the_other_unleash_apis(
    client: httpx.AsyncClient, token_a: str, front_a: str
) -> None:
    await beta_feature(client, token_a)
    for method, path in (
        ("GET", "/api/admin/segments"),
        ("POST", "/api/admin/segments"),
        ("GET", "/api/client/features"),
        ("POST", "/api/client/metrics"),
    ):
        r = await client.request(method, path, json={"name": "x"}, headers=auth(front_a))
        assert r.status_code == 403, (path, r.text)
        assert r.json() == {"message": WRONG_TOKEN_KIND}


async def test_the_token_sees_only_its_environment_and_tenant(
    client: httpx.AsyncClient, store: Store, token_a: str, token_b: str, front_a: str
) -> None:
    await create_feature(client, token_a, "prod-only")
    await add_strategy(client, token_a, "prod-only", env="production")
    await enable(client, token_a, "prod-only", "production")
    await create_feature(client, token_b, "of-b")
    await add_strategy(client, token_b, "of-b")
    await enable(client, token_b, "of-b")
    assert await toggles(client, front_a, userId="u1") == []
    front_prod = await make_token(store, "tenant-a", scope="frontend:production", name="p")
    assert names(await toggles(client, front_prod)) == ["prod-only"]
    front_b = await make_token(store, "tenant-b", scope="frontend:development", name="b")
    assert names(await toggles(client, front_b)) == ["of-b"]


# --- the context ---------------------------------------------------------------------------


async def test_root_fields_properties_and_post_bodies(
    client: httpx.AsyncClient, token_a: str, front_a: str
) -> None:
    sweden = [{"contextName": "country", "operator": "IN", "values": ["SE"]}]
    seg = await create_segment(client, token_a, "swedes", sweden)
    await create_feature(client, token_a, "fika")
    await add_strategy(client, token_a, "fika", [seg["id"]])
    await enable(client, token_a, "fika")
    # A field that is not a root one goes under properties, as Unleash's create-context does;
    # properties[k]=v lands there too, and wins over a root field of the same name.
    assert names(await toggles(client, front_a, country="SE")) == ["fika"]
    assert names(await toggles(client, front_a, **{"properties[country]": "SE"})) == ["fika"]
    assert await toggles(client, front_a, country="SE", **{"properties[country]": "NO"}) == []
    assert await toggles(client, front_a, country="NO") == []
    for body in (
        {"context": {"properties": {"country": "SE"}}},
        {"context": {"country": "SE", "userId": "u9"}},
    ):
        r = await client.post(FRONTEND, json=body, headers=auth(front_a))
        assert r.status_code == 200, r.text
        assert names(r.json()["toggles"]) == ["fika"]
    r = await client.post(FRONTEND, json={"context": {"country": "NO"}}, headers=auth(front_a))
    assert r.json() == {"toggles": []}
    # No body, or no context: an empty context.
    r = await client.post(FRONTEND, json={}, headers=auth(front_a))
    assert r.status_code == 200 and r.json() == {"toggles": []}


async def test_user_ids_in_posts_are_coerced_as_unleash_does(
    client: httpx.AsyncClient, token_a: str, front_a: str
) -> None:
    seg = await create_segment(
        client, token_a, "ids", [{"contextName": "userId", "operator": "IN", "values": ["42"]}]
    )
    await create_feature(client, token_a, "answer")
    await add_strategy(client, token_a, "answer", [seg["id"]])
    await enable(client, token_a, "answer")
    r = await client.post(FRONTEND, json={"context": {"userId": 42}}, headers=auth(front_a))
    assert r.status_code == 200, r.text
    assert names(r.json()["toggles"]) == ["answer"]


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ([("userId", "a"), ("userId", "b")], "the context field 'userId' is given more than once"),
        (
            [("properties[x]", "a"), ("properties[x]", "b")],
            "the context field 'properties[x]' is given more than once",
        ),
        ([("properties", "x")], "properties go one by one, as properties[name]=value"),
        (
            [("a[b]", "x")],
            "'a[b]' is not a context field (properties go as properties[name])",
        ),
    ],
)
async def test_a_query_no_context_can_mean_is_a_400(
    client: httpx.AsyncClient, front_a: str, params: list[tuple[str, str]], reason: str
) -> None:
    r = await client.get(FRONTEND, params=params, headers=auth(front_a))
    assert r.status_code == 400
    assert r.json() == {
        "name": "BadDataError",
        "message": WITH_MESSAGE + reason,
        "details": [{"message": reason}],
    }


@pytest.mark.parametrize(
    ("context", "path", "said"),
    [
        ({"userId": {"a": 1}}, "/body/context/userId", "must be string"),
        ({"properties": {"x": ["a"]}}, "/body/context/properties/x", "must be string"),
        ({"properties": "x"}, "/body/context/properties", "must be object"),
        ({"age": 30}, "/body/context/age", "must be string"),
        ({"appName": ""}, "/body/context/appName", "must NOT have fewer than 1 characters"),
        (
            {"currentTime": "yesterday"},
            "/body/context/currentTime",
            'must match format "date-time"',
        ),
        (
            {"currentTime": "2024-01-01T12:99:00Z"},
            "/body/context/currentTime",
            'must match format "date-time"',
        ),
    ],
)
async def test_a_post_context_no_strategy_can_mean_is_a_400(
    client: httpx.AsyncClient, front_a: str, context: dict[str, Any], path: str, said: str
) -> None:
    r = await client.post(FRONTEND, json={"context": context}, headers=auth(front_a))
    assert r.status_code == 400, r.text
    body = without_id(r.json(), has_id=True)
    assert body["name"] == "BadDataError"
    [detail] = body["details"]
    assert detail["path"] == path
    assert detail["message"].startswith(f"The `{path}` property {said}.")


async def test_posts_need_json(client: httpx.AsyncClient, front_a: str) -> None:
    r = await client.post(
        FRONTEND, content=b"userId=u1", headers={**auth(front_a), "Content-Type": "text/plain"}
    )
    assert r.status_code == 415
    assert without_id(r.json(), has_id=True)["name"] == "ContentTypeError"
    r = await client.post(
        FRONTEND,
        content=b'{"context": ',
        headers={**auth(front_a), "Content-Type": "application/json"},
    )
    assert r.status_code == 400
    assert r.json() == {"message": "Unexpected end of JSON input"}


async def test_remote_address_defaults_to_the_caller(
    store: Store, app: Any, client: httpx.AsyncClient, token_a: str, front_a: str
) -> None:
    await create_feature(client, token_a, "office")
    body = {"name": "remoteAddress", "parameters": {"IPs": "10.1.2.3"}}
    r = await client.post(
        f"{FEATURES}/office/environments/development/strategies", json=body, headers=auth(token_a)
    )
    assert r.status_code == 200, r.text
    await enable(client, token_a, "office")
    async with peer(app, "10.1.2.3") as inside, peer(app, "10.9.9.9") as outside:
        # The very same request (same bytes, same revision) from two addresses: two answers,
        # so no kept answer may serve one for the other.
        for _ in range(2):
            assert names(await toggles(inside, front_a)) == ["office"]
            assert await toggles(outside, front_a) == []
        # A remoteAddress sent in the context is used instead.
        assert await toggles(inside, front_a, remoteAddress="10.9.9.9") == []
        assert names(await toggles(outside, front_a, remoteAddress="10.1.2.3")) == ["office"]
    assert app.state.services.answers.hits == 0


async def test_case_insensitive_lower_cases_as_the_sdks_engine_does(
    client: httpx.AsyncClient, token_a: str, front_a: str
) -> None:
    # Yggdrasil lower-cases for caseInsensitive; Unicode case folding would also match "ss"
    # against "ß" and a ligature against its letters, which no SDK does.
    street = [
        {
            "contextName": "street",
            "operator": "STR_CONTAINS",
            "values": ["straße"],
            "caseInsensitive": True,
        }
    ]
    await create_feature(client, token_a, "street")
    await add_strategy(client, token_a, "street", constraints=street)
    await enable(client, token_a, "street")
    for value, on in (("HAUPTSTRAẞE", True), ("Hauptstraße", True), ("HAUPTSTRASSE", False)):
        assert names(await toggles(client, front_a, street=value)) == (["street"] if on else [])


async def test_a_date_constraint_turns_on_without_any_write(
    app: Any, client: httpx.AsyncClient, token_a: str, front_a: str
) -> None:
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1.5)
    stamp = soon.strftime("%Y-%m-%dT%H:%M:%S.") + f"{soon.microsecond // 1000:03d}Z"
    after = [{"contextName": "currentTime", "operator": "DATE_AFTER", "value": stamp}]
    await create_feature(client, token_a, "launch")
    await add_strategy(client, token_a, "launch", constraints=after)
    await enable(client, token_a, "launch")
    r1 = await client.get(FRONTEND, params={"sessionId": "s"}, headers=auth(front_a))
    assert r1.json() == {"toggles": []}
    await asyncio.sleep(max(0.0, (soon - dt.datetime.now(dt.UTC)).total_seconds()) + 0.1)
    r2 = await client.get(FRONTEND, params={"sessionId": "s"}, headers=auth(front_a))
    assert names(r2.json()["toggles"]) == ["launch"]
    assert r1.headers["etag"] != r2.headers["etag"]
    assert app.state.services.answers.hits == 0


async def test_the_clock_is_the_servers_and_properties_stand_in_for_fields(
    client: httpx.AsyncClient, token_a: str, front_a: str
) -> None:
    """As Unleash 8.2.0 answers (observed): a ``currentTime`` sent by the page does not move
    the clock date constraints compare with, while a constraint on ``userId`` is met by a
    ``properties[userId]`` when no root ``userId`` is sent."""
    after = [
        {
            "contextName": "currentTime",
            "operator": "DATE_AFTER",
            "value": "2029-01-01T00:00:00.000Z",
        }
    ]
    await create_feature(client, token_a, "future")
    await add_strategy(client, token_a, "future", constraints=after)
    await enable(client, token_a, "future")
    u9 = [{"contextName": "userId", "operator": "IN", "values": ["u9"]}]
    await create_feature(client, token_a, "by-constraint")
    await add_strategy(client, token_a, "by-constraint", constraints=u9)
    await enable(client, token_a, "by-constraint")
    late = "2030-01-01T00:00:00.000Z"
    assert await toggles(client, front_a, currentTime=late) == []
    assert await toggles(client, front_a, **{"properties[currentTime]": late}) == []
    r = await client.post(FRONTEND, json={"context": {"currentTime": late}}, headers=auth(front_a))
    assert r.json() == {"toggles": []}
    assert names(await toggles(client, front_a, **{"properties[userId]": "u9"})) == [
        "by-constraint"
    ]
    assert names(await toggles(client, front_a, userId="u9")) == ["by-constraint"]


# --- what the answer says, and when it changes ---------------------------------------------


async def test_strategy_variants_reach_the_frontend(
    client: httpx.AsyncClient, token_a: str, front_a: str
) -> None:
    await create_feature(client, token_a, "colour")
    variant = {
        "name": "blue",
        "weight": 1000,
        "weightType": "variable",
        "stickiness": "default",
        "payload": {"type": "string", "value": "b"},
    }
    await add_strategy(client, token_a, "colour", variants=[variant])
    await enable(client, token_a, "colour")
    [toggle] = await toggles(client, front_a, userId="u1")
    # Unleash 8.2.0's exact bytes, key order included (payload before feature_enabled).
    assert list(toggle["variant"].items()) == [
        ("name", "blue"),
        ("enabled", True),
        ("payload", {"type": "string", "value": "b"}),
        ("feature_enabled", True),
        ("featureEnabled", True),
    ]


async def test_etags_304_and_a_change_seen_on_the_next_request(
    client: httpx.AsyncClient, token_a: str, front_a: str
) -> None:
    await beta_feature(client, token_a)
    query = {"userId": "u1", "sessionId": "s1"}
    r = await client.get(FRONTEND, params=query, headers=auth(front_a))
    etag = r.headers["etag"]
    assert etag.startswith('W/"')
    again = await client.get(
        FRONTEND, params=query, headers={**auth(front_a), "If-None-Match": etag}
    )
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["cache-control"] == "no-cache"
    # A POST (the SDK's usePOSTrequests) always gets the body, as from Express: same ETag.
    posted = await client.post(
        FRONTEND,
        json={"context": query},
        headers={**auth(front_a), "If-None-Match": etag},
    )
    assert posted.status_code == 200 and posted.headers["etag"] == etag
    # Another user's answer is another body, so the SDK's ETag does not match it.
    other = await client.get(
        FRONTEND, params={"userId": "u2"}, headers={**auth(front_a), "If-None-Match": etag}
    )
    assert other.status_code == 200 and other.json() == {"toggles": []}
    # Switched off: the very next request shows it, and the old ETag no longer matches.
    r = await client.post(f"{FEATURES}/new-ui/environments/development/off", headers=auth(token_a))
    assert r.status_code == 200
    after = await client.get(
        FRONTEND, params=query, headers={**auth(front_a), "If-None-Match": etag}
    )
    assert after.status_code == 200
    assert after.json() == {"toggles": []}
    assert after.headers["etag"] != etag


async def test_a_segment_change_is_seen_on_the_next_request(
    client: httpx.AsyncClient, token_a: str, front_a: str
) -> None:
    seg = await beta_feature(client, token_a)
    assert await toggles(client, front_a, userId="u2") == []
    r = await client.put(
        f"/api/admin/segments/{seg}",
        json={
            "name": "beta-new-ui",
            "constraints": [{"contextName": "userId", "operator": "IN", "values": ["u2"]}],
        },
        headers=auth(token_a),
    )
    assert r.status_code == 204, r.text
    assert names(await toggles(client, front_a, userId="u2")) == ["new-ui"]
    assert await toggles(client, front_a, userId="u1") == []


async def test_impression_data_is_carried(
    client: httpx.AsyncClient, token_a: str, front_a: str
) -> None:
    r = await client.post(
        FEATURES, json={"name": "seen", "impressionData": True}, headers=auth(token_a)
    )
    assert r.status_code == 201, r.text
    await add_strategy(client, token_a, "seen")
    await enable(client, token_a, "seen")
    [toggle] = await toggles(client, front_a)
    assert toggle["impressionData"] is True


# --- the other routes ----------------------------------------------------------------------

METRICS = {
    "appName": "web",
    "instanceId": "browser",
    "bucket": {
        "start": "2026-01-01T00:00:00.000Z",
        "stop": "2026-01-01T00:01:00.000Z",
        "toggles": {"new-ui": {"yes": 3, "no": 0, "variants": {}}},
    },
}
REGISTER = {
    "appName": "web",
    "interval": 30000,
    "started": "2026-01-01T00:00:00Z",
    "strategies": [],
}


async def test_metrics_and_registrations_are_accepted(
    client: httpx.AsyncClient, front_a: str
) -> None:
    for path, body in (("client/metrics", METRICS), ("client/register", REGISTER)):
        r = await client.post(f"{FRONTEND}/{path}", json=body, headers=auth(front_a))
        assert r.status_code == 200, r.text
        assert r.text == "OK"
        r = await client.post(f"{FRONTEND}/{path}", json={"bucket": 1}, headers=auth(front_a))
        assert r.status_code == 400
        assert without_id(r.json(), has_id=True)["name"] == "BadDataError"


async def test_what_the_frontend_api_does_not_serve(
    client: httpx.AsyncClient, front_a: str
) -> None:
    for path in ("client/features", "health"):
        r = await client.get(f"{FRONTEND}/{path}", headers=auth(front_a))
        assert r.status_code == 405
        assert without_id(r.json(), has_id=True) == {
            "name": "NotImplementedError",
            "message": "The frontend API does not support this endpoint.",
            "details": [{"message": "The frontend API does not support this endpoint."}],
        }
    r = await client.get(f"{FRONTEND}/nothing-here", headers=auth(front_a))
    assert r.status_code == 404
    assert without_id(r.json(), has_id=True)["name"] == "NotFoundError"
    r = await client.delete(FRONTEND, headers=auth(front_a))
    assert r.status_code == 404


async def test_the_older_proxy_path_is_gone_as_in_unleash_8_2(
    client: httpx.AsyncClient, token_a: str, front_a: str
) -> None:
    await beta_feature(client, token_a)
    for path in ("/api/proxy", "/api/proxy/client/metrics"):
        r = await client.get(path, params={"userId": "u1"}, headers=auth(front_a))
        assert r.status_code == 404
        assert without_id(r.json(), has_id=True) == {
            "name": "NotFoundError",
            "message": f"The path you were looking for ({path}) is not available.",
            "details": [{"message": f"The path you were looking for ({path}) is not available."}],
        }


def peer(app: Any, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://segmux.test")
