"""A condition's size is bounded at write time by one rule, whatever language it is written in,
and strings no store keeps (NUL, lone surrogates) are refused — each through every dialect that
takes conditions, on both backends, with the dialect's own 4xx and the reason, nothing stored.

Long ``in`` lists answer exactly on both backends (compared with the evaluator), and a segment
with one never breaks an individual's list of segments.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from core.expr import ast
from core.expr.ast import Cmp, Lit
from core.expr.evaluate import compile_expr
from core.expr.odata import parse_odata
from core.model import NewSegment
from core.store import Store
from tests.dialects.adobe.common import DEFS, body, headers
from tests.dialects.hal.hal import auth

ATOMS = 501  # one more than the rule allows
CONVERT = "/data/core/ups/segment/conversion"


# Each test on its own attribute: tests of one attribute against several values are one set.
def pql_or(n: int) -> str:
    return " or ".join(f'a{i} = "x"' for i in range(n))


def odata_or(n: int) -> str:
    return " or ".join(f"a{i} eq 'x'" for i in range(n))


def pqljson_or(n: int) -> str:
    def eq(i: int) -> dict[str, Any]:
        return {
            "nodeType": "fnApply",
            "fnName": "=",
            "params": [
                {
                    "nodeType": "fieldLookup",
                    "fieldName": f"a{i}",
                    "object": {"nodeType": "parameterReference", "position": 1},
                },
                {"nodeType": "literal", "literalType": "String", "value": "x"},
            ],
        }

    def tree(first: int, count: int) -> dict[str, Any]:  # balanced: shallow, however many
        if count == 1:
            return eq(first)
        half = count // 2
        return {
            "nodeType": "fnApply",
            "fnName": "or",
            "params": [tree(first, half), tree(first + half, count - half)],
        }

    return json.dumps(tree(0, n))


def canonical_or(n: int) -> dict[str, Any]:
    return {
        "t": "or",
        "args": [
            {"t": "cmp", "op": "eq", "path": [f"a{i}"], "value": {"kind": "string", "value": "x"}}
            for i in range(n)
        ],
    }


def unleash_constraints(n: int) -> list[dict[str, Any]]:
    return [{"contextName": f"a{i}", "operator": "IN", "values": ["x"]} for i in range(n)]


def confidence_or(n: int) -> dict[str, Any]:
    criteria = {
        f"c{i}": {
            "attribute": {"attributeName": f"a{i}", "eqRule": {"value": {"stringValue": "x"}}}
        }
        for i in range(n)
    }
    return {
        "criteria": criteria,
        "expression": {"or": {"operands": [{"ref": f"c{i}"} for i in range(n)]}},
    }


async def segment_names(client: httpx.AsyncClient, token: str) -> set[str]:
    r = await client.get("/segmux/v1/segments", params={"limit": 1000}, headers=auth(token))
    assert r.status_code == 200, r.text
    return {s["name"] for s in r.json()["items"]}


async def write(
    client: httpx.AsyncClient, token: str, how: str, n: int, name: str
) -> httpx.Response:
    """Create segment ``name`` with ``n`` or-ed (and-ed for Unleash) tests, through ``how``."""
    h = auth(token)
    if how == "segmux pql":
        return await client.post(
            "/segmux/v1/segments",
            headers=h,
            json={"name": name, "condition": {"language": "pql", "expression": pql_or(n)}},
        )
    if how == "segmux ast":
        return await client.post(
            "/segmux/v1/segments", headers=h, json={"name": name, "expression": canonical_or(n)}
        )
    if how == "adobe pql/text":
        return await client.post(DEFS, json=body(name, pql_or(n)), headers=headers(token))
    if how == "adobe pql/json":
        sent = body(name)
        sent["expression"] = {"type": "PQL", "format": "pql/json", "value": pqljson_or(n)}
        return await client.post(DEFS, json=sent, headers=headers(token))
    if how == "hal odata":
        return await client.post(
            "/my-project/individual-segments",
            headers=h,
            json={"name": name, "filter": odata_or(n), "segmentType": "DYNAMIC"},
        )
    if how == "unleash":
        return await client.post(
            "/api/admin/segments",
            headers=h,
            json={"name": name, "constraints": unleash_constraints(n)},
        )
    if how == "confidence":
        return await client.post(
            "/v1/segments", headers=h, json={"displayName": name, "targeting": confidence_or(n)}
        )
    raise AssertionError(how)


WAYS = [
    "segmux pql",
    "segmux ast",
    "adobe pql/text",
    "adobe pql/json",
    "hal odata",
    "unleash",
    "confidence",
]


@pytest.mark.parametrize("how", WAYS)
async def test_one_size_rule_in_every_language(
    client: httpx.AsyncClient, token_a: str, how: str
) -> None:
    big = await write(client, token_a, how, ATOMS, "too-big")
    assert 400 <= big.status_code < 500, big.text[:300]
    assert "json" in big.headers["content-type"]
    # pql/json spells a test in ~190 characters: its 64 KiB text limit comes first.
    reason = "longer than 65536 characters" if how == "adobe pql/json" else "more than 500 tests"
    assert reason in big.text, big.text[:300]
    # Exactly at the limit is accepted, and it is the one stored.
    fits = await write(client, token_a, how, 200 if how == "adobe pql/json" else 500, "just-fits")
    assert fits.status_code in (200, 201), fits.text[:300]
    names = await segment_names(client, token_a)
    assert "too-big" not in names
    assert "just-fits" in names or how == "confidence"  # Confidence names are displayName


LONE_SURROGATE = 'city = "\\ud800"'
NUL = 'city = "a\\u0000b"'


@pytest.mark.parametrize("pql", [LONE_SURROGATE, NUL], ids=["lone surrogate", "NUL"])
async def test_strings_no_store_keeps_are_a_400_everywhere(
    client: httpx.AsyncClient, token_a: str, pql: str
) -> None:
    h = auth(token_a)
    answers = {
        "segmux create": await client.post(
            "/segmux/v1/segments",
            headers=h,
            json={"name": "bad", "condition": {"language": "pql", "expression": pql}},
        ),
        "adobe create": await client.post(DEFS, json=body("bad", pql), headers=headers(token_a)),
    }
    if pql == LONE_SURROGATE:  # a NUL can be translated: it is only never stored
        answers["segmux translate"] = await client.post(
            "/segmux/v1/translate",
            headers=h,
            json={"from": "pql", "to": "odata", "expression": pql},
        )
        answers["adobe conversion"] = await client.post(
            CONVERT,
            headers=headers(token_a),
            json={
                "name": "c",
                "expression": {"type": "PQL", "format": "pql/text", "value": pql},
                "schema": {"name": "_xdm.context.profile"},
            },
        )
    for where, r in answers.items():
        assert r.status_code == 400, (where, r.status_code, r.text)
        assert "json" in r.headers["content-type"], where
        reason = "surrogate" if pql == LONE_SURROGATE else "NUL"
        assert reason in r.text, (where, r.text)
    assert "bad" not in await segment_names(client, token_a)


@pytest.mark.parametrize("how", ["unleash", "confidence", "hal odata"])
async def test_nul_in_structured_conditions_is_refused_at_write(
    client: httpx.AsyncClient, token_a: str, how: str
) -> None:
    h = auth(token_a)
    if how == "unleash":
        r = await client.post(
            "/api/admin/segments",
            headers=h,
            json={
                "name": "nul",
                "constraints": [{"contextName": "city", "operator": "IN", "values": ["a\x00b"]}],
            },
        )
    elif how == "confidence":
        r = await client.post(
            "/v1/segments",
            headers=h,
            json={
                "displayName": "nul",
                "targeting": {
                    "criteria": {
                        "c": {
                            "attribute": {
                                "attributeName": "city",
                                "eqRule": {"value": {"stringValue": "a\x00b"}},
                            }
                        }
                    },
                    "expression": {"ref": "c"},
                },
            },
        )
    else:
        r = await client.post(
            "/my-project/individual-segments",
            headers=h,
            json={"name": "nul", "filter": "city eq 'a\x00b'", "segmentType": "DYNAMIC"},
        )
    assert 400 <= r.status_code < 500, r.text
    assert "NUL" in r.text, r.text
    assert "nul" not in await segment_names(client, token_a)


# --- long in lists --------------------------------------------------------------------------


async def people(store: Store, n: int = 80) -> list[tuple[str, dict[str, Any]]]:
    made = []
    for i in range(n):
        attributes: dict[str, Any] = {"userId": f"u{i}", "n": i, "city": f"c{i % 9}"}
        if i % 5 == 0:
            attributes["n"] = str(i)  # numbers as text too: the number kind reads both
        await store.create_profile("tenant-a", "my-project", f"p{i}", attributes)
        made.append((f"p{i}", attributes))
    return made


async def test_long_in_lists_answer_exactly(
    client: httpx.AsyncClient, store: Store, token_a: str
) -> None:
    everyone = await people(store)
    filters = [
        "userId in (" + ",".join(f"'u{i}'" for i in range(0, 160, 2)) + ")",
        "n in (" + ",".join(str(i) for i in range(1, 120, 3)) + ")",
        "n in ("
        + ",".join(str(i) for i in range(60))
        + ") and city in ("
        + ",".join(f"'c{i}'" for i in range(0, 9, 2))
        + ")",
    ]
    for text in filters:
        want = {who for who, attributes in everyone if compile_expr(parse_odata(text))(attributes)}
        assert want, text
        r = await client.get(
            "/my-project/individuals", params={"filter": text, "size": 1000}, headers=auth(token_a)
        )
        assert r.status_code == 200, r.text
        got = {i["identifier"] for i in r.json()["_embedded"]["individuals"]}
        assert got == want, text


async def test_an_unleash_segment_with_sixty_values_keeps_every_segment_list_working(
    client: httpx.AsyncClient, store: Store, token_a: str
) -> None:
    everyone = await people(store, 70)
    h = auth(token_a)
    values = [f"u{i}" for i in range(0, 120, 2)]  # 60 values
    r = await client.post(
        "/api/admin/segments",
        headers=h,
        json={
            "name": "sixty",
            "constraints": [{"contextName": "userId", "operator": "IN", "values": values}],
        },
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        "/my-project/individual-segments",
        headers=h,
        json={"name": "small", "filter": "city eq 'c1'", "segmentType": "DYNAMIC"},
    )
    assert r.status_code == 200, r.text
    # The Unleash segment lives in the token's default sandbox: seen through HAL's "prod".
    r = await client.post(
        "/prod/individuals", headers=h, json={"identifier": "u-in", "userId": "u4"}
    )
    assert r.status_code == 200, r.text
    r = await client.post(
        "/prod/individuals", headers=h, json={"identifier": "u-out", "userId": "u5"}
    )
    assert r.status_code == 200, r.text
    for who, expected in (("u-in", {"sixty"}), ("u-out", set())):
        r = await client.get(f"/prod/individuals/{who}/individual-segments", headers=h)
        assert r.status_code == 200, r.text
        names = {s["name"] for s in r.json()["_embedded"]["individual-segments"]}
        assert names == expected, (who, names)
    for who, attributes in everyone[:12]:
        r = await client.get(f"/my-project/individuals/{who}/individual-segments", headers=h)
        assert r.status_code == 200, r.text
        names = {s["name"] for s in r.json()["_embedded"]["individual-segments"]}
        assert names == ({"small"} if attributes["city"] == "c1" else set()), who


async def test_a_condition_at_the_limit_answers_on_both_backends(
    client: httpx.AsyncClient, store: Store, token_a: str
) -> None:
    """500 or-ed tests: SQLite refuses an expression tree 1,000 deep, so the SQL is a balanced
    tree; members and every individual's segments answer, as the evaluator says."""
    h = auth(token_a)
    everyone = [
        ("hit-first", {"a0": "x"}),
        ("hit-last", {"a499": "x"}),
        ("miss", {"a0": "y", "a500": "x"}),
        ("list", {"a250": ["z", "x"]}),
    ]
    for who, attributes in everyone:
        await store.create_profile("tenant-a", "my-project", who, attributes)
    r = await write(client, token_a, "hal odata", 500, "wide")
    assert r.status_code == 200, r.text[:300]
    slug = r.json()["identifier"]
    condition = compile_expr(parse_odata(odata_or(500)))
    want = {who for who, attributes in everyone if condition(attributes)}
    assert want == {"hit-first", "hit-last", "list"}
    r = await client.get(f"/my-project/individual-segments/{slug}/individuals", headers=h)
    assert r.status_code == 200, r.text[:300]
    assert {i["identifier"] for i in r.json()["_embedded"]["individuals"]} == want
    for who, _ in everyone:
        r = await client.get(f"/my-project/individuals/{who}/individual-segments", headers=h)
        assert r.status_code == 200, r.text[:300]
        names = {s["name"] for s in r.json()["_embedded"]["individual-segments"]}
        assert names == ({"wide"} if who in want else set()), who


async def test_a_stored_condition_the_database_cannot_take_never_breaks_the_others(
    client: httpx.AsyncClient, store: Store, token_a: str
) -> None:
    """A NUL can no longer be written, but one stored before (written here past the rule,
    straight into the store) must not break every individual's list of segments: PostgreSQL
    cannot compile it, so the evaluator decides it for that individual, and the others are
    answered by the database as usual."""
    h = auth(token_a)
    await store.create_profile("tenant-a", "my-project", "ana", {"city": "Madrid"})
    legacy = Cmp("eq", ("city",), Lit("string", "a\x00b"))
    await store.create_segment(
        "tenant-a",
        NewSegment(name="legacy", sandbox="my-project", expression=ast.encode(legacy)),
        "test",
    )
    r = await client.post(
        "/my-project/individual-segments",
        headers=h,
        json={"name": "madrid", "filter": "city eq 'Madrid'", "segmentType": "DYNAMIC"},
    )
    assert r.status_code == 200, r.text
    r = await client.get("/my-project/individuals/ana/individual-segments", headers=h)
    assert r.status_code == 200, r.text
    assert {s["name"] for s in r.json()["_embedded"]["individual-segments"]} == {"madrid"}
