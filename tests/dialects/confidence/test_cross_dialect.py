"""Segments made by other dialects, as Confidence sees them: their condition rendered as
targeting, or — when targeting cannot say it — absent from lists and NOT_FOUND with the reason
(never a weaker condition)."""

from __future__ import annotations

import httpx

from core.expr import ast
from core.model import NewSegment
from core.store import Store
from tests.dialects.confidence.helpers import BASE, assert_status, auth

GERMANY = ast.Cmp("eq", ("country",), ast.Lit("string", "DE"))


async def test_a_v23_segment_is_an_ok_segment_for_everyone(
    client: httpx.AsyncClient, token_a: str
) -> None:
    made = await client.post(
        "/v2.3/data/segments", json={"name": "From v2.3"}, headers=auth(token_a)
    )
    assert made.status_code == 200
    [shown] = (await client.get(BASE, headers=auth(token_a))).json()["segments"]
    assert shown["displayName"] == "From v2.3" and shown["state"] == "OK"
    assert "targeting" not in shown
    assert shown["allocation"] == {"proportion": {"value": "1"}}
    full = await client.get(
        f"{BASE}/{shown['name'].removeprefix('segments/')}",
        params={"view": "FULL"},
        headers=auth(token_a),
    )
    assert full.json()["bitsetAllocation"]["bitset"].startswith("////")  # every bucket


async def test_a_condition_from_elsewhere_is_rendered_as_targeting(
    client: httpx.AsyncClient, token_a: str, store: Store
) -> None:
    await store.create_segment(
        "tenant-a",
        NewSegment(name="Germans", slug="germans", expression=ast.encode(GERMANY)),
        "unleash",
    )
    r = await client.get(f"{BASE}/germans", headers=auth(token_a))
    assert r.status_code == 200, r.text
    assert r.json()["targeting"] == {
        "criteria": {
            "c0": {
                "attribute": {
                    "attributeName": "country",
                    "eqRule": {"value": {"stringValue": "DE"}},
                }
            }
        },
        "expression": {"ref": "c0"},
    }
    assert r.json()["creator"] == "identities/unleash"


async def test_a_condition_changed_elsewhere_replaces_the_kept_targeting(
    client: httpx.AsyncClient, token_a: str, store: Store
) -> None:
    sweden = {
        "criteria": {
            "se": {
                "attribute": {
                    "attributeName": "country",
                    "eqRule": {"value": {"stringValue": "SE"}},
                }
            }
        },
        "expression": {"ref": "se"},
    }
    await client.post(
        BASE, params={"segmentId": "moving"}, json={"targeting": sweden}, headers=auth(token_a)
    )
    segment = await store.get_segment("tenant-a", "slug", "moving")
    from core.model import SegmentPatch

    await store.update_segment(
        "tenant-a", segment.id, SegmentPatch(expression=ast.encode(GERMANY)), "other"
    )
    r = await client.get(f"{BASE}/moving", headers=auth(token_a))
    assert r.json()["targeting"]["expression"] == {"ref": "c0"}
    assert "DE" in str(r.json()["targeting"])


async def test_what_targeting_cannot_say_is_hidden(
    client: httpx.AsyncClient, token_a: str, store: Store
) -> None:
    regex = ast.Regex(("email",), "@example\\.com$")
    await store.create_segment(
        "tenant-a", NewSegment(name="Regex", slug="by-regex", expression=ast.encode(regex)), "hal"
    )
    await store.create_segment(
        "tenant-a", NewSegment(name="Listed", slug="static-list", kind="static"), "hal"
    )
    await client.post(BASE, params={"segmentId": "visible"}, json={}, headers=auth(token_a))
    listed = (await client.get(BASE, headers=auth(token_a))).json()["segments"]
    assert [s["name"] for s in listed] == ["segments/visible"]
    for slug in ("by-regex", "static-list"):
        body = assert_status(await client.get(f"{BASE}/{slug}", headers=auth(token_a)), 404, 5)
        assert "not expressible" in body["message"]
        assert body["details"][0]["@type"] == "type.googleapis.com/google.rpc.ResourceInfo"
        for verb in ("allocate", "archive"):
            r = await client.post(f"{BASE}/{slug}:{verb}", json={}, headers=auth(token_a))
            assert_status(r, 404, 5)
        r = await client.patch(f"{BASE}/{slug}", json={"description": "x"}, headers=auth(token_a))
        assert_status(r, 404, 5)
    assert (await store.get_segment("tenant-a", "slug", "by-regex")).state == "OK"
