"""Segments made or changed through other dialects, as Adobe shows them: their condition rendered
as PQL, or — where PQL cannot say it exactly — left out of lists and a 422 by id."""

from __future__ import annotations

import httpx

from core.expr import ast
from core.expr.ast import Cmp, In, Lit
from core.model import NewSegment, SegmentPatch
from core.store import Store
from tests.dialects.adobe.common import DEFS, create, headers, service_error

US_OR_CA = In(("workAddress", "country"), (Lit("string", "CA"), Lit("string", "US")))
SEMVER = Cmp("ge", ("appVersion",), Lit("semver", "1.2.0"))


async def foreign(store: Store, name: str, expression: ast.Expr | None = None, **kw: object) -> str:
    encoded = ast.encode(expression) if expression is not None else None
    segment = await store.create_segment(
        "tenant-a", NewSegment(name=name, expression=encoded, **kw), "other"
    )  # type: ignore[arg-type]
    return segment.id


async def test_v23_segment_is_everyone_in_pql(client: httpx.AsyncClient, token_a: str) -> None:
    r = await client.post(
        "/v2.3/data/segments", json={"name": "EMEA"}, headers={"Authorization": f"Bearer {token_a}"}
    )
    segment_id = r.json()["result"]["id"]
    d = (await client.get(f"{DEFS}/{segment_id}", headers=headers(token_a))).json()
    assert d["name"] == "EMEA"
    assert d["expression"] == {"type": "PQL", "format": "pql/text", "value": "true"}
    assert d["schema"] == {"name": "_xdm.context.profile"}
    assert d["description"] == ""
    assert d["evaluationInfo"]["batch"] == {"enabled": True}


async def test_foreign_condition_is_rendered_as_pql_text(
    client: httpx.AsyncClient, store: Store, token_a: str
) -> None:
    segment_id = await foreign(store, "north america", US_OR_CA)
    d = (await client.get(f"{DEFS}/{segment_id}", headers=headers(token_a))).json()
    assert d["expression"] == {
        "type": "PQL",
        "format": "pql/text",
        "value": 'workAddress.country in ["CA", "US"]',
    }


async def test_inexpressible_condition_is_left_out_and_422_by_id(
    client: httpx.AsyncClient, store: Store, token_a: str
) -> None:
    semver_id = await foreign(store, "new app", SEMVER)
    static_id = await foreign(store, "listed", kind="static")
    shown = await create(client, token_a, "adobe")
    out = (await client.get(DEFS, headers=headers(token_a))).json()
    assert [s["id"] for s in out["segments"]] == [shown["id"]]
    assert out["page"]["pageSize"] == 1
    assert out["page"]["totalCount"] == 3
    for segment_id in (semver_id, static_id):
        r = await client.get(f"{DEFS}/{segment_id}", headers=headers(token_a))
        assert "cannot be stated in PQL" in service_error(r, 422)
    r = await client.post(
        f"{DEFS}/bulk-get", json=[semver_id, shown["id"]], headers=headers(token_a)
    )
    assert list(r.json()["results"]) == [shown["id"]]
    assert r.json()["errors"][semver_id]["code"] == 422


async def test_patch_gives_an_inexpressible_dynamic_segment_a_pql_condition(
    client: httpx.AsyncClient, store: Store, token_a: str
) -> None:
    semver_id = await foreign(store, "new app", SEMVER)
    sent = {
        "name": "new app",
        "expression": {"type": "PQL", "format": "pql/text", "value": 'appVersion = "2"'},
        "schema": {"name": "_xdm.context.profile"},
    }
    r = await client.patch(f"{DEFS}/{semver_id}", json=sent, headers=headers(token_a))
    assert r.status_code == 200, r.text
    assert r.json()["expression"]["value"] == 'appVersion = "2"'
    static_id = await foreign(store, "listed", kind="static")
    r = await client.patch(
        f"{DEFS}/{static_id}", json={**sent, "name": "listed"}, headers=headers(token_a)
    )
    service_error(r, 422)
    # Deleting needs no condition.
    r = await client.delete(f"{DEFS}/{static_id}", headers=headers(token_a))
    assert r.status_code == 200


async def test_condition_changed_elsewhere_is_not_shown_stale(
    client: httpx.AsyncClient, store: Store, token_a: str
) -> None:
    made = await create(client, token_a, "x")
    await store.update_segment(
        "tenant-a", made["id"], SegmentPatch(expression=ast.encode(US_OR_CA)), "unleash"
    )
    d = (await client.get(f"{DEFS}/{made['id']}", headers=headers(token_a))).json()
    assert d["expression"] == {
        "type": "PQL",
        "format": "pql/text",
        "value": 'workAddress.country in ["CA", "US"]',
    }
    # What Adobe kept for itself is still there.
    assert (d["ttlInDays"], d["profileInstanceId"]) == (60, "ups")


async def test_other_dialects_extensions_survive_an_adobe_patch(
    client: httpx.AsyncClient, store: Store, token_a: str
) -> None:
    segment_id = await foreign(store, "kept", US_OR_CA, extensions={"unleash": {"project": "web"}})
    sent = {
        "name": "kept",
        "expression": {"type": "PQL", "format": "pql/text", "value": "a = 1"},
        "schema": {"name": "_xdm.context.profile"},
    }
    assert (
        await client.patch(f"{DEFS}/{segment_id}", json=sent, headers=headers(token_a))
    ).status_code == 200
    stored = await store.get_segment("tenant-a", "id", segment_id)
    assert stored.extensions["unleash"] == {"project": "web"}
    assert stored.extensions["adobe"]["expression"]["value"] == "a = 1"
