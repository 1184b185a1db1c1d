"""Individual segments over HTTP: create, read, update and delete through ``self``, the paged,
sorted and filtered collection, and every error, on both backends."""

from __future__ import annotations

import re

import httpx
import pytest

from core.store import Store
from tests.conftest import make_token
from tests.dialects.hal.hal import HAL, Hal, assert_error, embedded, href, identifiers

ISO_SECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.fixture
def hal(client: httpx.AsyncClient, token_a: str) -> Hal:
    return Hal(client, token_a)


# --- create / read / update / delete -------------------------------------------------------


async def test_create_dynamic_returns_200_with_the_resource(hal: Hal) -> None:
    r = await hal.post(
        await hal.segments_url(),
        {
            "name": "My First IndividualSegment",
            "filter": "(demographics/age/value eq '30')",
            "segmentType": "DYNAMIC",
        },
    )
    assert r.status_code == 200
    assert r.headers["content-type"] == HAL
    doc = r.json()
    assert list(doc) == [
        "dateCreated",
        "dateModified",
        "filter",
        "identifier",
        "name",
        "segmentType",
        "_links",
    ]
    assert doc["filter"] == "(demographics/age/value eq '30')"  # as sent
    assert doc["segmentType"] == "DYNAMIC"
    assert ISO_SECONDS.match(doc["dateCreated"]) and doc["dateModified"] == doc["dateCreated"]
    self_href = f"http://segmux.test/my-project/individual-segments/{doc['identifier']}"
    assert doc["_links"] == {
        "self": {"href": self_href},
        "individual-segments": {
            "href": "http://segmux.test/my-project/individual-segments{?filter}",
            "templated": True,
        },
        "individuals": {"href": self_href + "/individuals{?filter}", "templated": True},
    }


async def test_create_static_has_no_filter(hal: Hal) -> None:
    doc = await hal.create_segment("Friends")
    assert (doc["segmentType"], doc["filter"]) == ("STATIC", None)
    assert re.fullmatch(r"[a-z0-9]{20}", doc["identifier"])


async def test_create_with_an_identifier(hal: Hal) -> None:
    r = await hal.post(
        await hal.segments_url(), {"name": "x", "segmentType": "STATIC", "identifier": "my-friends"}
    )
    assert r.json()["identifier"] == "my-friends"
    r = await hal.post(
        await hal.segments_url(), {"name": "y", "segmentType": "STATIC", "identifier": "my-friends"}
    )
    assert_error(r, 409, "identifier already exists")
    r = await hal.post(
        await hal.segments_url(), {"name": "z", "segmentType": "STATIC", "identifier": "AV_Afi6"}
    )
    assert_error(r, 400, "identifier: must match")


async def test_get_put_delete_through_self(hal: Hal) -> None:
    doc = await hal.create_segment("Thirty", "demographics/age/value eq '30'")
    self_url = href(doc, "self")
    assert (await hal.get(self_url)).json() == doc

    changed = {**doc, "name": "Forty", "filter": "demographics/age/value eq '40'"}
    r = await hal.put(self_url, changed)  # a GET body sent back: read-only fields are ignored
    assert r.status_code == 200
    assert (r.json()["name"], r.json()["filter"]) == ("Forty", "demographics/age/value eq '40'")
    assert (await hal.get(self_url)).json() == r.json()

    r = await hal.put(self_url, {"name": "Forty", "segmentType": "STATIC"})
    assert (r.json()["segmentType"], r.json()["filter"]) == ("STATIC", None)

    r = await hal.delete(self_url)
    assert (r.status_code, r.content) == (200, b"")
    assert_error(
        await hal.get(self_url), 404, f"no individual segment with identifier {doc['identifier']!r}"
    )
    assert_error(await hal.delete(self_url), 404)
    assert_error(await hal.put(self_url, {"name": "x", "segmentType": "STATIC"}), 404)


async def test_put_cannot_change_the_identifier(hal: Hal) -> None:
    doc = await hal.create_segment("x")
    r = await hal.put(href(doc, "self"), {**doc, "identifier": "other-id"})
    assert_error(r, 400, "identifier: must equal the identifier in the path")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": "x", "segmentType": "DYNAMIC"}, "filter: is required for a DYNAMIC"),
        ({"name": "x", "segmentType": "DYNAMIC", "filter": "  "}, "filter: is required"),
        ({"name": "x", "segmentType": "STATIC", "filter": "a eq 1"}, "filter: must be null for a"),
        ({"name": "x", "segmentType": "Type.STATIC"}, "segmentType: must be STATIC or DYNAMIC"),
        ({"name": "x", "segmentType": "dynamic", "filter": "a eq 1"}, "must be STATIC or DYNAMIC"),
        ({"name": "x"}, "missing required field `segmentType`"),
        ({"segmentType": "STATIC"}, "missing required field `name`"),
        ({"name": 5, "segmentType": "STATIC"}, "name: Expected `str`, got `int`"),
        ({"name": "", "segmentType": "STATIC"}, "name: must not be empty"),
        ({"name": "x" * 1025, "segmentType": "STATIC"}, "name: must be at most 1024"),
        ({"name": "a\u0000b", "segmentType": "STATIC"}, "name: must not contain NUL"),
        ([1, 2], "the body must be a JSON object"),
        (
            {"name": "x", "segmentType": "DYNAMIC", "filter": "demographics/age/value eq"},
            "invalid filter: unexpected end of the filter at position 25",
        ),
        (
            {"name": "x", "segmentType": "DYNAMIC", "filter": "a eq 'x"},
            "invalid filter: unterminated string starting at position 5",
        ),
        (
            {"name": "x", "segmentType": "DYNAMIC", "filter": "a eq 'x\u0000'"},
            "invalid filter: must not contain NUL",
        ),
        (
            {"name": "x", "segmentType": "DYNAMIC", "filter": "(" * 100 + "a eq 1" + ")" * 100},
            "invalid filter: parentheses nest deeper than 64",
        ),
    ],
)
async def test_invalid_bodies_are_400_and_change_nothing(
    hal: Hal, body: object, message: str
) -> None:
    assert_error(await hal.post(await hal.segments_url(), body), 400, message)
    assert (await hal.get(await hal.segments_url())).json()["page"]["totalElements"] == 0


async def test_transport_errors(hal: Hal, client: httpx.AsyncClient) -> None:
    url = await hal.segments_url()
    r = await client.post(
        url, content=b"{not json", headers={**hal.headers, "Content-Type": "application/json"}
    )
    assert_error(r, 400, "JSON parse error")
    r = await client.post(
        url,
        content=b"name=x",
        headers={**hal.headers, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_error(r, 415, "Content type 'application/x-www-form-urlencoded' not supported")
    r = await client.post(url, content=b"{}", headers=hal.headers)
    assert_error(r, 415)
    r = await client.post(
        url,
        content=b'{"name": "' + b"x" * 2_000_000 + b'"}',
        headers={**hal.headers, "Content-Type": "application/json"},
    )
    assert_error(r, 413)
    r = await client.post(
        url,
        content=b'{"name":"x","segmentType":"STATIC"}',
        headers={**hal.headers, "Content-Type": "application/hal+json"},
    )
    assert r.status_code == 200


async def test_duplicate_name_in_a_project_is_409(
    hal: Hal, client: httpx.AsyncClient, token_a: str
) -> None:
    await hal.create_segment("Friends")
    r = await hal.post(await hal.segments_url(), {"name": "Friends", "segmentType": "STATIC"})
    assert_error(r, 409, "an individual segment with this name already exists in the project")
    await Hal(client, token_a, "other-project").create_segment("Friends")


async def test_client_tokens_read_but_do_not_write(
    hal: Hal, client: httpx.AsyncClient, client_token_a: str
) -> None:
    doc = await hal.create_segment("Friends")
    reader = Hal(client, client_token_a)
    assert (await reader.get(href(doc, "self"))).status_code == 200
    assert_error(
        await reader.post(await reader.segments_url(), {"name": "x", "segmentType": "STATIC"}), 403
    )
    assert_error(await reader.delete(href(doc, "self")), 403)
    assert_error(await reader.put(href(doc, "self"), {"name": "x", "segmentType": "STATIC"}), 403)


async def test_other_tenants_and_projects_do_not_see_a_segment(
    hal: Hal, client: httpx.AsyncClient, token_b: str, token_a: str
) -> None:
    doc = await hal.create_segment("Friends")
    other_tenant = Hal(client, token_b)
    assert_error(await other_tenant.get(href(doc, "self")), 404)
    assert_error(await other_tenant.delete(href(doc, "self")), 404)
    assert (await other_tenant.get(await other_tenant.segments_url())).json()["page"][
        "totalElements"
    ] == 0
    elsewhere = Hal(client, token_a, "elsewhere")
    url = href(doc, "self").replace("/my-project/", "/elsewhere/")
    assert_error(await elsewhere.get(url), 404)


# --- the collection ------------------------------------------------------------------------


async def test_empty_collection_matches_the_seed_shape(hal: Hal) -> None:
    r = await hal.get(await hal.segments_url(), page=0, size=20)
    assert r.status_code == 200 and r.headers["content-type"] == HAL
    assert r.json() == {
        "_embedded": {"individual-segments": []},
        "_links": {
            "self": {"href": "http://segmux.test/my-project/individual-segments?page=0&size=20"}
        },
        "page": {"size": 20, "totalElements": 0, "totalPages": 0, "number": 0},
    }


async def test_one_page_has_only_self(hal: Hal) -> None:
    doc = await hal.create_segment("Friends")
    r = await hal.get(await hal.segments_url(), page=0, size=20)
    assert r.json() == {
        "_embedded": {"individual-segments": [doc]},
        "_links": {
            "self": {"href": "http://segmux.test/my-project/individual-segments?page=0&size=20"}
        },
        "page": {"size": 20, "totalElements": 1, "totalPages": 1, "number": 0},
    }


async def test_paging_links_walk_every_page(hal: Hal) -> None:
    for i in range(5):
        await hal.create_segment(f"s{i}")
    r = await hal.get(await hal.segments_url(), size=2)
    doc = r.json()
    base = "http://segmux.test/my-project/individual-segments"
    assert doc["_links"] == {
        "first": {"href": f"{base}?page=0&size=2"},
        "self": {"href": f"{base}?page=0&size=2"},
        "next": {"href": f"{base}?page=1&size=2"},
        "last": {"href": f"{base}?page=2&size=2"},
    }
    assert doc["page"] == {"size": 2, "totalElements": 5, "totalPages": 3, "number": 0}
    names = [s["name"] for s in embedded(doc, "individual-segments")]
    while "next" in doc["_links"]:
        doc = (await hal.get(href(doc, "next"))).json()
        names += [s["name"] for s in embedded(doc, "individual-segments")]
    assert names == ["s0", "s1", "s2", "s3", "s4"]  # creation order by default
    assert doc["_links"]["prev"] == {"href": f"{base}?page=1&size=2"}
    assert "next" not in doc["_links"]
    past = (await hal.get(base, page=7, size=2)).json()
    assert embedded(past, "individual-segments") == []
    assert past["_links"]["prev"] == {"href": f"{base}?page=2&size=2"}


async def test_default_size_is_20(hal: Hal) -> None:
    for i in range(21):
        await hal.create_segment(f"s{i:02d}")
    doc = (await hal.get(await hal.segments_url())).json()
    assert doc["page"] == {"size": 20, "totalElements": 21, "totalPages": 2, "number": 0}


async def test_sort_is_repeatable_with_directions(hal: Hal) -> None:
    await hal.create_segment("b", "x eq 1")
    await hal.create_segment("a")
    await hal.create_segment("c")
    url = await hal.segments_url()

    async def names(*sort: str) -> list[str]:
        r = await hal.client.get(url, params=[("sort", s) for s in sort], headers=hal.headers)
        assert r.status_code == 200, r.text
        return [s["name"] for s in embedded(r.json(), "individual-segments")]

    assert await names("name") == ["a", "b", "c"]
    assert await names("name,desc") == ["c", "b", "a"]
    assert await names("segmentType,desc", "name,asc") == ["a", "c", "b"]
    assert await names("segmentType,name,desc") == ["c", "a", "b"]
    assert await names("filter") == ["b", "a", "c"]  # null filters last
    r = await hal.client.get(url, params={"sort": "name,desc", "size": 1}, headers=hal.headers)
    assert r.json()["_links"]["next"]["href"].endswith("?page=1&size=1&sort=name,desc")


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        ("name eq 'Friends'", ["Friends"]),
        ("segmentType eq 'DYNAMIC'", ["Thirty"]),
        ("filter eq null", ["Friends", "L'Oreal fans"]),
        ("startswith(name,'L''Oreal')", ["L'Oreal fans"]),
        ("contains(filter,'age')", ["Thirty"]),
        ("dateCreated lt 2000-01-01T00:00:00Z", []),
        (
            "dateCreated gt 2000-01-01T00:00:00Z and not (name eq 'Friends')",
            ["Thirty", "L'Oreal fans"],
        ),
        ("true", ["Thirty", "Friends", "L'Oreal fans"]),
        ("", ["Thirty", "Friends", "L'Oreal fans"]),
    ],
)
async def test_filter_the_collection(hal: Hal, filter: str, expected: list[str]) -> None:
    await hal.create_segment("Thirty", "demographics/age/value eq '30'")
    await hal.create_segment("Friends")
    await hal.create_segment("L'Oreal fans")
    doc = (await hal.get(await hal.segments_url(filter=filter or None))).json()
    assert [s["name"] for s in embedded(doc, "individual-segments")] == expected
    assert doc["page"]["totalElements"] == len(expected)


async def test_filter_and_sort_are_carried_by_the_links(hal: Hal) -> None:
    for i in range(3):
        await hal.create_segment(f"s{i}")
    url = await hal.segments_url(filter="segmentType eq 'STATIC'")
    url = httpx.URL(url).copy_merge_params({"size": 1, "sort": "name,desc"})
    doc = (await hal.client.get(url, headers=hal.headers)).json()
    nxt = (await hal.get(href(doc, "next"))).json()
    assert [s["name"] for s in embedded(nxt, "individual-segments")] == ["s1"]
    assert "filter=segmentType%20eq%20%27STATIC%27" in href(doc, "next")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"page": "-1"}, "page: must be an integer from 0 to 2147483647"),
        ({"page": "x"}, "page: must be an integer"),
        ({"page": "2147483648"}, "page: must be an integer"),
        ({"size": "0"}, "size: must be an integer from 1 to 1000"),
        ({"size": "1001"}, "size: must be an integer from 1 to 1000"),
        ({"size": "1.5"}, "size: must be an integer"),
        ({"sort": "nope"}, "cannot sort individual segments by 'nope'"),
        ({"sort": "desc"}, "names no property to sort by"),
        ({"filter": "name eq"}, "invalid filter: unexpected end of the filter at position 7"),
        ({"filter": "name add 1"}, "the operator add is not supported"),
        ({"filter": 'name eq "x"'}, "OData strings use single quotes (position 8)"),
    ],
)
async def test_bad_query_parameters_are_400(hal: Hal, params: dict[str, str], message: str) -> None:
    r = await hal.client.get(await hal.segments_url(), params=params, headers=hal.headers)
    assert_error(r, 400, message)


async def test_repeated_paging_parameters_are_400(hal: Hal) -> None:
    r = await hal.client.get(
        await hal.segments_url(), params=[("page", "0"), ("page", "1")], headers=hal.headers
    )
    assert_error(r, 400, "page: must be given at most once")
    r = await hal.client.get(
        await hal.segments_url(),
        params=[("filter", "a eq 1"), ("filter", "b eq 1")],
        headers=hal.headers,
    )
    assert_error(r, 400, "filter: must be given at most once")


async def test_size_1000_is_allowed(hal: Hal) -> None:
    await hal.create_segment("x")
    doc = (await hal.get(await hal.segments_url(), size=1000)).json()
    assert doc["page"]["size"] == 1000


async def test_each_tenant_lists_its_own(
    client: httpx.AsyncClient, store: Store, token_a: str
) -> None:
    other = await make_token(store, "tenant-c")
    await Hal(client, token_a).create_segment("mine")
    theirs = Hal(client, other)
    doc = (await theirs.get(await theirs.segments_url())).json()
    assert identifiers(doc, "individual-segments") == []
