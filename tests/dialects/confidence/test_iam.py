"""``POST /v1/oauth/token``: Confidence's IAM client-credentials grant, over the OAuth clients
the Adobe IMS endpoint shares (``core.tokens.TokenService.issue_access_token``)."""

from __future__ import annotations

import httpx
import pytest

from core.store import Store
from core.tokens import TokenService
from tests.dialects.confidence.helpers import BASE, assert_status, auth

TOKEN_URL = "/v1/oauth/token"


@pytest.fixture
async def credentials(store: Store) -> tuple[str, str]:
    _, secret, _ = await TokenService(store).create_client(
        tenant="tenant-a", scope="admin", name="tooling", client_id="tooling-client"
    )
    return "tooling-client", secret


async def test_client_credentials_give_an_access_token(
    client: httpx.AsyncClient, credentials: tuple[str, str]
) -> None:
    client_id, secret = credentials
    r = await client.post(
        TOKEN_URL,
        json={"grantType": "client_credentials", "clientId": client_id, "clientSecret": secret},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert list(body) == ["accessToken", "expiresIn"]
    # int64 as a string; the lifetime is the one the shared access tokens have (about a day)
    assert body["expiresIn"].isdigit() and 86_000 < int(body["expiresIn"]) <= 86_400
    created = await client.post(
        BASE, params={"segmentId": "by-tool"}, json={}, headers=auth(body["accessToken"])
    )
    assert created.status_code == 200
    assert created.json()["creator"] == "identities/tooling"


async def test_snake_case_credentials(
    client: httpx.AsyncClient, credentials: tuple[str, str]
) -> None:
    client_id, secret = credentials
    r = await client.post(
        TOKEN_URL,
        json={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert r.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"clientId": "tooling-client", "clientSecret": "wrong"},
        {"clientId": "nobody", "clientSecret": "x"},
        {},
    ],
)
async def test_bad_credentials_are_unauthenticated(
    client: httpx.AsyncClient, credentials: tuple[str, str], body: dict[str, str]
) -> None:
    assert_status(await client.post(TOKEN_URL, json=body), 401, 16)


@pytest.mark.parametrize("body", [{"grantType": "password"}, {"clientId": 5}, {"other": 1}])
async def test_bad_requests(client: httpx.AsyncClient, body: dict[str, object]) -> None:
    assert_status(await client.post(TOKEN_URL, json=body), 400, 3)


async def test_a_token_needs_a_json_body(client: httpx.AsyncClient) -> None:
    assert_status(await client.post(TOKEN_URL, content=b"x"), 400, 3)
    assert_status(await client.get(TOKEN_URL), 404, 5)
