"""Settings from the environment (``SEGMUX_*``), read once at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping

import msgspec

from core.store.limits import DEFAULT_POOL_SIZE, StoreLimits
from core.store.revisions import FRESHNESS_MODES, Freshness


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    database_url: str = "sqlite:///./segmux.db"
    host: str = "127.0.0.1"
    port: int = 8080
    log_level: str = "info"
    admin_token: str | None = None
    """Seeds an admin token of tenant ``default`` at start-up (scripts, CI)."""
    body_limit: int = 1024 * 1024
    """Largest request body accepted, in bytes (413 above)."""
    trust_proxy: bool = False
    segment_limit: int = 300
    """Segments per tenant the Unleash API lets one create (Unleash's default limit)."""
    freshness: Freshness = "notify"
    """How caches learn of other processes' writes (core.store.revisions): ``notify`` trusts
    what LISTEN/NOTIFY has not announced as changed; ``strict`` reads the tenant's revision
    before every cached answer. PostgreSQL only; SQLite is always strict."""

    # --- database time and its sharing between tenants (core.store.limits) ---------------
    statement_timeout_ms: int = 5000
    """``SEGMUX_STATEMENT_TIMEOUT_MS``: the longest one database statement of a request may
    run (0: unbounded). A members query cut off is the condition's fault: a 400 saying so."""
    tenant_db_concurrency: int = DEFAULT_POOL_SIZE // 2
    """``SEGMUX_TENANT_DB_CONCURRENCY``: store operations one tenant may run at once (0:
    unbounded); below the pool's size, so other tenants always find a connection."""

    def store_limits(self) -> StoreLimits:
        return StoreLimits(statement_timeout_ms=self.statement_timeout_ms,
                           tenant_concurrency=self.tenant_db_concurrency)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        d = cls()

        def get(name: str, default: str) -> str:
            return env.get(f"SEGMUX_{name}", default)

        return cls(
            database_url=get("DATABASE_URL", d.database_url),
            host=get("HOST", d.host),
            port=int(get("PORT", str(d.port))),
            log_level=get("LOG_LEVEL", d.log_level).lower(),
            admin_token=env.get("SEGMUX_ADMIN_TOKEN") or None,
            body_limit=int(get("BODY_LIMIT", str(d.body_limit))),
            trust_proxy=get("TRUST_PROXY", "").lower() in ("1", "true", "yes"),
            segment_limit=int(get("SEGMENT_LIMIT", str(d.segment_limit))),
            freshness=_freshness(get("FRESHNESS", d.freshness)),
            statement_timeout_ms=_at_least_zero(
                "STATEMENT_TIMEOUT_MS", get("STATEMENT_TIMEOUT_MS", str(d.statement_timeout_ms))),
            tenant_db_concurrency=_at_least_zero(
                "TENANT_DB_CONCURRENCY",
                get("TENANT_DB_CONCURRENCY", str(d.tenant_db_concurrency))),
        )


def _at_least_zero(name: str, value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError(f"SEGMUX_{name} must be 0 or more, not {value!r}")
    return number


def _freshness(value: str) -> Freshness:
    mode = value.strip().lower()
    for known in FRESHNESS_MODES:
        if mode == known:
            return known
    raise ValueError(f"SEGMUX_FRESHNESS must be one of {', '.join(FRESHNESS_MODES)}, not {value!r}")
