"""Writes through segmux's own API: ``POST /segmux/v1/segments`` (the condition as the canonical
AST or in any language), ``PATCH`` with ``If-Match`` and ``DELETE``; every refusal a 4xx in
segmux's error format."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from core.model import NewSegment
from core.store import Store

SEGMENTS = "/segmux/v1/segments"
US = {
    "t": "cmp",
    "op": "eq",
    "path": ["workAddress", "country"],
    "value": {"t": "lit", "kind": "string", "value": "US"},
}
US_CONSTRAINT = [{"contextName": "workAddress.country", "operator": "IN", "values": ["US"]}]


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def ok(r: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    out: dict[str, Any] = r.json()
    return out


def refused(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    body = ok(r, status)
    assert body["error"] == code and body["reason"], body
    return body


async def create(client: httpx.AsyncClient, token: str, **body: Any) -> dict[str, Any]:
    r = await client.post(SEGMENTS, json=body, headers=auth(token))
    made = ok(r, 201)
    assert r.headers["Location"] == f"{SEGMENTS}/{made['id']}"
    assert r.headers["ETag"] == f'"{made["version"]}"'
    return made


async def test_create_with_the_canonical_ast(client: httpx.AsyncClient, token_a: str) -> None:
    made = await create(client, token_a, name="US", description="workers in the US", expression=US)
    assert (made["name"], made["description"], made["kind"]) == (
        "US",
        "workers in the US",
        "dynamic",
    )
    assert made["expression"] == {**US, "ci": False}
    assert made["sandbox"] == "prod" and made["version"] == 1
    r = made["renderings"]
    assert r["adobe"]["expression"] == 'workAddress.country = "US"'
    assert r["hal"]["expression"] == "workAddress/country eq 'US'"
    assert r["unleash"]["expression"] == US_CONSTRAINT
    assert r["unleash"]["id"] == made["seq"]
    # what GET shows is what the create answered, and the AST can be sent back unchanged
    got = await client.get(f"{SEGMENTS}/{made['id']}", headers=auth(token_a))
    assert ok(got) == made and got.headers["ETag"] == '"1"'
    twin = await create(client, token_a, name="US again", expression=made["expression"])
    assert twin["expression"] == made["expression"]


@pytest.mark.parametrize(
    ("language", "expression"),
    [
        ("pql", 'workAddress.country = "US"'),
        ("odata", "workAddress/country eq 'US'"),
        ("unleash", [{"contextName": "workAddress.country", "operator": "IN", "values": ["US"]}]),
        (
            "confidence",
            {
                "criteria": {
                    "c": {
                        "attribute": {
                            "attributeName": "workAddress.country",
                            "eqRule": {"value": {"stringValue": "US"}},
                        }
                    }
                },
                "expression": {"ref": "c"},
            },
        ),
        (
            "pqljson",
            {
                "nodeType": "fnApply",
                "fnName": "=",
                "params": [
                    {
                        "nodeType": "fieldLookup",
                        "fieldName": "country",
                        "object": {
                            "nodeType": "fieldLookup",
                            "fieldName": "workAddress",
                            "object": {"nodeType": "parameterReference", "position": 1},
                        },
                    },
                    {"nodeType": "literal", "literalType": "String", "value": "US"},
                ],
            },
        ),
    ],
)
async def test_create_in_any_language_is_one_canonical_condition(
    client: httpx.AsyncClient, token_a: str, language: str, expression: Any
) -> None:
    made = await create(
        client,
        token_a,
        name=f"US in {language}",
        condition={"language": language, "expression": expression},
    )
    assert made["expression"] == {**US, "ci": False}
    assert made["renderings"]["unleash"]["expression"] == US_CONSTRAINT


async def test_no_condition_matches_everyone_and_static_has_none(
    client: httpx.AsyncClient, token_a: str
) -> None:
    everyone = await create(client, token_a, name="everyone")
    assert everyone["expression"] is None
    assert everyone["renderings"]["unleash"]["expression"] == []
    static = await create(client, token_a, name="friends", kind="static", sandbox="my-project")
    assert (static["kind"], static["sandbox"]) == ("static", "my-project")
    assert static["renderings"]["hal"]["url"] == (
        f"/my-project/individual-segments/{static['slug']}"
    )
    assert "static" in static["renderings"]["adobe"]["reason"]
    assert "default sandbox" in static["renderings"]["unleash"]["reason"]
    r = await client.get(f"/api/admin/segments/{static['seq']}", headers={"Authorization": token_a})
    assert r.status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, None),
        ({"name": ""}, "name"),
        ({"name": "x", "kind": "sometimes"}, "kind"),
        ({"name": "x", "extra": 1}, ""),
        ({"name": "x", "expression": "age > 3"}, "expression"),
        ({"name": "x", "expression": {"t": "cmp", "op": "eq", "path": ["a"]}}, "expression"),
        (
            {
                "name": "x",
                "expression": {
                    "t": "cmp",
                    "op": "eq",
                    "path": [],
                    "value": {"kind": "string", "value": "US"},
                },
            },
            "expression",
        ),
        (
            {
                "name": "x",
                "expression": {
                    "t": "cmp",
                    "op": "lt",
                    "path": ["age"],
                    "value": {"kind": "number", "value": "old"},
                },
            },
            "expression",
        ),
        (
            {"name": "x", "expression": {"t": "regex", "path": ["a"], "pattern": "(?=x)"}},
            "expression",
        ),
        ({"name": "x", "expression": {"t": "and", "args": []}}, "expression"),
        ({"name": "x", "expression": {"t": "exists", "path": ["a"], "x": 1}}, "expression"),
        (
            {
                "name": "x",
                "expression": {
                    "t": "cmp",
                    "op": "eq",
                    "path": ["a"],
                    "value": {"t": "lit", "kind": "string", "value": "US", "vaue": "UK"},
                },
            },
            "expression",
        ),
        (
            {
                "name": "x",
                "expression": {
                    "t": "in",
                    "path": ["a"],
                    "values": [{"kind": "string", "value": "1"}, {"kind": "number", "value": 1}],
                },
            },
            "expression",
        ),
        ({"name": "x", "expression": {"t": "segment", "ref": "segments/abcd"}}, "expression"),
        (
            {
                "name": "x",
                "expression": US,
                "condition": {"language": "pql", "expression": "a = 1"},
            },
            "condition",
        ),
        (
            {"name": "x", "condition": {"language": "sql", "expression": "a = 1"}},
            "condition.language",
        ),
        ({"name": "x", "condition": {"language": "pql", "expression": "a = = 1"}}, None),
        (
            {
                "name": "x",
                "condition": {
                    "language": "confidence",
                    "expression": {
                        "criteria": {"s": {"segment": {"segment": "segments/other"}}},
                        "expression": {"ref": "s"},
                    },
                },
            },
            "condition",
        ),
        ({"name": "x", "kind": "static", "expression": US}, "expression"),
        ({"name": "x\x00"}, "name"),
        ({"name": "x", "sandbox": ""}, "sandbox"),
    ],
)
async def test_bad_creates_are_400(
    client: httpx.AsyncClient, token_a: str, body: dict[str, Any], field: str | None
) -> None:
    found = refused(await client.post(SEGMENTS, json=body, headers=auth(token_a)), 400, "invalid")
    if field is not None:
        assert found.get("field", "") == field or found.get("field", "").startswith(field), found
    listed = ok(await client.get(SEGMENTS, headers=auth(token_a)))
    assert listed["items"] == []


async def test_bad_bodies_are_4xx(client: httpx.AsyncClient, token_a: str) -> None:
    refused(
        await client.post(
            SEGMENTS, content=b"{", headers={**auth(token_a), "Content-Type": "application/json"}
        ),
        400,
        "bad_request",
    )
    refused(
        await client.post(
            SEGMENTS,
            content=b"name=x",
            headers={**auth(token_a), "Content-Type": "application/x-www-form-urlencoded"},
        ),
        415,
        "unsupported_media_type",
    )
    refused(await client.post(SEGMENTS, json=[1], headers=auth(token_a)), 400, "invalid")


async def test_names_are_unique_per_sandbox(client: httpx.AsyncClient, token_a: str) -> None:
    await create(client, token_a, name="dup")
    refused(
        await client.post(SEGMENTS, json={"name": "dup"}, headers=auth(token_a)), 409, "conflict"
    )
    await create(client, token_a, name="dup", sandbox="elsewhere")


async def test_patch_changes_only_what_is_given(client: httpx.AsyncClient, token_a: str) -> None:
    made = await create(client, token_a, name="US", description="d", expression=US)
    url = f"{SEGMENTS}/{made['id']}"
    r = await client.patch(
        url,
        json={"condition": {"language": "odata", "expression": "age ge 18"}},
        headers=auth(token_a),
    )
    changed = ok(r)
    assert r.headers["ETag"] == '"2"' and changed["version"] == 2
    assert (changed["name"], changed["description"]) == ("US", "d")
    assert changed["renderings"]["adobe"]["expression"] == "age >= 18"
    changed = ok(
        await client.patch(url, json={"name": "adults", "description": None}, headers=auth(token_a))
    )
    assert (changed["name"], changed["description"], changed["version"]) == ("adults", None, 3)
    assert changed["renderings"]["hal"]["expression"] == "age ge 18"
    assert ok(await client.get(url, headers=auth(token_a))) == changed


async def test_if_match_guards_against_lost_updates(
    client: httpx.AsyncClient, token_a: str
) -> None:
    made = await create(client, token_a, name="US", expression=US)
    url = f"{SEGMENTS}/{made['id']}"
    first = ok(
        await client.patch(url, json={"name": "one"}, headers={**auth(token_a), "If-Match": '"1"'})
    )
    assert first["version"] == 2
    stale = await client.patch(
        url, json={"name": "two"}, headers={**auth(token_a), "If-Match": '"1"'}
    )
    assert refused(stale, 412, "precondition_failed")["field"] == "If-Match"
    assert ok(await client.get(url, headers=auth(token_a)))["name"] == "one"
    assert (
        ok(
            await client.patch(
                url, json={"name": "three"}, headers={**auth(token_a), "If-Match": "*"}
            )
        )["version"]
        == 3
    )
    for bad in ("1", 'W/"3"', '"x"', '"0"'):
        refused(
            await client.patch(
                url, json={"name": "four"}, headers={**auth(token_a), "If-Match": bad}
            ),
            400,
            "invalid",
        )


async def test_patch_kind_and_condition_rules(client: httpx.AsyncClient, token_a: str) -> None:
    made = await create(client, token_a, name="US", expression=US)
    url = f"{SEGMENTS}/{made['id']}"
    static = ok(await client.patch(url, json={"kind": "static"}, headers=auth(token_a)))
    assert (static["kind"], static["expression"]) == ("static", None)
    refused(await client.patch(url, json={"expression": US}, headers=auth(token_a)), 400, "invalid")
    dynamic = ok(
        await client.patch(url, json={"kind": "dynamic", "expression": US}, headers=auth(token_a))
    )
    assert dynamic["expression"] == {**US, "ci": False}
    bodies: list[Any] = [{}, {"name": ""}, {"version": 1}, {"expression": {"t": "nope"}}, []]
    for body in bodies:
        refused(await client.patch(url, json=body, headers=auth(token_a)), 400, "invalid")


async def test_delete(client: httpx.AsyncClient, token_a: str) -> None:
    made = await create(client, token_a, name="gone")
    url = f"{SEGMENTS}/{made['id']}"
    r = await client.delete(url, headers=auth(token_a))
    assert r.status_code == 204 and r.content == b""
    refused(await client.get(url, headers=auth(token_a)), 404, "not_found")
    refused(await client.delete(url, headers=auth(token_a)), 404, "not_found")


async def test_a_segment_a_flag_rule_uses_cannot_be_deleted(
    client: httpx.AsyncClient, token_a: str
) -> None:
    made = await create(client, token_a, name="used", expression=US)
    admin = {"Authorization": token_a}
    base = "/api/admin/projects/default/features"
    assert (await client.post(base, json={"name": "f"}, headers=admin)).status_code == 201
    r = await client.post(
        f"{base}/f/environments/development/strategies",
        headers=admin,
        json={"name": "default", "segments": [made["seq"]]},
    )
    assert r.status_code == 200, r.text
    url = f"{SEGMENTS}/{made['id']}"
    body = refused(await client.delete(url, headers=auth(token_a)), 409, "in_use")
    assert "rule" in body["reason"]
    assert ok(await client.get(url, headers=auth(token_a)))["id"] == made["id"]


async def test_client_tokens_cannot_write(
    client: httpx.AsyncClient, token_a: str, client_token_a: str
) -> None:
    made = await create(client, token_a, name="mine")
    url = f"{SEGMENTS}/{made['id']}"
    sdk = auth(client_token_a)
    refused(await client.post(SEGMENTS, json={"name": "x"}, headers=sdk), 403, "forbidden")
    refused(await client.patch(url, json={"name": "x"}, headers=sdk), 403, "forbidden")
    refused(await client.delete(url, headers=sdk), 403, "forbidden")
    assert ok(await client.get(url, headers=auth(token_a)))["name"] == "mine"


async def test_other_tenants_ids_are_404(
    client: httpx.AsyncClient, token_a: str, token_b: str, store: Store
) -> None:
    theirs = await store.create_segment("tenant-b", NewSegment(name="theirs"), "t")
    for segment_id in (theirs.id, str(uuid.uuid4()), "not-a-uuid"):
        url = f"{SEGMENTS}/{segment_id}"
        refused(
            await client.patch(url, json={"name": "mine now"}, headers=auth(token_a)),
            404,
            "not_found",
        )
        refused(await client.delete(url, headers=auth(token_a)), 404, "not_found")
    got = ok(await client.get(f"{SEGMENTS}/{theirs.id}", headers=auth(token_b)))
    assert (got["name"], got["version"]) == ("theirs", 1)


async def test_writes_need_a_token(client: httpx.AsyncClient, token_a: str) -> None:
    made = await create(client, token_a, name="x")
    url = f"{SEGMENTS}/{made['id']}"
    for r in (
        await client.post(SEGMENTS, json={"name": "y"}),
        await client.patch(url, json={"name": "y"}),
        await client.delete(url),
    ):
        refused(r, 401, "unauthorized")
