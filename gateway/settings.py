"""Settings from the environment (``SEGMUX_*``), read once at start-up."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from urllib.parse import urlsplit

import msgspec

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

    # --- The HTTP edge: links, proxies, slow clients (docs/settings-security.md) ------------
    public_url: str | None = None
    """``SEGMUX_PUBLIC_URL``: scheme://host[:port][/prefix] of every link and location segmux
    writes. Unset: the address the client connected to (never the ``Host`` header)."""
    forwarded_allow_ips: tuple[str, ...] = ()
    """``SEGMUX_FORWARDED_ALLOW_IPS``: peers (addresses, networks, or ``*``) whose
    ``X-Forwarded-For/-Proto/-Host`` are believed. Empty: no peer's are."""
    header_timeout: float = 10.0
    """``SEGMUX_HEADER_TIMEOUT``: seconds a client has to send a request's headers."""
    max_connections: int = 1000
    """``SEGMUX_MAX_CONNECTIONS``: open connections (and requests in flight) per process
    beyond which new requests are answered 503 at once."""

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
            # The HTTP edge (the block at the end of this module).
            public_url=public_url(env.get("SEGMUX_PUBLIC_URL", "")),
            forwarded_allow_ips=forwarded_allow_ips(env.get("SEGMUX_FORWARDED_ALLOW_IPS", "")),
            header_timeout=header_timeout(env),
            max_connections=max_connections(env),
        )


def _freshness(value: str) -> Freshness:
    mode = value.strip().lower()
    for known in FRESHNESS_MODES:
        if mode == known:
            return known
    raise ValueError(f"SEGMUX_FRESHNESS must be one of {', '.join(FRESHNESS_MODES)}, not {value!r}")


# --- The HTTP edge ------------------------------------------------------------------------

LOOPBACK = ("127.0.0.1", "::1")
"""Where ``SEGMUX_TRUST_PROXY=true`` (without ``SEGMUX_FORWARDED_ALLOW_IPS``) believes forwarded
headers from: a reverse proxy on the same host."""


def trusted_proxies(settings: Settings) -> tuple[str, ...]:
    return settings.forwarded_allow_ips or (LOOPBACK if settings.trust_proxy else ())


def public_url(value: str) -> str | None:
    """``http(s)://host[:port][/prefix]`` without a trailing slash, or None when empty."""
    value = value.strip()
    if not value:
        return None
    parts = urlsplit(value)
    if (parts.scheme not in ("http", "https") or not parts.hostname or parts.query
            or parts.fragment or parts.username or parts.password):
        raise ValueError(f"SEGMUX_PUBLIC_URL must be http(s)://host[:port][/prefix], not {value!r}")
    return value.rstrip("/")


def forwarded_allow_ips(value: str) -> tuple[str, ...]:
    """Comma-separated addresses or networks (``10.0.0.0/8``), or ``*`` for any peer."""
    entries = tuple(e.strip() for e in value.split(",") if e.strip())
    for entry in entries:
        if entry == "*":
            continue
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ValueError(
                f"SEGMUX_FORWARDED_ALLOW_IPS: {entry!r} is not an IP address or network"
            ) from None
    return entries


def header_timeout(env: Mapping[str, str] | None = None) -> float:
    """``SEGMUX_HEADER_TIMEOUT`` (seconds), read on its own by each serving process's
    connections (``gateway.slow_clients``)."""
    return _positive(os.environ if env is None else env, "HEADER_TIMEOUT", 10.0)


def max_connections(env: Mapping[str, str]) -> int:
    raw = env.get("SEGMUX_MAX_CONNECTIONS", "").strip()
    if not raw:
        return 1000
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"SEGMUX_MAX_CONNECTIONS must be a positive integer, not {raw!r}")
    return int(raw)


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(f"SEGMUX_{name}")
    if raw is None or not raw.strip():
        return default
    try:
        number = float(raw)
    except ValueError:
        number = -1
    if not number > 0 or number == float("inf"):
        raise ValueError(f"SEGMUX_{name} must be a positive number, not {raw!r}")
    return number
