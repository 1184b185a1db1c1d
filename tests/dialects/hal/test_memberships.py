"""Members of segments over HTTP: stored memberships of STATIC segments, computed members of
DYNAMIC ones, an individual's segments, and what deletes do to them, on both backends."""

from __future__ import annotations

import httpx
import pytest

from tests.dialects.hal.hal import Hal, age, assert_error, embedded, href, identifiers


@pytest.fixture
def hal(client: httpx.AsyncClient, token_a: str) -> Hal:
    return Hal(client, token_a)


async def people(hal: Hal) -> dict[str, dict[str, object]]:
    return {
        "ana": await hal.create_individual(
            "ana", demographics={**age("30"), "city": [{"value": "Madrid"}]}
        ),
        "luis": await hal.create_individual("luis", demographics=age("41")),
        "eva": await hal.create_individual(
            "eva", demographics={**age("30"), "city": [{"value": "Malaga"}]}
        ),
    }


# --- static segments -----------------------------------------------------------------------


async def test_static_membership_lifecycle(hal: Hal) -> None:
    who = await people(hal)
    friends = await hal.create_segment("Friends")
    r = await hal.join(friends, who["eva"])
    assert (r.status_code, r.content) == (200, b"")
    assert (await hal.join(friends, who["eva"])).status_code == 200  # repeated: a no-op
    await hal.join(friends, who["ana"])
    doc = await hal.members(friends)
    assert identifiers(doc) == ["ana", "eva"]  # creation order of the individuals
    assert doc["page"]["totalElements"] == 2
    member = embedded(doc, "individuals")[0]
    assert member == (await hal.get(href(member, "self"))).json()

    assert identifiers(
        await hal.members(friends, filter="demographics/city/value eq 'Malaga'")
    ) == ["eva"]

    r = await hal.delete(href(friends, "self") + "/memberships/eva")
    assert (r.status_code, r.content) == (200, b"")
    assert identifiers(await hal.members(friends)) == ["ana"]
    r = await hal.delete(href(friends, "self") + "/memberships/eva")
    assert_error(r, 404, "individual 'eva' is not a member of this individual segment")
    r = await hal.delete(href(friends, "self") + "/memberships/nobody")
    assert_error(r, 404, "no individual with identifier 'nobody'")


async def test_membership_body_errors(hal: Hal) -> None:
    await people(hal)
    friends = await hal.create_segment("Friends")
    url = href(friends, "self") + "/memberships"
    assert (await hal.post(url, {"individualIdentifier": "ana"})).status_code == 200
    assert_error(
        await hal.post(
            url, {"individualSegmentIdentifier": "other-one", "individualIdentifier": "ana"}
        ),
        400,
        "individualSegmentIdentifier: must equal the individual segment",
    )
    assert_error(
        await hal.post(url, {"individualSegmentIdentifier": friends["identifier"]}),
        400,
        "missing required field `individualIdentifier`",
    )
    assert_error(
        await hal.post(url, {"individualIdentifier": "nobody"}),
        404,
        "no individual with identifier 'nobody'",
    )
    missing = url.replace(friends["identifier"], "no-such-segment")
    assert_error(
        await hal.post(missing, {"individualIdentifier": "ana"}),
        404,
        "no individual segment with identifier 'no-such-segment'",
    )


async def test_memberships_on_dynamic_segments_are_400(hal: Hal) -> None:
    who = await people(hal)
    thirty = await hal.create_segment("Thirty", "demographics/age/value eq '30'")
    assert_error(
        await hal.join(thirty, who["ana"]),
        400,
        "Membership POST requests can only be made to a static individual segment",
    )
    assert_error(
        await hal.delete(href(thirty, "self") + "/memberships/ana"),
        400,
        "Membership DELETE requests can only be made to a static individual segment",
    )


async def test_an_individual_of_another_project_cannot_join(
    hal: Hal, client: httpx.AsyncClient, token_a: str
) -> None:
    elsewhere = Hal(client, token_a, "elsewhere")
    stranger = await elsewhere.create_individual("stranger")
    friends = await hal.create_segment("Friends")
    assert_error(await hal.join(friends, stranger), 404)


async def test_client_tokens_cannot_change_memberships(
    hal: Hal, client: httpx.AsyncClient, client_token_a: str
) -> None:
    who = await people(hal)
    friends = await hal.create_segment("Friends")
    reader = Hal(client, client_token_a)
    assert_error(await reader.join(friends, who["ana"]), 403)
    assert (await reader.get(href(friends, "individuals"))).status_code == 200


# --- dynamic segments ----------------------------------------------------------------------


async def test_dynamic_members_are_the_matching_individuals(hal: Hal) -> None:
    await people(hal)
    thirty = await hal.create_segment("Thirty", "(demographics/age/value eq '30')")
    doc = await hal.members(thirty)
    assert identifiers(doc) == ["ana", "eva"]
    madrid = await hal.members(thirty, filter="demographics/city/value eq 'Madrid'")
    assert identifiers(madrid) == ["ana"]
    assert madrid["page"]["totalElements"] == 1
    # a change of an individual changes membership at once: nothing is stored
    luis = await hal.get(f"{await hal.individuals_url()}/luis")
    await hal.put(href(luis.json(), "self"), {"demographics": age("30")})
    assert identifiers(await hal.members(thirty)) == ["ana", "luis", "eva"]


async def test_members_are_paged_and_sorted(hal: Hal) -> None:
    for i in range(7):
        await hal.create_individual(f"p{i}", demographics=age(str(20 + i)))
    adults = await hal.create_segment("Adults", "demographics/age/value ge 21")
    doc = await hal.members(adults)
    assert doc["page"] == {"size": 20, "totalElements": 6, "totalPages": 1, "number": 0}
    url = href(adults, "individuals")
    r = await hal.client.get(
        url, params={"size": 4, "sort": "demographics/age/value,desc"}, headers=hal.headers
    )
    page = r.json()
    assert identifiers(page) == ["p6", "p5", "p4", "p3"]
    nxt = (await hal.get(href(page, "next"))).json()
    assert identifiers(nxt) == ["p2", "p1"]
    assert nxt["page"] == {"size": 4, "totalElements": 6, "totalPages": 2, "number": 1}


async def test_members_errors(hal: Hal) -> None:
    thirty = await hal.create_segment("Thirty", "demographics/age/value eq '30'")
    url = href(thirty, "individuals")
    r = await hal.client.get(url, params={"filter": "demographics eq"}, headers=hal.headers)
    assert_error(r, 400, "invalid filter")
    r = await hal.client.get(url, params={"page": "-1"}, headers=hal.headers)
    assert_error(r, 400, "page")
    missing = url.replace(thirty["identifier"], "no-such-segment")
    assert_error(await hal.get(missing), 404, "no individual segment")


# --- an individual's segments, and deletes -------------------------------------------------


async def test_an_individuals_segments(hal: Hal) -> None:
    who = await people(hal)
    friends = await hal.create_segment("Friends")
    await hal.create_segment("Enemies")
    thirty = await hal.create_segment("Thirty", "demographics/age/value eq '30'")
    await hal.create_segment("Everyone", "true")
    await hal.join(friends, who["ana"])
    r = await hal.get(href(who["ana"], "individual-segments"))
    assert r.status_code == 200
    names = [s["name"] for s in embedded(r.json(), "individual-segments")]
    assert names == ["Friends", "Thirty", "Everyone"]
    assert (
        embedded(r.json(), "individual-segments")[1] == (await hal.get(href(thirty, "self"))).json()
    )
    r = await hal.client.get(
        href(who["luis"], "individual-segments"), params={"sort": "name,desc"}, headers=hal.headers
    )
    assert [s["name"] for s in embedded(r.json(), "individual-segments")] == ["Everyone"]
    missing = href(who["ana"], "individual-segments").replace("/ana/", "/nobody/")
    assert_error(await hal.get(missing), 404, "no individual with identifier 'nobody'")


async def test_deleting_an_individual_removes_its_memberships(hal: Hal) -> None:
    who = await people(hal)
    friends = await hal.create_segment("Friends")
    await hal.join(friends, who["ana"])
    await hal.join(friends, who["luis"])
    await hal.delete(href(who["ana"], "self"))
    assert identifiers(await hal.members(friends)) == ["luis"]
    again = await hal.create_individual("ana")
    assert identifiers(await hal.members(friends)) == ["luis"]
    doc = (await hal.get(href(again, "individual-segments"))).json()
    assert embedded(doc, "individual-segments") == []


async def test_deleting_a_segment_leaves_individuals_untouched(hal: Hal) -> None:
    who = await people(hal)
    friends = await hal.create_segment("Friends")
    await hal.join(friends, who["ana"])
    assert (await hal.delete(href(friends, "self"))).status_code == 200
    assert (await hal.get(href(who["ana"], "self"))).json() == who["ana"]
    listed = (await hal.get(await hal.individuals_url())).json()
    assert listed["page"]["totalElements"] == 3
    assert_error(await hal.get(href(friends, "individuals")), 404)


async def test_turning_a_static_segment_dynamic_drops_its_members(hal: Hal) -> None:
    who = await people(hal)
    friends = await hal.create_segment("Friends")
    await hal.join(friends, who["luis"])
    r = await hal.put(
        href(friends, "self"),
        {"name": "Friends", "segmentType": "DYNAMIC", "filter": "demographics/age/value eq '30'"},
    )
    assert identifiers(await hal.members(r.json())) == ["ana", "eva"]
    r = await hal.put(href(friends, "self"), {"name": "Friends", "segmentType": "STATIC"})
    assert identifiers(await hal.members(r.json())) == []
