"""``POST /segmux/v1/evaluate:batch``: many contexts in one call, each answered as
``/evaluate`` answers it alone, in the order sent."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from core.expr import ast
from core.expr.pql import parse_pql
from core.model import NewSegment
from core.store import Store

BATCH = "/segmux/v1/evaluate:batch"
EVALUATE = "/segmux/v1/evaluate"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def seed(store: Store, tenant: str, name: str, pql: str | None) -> str:
    expr = parse_pql(pql) if pql is not None else None
    new = NewSegment(name=name, expression=ast.encode(expr) if expr is not None else None)
    return (await store.create_segment(tenant, new, "t")).id


def contexts() -> list[dict[str, Any]]:
    return [
        {"workAddress": {"country": c}, "age": a}
        for c in ("US", "DE", "us")
        for a in (17, 31, "40", None)
    ] + [{}]


async def test_batch_answers_each_context_as_evaluate_does(
    client: httpx.AsyncClient, store: Store, token_a: str
) -> None:
    us = await seed(store, "tenant-a", "US", 'workAddress.country = "US"')
    older = await seed(store, "tenant-a", "older", "age > 30")
    everyone = await seed(store, "tenant-a", "everyone", None)
    sent = contexts()
    r = await client.post(BATCH, headers=auth(token_a), json={"contexts": sent})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert len(results) == len(sent)
    for context, got in zip(sent, results, strict=True):
        alone = await client.post(EVALUATE, headers=auth(token_a), json={"context": context})
        assert got == alone.json()
        assert got["results"] == {
            us: context.get("workAddress", {}).get("country") == "US",
            older: context.get("age") in (31, "40"),
            everyone: True,
        }
        assert got["matches"] == [k for k, v in got["results"].items() if v]


async def test_batch_of_listed_segments(
    client: httpx.AsyncClient, store: Store, token_a: str
) -> None:
    us = await seed(store, "tenant-a", "US", 'workAddress.country = "US"')
    await seed(store, "tenant-a", "everyone", None)
    r = await client.post(
        BATCH,
        headers=auth(token_a),
        json={"contexts": [{"workAddress": {"country": "US"}}, {}], "segments": [us]},
    )
    assert r.json() == {
        "results": [
            {"matches": [us], "results": {us: True}, "reasons": {}},
            {"matches": [], "results": {us: False}, "reasons": {}},
        ]
    }
    r = await client.post(BATCH, headers=auth(token_a), json={"contexts": []})
    assert r.json() == {"results": []}


async def test_batch_limit_is_1000_contexts(
    client: httpx.AsyncClient, store: Store, token_a: str
) -> None:
    await seed(store, "tenant-a", "everyone", None)
    r = await client.post(BATCH, headers=auth(token_a), json={"contexts": [{}] * 1000})
    assert r.status_code == 200 and len(r.json()["results"]) == 1000
    r = await client.post(BATCH, headers=auth(token_a), json={"contexts": [{}] * 1001})
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "invalid" and r.json()["field"] == "contexts"


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"contexts": {}},
        {"contexts": [1]},
        {"contexts": [{}], "segments": "x"},
        {"contexts": [{}], "unit": 3},
        {"contexts": [{}], "extra": True},
        {"context": {}},
    ],
)
async def test_bad_batches_are_400(
    client: httpx.AsyncClient, token_a: str, payload: dict[str, Any]
) -> None:
    r = await client.post(BATCH, headers=auth(token_a), json=payload)
    assert r.status_code == 400, payload
    assert r.json()["error"] == "invalid"


async def test_batch_unknown_or_foreign_id_is_404(
    client: httpx.AsyncClient, store: Store, token_a: str, token_b: str
) -> None:
    theirs = await seed(store, "tenant-b", "theirs", None)
    for sid in (theirs, str(uuid.uuid4())):
        for extra in ({}, {"unit": "u1"}):
            r = await client.post(
                BATCH, headers=auth(token_a), json={"contexts": [{}], "segments": [sid], **extra}
            )
            assert r.status_code == 404, r.text
            assert r.json()["error"] == "not_found"


async def test_batch_with_a_unit_applies_allocation(
    client: httpx.AsyncClient, token_a: str, client_token_a: str
) -> None:
    headers = auth(token_a)
    for slug, share in (("nobody-gets-in", "0"), ("everybody-in", "1")):
        r = await client.post(
            f"/v1/segments?segmentId={slug}",
            headers=headers,
            json={"displayName": slug, "allocation": {"proportion": {"value": share}}},
        )
        assert r.status_code == 200, r.text
    sent = {"contexts": [{}, {"country": "SE"}], "unit": "user-1"}
    r = await client.post(BATCH, headers=auth(client_token_a), json=sent)
    assert r.status_code == 200, r.text
    for got in r.json()["results"]:
        alone = await client.post(EVALUATE, headers=headers, json={"context": {}, "unit": "user-1"})
        assert got == alone.json()
        assert sum(got["results"].values()) == 1 and len(got["results"]) == 2


async def test_batch_needs_a_token(client: httpx.AsyncClient) -> None:
    r = await client.post(BATCH, json={"contexts": []})
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"
