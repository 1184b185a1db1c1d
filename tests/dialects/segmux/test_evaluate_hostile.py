"""``/segmux/v1/evaluate`` and ``evaluate:batch`` against hostile conditions and contexts: the
patterns that made a backtracking engine run for seconds answer at once, a long batch lets
other requests through while it runs, and a runaway one ends with a 400 naming its budget.
Both backends."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from core.store import Store
from gateway.app import create_app
from gateway.settings import Settings

SEGMENTS = "/segmux/v1/segments"
EVALUATE = "/segmux/v1/evaluate"
BATCH = "/segmux/v1/evaluate:batch"
LONG = 10_000
GENEROUS_SECONDS = 30.0


@pytest.fixture
def settings(store_url: str) -> Settings:
    # a budget no test below reaches by accident (the budget has its own app)
    return Settings(database_url=store_url, evaluate_budget_ms=600_000)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def create(client: httpx.AsyncClient, token: str, name: str, pql: str) -> str:
    r = await client.post(
        SEGMENTS,
        headers=auth(token),
        json={"name": name, "condition": {"language": "pql", "expression": pql}},
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def test_the_issues_patterns_answer_at_once_on_10000_characters(
    client: httpx.AsyncClient, token_a: str, client_token_a: str
) -> None:
    rx = await create(client, token_a, "backtracks", 'email.matches("(a+)+$")')
    like = await create(client, token_a, "likes", 'city like "%a%a%a%a%a%!"')
    started = time.monotonic()
    cases: list[tuple[dict[str, Any], dict[str, bool]]] = [
        ({"email": "a" * LONG + "!", "city": "a" * LONG}, {rx: False, like: False}),
        ({"email": "!" + "a" * LONG, "city": "a" * LONG + "!"}, {rx: True, like: True}),
        ({"email": "a" * 26 + "!", "city": "a" * 100}, {rx: False, like: False}),
    ]
    for context, expected in cases:  # a read-only client token may evaluate
        r = await client.post(EVALUATE, headers=auth(client_token_a), json={"context": context})
        assert r.status_code == 200, r.text
        assert r.json()["results"] == expected
    batch = [context for context, _ in cases] * 15  # ~0.9 MB, under the body limit
    r = await client.post(BATCH, headers=auth(client_token_a), json={"contexts": batch})
    assert r.status_code == 200, r.text
    assert [x["results"] for x in r.json()["results"]] == [e for _, e in cases] * 15
    r = await client.post(
        BATCH, headers=auth(client_token_a), json={"contexts": [{"email": "a" * 26 + "!"}] * 1000}
    )
    assert r.status_code == 200, r.text
    assert all(x["results"][rx] is False for x in r.json()["results"])
    assert time.monotonic() - started < GENEROUS_SECONDS


async def many_patterns(
    client: httpx.AsyncClient, token: str, segments: int = 15, atoms: int = 20
) -> None:
    """``segments`` x ``atoms`` distinct patterns on ``v``: each value of ``v`` is matched by
    every one of them."""
    for s in range(segments):
        pql = " or ".join(f'v.matches("(a+)+{s}x{a}$")' for a in range(atoms))
        await create(client, token, f"patterns-{s}", pql)


def heavy_contexts(count: int) -> list[dict[str, Any]]:
    return [{"v": [f"{'a' * 10}{i}"] * 40} for i in range(count)]


async def test_healthz_answers_while_a_long_batch_runs(
    client: httpx.AsyncClient, token_a: str, client_token_a: str
) -> None:
    await many_patterns(client, token_a)
    contexts = heavy_contexts(200)  # 300 patterns x 40 values x 200 contexts: seconds of CPU
    batch = asyncio.create_task(
        client.post(BATCH, headers=auth(client_token_a), json={"contexts": contexts})
    )
    # Without pauses the batch would hold the loop: this sleep would end after it, and so
    # would /healthz.
    await asyncio.sleep(0.3)
    health = await client.get("/healthz")
    assert health.status_code == 200
    assert not batch.done(), "the batch held the event loop until it was done"
    r = await asyncio.wait_for(batch, 600)
    assert r.status_code == 200, r.text
    assert len(r.json()["results"]) == 200
    assert all(not any(x["results"].values()) for x in r.json()["results"])


@pytest.fixture
async def tight_client(store: Store, store_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """An app whose evaluate budget is 100 ms of CPU."""
    app = create_app(Settings(database_url=store_url, evaluate_budget_ms=100), store=store)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://segmux.test") as c:
        yield c


async def test_a_batch_past_its_budget_is_a_400_that_names_it(
    tight_client: httpx.AsyncClient, token_a: str, client_token_a: str
) -> None:
    await many_patterns(tight_client, token_a)
    r = await tight_client.post(
        BATCH, headers=auth(client_token_a), json={"contexts": heavy_contexts(200)}
    )
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["error"] == "invalid"
    assert body["field"] == "contexts"
    assert "100 ms of CPU" in body["reason"]
    assert re.search(r"stopped after [1-9][0-9]* of the contexts", body["reason"])
    # One context that alone costs more than the budget ends inside its evaluation.
    r = await tight_client.post(
        EVALUATE, headers=auth(client_token_a), json={"context": {"v": ["aaaaaaaaaa"] * 20_000}}
    )
    assert r.status_code == 400, r.text
    assert r.json()["field"] == "context"
    # What fits in the budget is answered as before.
    r = await tight_client.post(
        EVALUATE, headers=auth(client_token_a), json={"context": {"v": "aaa15x3"}}
    )
    assert r.status_code == 200, r.text
    assert sum(r.json()["results"].values()) == 0
    r = await tight_client.post(
        EVALUATE, headers=auth(client_token_a), json={"context": {"v": "!a14x19"}}
    )
    assert r.status_code == 200, r.text
    assert sum(r.json()["results"].values()) == 1


async def test_a_batch_with_a_unit_is_bounded_too(
    tight_client: httpx.AsyncClient, token_a: str, client_token_a: str
) -> None:
    await many_patterns(tight_client, token_a)
    r = await tight_client.post(
        BATCH,
        headers=auth(client_token_a),
        json={"contexts": heavy_contexts(200), "unit": "user-1"},
    )
    assert r.status_code == 400, r.text
    assert r.json()["field"] == "contexts"
