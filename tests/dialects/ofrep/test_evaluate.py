"""OFREP's single and bulk evaluation over HTTP, on both backends: Unleash features and
Confidence flags through one namespace, values, variants, reasons and errors as the spec and
docs/dialects/ofrep.md have them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from core.store import Store
from tests.conftest import make_token
from tests.dialects.confidence.resolve_helpers import make_client, make_flag, post
from tests.dialects.ofrep.helpers import (
    bulk,
    confidence_flag,
    evaluate,
    everyone_gets,
    swedes,
    unleash_feature,
)
from tests.dialects.unleash.helpers import add_strategy, create_feature

SE = {"targetingKey": "u1", "country": "SE"}


@pytest.fixture
async def ofrep_a(store: Store) -> str:
    return await make_token(store, "tenant-a", scope="ofrep:development", name="ofrep")


def variant(name: str, payload: dict[str, str] | None = None, weight: int = 1000) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": name,
        "weight": weight,
        "weightType": "variable",
        "stickiness": "default",
    }
    if payload is not None:
        out["payload"] = payload
    return out


async def ok(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    body: dict[str, Any] = r.json()
    return body


# --- Unleash features -----------------------------------------------------------------------


async def test_an_unleash_feature_is_a_boolean_flag(
    client: httpx.AsyncClient, token_a: str, ofrep_a: str
) -> None:
    await unleash_feature(client, token_a, "beta", users=["u1"])
    assert await ok(await evaluate(client, ofrep_a, "beta", {"targetingKey": "u1"})) == {
        "key": "beta",
        "reason": "TARGETING_MATCH",
        "variant": "enabled",
        "value": True,
        "metadata": {"namespace": "unleash", "key": "unleash:beta", "impressionData": False},
    }
    off = await ok(await evaluate(client, ofrep_a, "unleash:beta", {"targetingKey": "u2"}))
    assert (off["key"], off["value"], off["reason"], off["variant"]) == (
        "unleash:beta",
        False,
        "DEFAULT",
        "disabled",
    )


async def test_unleash_reasons_static_disabled_and_split(
    client: httpx.AsyncClient, token_a: str, ofrep_a: str
) -> None:
    await unleash_feature(client, token_a, "everyone")
    await unleash_feature(client, token_a, "switched-off", on=False)
    await unleash_feature(
        client,
        token_a,
        "half",
        name="flexibleRollout",
        parameters={"rollout": "50", "stickiness": "default", "groupId": "half"},
    )
    found = {
        f["key"]: f
        for f in (await ok(await bulk(client, ofrep_a, {"targetingKey": "u1"})))["flags"]
    }
    assert (found["everyone"]["value"], found["everyone"]["reason"]) == (True, "STATIC")
    assert (found["switched-off"]["value"], found["switched-off"]["reason"]) == (False, "DISABLED")
    assert found["switched-off"]["variant"] == "disabled"
    # A 50% rollout: whoever it lets in got there by a pseudorandom share.
    shares = set()
    for user in ("u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8"):
        r = await ok(await evaluate(client, ofrep_a, "half", {"targetingKey": user}))
        shares.add((r["value"], r["reason"]))
    assert shares == {(True, "SPLIT"), (False, "DEFAULT")}


async def test_variant_and_payload_of_an_unleash_feature(
    client: httpx.AsyncClient, token_a: str, ofrep_a: str
) -> None:
    payloads = {
        "text": {"type": "string", "value": "blue"},
        "count": {"type": "number", "value": "42"},
        "ratio": {"type": "number", "value": "0.25"},
        "doc": {"type": "json", "value": '{"a": [1, 2], "b": "c"}'},
    }
    for name, payload in payloads.items():
        await create_feature(client, token_a, name)
        await add_strategy(client, token_a, name, variants=[variant("v1", payload)])
        r = await client.post(
            f"/api/admin/projects/default/features/{name}/environments/development/on",
            headers={"Authorization": token_a},
        )
        assert r.status_code == 200
    ctx = {"targetingKey": "u1"}
    boolean = await ok(await evaluate(client, ofrep_a, "text", ctx))
    assert (boolean["value"], boolean["variant"], boolean["reason"]) == (True, "v1", "STATIC")
    named = await ok(await evaluate(client, ofrep_a, "text@variant", ctx))
    assert (named["value"], named["variant"]) == ("v1", "v1")
    values = {
        n: (await ok(await evaluate(client, ofrep_a, f"{n}@payload", ctx)))["value"]
        for n in payloads
    }
    assert values == {"text": "blue", "count": 42, "ratio": 0.25, "doc": {"a": [1, 2], "b": "c"}}
    assert isinstance(values["count"], int) and isinstance(values["ratio"], float)
    qualified = await ok(await evaluate(client, ofrep_a, "unleash:doc@payload", ctx))
    assert qualified["metadata"]["payloadType"] == "json"


async def test_a_feature_without_payload_defers_to_the_code_default(
    client: httpx.AsyncClient, token_a: str, ofrep_a: str
) -> None:
    await unleash_feature(client, token_a, "plain")
    await unleash_feature(client, token_a, "off", on=False)
    plain = await ok(await evaluate(client, ofrep_a, "plain@payload", {"targetingKey": "u1"}))
    assert "value" not in plain and plain["reason"] == "DEFAULT"
    assert plain["variant"] == "disabled"
    off = await ok(await evaluate(client, ofrep_a, "off@payload", {}))
    assert "value" not in off and off["reason"] == "DISABLED"
    name = await ok(await evaluate(client, ofrep_a, "off@variant", {}))
    assert name["value"] == "disabled"


async def test_context_fields_reach_unleash_constraints_as_text(
    client: httpx.AsyncClient, token_a: str, ofrep_a: str
) -> None:
    await create_feature(client, token_a, "pro")
    await add_strategy(
        client,
        token_a,
        "pro",
        constraints=[
            {"contextName": "plan", "operator": "IN", "values": ["pro"]},
            {"contextName": "seats", "operator": "NUM_GTE", "values": [], "value": "10"},
            {"contextName": "beta", "operator": "IN", "values": ["true"]},
        ],
    )
    await client.post(
        "/api/admin/projects/default/features/pro/environments/development/on",
        headers={"Authorization": token_a},
    )
    yes = {"targetingKey": "u1", "plan": "pro", "seats": 12, "beta": True}
    assert (await ok(await evaluate(client, ofrep_a, "pro", yes)))["value"] is True
    no = {**yes, "seats": 3}
    assert (await ok(await evaluate(client, ofrep_a, "pro", no)))["value"] is False


# --- Confidence flags -----------------------------------------------------------------------


async def test_a_confidence_flag_is_an_object_flag(
    client: httpx.AsyncClient, token_a: str, ofrep_a: str
) -> None:
    await swedes(client, token_a)
    await confidence_flag(client, token_a, "dark")
    body = await ok(await evaluate(client, ofrep_a, "dark", SE))
    assert body["value"] == {"enabled": True, "color": "red"}
    assert (body["variant"], body["reason"]) == ("on", "TARGETING_MATCH")
    assert body["metadata"]["namespace"] == "confidence"
    assert body["metadata"]["key"] == "confidence:dark"
    field = await ok(await evaluate(client, ofrep_a, "confidence:dark.color", SE))
    assert field["value"] == "red"
    flag = await ok(await evaluate(client, ofrep_a, "dark.enabled", SE))
    assert flag["value"] is True
    nobody = await ok(await evaluate(client, ofrep_a, "dark", {"targetingKey": "u1"}))
    assert "value" not in nobody and nobody["reason"] == "DEFAULT"


async def test_a_field_missing_from_the_variant_defers_and_an_unknown_field_is_refused(
    client: httpx.AsyncClient, token_a: str, ofrep_a: str
) -> None:
    await swedes(client, token_a)
    await confidence_flag(
        client, token_a, "dark", rules=[everyone_gets("dark", "off", "segments/swedes")]
    )
    r = await ok(await evaluate(client, ofrep_a, "dark.color", SE))
    assert "value" not in r and (r["reason"], r["variant"]) == ("DEFAULT", "off")
    r = await evaluate(client, ofrep_a, "dark.nothing", SE)
    assert r.status_code == 400
    assert r.json()["errorCode"] == "GENERAL" and r.json()["key"] == "dark.nothing"
    r = await evaluate(client, ofrep_a, "dark.enabled.deeper", SE)
    assert r.status_code == 400 and r.json()["errorCode"] == "GENERAL"


async def test_a_flag_no_client_may_resolve_is_not_found(
    client: httpx.AsyncClient, token_a: str, ofrep_a: str
) -> None:
    await swedes(client, token_a)
    await confidence_flag(client, token_a, "hidden", with_client=False)
    r = await evaluate(client, ofrep_a, "hidden", SE)
    assert r.status_code == 404 and r.json()["errorCode"] == "FLAG_NOT_FOUND"
    assert (await ok(await bulk(client, ofrep_a, SE)))["flags"] == []
    await confidence_flag(client, token_a, "gone")
    assert (await ok(await evaluate(client, ofrep_a, "gone", SE)))["variant"] == "on"
    await post(client, token_a, "/v1/flags/gone:archive", {})
    r = await evaluate(client, ofrep_a, "gone", SE)
    assert r.status_code == 404 and r.json()["errorCode"] == "FLAG_NOT_FOUND"
    assert (await ok(await bulk(client, ofrep_a, SE)))["flags"] == []


async def test_the_targeting_key_missing_for_a_split_rule(
    client: httpx.AsyncClient, token_a: str, ofrep_a: str
) -> None:
    await swedes(client, token_a)
    half = everyone_gets("split", "on", "segments/swedes")
    half["assignmentSpec"]["assignments"][0]["bucketRanges"] = [{"lower": 0, "upper": 5}]
    await confidence_flag(client, token_a, "split", rules=[half])
    r = await evaluate(client, ofrep_a, "split", {"country": "SE"})
    assert r.status_code == 400, r.text
    assert r.json()["errorCode"] == "TARGETING_KEY_MISSING"
    # With a key, the rule's answer (on or the default) comes back.
    assert (await evaluate(client, ofrep_a, "split", SE)).status_code == 200
    r = await evaluate(client, ofrep_a, "split", {"targetingKey": "u1", "targeting_key": "u2"})
    assert r.status_code == 400 and r.json()["errorCode"] == "INVALID_CONTEXT"


async def test_the_token_environment_selects_confidence_rules(
    client: httpx.AsyncClient, store: Store, token_a: str, ofrep_a: str
) -> None:
    await swedes(client, token_a)
    rule = everyone_gets("env", "on", "segments/swedes")
    rule["environments"] = ["production"]
    await confidence_flag(client, token_a, "env", rules=[rule])
    r = await ok(await evaluate(client, ofrep_a, "env", SE))
    assert "value" not in r  # the rule is production's
    prod = await make_token(store, "tenant-a", scope="ofrep:production", name="prod")
    r = await ok(await evaluate(client, prod, "env", SE))
    assert r["value"] == {"enabled": True, "color": "red"}


# --- one namespace --------------------------------------------------------------------------


async def test_a_key_in_both_namespaces_is_refused_unqualified(
    client: httpx.AsyncClient, token_a: str, ofrep_a: str
) -> None:
    await unleash_feature(client, token_a, "shared")
    await swedes(client, token_a)
    await confidence_flag(client, token_a, "shared")
    r = await evaluate(client, ofrep_a, "shared", SE)
    assert r.status_code == 400
    body = r.json()
    assert body["errorCode"] == "GENERAL" and body["key"] == "shared"
    assert "unleash:shared" in body["errorDetails"]
    assert "confidence:shared" in body["errorDetails"]
    assert (await ok(await evaluate(client, ofrep_a, "unleash:shared", SE)))["value"] is True
    both = await ok(await evaluate(client, ofrep_a, "confidence:shared", SE))
    assert both["value"] == {"enabled": True, "color": "red"}
    flags = (await ok(await bulk(client, ofrep_a, SE)))["flags"]
    assert [f["key"] for f in flags] == ["unleash:shared", "confidence:shared"]


async def test_unknown_keys_are_not_found(client: httpx.AsyncClient, ofrep_a: str) -> None:
    for key in (
        "nothing",
        "unleash:nothing",
        "confidence:nothing",
        "x@variant",
        "a/b",
        "confidence:",
    ):
        r = await evaluate(client, ofrep_a, key, SE)
        assert r.status_code == 404, (key, r.text)
        assert r.json() == {
            "key": key,
            "errorCode": "FLAG_NOT_FOUND",
            "errorDetails": f"flag {key!r} was not found",
        }


# --- bulk -----------------------------------------------------------------------------------


async def test_bulk_lists_both_namespaces_with_an_etag(
    client: httpx.AsyncClient, token_a: str, ofrep_a: str
) -> None:
    await unleash_feature(client, token_a, "beta", users=["u1"])
    await swedes(client, token_a)
    await confidence_flag(client, token_a, "dark")
    r = await bulk(client, ofrep_a, SE)
    flags = (await ok(r))["flags"]
    assert [(f["key"], f["value"]) for f in flags] == [
        ("beta", True),
        ("dark", {"enabled": True, "color": "red"}),
    ]
    etag = r.headers["etag"]
    assert etag.startswith('"') and r.headers["cache-control"] == "no-cache"
    again = await bulk(client, ofrep_a, SE, {"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    # Another context, another answer: the old tag no longer holds.
    other = await bulk(client, ofrep_a, {"targetingKey": "u2"}, {"If-None-Match": etag})
    assert other.status_code == 200 and other.headers["etag"] != etag


async def test_a_change_is_seen_by_the_next_bulk(
    client: httpx.AsyncClient, token_a: str, ofrep_a: str
) -> None:
    await unleash_feature(client, token_a, "beta")
    first = await bulk(client, ofrep_a, SE)
    r = await client.post(
        "/api/admin/projects/default/features/beta/environments/development/off",
        headers={"Authorization": token_a},
    )
    assert r.status_code == 200
    second = await bulk(client, ofrep_a, SE, {"If-None-Match": first.headers["etag"]})
    assert second.status_code == 200
    assert (await ok(second))["flags"][0]["value"] is False


async def test_bulk_reports_per_flag_failures(
    client: httpx.AsyncClient, token_a: str, ofrep_a: str
) -> None:
    await unleash_feature(client, token_a, "beta")
    await swedes(client, token_a)
    await confidence_flag(client, token_a, "dark")
    # A nested object: Confidence reads it, no Unleash constraint can.
    flags = (await ok(await bulk(client, ofrep_a, {**SE, "org": {"id": 1}})))["flags"]
    assert flags[0]["key"] == "beta" and flags[0]["errorCode"] == "INVALID_CONTEXT"
    assert flags[1]["key"] == "dark" and flags[1]["value"]["enabled"] is True


# --- bad requests ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{", "PARSE_ERROR"),
        (b"", "PARSE_ERROR"),
        (b"[]", "PARSE_ERROR"),
        (b'"context"', "PARSE_ERROR"),
        (b'{"context": []}', "INVALID_CONTEXT"),
        (b'{"context": null}', "INVALID_CONTEXT"),
        (b'{"context": {"targetingKey": 7}}', "INVALID_CONTEXT"),
        (b'{"context": {"targetingKey": null}}', "INVALID_CONTEXT"),
        (b'{"context": {"targetingKey": "a\\u0000b"}}', "INVALID_CONTEXT"),
        (b'{"context": {"org": {"\\u0000": 1}}}', "INVALID_CONTEXT"),
        # A lone surrogate escape is no text the decoder accepts.
        (b'{"context": {"tags": ["\\ud800"]}}', "PARSE_ERROR"),
    ],
)
async def test_bad_bodies_are_400_in_ofrep_shape(
    client: httpx.AsyncClient, token_a: str, ofrep_a: str, body: bytes, code: str
) -> None:
    await unleash_feature(client, token_a, "beta")
    headers = {"Authorization": f"Bearer {ofrep_a}", "Content-Type": "application/json"}
    r = await client.post("/ofrep/v1/evaluate/flags/beta", content=body, headers=headers)
    assert r.status_code == 400
    assert r.json()["key"] == "beta" and r.json()["errorCode"] == code
    assert r.json()["errorDetails"]
    r = await client.post("/ofrep/v1/evaluate/flags", content=body, headers=headers)
    assert r.status_code == 400
    assert set(r.json()) == {"errorCode", "errorDetails"} and r.json()["errorCode"] == code


async def test_invalid_unleash_context_is_invalid_context(
    client: httpx.AsyncClient, token_a: str, ofrep_a: str
) -> None:
    await unleash_feature(client, token_a, "beta")
    for ctx in ({"targetingKey": "u1", "userId": "u2"}, {"tags": ["a"]}, {"org": {"a": 1}}):
        r = await evaluate(client, ofrep_a, "beta", ctx)
        assert r.status_code == 400 and r.json()["errorCode"] == "INVALID_CONTEXT", ctx
    # The same user twice is the same user.
    r = await evaluate(client, ofrep_a, "beta", {"targetingKey": "u1", "userId": "u1"})
    assert r.status_code == 200


async def test_unrouted_and_wrong_methods_are_answered_in_ofrep_shape(
    client: httpx.AsyncClient, ofrep_a: str
) -> None:
    r = await client.get("/ofrep/v1/evaluate/flags", headers={"Authorization": f"Bearer {ofrep_a}"})
    assert r.status_code == 405 and r.headers["allow"] == "POST"
    assert set(r.json()) == {"errorDetails"}
    r = await client.post("/ofrep/v2/evaluate", json={})
    assert r.status_code == 404 and set(r.json()) == {"errorDetails"}


async def test_numbers_go_out_as_the_flags_schema_types_them(
    client: httpx.AsyncClient, token_a: str, ofrep_a: str
) -> None:
    """Confidence keeps numbers as doubles and types them by the schema; OpenFeature's
    providers type them by the JSON, so a double field is a float and an int field an int."""
    await swedes(client, token_a)
    name, _ = await make_client(client, token_a)
    await make_flag(
        client,
        token_a,
        "limits",
        schema={
            "schema": {
                "ratio": {"doubleSchema": {}},
                "count": {"intSchema": {}},
                "inner": {"structSchema": {"schema": {"weight": {"doubleSchema": {}}}}},
            }
        },
        clients=[name],
        variants={"on": {"ratio": 2, "count": 3, "inner": {"weight": 1}}},
        rules=[everyone_gets("limits", "on", "segments/swedes")],
    )
    r = await evaluate(client, ofrep_a, "limits", SE)
    assert r.status_code == 200, r.text
    assert b'"ratio":2.0' in r.content and b'"count":3' in r.content
    assert b'"weight":1.0' in r.content
    ratio = (await ok(await evaluate(client, ofrep_a, "limits.ratio", SE)))["value"]
    assert isinstance(ratio, float) and ratio == 2.0
