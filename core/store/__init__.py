"""Persistence: the protocol (``protocol``) and the backends chosen by URL."""

from __future__ import annotations

from urllib.parse import urlsplit

from core.errors import Invalid
from core.store.limits import StoreLimits
from core.store.protocol import SegmentKey, Store

__all__ = ["SegmentKey", "Store", "StoreLimits", "open_store"]


async def open_store(url: str, limits: StoreLimits | None = None, *, migrate: bool = True) -> Store:
    """Open (and migrate) the store named by ``url``: ``sqlite:///path.db``,
    ``sqlite:///:memory:`` or ``postgresql://…``; ``limits`` bound each statement's time and
    each tenant's share of the connections (none by default: the CLI's batch work). Opening
    refuses a store a later segmux upgraded (``SchemaTooNew``); ``migrate=False`` only opens,
    for ``schema_status`` to say where the store stands."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        from core.store.sqlite.backend import SqliteStore

        path = url.split("sqlite://", 1)[1]
        path = path[1:] if path.startswith("/") else path  # sqlite:///./x.db -> ./x.db
        return await SqliteStore.open(url, path or ":memory:", limits, migrate=migrate)
    if scheme in ("postgres", "postgresql"):
        from core.store.postgres.backend import PostgresStore

        return await PostgresStore.open(url, limits=limits, migrate=migrate)
    raise Invalid("SEGMUX_DATABASE_URL", f"unsupported database URL scheme {scheme!r}")
