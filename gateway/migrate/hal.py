"""HAL "Individual Segments" codec (``/{project}/individual-segments``; ``hal.md``): Spring Data
REST pages (0-based ``page``, ``size``, ``page.totalPages``), OData ``filter``. The client may
choose the ``identifier``: a slug source id is kept (when taken, 409, created without it)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import msgspec

from core.expr.languages import LANGUAGES
from core.expr.normalize import normalize
from core.model import SLUG_RE
from dialects.hal.wire import MEDIA_TYPE, Collection, SegmentOut
from gateway.migrate.codec import parsed
from gateway.migrate.endpoint import Endpoint, expect, failure
from gateway.migrate.item import Created, Item, WriteFailed, dynamic_only, whole_allocation

REL = "individual-segments"
PAGE = 100


class Codec:
    dialect = "hal"

    def __init__(self, endpoint: Endpoint, http: httpx.Client) -> None:
        self.http = http
        self.path = f"/{quote(endpoint.project, safe='')}/{REL}"
        self.headers = {
            "Authorization": f"Bearer {endpoint.token}",
            "Accept": f"{MEDIA_TYPE}, application/json",
        }

    def read(self) -> Iterator[Item]:
        page = 0
        while True:
            r = expect(
                self.http.get(self.path, params={"page": page, "size": PAGE}, headers=self.headers),
                200,
            )
            listing = msgspec.json.decode(r.content, type=Collection)
            for raw in listing.embedded.get(REL, []):
                yield _item(msgspec.convert(raw, SegmentOut, from_attributes=False))
            page += 1
            if page >= listing.page.totalPages:
                return

    def render(self, item: Item) -> dict[str, Any]:
        dynamic_only(item, "OData", self.dialect)
        whole_allocation(item, "OData", self.dialect)
        same, text = item.native_in("odata")
        body: dict[str, Any] = {
            "name": item.name,
            "segmentType": "DYNAMIC",
            "filter": text if same else LANGUAGES["odata"].render(normalize(item.expr)),
        }
        return body

    def create(self, item: Item, body: dict[str, Any]) -> Created:
        chosen = item.slug if item.slug and SLUG_RE.match(item.slug) else None
        sent = {**body, "identifier": chosen} if chosen else body
        r = self.http.post(self.path, json=sent, headers=self.headers)
        note = None
        if r.status_code == 409 and chosen:
            note = f"identifier {chosen} is taken on the target: it chose another"
            r = self.http.post(self.path, json=body, headers=self.headers)
        if r.status_code != 200:
            raise WriteFailed(failure(r))
        return Created(msgspec.json.decode(r.content, type=SegmentOut).identifier, note)


def _item(s: SegmentOut) -> Item:
    kind = "static" if s.segmentType == "STATIC" else "dynamic"
    expr, unreadable = (
        (None, None) if s.filter is None else parsed(LANGUAGES["odata"].parse, s.filter)
    )
    return Item(
        name=s.name,
        source_id=s.identifier,
        expr=expr,
        kind=kind,
        slug=s.identifier,
        unreadable=unreadable,
        native=None if s.filter is None else ("odata", s.filter),
    )
