"""Shared helpers of the Confidence dialect tests."""

from __future__ import annotations

from typing import Any

import httpx

BASE = "/v1/segments"
SWEDEN = {
    "criteria": {
        "sweden": {
            "attribute": {"attributeName": "country", "eqRule": {"value": {"stringValue": "SE"}}}
        }
    },
    "expression": {"ref": "sweden"},
}


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def exclusive(proportion: str, *tags: str) -> dict[str, Any]:
    group = list(tags or ("g",))
    return {"proportion": {"value": proportion}, "exclusivityTags": group, "exclusiveTo": group}


async def create(
    client: httpx.AsyncClient, token: str, segment_id: str | None = None, **body: Any
) -> dict[str, Any]:
    params = {"segmentId": segment_id} if segment_id else {}
    r = await client.post(BASE, params=params, json=body, headers=auth(token))
    assert r.status_code == 200, r.text
    created: dict[str, Any] = r.json()
    return created


async def call(
    client: httpx.AsyncClient, token: str, segment_id: str, verb: str, body: Any = None
) -> httpx.Response:
    return await client.post(
        f"{BASE}/{segment_id}:{verb}", json={} if body is None else body, headers=auth(token)
    )


def assert_status(r: httpx.Response, http: int, code: int) -> dict[str, Any]:
    assert r.status_code == http, r.text
    assert r.headers["content-type"] == "application/json"
    body: dict[str, Any] = r.json()
    assert set(body) == {"code", "message", "details"} and body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"]
    return body
