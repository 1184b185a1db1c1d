"""segmux's own API: ``/segmux/v1/translate`` and ``/segmux/v1/evaluate`` over HTTP."""

from __future__ import annotations

import uuid

import httpx
import pytest

from core.expr import ast
from core.expr.languages import translate
from core.model import NewSegment
from core.store import Store

TRANSLATE = "/segmux/v1/translate"
EVALUATE = "/segmux/v1/evaluate"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_translate_pql_to_unleash(client: httpx.AsyncClient, token_a: str) -> None:
    r = await client.post(
        TRANSLATE,
        headers=auth(token_a),
        json={"from": "pql", "to": "unleash", "expression": 'workAddress.country = "US"'},
    )
    assert r.status_code == 200, r.text
    [constraint] = r.json()["expression"]
    assert constraint["contextName"] == "workAddress.country"
    assert constraint["operator"] == "IN"
    assert constraint["values"] == ["US"]
    assert not constraint.get("inverted", False)


async def test_translate_pql_to_pqljson_is_the_documented_conversion(
    client: httpx.AsyncClient, token_a: str
) -> None:
    r = await client.post(
        TRANSLATE,
        headers=auth(token_a),
        json={"from": "pql", "to": "pqljson", "expression": 'workAddress.country = "US"'},
    )
    assert r.status_code == 200
    assert r.json()["expression"] == (
        '{"nodeType":"fnApply","fnName":"=","params":[{"nodeType":"fieldLookup",'
        '"fieldName":"country","object":{"nodeType":"fieldLookup","fieldName":"workAddress",'
        '"object":{"nodeType":"parameterReference","position":1}}},{"nodeType":"literal",'
        '"literalType":"String","value":"US"}]}'
    )


@pytest.mark.parametrize(
    ("source", "expression"),
    [
        ("pql", 'workAddress.country = "US" and age > 30'),
        ("odata", "workAddress/country eq 'US' and age gt 30"),
        (
            "unleash",
            [
                {"contextName": "workAddress.country", "operator": "IN", "values": ["US"]},
                {"contextName": "age", "operator": "NUM_GT", "value": "30"},
            ],
        ),
    ],
)
async def test_translations_agree_across_languages(
    client: httpx.AsyncClient, token_a: str, source: str, expression: object
) -> None:
    r = await client.post(
        TRANSLATE,
        headers=auth(token_a),
        json={"from": source, "to": "confidence", "expression": expression},
    )
    assert r.status_code == 200, r.text
    assert r.json()["expression"] == translate(source, "confidence", expression)


async def test_or_across_attributes_is_not_expressible_in_unleash(
    client: httpx.AsyncClient, token_a: str
) -> None:
    r = await client.post(
        TRANSLATE,
        headers=auth(token_a),
        json={"from": "pql", "to": "unleash", "expression": 'a = "1" or b = "2"'},
    )
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "not_expressible"
    assert body["language"] == "unleash"
    assert body["reason"]


async def test_invalid_expression_is_400_with_position(
    client: httpx.AsyncClient, token_a: str
) -> None:
    r = await client.post(
        TRANSLATE,
        headers=auth(token_a),
        json={"from": "pql", "to": "odata", "expression": 'a = "x" and select x from xEvent'},
    )
    assert r.status_code == 400
    body = r.json()
    assert body["error"] == "invalid"
    assert isinstance(body.get("position"), int)
    assert "select" in body["reason"].lower()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"from": "sql", "to": "pql", "expression": "x"}, "from"),
        ({"from": "pql", "to": "cobol", "expression": 'a = "x"'}, "to"),
        ({"from": "pql", "expression": 'a = "x"'}, ""),
        ({"from": "pql", "to": "odata", "expression": 'a = "x"', "extra": 1}, ""),
    ],
)
async def test_bad_translate_requests_are_400(
    client: httpx.AsyncClient, token_a: str, payload: dict[str, object], field: str
) -> None:
    r = await client.post(TRANSLATE, headers=auth(token_a), json=payload)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "invalid"
    if field:
        assert r.json()["field"] == field


async def test_translate_needs_a_token(client: httpx.AsyncClient) -> None:
    r = await client.post(TRANSLATE, json={"from": "pql", "to": "odata", "expression": "true"})
    assert r.status_code == 401
    assert r.json()["error"] == "unauthorized"


async def test_transport_errors(client: httpx.AsyncClient, token_a: str) -> None:
    r = await client.post(
        TRANSLATE, headers={**auth(token_a), "Content-Type": "text/plain"}, content=b"{}"
    )
    assert r.status_code == 415
    r = await client.post(
        TRANSLATE, headers={**auth(token_a), "Content-Type": "application/json"}, content=b"{"
    )
    assert r.status_code == 400
    r = await client.get(TRANSLATE, headers=auth(token_a))
    assert r.status_code == 405
    assert r.headers["allow"] == "POST"


# --- evaluate ------------------------------------------------------------------------------


async def seed(store: Store, tenant: str, name: str, pql: str | None) -> str:
    from core.expr.normalize import normalize
    from core.expr.pql import parse_pql

    expr = normalize(parse_pql(pql)) if pql else None
    segment = await store.create_segment(
        tenant, NewSegment(name=name, expression=ast.encode(expr) if expr else None), "t"
    )
    return segment.id


async def test_evaluate_every_segment_of_the_tenant(
    client: httpx.AsyncClient, store: Store, token_a: str, token_b: str
) -> None:
    us = await seed(store, "tenant-a", "US", 'workAddress.country = "US"')
    adults = await seed(store, "tenant-a", "adults", "age >= 18")
    everyone = await seed(store, "tenant-a", "everyone", None)
    await seed(store, "tenant-b", "theirs", None)
    r = await client.post(
        EVALUATE,
        headers=auth(token_a),
        json={"context": {"workAddress": {"country": "US"}, "age": 12}},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["results"] == {us: True, adults: False, everyone: True}
    assert sorted(body["matches"]) == sorted([us, everyone])


async def test_evaluate_listed_segments_only(
    client: httpx.AsyncClient, store: Store, token_a: str
) -> None:
    us = await seed(store, "tenant-a", "US", 'workAddress.country = "US"')
    await seed(store, "tenant-a", "adults", "age >= 18")
    r = await client.post(EVALUATE, headers=auth(token_a), json={"context": {}, "segments": [us]})
    assert r.json() == {"matches": [], "results": {us: False}, "reasons": {}}


async def test_evaluate_sees_updates_at_once(
    client: httpx.AsyncClient, store: Store, token_a: str
) -> None:
    sid = await seed(store, "tenant-a", "US", 'workAddress.country = "US"')
    ctx = {"context": {"workAddress": {"country": "DE"}}, "segments": [sid]}
    assert (await client.post(EVALUATE, headers=auth(token_a), json=ctx)).json()["matches"] == []
    from core.expr.pql import parse_pql
    from core.model import SegmentPatch

    new = ast.encode(parse_pql('workAddress.country = "DE"'))  # type: ignore[arg-type]
    await store.update_segment("tenant-a", sid, SegmentPatch(expression=new), None)
    assert (await client.post(EVALUATE, headers=auth(token_a), json=ctx)).json()["matches"] == [sid]


async def test_evaluate_unknown_or_foreign_id_is_404(
    client: httpx.AsyncClient, store: Store, token_a: str, token_b: str
) -> None:
    theirs = await seed(store, "tenant-b", "theirs", None)
    for sid in (theirs, str(uuid.uuid4()), "nope"):
        r = await client.post(
            EVALUATE, headers=auth(token_a), json={"context": {}, "segments": [sid]}
        )
        assert r.status_code == 404
        assert r.json()["error"] == "not_found"


async def test_evaluate_context_must_be_an_object(client: httpx.AsyncClient, token_a: str) -> None:
    for payload in ({"context": []}, {}, {"context": {}, "segments": "x"}):
        r = await client.post(EVALUATE, headers=auth(token_a), json=payload)
        assert r.status_code == 400, payload


async def test_client_token_may_evaluate(
    client: httpx.AsyncClient, store: Store, client_token_a: str
) -> None:
    everyone = await seed(store, "tenant-a", "everyone", None)
    r = await client.post(EVALUATE, headers=auth(client_token_a), json={"context": {}})
    assert r.json()["matches"] == [everyone]


async def test_evaluate_with_a_unit_applies_allocation(
    client: httpx.AsyncClient, token_a: str
) -> None:
    """A 0% Confidence segment holds no bucket: with a unit nobody is a member, and without
    one it needs a unit (never widened to its condition); a 100% segment matches every unit."""
    headers = auth(token_a)
    for slug, share in (("nobody-gets-in", "0"), ("everybody-in", "1")):
        r = await client.post(
            f"/v1/segments?segmentId={slug}",
            headers=headers,
            json={"displayName": slug, "allocation": {"proportion": {"value": share}}},
        )
        assert r.status_code == 200, r.text
    listed = (await client.post(EVALUATE, headers=headers, json={"context": {}})).json()
    ids = list(listed["results"])
    assert len(ids) == 2
    assert listed["matches"] == [ids[1]]  # without a unit only the full allocation matches
    assert listed["reasons"] == {ids[0]: "needs a unit"}
    for unit in ("user-1", "user-2", "roug"):
        r = await client.post(EVALUATE, headers=headers, json={"context": {}, "unit": unit})
        assert r.status_code == 200, r.text
        assert len(r.json()["matches"]) == 1
        assert sum(r.json()["results"].values()) == 1
