"""Confidence flag rules racing segment removals across two ``segmux serve`` processes on one
PostgreSQL database: a rule attaches a segment (created with the rule, or moved to it by a
PATCH) while another process deletes the segment through a dialect that deletes, or archives it
through Confidence. Exactly one side wins every round, and no rule ever points at an archived
segment (nor at a deleted one: a foreign key). Without the share lock a rule takes on its
segment (``core.store.segment_refs.lock_usable``), an archive counts the rules before the
attach commits and both win.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterator
from typing import Any

import httpx
import pytest

from tests import pg
from tests.reliability import dialects as d
from tests.reliability.procs import Gateway, gateways
from tests.reliability.test_races import bounded, clients, fetchval, no_5xx

ROUNDS = 160
LANES = 8  # flags raced on at once, one segment per round each
REMOVERS = (d.V23, d.UNLEASH_DIALECT, d.ADOBE_DIALECT, d.HAL, d.SEGMUX, d.CONFIDENCE, d.CONFIDENCE)
"""Delete through each dialect that deletes, and Confidence's ``:archive`` (twice as often: the
transition a foreign key cannot stop)."""


@pytest.fixture(scope="module")
def db_url(pg_template: str) -> Iterator[str]:
    url = pg.create_database("segmux_flag_race", template=pg_template)
    yield url
    pg.drop_database(url)


@pytest.fixture(scope="module")
def pair(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Gateway]]:
    with gateways(
        db_url, tmp_path_factory.mktemp("flag-races"), count=2, env={"SEGMUX_FRESHNESS": "strict"}
    ) as started:
        yield started
        for gw in started:
            assert not gw.own_tracebacks(), gw.output()


def _rule(segment: d.Keys) -> dict[str, Any]:
    return {
        "segment": f"segments/{segment.slug}",
        "enabled": True,
        "assignmentSpec": {
            "bucketCount": 1,
            "assignments": [{"clientDefault": {}, "bucketRanges": [{"lower": 0, "upper": 1}]}],
        },
    }


def _attach(
    c: httpx.AsyncClient, flag: str, home_rule: str, segment: d.Keys, how: int
) -> Awaitable[httpx.Response]:
    """Both ways a Confidence rule comes to use a segment: created on it, or moved to it."""
    if how % 2 == 0:
        return c.post(f"/v1/flags/{flag}/rules", json=_rule(segment), headers=d.bearer())
    return c.patch(
        f"/v1/{home_rule}",
        params={"updateMask": "segment"},
        json={"segment": f"segments/{segment.slug}"},
        headers=d.bearer(),
    )


async def _segments(a: httpx.AsyncClient, b: httpx.AsyncClient, count: int) -> list[d.Keys]:
    created = await bounded(
        [
            lambda i=i: (a, b)[i % 2].post(  # type: ignore[misc]
                "/segmux/v1/segments", json={"name": f"flag-raced-{i:03}"}, headers=d.bearer()
            )
            for i in range(count)
        ]
    )
    return [
        d.Keys(id=s["id"], seq=s["seq"], slug=s["slug"], name=s["name"])
        for s in (r.json() for r in created)
    ]


async def test_a_rule_never_uses_a_deleted_or_archived_segment(
    pair: list[Gateway], db_url: str
) -> None:
    async with clients(pair) as (a, b):
        segments = await _segments(a, b, ROUNDS + LANES + 1)
        homes, segments = segments[:LANES], segments[LANES:]
        lanes: list[tuple[str, str]] = []
        for lane, home in enumerate(homes):
            flag = f"race-{lane}"
            r = await a.post("/v1/flags", params={"flagId": flag}, json={}, headers=d.bearer())
            assert r.status_code == 200, r.text
            r = await a.post(f"/v1/flags/{flag}/rules", json=_rule(home), headers=d.bearer())
            assert r.status_code == 200, r.text
            lanes.append((flag, r.json()["name"]))

        # Without a race first: an archived segment cannot be used, either way.
        archived = segments.pop()
        assert (await d.CONFIDENCE.remove(b, archived)).status_code == 200
        for how in (0, 1):
            refused = await _attach(a, *lanes[0], archived, how)
            body = d.confidence_error(refused, 400, 9)
            assert "archived" in body["message"], body

        async def lane(index: int) -> list[httpx.Response]:
            flag, home_rule = lanes[index]
            seen: list[httpx.Response] = []
            for step, k in enumerate(segments[index::LANES]):
                remover = REMOVERS[(index + step) % len(REMOVERS)]
                attacher, deleter = (a, b) if step % 2 == 0 else (b, a)
                attach, remove = await asyncio.gather(
                    _attach(attacher, flag, home_rule, k, step), remover.remove(deleter, k)
                )
                seen += [attach, remove]
                won = [r.status_code < 300 for r in (attach, remove)]
                assert won.count(True) == 1, (remover.name, attach.text, remove.text)
                assert all(
                    400 <= r.status_code < 500 for r in (attach, remove) if r.status_code >= 300
                ), (attach.text, remove.text)
                rules = await (b if step % 2 == 0 else a).get(
                    f"/v1/flags/{flag}/rules", headers=d.bearer()
                )
                used = {r["segment"] for r in rules.json()["rules"]}
                assert (f"segments/{k.slug}" in used) == won[0], (remover.name, rules.text)
                if won[0] and step % 2 == 0:  # a created rule: remove it for the next round
                    gone = await attacher.delete(f"/v1/{attach.json()['name']}", headers=d.bearer())
                    assert gone.status_code == 200, gone.text
            return seen

        results = await asyncio.gather(*(lane(i) for i in range(LANES)))
        no_5xx([r for seen in results for r in seen])

        stale = await fetchval(
            db_url,
            "SELECT count(*) FROM confidence_rules r JOIN segments s "
            "ON s.tenant = r.tenant AND s.id = r.segment_id WHERE s.state = 'ARCHIVED'",
        )
        assert stale == 0
