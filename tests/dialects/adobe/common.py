"""Helpers of the Adobe dialect's HTTP tests."""

from __future__ import annotations

import copy
from typing import Any

import httpx

BASE = "/data/core/ups"
DEFS = f"{BASE}/segment/definitions"
ORG_A = "tenant-a@AdobeOrg"
DOC_PQL = 'workAddress.country = "US"'
# The documented conversion of DOC_PQL (fact sheet §9), byte for byte.
DOC_PQL_JSON = (
    '{"nodeType":"fnApply","fnName":"=","params":[{"nodeType":"fieldLookup","fieldName":'
    '"country","object":{"nodeType":"fieldLookup","fieldName":"workAddress","object":'
    '{"nodeType":"parameterReference","position":1}}},{"nodeType":"literal","literalType":'
    '"String","value":"US"}]}'
)
# The seed's create body.
SEED_BODY: dict[str, Any] = {
    "name": "People who ordered in the last 30 days",
    "profileInstanceId": "ups",
    "description": "Last 30 days",
    "expression": {"type": "PQL", "format": "pql/text", "value": DOC_PQL},
    "schema": {"name": "_xdm.context.profile"},
    "payloadSchema": "string",
    "ttlInDays": 60,
}


def headers(
    token: str,
    *,
    org: str = ORG_A,
    sandbox: str | None = "prod",
    api_key: str | None = "segmux-tests",
    json: bool = True,
) -> dict[str, str]:
    """What aepp sends on every request (Content-Type on GET and DELETE too)."""
    h = {"Authorization": f"Bearer {token}", "Accept": "application/json", "x-gw-ims-org-id": org}
    if api_key is not None:
        h["x-api-key"] = api_key
    if sandbox is not None:
        h["x-sandbox-name"] = sandbox
    if json:
        h["Content-Type"] = "application/json"
    return h


def body(name: str = SEED_BODY["name"], pql: str = DOC_PQL, **extra: Any) -> dict[str, Any]:
    out = copy.deepcopy(SEED_BODY)
    out["name"] = name
    out["expression"]["value"] = pql
    out.update(extra)
    return out


async def create(
    client: httpx.AsyncClient,
    token: str,
    name: str = "s",
    pql: str = DOC_PQL,
    *,
    sandbox: str = "prod",
    org: str = ORG_A,
    **extra: Any,
) -> dict[str, Any]:
    r = await client.post(
        DEFS, json=body(name, pql, **extra), headers=headers(token, sandbox=sandbox, org=org)
    )
    assert r.status_code == 200, r.text
    created: dict[str, Any] = r.json()
    return created


async def evaluate(client: httpx.AsyncClient, token: str, ids: list[str], ctx: Any) -> Any:
    """segmux's evaluate of ``ids`` for one context: each id's answer."""
    r = await client.post(
        "/segmux/v1/evaluate",
        headers={"Authorization": f"Bearer {token}"},
        json={"context": ctx, "segments": ids},
    )
    assert r.status_code == 200, r.text
    return r.json()["results"]


def service_error(r: httpx.Response, status: int) -> str:
    """Assert the UPS error format; return the message."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    b = r.json()
    assert set(b) == {"requestId", "errors", "type", "title", "status"}
    assert b["status"] == status
    assert b["requestId"] == r.headers["x-request-id"]
    [entry] = b["errors"][str(status)]
    assert entry["code"] == status
    assert b["title"] == entry["message"]
    assert b["type"].startswith("https://ns.adobe.com/aep/errors/")
    message: str = entry["message"]
    return message
