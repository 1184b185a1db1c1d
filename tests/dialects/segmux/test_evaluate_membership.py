"""``evaluate`` for the segments that are not a condition over the context alone, on both
backends: static segments (their stored member list, asked about the context's identity) and
Confidence segment criteria (the named segment's answer for the same context), with and
without a unit, single and batched."""

from __future__ import annotations

from typing import Any

import httpx

from tests.dialects.confidence.helpers import create as confidence_create
from tests.dialects.hal.hal import Hal


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def evaluate(client: httpx.AsyncClient, token: str, **body: Any) -> dict[str, bool]:
    r = await client.post("/segmux/v1/evaluate", json=body, headers=auth(token))
    assert r.status_code == 200, r.text
    results: dict[str, bool] = r.json()["results"]
    return results


async def canonical_id(client: httpx.AsyncClient, token: str, name: str) -> str:
    r = await client.get("/segmux/v1/segments", params={"q": name}, headers=auth(token))
    assert r.status_code == 200, r.text
    ids = [s["id"] for s in r.json()["items"] if s["name"] == name]
    assert len(ids) == 1, r.text
    return ids[0]


async def test_a_static_segment_is_its_member_list(client: httpx.AsyncClient, token_a: str) -> None:
    hal = Hal(client, token_a)
    friends = await hal.create_segment("Friends")
    ana = await hal.create_individual("ana", city="Madrid")
    await hal.create_individual("bob", city="Madrid")
    r = await hal.join(friends, ana)
    assert r.status_code in (200, 201, 204), r.text
    sid = await canonical_id(client, token_a, "Friends")
    asked = {"segments": [sid]}
    # No identity in the context: membership cannot be known, so not a member (never widened).
    assert await evaluate(client, token_a, context={"city": "Madrid"}, **asked) == {sid: False}
    assert await evaluate(client, token_a, context={"identifier": "ana"}, **asked) == {sid: True}
    assert await evaluate(client, token_a, context={"targeting_key": "ana"}) == {sid: True}
    assert await evaluate(client, token_a, context={"identifier": "bob"}) == {sid: False}
    assert await evaluate(client, token_a, context={}, unit="ana") == {sid: True}
    assert await evaluate(client, token_a, context={"identifier": "ana"}, unit="bob") == {
        sid: False
    }
    r = await client.post(
        "/segmux/v1/evaluate:batch",
        json={"contexts": [{"identifier": "ana"}, {"identifier": "bob"}, {}]},
        headers=auth(token_a),
    )
    assert r.status_code == 200, r.text
    assert [x["results"][sid] for x in r.json()["results"]] == [True, False, False]
    # Leaving the list is seen at once.
    r = await hal.delete(f"{hal_href(friends)}/memberships/ana")
    assert r.status_code in (200, 204), r.text
    assert await evaluate(client, token_a, context={"identifier": "ana"}) == {sid: False}


def hal_href(doc: dict[str, Any]) -> str:
    return str(doc["_links"]["self"]["href"]).removeprefix("http://segmux.test")


SWEDEN = {
    "criteria": {
        "se": {
            "attribute": {"attributeName": "country", "eqRule": {"value": {"stringValue": "SE"}}}
        }
    },
    "expression": {"ref": "se"},
}


async def test_segment_criteria_ask_the_named_segment(
    client: httpx.AsyncClient, token_a: str
) -> None:
    await confidence_create(client, token_a, "swedes", displayName="Swedes", targeting=SWEDEN)
    await confidence_create(
        client,
        token_a,
        "not-swedes",
        displayName="Not Swedes",
        targeting={
            "criteria": {"s": {"segment": {"segment": "segments/swedes"}}},
            "expression": {"not": {"ref": "s"}},
        },
    )
    # Two levels: criteria resolve transitively.
    await confidence_create(
        client,
        token_a,
        "swedes-too",
        displayName="Swedes too",
        targeting={
            "criteria": {"n": {"segment": {"segment": "segments/not-swedes"}}},
            "expression": {"not": {"ref": "n"}},
        },
    )
    ids = {
        name: await canonical_id(client, token_a, name)
        for name in ("Swedes", "Not Swedes", "Swedes too")
    }
    for unit in (None, "user-1"):
        extra = {} if unit is None else {"unit": unit}
        se = await evaluate(client, token_a, context={"country": "SE"}, **extra)
        no = await evaluate(client, token_a, context={"country": "NO"}, **extra)
        assert (se[ids["Swedes"]], se[ids["Not Swedes"]]) == (True, False), unit
        assert (no[ids["Swedes"]], no[ids["Not Swedes"]]) == (False, True), unit
        assert (se[ids["Swedes too"]], no[ids["Swedes too"]]) == (True, False), unit
        only = await evaluate(
            client, token_a, context={"country": "NO"}, segments=[ids["Not Swedes"]], **extra
        )
        assert only == {ids["Not Swedes"]: True}, unit
