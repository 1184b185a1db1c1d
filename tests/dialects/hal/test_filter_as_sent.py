"""A DYNAMIC segment's filter is returned exactly as sent while its condition is unchanged
(``core.sent_forms``, the mechanism Adobe's PQL and Unleash's constraints use), and rendered
anew only after another dialect changed the condition; both backends."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.dialects.adobe.common import DEFS, body, headers
from tests.dialects.hal.hal import Hal, age, embedded, identifiers

SENT = "(demographics/age/value eq '30')"


@pytest.fixture
def prod(client: httpx.AsyncClient, token_a: str) -> Hal:
    """``prod``: the sandbox Adobe's calls below name too."""
    return Hal(client, token_a, "prod")


async def _adobe_id(client: httpx.AsyncClient, token: str, name: str) -> str:
    r = await client.get(DEFS, headers=headers(token))
    assert r.status_code == 200, r.text
    [found] = [d for d in r.json()["segments"] if d["name"] == name]
    segment_id: str = found["id"]
    return segment_id


async def _adobe_patch(client: httpx.AsyncClient, token: str, name: str, pql: str) -> None:
    segment_id = await _adobe_id(client, token, name)
    r = await client.patch(f"{DEFS}/{segment_id}", json=body(name, pql), headers=headers(token))
    assert r.status_code == 200, r.text


async def _filter(hal: Hal, doc: dict[str, Any]) -> Any:
    r = await hal.get(doc["_links"]["self"]["href"])
    assert r.status_code == 200, r.text
    return r.json()["filter"]


async def test_the_filter_comes_back_as_sent(prod: Hal) -> None:
    doc = await prod.create_segment("Thirty", SENT)
    assert doc["filter"] == SENT
    assert await _filter(prod, doc) == SENT
    listed = embedded((await prod.get(await prod.segments_url())).json(), "individual-segments")
    assert [s["filter"] for s in listed] == [SENT]
    # the meaning is the parsed condition, whatever the spelling
    await prod.create_individual("ana", demographics=age("30"))
    await prod.create_individual("luis", demographics=age("31"))
    assert identifiers(await prod.members(doc)) == ["ana"]


async def test_a_put_keeps_its_own_spelling(prod: Hal) -> None:
    doc = await prod.create_segment("Thirty", SENT)
    spelled = "demographics/age/value  eq  '30' and demographics/age/value ne '1'"
    r = await prod.put(
        doc["_links"]["self"]["href"],
        {"name": "Thirty", "filter": spelled, "segmentType": "DYNAMIC"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["filter"] == spelled
    assert await _filter(prod, doc) == spelled


async def test_an_equal_condition_written_elsewhere_keeps_the_sent_filter(
    prod: Hal, client: httpx.AsyncClient, token_a: str
) -> None:
    doc = await prod.create_segment("Thirty", SENT)
    await _adobe_patch(client, token_a, "Thirty", 'demographics.age.value = "30"')
    assert await _filter(prod, doc) == SENT


async def test_a_condition_changed_elsewhere_is_rendered_anew(
    prod: Hal, client: httpx.AsyncClient, token_a: str
) -> None:
    doc = await prod.create_segment("Thirty", SENT)
    await _adobe_patch(client, token_a, "Thirty", 'demographics.age.value = "31"')
    assert await _filter(prod, doc) == "demographics/age/value eq '31'"
    # and HAL's next write is kept as sent again
    r = await prod.put(
        doc["_links"]["self"]["href"],
        {"name": "Thirty", "filter": SENT, "segmentType": "DYNAMIC"},
    )
    assert r.status_code == 200, r.text
    assert await _filter(prod, doc) == SENT


async def test_a_static_segment_drops_the_sent_filter(prod: Hal) -> None:
    doc = await prod.create_segment("Thirty", SENT)
    r = await prod.put(
        doc["_links"]["self"]["href"], {"name": "Thirty", "filter": None, "segmentType": "STATIC"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["filter"] is None
    r = await prod.put(
        doc["_links"]["self"]["href"],
        {"name": "Thirty", "filter": "demographics/age/value eq '30'", "segmentType": "DYNAMIC"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["filter"] == "demographics/age/value eq '30'"
