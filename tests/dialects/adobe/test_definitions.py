"""Segment definitions over HTTP — create, get, PATCH, DELETE — every status and error body,
on both backends."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import httpx
import pytest

from core.model import NewFlag, NewRule
from core.store import Store
from tests.dialects.adobe.common import (
    DEFS,
    DOC_PQL,
    DOC_PQL_JSON,
    ORG_A,
    SEED_BODY,
    body,
    create,
    headers,
    service_error,
)

DEFAULT_EVALUATION = {
    "batch": {"enabled": True},
    "continuous": {"enabled": False},
    "synchronous": {"enabled": False},
}


async def count(client: httpx.AsyncClient, token: str, sandbox: str = "prod") -> int:
    r = await client.get(DEFS, headers=headers(token, sandbox=sandbox))
    total: int = r.json()["page"]["totalCount"]
    return total


# --- create ---------------------------------------------------------------------------------


async def test_create_answers_200_with_the_seeds_definition(
    client: httpx.AsyncClient, token_a: str
) -> None:
    before = int(time.time() * 1000)
    r = await client.post(DEFS, json=SEED_BODY, headers=headers(token_a))
    after = int(time.time() * 1000)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    d = r.json()
    assert uuid.UUID(d["id"])
    assert r.headers["x-location"] == f"http://segmux.test{DEFS}/{d['id']}"
    assert d == {
        "id": d["id"],
        "schema": {"name": "_xdm.context.profile"},
        "ttlInDays": 60,
        "profileInstanceId": "ups",
        "imsOrgId": ORG_A,
        "sandbox": {
            "sandboxId": d["sandbox"]["sandboxId"],
            "sandboxName": "prod",
            "type": "production",
            "default": True,
        },
        "name": "People who ordered in the last 30 days",
        "description": "Last 30 days",
        "expression": {"type": "PQL", "format": "pql/text", "value": DOC_PQL},
        "payloadSchema": "string",
        "evaluationInfo": DEFAULT_EVALUATION,
        "dataGovernancePolicy": {"excludeOptOut": True},
        "creationTime": d["creationTime"],
        "updateEpoch": d["updateEpoch"],
        "updateTime": d["updateTime"],
    }
    assert list(d)[:3] == ["id", "schema", "ttlInDays"]
    assert before <= d["creationTime"] <= after
    assert d["updateTime"] == d["creationTime"]
    assert d["updateEpoch"] == d["updateTime"] // 1000
    assert uuid.UUID(d["sandbox"]["sandboxId"])


async def test_create_keeps_uninterpreted_fields_exactly(
    client: httpx.AsyncClient, token_a: str
) -> None:
    extra = {
        "mergePolicyId": "b83185bb-0bc6-489c-9363-0075eb30b4c8",
        "labels": ["core/C1"],
        "type": "SegmentDefinition",
        "custom": {"nested": [1, 2.5, None, "é"]},
        "schema": {"id": "https://ns.adobe.com/xdm/context/profile"},
    }
    made = await create(client, token_a, "kept", **extra)
    got = (await client.get(f"{DEFS}/{made['id']}", headers=headers(token_a))).json()
    for key, value in extra.items():
        assert made[key] == value
        assert got[key] == value
    assert got == made


async def test_create_with_pql_json_returns_it_as_sent(
    client: httpx.AsyncClient, token_a: str
) -> None:
    sent = body("json one")
    sent["expression"] = {"type": "PQL", "format": "pql/json", "value": DOC_PQL_JSON}
    r = await client.post(DEFS, json=sent, headers=headers(token_a))
    assert r.status_code == 200, r.text
    assert r.json()["expression"] == sent["expression"]


async def test_create_ignores_server_set_fields(client: httpx.AsyncClient, token_a: str) -> None:
    sent = body(
        "ignored",
        id="4afe34ae-8c98-4513-8a1d-67ccaa54bc05",
        creationTime=0,
        updateTime=0,
        updateEpoch=0,
        imsOrgId="other@AdobeOrg",
        dataGovernancePolicy={"excludeOptOut": False},
        sandbox={"sandboxName": "dev"},
    )
    d = (await client.post(DEFS, json=sent, headers=headers(token_a))).json()
    assert d["id"] != "4afe34ae-8c98-4513-8a1d-67ccaa54bc05"
    assert d["creationTime"] > 0
    assert d["imsOrgId"] == ORG_A
    assert d["dataGovernancePolicy"] == {"excludeOptOut": True}
    assert d["sandbox"]["sandboxName"] == "prod"


async def test_evaluation_info_is_kept_with_defaults_filled(
    client: httpx.AsyncClient, token_a: str
) -> None:
    made = await create(
        client,
        token_a,
        "streaming",
        evaluationInfo={"continuous": {"enabled": True}, "synchronous": {}},
    )
    assert made["evaluationInfo"] == {
        "batch": {"enabled": True},
        "continuous": {"enabled": True},
        "synchronous": {"enabled": False},
    }


async def test_duplicate_name_is_422_and_says_use_patch(
    client: httpx.AsyncClient, token_a: str
) -> None:
    await create(client, token_a, "EMEA")
    r = await client.post(DEFS, json=body("EMEA"), headers=headers(token_a))
    message = service_error(r, 422)
    assert "already exists" in message
    assert "PATCH" in message
    assert await count(client, token_a) == 1


async def test_names_are_unique_per_sandbox_and_case_sensitive(
    client: httpx.AsyncClient, token_a: str, token_b: str
) -> None:
    await create(client, token_a, "EMEA")
    await create(client, token_a, "emea")
    await create(client, token_a, "EMEA", sandbox="dev")
    r = await client.post(
        DEFS, json=body("EMEA"), headers=headers(token_b, org="tenant-b@AdobeOrg")
    )
    assert r.status_code == 200


@pytest.mark.parametrize(
    ("sent", "field"),
    [
        ({k: v for k, v in SEED_BODY.items() if k != "name"}, "name"),
        (body(""), "name"),
        (body(name=7), "name"),  # type: ignore[arg-type]
        ({k: v for k, v in SEED_BODY.items() if k != "schema"}, "schema"),
        (body(schema={}), "schema"),
        (body(schema="profile"), "schema"),
        ({k: v for k, v in SEED_BODY.items() if k != "expression"}, "expression"),
        (body(expression={"type": "PQL", "format": "pql/text"}), "expression"),
        (body(expression={"type": "PQL", "format": "pql/text", "value": {"a": 1}}), "expression"),
        (
            body(expression={"type": "SQL", "format": "pql/text", "value": DOC_PQL}),
            "expression.type",
        ),
        (body(expression={"type": "PQL", "format": "text", "value": DOC_PQL}), "expression.format"),
        (body(evaluationInfo={"batch": {"enabled": "yes"}}), "evaluationInfo.batch.enabled"),
        (body(evaluationInfo={"batch": True}), "evaluationInfo.batch"),
        (body(ttlInDays="60"), "ttlInDays"),
        (body(ttlInDays=60.5), "ttlInDays"),
        (body(description=None), "description"),
        (body(profileInstanceId=1), "profileInstanceId"),
        (body(creationTime="now"), "creationTime"),
        (body(creationTime=2**63), "creationTime"),
        (body("x\x00y"), "name"),
        (body("n" * 1025), "name"),
        ([SEED_BODY], ""),
        ("a string", ""),
    ],
)
async def test_invalid_definition_is_400(
    client: httpx.AsyncClient, token_a: str, sent: Any, field: str
) -> None:
    r = await client.post(DEFS, json=sent, headers=headers(token_a))
    message = service_error(r, 400)
    assert r.json()["type"].endswith("UPAPI-113434-400")
    assert field in message
    assert await count(client, token_a) == 0


async def test_arl_is_unsupported(client: httpx.AsyncClient, token_a: str) -> None:
    sent = body(expression={"type": "ARL", "format": "pql/text", "value": DOC_PQL})
    message = service_error(await client.post(DEFS, json=sent, headers=headers(token_a)), 400)
    assert "ARL" in message
    assert "not supported" in message


@pytest.mark.parametrize(
    ("pql", "construct", "position"),
    [
        ('homeAddress.country = "US" and select X from xEvent where X.a = 1', "select", 31),
        ("xEvent.any(x => x.a = 1)", "xEvent", 0),
        ('chain(xEvent, timestamp, [A: WHAT(eventType = "x")])', "chain", 0),
        ("orders.sum(o.price) > 3", "sum", 7),
        ("a = 1 +\n 2", "+", 6),
    ],
)
async def test_unsupported_pql_is_400_naming_construct_and_position(
    client: httpx.AsyncClient, token_a: str, pql: str, construct: str, position: int
) -> None:
    r = await client.post(DEFS, json=body("bad", pql), headers=headers(token_a))
    message = service_error(r, 400)
    assert message.startswith("Invalid PQL expression: ")
    assert construct in message
    assert f"position {position}" in message
    assert "line " in message and "column " in message
    assert await count(client, token_a) == 0


async def test_pql_syntax_error_names_line_and_column(
    client: httpx.AsyncClient, token_a: str
) -> None:
    r = await client.post(DEFS, json=body("bad", 'a = "x" and\n  = 3'), headers=headers(token_a))
    message = service_error(r, 400)
    assert "line 2, column 3" in message


async def test_invalid_pql_json_is_400(client: httpx.AsyncClient, token_a: str) -> None:
    sent = body(expression={"type": "PQL", "format": "pql/json", "value": '{"nodeType": 1'})
    assert service_error(await client.post(DEFS, json=sent, headers=headers(token_a)), 400)
    sent["expression"]["value"] = '{"nodeType":"fnApply","fnName":"inSegment","params":[]}'
    message = service_error(await client.post(DEFS, json=sent, headers=headers(token_a)), 400)
    assert "inSegment" in message


async def test_malformed_json_is_400_with_the_ups_wording(
    client: httpx.AsyncClient, token_a: str
) -> None:
    r = await client.post(DEFS, content=b'{"name": ', headers=headers(token_a))
    message = service_error(r, 400)
    assert message == (
        "There is a problem extracting the user JSON, field(s) missing or "
        "invalid. Correct and try again."
    )
    assert r.json()["type"] == "https://ns.adobe.com/aep/errors/UPLIB-101206-500"


async def test_body_over_the_limit_is_413(client: httpx.AsyncClient, token_a: str) -> None:
    big = body("big", description="x" * (1024 * 1024))
    service_error(await client.post(DEFS, json=big, headers=headers(token_a)), 413)
    assert await count(client, token_a) == 0


# --- get ------------------------------------------------------------------------------------


async def test_get_returns_the_created_definition(client: httpx.AsyncClient, token_a: str) -> None:
    made = await create(client, token_a, "EMEA")
    r = await client.get(f"{DEFS}/{made['id']}", headers=headers(token_a))
    assert r.status_code == 200
    assert r.json() == made


async def test_unknown_or_foreign_definition_is_404(
    client: httpx.AsyncClient, token_a: str, token_b: str
) -> None:
    made = await create(client, token_a, "mine")
    message = service_error(await client.get(f"{DEFS}/nope", headers=headers(token_a)), 404)
    assert "nope" in message
    r = await client.get(f"{DEFS}/{made['id']}", headers=headers(token_b, org="tenant-b@AdobeOrg"))
    service_error(r, 404)
    r = await client.get(f"{DEFS}/{made['id']}", headers=headers(token_a, sandbox="dev"))
    service_error(r, 404)
    assert r.json()["type"].endswith("UPAPI-113430-404")


async def test_sandboxes_are_separate(client: httpx.AsyncClient, token_a: str) -> None:
    dev = await create(client, token_a, "in dev", sandbox="dev")
    assert dev["sandbox"] == {
        "sandboxId": dev["sandbox"]["sandboxId"],
        "sandboxName": "dev",
        "type": "development",
        "default": False,
    }
    assert await count(client, token_a, "dev") == 1
    assert await count(client, token_a, "prod") == 0
    prod = await create(client, token_a, "in prod")
    assert prod["sandbox"]["sandboxId"] != dev["sandbox"]["sandboxId"]


# --- PATCH ----------------------------------------------------------------------------------


async def test_patch_overwrites_with_the_guides_body(
    client: httpx.AsyncClient, token_a: str
) -> None:
    made = await create(client, token_a, "People who ordered in the last 30 days")
    sent = body(
        "Updated people who ordered in the last 30 days",
        'homeAddress.city = "Paris"',
        id=made["id"],
        creationTime=0,
        updateTime=0,
        updateEpoch=0,
    )
    await asyncio.sleep(0.002)
    r = await client.patch(f"{DEFS}/{made['id']}", json=sent, headers=headers(token_a))
    assert r.status_code == 200, r.text
    d = r.json()
    assert r.headers["x-location"].endswith(f"{DEFS}/{made['id']}")
    assert d["id"] == made["id"]
    assert d["name"] == "Updated people who ordered in the last 30 days"
    assert d["expression"]["value"] == 'homeAddress.city = "Paris"'
    assert d["creationTime"] == made["creationTime"]
    assert d["updateTime"] > made["updateTime"]
    assert d["updateEpoch"] == d["updateTime"] // 1000
    assert (await client.get(f"{DEFS}/{made['id']}", headers=headers(token_a))).json() == d


async def test_patch_keeps_optional_fields_it_omits(
    client: httpx.AsyncClient, token_a: str
) -> None:
    made = await create(
        client,
        token_a,
        "sticky",
        evaluationInfo={"continuous": {"enabled": True}},
        mergePolicyId="mp-1",
    )
    sent = {
        "name": "sticky 2",
        "expression": made["expression"],
        "schema": made["schema"],
        "ttlInDays": 90,
    }
    d = (await client.patch(f"{DEFS}/{made['id']}", json=sent, headers=headers(token_a))).json()
    assert d["evaluationInfo"]["continuous"] == {"enabled": True}
    assert d["description"] == "Last 30 days"
    assert (d["mergePolicyId"], d["profileInstanceId"], d["ttlInDays"]) == ("mp-1", "ups", 90)
    sent["evaluationInfo"] = {"continuous": {"enabled": False}}
    sent["description"] = ""
    d = (await client.patch(f"{DEFS}/{made['id']}", json=sent, headers=headers(token_a))).json()
    assert d["evaluationInfo"] == DEFAULT_EVALUATION
    assert d["description"] == ""


async def test_patch_unknown_is_404_after_validation(
    client: httpx.AsyncClient, token_a: str
) -> None:
    service_error(await client.patch(f"{DEFS}/nope", json=body("x"), headers=headers(token_a)), 404)
    r = await client.patch(f"{DEFS}/nope", json={"name": 1}, headers=headers(token_a))
    service_error(r, 400)


async def test_patch_body_id_must_be_the_path_id(client: httpx.AsyncClient, token_a: str) -> None:
    made = await create(client, token_a, "x")
    r = await client.patch(
        f"{DEFS}/{made['id']}", json=body("y", id=str(uuid.uuid4())), headers=headers(token_a)
    )
    assert "id" in service_error(r, 400)
    got = (await client.get(f"{DEFS}/{made['id']}", headers=headers(token_a))).json()
    assert got == made


async def test_patch_onto_a_taken_name_is_422(client: httpx.AsyncClient, token_a: str) -> None:
    await create(client, token_a, "taken")
    made = await create(client, token_a, "mine")
    r = await client.patch(f"{DEFS}/{made['id']}", json=body("taken"), headers=headers(token_a))
    service_error(r, 422)
    r = await client.patch(f"{DEFS}/{made['id']}", json=body("mine"), headers=headers(token_a))
    assert r.status_code == 200


async def test_failed_patch_changes_nothing(client: httpx.AsyncClient, token_a: str) -> None:
    made = await create(client, token_a, "x")
    r = await client.patch(
        f"{DEFS}/{made['id']}", json=body("y", "occurs last week"), headers=headers(token_a)
    )
    service_error(r, 400)
    r = await client.patch(f"{DEFS}/{made['id']}", content=b"{", headers=headers(token_a))
    service_error(r, 400)
    assert (await client.get(f"{DEFS}/{made['id']}", headers=headers(token_a))).json() == made


async def test_patch_in_another_sandbox_is_404(client: httpx.AsyncClient, token_a: str) -> None:
    made = await create(client, token_a, "x")
    r = await client.patch(
        f"{DEFS}/{made['id']}", json=body("y"), headers=headers(token_a, sandbox="dev")
    )
    service_error(r, 404)


# --- DELETE ---------------------------------------------------------------------------------


async def test_delete_is_200_with_an_empty_body(client: httpx.AsyncClient, token_a: str) -> None:
    made = await create(client, token_a, "x")
    r = await client.delete(f"{DEFS}/{made['id']}", headers=headers(token_a))
    assert r.status_code == 200
    assert r.content == b""
    service_error(await client.get(f"{DEFS}/{made['id']}", headers=headers(token_a)), 404)
    service_error(await client.delete(f"{DEFS}/{made['id']}", headers=headers(token_a)), 404)


async def test_delete_in_another_sandbox_is_404(client: httpx.AsyncClient, token_a: str) -> None:
    made = await create(client, token_a, "x")
    service_error(
        await client.delete(f"{DEFS}/{made['id']}", headers=headers(token_a, sandbox="dev")), 404
    )
    assert await count(client, token_a) == 1


async def test_delete_of_a_segment_a_flag_rule_uses_is_409(
    client: httpx.AsyncClient, store: Store, token_a: str
) -> None:
    made = await create(client, token_a, "used")
    await store.create_flag("tenant-a", NewFlag(name="checkout"), "test")
    await store.create_rule(
        "tenant-a",
        NewRule(flag="checkout", environment="development", segments=(made["id"],)),
        "test",
    )
    r = await client.delete(f"{DEFS}/{made['id']}", headers=headers(token_a))
    message = service_error(r, 409)
    assert "in use" in message
    assert (await client.get(f"{DEFS}/{made['id']}", headers=headers(token_a))).status_code == 200


async def test_error_bodies_are_json_for_aepp(client: httpx.AsyncClient, token_a: str) -> None:
    # aepp's deleteSegment returns res.json() for any status >= 400.
    r = await client.delete(f"{DEFS}/nope", headers=headers(token_a))
    assert json.loads(r.content)["status"] == 404
