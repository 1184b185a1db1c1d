"""Caches cannot be made to grow past their byte bounds: a real ``segmux serve`` process is sent
hundreds of spellings of one large query, and its resident memory (``VmRSS``) stays within the
documented bounds of the caches that could keep the answer (first pages and kept answers) plus a
margin for everything else a request allocates.

Confidence's ``pageSize`` coerces every value above 1000 to 1000 (AIP-158), so ``pageSize=1001``,
``pageSize=0001000``, ``pageSize=+5000``… are one query: keyed on the raw query string, each
spelling used to keep its own copy of a first page.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from core.cache import PAGE_MAX_BYTES, PAGES_MAX_BYTES
from gateway.answers import ANSWER_MAX_BYTES, ANSWERS_MAX_BYTES
from tests.reliability.procs import ADMIN_TOKEN, Gateway

MB = 1024 * 1024
MARGIN = 64 * MB
"""What a request may leave allocated beyond the caches (allocator slack, buffers)."""
BOUND = PAGES_MAX_BYTES + ANSWERS_MAX_BYTES + MARGIN
DESCRIPTION = 60_000
"""Characters of each segment's description: the bulk of a page."""
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def gateway(store_url: str, tmp_path: Path) -> Iterator[Gateway]:
    gw = Gateway(store_url, tmp_path).start()
    try:
        yield gw
    finally:
        gw.stop()
    assert not gw.own_tracebacks(), gw.output()


def rss(gw: Gateway) -> int:
    assert gw.proc is not None
    status = Path(f"/proc/{gw.proc.pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


def create(c: httpx.Client, first: int, count: int) -> None:
    for n in range(first, first + count):
        r = c.post(
            "/v1/segments",
            params={"segmentId": f"big-{n:04d}"},
            headers=AUTH,
            json={"displayName": f"big {n}", "description": "d" * DESCRIPTION},
        )
        assert r.status_code == 200, r.text


def spellings(count: int) -> Iterator[str]:
    """``count`` query strings that all mean pageSize=1000, view BASIC."""
    for n in range(count):
        size = ("0" * (n % 12)) + str(1000 + n // 12)
        if n % 3 == 0:
            yield f"pageSize={size}"
        elif n % 3 == 1:
            yield f"view=BASIC&pageSize=+{size}"
        else:
            yield f"pageSize={size}&view=BASIC"


def test_spellings_of_one_large_query_keep_memory_within_the_bound(gateway: Gateway) -> None:
    with httpx.Client(base_url=gateway.url, timeout=60) as c:
        # A first page of ~0.9 MB: under both thresholds. The first-page cache keeps it once
        # (parsed key); the kept answers key on the query as sent, and are bounded in bytes.
        create(c, 0, 15)
        small = c.get("/v1/segments?pageSize=1000", headers=AUTH)
        assert small.status_code == 200 and len(small.content) < ANSWER_MAX_BYTES
        before = rss(gateway)
        for query in spellings(300):
            r = c.get(f"/v1/segments?{query}", headers=AUTH)
            assert r.status_code == 200 and r.content == small.content, query
        grown = rss(gateway) - before
        assert grown < BOUND, f"RSS grew by {grown / MB:.0f} MB (bound {BOUND / MB:.0f} MB)"

        # A first page of ~1.4 MB: under the page threshold (kept once), over the kept
        # answers' (never kept there).
        create(c, 15, 9)
        first = c.get("/v1/segments?pageSize=1000", headers=AUTH)
        assert first.status_code == 200
        assert 1 * MB < len(first.content) < PAGE_MAX_BYTES
        before = rss(gateway)
        for query in spellings(300):
            r = c.get(f"/v1/segments?{query}", headers=AUTH)
            assert r.status_code == 200, (query, r.text)
            assert r.content == first.content, query  # one query, one answer
        grown = rss(gateway) - before
        assert grown < BOUND, f"RSS grew by {grown / MB:.0f} MB (bound {BOUND / MB:.0f} MB)"

        # A first page over the threshold (~2.3 MB): encoded per request, never kept.
        create(c, 24, 16)
        big = c.get("/v1/segments?pageSize=1000", headers=AUTH)
        assert len(big.content) > PAGE_MAX_BYTES and len(big.json()["segments"]) == 40
        before = rss(gateway)
        for query in spellings(200):
            r = c.get(f"/v1/segments?{query}", headers=AUTH)
            assert r.status_code == 200 and r.content == big.content, query
        grown = rss(gateway) - before
        assert grown < BOUND, f"RSS grew by {grown / MB:.0f} MB (bound {BOUND / MB:.0f} MB)"
