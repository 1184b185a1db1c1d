"""PQL relative to the clock through Adobe's API, on both backends: definitions with
``occurs last week``, ``= 3 days before today`` and ``currentMonth()`` are accepted, shown as
sent, evaluated against the clock the request started with (tests freeze it:
``tests/conftest.py``), and refused by the dialects whose languages have no clock."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from core import clock
from tests.dialects.adobe.common import DEFS, create, evaluate, headers

# The suite's clock: 2024-01-02T03:04:05Z, a Tuesday.
LAST_WEEK = "product.saleDate occurs last week"


def sold(when: str) -> dict[str, Any]:
    return {"product": {"saleDate": when}}


async def test_occurs_last_week_is_kept_as_sent_and_evaluated_at_the_clock(
    client: httpx.AsyncClient, token_a: str
) -> None:
    made = await create(client, token_a, "sold last week", LAST_WEEK)
    assert made["expression"]["value"] == LAST_WEEK
    got = await client.get(f"{DEFS}/{made['id']}", headers=headers(token_a))
    assert got.json()["expression"]["value"] == LAST_WEEK
    ids = [made["id"]]
    # last week is Monday 2023-12-25 through Sunday 2023-12-31 (UTC)
    assert (await evaluate(client, token_a, ids, sold("2023-12-25T00:00:00Z")))[ids[0]]
    assert (await evaluate(client, token_a, ids, sold("2023-12-31T23:59:59Z")))[ids[0]]
    assert not (await evaluate(client, token_a, ids, sold("2024-01-01T00:00:00Z")))[ids[0]]
    assert not (await evaluate(client, token_a, ids, sold("2023-12-24T23:59:59Z")))[ids[0]]


async def test_each_request_reads_the_clock_once_at_its_start(
    client: httpx.AsyncClient, token_a: str
) -> None:
    made = await create(client, token_a, "sold today", "product.saleDate occurs today")
    ids, context = [made["id"]], sold("2024-01-02T12:00:00Z")
    assert (await evaluate(client, token_a, ids, context))[ids[0]]
    wall = clock.WALL[0]
    clock.WALL[0] = lambda: dt.datetime(2024, 1, 3, 0, 0, 1, tzinfo=dt.UTC)
    try:
        assert not (await evaluate(client, token_a, ids, context))[ids[0]]
    finally:
        clock.WALL[0] = wall


@pytest.mark.parametrize(
    ("pql", "context", "expected"),
    [
        ("person.birthMonth = currentMonth()", {"person": {"birthMonth": 1}}, True),
        ("person.birthMonth = currentMonth()", {"person": {"birthMonth": 6}}, False),
        ("product.saleYear = currentYear()", {"product": {"saleYear": 2024}}, True),
        ("person.birthDay = currentDayOfMonth()", {"person": {"birthDay": 2}}, True),
        (
            "person.birthday occurs = 3 days before today",
            {"person": {"birthday": "2023-12-30"}},
            True,
        ),
        (
            "product.saleDate occurs between date(2015, 1, 8) and yesterday",
            sold("2024-01-01T23:59:59Z"),
            True,
        ),
        (
            "product.saleDate occurs between date(2015, 1, 8) and yesterday",
            sold("2024-01-02T00:00:00Z"),
            False,
        ),
    ],
)
async def test_documented_forms_evaluate_at_the_clock(
    client: httpx.AsyncClient, token_a: str, pql: str, context: Any, expected: bool
) -> None:
    made = await create(client, token_a, "relative", pql)
    assert (await evaluate(client, token_a, [made["id"]], context))[made["id"]] is expected


async def test_unleash_refuses_to_show_it_as_a_fixed_constraint(
    client: httpx.AsyncClient, token_a: str
) -> None:
    made = await create(client, token_a, "sold last week", LAST_WEEK)
    listed = await client.get("/api/admin/segments", headers={"Authorization": token_a})
    assert listed.status_code == 200, listed.text
    shown = [s for s in listed.json()["segments"] if s["name"] == "sold last week"]
    for segment in shown:  # where Unleash lists it at all, never as a fixed date
        assert "DATE_AFTER" not in str(segment.get("constraints"))
    assert made["id"]


async def test_a_relative_form_outside_the_subset_is_400_naming_it(
    client: httpx.AsyncClient, token_a: str
) -> None:
    r = await client.post(
        DEFS,
        json={
            "name": "x",
            "schema": {"name": "_xdm.context.profile"},
            "expression": {
                "type": "PQL",
                "format": "pql/text",
                "value": "a occurs = 3 days before yesterday",
            },
        },
        headers=headers(token_a),
    )
    assert r.status_code == 400, r.text
    assert "occurs" in r.text
