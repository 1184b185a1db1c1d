"""Database outage: PostgreSQL stops under a running ``segmux serve``.

While it is down every dialect answers 503 in its own error format with ``Retry-After``,
``/readyz`` fails and ``/healthz`` (the process) stays up; when it is back the same process
serves again by itself, within 5 s, with the data it had."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import asyncpg
import httpx

from tests.reliability import dialects as d
from tests.reliability.pgcluster import Cluster, pg_cluster  # noqa: F401 (fixture)
from tests.reliability.procs import Gateway, gateways

RESUME_WITHIN = 5.0  # seconds, the bound for recovery without a restart


async def _all_unavailable(c: httpx.AsyncClient) -> None:
    for dialect in d.WRITERS:
        for r in (await dialect.probe(c), await dialect.create(c, f"during-{dialect.name}")):
            dialect.assert_unavailable(r)
            assert int(r.headers["retry-after"]) >= 1, (dialect.name, r.headers)
    ready = await c.get("/readyz")
    assert ready.status_code == 503 and ready.json()["status"] == "unavailable", ready.text
    assert (await c.get("/healthz")).status_code == 200  # the process is up and says so


async def _serving(c: httpx.AsyncClient) -> bool:
    try:
        if (await c.get("/readyz")).status_code != 200:
            return False
        return all([(await dialect.probe(c)).status_code == 200 for dialect in d.WRITERS])
    except httpx.TransportError:
        return False


async def test_outage_answers_503_everywhere_and_recovers_without_restart(
    pg_cluster: Cluster,  # noqa: F811
    tmp_path: Path,
) -> None:
    with gateways(pg_cluster.url, tmp_path) as [gw]:
        async with httpx.AsyncClient(base_url=gw.url, timeout=30) as c:
            # A clean shutdown (clients disconnected) and a crash of the server (pooled
            # connections left dangling), one after the other, to the same process.
            for mode in ("fast", "immediate"):
                await _outage(c, gw, pg_cluster, mode)
            assert not gw.own_tracebacks(), gw.output()


async def _outage(c: httpx.AsyncClient, gw: Gateway, cluster: Cluster, mode: str) -> None:
    before = f"before-outage-{mode}"
    r = await d.V23.create(c, before)
    assert r.status_code == 200, r.text
    assert (await c.get("/readyz")).status_code == 200

    cluster.stop(mode)
    try:
        await _all_unavailable(c)
        await _all_unavailable(c)  # still so on a second round: no stuck state
        assert gw.alive()
    finally:
        cluster.start()  # returns once it accepts connections

    deadline = time.monotonic() + RESUME_WITHIN
    while not await _serving(c):
        assert time.monotonic() < deadline, (
            f"not serving {RESUME_WITHIN} s after PostgreSQL came back ({mode}):\n{gw.output()}"
        )
    assert gw.alive()
    # The same data, and writes work again: no restart happened.
    assert before in await d.V23.names(c)
    for dialect in d.WRITERS:
        r = await dialect.create(c, f"after-{mode}-{dialect.name}")
        assert r.status_code == dialect.created_status, r.text


async def test_a_full_server_is_a_503_not_a_500(
    pg_cluster: Cluster,  # noqa: F811
    tmp_path: Path,
) -> None:
    """More connections wanted than the server's ``max_connections`` (N processes times their
    pools): the requests that cannot get a session are 503 + Retry-After, never 500."""
    pg_cluster.stop("fast")
    pg_cluster.start("max_connections=4", "superuser_reserved_connections=0")
    try:
        with gateways(pg_cluster.url, tmp_path) as [gw]:
            limits = httpx.Limits(max_connections=40)
            async with httpx.AsyncClient(base_url=gw.url, timeout=60, limits=limits) as c:
                assert (await d.V23.probe(c)).status_code == 200  # its sessions are open
                # Segments to update, made one at a time (one session).
                targets: dict[str, list[d.Keys]] = {}
                for dialect in d.WRITERS:
                    names = [f"full-{dialect.name}-{i}" for i in range(20)]
                    for name in names:
                        r = await dialect.create(c, name)
                        assert r.status_code == dialect.created_status, r.text
                    found = [await d.find(c, name) for name in names]
                    targets[dialect.name] = [k for k in found if k is not None]
                # The rest of the server's sessions, taken: the gateway's pool cannot grow.
                hogs = []
                with contextlib.suppress(asyncpg.TooManyConnectionsError):
                    while len(hogs) < 4:
                        hogs.append(await asyncpg.connect(pg_cluster.url))
                try:
                    for dialect in d.WRITERS:
                        # Updates: each holds a session for its statement (creates of a tenant
                        # that arrive together share one, core/store/postgres/create_batch.py,
                        # and reads may share one revision read and a cached page).
                        assert dialect.rename is not None
                        rename = dialect.rename
                        responses = await asyncio.gather(
                            *(rename(c, k, f"{k.name} renamed") for k in targets[dialect.name])
                        )
                        for r in responses:
                            if r.status_code >= 400:
                                dialect.assert_unavailable(r)
                                assert int(r.headers["retry-after"]) >= 1
                        assert any(r.status_code == 503 for r in responses), dialect.name
                finally:
                    for hog in hogs:
                        await hog.close()
            assert not gw.own_tracebacks(), gw.output()
    finally:
        pg_cluster.stop("fast")
        pg_cluster.start()
