"""Every way a request is answered writes its access line once, through the public HTTP surface:
a routed request, a kept answer (``gateway.answers``, sent before any routing), the express
lane's frontend poll (``gateway.express``) and a refused one. Each line holds the id sent back in
``X-Request-Id``, the method, the path without its query string, the status, and never a
token."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from core.store import Store
from gateway import logging as logs
from tests.conftest import make_token


@pytest.fixture
def log() -> Iterator[io.StringIO]:
    out = io.StringIO()
    logs.configure("info", stream=out)
    yield out
    logs.configure("info")  # what the test suite runs with otherwise


def _access_lines(out: io.StringIO) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    return [line for line in lines if line["logger"] == "segmux.access"]


async def test_each_request_is_logged_once_whichever_way_it_is_answered(
    client: httpx.AsyncClient, app: Any, store: Store, log: io.StringIO
) -> None:
    sdk = await make_token(store, "tenant-a", scope="client:development", name="sdk")
    web = await make_token(store, "tenant-a", scope="frontend:development", name="web")
    answers = app.state.services.answers
    sent: list[tuple[str, str, int, str]] = []  # method, path, status, X-Request-Id

    async def get(path: str, token: str, query: str = "") -> None:
        r = await client.get(path + query, headers={"Authorization": token})
        sent.append(("GET", path, r.status_code, r.headers["x-request-id"]))

    await get("/api/client/features", sdk)  # routed, then kept
    hits = answers.hits
    await get("/api/client/features", sdk)  # a kept answer
    assert answers.hits == hits + 1
    await get("/api/client/features", sdk, "?secret=query")
    await get("/api/frontend", web, "?userId=u1")  # the express lane
    await get("/api/frontend", "not-a-token")  # refused on the express lane
    await get("/api/admin/segments", sdk)  # refused by its route

    lines = _access_lines(log)
    assert [(ln["method"], ln["path"], ln["status"], ln["request_id"]) for ln in lines] == sent
    assert [status for _, _, status, _ in sent] == [200, 200, 200, 200, 401, 403]
    for line in lines:
        assert line["event"] == "request" and line["level"] == "info"
        assert isinstance(line["ms"], float) and line["ms"] >= 0
    text = log.getvalue()
    for secret in (sdk, web, "not-a-token", "secret=query", "userId"):
        assert secret not in text


async def test_nothing_is_logged_per_request_at_warning(
    client: httpx.AsyncClient, store: Store
) -> None:
    out = io.StringIO()
    logs.configure("warning", stream=out)
    try:
        sdk = await make_token(store, "tenant-a", scope="client:development", name="sdk")
        for _ in range(2):
            r = await client.get("/api/client/features", headers={"Authorization": sdk})
            assert r.status_code == 200
    finally:
        logs.configure("info")
    assert out.getvalue() == ""


@pytest.mark.parametrize(
    "incoming",
    ['a" "forged": "1', "a\n", "a b", "a\tb", "x" * 129],
)
async def test_an_untame_incoming_request_id_is_replaced(
    client: httpx.AsyncClient, log: io.StringIO, incoming: str
) -> None:
    # The access line writes the id as is: only a tame one may pass.
    r = await client.get("/healthz", headers={"X-Request-Id": incoming})
    rid = r.headers["x-request-id"]
    assert rid != incoming and len(rid) == 32
    assert [line["request_id"] for line in _access_lines(log)] == [rid]


async def test_a_tame_incoming_request_id_is_kept(
    client: httpx.AsyncClient, log: io.StringIO
) -> None:
    tame = "Abc-1.2_3:4"
    r = await client.get("/healthz", headers={"X-Request-Id": tame})
    assert r.headers["x-request-id"] == tame
    assert [line["request_id"] for line in _access_lines(log)] == [tame]
