"""Segments are shared: a Confidence rule may use any segment of the tenant, whichever API made
it, and while one does, no API can delete or archive that segment — each refuses in its own
format — while Adobe's and Unleash's views of the segment stay exactly as they were."""

from __future__ import annotations

from typing import Any

import httpx

from tests.dialects.adobe.common import DEFS, service_error
from tests.dialects.adobe.common import create as adobe_create
from tests.dialects.adobe.common import headers as adobe_headers
from tests.dialects.confidence.helpers import BASE, assert_status, auth
from tests.dialects.unleash.helpers import SEGMENTS, create_segment
from tests.dialects.unleash.helpers import auth as unleash_auth

FLAGS = "/v1/flags"


async def confidence_id(client: httpx.AsyncClient, token: str, segment_id: str) -> str:
    """The segment's Confidence name, as segmux's own API renders it."""
    r = await client.get(f"/segmux/v1/segments/{segment_id}", headers=auth(token))
    assert r.status_code == 200, r.text
    name: str = r.json()["renderings"]["confidence"]["id"]
    return name


async def rule_on(client: httpx.AsyncClient, token: str, segment: str) -> dict[str, Any]:
    r = await client.post(
        FLAGS,
        params={"flagId": "shared"},
        json={
            "schema": {"schema": {"on": {"boolSchema": {}}}},
            "variants": [{"name": "flags/shared/variants/on", "value": {"on": True}}],
        },
        headers=auth(token),
    )
    assert r.status_code == 200, r.text
    r = await client.post(
        f"{FLAGS}/shared/rules",
        json={
            "segment": segment,
            "enabled": True,
            "assignmentSpec": {
                "bucketCount": 1,
                "assignments": [
                    {
                        "variant": {"variant": "flags/shared/variants/on"},
                        "bucketRanges": [{"lower": 0, "upper": 1}],
                    }
                ],
            },
        },
        headers=auth(token),
    )
    assert r.status_code == 200, r.text
    made: dict[str, Any] = r.json()
    return made


async def test_an_adobe_segment_backs_a_rule_and_cannot_go_while_it_does(
    client: httpx.AsyncClient, token_a: str
) -> None:
    made = await adobe_create(client, token_a, "US workers")
    before = (await client.get(f"{DEFS}/{made['id']}", headers=adobe_headers(token_a))).json()
    name = await confidence_id(client, token_a, made["id"])
    rule = await rule_on(client, token_a, name)
    assert rule["segment"] == name
    # segmux's own API says which flags use it; Adobe's view is unchanged by the rule.
    shown = await client.get(f"/segmux/v1/segments/{made['id']}", headers=auth(token_a))
    assert shown.json()["usedBy"] == {"confidence": ["flags/shared"]}
    listed = await client.get("/segmux/v1/segments", headers=auth(token_a))
    [entry] = [s for s in listed.json()["items"] if s["id"] == made["id"]]
    assert entry["usedBy"] == {"confidence": ["flags/shared"]}
    after = (await client.get(f"{DEFS}/{made['id']}", headers=adobe_headers(token_a))).json()
    assert after == before
    # Adobe refuses the delete in its own format; Confidence refuses the archive in its own.
    r = await client.delete(f"{DEFS}/{made['id']}", headers=adobe_headers(token_a))
    assert "in use" in service_error(r, 409)
    slug = name.removeprefix("segments/")
    r = await client.post(f"{BASE}/{slug}:archive", json={}, headers=auth(token_a))
    status = assert_status(r, 400, 9)
    assert rule["name"] in status["details"][0]["violations"][0]["description"]
    r = await client.delete(f"/segmux/v1/segments/{made['id']}", headers=auth(token_a))
    assert r.status_code == 409
    assert (await client.get(f"{DEFS}/{made['id']}", headers=adobe_headers(token_a))).json() == (
        before
    )
    # Without the rule, the delete goes through.
    assert (await client.delete(f"/v1/{rule['name']}", headers=auth(token_a))).status_code == 200
    shown = await client.get(f"/segmux/v1/segments/{made['id']}", headers=auth(token_a))
    assert "usedBy" not in shown.json()
    r = await client.delete(f"{DEFS}/{made['id']}", headers=adobe_headers(token_a))
    assert r.status_code in (200, 204), r.text


async def test_an_unleash_segment_backs_a_rule_and_cannot_be_deleted(
    client: httpx.AsyncClient, token_a: str
) -> None:
    made = await create_segment(client, token_a, "beta testers")
    shown = f"{SEGMENTS}/{made['id']}"
    before = (await client.get(shown, headers=unleash_auth(token_a))).json()
    [segment] = [
        s
        for s in (await client.get("/segmux/v1/segments", headers=auth(token_a))).json()["items"]
        if s["name"] == "beta testers"
    ]
    rule = await rule_on(client, token_a, segment["renderings"]["confidence"]["id"])
    assert (await client.get(shown, headers=unleash_auth(token_a))).json() == before
    r = await client.delete(shown, headers=unleash_auth(token_a))
    assert r.status_code == 409 and r.json()["name"] == "ConflictError"
    assert (await client.get(shown, headers=unleash_auth(token_a))).json() == before
    await client.delete(f"/v1/{rule['name']}", headers=auth(token_a))
    assert (await client.delete(shown, headers=unleash_auth(token_a))).status_code == 204


async def test_an_archived_segment_cannot_back_a_rule(
    client: httpx.AsyncClient, token_a: str
) -> None:
    r = await client.post(BASE, params={"segmentId": "retired"}, json={}, headers=auth(token_a))
    assert r.status_code == 200
    assert (await client.post(f"{BASE}/retired:archive", headers=auth(token_a))).status_code == 200
    await client.post(
        FLAGS,
        params={"flagId": "shared"},
        json={"variants": []},
        headers=auth(token_a),
    )
    r = await client.post(
        f"{FLAGS}/shared/rules",
        json={"segment": "segments/retired", "assignmentSpec": {"bucketCount": 1}},
        headers=auth(token_a),
    )
    assert_status(r, 400, 9)


async def test_a_segment_of_another_tenant_is_not_found(
    client: httpx.AsyncClient, token_a: str, token_b: str
) -> None:
    r = await client.post(BASE, params={"segmentId": "theirs"}, json={}, headers=auth(token_b))
    assert r.status_code == 200
    await client.post(FLAGS, params={"flagId": "mine"}, json={}, headers=auth(token_a))
    r = await client.post(
        f"{FLAGS}/mine/rules",
        json={"segment": "segments/theirs", "assignmentSpec": {"bucketCount": 1}},
        headers=auth(token_a),
    )
    assert_status(r, 404, 5)
