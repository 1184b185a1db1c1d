"""Adobe AEP Segmentation codec (``/data/core/ups/segment/definitions``; ``adobe.md`` §2).

Every request carries the IMS org, the API key and the sandbox. The list is paged by a
0-indexed ``page`` of at most 100 items (``page.totalPages``). Adobe chooses ids itself."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import msgspec

from core.expr.languages import LANGUAGES
from core.expr.normalize import normalize
from dialects.adobe.wire import DefinitionIn
from gateway.migrate.codec import parsed
from gateway.migrate.endpoint import Endpoint, MigrateError, expect, failure
from gateway.migrate.item import (
    Created,
    Item,
    WriteFailed,
    dynamic_only,
    optional_text,
    whole_allocation,
)

PATH = "/data/core/ups/segment/definitions"
PAGE = 100
FORMATS = {"pql/text": "pql", "pql/json": "pqljson"}
SCHEMA = "_xdm.context.profile"


class PageInfo(msgspec.Struct):
    totalPages: int


class DefinitionList(msgspec.Struct):
    segments: list[DefinitionIn]
    """A listed definition is the create shape plus server-set fields (``id``)."""
    page: PageInfo


class Codec:
    dialect = "adobe"

    def __init__(self, endpoint: Endpoint, http: httpx.Client) -> None:
        self.http = http
        self.headers = {
            "Authorization": f"Bearer {endpoint.token}",
            "x-api-key": endpoint.api_key,
            "x-gw-ims-org-id": endpoint.ims_org,
            "x-sandbox-name": endpoint.sandbox,
        }

    def read(self) -> Iterator[Item]:
        page = 0
        while True:
            r = expect(
                self.http.get(PATH, params={"page": page, "limit": PAGE}, headers=self.headers), 200
            )
            listing = msgspec.json.decode(r.content, type=DefinitionList)
            for definition in listing.segments:
                yield _item(definition)
            page += 1
            if page >= listing.page.totalPages:
                return

    def render(self, item: Item) -> dict[str, Any]:
        dynamic_only(item, "pql", self.dialect)
        whole_allocation(item, "pql", self.dialect)
        same, text = item.native_in("pql")
        body: dict[str, Any] = {
            "name": item.name,
            "expression": {
                "type": "PQL",
                "format": "pql/text",
                "value": text if same else LANGUAGES["pql"].render(normalize(item.expr)),
            },
            "schema": {"name": SCHEMA},
        }
        if item.description is not None:
            body["description"] = item.description
        return body

    def create(self, item: Item, body: dict[str, Any]) -> Created:
        r = self.http.post(PATH, json=body, headers=self.headers)
        if r.status_code != 200:
            raise WriteFailed(failure(r))
        return Created(str(r.json()["id"]))


def _item(d: DefinitionIn) -> Item:
    if isinstance(d.id, msgspec.UnsetType):
        raise MigrateError(f"a listed definition has no id: {d.name!r}")
    language = FORMATS.get(d.expression.format)
    expr: Any = None
    unreadable: str | None = f"unknown expression format {d.expression.format!r}"
    if language is not None:
        expr, unreadable = parsed(LANGUAGES[language].parse, d.expression.value)
    description = None if isinstance(d.description, msgspec.UnsetType) else d.description
    native = ("pql", d.expression.value) if language == "pql" else None
    return Item(
        name=d.name,
        source_id=d.id,
        description=optional_text(description),
        expr=expr,
        unreadable=unreadable,
        native=native,
    )
