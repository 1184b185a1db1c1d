"""Noisy neighbours: while tenant A abuses a real ``segmux serve`` with its own token, tenant B
on the same process and store is still served, on both backends.

For each abuse of :mod:`tests.reliability.abuse` (backtracking regexes under a full batch,
cache-busting spellings of a large list, an enormous HAL filter's members page ten at a time,
fifty connections that never finish their headers), B's segment list, segment, evaluate,
Unleash client features and HAL individuals page all succeed within a generous bound, round
after round, and ``/healthz`` answers within a few seconds all along. These are liveness
bounds, not benchmarks: ``bench.noisy`` measures B's latency under the same abuses.

A's own answers may be refusals (a budget, a limit, a cap on its concurrent work: those are
the point) but never a 500, and the gateway logs no unhandled error. Two of the abuses also
hold the gateway to its own bounds: the cache-busting spellings leave its memory under a
ceiling far above any byte bound of its caches, and every slow connection is closed once the
header timeout has passed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import pg
from tests.reliability.abuse import (
    ABUSES,
    HEALTH_BOUND,
    RSS_CEILING_MB,
    SLOW_CONNECTIONS,
    Abuse,
    Sample,
    Setup,
    Tokens,
    end_leftover_queries,
    neighbour,
    neighbour_calls,
    prepare,
)
from tests.reliability.procs import Gateway

WINDOW = 20.0  # seconds B is watched while A abuses
BOUND = 10.0  # seconds any one of B's requests may take, under any abuse
ABUSE_LIMIT = WINDOW + 30  # A stops by itself after this, whatever happens
CACHE_LIMIT = 150.0
"""The cache abuse runs all its spellings (memory adds up with each one), within this bound; B
is watched until it has finished."""
HEADER_TIMEOUT = 5  # seconds a client has to send its headers (well inside the window)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def prepared(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Setup]]:
    """A store with both tenants (tokens from the CLI, data through the API), set up once per
    backend; each test gets a gateway process of its own on it."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('noisy')}/segmux.db"
    else:
        url = pg.create_database("segmux_noisy", template=request.getfixturevalue("pg_template"))
    try:
        tokens = Tokens.create(url)
        gw = Gateway(url, tmp_path_factory.mktemp("noisy-setup")).start()
        try:
            setup = pg.run_sync(lambda: prepare(gw.url, tokens))
        finally:
            gw.stop()
        yield url, setup
    finally:
        if request.param == "postgres":
            pg.drop_database(url)


@pytest.fixture
def gateway(prepared: tuple[str, Setup], tmp_path: Path) -> Iterator[Gateway]:
    """A fresh process per abuse: work the gateway failed to stop must not spill into the next
    test's figures."""
    url = prepared[0]
    gw = Gateway(url, tmp_path, env={"SEGMUX_HEADER_TIMEOUT": str(HEADER_TIMEOUT)}).start()
    try:
        yield gw
    finally:
        gw.stop()
        if url.startswith("postgresql"):
            pg.run_sync(lambda: end_leftover_queries(url))


def _failures(samples: list[Sample]) -> list[str]:
    out = []
    for s in samples:
        bound = HEALTH_BOUND if s.call == "healthz" else BOUND
        if s.status is None or not 200 <= s.status < 300 or s.seconds > bound:
            out.append(
                f"{s.call}: {s.status or 'no answer'} after {s.seconds:.1f} s {s.error}".rstrip()
            )
    return out


@pytest.mark.parametrize("abuse", ABUSES)
async def test_tenant_b_is_served_while_tenant_a_abuses(
    prepared: tuple[str, Setup], gateway: Gateway, abuse: str
) -> None:
    setup = prepared[1]
    calls = neighbour_calls(setup)
    # B alone first: if this fails, the harness is wrong, not the isolation.
    alone = await neighbour(gateway.url, calls, 0, BOUND)
    assert not _failures(alone), _failures(alone)

    assert gateway.proc is not None
    whole = abuse == "cache"
    a = Abuse(
        abuse,
        gateway.url,
        gateway.proc.pid,
        setup,
        max_seconds=CACHE_LIMIT if whole else ABUSE_LIMIT,
    )
    running = asyncio.create_task(a.run())
    await asyncio.sleep(1.0)  # A's first requests are in the gateway
    try:
        samples = await neighbour(gateway.url, calls, WINDOW, BOUND, running if whole else None)
    finally:
        a.stop.set()
        report = await asyncio.wait_for(running, 60)
    print(report.summary())

    served = {s.call for s in samples if s.status is not None and s.status < 300}
    failed = _failures(samples)
    assert not failed, (
        f"{len(failed)} of B's {len(samples)} requests failed while A ran "
        f"{report.summary()}:\n" + "\n".join(failed[:20])
    )
    assert served == {c.name for c in calls}, served
    assert gateway.alive(), gateway.output()[-3000:]
    assert 500 not in report.statuses, report.summary()
    if abuse == "cache":  # the cache keeps to its byte bound, whatever the spelling
        assert report.peak_rss_mb < RSS_CEILING_MB, report.summary()
    if abuse == "slow":  # none of them holds its connection past the header timeout
        assert report.cut_off == SLOW_CONNECTIONS, report.summary()
    assert not gateway.own_tracebacks(), gateway.output()[-3000:]
