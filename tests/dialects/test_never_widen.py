"""Never widen: a segment that a condition alone cannot describe — allocated to a proportion of
units by bucket, ARCHIVED, or UNALLOCATED — is never shown or served as its bare condition.

Ten Swedish and two Norwegian individuals; Confidence segments on ``country = SE``: all of them
(proportion 1, and "1.0"), a tenth (0.1), an archived one and an unallocated (coordinated) one.
Through every dialect's HTTP API, on both backends:

* Confidence shows each exactly (state and allocation); v2.3 shows each by name only (it states
  no condition and no members, so it claims nothing about who is in them);
* Adobe (PQL), Unleash (constraints) and HAL (OData) show only the full ones: the others are left
  out of their lists, their details answer the dialect's refusal with the reason, HAL's members
  and an individual's segments leave them out, and Unleash strategies cannot take them;
* segmux's ``renderings`` agree with every dialect;
* ``evaluate`` and ``evaluate:batch`` match none of them without a unit and say why; with a unit
  the tenth matches exactly the units whose bucket (Confidence's hash) is in its bitset.
"""

from __future__ import annotations

import base64
from typing import Any

import httpx

from core.buckets import bucket, has_bucket
from core.store import Store
from tests.dialects.adobe.common import DEFS
from tests.dialects.adobe.common import headers as adobe_headers
from tests.dialects.confidence.helpers import call
from tests.dialects.confidence.helpers import create as confidence_create
from tests.dialects.unleash.helpers import add_strategy, create_feature, strategies_url

SWEDES = [f"se-{i}" for i in range(10)]
NORWEGIANS = ["no-0", "no-1"]
SE = {
    "criteria": {
        "c": {"attribute": {"attributeName": "country", "eqRule": {"value": {"stringValue": "SE"}}}}
    },
    "expression": {"ref": "c"},
}
SEGMENTS = ("se-all", "se-one", "se-tenth", "se-gone", "se-waiting")
SHOWN = {"se-all", "se-one"}
"""What the condition-only views (Adobe, Unleash, HAL) show of ``SEGMENTS``."""
REASONS = {"se-tenth": "needs a unit", "se-gone": "archived", "se-waiting": "unallocated"}
WHY = {"se-tenth": "proportion (0.1)", "se-gone": "ARCHIVED", "se-waiting": "UNALLOCATED"}
"""A part of each refused segment's reason, as every refusing view gives it."""


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json() if r.content else None


async def setup(client: httpx.AsyncClient, token: str) -> dict[str, str]:
    """The individuals and the segments; slug -> canonical id."""
    for who in SWEDES + NORWEGIANS:
        ok(
            await client.post(
                "/prod/individuals",
                headers=bearer(token),
                json={"identifier": who, "country": who[:2].upper()},
            )
        )
    for slug, proportion in (
        ("se-all", "1"),
        ("se-one", "1.0"),
        ("se-tenth", "0.1"),
        ("se-gone", "1"),
    ):
        await confidence_create(
            client,
            token,
            slug,
            displayName=slug,
            targeting=SE,
            allocation={"proportion": {"value": proportion}},
        )
    await confidence_create(
        client,
        token,
        "se-waiting",
        displayName="se-waiting",
        targeting=SE,
        allocation={"proportion": {"value": "1"}, "exclusivityTags": ["x"], "exclusiveTo": ["x"]},
    )
    ok(await call(client, token, "se-gone", "archive"))
    items = ok(await client.get("/segmux/v1/segments", headers=bearer(token)))["items"]
    states = {s["slug"]: s["state"] for s in items}
    assert states == {
        "se-all": "OK",
        "se-one": "OK",
        "se-tenth": "OK",
        "se-gone": "ARCHIVED",
        "se-waiting": "UNALLOCATED",
    }
    return {s["slug"]: s["id"] for s in items}


async def test_every_view_refuses_what_a_condition_cannot_say(
    client: httpx.AsyncClient, token_a: str
) -> None:
    ids = await setup(client, token_a)
    segmux = {
        s["slug"]: s
        for s in ok(await client.get("/segmux/v1/segments", headers=bearer(token_a)))["items"]
    }

    # Confidence: every segment, with its state.
    for slug in SEGMENTS:
        ok(await client.get(f"/v1/segments/{slug}", headers=bearer(token_a)))
    assert (
        ok(await client.get("/v1/segments/se-gone", headers=bearer(token_a)))["state"] == "ARCHIVED"
    )

    # v2.3: every segment by name (no condition, no members: nothing to widen).
    v23 = ok(
        await client.get("/v2.3/data/segments", params={"per_page": 100}, headers=bearer(token_a))
    )["result"]["items"]
    assert {s["name"] for s in v23} == set(SEGMENTS)
    assert all(segmux[s]["renderings"]["v23"]["expressible"] for s in SEGMENTS)

    # Adobe: the list leaves them out; the detail is a 422 with the reason.
    adobe = ok(await client.get(DEFS, params={"limit": 100}, headers=adobe_headers(token_a)))
    assert {d["name"] for d in adobe["segments"]} == SHOWN
    assert {d["expression"]["value"] for d in adobe["segments"]} == {'country = "SE"'}
    for slug, why in WHY.items():
        r = await client.get(f"{DEFS}/{ids[slug]}", headers=adobe_headers(token_a))
        assert r.status_code == 422 and why in r.text, r.text
        # What the view cannot show it cannot change: refused, nothing written.
        r = await client.patch(
            f"{DEFS}/{ids[slug]}",
            headers=adobe_headers(token_a),
            json={
                "name": slug,
                "schema": {"name": "_xdm.context.profile"},
                "expression": {"type": "PQL", "format": "pql/text", "value": 'country = "NO"'},
            },
        )
        assert r.status_code == 422 and why in r.text, r.text
        after = ok(await client.get(f"/segmux/v1/segments/{ids[slug]}", headers=bearer(token_a)))
        assert after["version"] == segmux[slug]["version"]

    # Unleash: the list leaves them out, the detail is a 404 with the reason, and a strategy
    # cannot take them.
    unleash = ok(await client.get("/api/admin/segments", headers={"Authorization": token_a}))
    assert {s["name"] for s in unleash["segments"]} == SHOWN
    await create_feature(client, token_a, "f")
    for slug, why in WHY.items():
        r = await client.get(
            f"/api/admin/segments/{segmux[slug]['seq']}", headers={"Authorization": token_a}
        )
        assert r.status_code == 404 and why in r.text, r.text
        r = await client.post(
            strategies_url("f"),
            headers={"Authorization": token_a},
            json={"name": "default", "segments": [segmux[slug]["seq"]]},
        )
        # Archived says so (as when an archive races the attach); the others are not there.
        assert r.status_code == (409 if slug == "se-gone" else 404), r.text

    # HAL: left out of the list; the detail and the members are 404s with the reason.
    hal = ok(
        await client.get("/prod/individual-segments", params={"size": 100}, headers=bearer(token_a))
    )
    listed = hal["_embedded"]["individual-segments"]
    assert {s["identifier"] for s in listed} == SHOWN
    assert {s["filter"] for s in listed} == {"country eq 'SE'"}
    for slug, why in WHY.items():
        for url in (
            f"/prod/individual-segments/{slug}",
            f"/prod/individual-segments/{slug}/individuals",
        ):
            r = await client.get(url, headers=bearer(token_a))
            assert r.status_code == 404 and why in r.text, r.text

    # segmux's renderings say the same, with the same reasons.
    for slug in SEGMENTS:
        shown = segmux[slug]["renderings"]
        assert shown["confidence"]["expressible"] is True
        # A deliberate subset: the surfaces whose form is a bare condition (see the docstring).
        for dialect in ("adobe", "unleash", "hal"):
            assert shown[dialect]["expressible"] is (slug in SHOWN), (slug, dialect)
            if slug not in SHOWN:
                assert WHY[slug] in shown[dialect]["reason"]


async def test_membership_agrees_in_every_view(
    client: httpx.AsyncClient, token_a: str, store: Store
) -> None:
    ids = await setup(client, token_a)
    slug_of = {v: k for k, v in ids.items()}
    swede = {"country": "SE"}

    # HAL members: all ten Swedes for the full segments, never the others.
    for slug in SHOWN:
        members = ok(
            await client.get(
                f"/prod/individual-segments/{slug}/individuals",
                params={"size": 100},
                headers=bearer(token_a),
            )
        )
        assert {m["identifier"] for m in members["_embedded"]["individuals"]} == set(SWEDES)
    for who in SWEDES[:3] + NORWEGIANS:
        found = ok(
            await client.get(
                f"/prod/individuals/{who}/individual-segments", headers=bearer(token_a)
            )
        )
        mine = {s["identifier"] for s in found["_embedded"]["individual-segments"]}
        assert mine == (SHOWN if who in SWEDES else set()), who

    # evaluate without a unit: only the full segments match, the others say why.
    r = ok(
        await client.post("/segmux/v1/evaluate", headers=bearer(token_a), json={"context": swede})
    )
    assert {slug_of[s] for s in r["matches"]} == SHOWN
    assert {slug_of[s]: why for s, why in r["reasons"].items()} == REASONS
    asked = [ids["se-tenth"], ids["se-all"]]
    r = ok(
        await client.post(
            "/segmux/v1/evaluate",
            headers=bearer(token_a),
            json={"context": swede, "segments": asked},
        )
    )
    assert r == {
        "matches": [ids["se-all"]],
        "results": {ids["se-tenth"]: False, ids["se-all"]: True},
        "reasons": {ids["se-tenth"]: "needs a unit"},
    }
    batch = ok(
        await client.post(
            "/segmux/v1/evaluate:batch",
            headers=bearer(token_a),
            json={"contexts": [swede, {"country": "NO"}, {}]},
        )
    )
    assert [{slug_of[s] for s in x["matches"]} for x in batch["results"]] == [SHOWN, set(), set()]
    for result in batch["results"]:
        assert {slug_of[s]: why for s, why in result["reasons"].items()} == REASONS

    # With a unit: the tenth matches exactly the units whose bucket its bitset holds (the
    # hash is Confidence's); archived and unallocated still never match, and say so.
    full = ok(
        await client.get("/v1/segments/se-tenth", params={"view": "FULL"}, headers=bearer(token_a))
    )
    bitset = base64.b64decode(full["bitsetAllocation"]["bitset"])
    account = (await store.get_tenant("tenant-a")).name
    units = [f"unit-{i}" for i in range(60)]
    expected = {u: has_bucket(bitset, bucket(account, u)) for u in units}
    assert any(expected.values()) and not all(expected.values())  # 60 units at 10%: both
    got = {}
    for u in units:
        r = ok(
            await client.post(
                "/segmux/v1/evaluate", headers=bearer(token_a), json={"context": swede, "unit": u}
            )
        )
        got[u] = r["results"][ids["se-tenth"]]
        assert {slug_of[s] for s in r["matches"]} == SHOWN | ({"se-tenth"} if got[u] else set())
        assert {slug_of[s]: why for s, why in r["reasons"].items()} == {
            "se-gone": "archived",
            "se-waiting": "unallocated",
        }
    assert got == expected
    batch = ok(
        await client.post(
            "/segmux/v1/evaluate:batch",
            headers=bearer(token_a),
            json={"contexts": [swede, {"country": "NO"}], "unit": units[0]},
        )
    )
    assert [x["results"][ids["se-tenth"]] for x in batch["results"]] == [expected[units[0]], False]
    assert all(x["results"][ids["se-gone"]] is False for x in batch["results"])


async def test_segment_criteria_do_not_widen(client: httpx.AsyncClient, token_a: str) -> None:
    """A segment whose targeting names a partial segment needs that segment's unit too."""
    ids = await setup(client, token_a)
    refers = {
        "criteria": {"s": {"segment": {"segment": "segments/se-tenth"}}},
        "expression": {"ref": "s"},
    }
    await confidence_create(client, token_a, "in-tenth", displayName="in-tenth", targeting=refers)
    items = ok(await client.get("/segmux/v1/segments", headers=bearer(token_a)))["items"]
    sid = next(s["id"] for s in items if s["slug"] == "in-tenth")
    r = ok(
        await client.post(
            "/segmux/v1/evaluate",
            headers=bearer(token_a),
            json={"context": {"country": "SE"}, "segments": [sid]},
        )
    )
    assert r["results"] == {sid: False}
    r = ok(
        await client.post(
            "/segmux/v1/evaluate",
            headers=bearer(token_a),
            json={"context": {"country": "SE"}, "segments": [sid], "unit": "u"},
        )
    )
    tenth = ok(
        await client.post(
            "/segmux/v1/evaluate",
            headers=bearer(token_a),
            json={"context": {"country": "SE"}, "segments": [ids["se-tenth"]], "unit": "u"},
        )
    )
    assert r["results"][sid] == tenth["results"][ids["se-tenth"]]


async def test_a_segment_that_becomes_partial_leaves_unleash_clients(
    client: httpx.AsyncClient, token_a: str, client_token_a: str
) -> None:
    """An Unleash segment used by a strategy, then allocated to half of its units through
    Confidence: the client API stops serving its constraints (SDKs then evaluate the strategy
    as false), and the admin API refuses it; back at 1, it is served again."""
    h = {"Authorization": token_a}
    r = await client.post(
        "/api/admin/segments",
        headers=h,
        json={
            "name": "swedes",
            "constraints": [{"contextName": "country", "operator": "IN", "values": ["SE"]}],
        },
    )
    seg = ok(r, 201)
    await create_feature(client, token_a, "new-ui")
    await add_strategy(client, token_a, "new-ui", [seg["id"]])
    ok(
        await client.post(
            "/api/admin/projects/default/features/new-ui/environments/development/on", headers=h
        )
    )
    items = ok(await client.get("/segmux/v1/segments", headers=bearer(token_a)))["items"]
    slug = next(s["slug"] for s in items if s["name"] == "swedes")

    async def served() -> list[int]:
        body = ok(
            await client.get(
                "/api/client/features",
                headers={"Authorization": client_token_a, "Unleash-Client-Spec": "5.2.0"},
            )
        )
        return [s["id"] for s in body["segments"]]

    assert await served() == [seg["id"]]
    r = await client.patch(
        f"/v1/segments/{slug}",
        headers=bearer(token_a),
        json={"allocation": {"proportion": {"value": "0.5"}}},
    )
    assert r.status_code == 200, r.text
    assert await served() == []
    r = await client.get(f"/api/admin/segments/{seg['id']}", headers=h)
    assert r.status_code == 404 and "proportion (0.5)" in r.text, r.text
    r = await client.patch(
        f"/v1/segments/{slug}",
        headers=bearer(token_a),
        json={"allocation": {"proportion": {"value": "1"}}},
    )
    assert r.status_code == 200, r.text
    assert await served() == [seg["id"]]


async def test_archiving_is_seen_at_once(client: httpx.AsyncClient, token_a: str) -> None:
    """Evaluate, HAL and Unleash answered for the live segment; its archive changes every one of
    them on the next read (the kept answers are keyed on the tenant's revision)."""
    await confidence_create(client, token_a, "soon-gone", displayName="soon-gone", targeting=SE)
    ok(
        await client.post(
            "/prod/individuals",
            headers=bearer(token_a),
            json={"identifier": "se-x", "country": "SE"},
        )
    )
    items = ok(await client.get("/segmux/v1/segments", headers=bearer(token_a)))["items"]
    sid = items[0]["id"]
    asked = {"context": {"country": "SE"}, "segments": [sid]}

    async def answers() -> tuple[Any, ...]:
        r = ok(await client.post("/segmux/v1/evaluate", headers=bearer(token_a), json=asked))
        hal = await client.get(
            "/prod/individual-segments/soon-gone/individuals", headers=bearer(token_a)
        )
        mine = ok(
            await client.get("/prod/individuals/se-x/individual-segments", headers=bearer(token_a))
        )["_embedded"]
        unleash = ok(await client.get("/api/admin/segments", headers={"Authorization": token_a}))[
            "segments"
        ]
        return (
            r["results"][sid],
            r["reasons"],
            hal.status_code,
            len(mine["individual-segments"]),
            len(unleash),
        )

    assert await answers() == (True, {}, 200, 1, 1)
    ok(await call(client, token_a, "soon-gone", "archive"))
    assert await answers() == (False, {sid: "archived"}, 404, 0, 0)
