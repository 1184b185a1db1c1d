"""``POST /v1/flags:resolve`` and ``POST /v1/flags:apply`` over HTTP, on both stores: answers,
tokens, errors in Confidence's format, freshness after a rule change, segments from other APIs,
and exclusivity across flags."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import httpx
import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.store import Store
from gateway.app import create_app
from gateway.settings import Settings
from tests.dialects.adobe.common import DEFS, ORG_A
from tests.dialects.adobe.common import headers as adobe_headers
from tests.dialects.confidence.helpers import BASE, SWEDEN, assert_status, auth, exclusive
from tests.dialects.confidence.resolve_helpers import (
    APPLY,
    RESOLVE,
    everyone_gets,
    make_client,
    make_flag,
    post,
    resolve,
)
from tests.examples import examples

SCHEMA = {"schema": {"enabled": {"boolSchema": {}}, "color": {"stringSchema": {}}}}
VARIANTS = {"on": {"enabled": True, "color": "red"}, "off": {"enabled": False}}


async def sweden_flag(client: httpx.AsyncClient, token: str) -> tuple[str, str, str]:
    """A segment of Swedes, a client, and flag ``dark`` giving Swedes ``on``: (client name,
    secret, rule name)."""
    await post(client, token, BASE, {"targeting": SWEDEN}, segmentId="swedes")
    name, secret = await make_client(client, token)
    rules = await make_flag(
        client,
        token,
        "dark",
        schema=SCHEMA,
        clients=[name],
        variants=VARIANTS,
        rules=[everyone_gets("dark", "on", "segments/swedes")],
    )
    return name, secret, next(iter(rules.values()))


async def test_a_match_answers_the_variant_its_value_and_a_token(
    client: httpx.AsyncClient, token_a: str
) -> None:
    _, secret, rule = await sweden_flag(client, token_a)
    r = await resolve(client, secret, {"targeting_key": "u1", "country": "SE"}, ["flags/dark"])
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    body = r.json()
    [flag] = body["resolvedFlags"]
    assert flag == {
        "flag": "flags/dark",
        "variant": "flags/dark/variants/on",
        "reason": "RESOLVE_REASON_MATCH",
        "shouldApply": True,
        "value": {"enabled": True, "color": "red"},
        "flagSchema": SCHEMA,
        "assignmentOrigin": rule,
    }
    assert base64.b64decode(body["resolveToken"]) and body["resolveId"]

    r = await resolve(client, secret, {"targeting_key": "u1", "country": "NO"}, [])
    [miss] = r.json()["resolvedFlags"]
    assert miss == {
        "flag": "flags/dark",
        "variant": "",
        "reason": "RESOLVE_REASON_NO_SEGMENT_MATCH",
        "shouldApply": False,
    }


async def test_snake_case_fields_and_the_context_kept_as_sent(
    client: httpx.AsyncClient, token_a: str
) -> None:
    _, secret, _ = await sweden_flag(client, token_a)
    body = {
        "client_secret": secret,
        "evaluation_context": {"targeting_key": "u1", "country": "SE"},
        "flags": ["flags/dark"],
        "apply": True,
        "sdk": {"id": "SDK_ID_PYTHON_CONFIDENCE", "version": "3.0.3"},
    }
    r = await client.post(RESOLVE, json=body)
    assert r.status_code == 200, r.text
    assert r.json()["resolvedFlags"][0]["reason"] == "RESOLVE_REASON_MATCH"
    assert r.json()["resolveToken"] == ""  # applied at once: nothing left to apply


async def test_apply_takes_back_the_token_of_the_same_credential_only(
    client: httpx.AsyncClient, token_a: str
) -> None:
    name, secret, _ = await sweden_flag(client, token_a)
    r = await resolve(client, secret, {"targeting_key": "u1", "country": "SE"}, [])
    token = r.json()["resolveToken"]
    now = "2026-01-01T00:00:00Z"
    applied = {
        "clientSecret": secret,
        "resolveToken": token,
        "sendTime": now,
        "flags": [{"flag": "flags/dark", "applyTime": now}],
    }
    r = await client.post(APPLY, json=applied)
    assert r.status_code == 200 and r.json() == {}

    # A flag the token does not hold, a token altered by one bit, another credential's secret.
    other = {**applied, "flags": [{"flag": "flags/other", "applyTime": now}]}
    assert_status(await client.post(APPLY, json=other), 400, 3)
    raw = bytearray(base64.b64decode(token))
    raw[-2] ^= 1
    altered = {**applied, "resolveToken": base64.b64encode(bytes(raw)).decode()}
    assert_status(await client.post(APPLY, json=altered), 400, 3)
    cred = await post(client, token_a, f"/v1/{name}/credentials", {"displayName": "second"})
    second = {**applied, "clientSecret": cred["clientSecret"]["secret"]}
    body = assert_status(await client.post(APPLY, json=second), 400, 3)
    assert "another client" in body["message"]
    # Required fields.
    no_time = {**applied, "flags": [{"flag": "flags/dark"}]}
    assert_status(await client.post(APPLY, json=no_time), 400, 3)
    no_send = {k: v for k, v in applied.items() if k != "sendTime"}
    assert_status(await client.post(APPLY, json=no_send), 400, 3)
    assert_status(await client.post(APPLY, json={**applied, "resolveToken": "%%%"}), 400, 3)


async def test_bad_requests_get_confidences_errors(client: httpx.AsyncClient, token_a: str) -> None:
    _, secret, _ = await sweden_flag(client, token_a)
    body = assert_status(await resolve(client, "no-such-secret", {}, []), 401, 16)
    assert body["message"] == "client secret not found"
    assert_status(await resolve(client, "", {}, []), 400, 3)
    bad = [
        b"{",
        b"[]",
        json.dumps({"clientSecret": secret, "flags": "flags/dark"}).encode(),
        json.dumps({"clientSecret": secret, "evaluationContext": [1]}).encode(),
        json.dumps({"clientSecret": secret, "unknown": 1}).encode(),
        json.dumps({"clientSecret": secret, "apply": "yes"}).encode(),
    ]
    for raw in bad:
        r = await client.post(RESOLVE, content=raw, headers={"Content-Type": "application/json"})
        assert_status(r, 400, 3)
    r = await client.post(RESOLVE, content=b"{}", headers={"Content-Type": "text/plain"})
    assert_status(r, 400, 3)
    # The flags of another client, or archived ones, are simply not in the answer.
    _, other_secret = await make_client(client, token_a)
    r = await resolve(client, other_secret, {"targeting_key": "u"}, ["flags/dark"])
    assert r.status_code == 200 and r.json()["resolvedFlags"] == []


async def test_a_rule_change_is_seen_by_the_next_resolve(
    client: httpx.AsyncClient, token_a: str
) -> None:
    _, secret, rule = await sweden_flag(client, token_a)
    context = {"targeting_key": "u1", "country": "SE"}
    r = await resolve(client, secret, context, [])
    assert r.json()["resolvedFlags"][0]["variant"] == "flags/dark/variants/on"
    patch = everyone_gets("dark", "off", "segments/swedes")["assignmentSpec"]
    r = await client.patch(
        f"/v1/{rule}",
        params={"updateMask": "assignmentSpec"},
        json={"assignmentSpec": patch},
        headers=auth(token_a),
    )
    assert r.status_code == 200, r.text
    r = await resolve(client, secret, context, [])
    [flag] = r.json()["resolvedFlags"]
    assert flag["variant"] == "flags/dark/variants/off"
    assert flag["value"] == {"enabled": False, "color": None}  # every field of the schema


async def test_a_rule_on_a_segment_made_in_pql_through_adobe(
    client: httpx.AsyncClient, token_a: str
) -> None:
    made = await client.post(
        DEFS,
        json={
            "name": "Adobe Swedes",
            "profileInstanceId": "ups",
            "expression": {"type": "PQL", "format": "pql/text", "value": 'country = "SE"'},
            "schema": {"name": "_xdm.context.profile"},
        },
        headers=adobe_headers(token_a, org=ORG_A),
    )
    assert made.status_code == 200, made.text
    listed = (await client.get(BASE, headers=auth(token_a))).json()["segments"]
    [segment] = [s["name"] for s in listed if s.get("displayName") == "Adobe Swedes"]
    name, secret = await make_client(client, token_a)
    await make_flag(
        client,
        token_a,
        "pql",
        schema=SCHEMA,
        clients=[name],
        variants=VARIANTS,
        rules=[everyone_gets("pql", "on", segment)],
    )
    se = await resolve(client, secret, {"targeting_key": "u", "country": "SE"}, [])
    us = await resolve(client, secret, {"targeting_key": "u", "country": "US"}, [])
    assert se.json()["resolvedFlags"][0]["reason"] == "RESOLVE_REASON_MATCH"
    assert us.json()["resolvedFlags"][0]["reason"] == "RESOLVE_REASON_NO_SEGMENT_MATCH"


async def exclusive_flags(client: httpx.AsyncClient, token: str) -> tuple[str, list[str]]:
    """Three segments coordinated in one exclusivity group, allocated, each behind a flag of
    its own that gives every member ``on``: (secret, flag names)."""
    tag = f"g{uuid.uuid4().hex[:8]}"
    name, secret = await make_client(client, token)
    flags = []
    for i in range(3):
        seg = f"{tag}-seg-{i}"
        await post(client, token, BASE, {"allocation": exclusive("0.3", tag)}, segmentId=seg)
        await post(client, token, f"{BASE}/{seg}:allocate", {})
        flag_id = f"{tag}-flag-{i}"
        await make_flag(
            client,
            token,
            flag_id,
            schema=SCHEMA,
            clients=[name],
            variants=VARIANTS,
            rules=[everyone_gets(flag_id, "on", f"segments/{seg}")],
        )
        flags.append(f"flags/{flag_id}")
    return secret, flags


@settings(
    max_examples=examples(8),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(units=st.lists(st.text(max_size=30) | st.integers(0, 10**12), min_size=1, max_size=25))
async def test_exclusive_segments_keep_units_apart_across_flags(
    client: httpx.AsyncClient, token_a: str, units: list[str | int]
) -> None:
    # Each example makes its own group (the store is shared by the examples of one test).
    secret, flags = await exclusive_flags(client, token_a)
    for unit in units:
        r = await resolve(client, secret, {"targeting_key": unit}, flags)
        assert r.status_code == 200, r.text
        matched = [f["flag"] for f in r.json()["resolvedFlags"] if f["variant"]]
        assert len(matched) <= 1, f"unit {unit!r} got the variants of {matched}"


async def test_a_resolve_reads_nothing_again_while_nothing_changed(
    client: httpx.AsyncClient, token_a: str, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, secret, _ = await sweden_flag(client, token_a)
    context = {"targeting_key": "u1", "country": "SE"}
    assert (await resolve(client, secret, context, [])).status_code == 200
    reads: list[str] = []
    for name in (
        "confidence_flags",
        "list_segments",
        "get_bitset",
        "get_tenant",
        "credential_by_secret_hash",
        "static_memberships",
    ):
        original = getattr(store, name)

        async def counted(*args: Any, _original: Any = original, _name: str = name) -> Any:
            reads.append(_name)
            return await _original(*args)

        monkeypatch.setattr(store, name, counted)
    r = await resolve(client, secret, {"targeting_key": "u2", "country": "SE"}, [])
    assert r.json()["resolvedFlags"][0]["reason"] == "RESOLVE_REASON_MATCH"
    assert reads == []
    # A write is seen: the next resolve loads the flags again.
    await post(client, token_a, BASE, {}, segmentId="unrelated")
    await resolve(client, secret, context, [])
    assert "confidence_flags" in reads


async def test_another_process_sees_a_rule_change_and_applies_the_token(
    store: Store, other_store: Store, settings: Settings, token_a: str
) -> None:
    # Two gateways over one database (strict freshness), sharing SEGMUX_RESOLVE_TOKEN_KEY.
    keyed = msgspec.structs.replace(settings, resolve_token_key="shared", freshness="strict")
    one = httpx.ASGITransport(app=create_app(keyed, store=store))
    two = httpx.ASGITransport(app=create_app(keyed, store=other_store))
    async with (
        httpx.AsyncClient(transport=one, base_url="http://one.test") as a,
        httpx.AsyncClient(transport=two, base_url="http://two.test") as b,
    ):
        _, secret, rule = await sweden_flag(a, token_a)
        context = {"targeting_key": "u1", "country": "SE"}
        r = await resolve(b, secret, context, [])  # warms the second gateway's state
        assert r.json()["resolvedFlags"][0]["variant"] == "flags/dark/variants/on"
        patch = everyone_gets("dark", "off", "segments/swedes")["assignmentSpec"]
        r = await a.patch(
            f"/v1/{rule}",
            params={"updateMask": "assignmentSpec"},
            json={"assignmentSpec": patch},
            headers=auth(token_a),
        )
        assert r.status_code == 200, r.text
        r = await resolve(b, secret, context, [])
        assert r.json()["resolvedFlags"][0]["variant"] == "flags/dark/variants/off"
        now = "2026-01-01T00:00:00Z"
        applied = {
            "clientSecret": secret,
            "resolveToken": r.json()["resolveToken"],
            "sendTime": now,
            "flags": [{"flag": "flags/dark", "applyTime": now}],
        }
        assert (await a.post(APPLY, json=applied)).status_code == 200
