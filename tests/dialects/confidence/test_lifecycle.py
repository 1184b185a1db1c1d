"""The state machine over HTTP: every transition of the sheet's §9 table and its errors, the
available space, and what is refused (delete, unknown methods), on both backends."""

from __future__ import annotations

import base64

import httpx
import pytest

from core.buckets import from_bytes
from core.model import NewFlag, NewRule
from core.store import Store
from tests.dialects.confidence.helpers import (
    BASE,
    assert_status,
    auth,
    call,
    create,
    exclusive,
)


async def bitset(client: httpx.AsyncClient, token: str, segment_id: str) -> int | None:
    r = await client.get(f"{BASE}/{segment_id}", params={"view": "FULL"}, headers=auth(token))
    assert r.status_code == 200, r.text
    found = r.json().get("bitsetAllocation")
    return None if found is None else from_bytes(base64.b64decode(found["bitset"]))


async def state(client: httpx.AsyncClient, token: str, segment_id: str) -> str:
    r = await client.get(f"{BASE}/{segment_id}", headers=auth(token))
    result: str = r.json()["state"]
    return result


async def space(client: httpx.AsyncClient, token: str, segment_id: str, body: object = None) -> str:
    r = await call(client, token, segment_id, "segmentAvailableSpace", body)
    assert r.status_code == 200, r.text
    assert list(r.json()) == ["availableSpace"]
    value: str = r.json()["availableSpace"]["value"]
    return value


# --- creation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("allocation", "expected"),
    [
        ({"proportion": {"value": "0.3"}}, "OK"),
        ({"proportion": {"value": "0.3"}, "exclusivityTags": ["g"]}, "UNALLOCATED"),
        ({"proportion": {"value": "0.3"}, "exclusiveTo": ["g"]}, "UNALLOCATED"),
    ],
)
async def test_initial_state(
    client: httpx.AsyncClient, token_a: str, allocation: dict[str, object], expected: str
) -> None:
    body = await create(client, token_a, "initial", allocation=allocation)
    assert body["state"] == expected
    bits = await bitset(client, token_a, "initial")
    assert (bits.bit_count() if bits is not None else None) == (
        300_000 if expected == "OK" else None
    )


async def test_full_proportion_is_every_bucket(client: httpx.AsyncClient, token_a: str) -> None:
    await create(client, token_a, "everyone")
    bits = await bitset(client, token_a, "everyone")
    assert bits is not None and bits.bit_count() == 1_000_000


# --- allocate --------------------------------------------------------------------------------


async def test_allocate_gives_disjoint_buckets_to_rivals(
    client: httpx.AsyncClient, token_a: str
) -> None:
    await create(client, token_a, "exp-a", allocation=exclusive("0.35"))
    await create(client, token_a, "exp-b", allocation=exclusive("0.45"))
    for segment_id in ("exp-a", "exp-b"):
        r = await call(client, token_a, segment_id, "allocate")
        assert r.status_code == 200 and r.json()["state"] == "ALLOCATED"
        assert "bitsetAllocation" not in r.json()
    a = await bitset(client, token_a, "exp-a")
    b = await bitset(client, token_a, "exp-b")
    assert a is not None and b is not None
    assert (a.bit_count(), b.bit_count(), a & b) == (350_000, 450_000, 0)


async def test_allocate_without_space_is_failed_precondition_and_changes_nothing(
    client: httpx.AsyncClient, token_a: str
) -> None:
    await create(client, token_a, "big-one", allocation=exclusive("0.8"))
    await call(client, token_a, "big-one", "allocate")
    await create(client, token_a, "late", allocation=exclusive("0.35"))
    before = await client.get(f"{BASE}/late", headers=auth(token_a))
    r = await call(client, token_a, "late", "allocate")
    body = assert_status(r, 400, 9)
    assert body["message"] == (
        "segment segments/late cannot be allocated: 0.35 requested, 0.2 available"
    )
    assert body["details"][0]["@type"] == "type.googleapis.com/google.rpc.BadRequest"
    assert body["details"][0]["fieldViolations"][0]["field"] == "allocation.proportion"
    after = await client.get(f"{BASE}/late", headers=auth(token_a))
    assert after.json() == before.json()


async def test_allocate_on_live_segments_is_tolerated_and_changes_nothing(
    client: httpx.AsyncClient, token_a: str
) -> None:
    ok = await create(client, token_a, "ok-seg", allocation={"proportion": {"value": "0.5"}})
    first = await bitset(client, token_a, "ok-seg")
    r = await call(client, token_a, "ok-seg", "allocate")
    assert r.status_code == 200 and r.json()["state"] == "OK"
    assert r.json()["updateTime"] == ok["updateTime"]
    assert await bitset(client, token_a, "ok-seg") == first
    await create(client, token_a, "alloc-seg", allocation=exclusive("0.5"))
    allocated = (await call(client, token_a, "alloc-seg", "allocate")).json()
    again = await call(client, token_a, "alloc-seg", "allocate")
    assert again.json() == allocated


async def test_archived_cannot_be_allocated(client: httpx.AsyncClient, token_a: str) -> None:
    await create(client, token_a, "arch")
    await call(client, token_a, "arch", "archive")
    assert_status(await call(client, token_a, "arch", "allocate"), 400, 9)


# --- archive ---------------------------------------------------------------------------------


async def test_archiving_frees_the_buckets_for_rivals(
    client: httpx.AsyncClient, token_a: str
) -> None:
    await create(client, token_a, "holder", allocation=exclusive("0.7"))
    await create(client, token_a, "waiter", allocation=exclusive("0.5"))
    await call(client, token_a, "holder", "allocate")
    assert await space(client, token_a, "waiter") == "0.3"
    assert_status(await call(client, token_a, "waiter", "allocate"), 400, 9)
    r = await call(client, token_a, "holder", "archive")
    assert r.status_code == 200 and r.json()["state"] == "ARCHIVED"
    assert r.json()["updateTime"] > r.json()["createTime"]
    assert await space(client, token_a, "waiter") == "1"
    assert (await call(client, token_a, "waiter", "allocate")).json()["state"] == "ALLOCATED"
    assert await bitset(client, token_a, "holder") is not None  # still shown, not blocking


@pytest.mark.parametrize("setup", ["unallocated", "archived"])
async def test_archive_refused_in_other_states(
    client: httpx.AsyncClient, token_a: str, setup: str
) -> None:
    await create(client, token_a, "refuse", allocation=exclusive("0.1"))
    if setup == "archived":
        await call(client, token_a, "refuse", "allocate")
        await call(client, token_a, "refuse", "archive")
    body = assert_status(await call(client, token_a, "refuse", "archive"), 400, 9)
    assert "only OK and ALLOCATED" in body["message"]


async def test_archive_refused_while_a_flag_rule_uses_it(
    client: httpx.AsyncClient, token_a: str, store: Store
) -> None:
    created = await create(client, token_a, "in-use")
    segment = await store.get_segment("tenant-a", "slug", "in-use")
    await store.create_flag("tenant-a", NewFlag(name="my-flag"), "t")
    await store.create_rule(
        "tenant-a", NewRule(flag="my-flag", environment="production", segments=(segment.id,)), "t"
    )
    body = assert_status(await call(client, token_a, "in-use", "archive"), 400, 9)
    assert "flag rule" in body["message"]
    assert (await client.get(f"{BASE}/in-use", headers=auth(token_a))).json() == created


# --- update and state ------------------------------------------------------------------------


async def test_patch_refused_once_allocated_or_archived(
    client: httpx.AsyncClient, token_a: str
) -> None:
    await create(client, token_a, "frozen", allocation=exclusive("0.1"))
    await call(client, token_a, "frozen", "allocate")
    r = await client.patch(f"{BASE}/frozen", json={"displayName": "x"}, headers=auth(token_a))
    assert_status(r, 400, 9)
    await call(client, token_a, "frozen", "archive")
    r = await client.patch(f"{BASE}/frozen", json={"displayName": "x"}, headers=auth(token_a))
    assert_status(r, 400, 9)


async def test_patch_moves_between_ok_and_unallocated(
    client: httpx.AsyncClient, token_a: str
) -> None:
    await create(client, token_a, "mover", allocation={"proportion": {"value": "0.4"}})
    first = await bitset(client, token_a, "mover")
    assert first is not None
    r = await client.patch(
        f"{BASE}/mover",
        params={"updateMask": "allocation.exclusiveTo"},
        json={"allocation": {"exclusiveTo": ["g"]}},
        headers=auth(token_a),
    )
    assert r.json()["state"] == "UNALLOCATED"
    assert await bitset(client, token_a, "mover") is None
    r = await client.patch(
        f"{BASE}/mover",
        params={"updateMask": "allocation.exclusiveTo"},
        json={"allocation": {}},
        headers=auth(token_a),
    )
    assert r.json()["state"] == "OK"
    again = await bitset(client, token_a, "mover")
    assert again is not None and again.bit_count() == 400_000


async def test_patch_of_an_ok_proportion_keeps_its_buckets(
    client: httpx.AsyncClient, token_a: str
) -> None:
    await create(client, token_a, "keeper", allocation={"proportion": {"value": "0.2"}})
    small = await bitset(client, token_a, "keeper")
    await client.patch(
        f"{BASE}/keeper",
        json={"allocation": {"proportion": {"value": "0.6"}}},
        headers=auth(token_a),
    )
    big = await bitset(client, token_a, "keeper")
    assert small is not None and big is not None
    assert big.bit_count() == 600_000 and big & small == small
    await client.patch(f"{BASE}/keeper", json={"description": "only this"}, headers=auth(token_a))
    assert await bitset(client, token_a, "keeper") == big


# --- available space -------------------------------------------------------------------------


async def test_available_space_for_query_params(client: httpx.AsyncClient, token_a: str) -> None:
    await create(client, token_a, "search-1", allocation=exclusive("0.25", "search"))
    await create(
        client,
        token_a,
        "ranking-1",
        allocation={  # multi-group: disjoint from both
            "proportion": {"value": "0.5"},
            "exclusivityTags": ["ranking"],
            "exclusiveTo": ["ranking", "search"],
        },
    )
    await call(client, token_a, "search-1", "allocate")
    await call(client, token_a, "ranking-1", "allocate")
    await create(client, token_a, "asker")
    assert await space(client, token_a, "asker") == "1"  # uncoordinated: no rivals
    assert (
        await space(
            client,
            token_a,
            "asker",
            {"queryParams": {"exclusivityTags": ["mixer"], "exclusiveTo": ["search"]}},
        )
        == "0.75"
    )
    assert (
        await space(
            client, token_a, "asker", {"query_params": {"exclusive_to": ["search", "ranking"]}}
        )
        == "0.25"
    )
    # a segment's own buckets never count against it: only ranking-1's half does
    assert await space(client, token_a, "search-1") == "0.5"
    assert await space(client, token_a, "search-1", {"name": "segments/search-1"}) == "0.5"


async def test_available_space_errors(client: httpx.AsyncClient, token_a: str) -> None:
    assert_status(await call(client, token_a, "nope", "segmentAvailableSpace"), 404, 5)
    await create(client, token_a, "spacey")
    assert_status(
        await call(
            client,
            token_a,
            "spacey",
            "segmentAvailableSpace",
            {"queryParams": {"exclusiveTo": [""]}},
        ),
        400,
        3,
    )
    assert_status(
        await call(client, token_a, "spacey", "segmentAvailableSpace", {"bogus": 1}), 400, 3
    )
    assert_status(
        await call(client, token_a, "spacey", "allocate", {"name": "segments/other"}), 400, 3
    )


async def test_custom_methods_accept_an_empty_body(client: httpx.AsyncClient, token_a: str) -> None:
    await create(client, token_a, "nobody")
    r = await client.post(f"{BASE}/nobody:allocate", headers=auth(token_a))
    assert r.status_code == 200


# --- what is not there -----------------------------------------------------------------------


async def test_delete_points_to_archive(client: httpx.AsyncClient, token_a: str) -> None:
    await create(client, token_a, "undeletable")
    body = assert_status(await client.delete(f"{BASE}/undeletable", headers=auth(token_a)), 404, 5)
    assert ":archive" in body["message"]
    assert (await client.get(f"{BASE}/undeletable", headers=auth(token_a))).status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", f"{BASE}/x-seg:explode"),
        ("PUT", f"{BASE}/x-seg"),
        ("PUT", BASE),
        ("GET", "/v1/materializedSegments"),
        ("GET", "/v1/segments/a/b"),
    ],
)
async def test_unknown_routes_are_not_found(
    client: httpx.AsyncClient, token_a: str, method: str, path: str
) -> None:
    await create(client, token_a, "x-seg")
    r = await client.request(method, path, json={}, headers=auth(token_a))
    assert_status(r, 404, 5)


async def test_mutations_need_an_admin_token(
    client: httpx.AsyncClient, token_a: str, client_token_a: str
) -> None:
    await create(client, token_a, "guarded", allocation=exclusive("0.1"))
    for verb in ("allocate", "archive"):
        assert_status(await call(client, client_token_a, "guarded", verb), 403, 7)
    assert await state(client, token_a, "guarded") == "UNALLOCATED"
    assert_status(await call(client, "", "guarded", "allocate"), 401, 16)
