"""Create, get, list and update over HTTP, with proto3 JSON both ways, on both backends."""

from __future__ import annotations

import base64
import re

import httpx
import pytest

from core.buckets import from_bytes
from tests.conftest import make_token
from tests.dialects.confidence.helpers import (
    BASE,
    SWEDEN,
    assert_status,
    auth,
    create,
    exclusive,
)

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3}|\.\d{6})?Z$")


# --- create ----------------------------------------------------------------------------------


async def test_create_answers_the_segment_in_proto3_json(
    client: httpx.AsyncClient, token_a: str
) -> None:
    r = await client.post(
        BASE,
        params={"segmentId": "sweden-10pct"},
        headers=auth(token_a),
        json={
            "displayName": "10% of users from Sweden",
            "targeting": SWEDEN,
            "allocation": {"proportion": {"value": "0.1"}},
            "labels": {"team": "search"},
            "description": "Swedes",
            "workflowInstance": "workflows/x/instances/y",
            "flag": "flags/f",
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert list(body) == [
        "createTime",
        "updateTime",
        "creator",
        "updater",
        "name",
        "displayName",
        "description",
        "targeting",
        "allocation",
        "state",
        "labels",
        "workflowInstance",
        "flag",
        "owner",
    ]
    assert body["name"] == "segments/sweden-10pct"
    assert body["targeting"] == SWEDEN  # criterion ids and all, as sent
    assert body["allocation"] == {"proportion": {"value": "0.1"}}
    assert body["state"] == "OK"  # uncoordinated: allocated at creation
    assert body["creator"] == body["updater"] == body["owner"] == "identities/test"
    assert RFC3339.match(body["createTime"]) and body["createTime"] == body["updateTime"]
    assert "bitsetAllocation" not in body  # mutations answer the BASIC view


async def test_create_accepts_snake_case(client: httpx.AsyncClient, token_a: str) -> None:
    r = await client.post(
        BASE,
        params={"segment_id": "snake-case"},
        headers=auth(token_a),
        json={
            "display_name": "Snake",
            "allocation": {
                "proportion": {"value": "0.5"},
                "exclusivity_tags": ["a"],
                "exclusive_to": ["a"],
                "targeting_key_selector": "user_id",
            },
            "workflow_instance": "workflows/w",
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["name"] == "segments/snake-case" and body["displayName"] == "Snake"
    assert body["allocation"] == {
        "proportion": {"value": "0.5"},
        "exclusivityTags": ["a"],
        "exclusiveTo": ["a"],
        "targetingKeySelector": "user_id",
    }
    assert body["workflowInstance"] == "workflows/w"
    assert body["state"] == "UNALLOCATED"


async def test_minimal_create_gets_defaults(client: httpx.AsyncClient, token_a: str) -> None:
    body = await create(client, token_a)
    segment_id = body["name"].removeprefix("segments/")
    assert re.fullmatch(r"[a-z0-9]{20}", segment_id)
    assert body["displayName"] == segment_id  # [project] named by its id
    assert body["allocation"] == {"proportion": {"value": "1"}}  # [project] default: all
    assert "targeting" not in body and "labels" not in body and "description" not in body


async def test_empty_targeting_is_kept_and_matches_everyone(
    client: httpx.AsyncClient, token_a: str
) -> None:
    body = await create(client, token_a, "empty-tgt", targeting={})
    assert body["targeting"] == {}


async def test_the_id_may_come_from_the_body_name(client: httpx.AsyncClient, token_a: str) -> None:
    body = await create(client, token_a, name="segments/from-body")
    assert body["name"] == "segments/from-body"
    r = await client.post(
        BASE,
        params={"segmentId": "one-id"},
        headers=auth(token_a),
        json={"name": "segments/other-id"},
    )
    assert_status(r, 400, 3)


async def test_output_only_fields_are_ignored(client: httpx.AsyncClient, token_a: str) -> None:
    body = await create(
        client,
        token_a,
        "out-only",
        state="ARCHIVED",
        createTime="2000-01-01T00:00:00Z",
        creator="identities/evil",
        bitsetAllocation={"bitset": "AAAA"},
    )
    assert body["state"] == "OK" and body["creator"] == "identities/test"
    assert not body["createTime"].startswith("2000")


@pytest.mark.parametrize(
    ("params", "body"),
    [
        ({"segmentId": "BAD"}, {}),
        ({"segmentId": "abc"}, {}),  # 3 characters
        ({"segmentId": "a" * 64}, {}),
        ({}, {"unknownField": 1}),
        ({}, {"displayName": 5}),
        ({}, {"labels": {"a": 1}}),
        ({}, {"allocation": {"proportion": {"value": "1.5"}}}),
        ({}, {"allocation": {"proportion": {"value": "lots"}}}),
        ({}, {"allocation": {"exclusivityTags": [""]}}),
        ({}, {"displayName": "x", "display_name": "y"}),
        (
            {},
            {
                "targeting": {
                    "criteria": {"c": {"attribute": {"attributeName": "a"}}},
                    "expression": {"ref": "c"},
                }
            },
        ),  # no rule
        ({}, {"targeting": {"criteria": {}, "expression": {"ref": "missing"}}}),
        (
            {},
            {
                "targeting": {
                    "criteria": {"c": {"segment": {"segment": "segments/nope"}}},
                    "expression": {"ref": "c"},
                }
            },
        ),  # names no segment
        (
            {},
            {
                "targeting": {
                    "criteria": {
                        "c": {"attribute": {"attributeName": "a", "startsWithRule": {"value": 5}}}
                    },
                    "expression": {"ref": "c"},
                }
            },
        ),
        (
            {},
            {
                "targeting": {
                    "criteria": {
                        "c": {
                            "materializedSegment": {"materializedSegment": "materializedSegments/m"}
                        }
                    },
                    "expression": {"ref": "c"},
                }
            },
        ),
    ],
)
async def test_invalid_creates_are_invalid_argument(
    client: httpx.AsyncClient, token_a: str, params: dict[str, str], body: dict[str, object]
) -> None:
    r = await client.post(BASE, params=params, json=body, headers=auth(token_a))
    assert_status(r, 400, 3)
    listed = await client.get(BASE, headers=auth(token_a))
    assert listed.json() == {"segments": []}  # nothing was created


async def test_transport_errors_are_invalid_argument(
    client: httpx.AsyncClient, token_a: str
) -> None:
    headers = {**auth(token_a), "Content-Type": "application/json"}
    assert_status(await client.post(BASE, content=b"{", headers=headers), 400, 3)
    assert_status(await client.post(BASE, content=b"[]", headers=headers), 400, 3)
    plain = {**auth(token_a), "Content-Type": "text/plain"}
    assert_status(await client.post(BASE, content=b"{}", headers=plain), 400, 3)
    huge = b'{"description": "' + b"x" * (1024 * 1024) + b'"}'
    assert_status(await client.post(BASE, content=huge, headers=headers), 400, 3)


async def test_taken_ids_and_display_names_already_exist(
    client: httpx.AsyncClient, token_a: str
) -> None:
    await create(client, token_a, "taken-id", displayName="Taken")
    r = await client.post(BASE, params={"segmentId": "taken-id"}, json={}, headers=auth(token_a))
    assert_status(r, 409, 6)
    r = await client.post(BASE, json={"displayName": "Taken"}, headers=auth(token_a))
    body = assert_status(r, 409, 6)
    assert "display name" in body["message"]


async def test_auth_errors(client: httpx.AsyncClient, token_a: str, client_token_a: str) -> None:
    r = await client.get(BASE)
    assert_status(r, 401, 16)
    assert r.headers["www-authenticate"] == "Bearer"
    assert_status(await client.get(BASE, headers=auth("smx_wrong")), 401, 16)
    r = await client.post(BASE, json={}, headers=auth(client_token_a))
    assert_status(r, 403, 7)
    assert (await client.get(BASE, headers=auth(client_token_a))).status_code == 200


# --- get ---------------------------------------------------------------------------------------


async def test_get_basic_and_full_views(client: httpx.AsyncClient, token_a: str) -> None:
    await create(client, token_a, "tenth", allocation={"proportion": {"value": "0.1"}})
    basic = await client.get(f"{BASE}/tenth", headers=auth(token_a))
    assert basic.status_code == 200 and "bitsetAllocation" not in basic.json()
    explicit = await client.get(f"{BASE}/tenth", params={"view": "BASIC"}, headers=auth(token_a))
    assert explicit.json() == basic.json()
    full = await client.get(f"{BASE}/tenth", params={"view": "FULL"}, headers=auth(token_a))
    data = base64.b64decode(full.json()["bitsetAllocation"]["bitset"])
    assert len(data) == 125_000 and from_bytes(data).bit_count() == 100_000
    bad = await client.get(f"{BASE}/tenth", params={"view": "HUGE"}, headers=auth(token_a))
    assert_status(bad, 400, 3)


async def test_full_view_of_unallocated_has_no_bitset(
    client: httpx.AsyncClient, token_a: str
) -> None:
    await create(client, token_a, "waiting", allocation=exclusive("0.1"))
    full = await client.get(f"{BASE}/waiting", params={"view": "FULL"}, headers=auth(token_a))
    assert "bitsetAllocation" not in full.json()


async def test_get_errors(client: httpx.AsyncClient, token_a: str, token_b: str) -> None:
    await create(client, token_a, "mine")
    body = assert_status(await client.get(f"{BASE}/nope", headers=auth(token_a)), 404, 5)
    assert body["message"] == "segment segments/nope not found"
    assert_status(await client.get(f"{BASE}/mine", headers=auth(token_b)), 404, 5)  # tenant
    assert_status(await client.get(f"{BASE}/Not_An_Id", headers=auth(token_a)), 400, 3)
    assert_status(await client.get(f"{BASE}/mine:allocate", headers=auth(token_a)), 404, 5)


# --- list --------------------------------------------------------------------------------------


async def test_list_pages_with_opaque_tokens(client: httpx.AsyncClient, token_a: str) -> None:
    for i in range(5):
        await create(client, token_a, f"seg-{i}")
    seen: list[str] = []
    params: dict[str, str] = {"pageSize": "2"}
    for _ in range(3):
        r = await client.get(BASE, params=params, headers=auth(token_a))
        body = r.json()
        seen += [s["name"] for s in body["segments"]]
        if "nextPageToken" not in body:
            break
        params = {"pageSize": "2", "pageToken": body["nextPageToken"]}
    assert seen == [f"segments/seg-{i}" for i in range(5)]  # default order: name
    assert "nextPageToken" not in body


async def test_page_tokens_are_bound_to_their_query(
    client: httpx.AsyncClient, token_a: str
) -> None:
    for i in range(3):
        await create(client, token_a, f"seg-{i}")
    first = await client.get(BASE, params={"pageSize": "1"}, headers=auth(token_a))
    token = first.json()["nextPageToken"]
    other = await client.get(
        BASE,
        params={"pageSize": "1", "pageToken": token, "orderBy": "createTime"},
        headers=auth(token_a),
    )
    assert_status(other, 400, 3)
    garbage = await client.get(BASE, params={"pageToken": "garbage!"}, headers=auth(token_a))
    assert_status(garbage, 400, 3)


@pytest.mark.parametrize(("size", "status"), [("0", 200), ("5000", 200), ("-1", 400), ("ten", 400)])
async def test_page_size(client: httpx.AsyncClient, token_a: str, size: str, status: int) -> None:
    r = await client.get(BASE, params={"pageSize": size}, headers=auth(token_a))
    assert r.status_code == status


async def test_list_order_by(client: httpx.AsyncClient, token_a: str) -> None:
    await create(client, token_a, "aaaa", displayName="Zed")
    await create(client, token_a, "bbbb", displayName="Alpha")
    await create(client, token_a, "cccc", displayName="Mid")

    async def names(order: str) -> list[str]:
        r = await client.get(BASE, params={"orderBy": order}, headers=auth(token_a))
        assert r.status_code == 200, r.text
        return [s["name"].removeprefix("segments/") for s in r.json()["segments"]]

    assert await names("displayName") == ["bbbb", "cccc", "aaaa"]
    assert await names("displayName:desc") == ["aaaa", "cccc", "bbbb"]
    assert await names("display_name desc") == ["aaaa", "cccc", "bbbb"]
    assert await names("createTime:desc,name") == ["cccc", "bbbb", "aaaa"]
    for bad in ("size", "name:sideways", "name,name"):
        r = await client.get(BASE, params={"orderBy": bad}, headers=auth(token_a))
        assert_status(r, 400, 3)


async def test_list_filter(client: httpx.AsyncClient, token_a: str) -> None:
    await create(
        client,
        token_a,
        "exp-a",
        displayName="Experiment A",
        allocation=exclusive("0.1", "ranking"),
        labels={"team": "search"},
    )
    await create(
        client,
        token_a,
        "exp-b",
        displayName="Experiment B",
        allocation=exclusive("0.1", "mixer"),
        labels={"team": "home"},
    )
    await create(client, token_a, "open", displayName="Everyone", flag="flags/f")
    await client.post(f"{BASE}/exp-a:allocate", json={}, headers=auth(token_a))

    async def names(query: str) -> list[str]:
        r = await client.get(BASE, params={"filter": query}, headers=auth(token_a))
        assert r.status_code == 200, r.text
        return [s["name"].removeprefix("segments/") for s in r.json()["segments"]]

    assert await names("state:ALLOCATED") == ["exp-a"]
    assert await names("state:UNALLOCATED OR state:OK") == ["exp-b", "open"]
    assert await names('labels.team:"search"') == ["exp-a"]
    assert await names("allocation.exclusivityTags:mixer") == ["exp-b"]
    assert await names("allocation.exclusive_to:ranking") == ["exp-a"]
    assert await names("displayName:Experiment* AND NOT state:OK") == ["exp-a", "exp-b"]
    assert await names('display_name:"Experiment A"') == ["exp-a"]
    assert await names("name:segments/open") == ["open"]
    assert await names("flag:flags/f") == ["open"]
    assert await names("owner:identities/test AND (labels.team:home OR flag:*)") == [
        "exp-b",
        "open",
    ]
    assert await names("labels.team:*") == ["exp-a", "exp-b"]
    for bad in ("size:5", "state:OK state:OK", "(state:OK", "state:", "AND", "NOT"):
        r = await client.get(BASE, params={"filter": bad}, headers=auth(token_a))
        assert_status(r, 400, 3)


async def test_list_lists_archived_and_full_view(client: httpx.AsyncClient, token_a: str) -> None:
    await create(client, token_a, "gone")
    await client.post(f"{BASE}/gone:archive", json={}, headers=auth(token_a))
    listed = await client.get(BASE, params={"view": "FULL"}, headers=auth(token_a))
    [only] = listed.json()["segments"]
    assert only["state"] == "ARCHIVED" and "bitsetAllocation" in only


async def test_lists_are_per_tenant(client: httpx.AsyncClient, token_a: str, token_b: str) -> None:
    await create(client, token_a, "mine")
    assert (await client.get(BASE, headers=auth(token_b))).json() == {"segments": []}


# --- update ------------------------------------------------------------------------------------


async def patch(
    client: httpx.AsyncClient, token: str, segment_id: str, body: object, mask: str | None = None
) -> httpx.Response:
    params = {"updateMask": mask} if mask is not None else {}
    return await client.patch(f"{BASE}/{segment_id}", params=params, json=body, headers=auth(token))


async def test_patch_with_a_mask_changes_only_the_masked_fields(
    client: httpx.AsyncClient, token_a: str
) -> None:
    before = await create(
        client,
        token_a,
        "patchy",
        displayName="Before",
        description="d",
        labels={"a": "1", "b": "2"},
    )
    r = await patch(
        client,
        token_a,
        "patchy",
        {"displayName": "After", "description": "ignored", "labels": {"a": "9"}},
        "displayName,labels.a",
    )
    assert r.status_code == 200, r.text
    after = r.json()
    assert after["displayName"] == "After" and after["description"] == "d"
    assert after["labels"] == {"a": "9", "b": "2"}
    assert (
        after["updateTime"] >= before["updateTime"] and after["createTime"] == before["createTime"]
    )


async def test_patch_nested_and_snake_case_paths(client: httpx.AsyncClient, token_a: str) -> None:
    await create(client, token_a, "nested", allocation=exclusive("0.1", "a"))
    r = await patch(
        client,
        token_a,
        "nested",
        {"allocation": {"exclusivityTags": ["b"], "proportion": {"value": "0.9"}}},
        "allocation.exclusivity_tags",
    )
    assert r.status_code == 200, r.text
    assert r.json()["allocation"] == {
        "proportion": {"value": "0.1"},
        "exclusivityTags": ["b"],
        "exclusiveTo": ["a"],
    }


async def test_patch_without_a_mask_updates_what_is_sent(
    client: httpx.AsyncClient, token_a: str
) -> None:
    await create(
        client,
        token_a,
        "nomask",
        displayName="N",
        description="keep",
        allocation={"proportion": {"value": "0.2"}},
    )
    r = await patch(
        client,
        token_a,
        "nomask",
        {"allocation": {"proportion": {"value": "0.3"}}, "targeting": SWEDEN},
    )
    body = r.json()
    assert body["description"] == "keep" and body["targeting"] == SWEDEN
    assert body["allocation"] == {"proportion": {"value": "0.3"}}
    full = await client.get(f"{BASE}/nomask", params={"view": "FULL"}, headers=auth(token_a))
    bits = from_bytes(base64.b64decode(full.json()["bitsetAllocation"]["bitset"]))
    assert bits.bit_count() == 300_000


async def test_patch_star_replaces_everything(client: httpx.AsyncClient, token_a: str) -> None:
    await create(
        client,
        token_a,
        "starry",
        displayName="S",
        description="gone",
        labels={"a": "1"},
        targeting=SWEDEN,
    )
    r = await patch(client, token_a, "starry", {"displayName": "T"}, "*")
    body = r.json()
    assert body["displayName"] == "T"
    assert "description" not in body and "labels" not in body and "targeting" not in body
    assert body["allocation"] == {"proportion": {"value": "1"}}


async def test_patch_targeting_subfield(client: httpx.AsyncClient, token_a: str) -> None:
    await create(client, token_a, "subtgt", targeting=SWEDEN)
    norway = {
        "criteria": {
            "norway": {
                "attribute": {
                    "attributeName": "country",
                    "eqRule": {"value": {"stringValue": "NO"}},
                }
            }
        },
        "expression": {"ref": "norway"},
    }
    r = await patch(client, token_a, "subtgt", {"targeting": norway}, "targeting.criteria")
    assert_status(r, 400, 3)  # the kept expression names a criterion that is gone
    r = await patch(
        client, token_a, "subtgt", {"targeting": norway}, "targeting.criteria,targeting.expression"
    )
    assert r.status_code == 200 and r.json()["targeting"] == norway


@pytest.mark.parametrize("mask", ["size", "allocation.size", "display name", "labels,*"])
async def test_bad_masks(client: httpx.AsyncClient, token_a: str, mask: str) -> None:
    await create(client, token_a, "masked")
    assert_status(await patch(client, token_a, "masked", {}, mask), 400, 3)


async def test_output_only_paths_in_a_mask_are_ignored(
    client: httpx.AsyncClient, token_a: str
) -> None:
    await create(client, token_a, "outmask")
    r = await patch(client, token_a, "outmask", {"state": "ARCHIVED"}, "state,create_time")
    assert r.status_code == 200 and r.json()["state"] == "OK"


async def test_patch_errors(client: httpx.AsyncClient, token_a: str, client_token_a: str) -> None:
    assert_status(await patch(client, token_a, "nope", {}), 404, 5)
    await create(client, token_a, "patch-err")
    assert_status(await patch(client, token_a, "patch-err", {"name": "segments/other"}), 400, 3)
    assert_status(await patch(client, token_a, "patch-err", {"bogus": 1}), 400, 3)
    assert_status(await patch(client, client_token_a, "patch-err", {}), 403, 7)
    r = await client.patch(
        f"{BASE}/patch-err",
        content=b"{",
        headers={**auth(token_a), "Content-Type": "application/json"},
    )
    assert_status(r, 400, 3)


async def test_patch_display_name_conflict(client: httpx.AsyncClient, token_a: str) -> None:
    await create(client, token_a, "first", displayName="One")
    await create(client, token_a, "second", displayName="Two")
    r = await patch(client, token_a, "second", {"displayName": "One"})
    assert_status(r, 409, 6)
    got = await client.get(f"{BASE}/second", headers=auth(token_a))
    assert got.json()["displayName"] == "Two"  # unchanged


async def test_identity_of_another_token(
    client: httpx.AsyncClient, token_a: str, store: object
) -> None:
    await create(client, token_a, "shared")
    other = await make_token(store, "tenant-a", name="robot")  # type: ignore[arg-type]
    r = await patch(client, other, "shared", {"description": "x"})
    body = r.json()
    assert body["creator"] == "identities/test" and body["updater"] == "identities/robot"
    assert body["owner"] == "identities/test"
