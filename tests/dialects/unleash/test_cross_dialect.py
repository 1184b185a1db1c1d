"""One segment store, several dialects: what Unleash shows of other dialects' segments, and
what other dialects may do with segments Unleash strategies use."""

from __future__ import annotations

import httpx

from core.expr import ast
from core.expr.ast import Cmp, Lit, Or
from core.model import NewSegment, SegmentPatch
from core.store import Store
from tests.dialects.unleash.helpers import (
    SEGMENTS,
    add_strategy,
    auth,
    create_feature,
    create_segment,
)

V23 = "/v2.3/data/segments"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


async def test_a_v23_segment_shows_with_no_constraints(
    client: httpx.AsyncClient, token_a: str
) -> None:
    r = await client.post(V23, json={"name": "EMEA"}, headers=bearer(token_a))
    assert r.status_code == 200
    listed = (await client.get(SEGMENTS, headers=auth(token_a))).json()["segments"]
    [seg] = listed
    assert (seg["name"], seg["constraints"], seg["description"]) == ("EMEA", [], None)
    assert isinstance(seg["id"], int)
    got = await client.get(f"{SEGMENTS}/{seg['id']}", headers=auth(token_a))
    assert got.json()["name"] == "EMEA"


async def test_v23_cannot_delete_a_segment_a_strategy_uses(
    client: httpx.AsyncClient, token_a: str
) -> None:
    r = await client.post(V23, json={"name": "EMEA"}, headers=bearer(token_a))
    uuid = r.json()["result"]["id"]
    seq = (await client.get(SEGMENTS, headers=auth(token_a))).json()["segments"][0]["id"]
    await create_feature(client, token_a, "f1")
    strategy = await add_strategy(client, token_a, "f1", [seq])
    r = await client.delete(f"{V23}/{uuid}", headers=bearer(token_a))
    assert r.status_code == 409
    body = r.json()
    assert body["success"] is False
    assert "rule" in body["message"]
    url = (
        f"/api/admin/projects/default/features/f1/environments/development/strategies/"
        f"{strategy['id']}"
    )
    assert (await client.delete(url, headers=auth(token_a))).status_code == 200
    r = await client.delete(f"{V23}/{uuid}", headers=bearer(token_a))
    assert r.status_code == 204


async def test_a_segment_constraints_cannot_say_is_hidden_with_a_reason(
    client: httpx.AsyncClient, store: Store, token_a: str
) -> None:
    either = Or(
        (Cmp("eq", ("country",), Lit("string", "DE")), Cmp("eq", ("plan",), Lit("string", "pro")))
    )
    seg = await store.create_segment(
        "tenant-a", NewSegment(name="either", expression=ast.encode(either)), "adobe"
    )
    await create_segment(client, token_a, "shown")
    listed = (await client.get(SEGMENTS, headers=auth(token_a))).json()["segments"]
    assert [s["name"] for s in listed] == ["shown"]
    r = await client.get(f"{SEGMENTS}/{seg.seq}", headers=auth(token_a))
    assert r.status_code == 404
    assert r.json()["name"] == "NotFoundError"
    assert "constraints" in r.json()["message"] and str(seg.seq) in r.json()["message"]
    await create_feature(client, token_a, "f1")
    r = await client.post(
        "/api/admin/projects/default/features/f1/environments/development/strategies",
        json={"name": "default", "segments": [seg.seq]},
        headers=auth(token_a),
    )
    assert r.status_code == 404


async def test_round_trip_keeps_the_list_while_the_expression_is_unchanged(
    client: httpx.AsyncClient, store: Store, token_a: str
) -> None:
    sent = [
        {"contextName": "country", "operator": "IN", "values": ["DE"], "inverted": True},
        {"contextName": "plan", "operator": "NOT_IN", "values": ["free"]},
    ]
    created = await create_segment(client, token_a, "s", sent)
    assert created["constraints"] == [
        {"values": ["DE"], "inverted": True, "operator": "IN", "contextName": "country"},
        {"values": ["free"], "operator": "NOT_IN", "contextName": "plan"},
    ]
    # a description change through another dialect leaves the expression as it was
    page = await store.list_segments("tenant-a", sandbox=None)
    segment = page.items[0]
    await store.update_segment("tenant-a", segment.id, SegmentPatch(description="x"), "v23")
    again = (await client.get(f"{SEGMENTS}/{created['id']}", headers=auth(token_a))).json()
    assert again["constraints"] == created["constraints"]
    # another dialect changes the condition: the list is rendered from the new expression
    plan = Cmp("eq", ("plan",), Lit("string", "pro"))
    await store.update_segment(
        "tenant-a", segment.id, SegmentPatch(expression=ast.encode(plan)), "adobe"
    )
    rendered = (await client.get(f"{SEGMENTS}/{created['id']}", headers=auth(token_a))).json()
    assert rendered["constraints"] == [{"values": ["pro"], "operator": "IN", "contextName": "plan"}]


async def test_a_static_segment_is_not_shown(
    client: httpx.AsyncClient, store: Store, token_a: str
) -> None:
    await store.create_segment("tenant-a", NewSegment(name="list", kind="static"), "hal")
    assert (await client.get(SEGMENTS, headers=auth(token_a))).json() == {"segments": []}
