"""What the OFREP tests share: OFREP tokens, requests, and flags of both namespaces made
through their own admin APIs."""

from __future__ import annotations

from typing import Any

import httpx

from tests.dialects.confidence.helpers import BASE, SWEDEN
from tests.dialects.confidence.resolve_helpers import everyone_gets, make_client, make_flag, post
from tests.dialects.unleash.helpers import FEATURES, add_strategy, create_feature, create_segment
from tests.dialects.unleash.helpers import auth as unleash_auth

SINGLE = "/ofrep/v1/evaluate/flags/"
BULK = "/ofrep/v1/evaluate/flags"
CONF_SCHEMA = {"schema": {"enabled": {"boolSchema": {}}, "color": {"stringSchema": {}}}}
CONF_VARIANTS = {"on": {"enabled": True, "color": "red"}, "off": {"enabled": False}}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def evaluate(
    client: httpx.AsyncClient, token: str, key: str, context: dict[str, Any] | None = None
) -> httpx.Response:
    body = {} if context is None else {"context": context}
    return await client.post(SINGLE + key, json=body, headers=bearer(token))


async def bulk(
    client: httpx.AsyncClient,
    token: str,
    context: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    body = {} if context is None else {"context": context}
    return await client.post(BULK, json=body, headers={**bearer(token), **(headers or {})})


async def enable(client: httpx.AsyncClient, token: str, feature: str) -> None:
    r = await client.post(
        f"{FEATURES}/{feature}/environments/development/on", headers=unleash_auth(token)
    )
    assert r.status_code == 200, r.text


async def unleash_feature(
    client: httpx.AsyncClient,
    token: str,
    feature: str,
    /,
    *,
    users: list[str] | None = None,
    on: bool = True,
    **strategy: Any,
) -> None:
    """``feature`` with one strategy (``users``: only for those userIds), on in development
    unless ``on`` is false."""
    name = feature
    await create_feature(client, token, name)
    segments: list[int] = []
    if users is not None:
        constraint = {"contextName": "userId", "operator": "IN", "values": users}
        seg = await create_segment(client, token, f"users-{name}", [constraint])
        segments = [int(seg["id"])]
    await add_strategy(client, token, name, segments, **strategy)
    if on:
        await enable(client, token, name)


async def swedes(client: httpx.AsyncClient, token: str) -> None:
    await post(client, token, BASE, {"targeting": SWEDEN}, segmentId="swedes")


async def confidence_flag(
    client: httpx.AsyncClient,
    token: str,
    flag_id: str,
    *,
    rules: list[dict[str, Any]] | None = None,
    with_client: bool = True,
) -> str:
    """Flag ``flag_id`` (variants on/off), listed for a new client unless ``with_client`` is
    false, by default giving Swedes ``on``; returns its client's secret."""
    name, secret = await make_client(client, token)
    await make_flag(
        client,
        token,
        flag_id,
        schema=CONF_SCHEMA,
        clients=[name] if with_client else [],
        variants=CONF_VARIANTS,
        rules=rules if rules is not None else [everyone_gets(flag_id, "on", "segments/swedes")],
    )
    return secret
