"""Confidence codec (``/v1/segments``; ``confidence.md``): proto3 JSON, paged by
``pageSize``/``nextPageToken``. ``displayName`` is the segment's name; the client chooses the id
with ``?segmentId=`` (kept from a slug source id; when taken, 409, created without it). The
allocation goes along, so a share of the matching units stays a share."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import msgspec

from core.expr.languages import LANGUAGES
from core.expr.normalize import normalize
from core.model import SLUG_RE
from dialects.confidence.wire import ListOut, SegmentOut
from gateway.migrate.codec import parsed
from gateway.migrate.endpoint import Endpoint, expect, failure
from gateway.migrate.item import Allocation, Created, Item, WriteFailed, dynamic_only, optional_text

PATH = "/v1/segments"
PAGE = 100


class Codec:
    dialect = "confidence"

    def __init__(self, endpoint: Endpoint, http: httpx.Client) -> None:
        self.http = http
        self.headers = {"Authorization": f"Bearer {endpoint.token}"}

    def read(self) -> Iterator[Item]:
        token = ""
        while True:
            params: dict[str, Any] = {"pageSize": PAGE}
            if token:
                params["pageToken"] = token
            r = expect(self.http.get(PATH, params=params, headers=self.headers), 200)
            listing = msgspec.json.decode(r.content, type=ListOut)
            yield from (_item(s) for s in listing.segments)
            token = listing.nextPageToken
            if not token:
                return

    def render(self, item: Item) -> dict[str, Any]:
        dynamic_only(item, "confidence", self.dialect)
        body: dict[str, Any] = {"displayName": item.name}
        if item.description is not None:
            body["description"] = item.description
        same, targeting = item.native_in("confidence")
        if not same:
            targeting = LANGUAGES["confidence"].render(normalize(item.expr))
        if targeting:
            body["targeting"] = targeting
        if item.labels:
            body["labels"] = dict(item.labels)
        a = item.allocation
        if not a.is_default:
            body["allocation"] = {
                "proportion": {"value": a.proportion},
                "exclusivityTags": list(a.exclusivity_tags),
                "exclusiveTo": list(a.exclusive_to),
            }
        return body

    def create(self, item: Item, body: dict[str, Any]) -> Created:
        params = {"segmentId": item.slug} if item.slug and SLUG_RE.match(item.slug) else {}
        r = self.http.post(PATH, params=params, json=body, headers=self.headers)
        note = None
        if r.status_code == 409 and params:
            note = f"segmentId {item.slug} is taken on the target: it chose another"
            r = self.http.post(PATH, json=body, headers=self.headers)
        if r.status_code != 200:
            raise WriteFailed(failure(r))
        return Created(msgspec.json.decode(r.content, type=SegmentOut).name, note)

    def archive(self, target_id: str) -> None:
        """``:archive`` a segment just created (its source was archived)."""
        r = self.http.post(f"/v1/{target_id}:archive", json={}, headers=self.headers)
        if r.status_code != 200:
            raise WriteFailed(failure(r))


def _item(s: SegmentOut) -> Item:
    slug = s.name.removeprefix("segments/")
    expr, unreadable = (
        (None, None) if s.targeting is None else parsed(LANGUAGES["confidence"].parse, s.targeting)
    )
    a = s.allocation
    allocation = (
        Allocation()
        if a is None
        else Allocation(
            proportion=a.proportion.value if a.proportion is not None else "1",
            exclusivity_tags=tuple(a.exclusivityTags),
            exclusive_to=tuple(a.exclusiveTo),
        )
    )
    return Item(
        name=s.displayName or slug,
        source_id=s.name,
        description=optional_text(s.description),
        expr=expr,
        slug=slug,
        allocation=allocation,
        state=s.state or None,
        labels=tuple(sorted(s.labels.items())),
        unreadable=unreadable,
        native=None if s.targeting is None else ("confidence", s.targeting),
    )
