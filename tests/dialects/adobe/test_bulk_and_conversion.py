"""``POST /segment/definitions/bulk-get`` and ``POST /segment/conversion`` over HTTP, on both
backends."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.dialects.adobe.common import (
    BASE,
    DEFS,
    DOC_PQL,
    DOC_PQL_JSON,
    ORG_A,
    create,
    headers,
    service_error,
)

BULK = f"{DEFS}/bulk-get"
CONVERT = f"{BASE}/segment/conversion"


# --- bulk-get -------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["documented", "ids of strings", "bare array", "bare objects"])
async def test_bulk_get_accepts_every_shape(
    client: httpx.AsyncClient, token_a: str, shape: str
) -> None:
    a = await create(client, token_a, "a")
    b = await create(client, token_a, "b")
    ids = [b["id"], a["id"]]
    sent: Any = {
        "documented": {"ids": [{"id": i} for i in ids]},
        "ids of strings": {"ids": ids},
        "bare array": ids,
        "bare objects": [{"id": i} for i in ids],
    }[shape]
    r = await client.post(BULK, json=sent, headers=headers(token_a))
    assert r.status_code == 207, r.text
    assert r.json() == {"results": {b["id"]: b, a["id"]: a}}
    assert list(r.json()["results"]) == ids


async def test_bulk_get_reports_unknown_ids_without_failing(
    client: httpx.AsyncClient, token_a: str, token_b: str
) -> None:
    a = await create(client, token_a, "a")
    theirs = await create(client, token_b, "b", org="tenant-b@AdobeOrg")
    dev = await create(client, token_a, "d", sandbox="dev")
    r = await client.post(
        BULK, json=[a["id"], "nope", theirs["id"], dev["id"], a["id"]], headers=headers(token_a)
    )
    assert r.status_code == 207
    out = r.json()
    assert out["results"] == {a["id"]: a}
    assert set(out["errors"]) == {"nope", theirs["id"], dev["id"]}
    assert out["errors"]["nope"]["code"] == 404
    assert "nope" in out["errors"]["nope"]["message"]


async def test_bulk_get_of_nothing(client: httpx.AsyncClient, token_a: str) -> None:
    r = await client.post(BULK, json={"ids": []}, headers=headers(token_a))
    assert (r.status_code, r.json()) == (207, {"results": {}})


@pytest.mark.parametrize(
    "sent",
    [
        {"ids": "a"},
        {"ids": [1]},
        {"ids": [{"id": 2}]},
        {"ids": [{}]},
        {},
        [None],
        7,
        {"ids": ["x"] * 1001},
    ],
)
async def test_bulk_get_refuses_other_shapes(
    client: httpx.AsyncClient, token_a: str, sent: Any
) -> None:
    service_error(await client.post(BULK, json=sent, headers=headers(token_a)), 400)


async def test_bulk_get_needs_json(client: httpx.AsyncClient, token_a: str) -> None:
    service_error(await client.post(BULK, content=b"[", headers=headers(token_a)), 400)
    r = await client.post(BULK, content=b"[]", headers=headers(token_a, json=False))
    assert r.json()["title"] == "BadRequestError"


# --- conversion -----------------------------------------------------------------------------


def conversion_body(fmt: str, value: str, **extra: Any) -> dict[str, Any]:
    # What aepp's convertSegmentDef sends.
    return {
        "name": "convert me",
        "imsOrgId": ORG_A,
        "description": None,
        "expression": {"type": "PQL", "format": fmt, "value": value},
        "schema": {"name": "_xdm.context.profile"},
        "ttlInDays": 30,
        **extra,
    }


async def test_text_to_json_is_the_documented_conversion(
    client: httpx.AsyncClient, token_a: str
) -> None:
    r = await client.post(
        CONVERT, json=conversion_body("pql/text", DOC_PQL), headers=headers(token_a)
    )
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["expression"] == {"type": "PQL", "format": "pql/json", "value": DOC_PQL_JSON}
    assert out["imsOrgId"] == ORG_A
    assert out["sandbox"]["sandboxName"] == "prod"
    assert (out["name"], out["description"], out["ttlInDays"]) == ("convert me", "", 30)
    assert out["schema"] == {"name": "_xdm.context.profile"}


async def test_json_to_text(client: httpx.AsyncClient, token_a: str) -> None:
    r = await client.post(
        CONVERT, json=conversion_body("pql/json", DOC_PQL_JSON), headers=headers(token_a)
    )
    assert r.json()["expression"] == {"type": "PQL", "format": "pql/text", "value": DOC_PQL}


@pytest.mark.parametrize(
    "pql",
    [
        'age >= 21 and (homeAddress.country in ["US", "CA"] or not (person.name.startsWith("A")))',
        'emails.isNotNull() and person.name.matches("^J") and score < 2.5',
        "exists X from orders where X.total > 10",
    ],
)
async def test_conversion_round_trips(client: httpx.AsyncClient, token_a: str, pql: str) -> None:
    r = await client.post(CONVERT, json=conversion_body("pql/text", pql), headers=headers(token_a))
    assert r.status_code == 200, r.text
    as_json = r.json()["expression"]["value"]
    back = await client.post(
        CONVERT, json=conversion_body("pql/json", as_json), headers=headers(token_a)
    )
    again = await client.post(
        CONVERT,
        json=conversion_body("pql/text", back.json()["expression"]["value"]),
        headers=headers(token_a),
    )
    assert again.json()["expression"]["value"] == as_json


async def test_conversion_stores_nothing(client: httpx.AsyncClient, token_a: str) -> None:
    await client.post(CONVERT, json=conversion_body("pql/text", DOC_PQL), headers=headers(token_a))
    r = await client.get(DEFS, headers=headers(token_a))
    assert r.json()["segments"] == []


@pytest.mark.parametrize(
    ("sent", "needle"),
    [
        (conversion_body("pql/text", "select X from xEvent"), "select"),
        (conversion_body("pql/json", '{"nodeType"'), "expression"),
        (conversion_body("pql/xml", DOC_PQL), "expression.format"),
        (
            {
                **conversion_body("pql/text", DOC_PQL),
                "expression": {"type": "ARL", "format": "pql/text", "value": DOC_PQL},
            },
            "ARL",
        ),
        (
            {k: v for k, v in conversion_body("pql/text", DOC_PQL).items() if k != "expression"},
            "expression",
        ),
        ({**conversion_body("pql/text", DOC_PQL), "description": 5}, "description"),
    ],
)
async def test_bad_conversion_is_400(
    client: httpx.AsyncClient, token_a: str, sent: Any, needle: str
) -> None:
    r = await client.post(CONVERT, json=sent, headers=headers(token_a))
    assert needle in service_error(r, 400)


async def test_conversion_is_read_only_and_checks_the_gateway(
    client: httpx.AsyncClient, client_token_a: str
) -> None:
    r = await client.post(
        CONVERT, json=conversion_body("pql/text", DOC_PQL), headers=headers(client_token_a)
    )
    assert r.status_code == 200
    r = await client.post(
        CONVERT,
        json=conversion_body("pql/text", DOC_PQL),
        headers=headers(client_token_a, org="x@AdobeOrg"),
    )
    assert r.status_code == 403
