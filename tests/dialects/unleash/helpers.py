"""Shared helpers of the Unleash HTTP tests."""

from __future__ import annotations

from typing import Any

import httpx

SEGMENTS = "/api/admin/segments"
FEATURES = "/api/admin/projects/default/features"
VALIDATION = (
    "Request validation failed: your request body or params contain invalid data. "
    "Refer to the `details` list for more information."
)
WITH_MESSAGE = "Request validation failed: your request body or params contain invalid data: "


def auth(token: str) -> dict[str, str]:
    return {"Authorization": token}


def strategies_url(feature: str, env: str = "development", project: str = "default") -> str:
    return f"/api/admin/projects/{project}/features/{feature}/environments/{env}/strategies"


async def create_segment(
    client: httpx.AsyncClient,
    token: str,
    name: str,
    constraints: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body = {"name": name, "constraints": constraints or [], **extra}
    r = await client.post(SEGMENTS, json=body, headers=auth(token))
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


async def create_feature(
    client: httpx.AsyncClient, token: str, name: str, project: str = "default"
) -> dict[str, Any]:
    r = await client.post(
        f"/api/admin/projects/{project}/features", json={"name": name}, headers=auth(token)
    )
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


async def add_strategy(
    client: httpx.AsyncClient,
    token: str,
    feature: str,
    segments: list[int] | None = None,
    env: str = "development",
    project: str = "default",
    **extra: Any,
) -> dict[str, Any]:
    body = {"name": "default", "segments": segments or [], **extra}
    r = await client.post(strategies_url(feature, env, project), json=body, headers=auth(token))
    assert r.status_code == 200, r.text
    created: dict[str, Any] = r.json()
    return created


def bad_data(details: list[dict[str, str]], *, with_id: bool = False) -> dict[str, Any]:
    """The BadDataError body, ``id`` removed (it is random) and checked to be there or not."""
    return {"name": "BadDataError", "message": VALIDATION, "details": details}


def without_id(body: dict[str, Any], *, has_id: bool) -> dict[str, Any]:
    assert ("id" in body) is has_id, body
    return {k: v for k, v in body.items() if k != "id"}
