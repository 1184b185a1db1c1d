"""Unleash admin API codec (``/api/admin/segments``; fact sheet ``unleash.md`` §2-§3).

The list has no paging. The token goes in ``Authorization`` as it is. An explicit ``id`` is
honoured on create, so an integer source id is kept; when it is taken (segmux: 409, real
8.2.0: a 500 from the primary key) the segment is created again without it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import msgspec

from core.expr.languages import LANGUAGES
from core.expr.normalize import normalize
from gateway.migrate.codec import parsed
from gateway.migrate.endpoint import Endpoint, expect, failure
from gateway.migrate.item import (
    Created,
    Item,
    WriteFailed,
    dynamic_only,
    optional_text,
    whole_allocation,
)

PATH = "/api/admin/segments"


class AdminSegment(msgspec.Struct):
    """The fields of an AdminSegment that migrate reads (others are ignored). The dialect's
    own wire module has no resource structs (it builds them as dicts to omit null fields)."""

    id: int
    name: str
    constraints: list[dict[str, Any]]
    description: str | None = None


class SegmentList(msgspec.Struct):
    segments: list[AdminSegment]


class Codec:
    dialect = "unleash"

    def __init__(self, endpoint: Endpoint, http: httpx.Client) -> None:
        self.http = http
        self.headers = {"Authorization": endpoint.token}

    def read(self) -> Iterator[Item]:
        r = expect(self.http.get(PATH, headers=self.headers), 200)
        for s in msgspec.json.decode(r.content, type=SegmentList).segments:
            expr, unreadable = parsed(LANGUAGES["unleash"].parse, s.constraints)
            yield Item(
                name=s.name,
                source_id=str(s.id),
                description=optional_text(s.description),
                expr=expr,
                seq=s.id,
                unreadable=unreadable,
                native=("unleash", s.constraints),
            )

    def render(self, item: Item) -> dict[str, Any]:
        dynamic_only(item, "unleash", self.dialect)
        whole_allocation(item, "unleash", self.dialect)
        same, constraints = item.native_in("unleash")
        body: dict[str, Any] = {
            "name": item.name,
            "constraints": constraints
            if same
            else LANGUAGES["unleash"].render(normalize(item.expr)),
        }
        if item.description is not None:
            body["description"] = item.description
        if item.seq is not None:
            body["id"] = item.seq
        return body

    def create(self, item: Item, body: dict[str, Any]) -> Created:
        r = self.http.post(PATH, json=body, headers=self.headers)
        note = None
        if r.status_code in (409, 500) and "id" in body:
            note = f"id {body['id']} is taken on the target: it chose another"
            r = self.http.post(
                PATH, json={k: v for k, v in body.items() if k != "id"}, headers=self.headers
            )
        if r.status_code != 201:
            raise WriteFailed(failure(r))
        return Created(str(r.json()["id"]), note)
