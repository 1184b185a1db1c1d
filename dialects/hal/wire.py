"""Wire shapes of the HAL dialect (Spring Data REST as Liferay Pulpo served it)."""

from __future__ import annotations

from typing import Any

import msgspec

MEDIA_TYPE = "application/hal+json"


class Link(msgspec.Struct, omit_defaults=True):
    href: str
    templated: bool = False


Links = dict[str, Link]


class SegmentIn(msgspec.Struct, kw_only=True):
    """A create or full update (PUT) of an individual segment. Read-only fields a client sends
    back from a GET (``dateCreated``, ``dateModified``, ``_links``) are ignored, as Spring Data
    REST ignores them."""

    name: str
    segmentType: str
    filter: str | None = None
    identifier: str | None = None


class SegmentOut(msgspec.Struct):
    dateCreated: str
    dateModified: str
    filter: str | None
    identifier: str
    name: str
    segmentType: str
    links: Links = msgspec.field(name="_links")


class MembershipIn(msgspec.Struct, kw_only=True):
    individualIdentifier: str
    individualSegmentIdentifier: str | None = None


class PageInfo(msgspec.Struct):
    size: int
    totalElements: int
    totalPages: int
    number: int


class Collection(msgspec.Struct):
    embedded: dict[str, list[Any]] = msgspec.field(name="_embedded")
    links: Links = msgspec.field(name="_links")
    page: PageInfo


class Root(msgspec.Struct):
    name: str
    description: str
    links: Links = msgspec.field(name="_links")


class Health(msgspec.Struct):
    description: str
    status: str


class Error(msgspec.Struct):
    """Spring Boot's error body."""

    timestamp: str
    status: int
    error: str
    message: str
    path: str


ENCODER = msgspec.json.Encoder()
