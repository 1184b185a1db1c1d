"""What every dialect's codec does, and the table of codecs by dialect name.

A codec is a client of one vendor API, built from that dialect's own wire structs: ``read``
follows the API's paging and yields canonical ``Item``s; ``render`` is the body that would
create the item there (``NotExpressible`` where the dialect cannot say the same thing, never a
wider condition); ``create`` posts it and returns the id the target gave."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any, Protocol

import httpx
import msgspec

from core.errors import CoreError
from gateway.migrate.endpoint import Endpoint, MigrateError
from gateway.migrate.item import Created, Item


class Codec(Protocol):
    dialect: str

    def read(self) -> Iterator[Item]: ...

    def render(self, item: Item) -> Any: ...

    def create(self, item: Item, body: Any) -> Created: ...


class Archiving(Codec, Protocol):
    """A codec whose API has an archived state (Confidence's): the planner asks it to archive
    a segment right after creating it only when its ``Arrival`` says so."""

    def archive(self, target_id: str) -> None: ...


def codec_for(endpoint: Endpoint, http: httpx.Client) -> Codec:
    from dialects.registry import by_name  # read when a migration runs (``endpoint.dialects``)

    path = by_name(endpoint.dialect).codec
    if path is None:  # parse_endpoint admits only surfaces with a codec
        raise MigrateError(f"{endpoint}: segmux migrate cannot read or write this API")
    module = importlib.import_module(path)
    codec: Codec = module.Codec(endpoint, http)
    return codec


def parsed(read: Any, *args: Any) -> tuple[Any, str | None]:
    """``(read(*args), None)``, or ``(None, reason)`` when the source's condition is invalid."""
    try:
        return read(*args), None
    except CoreError as exc:
        return None, f"the source's condition could not be read: {exc.message}"
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        return None, f"the source's condition could not be read: {exc}"
