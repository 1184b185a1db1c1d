"""Settings from the environment (``SEGMUX_*``), read once at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping

import msgspec

from core.budget import DEFAULT_EVALUATE_BUDGET_MS
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
    evaluate_budget_ms: int = DEFAULT_EVALUATE_BUDGET_MS
    """CPU time (ms) one evaluate request may spend evaluating before it is refused (a 4xx in
    the dialect's format: the cost comes from its conditions and contexts); core.budget."""
    freshness: Freshness = "notify"
    """How caches learn of other processes' writes (core.store.revisions): ``notify`` trusts
    what LISTEN/NOTIFY has not announced as changed; ``strict`` reads the tenant's revision
    before every cached answer. PostgreSQL only; SQLite is always strict."""

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
            evaluate_budget_ms=_positive("EVALUATE_BUDGET_MS",
                                         get("EVALUATE_BUDGET_MS", str(d.evaluate_budget_ms))),
        )


def _positive(name: str, value: str) -> int:
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or int(text) == 0:
        raise ValueError(f"SEGMUX_{name} must be a positive integer, not {value!r}")
    return int(text)


def _freshness(value: str) -> Freshness:
    mode = value.strip().lower()
    for known in FRESHNESS_MODES:
        if mode == known:
            return known
    raise ValueError(f"SEGMUX_FRESHNESS must be one of {', '.join(FRESHNESS_MODES)}, not {value!r}")
