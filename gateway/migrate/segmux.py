"""segmux's own API codec (``/segmux/v1/segments``): cursor paging (``next``), the canonical
AST as ``expression``. segmux chooses ids itself on create."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import msgspec

from core.expr import ast
from core.expr.normalize import normalize
from dialects.segmux.wire import AllocationOut
from gateway.migrate.codec import parsed
from gateway.migrate.endpoint import Endpoint, expect, failure
from gateway.migrate.item import (
    Allocation,
    Created,
    Item,
    WriteFailed,
    dynamic_only,
    optional_text,
    whole_allocation,
)

PATH = "/segmux/v1/segments"
PAGE = 1000


class SegmentRead(msgspec.Struct):
    """The fields of the wire ``SegmentOut`` that migrate reads. ``SegmentOut`` itself cannot
    decode: its ``expression`` is ``msgspec.Raw | None``, which msgspec only encodes."""

    id: str
    seq: int
    slug: str
    name: str
    kind: str
    allocation: AllocationOut
    expression: Any = None
    description: str | None = None
    state: str | None = None
    labels: dict[str, str] = {}


class SegmentList(msgspec.Struct):
    items: list[SegmentRead]
    next: str | None = None


class Codec:
    dialect = "segmux"

    def __init__(self, endpoint: Endpoint, http: httpx.Client) -> None:
        self.http = http
        self.headers = {"Authorization": f"Bearer {endpoint.token}"}

    def read(self) -> Iterator[Item]:
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": PAGE}
            if cursor:
                params["cursor"] = cursor
            r = expect(self.http.get(PATH, params=params, headers=self.headers), 200)
            listing = msgspec.json.decode(r.content, type=SegmentList)
            yield from (_item(s) for s in listing.items)
            cursor = listing.next
            if not cursor:
                return

    def render(self, item: Item) -> dict[str, Any]:
        dynamic_only(item, "segmux", self.dialect)
        whole_allocation(item, "segmux", self.dialect)
        body: dict[str, Any] = {"name": item.name, "kind": "dynamic"}
        if item.description is not None:
            body["description"] = item.description
        norm = normalize(item.expr)
        if norm is not None:  # no expression: matches everyone
            body["expression"] = msgspec.json.decode(ast.encode(norm))
        return body

    def create(self, item: Item, body: dict[str, Any]) -> Created:
        r = self.http.post(PATH, json=body, headers=self.headers)
        if r.status_code != 201:
            raise WriteFailed(failure(r))
        return Created(msgspec.json.decode(r.content, type=SegmentRead).id)


def _item(s: SegmentRead) -> Item:
    expr, unreadable = (None, None) if s.expression is None else parsed(_canonical, s.expression)
    a = s.allocation
    return Item(
        name=s.name,
        source_id=s.id,
        description=optional_text(s.description),
        expr=expr,
        kind=s.kind,
        seq=s.seq,
        slug=s.slug,
        allocation=Allocation(a.proportion, tuple(a.exclusivityTags), tuple(a.exclusiveTo)),
        state=s.state,
        labels=tuple(sorted(s.labels.items())),
        unreadable=unreadable,
    )


def _canonical(expression: Any) -> Any:
    return normalize(ast.decode(msgspec.json.encode(expression)))
