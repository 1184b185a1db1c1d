"""Confidence's flags admin API over HTTP on both backends: flags, variants, rules, their
custom methods, paging and filters, update masks, and every refusal in ``google.rpc.Status``."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.dialects.confidence.helpers import SWEDEN, assert_status, auth, create

FLAGS = "/v1/flags"
SCHEMA = {
    "schema": {
        "enabled": {"boolSchema": {}},
        "color": {"stringSchema": {}},
        "size": {"intSchema": {}},
        "ratio": {"doubleSchema": {}},
        "tags": {"listSchema": {"elementSchema": {"stringSchema": {}}}},
        "nested": {"structSchema": {"schema": {"depth": {"intSchema": {}}}}},
    }
}


def variant(flag: str, name: str, **value: Any) -> dict[str, Any]:
    return {"name": f"flags/{flag}/variants/{name}", "value": value}


def full_rule(segment: str, variant_name: str, **extra: Any) -> dict[str, Any]:
    return {
        "segment": f"segments/{segment}",
        "enabled": True,
        "assignmentSpec": {
            "bucketCount": 100,
            "assignments": [
                {
                    "assignmentId": "all",
                    "variant": {"variant": variant_name},
                    "bucketRanges": [{"lower": 0, "upper": 100}],
                }
            ],
        },
        **extra,
    }


async def make_flag(
    client: httpx.AsyncClient, token: str, flag_id: str = "checkout", **body: Any
) -> dict[str, Any]:
    body.setdefault("schema", SCHEMA)
    r = await client.post(FLAGS, params={"flagId": flag_id}, json=body, headers=auth(token))
    assert r.status_code == 200, r.text
    made: dict[str, Any] = r.json()
    return made


async def make_rule(
    client: httpx.AsyncClient, token: str, flag: str, body: dict[str, Any]
) -> dict[str, Any]:
    r = await client.post(f"{FLAGS}/{flag}/rules", json=body, headers=auth(token))
    assert r.status_code == 200, r.text
    made: dict[str, Any] = r.json()
    return made


# --- flags ---------------------------------------------------------------------------------


async def test_create_get_and_list_a_flag(client: httpx.AsyncClient, token_a: str) -> None:
    made = await make_flag(
        client,
        token_a,
        description="the new checkout",
        labels={"team": "payments"},
        variants=[variant("checkout", "on", enabled=True, color="green")],
    )
    assert made["name"] == "flags/checkout"
    assert made["state"] == "ACTIVE"
    assert made["schema"] == SCHEMA
    assert made["description"] == "the new checkout"
    assert made["creator"] == made["owner"] == "identities/test"
    assert made["createTime"].endswith("Z") and made["updateTime"].endswith("Z")
    [on] = made["variants"]
    assert on["name"] == "flags/checkout/variants/on"
    assert on["value"] == {"enabled": True, "color": "green"}
    got = await client.get(f"{FLAGS}/checkout", headers=auth(token_a))
    assert got.status_code == 200 and got.json() == made
    listed = await client.get(FLAGS, headers=auth(token_a))
    assert listed.json() == {"flags": [made]}


async def test_snake_case_bodies_keep_data_keys(client: httpx.AsyncClient, token_a: str) -> None:
    schema = {
        "schema": {
            "my_field": {"bool_schema": {}},
            "a_list": {"list_schema": {"element_schema": {"int_schema": {}}}},
        }
    }
    r = await client.post(
        FLAGS,
        params={"flag_id": "snaky"},
        json={
            "schema": schema,
            "variants": [
                {"name": "flags/snaky/variants/v1", "value": {"my_field": True, "a_list": [1, 2]}}
            ],
        },
        headers=auth(token_a),
    )
    assert r.status_code == 200, r.text
    assert r.json()["schema"] == {
        "schema": {
            "my_field": {"boolSchema": {}},
            "a_list": {"listSchema": {"elementSchema": {"intSchema": {}}}},
        }
    }
    assert r.json()["variants"][0]["value"] == {"my_field": True, "a_list": [1, 2]}


@pytest.mark.parametrize(
    ("params", "body", "field"),
    [
        ({}, {}, "flag_id"),
        ({"flagId": "Bad_Id"}, {}, "flag_id"),
        ({"flagId": "ok-id"}, {"name": "flags/other"}, "flag.name"),
        ({"flagId": "ok-id"}, {"schema": {"schema": {"x": {"fooSchema": {}}}}}, "schema.schema.x"),
        ({"flagId": "ok-id"}, {"schema": {"schema": {"x": {}}}}, "schema.schema.x"),
        ({"flagId": "ok-id"}, {"bogus": 1}, ""),
    ],
)
async def test_bad_creates_are_invalid_argument(
    client: httpx.AsyncClient, token_a: str, params: dict[str, str], body: Any, field: str
) -> None:
    r = await client.post(FLAGS, params=params, json=body, headers=auth(token_a))
    status = assert_status(r, 400, 3)
    if field:
        assert status["details"][0]["fieldViolations"][0]["field"] == field
    assert (await client.get(FLAGS, headers=auth(token_a))).json() == {"flags": []}


async def test_a_taken_flag_id_is_already_exists(client: httpx.AsyncClient, token_a: str) -> None:
    await make_flag(client, token_a)
    r = await client.post(FLAGS, params={"flagId": "checkout"}, json={}, headers=auth(token_a))
    assert_status(r, 409, 6)


async def test_variant_values_are_checked_against_the_schema(
    client: httpx.AsyncClient, token_a: str
) -> None:
    for value in (
        {"enabled": "yes"},
        {"size": 1.5},
        {"unknown": 1},
        {"tags": ["a", 2]},
        {"nested": {"depth": "deep"}},
        {"ratio": True},
    ):
        r = await client.post(
            FLAGS,
            params={"flagId": "typed"},
            json={
                "schema": SCHEMA,
                "variants": [{"name": "flags/typed/variants/v", "value": value}],
            },
            headers=auth(token_a),
        )
        assert_status(r, 400, 3)
    fine = {"enabled": None, "size": 2.0, "ratio": 3, "tags": [], "nested": {"depth": 4}}
    made = await make_flag(client, token_a, "typed", variants=[variant("typed", "v", **fine)])
    assert made["variants"][0]["value"] == fine


async def test_list_pages_and_filters(client: httpx.AsyncClient, token_a: str) -> None:
    for i in range(5):
        await make_flag(
            client, token_a, f"flag-{i}", labels={"parity": "even" if i % 2 == 0 else "odd"}
        )
    r = await client.get(FLAGS, params={"pageSize": 2}, headers=auth(token_a))
    first = r.json()
    assert [f["name"] for f in first["flags"]] == ["flags/flag-0", "flags/flag-1"]
    seen = [f["name"] for f in first["flags"]]
    token = first["nextPageToken"]
    while token:
        page = (
            await client.get(
                FLAGS, params={"pageSize": 2, "pageToken": token}, headers=auth(token_a)
            )
        ).json()
        seen += [f["name"] for f in page["flags"]]
        token = page.get("nextPageToken", "")
    assert seen == [f"flags/flag-{i}" for i in range(5)]
    odd = await client.get(FLAGS, params={"filter": "labels.parity:odd"}, headers=auth(token_a))
    assert [f["name"] for f in odd.json()["flags"]] == ["flags/flag-1", "flags/flag-3"]
    # A token is bound to its filter; an unknown filter field is refused.
    r = await client.get(
        FLAGS,
        params={"filter": "labels.parity:odd", "pageToken": first["nextPageToken"]},
        headers=auth(token_a),
    )
    assert_status(r, 400, 3)
    assert_status(
        await client.get(FLAGS, params={"filter": "color:red"}, headers=auth(token_a)), 400, 3
    )
    assert_status(await client.get(FLAGS, params={"pageSize": -1}, headers=auth(token_a)), 400, 3)
    assert_status(await client.get(FLAGS, params={"pageSize": ""}, headers=auth(token_a)), 400, 3)
    assert_status(await client.get(FLAGS, params={"other": 1}, headers=auth(token_a)), 400, 3)


async def test_patch_a_flag_with_and_without_a_mask(
    client: httpx.AsyncClient, token_a: str
) -> None:
    made = await make_flag(client, token_a, description="old", labels={"a": "1", "b": "2"})
    r = await client.patch(
        f"{FLAGS}/checkout",
        params={"updateMask": "description,labels.b"},
        json={"description": "new", "labels": {"b": "3", "c": "ignored"}, "owner": "ignored"},
        headers=auth(token_a),
    )
    assert r.status_code == 200, r.text
    patched = r.json()
    assert patched["description"] == "new"
    assert patched["labels"] == {"a": "1", "b": "3"}
    assert patched["owner"] == made["owner"]
    assert patched["updateTime"] >= made["updateTime"]
    r = await client.patch(
        f"{FLAGS}/checkout", json={"owner": "identities/bob"}, headers=auth(token_a)
    )
    assert r.json()["owner"] == "identities/bob" and r.json()["description"] == "new"
    for mask in ("variants", "nope"):
        r = await client.patch(
            f"{FLAGS}/checkout", params={"updateMask": mask}, json={}, headers=auth(token_a)
        )
        assert_status(r, 400, 3)
    # A schema change that an existing variant does not fit is refused, and nothing changes.
    await client.post(
        f"{FLAGS}/checkout/variants",
        json=variant("checkout", "on", enabled=True),
        headers=auth(token_a),
    )
    r = await client.patch(
        f"{FLAGS}/checkout",
        params={"updateMask": "schema"},
        json={"schema": {"schema": {"enabled": {"stringSchema": {}}}}},
        headers=auth(token_a),
    )
    assert_status(r, 400, 3)
    assert (await client.get(f"{FLAGS}/checkout", headers=auth(token_a))).json()["schema"] == SCHEMA


async def test_archive_and_clients(client: httpx.AsyncClient, token_a: str) -> None:
    await make_flag(client, token_a)
    c = await client.post("/v1/clients", json={"displayName": "Web"}, headers=auth(token_a))
    client_name = c.json()["name"]
    r = await client.post(
        f"{FLAGS}/checkout:addFlagClient", json={"client": client_name}, headers=auth(token_a)
    )
    assert r.status_code == 200 and r.json()["clients"] == [client_name]
    r = await client.post(
        f"{FLAGS}/checkout:addFlagClient", json={"client": "clients/nobody"}, headers=auth(token_a)
    )
    assert_status(r, 404, 5)
    r = await client.post(
        f"{FLAGS}/checkout:removeFlagClient", json={"client": client_name}, headers=auth(token_a)
    )
    assert r.status_code == 200 and "clients" not in r.json()
    r = await client.post(
        f"{FLAGS}/checkout:removeFlagClient", json={"client": client_name}, headers=auth(token_a)
    )
    assert_status(r, 404, 5)
    r = await client.post(f"{FLAGS}/checkout:archive", headers=auth(token_a))
    assert r.status_code == 200 and r.json()["state"] == "ARCHIVED"
    assert_status(
        await client.post(f"{FLAGS}/checkout:archive", json={}, headers=auth(token_a)), 400, 9
    )
    r = await client.patch(f"{FLAGS}/checkout", json={"description": "x"}, headers=auth(token_a))
    assert_status(r, 400, 9)
    assert_status(
        await client.post(f"{FLAGS}/checkout:explode", json={}, headers=auth(token_a)), 404, 5
    )
    assert_status(await client.delete(f"{FLAGS}/checkout", headers=auth(token_a)), 404, 5)


# --- variants ------------------------------------------------------------------------------


async def test_variants_crud(client: httpx.AsyncClient, token_a: str) -> None:
    await make_flag(client, token_a)
    url = f"{FLAGS}/checkout/variants"
    r = await client.post(
        url, json=variant("checkout", "green", color="green"), headers=auth(token_a)
    )
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "flags/checkout/variants/green"
    await client.post(url, json=variant("checkout", "blue", color="blue"), headers=auth(token_a))
    assert_status(
        await client.post(url, json=variant("checkout", "blue", color="x"), headers=auth(token_a)),
        409,
        6,
    )
    assert_status(
        await client.post(url, json=variant("other", "red", color="red"), headers=auth(token_a)),
        400,
        3,
    )
    assert_status(
        await client.post(url, json=variant("checkout", "bad", color=1), headers=auth(token_a)),
        400,
        3,
    )
    listed = await client.get(url, params={"pageSize": 1}, headers=auth(token_a))
    assert [v["name"] for v in listed.json()["variants"]] == ["flags/checkout/variants/green"]
    assert listed.json()["nextPageToken"]
    r = await client.patch(
        f"{url}/green",
        params={"updateMask": "value"},
        json={"value": {"color": "lime"}},
        headers=auth(token_a),
    )
    assert r.json()["value"] == {"color": "lime"}
    got = await client.get(f"{url}/green", headers=auth(token_a))
    assert got.json()["value"] == {"color": "lime"}
    assert (await client.delete(f"{url}/blue", headers=auth(token_a))).json() == {}
    assert_status(await client.get(f"{url}/blue", headers=auth(token_a)), 404, 5)
    assert_status(await client.delete(f"{url}/blue", headers=auth(token_a)), 404, 5)
    assert_status(await client.get(f"{FLAGS}/nothing/variants", headers=auth(token_a)), 404, 5)


async def test_a_variant_a_rule_assigns_cannot_be_deleted(
    client: httpx.AsyncClient, token_a: str
) -> None:
    await create(client, token_a, "everyone")
    await make_flag(client, token_a, variants=[variant("checkout", "on", enabled=True)])
    rule = await make_rule(
        client, token_a, "checkout", full_rule("everyone", "flags/checkout/variants/on")
    )
    r = await client.delete(f"{FLAGS}/checkout/variants/on", headers=auth(token_a))
    status = assert_status(r, 400, 9)
    assert rule["name"] in status["details"][0]["violations"][0]["description"]


# --- rules ---------------------------------------------------------------------------------


async def test_rules_crud_in_order(client: httpx.AsyncClient, token_a: str) -> None:
    await create(client, token_a, "sweden", targeting=SWEDEN)
    await create(client, token_a, "everyone")
    await make_flag(
        client,
        token_a,
        variants=[
            variant("checkout", "on", enabled=True),
            variant("checkout", "off", enabled=False),
        ],
    )
    first = await make_rule(
        client,
        token_a,
        "checkout",
        full_rule(
            "sweden",
            "flags/checkout/variants/on",
            environments=["production"],
            targetingKeySelector="user.id",
        ),
    )
    assert first["name"].startswith("flags/checkout/rules/")
    assert first["segment"] == "segments/sweden"
    assert first["targetingKeySelector"] == "user.id"
    assert first["environments"] == ["production"]
    assert first["assignmentSpec"]["assignments"][0]["bucketRanges"] == [{"upper": 100}]
    split = {
        "segment": "segments/everyone",
        "enabled": True,
        "assignmentSpec": {
            "bucketCount": "10",
            "assignments": [
                {
                    "variant": {"variant": "flags/checkout/variants/off"},
                    "bucketRanges": [{"lower": 0, "upper": 5}],
                },
                {"fallthrough": {}, "bucketRanges": [{"lower": 5, "upper": 8}]},
                {"clientDefault": {}, "bucketRanges": [{"lower": 8, "upper": 10}]},
            ],
        },
    }
    second = await make_rule(client, token_a, "checkout", split)
    assert "targetingKeySelector" not in second  # blank, as sent: proto3 JSON omits it
    kinds = [
        sorted(set(a) - {"bucketRanges", "assignmentId"})
        for a in second["assignmentSpec"]["assignments"]
    ]
    assert kinds == [["variant"], ["fallthrough"], ["clientDefault"]]
    listed = (await client.get(f"{FLAGS}/checkout/rules", headers=auth(token_a))).json()
    assert [r["name"] for r in listed["rules"]] == [first["name"], second["name"]]
    flag = (await client.get(f"{FLAGS}/checkout", headers=auth(token_a))).json()
    assert [r["name"] for r in flag["rules"]] == [first["name"], second["name"]]
    rule_id = first["name"].rsplit("/", 1)[1]
    r = await client.patch(
        f"{FLAGS}/checkout/rules/{rule_id}", json={"enabled": False}, headers=auth(token_a)
    )
    assert r.status_code == 200, r.text
    assert "enabled" not in r.json() and r.json()["segment"] == "segments/sweden"
    r = await client.patch(
        f"{FLAGS}/checkout/rules/{rule_id}",
        params={"updateMask": "assignmentSpec.bucketCount"},
        json={"assignmentSpec": {"bucketCount": 200}},
        headers=auth(token_a),
    )
    assert r.json()["assignmentSpec"]["bucketCount"] == 200
    assert (
        await client.delete(f"{FLAGS}/checkout/rules/{rule_id}", headers=auth(token_a))
    ).json() == {}
    listed = (await client.get(f"{FLAGS}/checkout/rules", headers=auth(token_a))).json()
    assert [r["name"] for r in listed["rules"]] == [second["name"]]
    assert_status(
        await client.get(f"{FLAGS}/checkout/rules/{rule_id}", headers=auth(token_a)), 404, 5
    )


@pytest.mark.parametrize(
    ("change", "http", "code"),
    [
        ({"segment": "segments/nowhere"}, 404, 5),
        ({"segment": "nowhere"}, 400, 3),
        ({"segment": None}, 400, 3),
        ({"assignmentSpec": {"bucketCount": 0, "assignments": [{"fallthrough": {}}]}}, 400, 3),
        ({"assignmentSpec": {"bucketCount": 10, "assignments": [{"bucketRanges": []}]}}, 400, 3),
        (
            {
                "assignmentSpec": {
                    "bucketCount": 10,
                    "assignments": [
                        {"fallthrough": {}, "bucketRanges": [{"lower": 0, "upper": 6}]},
                        {"clientDefault": {}, "bucketRanges": [{"lower": 5, "upper": 10}]},
                    ],
                }
            },
            400,
            3,
        ),
        (
            {
                "assignmentSpec": {
                    "bucketCount": 10,
                    "assignments": [
                        {"fallthrough": {}, "bucketRanges": [{"lower": 0, "upper": 11}]}
                    ],
                }
            },
            400,
            3,
        ),
        (
            {
                "assignmentSpec": {
                    "bucketCount": 10,
                    "assignments": [
                        {"variant": {"variant": "flags/checkout/variants/none"}, "bucketRanges": []}
                    ],
                }
            },
            400,
            3,
        ),
        ({"assignmentSpec": {"bucketCount": "ten"}}, 400, 3),
        ({"environments": ["", "x"]}, 400, 3),
    ],
)
async def test_bad_rules_are_refused_and_nothing_changes(
    client: httpx.AsyncClient, token_a: str, change: dict[str, Any], http: int, code: int
) -> None:
    await create(client, token_a, "everyone")
    await make_flag(client, token_a, variants=[variant("checkout", "on", enabled=True)])
    body = {**full_rule("everyone", "flags/checkout/variants/on"), **change}
    r = await client.post(f"{FLAGS}/checkout/rules", json=body, headers=auth(token_a))
    assert_status(r, http, code)
    assert (await client.get(f"{FLAGS}/checkout/rules", headers=auth(token_a))).json() == {
        "rules": []
    }


# --- who may -------------------------------------------------------------------------------


async def test_tokens_and_tenants(
    client: httpx.AsyncClient, token_a: str, token_b: str, client_token_a: str
) -> None:
    await make_flag(client, token_a)
    assert_status(await client.get(FLAGS), 401, 16)
    assert_status(await client.get(FLAGS, headers=auth("smx_not-a-token")), 401, 16)
    assert (await client.get(FLAGS, headers=auth(token_b))).json() == {"flags": []}
    assert_status(await client.get(f"{FLAGS}/checkout", headers=auth(token_b)), 404, 5)
    assert_status(
        await client.patch(f"{FLAGS}/checkout", json={"description": "x"}, headers=auth(token_b)),
        404,
        5,
    )
    # A token that is not an admin token reads (as it reads segments) but never writes.
    reader = client_token_a
    assert (await client.get(f"{FLAGS}/checkout", headers=auth(reader))).status_code == 200
    r = await client.post(FLAGS, params={"flagId": "by-reader"}, json={}, headers=auth(reader))
    assert_status(r, 403, 7)


async def test_a_flag_update_reorders_its_rules_and_only_that(
    client: httpx.AsyncClient, token_a: str
) -> None:
    await create(client, token_a, "everyone")
    await make_flag(client, token_a, variants=[variant("checkout", "on", enabled=True)])
    made = [
        (
            await make_rule(
                client, token_a, "checkout", full_rule("everyone", "flags/checkout/variants/on")
            )
        )["name"]
        for _ in range(3)
    ]
    order = [made[2], made[0], made[1]]
    r = await client.patch(
        f"{FLAGS}/checkout",
        params={"updateMask": "rules"},
        json={"rules": [{"name": n} for n in order]},
        headers=auth(token_a),
    )
    assert r.status_code == 200, r.text
    assert [x["name"] for x in r.json()["rules"]] == order
    listed = (await client.get(f"{FLAGS}/checkout/rules", headers=auth(token_a))).json()
    assert [x["name"] for x in listed["rules"]] == order
    for bad in ([order[0], order[1]], [*order, order[0]], [*order[:2], "flags/checkout/rules/x"]):
        r = await client.patch(
            f"{FLAGS}/checkout",
            params={"updateMask": "rules"},
            json={"rules": [{"name": n} for n in bad]},
            headers=auth(token_a),
        )
        assert_status(r, 400, 3)
    r = await client.patch(
        f"{FLAGS}/checkout",
        params={"updateMask": "rules"},
        json={"rules": [{}]},
        headers=auth(token_a),
    )
    assert_status(r, 400, 3)
    listed = (await client.get(f"{FLAGS}/checkout/rules", headers=auth(token_a))).json()
    assert [x["name"] for x in listed["rules"]] == order
