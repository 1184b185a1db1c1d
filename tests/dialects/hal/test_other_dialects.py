"""Segments of other dialects seen through HAL: rendered as OData, or left out with the reason
when OData cannot say their condition exactly; HAL's segments seen by v2.3."""

from __future__ import annotations

import httpx
import pytest

from core.expr import ast
from core.expr.ast import Cmp, Lit, Or, Regex
from core.model import NewSegment
from core.store import Store
from tests.dialects.hal.hal import Hal, age, assert_error, embedded, href, identifiers

V23 = "/v2.3/data/segments"


@pytest.fixture
def prod(client: httpx.AsyncClient, token_a: str) -> Hal:
    """``prod`` is the default sandbox: the one v2.3 (and the others, unless told) sees."""
    return Hal(client, token_a, "prod")


async def segment(store: Store, name: str, expr: ast.Expr, sandbox: str = "prod") -> str:
    new = NewSegment(name=name, sandbox=sandbox, expression=ast.encode(expr))
    return (await store.create_segment("tenant-a", new, "other-dialect")).slug


async def test_a_v23_segment_is_dynamic_for_everyone(
    prod: Hal, client: httpx.AsyncClient, token_a: str
) -> None:
    r = await client.post(
        V23, json={"name": "EMEA"}, headers={"Authorization": f"Bearer {token_a}"}
    )
    assert r.status_code == 200
    await prod.create_individual("ana", demographics=age("30"))
    await prod.create_individual("luis")
    doc = (await prod.get(await prod.segments_url())).json()
    [emea] = embedded(doc, "individual-segments")
    assert (emea["name"], emea["segmentType"], emea["filter"]) == ("EMEA", "DYNAMIC", "true")
    assert identifiers(await prod.members(emea)) == ["ana", "luis"]
    # and it is only in prod
    other = Hal(client, token_a, "my-project")
    assert (
        embedded((await other.get(await other.segments_url())).json(), "individual-segments") == []
    )


async def test_a_hal_segment_in_prod_is_listed_by_v23(
    prod: Hal, client: httpx.AsyncClient, token_a: str
) -> None:
    await prod.create_segment("Thirty", "demographics/age/value eq '30'")
    r = await client.get(V23, headers={"Authorization": f"Bearer {token_a}"})
    assert [s["name"] for s in r.json()["result"]["items"]] == ["Thirty"]


async def test_conditions_are_rendered_as_odata(prod: Hal, store: Store) -> None:
    expr = Or(
        (
            Cmp("eq", ("workAddress", "country"), Lit("string", "ES")),
            Cmp("ge", ("age",), Lit("number", 18)),
        )
    )
    slug = await segment(store, "spain or adults", expr)
    doc = (await prod.get(f"{await prod.segments_url()}/{slug}")).json()
    assert doc["filter"] == "workAddress/country eq 'ES' or age ge 18"
    await prod.create_individual("ana", workAddress={"country": "ES"})
    await prod.create_individual("kid", age=9)
    assert identifiers(await prod.members(doc)) == ["ana"]


@pytest.mark.parametrize(
    ("expr", "reason"),
    [
        (Regex(("email",), "@liferay\\.com$"), "OData has no regular-expression test"),
        (Cmp("ne", ("country",), Lit("string", "ES")), "'present and different' has no exact"),
        (Cmp("eq", ("country",), Lit("string", "es"), ci=True), "no case-insensitive comparison"),
    ],
)
async def test_what_odata_cannot_say_is_left_out(
    prod: Hal, store: Store, expr: ast.Expr, reason: str
) -> None:
    hidden = await segment(store, "hidden", expr)
    shown = await prod.create_segment("shown", "country eq 'ES'")
    doc = (await prod.get(await prod.segments_url())).json()
    assert identifiers(doc, "individual-segments") == [shown["identifier"]]
    assert doc["page"]["totalElements"] == 1
    url = f"{await prod.segments_url()}/{hidden}"
    body = assert_error(await prod.get(url), 404, "cannot be shown here")
    assert reason in body["message"]
    assert_error(await prod.put(url, {"name": "x", "segmentType": "STATIC"}), 404, reason)
    assert_error(await prod.delete(url), 404, reason)
    assert_error(await prod.get(url + "/individuals"), 404, reason)
    ana = await prod.create_individual("ana", country="ES", email="ana@liferay.com")
    mine = (await prod.get(href(ana, "individual-segments"))).json()
    assert identifiers(mine, "individual-segments") == [shown["identifier"]]
    # still there for the dialect that made it
    assert (await store.get_segment("tenant-a", "slug", hidden)).name == "hidden"
