"""Adobe's gateway checks over HTTP, on both backends: every required header, its error body,
the check order, the IMS org rule and the content type."""

from __future__ import annotations

import httpx
import pytest

from core.store import Store
from core.tokens import TokenService
from tests.conftest import make_token
from tests.dialects.adobe.common import DEFS, ORG_A, SEED_BODY, create, headers, service_error


def gateway(r: httpx.Response, status: int, code: str, message: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"error_code": code, "message": message}


async def test_no_authorization_is_403010(client: httpx.AsyncClient) -> None:
    h = headers("x")
    del h["Authorization"]
    gateway(await client.get(DEFS, headers=h), 401, "403010", "Oauth token is missing.")


async def test_not_a_bearer_token_counts_as_missing(
    client: httpx.AsyncClient, token_a: str
) -> None:
    h = headers(token_a) | {"Authorization": f"Basic {token_a}"}
    gateway(await client.get(DEFS, headers=h), 401, "403010", "Oauth token is missing.")


async def test_unknown_token_is_401013(client: httpx.AsyncClient) -> None:
    gateway(
        await client.get(DEFS, headers=headers("smx_nope")),
        401,
        "401013",
        "Oauth token is not valid",
    )


async def test_bearer_scheme_is_case_insensitive(client: httpx.AsyncClient, token_a: str) -> None:
    # aepp's ConnectObject sends "bearer <token>".
    h = headers(token_a) | {"Authorization": f"bearer {token_a}"}
    assert (await client.get(DEFS, headers=h)).status_code == 200


async def test_no_api_key_is_403000(client: httpx.AsyncClient, token_a: str) -> None:
    gateway(
        await client.get(DEFS, headers=headers(token_a, api_key=None)),
        403,
        "403000",
        "Api Key is required",
    )


async def test_malformed_api_key_is_403003(client: httpx.AsyncClient, token_a: str) -> None:
    gateway(
        await client.get(DEFS, headers=headers(token_a, api_key="not a key!")),
        403,
        "403003",
        "Api Key is invalid",
    )


async def test_api_key_must_be_the_tokens_client_id(
    client: httpx.AsyncClient, store: Store
) -> None:
    token, _, _ = await TokenService(store).create_client(
        tenant="tenant-a", scope="admin", name="aepp", client_id="abc123"
    )
    gateway(
        await client.get(DEFS, headers=headers(token, api_key="other")),
        403,
        "403003",
        "Api Key is invalid",
    )
    assert (await client.get(DEFS, headers=headers(token, api_key="abc123"))).status_code == 200


async def test_no_org_is_400003(client: httpx.AsyncClient, token_a: str) -> None:
    h = headers(token_a)
    del h["x-gw-ims-org-id"]
    gateway(await client.get(DEFS, headers=h), 400, "400003", "Missing header")


async def test_another_tenants_org_is_403025(
    client: httpx.AsyncClient, token_a: str, token_b: str
) -> None:
    gateway(
        await client.get(DEFS, headers=headers(token_a, org="tenant-b@AdobeOrg")),
        403,
        "403025",
        "Profile is not valid",
    )
    gateway(
        await client.get(DEFS, headers=headers(token_b, org=ORG_A)),
        403,
        "403025",
        "Profile is not valid",
    )


async def test_org_set_for_the_tenant_replaces_the_default(
    client: httpx.AsyncClient, store: Store, token_a: str
) -> None:
    await TokenService(store).set_ims_org("tenant-a", "53A7E4A25F3C9B170A495E8B@AdobeOrg")
    gateway(await client.get(DEFS, headers=headers(token_a)), 403, "403025", "Profile is not valid")
    r = await client.get(DEFS, headers=headers(token_a, org="53A7E4A25F3C9B170A495E8B@AdobeOrg"))
    assert r.status_code == 200
    created = await client.post(
        DEFS, json=SEED_BODY, headers=headers(token_a, org="53A7E4A25F3C9B170A495E8B@AdobeOrg")
    )
    assert created.json()["imsOrgId"] == "53A7E4A25F3C9B170A495E8B@AdobeOrg"


async def test_checks_run_in_the_gateways_order(client: httpx.AsyncClient, token_a: str) -> None:
    # An invalid token wins over a missing API key, which wins over a missing org.
    h = headers("smx_nope", api_key=None)
    del h["x-gw-ims-org-id"]
    gateway(await client.get(DEFS, headers=h), 401, "401013", "Oauth token is not valid")
    h = headers(token_a, api_key=None)
    del h["x-gw-ims-org-id"]
    gateway(await client.get(DEFS, headers=h), 403, "403000", "Api Key is required")
    # A missing content type is checked after the org.
    h = headers(token_a, org="tenant-b@AdobeOrg", json=False)
    gateway(
        await client.post(DEFS, content=b"{}", headers=h), 403, "403025", "Profile is not valid"
    )


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
async def test_writes_need_a_json_content_type(
    client: httpx.AsyncClient, token_a: str, content_type: str | None
) -> None:
    h = headers(token_a, json=False)
    if content_type:
        h["Content-Type"] = content_type
    r = await client.post(DEFS, content=b'{"name": "x"}', headers=h)
    assert r.status_code == 400
    assert r.json() == {
        "type": "/placeholder/type/uri",
        "status": 400,
        "title": "BadRequestError",
        "detail": "A valid content-type must be specified",
    }
    listed = await client.get(DEFS, headers=headers(token_a))
    assert listed.json()["page"]["totalCount"] == 0


async def test_json_content_type_with_charset_and_on_reads(
    client: httpx.AsyncClient, token_a: str
) -> None:
    h = headers(token_a) | {"Content-Type": "application/json; charset=utf-8"}
    assert (await client.post(DEFS, json=SEED_BODY, headers=h)).status_code == 200
    # aepp sends Content-Type: application/json on GET and DELETE too.
    assert (await client.get(DEFS, headers=h)).status_code == 200


async def test_missing_sandbox_header_is_prod(client: httpx.AsyncClient, token_a: str) -> None:
    made = await create(client, token_a, "in prod")
    r = await client.get(f"{DEFS}/{made['id']}", headers=headers(token_a, sandbox=None))
    assert r.status_code == 200
    assert r.json()["sandbox"]["sandboxName"] == "prod"


@pytest.mark.parametrize("sandbox", ["Prod", "dev sandbox", "x" * 65, "ü", ""])
async def test_bad_sandbox_name_is_400(
    client: httpx.AsyncClient, token_a: str, sandbox: str
) -> None:
    h = headers(token_a) | {"x-sandbox-name": sandbox}
    r = await client.get(
        DEFS, headers={k: v.encode() if k == "x-sandbox-name" else v for k, v in h.items()}
    )
    assert "x-sandbox-name" in service_error(r, 400)


async def test_read_only_token_cannot_write(
    client: httpx.AsyncClient, store: Store, token_a: str
) -> None:
    made = await create(client, token_a, "x")
    reader = await make_token(store, "tenant-a", scope="client:development", name="reader")
    assert (await client.get(DEFS, headers=headers(reader))).status_code == 200
    r = await client.post(DEFS, json=SEED_BODY, headers=headers(reader))
    message = service_error(r, 403)
    assert r.json()["type"].endswith("UPAPI-113752-403")
    assert "not authorized" in message
    r = await client.delete(f"{DEFS}/{made['id']}", headers=headers(reader))
    service_error(r, 403)
    assert (await client.get(f"{DEFS}/{made['id']}", headers=headers(token_a))).status_code == 200


async def test_unknown_path_and_method_are_service_errors(
    client: httpx.AsyncClient, token_a: str
) -> None:
    service_error(await client.get(f"{DEFS}/a/b", headers=headers(token_a)), 404)
    service_error(await client.get("/data/core/ups/nothing", headers=headers(token_a)), 404)
    r = await client.put(f"{DEFS}/x", json=SEED_BODY, headers=headers(token_a))
    service_error(r, 405)
    assert r.headers["allow"] == "GET, HEAD, PATCH, DELETE"
    r = await client.delete(DEFS, headers=headers(token_a))
    service_error(r, 405)
    assert r.headers["allow"] == "GET, HEAD, POST"
