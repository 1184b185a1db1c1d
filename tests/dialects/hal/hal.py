"""A small HAL client for the tests: it starts at the root and follows ``_links``, expanding the
templates (RFC 6570 ``{var}`` and ``{?a,b}``) instead of building URLs by hand."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import httpx

HAL = "application/hal+json"
_VAR = re.compile(r"\{([^?}][^}]*)\}")
_QUERY = re.compile(r"\{\?([^}]*)\}")


def expand(href: str, **values: Any) -> str:
    """Fill ``{name}`` and ``{?a,b}``; query variables without a value are left out."""
    href = _VAR.sub(lambda m: str(values[m.group(1)]), href)

    def query(m: re.Match[str]) -> str:
        pairs = [(k, values[k]) for k in m.group(1).split(",") if values.get(k) is not None]
        return "?" + urlencode(pairs) if pairs else ""

    return _QUERY.sub(query, href)


def href(doc: dict[str, Any], rel: str, **values: Any) -> str:
    link = doc["_links"][rel]
    return expand(link["href"], **values) if link.get("templated") else str(link["href"])


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Hal:
    """One token's view of one project, reached from the root document."""

    def __init__(self, client: httpx.AsyncClient, token: str, project: str = "my-project") -> None:
        self.client = client
        self.token = token
        self.project = project
        self._root: dict[str, Any] | None = None

    @property
    def headers(self) -> dict[str, str]:
        return auth(self.token)

    async def root(self) -> dict[str, Any]:
        if self._root is None:
            r = await self.client.get("/", headers=self.headers)
            assert r.status_code == 200, r.text
            self._root = r.json()
        return self._root

    async def segments_url(self, **query: Any) -> str:
        return href(await self.root(), "individual-segments", projectId=self.project, **query)

    async def individuals_url(self, **query: Any) -> str:
        return href(await self.root(), "individuals", projectId=self.project, **query)

    async def get(self, url: str, **params: Any) -> httpx.Response:
        return await self.client.get(url, params=params or None, headers=self.headers)

    async def post(self, url: str, body: Any) -> httpx.Response:
        return await self.client.post(url, json=body, headers=self.headers)

    async def put(self, url: str, body: Any) -> httpx.Response:
        return await self.client.put(url, json=body, headers=self.headers)

    async def delete(self, url: str) -> httpx.Response:
        return await self.client.delete(url, headers=self.headers)

    async def create_segment(
        self, name: str, filter: str | None = None, segment_type: str | None = None
    ) -> dict[str, Any]:
        kind = segment_type or ("STATIC" if filter is None else "DYNAMIC")
        r = await self.post(
            await self.segments_url(), {"name": name, "filter": filter, "segmentType": kind}
        )
        assert r.status_code == 200, r.text
        doc: dict[str, Any] = r.json()
        return doc

    async def create_individual(
        self, identifier: str | None = None, **attributes: Any
    ) -> dict[str, Any]:
        body = dict(attributes) if identifier is None else {"identifier": identifier, **attributes}
        r = await self.post(await self.individuals_url(), body)
        assert r.status_code == 200, r.text
        doc: dict[str, Any] = r.json()
        return doc

    async def members(self, segment: dict[str, Any], **query: Any) -> dict[str, Any]:
        r = await self.get(href(segment, "individuals", **query))
        assert r.status_code == 200, r.text
        doc: dict[str, Any] = r.json()
        return doc

    async def join(self, segment: dict[str, Any], individual: dict[str, Any]) -> httpx.Response:
        return await self.post(
            href(segment, "self") + "/memberships",
            {
                "individualSegmentIdentifier": segment["identifier"],
                "individualIdentifier": individual["identifier"],
            },
        )


def age(value: str) -> dict[str, Any]:
    """Pulpo's demographics: a property maps to a list of fields whose values are strings."""
    return {
        "age": [
            {
                "context": "demographics",
                "fieldType": "http://schema.org/age",
                "name": "age",
                "value": value,
            }
        ]
    }


def embedded(doc: dict[str, Any], rel: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = doc["_embedded"][rel]
    return items


def identifiers(doc: dict[str, Any], rel: str = "individuals") -> list[str]:
    return [item["identifier"] for item in embedded(doc, rel)]


def assert_error(r: httpx.Response, status: int, needle: str = "") -> dict[str, Any]:
    """Spring Boot's error JSON, as HAL+JSON."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == HAL
    body: dict[str, Any] = r.json()
    assert list(body) == ["timestamp", "status", "error", "message", "path"]
    assert body["status"] == status
    assert body["path"] == r.request.url.path
    assert needle in body["message"], body["message"]
    return body
