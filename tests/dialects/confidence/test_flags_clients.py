"""Confidence's clients and credentials over HTTP on both backends: a secret is shown once and
stored only as its hash, credentials carry their environments, and deletes cascade."""

from __future__ import annotations

import httpx

from core.store import Store
from core.tokens import TokenService, hash_token
from tests.dialects.confidence.helpers import assert_status, auth

CLIENTS = "/v1/clients"


async def make_client(client: httpx.AsyncClient, token: str, name: str = "Web") -> str:
    r = await client.post(CLIENTS, json={"displayName": name}, headers=auth(token))
    assert r.status_code == 200, r.text
    made: str = r.json()["name"]
    return made


async def test_a_client_is_named_by_the_server(client: httpx.AsyncClient, token_a: str) -> None:
    r = await client.post(
        CLIENTS,
        json={"name": "clients/mine", "display_name": "iOS", "labels": {"os": "ios"}},
        headers=auth(token_a),
    )
    assert r.status_code == 200, r.text
    made = r.json()
    assert made["name"].startswith("clients/") and made["name"] != "clients/mine"
    assert made["displayName"] == "iOS" and made["labels"] == {"os": "ios"}
    assert made["creator"] == "identities/test"
    got = await client.get(f"/v1/{made['name']}", headers=auth(token_a))
    assert got.json() == made
    assert (await client.get(CLIENTS, headers=auth(token_a))).json() == {"clients": [made]}
    assert_status(await client.post(CLIENTS, json={}, headers=auth(token_a)), 400, 3)


async def test_a_credential_secret_is_shown_once_and_stored_hashed(
    client: httpx.AsyncClient, token_a: str, store: Store
) -> None:
    name = await make_client(client, token_a)
    r = await client.post(
        f"/v1/{name}/credentials",
        json={"displayName": "prod key", "environments": ["production"]},
        headers=auth(token_a),
    )
    assert r.status_code == 200, r.text
    made = r.json()
    secret = made["clientSecret"]["secret"]
    assert len(secret) == 32 and secret.isalnum()
    assert made["name"].startswith(f"{name}/credentials/")
    assert made["environments"] == ["production"]
    found = await store.credential_by_secret_hash(hash_token(secret))
    assert found is not None and found[:2] == ("tenant-a", name)
    assert found[2].name == made["name"]
    shown = {k: v for k, v in made.items() if k != "clientSecret"}
    got = await client.get(f"/v1/{made['name']}", headers=auth(token_a))
    assert got.json() == shown
    listed = await client.get(f"/v1/{name}/credentials", headers=auth(token_a))
    assert listed.json() == {"clientCredentials": [shown]}
    assert secret not in (await client.get(f"/v1/{name}", headers=auth(token_a))).text
    # A second credential has another secret.
    other = await client.post(
        f"/v1/{name}/credentials", json={"displayName": "k2"}, headers=auth(token_a)
    )
    assert other.json()["clientSecret"]["secret"] != secret
    assert "environments" not in other.json()
    assert (await client.delete(f"/v1/{made['name']}", headers=auth(token_a))).json() == {}
    assert await store.credential_by_secret_hash(hash_token(secret)) is None
    assert_status(await client.get(f"/v1/{made['name']}", headers=auth(token_a)), 404, 5)


async def test_bad_credentials_are_refused(client: httpx.AsyncClient, token_a: str) -> None:
    name = await make_client(client, token_a)
    url = f"/v1/{name}/credentials"
    assert_status(await client.post(url, json={}, headers=auth(token_a)), 400, 3)
    r = await client.post(
        url, json={"displayName": "k", "environments": ["a", "a"]}, headers=auth(token_a)
    )
    assert_status(r, 400, 3)
    r = await client.post(
        "/v1/clients/nobody/credentials", json={"displayName": "k"}, headers=auth(token_a)
    )
    assert_status(r, 404, 5)
    assert (await client.get(url, headers=auth(token_a))).json() == {"clientCredentials": []}


async def test_deleting_a_client_takes_it_off_flags(
    client: httpx.AsyncClient, token_a: str
) -> None:
    name = await make_client(client, token_a)
    r = await client.post(
        f"/v1/{name}/credentials", json={"displayName": "k"}, headers=auth(token_a)
    )
    assert r.status_code == 200
    flag = await client.post(
        "/v1/flags", params={"flagId": "f1"}, json={"clients": [name]}, headers=auth(token_a)
    )
    assert flag.json()["clients"] == [name]
    assert (await client.delete(f"/v1/{name}", headers=auth(token_a))).json() == {}
    assert "clients" not in (await client.get("/v1/flags/f1", headers=auth(token_a))).json()
    assert_status(await client.get(f"/v1/{name}", headers=auth(token_a)), 404, 5)
    assert_status(await client.delete(f"/v1/{name}", headers=auth(token_a)), 404, 5)


async def test_clients_are_per_tenant_and_writes_need_an_admin(
    client: httpx.AsyncClient, token_a: str, token_b: str, client_token_a: str
) -> None:
    name = await make_client(client, token_a)
    assert (await client.get(CLIENTS, headers=auth(token_b))).json() == {"clients": []}
    assert_status(await client.get(f"/v1/{name}", headers=auth(token_b)), 404, 5)
    assert_status(await client.delete(f"/v1/{name}", headers=auth(token_b)), 404, 5)
    r = await client.post(
        f"/v1/{name}/credentials", json={"displayName": "k"}, headers=auth(client_token_a)
    )
    assert_status(r, 403, 7)
    assert_status(await client.post(CLIENTS, json={"displayName": "x"}), 401, 16)


async def test_an_iam_access_token_administers_flags(
    client: httpx.AsyncClient, store: Store
) -> None:
    """Tooling's way in: client credentials at ``/v1/oauth/token``, then the admin API."""
    _, secret, _ = await TokenService(store).create_client(
        tenant="tenant-a", scope="admin", name="tooling", client_id="tooling-client"
    )
    r = await client.post(
        "/v1/oauth/token",
        json={
            "grantType": "client_credentials",
            "clientId": "tooling-client",
            "clientSecret": secret,
        },
    )
    access = r.json()["accessToken"]
    name = await make_client(client, access, "From tooling")
    r = await client.post(
        "/v1/flags", params={"flagId": "tooled"}, json={"clients": [name]}, headers=auth(access)
    )
    assert r.status_code == 200, r.text
    assert r.json()["creator"] == "identities/tooling"
    r = await client.post(
        f"/v1/{name}/credentials", json={"displayName": "k"}, headers=auth(access)
    )
    assert r.status_code == 200 and r.json()["clientSecret"]["secret"]
