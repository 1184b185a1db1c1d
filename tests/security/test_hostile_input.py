"""Hostile input, sent to every operation of every served spec, on both backends: each gets a
clear 4xx in the dialect's JSON error format — never a 5xx, never a silently accepted value — and
nothing already stored changes.

What is sent: deep JSON nesting, invalid UTF-8, NUL bytes in text, a 1 MB name, and
huge, negative, non-numeric and duplicated paging parameters. The operations come from the
served specs; the valid bodies and A's resources from the isolation walk, so a new route is
covered as soon as it has a rule there.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from core.store import Store
from tests.conftest import make_token
from tests.security.test_isolation_walk import (
    RULES,
    World,
    build_world,
    fill,
    headers_for,
    operations,
    snapshot,
)

# Paging parameters of each collection, by dialect (HAL's are described in its spec's text).
PAGING: dict[tuple[str, str], tuple[str, ...]] = {
    ("get", "/v2.3/data/segments"): ("page", "per_page"),
    ("get", "/data/core/ups/segment/definitions"): ("start", "limit", "page"),
    ("get", "/v1/segments"): ("pageSize",),
    ("get", "/v1/flags"): ("pageSize",),
    ("get", "/v1/flags/{flagId}/variants"): ("pageSize",),
    ("get", "/v1/flags/{flagId}/rules"): ("pageSize",),
    ("get", "/v1/clients"): ("pageSize",),
    ("get", "/v1/clients/{clientId}/credentials"): ("pageSize",),
    ("get", "/{projectId}/individual-segments"): ("page", "size"),
    ("get", "/{projectId}/individuals"): ("page", "size"),
    ("get", "/{projectId}/individual-segments/{id}/individuals"): ("page", "size"),
    ("get", "/segmux/v1/segments"): ("limit",),
}
BAD_NUMBERS = {"huge": "1" + "0" * 30, "negative": "-1", "not a number": "ten", "fractional": "1.5"}
# Bodies that are text the SDK routes take as-is (no tenant data behind them): they answer 202
# to any JSON, as Unleash does (the real server ignores what it cannot parse in metrics).
SDK_SINKS = {("post", "/api/client/register"), ("post", "/api/client/metrics")}
# Reads by a list of ids: an id that cannot exist is reported per id, as Adobe does (207).
BY_IDS = {("post", "/data/core/ups/segment/definitions/bulk-get")}


def body_operations() -> list[tuple[str, str]]:
    return [
        (m, p)
        for _, m, p in operations()
        if m in ("post", "put", "patch") and RULES[(m, p)].body is not None
    ]


def with_strings(value: Any, text: str) -> Any:
    """``value`` with every string in it replaced by ``text``."""
    if isinstance(value, str):
        return text
    if isinstance(value, list):
        return [with_strings(v, text) for v in value]
    if isinstance(value, dict):
        return {k: with_strings(v, text) for k, v in value.items()}
    return value


def has_strings(value: Any) -> bool:
    return with_strings(value, "\x00marker") != value


async def send(
    c: httpx.AsyncClient,
    method: str,
    path: str,
    token: str,
    content: bytes,
    params: Any = None,
    sdk: str | None = None,
) -> httpx.Response:
    if path.startswith(("/api/client/", "/ofrep/")) and sdk is not None:
        token = sdk  # a client token also evaluates through OFREP (an admin token may not)
    return await c.request(
        method.upper(),
        path,
        content=content,
        params=params,
        headers=headers_for(path, token, tenant="tenant-a"),
    )


def assert_clear_4xx(r: httpx.Response, what: str) -> None:
    assert 400 <= r.status_code < 500, (
        what,
        r.request.method,
        r.request.url,
        r.status_code,
        r.text[:300],
    )
    assert "json" in r.headers.get("content-type", ""), (what, r.headers)
    assert r.content and json.loads(r.content) is not None


@pytest.fixture
async def world(client: httpx.AsyncClient, store: Store, token_a: str) -> World:
    return await build_world(client, token_a)


async def test_bodies_refuse_hostile_json(
    client: httpx.AsyncClient, store: Store, token_a: str, world: World
) -> None:
    sdk = await make_token(store, "tenant-a", scope="client:development", name="sdk")
    before = await snapshot(client, token_a, world, sdk)
    deep = b"[" * 10_000 + b"]" * 10_000
    failures: list[str] = []
    for method, path in body_operations():
        rule = RULES[(method, path)]
        valid = rule.body(world) if rule.body is not None else {}
        url = fill(path, world)
        params = rule.params(world) if rule.params is not None else None
        cases: dict[str, bytes] = {
            "deep nesting": deep,
            "invalid UTF-8": b'{"name": "\xff\xfe\xfd"}',
            "truncated JSON": b'{"name": ',
        }
        if has_strings(valid) and (method, path) not in SDK_SINKS | BY_IDS:
            cases["NUL in text"] = json.dumps(with_strings(valid, "a\x00b")).encode()
            cases["1 MB of text"] = json.dumps(with_strings(valid, "x" * 1_000_000)).encode()
        for what, content in cases.items():
            r = await send(client, method, url, token_a, content, params, sdk)
            try:
                assert_clear_4xx(r, what)
            except AssertionError as exc:
                failures.append(str(exc))
    assert not failures, "\n".join(failures)
    assert await snapshot(client, token_a, world, sdk) == before


@pytest.mark.parametrize("case", [*BAD_NUMBERS, "duplicated"])
async def test_paging_parameters_refuse_bad_values(
    client: httpx.AsyncClient, store: Store, token_a: str, world: World, case: str
) -> None:
    failures: list[str] = []
    for (method, path), names in PAGING.items():
        for name in names:
            params: list[tuple[str, str]] = (
                [(name, "1"), (name, "2")] if case == "duplicated" else [(name, BAD_NUMBERS[case])]
            )
            r = await client.request(
                method.upper(),
                fill(path, world),
                params=params,
                headers=headers_for(path, token_a, tenant="tenant-a"),
            )
            try:
                assert_clear_4xx(r, f"{case} {name}")
            except AssertionError as exc:
                failures.append(str(exc))
    assert not failures, "\n".join(failures)


def test_paging_table_covers_every_paged_collection() -> None:
    """Every served operation with an integer query parameter is in the paging table."""
    for name, method, path in operations():
        import openapi

        spec = json.loads(openapi.as_json(name))
        params = spec["paths"][path][method].get("parameters", [])
        ints = [
            p["name"]
            for p in params
            if p.get("in") == "query" and p.get("schema", {}).get("type") == "integer"
        ]
        for param in ints:
            assert param in PAGING.get((method, path), ()), (method, path, param)
