"""PQL ``inSegment("<id>")`` through Adobe's API, on both backends: a definition that names
another of the tenant's definitions is evaluated through it, shown as sent, refused when the
reference names nothing of the tenant or would close a cycle, and the definition it names
cannot be deleted or archived (in any dialect) while it is named."""

from __future__ import annotations

from typing import Any

import httpx

from tests.dialects.adobe.common import DEFS, body, create, evaluate, headers, service_error
from tests.dialects.confidence.helpers import BASE, assert_status, auth
from tests.dialects.confidence.helpers import create as confidence_create
from tests.dialects.hal.hal import Hal
from tests.dialects.unleash.helpers import create_feature, strategies_url

US = 'homeAddress.countryCode = "US"'


async def patch(client: httpx.AsyncClient, token: str, made: Any, pql: str) -> httpx.Response:
    """Adobe's PATCH: the whole definition, with a new PQL text."""
    return await client.patch(
        f"{DEFS}/{made['id']}", json=body(made["name"], pql), headers=headers(token)
    )


def profile(country: str, age: int) -> dict[str, Any]:
    return {"homeAddress": {"countryCode": country}, "person": {"age": age}}


async def test_in_segment_is_evaluated_through_the_named_segment(
    client: httpx.AsyncClient, token_a: str
) -> None:
    us = await create(client, token_a, "US", US)
    pql = f'inSegment("{us["id"]}") and person.age >= 18'
    adults = await create(client, token_a, "US adults", pql)
    assert adults["expression"]["value"] == pql  # shown as sent
    got = await client.get(f"{DEFS}/{adults['id']}", headers=headers(token_a))
    assert got.json()["expression"]["value"] == pql
    ids = [adults["id"]]
    assert (await evaluate(client, token_a, ids, profile("US", 30)))[ids[0]] is True
    assert (await evaluate(client, token_a, ids, profile("FR", 30)))[ids[0]] is False
    assert (await evaluate(client, token_a, ids, profile("US", 12)))[ids[0]] is False
    # not inSegment: everyone outside it
    outside = await create(client, token_a, "not US", f'not inSegment("{us["id"]}")')
    assert (await evaluate(client, token_a, [outside["id"]], profile("FR", 1)))[outside["id"]]
    # Changing the named segment changes what the referring one means.
    r = await patch(client, token_a, us, 'homeAddress.countryCode = "FR"')
    assert r.status_code == 200, r.text
    assert (await evaluate(client, token_a, ids, profile("FR", 30)))[ids[0]] is True


async def test_a_reference_to_nothing_of_the_tenant_is_400_and_stores_nothing(
    client: httpx.AsyncClient, token_a: str, token_b: str
) -> None:
    theirs = await create(client, token_b, "theirs", US, org="tenant-b@AdobeOrg")
    for ref in (theirs["id"], "7ba8b3ba-c1ba-4b4a-bf62-c91ee0d0d948", "1234"):
        r = await client.post(
            DEFS,
            json={
                "name": "x",
                "schema": {"name": "_xdm.context.profile"},
                "expression": {"type": "PQL", "format": "pql/text", "value": f'inSegment("{ref}")'},
            },
            headers=headers(token_a),
        )
        message = service_error(r, 400)
        assert ref in message and "names no existing segment" in message
    listed = await client.get(DEFS, headers=headers(token_a))
    assert listed.json()["page"]["totalCount"] == 0


async def test_the_streaming_guides_unterminated_example_is_a_syntax_error(
    client: httpx.AsyncClient, token_a: str
) -> None:
    # As published in Adobe's streaming segmentation guide: the id's string is never closed.
    pql = 'inSegment("7ba8b3ba-c1ba-4b4a-bf62-c91ee0d0d948) and homeAddress.countryCode = "US"'
    r = await client.post(
        DEFS,
        json={
            "name": "x",
            "schema": {"name": "_xdm.context.profile"},
            "expression": {"type": "PQL", "format": "pql/text", "value": pql},
        },
        headers=headers(token_a),
    )
    assert "expected" in service_error(r, 400)


async def test_a_cycle_is_400_naming_it(client: httpx.AsyncClient, token_a: str) -> None:
    a = await create(client, token_a, "a", US)
    b = await create(client, token_a, "b", f'inSegment("{a["id"]}")')
    before = (await client.get(f"{DEFS}/{a['id']}", headers=headers(token_a))).json()
    for pql in (f'inSegment("{b["id"]}")', f'inSegment("{a["id"]}")'):
        r = await patch(client, token_a, a, pql)
        message = service_error(r, 400)
        assert "cycle" in message
    assert (await client.get(f"{DEFS}/{a['id']}", headers=headers(token_a))).json() == before


async def test_a_named_segment_cannot_be_deleted_or_archived_through_any_dialect(
    client: httpx.AsyncClient, token_a: str
) -> None:
    us = await create(client, token_a, "US", US)
    user = await create(client, token_a, "uses US", f'inSegment("{us["id"]}")')
    r = await client.delete(f"{DEFS}/{us['id']}", headers=headers(token_a))
    assert "referenced by" in service_error(r, 409)
    r = await client.delete(f"/segmux/v1/segments/{us['id']}", headers=auth(token_a))
    assert r.status_code == 409, r.text
    r = await client.delete(f"/v2.3/data/segments/{us['id']}", headers=auth(token_a))
    assert r.status_code == 409 and r.json()["success"] is False
    assert "referenced by" in r.json()["message"]
    stored = (await client.get(f"/segmux/v1/segments/{us['id']}", headers=auth(token_a))).json()
    hal = Hal(client, token_a, "prod")
    r = await hal.delete(f"{await hal.segments_url()}/{stored['slug']}")
    assert r.status_code == 409 and "referenced by" in r.json()["message"]
    unleash = {"Authorization": token_a}
    r = await client.delete(f"/api/admin/segments/{stored['seq']}", headers=unleash)
    assert r.status_code == 409 and r.json()["name"] == "ConflictError"
    assert "referenced by" in r.json()["message"]
    shown = await client.get(f"/segmux/v1/segments/{us['id']}", headers=auth(token_a))
    slug = shown.json()["renderings"]["confidence"]["id"].removeprefix("segments/")
    r = await client.post(f"{BASE}/{slug}:archive", json={}, headers=auth(token_a))
    status = assert_status(r, 400, 9)
    assert "referenced by" in str(status)
    # The referring segment shows the reference as Confidence's segment criterion.
    shown = await client.get(f"/segmux/v1/segments/{user['id']}", headers=auth(token_a))
    assert shown.status_code == 200, shown.text
    # Once nothing names it, it goes.
    assert (await client.delete(f"{DEFS}/{user['id']}", headers=headers(token_a))).status_code in (
        200,
        204,
    )
    r = await client.delete(f"{DEFS}/{us['id']}", headers=headers(token_a))
    assert r.status_code in (200, 204), r.text


async def test_an_archived_segment_cannot_be_named(client: httpx.AsyncClient, token_a: str) -> None:
    us = await create(client, token_a, "US", US)
    shown = await client.get(f"/segmux/v1/segments/{us['id']}", headers=auth(token_a))
    slug = shown.json()["renderings"]["confidence"]["id"].removeprefix("segments/")
    r = await client.post(f"{BASE}/{slug}:archive", json={}, headers=auth(token_a))
    assert r.status_code == 200, r.text
    r = await client.post(
        DEFS,
        json={
            "name": "x",
            "schema": {"name": "_xdm.context.profile"},
            "expression": {
                "type": "PQL",
                "format": "pql/text",
                "value": f'inSegment("{us["id"]}")',
            },
        },
        headers=headers(token_a),
    )
    assert "archived" in service_error(r, 400)


async def test_other_dialects_show_the_reference_or_leave_it_out_with_the_reason(
    client: httpx.AsyncClient, token_a: str
) -> None:
    us = await create(client, token_a, "US", US)
    user = await create(client, token_a, "uses US", f'inSegment("{us["id"]}")')
    shown = await client.get(f"/segmux/v1/segments/{user['id']}", headers=auth(token_a))
    assert shown.status_code == 200, shown.text
    rendered = shown.json()["renderings"]
    slug = (await client.get(f"/segmux/v1/segments/{us['id']}", headers=auth(token_a))).json()[
        "slug"
    ]
    # Stored as segments/<slug>; Adobe still shows the id as sent.
    assert shown.json()["expression"] == {"t": "segment", "ref": f"segments/{slug}"}
    assert rendered["adobe"]["expression"] == f'inSegment("{us["id"]}")'
    # Confidence: a segment criterion naming the segment.
    criteria = rendered["confidence"]["expression"]["criteria"]
    assert list(criteria.values()) == [{"segment": {"segment": f"segments/{slug}"}}]
    # Unleash constraints and OData filters have no segment reference: refused with the reason,
    # and Unleash's list leaves it out (never shown as a constraint list that would widen it).
    assert rendered["unleash"] == {
        "expressible": False,
        "reason": "SegmentRef has no Unleash constraint operator",
    }
    assert rendered["hal"] == {
        "expressible": False,
        "reason": "OData filters cannot reference segments",
    }
    unleash = await client.get("/api/admin/segments", headers={"Authorization": token_a})
    assert [s["name"] for s in unleash.json()["segments"]] == ["US"]


async def test_naming_a_segment_that_needs_a_unit_never_widens(
    client: httpx.AsyncClient, token_a: str
) -> None:
    """inSegment of a Confidence segment allocated to a tenth of units: "no" without a unit
    (it cannot be known), and with one exactly what the tenth answers for that unit."""
    sweden = {"attributeName": "country", "eqRule": {"value": {"stringValue": "SE"}}}
    se = {"criteria": {"c": {"attribute": sweden}}, "expression": {"ref": "c"}}
    await confidence_create(
        client,
        token_a,
        "se-tenth",
        displayName="se-tenth",
        targeting=se,
        allocation={"proportion": {"value": "0.1"}},
    )
    items = (await client.get("/segmux/v1/segments", headers=auth(token_a))).json()["items"]
    tenth = next(s for s in items if s["slug"] == "se-tenth")
    made = await create(client, token_a, "in the tenth", f'inSegment("{tenth["id"]}")')
    ids = [made["id"], tenth["id"]]
    assert await evaluate(client, token_a, ids, {"country": "SE"}) == dict.fromkeys(ids, False)
    members = 0
    for unit in (f"u-{n}" for n in range(60)):
        r = await client.post(
            "/segmux/v1/evaluate",
            headers={"Authorization": f"Bearer {token_a}"},
            json={"context": {"country": "SE"}, "segments": ids, "unit": unit},
        )
        results = r.json()["results"]
        assert results[made["id"]] == results[tenth["id"]], unit
        members += results[tenth["id"]]
    assert 0 < members < 60  # the tenth's buckets, not everyone nor no one


async def test_a_slug_or_a_confidence_name_names_the_segment_too(
    client: httpx.AsyncClient, token_a: str
) -> None:
    us = await create(client, token_a, "US", US)
    slug = (await client.get(f"/segmux/v1/segments/{us['id']}", headers=auth(token_a))).json()[
        "slug"
    ]
    for n, ref in enumerate((slug, f"segments/{slug}")):
        made = await create(client, token_a, f"by {n}", f'inSegment("{ref}")')
        assert made["expression"]["value"] == f'inSegment("{ref}")'
        stored = await client.get(f"/segmux/v1/segments/{made['id']}", headers=auth(token_a))
        assert stored.json()["expression"] == {"t": "segment", "ref": f"segments/{slug}"}
        result = await evaluate(client, token_a, [made["id"]], profile("US", 1))
        assert result == {made["id"]: True}


async def test_unleash_cannot_show_or_attach_it(client: httpx.AsyncClient, token_a: str) -> None:
    """Unleash has no segment reference: the segment's detail is a 404 with the reason and a
    strategy cannot take it, so no SDK is ever sent it (a segment that becomes inexpressible
    later is sent as matching no one: ``test_never_widen``)."""
    us = await create(client, token_a, "US", US)
    user = await create(client, token_a, "uses US", f'inSegment("{us["id"]}")')
    seq = (await client.get(f"/segmux/v1/segments/{user['id']}", headers=auth(token_a))).json()[
        "seq"
    ]
    unleash = {"Authorization": token_a}
    r = await client.get(f"/api/admin/segments/{seq}", headers=unleash)
    assert r.status_code == 404 and "SegmentRef" in r.text, r.text
    await create_feature(client, token_a, "f")
    r = await client.post(
        strategies_url("f"), headers=unleash, json={"name": "default", "segments": [seq]}
    )
    assert r.status_code == 404, r.text
