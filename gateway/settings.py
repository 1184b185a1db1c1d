"""Settings from the environment (``SEGMUX_*``), read once at start-up.

Each variable is read by one small function that checks it and says, when it is wrong, what
is wrong and how to fix it (:class:`SettingError`); ``segmux`` prints that as one line."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from typing import Literal
from urllib.parse import urlsplit

import msgspec

from core.budget import DEFAULT_EVALUATE_BUDGET_MS
from core.store.limits import DEFAULT_POOL_SIZE, StoreLimits
from core.store.revisions import FRESHNESS_MODES, Freshness

LogFormat = Literal["json", "console"]
LOG_FORMATS: tuple[LogFormat, ...] = ("json", "console")
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
ADMIN_TOKEN_MIN = 32
"""Shortest ``SEGMUX_ADMIN_TOKEN`` accepted: it is a secret that opens every API of a tenant."""
DATABASE_SCHEMES = ("sqlite", "postgresql", "postgres")


class SettingError(ValueError):
    """A setting with a value segmux cannot use: ``what`` is wrong, ``fix`` how to fix it."""

    def __init__(self, what: str, fix: str) -> None:
        super().__init__(f"{what} ({fix})")
        self.what = what
        self.fix = fix


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    database_url: str = "sqlite:///./segmux.db"
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    log_level: str = "info"
    log_format: LogFormat = "json"
    """``json``: every line ``segmux serve`` writes is one JSON object; ``console``: for humans."""
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
    resolve_token_key: str = ""
    """``SEGMUX_RESOLVE_TOKEN_KEY``: the secret Confidence resolve tokens are signed with, the
    same in every process so any process's ``:apply`` takes any process's token. Empty: a
    random key per process (a token is then applied only where it was issued)."""
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
    cors_origins: tuple[str, ...] = ("*",)
    """``SEGMUX_CORS_ORIGINS``: the web origins whose pages may call the Unleash frontend API
    and OFREP from a browser (comma-separated ``https://app.example.com``), or ``*`` for any
    page (the default, as Unleash's ``UNLEASH_FRONTEND_API_ORIGINS``: frontend and OFREP tokens
    are public and these APIs only read; docs/dialects/unleash.md, docs/dialects/ofrep.md). No
    other API answers a browser's cross-origin request."""

    # --- database time and its sharing between tenants (core.store.limits) ---------------
    statement_timeout_ms: int = 5000
    """``SEGMUX_STATEMENT_TIMEOUT_MS``: the longest one database statement of a request may
    run (0: unbounded). A members query cut off is the condition's fault: a 400 saying so."""
    count_timeout_ms: int = 60_000
    """``SEGMUX_COUNT_TIMEOUT_MS``: the longest the count of a members page's total may run
    when it does not fit in the statement timeout (PostgreSQL): it goes on outside the request,
    whose page is answered 503 + Retry-After until the total exists; past this, the condition's
    400 (0: unbounded)."""
    metrics: str = "public"
    """``SEGMUX_METRICS``: who may read ``/metrics`` (``gateway.metrics``): ``off`` (not
    served), ``public`` (anyone: the labels hold no tenant's data; SDK names are folded) or a
    secret of at least 32 characters that scrapers send as ``Authorization: Bearer``."""
    tenant_db_concurrency: int = DEFAULT_POOL_SIZE // 2
    """``SEGMUX_TENANT_DB_CONCURRENCY``: store operations one tenant may run at once (0:
    unbounded); below the pool's size, so other tenants always find a connection."""

    def store_limits(self) -> StoreLimits:
        return StoreLimits(
            statement_timeout_ms=self.statement_timeout_ms,
            count_timeout_ms=self.count_timeout_ms,
            tenant_concurrency=self.tenant_db_concurrency,
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        d = cls()

        def get(name: str, default: object) -> str:
            return env.get(f"SEGMUX_{name}", str(default))

        return cls(
            database_url=database_url(get("DATABASE_URL", d.database_url), "SEGMUX_DATABASE_URL"),
            host=get("HOST", d.host),
            port=port(get("PORT", d.port), "SEGMUX_PORT"),
            workers=workers(get("WORKERS", d.workers), "SEGMUX_WORKERS"),
            log_level=_log_level(get("LOG_LEVEL", d.log_level)),
            log_format=_log_format(get("LOG_FORMAT", d.log_format)),
            admin_token=_admin_token(env.get("SEGMUX_ADMIN_TOKEN") or None),
            body_limit=_whole(get("BODY_LIMIT", d.body_limit), "SEGMUX_BODY_LIMIT", least=1),
            trust_proxy=get("TRUST_PROXY", "").lower() in ("1", "true", "yes"),
            segment_limit=_whole(
                get("SEGMENT_LIMIT", d.segment_limit), "SEGMUX_SEGMENT_LIMIT", least=0
            ),
            freshness=_freshness(get("FRESHNESS", d.freshness)),
            resolve_token_key=env.get("SEGMUX_RESOLVE_TOKEN_KEY", ""),
            # The HTTP edge (the block at the end of this module).
            public_url=public_url(env.get("SEGMUX_PUBLIC_URL", "")),
            forwarded_allow_ips=forwarded_allow_ips(env.get("SEGMUX_FORWARDED_ALLOW_IPS", "")),
            header_timeout=header_timeout(env),
            max_connections=max_connections(env),
            cors_origins=cors_origins(env.get("SEGMUX_CORS_ORIGINS")),
            evaluate_budget_ms=_whole(
                get("EVALUATE_BUDGET_MS", d.evaluate_budget_ms),
                "SEGMUX_EVALUATE_BUDGET_MS",
                least=1,
            ),
            # Database time and its sharing between tenants (core.store.limits); 0 = unbounded.
            statement_timeout_ms=_whole(
                get("STATEMENT_TIMEOUT_MS", d.statement_timeout_ms),
                "SEGMUX_STATEMENT_TIMEOUT_MS",
                least=0,
            ),
            count_timeout_ms=_whole(
                get("COUNT_TIMEOUT_MS", d.count_timeout_ms), "SEGMUX_COUNT_TIMEOUT_MS", least=0
            ),
            tenant_db_concurrency=_whole(
                get("TENANT_DB_CONCURRENCY", d.tenant_db_concurrency),
                "SEGMUX_TENANT_DB_CONCURRENCY",
                least=0,
            ),
            metrics=metrics(get("METRICS", d.metrics)),
        )


# --- one checker per setting: each names the variable (or flag) it read -----------------------


def _whole(value: str, source: str, *, least: int, most: int | None = None) -> int:
    try:
        number = int(value.strip())
    except ValueError:
        number = None
    if number is None or number < least or (most is not None and number > most):
        span = f"from {least} to {most}" if most is not None else f"of at least {least}"
        raise SettingError(
            f"{source} must be a whole number {span}, not {value!r}",
            f"set {source} to such a number",
        )
    return number


def port(value: str, source: str) -> int:
    """A TCP port from ``source`` (``SEGMUX_PORT`` or ``--port``)."""
    return _whole(value, source, least=1, most=65535)


def workers(value: str, source: str) -> int:
    """How many ``segmux serve`` processes, from ``source`` (``SEGMUX_WORKERS``/``--workers``)."""
    return _whole(value, source, least=1)


def database_url(value: str, source: str) -> str:
    scheme = urlsplit(value).scheme
    if scheme not in DATABASE_SCHEMES:
        raise SettingError(
            f"unknown database URL scheme {scheme!r} in {source}",
            "use sqlite:///path.db or postgresql://user@host:5432/db",
        )
    return value


METRICS_MODES = ("off", "public")


def metrics(value: str) -> str:
    """``SEGMUX_METRICS``: ``off``, ``public``, or a secret a scraper sends."""
    value = value.strip()
    if value.lower() in METRICS_MODES:
        return value.lower()
    if len(value) < ADMIN_TOKEN_MIN:
        raise SettingError(
            f"SEGMUX_METRICS is neither off, public nor a secret of at least {ADMIN_TOKEN_MIN} "
            f"characters (it has {len(value)})",
            "set it to off, public, or a long random secret, e.g. $(openssl rand -hex 32)",
        )
    return value


def _admin_token(value: str | None) -> str | None:
    if value is not None and len(value) < ADMIN_TOKEN_MIN:
        raise SettingError(
            f"SEGMUX_ADMIN_TOKEN is {len(value)} characters; a secret needs at least "
            f"{ADMIN_TOKEN_MIN}",
            'make one with: python3 -c \'import secrets; print("smx_" + '
            "secrets.token_urlsafe(32))'",
        )
    return value


def _log_level(value: str) -> str:
    level = value.strip().lower()
    if level not in LOG_LEVELS:
        raise SettingError(
            f"SEGMUX_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {value!r}",
            "set SEGMUX_LOG_LEVEL to one of them",
        )
    return level


def _log_format(value: str) -> LogFormat:
    mode = value.strip().lower()
    for known in LOG_FORMATS:
        if mode == known:
            return known
    raise SettingError(
        f"SEGMUX_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, not {value!r}",
        "set SEGMUX_LOG_FORMAT to one of them",
    )


def _freshness(value: str) -> Freshness:
    mode = value.strip().lower()
    for known in FRESHNESS_MODES:
        if mode == known:
            return known
    raise SettingError(
        f"SEGMUX_FRESHNESS must be one of {', '.join(FRESHNESS_MODES)}, not {value!r}",
        "set SEGMUX_FRESHNESS to one of them",
    )


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
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.query
        or parts.fragment
        or parts.username
        or parts.password
    ):
        raise SettingError(
            f"SEGMUX_PUBLIC_URL must be http(s)://host[:port][/prefix], not {value!r}",
            "the URL clients use to reach segmux, e.g. https://segments.example.com",
        )
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
            raise SettingError(
                f"SEGMUX_FORWARDED_ALLOW_IPS: {entry!r} is not an IP address or network",
                "list your proxies' addresses or networks, comma-separated, or *",
            ) from None
    return entries


def header_timeout(env: Mapping[str, str] | None = None) -> float:
    """``SEGMUX_HEADER_TIMEOUT`` (seconds), read on its own by each serving process's
    connections (``gateway.slow_clients``)."""
    return _positive(os.environ if env is None else env, "HEADER_TIMEOUT", 10.0)


_DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*")


def cors_origins(value: str | None) -> tuple[str, ...]:
    """``*`` (unset: the default), or comma-separated origins, each exactly as a browser sends
    it in ``Origin``: ``http(s)://host[:port]``, lower case, no path, no default port. A value
    the browser could never send would match nothing and silently lock every page out."""
    if value is None:
        return ("*",)
    entries = [e.strip() for e in value.split(",")]
    if entries == ["*"]:
        return ("*",)
    fix = "list origins as a browser sends them, e.g. https://app.example.com, or * for any"
    if not any(entries):
        raise SettingError("SEGMUX_CORS_ORIGINS is empty", f"unset it for the default *, or {fix}")
    for entry in entries:
        if entry == "*":
            raise SettingError(
                "SEGMUX_CORS_ORIGINS mixes * with origins", "use * alone or only origins"
            )
        if _origin(entry) != entry:
            raise SettingError(f"SEGMUX_CORS_ORIGINS: {entry!r} is not a web origin", fix)
    return tuple(dict.fromkeys(entries))


def _origin(text: str) -> str | None:
    """The origin a browser would send for ``text`` (None if it has none)."""
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname
    if parts.scheme not in _DEFAULT_PORTS or not host:
        return None
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return None
        host = f"[{host}]"
    elif not _HOST_NAME.fullmatch(host):  # no wildcard, space or other character a host lacks
        return None
    if port is None or port == _DEFAULT_PORTS[parts.scheme]:
        return f"{parts.scheme}://{host}"
    return f"{parts.scheme}://{host}:{port}"


def max_connections(env: Mapping[str, str]) -> int:
    raw = env.get("SEGMUX_MAX_CONNECTIONS", "").strip()
    if not raw:
        return 1000
    if not raw.isdigit() or int(raw) < 1:
        raise SettingError(
            f"SEGMUX_MAX_CONNECTIONS must be a positive integer, not {raw!r}",
            "unset it for the default, 1000",
        )
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
        raise SettingError(
            f"SEGMUX_{name} must be a positive number, not {raw!r}",
            f"unset it for the default, {default:g}",
        )
    return number


def seconds(value: str, source: str) -> float:
    """A number of seconds ≥ 0 (a flag or a variable named ``source``)."""
    try:
        amount = float(value)
    except ValueError:
        amount = -1.0
    if not amount >= 0:  # also NaN
        raise SettingError(
            f"{source} must be a number of seconds ≥ 0, not {value!r}",
            f"set {source} to such a number",
        )
    return amount
