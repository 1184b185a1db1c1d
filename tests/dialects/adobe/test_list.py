"""``GET /segment/definitions`` over HTTP: pages (0-indexed), sorting, filters, the seed's
``page`` and ``link`` objects, on both backends."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from core.model import NewSegment
from core.store import Store
from tests.dialects.adobe.common import DEFS, create, headers, service_error


async def listing(client: httpx.AsyncClient, token: str, **params: Any) -> dict[str, Any]:
    r = await client.get(DEFS, params=params, headers=headers(token))
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


async def test_empty_list(client: httpx.AsyncClient, token_a: str) -> None:
    assert await listing(client, token_a) == {
        "segments": [],
        "page": {
            "totalCount": 0,
            "totalPages": 0,
            "sortField": "creationTime",
            "sort": "desc",
            "pageSize": 0,
            "limit": 100,
        },
        "link": {},
    }


async def test_default_is_newest_first_limit_100(client: httpx.AsyncClient, token_a: str) -> None:
    made = [await create(client, token_a, f"s{i}") for i in range(3)]
    out = await listing(client, token_a)
    assert out["segments"] == made[::-1]
    assert out["page"] == {
        "totalCount": 3,
        "totalPages": 1,
        "sortField": "creationTime",
        "sort": "desc",
        "pageSize": 3,
        "limit": 100,
    }
    assert out["link"] == {}


async def test_pages_are_0_indexed_with_a_next_link(
    client: httpx.AsyncClient, token_a: str
) -> None:
    for i in range(5):
        await create(client, token_a, f"s{i}")
    first = await listing(client, token_a, limit=2, sort="name:asc")
    assert [s["name"] for s in first["segments"]] == ["s0", "s1"]
    assert first["page"] == {
        "totalCount": 5,
        "totalPages": 3,
        "sortField": "name",
        "sort": "asc",
        "pageSize": 2,
        "limit": 2,
    }
    assert first["link"] == {"next": f"{DEFS}?page=1&limit=2&sort=name%3Aasc"}
    second = (await client.get(first["link"]["next"], headers=headers(token_a))).json()
    assert [s["name"] for s in second["segments"]] == ["s2", "s3"]
    last = await listing(client, token_a, limit=2, sort="name:asc", page=2)
    assert [s["name"] for s in last["segments"]] == ["s4"]
    assert last["page"]["pageSize"] == 1
    assert last["link"] == {}


async def test_page_past_the_end_is_empty(client: httpx.AsyncClient, token_a: str) -> None:
    await create(client, token_a, "only")
    out = await listing(client, token_a, page=1)
    assert out["segments"] == []
    assert out["page"]["totalCount"] == 1
    out = await listing(client, token_a, page=str(2**31 - 1))
    assert out["segments"] == []


@pytest.mark.parametrize("name", ["page", "start", "limit"])
async def test_numbers_beyond_a_java_int_are_refused(
    client: httpx.AsyncClient, token_a: str, name: str
) -> None:
    # Adobe reads these as Java ints: a larger value is a bad request, not an empty page.
    r = await client.get(DEFS, params={name: "99999999999999999999999"}, headers=headers(token_a))
    assert r.status_code == 400, r.text
    assert "2147483647" in r.text


async def test_start_is_an_item_offset(client: httpx.AsyncClient, token_a: str) -> None:
    for i in range(4):
        await create(client, token_a, f"s{i}")
    out = await listing(client, token_a, start=1, limit=2, sort="name")
    assert [s["name"] for s in out["segments"]] == ["s1", "s2"]
    assert out["link"] == {"next": f"{DEFS}?start=3&limit=2&sort=name"}


async def test_sort_by_several_keys(client: httpx.AsyncClient, token_a: str) -> None:
    await create(client, token_a, "b", description="1")
    await create(client, token_a, "a", description="2")
    await create(client, token_a, "c", description="1")
    out = await listing(client, token_a, sort="description:desc,name:asc")
    assert [s["name"] for s in out["segments"]] == ["a", "b", "c"]
    assert (out["page"]["sortField"], out["page"]["sort"]) == ("description", "desc")
    out = await listing(client, token_a, sort="creationTime:asc")
    assert [s["name"] for s in out["segments"]] == ["b", "a", "c"]
    for field in ("updateTime", "updateEpoch", "id"):
        assert len((await listing(client, token_a, sort=f"{field}:desc"))["segments"]) == 3


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 101}, "limit"),
        ({"limit": 0}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"page": -1}, "page"),
        ({"page": "1.5"}, "page"),
        ({"start": "-3"}, "start"),
        ({"sort": "internalId:asc"}, "sort"),
        ({"sort": "name:up"}, "sort"),
        ({"sort": "name:asc,"}, "sort"),
        ({"evaluationInfo.continuous.enabled": "yes"}, "evaluationInfo.continuous.enabled"),
        ([("limit", "1"), ("limit", "2")], "limit"),
    ],
)
async def test_bad_query_parameter_is_400(
    client: httpx.AsyncClient, token_a: str, params: Any, field: str
) -> None:
    r = await client.get(DEFS, params=params, headers=headers(token_a))
    assert field in service_error(r, 400)


async def test_unknown_parameters_are_ignored(client: httpx.AsyncClient, token_a: str) -> None:
    assert (await listing(client, token_a, property="name==x", foo="bar"))["segments"] == []


async def test_evaluation_filters(client: httpx.AsyncClient, store: Store, token_a: str) -> None:
    streaming = await create(
        client, token_a, "streaming", evaluationInfo={"continuous": {"enabled": True}}
    )
    edge = await create(
        client,
        token_a,
        "edge",
        evaluationInfo={"batch": {"enabled": False}, "synchronous": {"enabled": True}},
    )
    batch = await create(client, token_a, "batch")
    # A segment from another dialect has the default evaluation: batch only.
    await store.create_segment("tenant-a", NewSegment(name="foreign"), "v23")

    def names(out: dict[str, Any]) -> list[str]:
        return sorted(s["name"] for s in out["segments"])

    # aepp sends Python's True.
    out = await listing(client, token_a, **{"evaluationInfo.continuous.enabled": "True"})
    assert names(out) == ["streaming"]
    assert out["page"]["totalCount"] == 1
    out = await listing(client, token_a, **{"evaluationInfo.continuous.enabled": "false"})
    assert names(out) == ["batch", "edge", "foreign"]
    out = await listing(client, token_a, **{"evaluationInfo.synchronous.enabled": "true"})
    assert names(out) == [edge["name"]]
    out = await listing(
        client,
        token_a,
        **{"evaluationInfo.batch.enabled": "TRUE", "evaluationInfo.continuous.enabled": "false"},
    )
    assert names(out) == ["batch", "foreign"]
    out = await listing(
        client, token_a, limit=1, sort="name", **{"evaluationInfo.batch.enabled": "true"}
    )
    assert out["link"]["next"] == (
        f"{DEFS}?page=1&limit=1&sort=name&evaluationInfo.batch.enabled=true"
    )
    assert {streaming["id"], batch["id"]} <= {
        s["id"] for s in (await listing(client, token_a))["segments"]
    }


async def test_list_is_per_tenant_and_sandbox(
    client: httpx.AsyncClient, token_a: str, token_b: str
) -> None:
    await create(client, token_a, "a-prod")
    await create(client, token_a, "a-dev", sandbox="dev")
    await create(client, token_b, "b-prod", org="tenant-b@AdobeOrg")
    out = await listing(client, token_a)
    assert [s["name"] for s in out["segments"]] == ["a-prod"]
    r = await client.get(DEFS, headers=headers(token_a, sandbox="dev"))
    assert [s["name"] for s in r.json()["segments"]] == ["a-dev"]
    r = await client.get(DEFS, headers=headers(token_a, sandbox="never-used"))
    assert r.json()["segments"] == []
