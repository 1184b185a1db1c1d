"""v2.3 codec (``/v2.3/data/segments``; ``v23.md``): ``{success, result}`` envelopes, pages from
1 to ``lastPage`` of at most 100. A v2.3 segment is a name and nothing else, so it reads as a
segment that matches everyone, and only such a segment can be written there."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import msgspec

from core.errors import NotExpressible
from core.expr.normalize import normalize
from dialects.v23.wire import ListResult, SegmentOut
from gateway.migrate.endpoint import Endpoint, expect, failure
from gateway.migrate.item import (
    Created,
    Item,
    WriteFailed,
    dynamic_only,
    whole_allocation,
)

PATH = "/v2.3/data/segments"
PAGE = 100


class ListEnvelope(msgspec.Struct):
    success: bool
    result: ListResult


class OneEnvelope(msgspec.Struct):
    success: bool
    result: SegmentOut


class Codec:
    dialect = "v23"

    def __init__(self, endpoint: Endpoint, http: httpx.Client) -> None:
        self.http = http
        self.headers = {"Authorization": f"Bearer {endpoint.token}"}

    def read(self) -> Iterator[Item]:
        page = 1
        while True:
            r = expect(
                self.http.get(PATH, params={"page": page, "per_page": PAGE}, headers=self.headers),
                200,
            )
            result = msgspec.json.decode(r.content, type=ListEnvelope).result
            for s in result.items:
                yield Item(name=s.name, source_id=s.id)
            if page >= result.lastPage:
                return
            page += 1

    def render(self, item: Item) -> dict[str, Any]:
        dynamic_only(item, "v2.3", self.dialect)
        whole_allocation(item, "v2.3", self.dialect)
        if normalize(item.expr) is not None:
            raise NotExpressible("v2.3", "a v2.3 segment has no condition: it would match everyone")
        return {"name": item.name}

    def create(self, item: Item, body: dict[str, Any]) -> Created:
        r = self.http.post(PATH, json=body, headers=self.headers)
        if r.status_code != 200:
            raise WriteFailed(failure(r))
        return Created(msgspec.json.decode(r.content, type=OneEnvelope).result.id)
