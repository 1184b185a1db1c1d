"""``POST /ims/token/v3`` (client credentials) over HTTP, and the tokens it issues, on both
backends."""

from __future__ import annotations

import httpx
import pytest

from core.model import now_us
from core.store import Store
from core.tokens import TokenService, hash_token
from tests.dialects.adobe.common import DEFS, headers

TOKEN = "/ims/token/v3"
CLIENT = "0a1b2c3d4e5f"


@pytest.fixture
async def secret(store: Store) -> str:
    _, client_secret, _ = await TokenService(store).create_client(
        tenant="tenant-a", scope="admin", name="aepp", client_id=CLIENT
    )
    return client_secret


def form(**fields: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_id": CLIENT,
        "scope": "openid,AdobeID,read_organizations",
        **fields,
    }


def oauth(r: httpx.Response, status: int, error: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert set(body) == {"error", "error_description"}
    assert body["error"] == error
    assert r.headers["cache-control"] == "no-store"


async def test_client_credentials_give_a_bearer_token(
    client: httpx.AsyncClient, secret: str
) -> None:
    r = await client.post(TOKEN, data=form(client_secret=secret))
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 86399
    assert r.headers["cache-control"] == "no-store"
    access = body["access_token"]
    # It acts as the client's token, with its client id as the API key.
    r = await client.post(
        DEFS,
        json={
            "name": "x",
            "schema": {"name": "_xdm.context.profile"},
            "expression": {"type": "PQL", "format": "pql/text", "value": "a = 1"},
        },
        headers=headers(access, api_key=CLIENT),
    )
    assert r.status_code == 200, r.text
    r = await client.get(DEFS, headers=headers(access, api_key="someone-else"))
    assert r.json() == {"error_code": "403003", "message": "Api Key is invalid"}
    # And like any token of the tenant, in every dialect.
    r = await client.get("/v2.3/data/segments", headers={"Authorization": f"Bearer {access}"})
    assert r.json()["result"]["total"] == 1


async def test_each_call_issues_a_new_token(client: httpx.AsyncClient, secret: str) -> None:
    first = (await client.post(TOKEN, data=form(client_secret=secret))).json()["access_token"]
    second = (await client.post(TOKEN, data=form(client_secret=secret))).json()["access_token"]
    assert first != second
    for access in (first, second):
        assert (await client.get(DEFS, headers=headers(access, api_key=CLIENT))).status_code == 200


async def test_access_tokens_are_stored_hashed(
    client: httpx.AsyncClient, store: Store, secret: str
) -> None:
    access = (await client.post(TOKEN, data=form(client_secret=secret))).json()["access_token"]
    assert await store.principal_for_access_token(hash_token(access), now_us()) is not None
    assert await store.principal_for_access_token(access, now_us()) is None


async def test_wrong_secret_or_unknown_client_is_invalid_client(
    client: httpx.AsyncClient, secret: str
) -> None:
    oauth(await client.post(TOKEN, data=form(client_secret=secret + "x")), 401, "invalid_client")
    oauth(
        await client.post(TOKEN, data=form(client_id="nobody", client_secret=secret)),
        401,
        "invalid_client",
    )
    oauth(
        await client.post(TOKEN, data=form(client_id="a\x00b", client_secret=secret)),
        401,
        "invalid_client",
    )


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"grant_type": ""}, "invalid_request"),
        ({"grant_type": "authorization_code"}, "unsupported_grant_type"),
        ({"client_id": ""}, "invalid_request"),
        ({"client_secret": ""}, "invalid_request"),
    ],
)
async def test_bad_requests(
    client: httpx.AsyncClient, secret: str, fields: dict[str, str], error: str
) -> None:
    data = form(client_secret=secret) | fields
    oauth(await client.post(TOKEN, data=data), 400, error)


async def test_form_encoding_is_required(client: httpx.AsyncClient, secret: str) -> None:
    oauth(await client.post(TOKEN, json=form(client_secret=secret)), 400, "invalid_request")
    r = await client.post(
        TOKEN,
        content=b"grant_type=client_credentials&client_id=a&client_id=b&client_secret=s",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    oauth(r, 400, "invalid_request")
    r = await client.post(
        TOKEN,
        content=b"grant_type=\xff",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    oauth(r, 400, "invalid_request")


async def test_other_methods_and_paths(client: httpx.AsyncClient) -> None:
    r = await client.get(TOKEN)
    oauth(r, 405, "invalid_request")
    assert r.headers["allow"] == "POST"
    oauth(await client.post("/ims/token/v9", data=form(client_secret="x")), 404, "invalid_request")


async def test_expired_access_token_is_refused(
    client: httpx.AsyncClient, store: Store, secret: str
) -> None:
    await store.add_access_token(
        token_hash=hash_token("smx_expired"), client_id=CLIENT, expires_at=now_us() - 1
    )
    r = await client.get(DEFS, headers=headers("smx_expired", api_key=CLIENT))
    assert r.json() == {"error_code": "401013", "message": "Oauth token is not valid"}


async def test_revoking_the_token_revokes_its_access_tokens(
    client: httpx.AsyncClient, store: Store, secret: str
) -> None:
    access = (await client.post(TOKEN, data=form(client_secret=secret))).json()["access_token"]
    [info] = [t for t in await store.list_tokens("tenant-a") if t.client_id == CLIENT]
    await store.revoke_token(info.id)
    r = await client.get(DEFS, headers=headers(access, api_key=CLIENT))
    assert r.status_code == 401
    oauth(await client.post(TOKEN, data=form(client_secret=secret)), 401, "invalid_client")
