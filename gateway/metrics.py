"""Prometheus metrics at ``/metrics`` (docs/metrics.md lists each one and what to alert on).

Cheap on a request's path: the gateway's one middleware (``gateway.middleware``) counts each
request in a :class:`Tally` of this process — a few additions, found by one dictionary lookup
(:meth:`Metrics.record`), or by none for a kept answer, which carries its own. Those, and
everything else (caches, the store's pool and errors, revision announcements, SDKs seen),
counted in plain integers where it happens, are copied into prometheus-client's instruments
when ``/metrics`` is read (:meth:`Metrics.refresh`).

Labels never hold a token, a segment name, a user id or a raw path: a request is labelled by
its surface (``dialects.registry``) and its route *template*, computed once per route object;
a path no route takes is ``unmatched``, a method outside HTTP's usual ones ``other``. SDK names
(an Unleash ``appName``, a Confidence client) are a tenant's data: they become labels only
when the endpoint needs a secret (``SEGMUX_METRICS=<secret>``; ``hidden`` when public), at
most :data:`SDK_NAMES_MAX` distinct names per SDK and process, the rest folded into ``other``.

With ``segmux serve --workers N`` (N > 1) the serve command gives every worker one fresh
directory in ``PROMETHEUS_MULTIPROC_DIR`` (``gateway.serve``), prometheus-client's multiprocess
mode: each worker writes its values there, and the worker that answers a scrape adds up all of
them. Each worker copies its plain counts into the files every :data:`REFRESH_SECONDS`.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import os
import platform
import re
import subprocess
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
    multiprocess,
)
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import Scope

from core.store import Store
from dialects.registry import SURFACES, owner_of
from gateway.logging import get_logger
from gateway.welcome import BrowserRoot

_log = get_logger("segmux.metrics")
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
REFRESH_SECONDS = 1.0
"""How often a worker copies its counts into the shared files (multiprocess mode only)."""
SDK_NAMES_MAX = 50
"""Distinct names per SDK kind that get their own label value in one process."""
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
"""Seconds. Kept answers take well under a millisecond, evaluations and writes milliseconds."""
FIRST_BOUND = LATENCY_BUCKETS[0]
UNMATCHED = "unmatched"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_SDK_NAME_RE = re.compile(r"^[A-Za-z0-9._:@/-]{1,64}$")

Label = tuple[str, str]
"""(surface, route template)."""


class Cache(Protocol):
    """What a cache shows the metrics: its size and how its gets went."""

    @property
    def kept_bytes(self) -> int: ...
    @property
    def served(self) -> int: ...
    @property
    def rebuilt(self) -> int: ...
    def __len__(self) -> int: ...


class Sources(Protocol):
    """What the metrics read of the process when scraped (``gateway.services.Services``)."""

    @property
    def store(self) -> Store: ...
    def caches(self) -> Mapping[str, Cache]: ...


class SdkCounts:
    """SDKs seen (``dialects.ports.SdkSightings``): counts per (sdk, name), names bounded."""

    def __init__(self, named: bool) -> None:
        self.named = named
        """False under ``SEGMUX_METRICS=public``: names are a tenant's, every one is folded."""
        self.counts: dict[tuple[str, str], int] = {}
        self._names: dict[str, set[str]] = {}

    def seen(self, sdk: str, name: str) -> None:
        key = (sdk, self._label(sdk, name))
        self.counts[key] = self.counts.get(key, 0) + 1

    def _label(self, sdk: str, name: str) -> str:
        if not self.named:
            return "hidden"
        names = self._names.setdefault(sdk, set())
        if name in names:
            return name
        if len(names) >= SDK_NAMES_MAX or not _SDK_NAME_RE.match(name) or name == "other":
            return "other"
        names.add(name)
        return name


class Tally:
    """One (label, method, status)'s requests since the last refresh: their seconds, and how
    many fell in each latency bucket (their count is the sum). Requests within the first
    bound, all kept answers, are counted apart: an attribute increment costs less than an
    index into the list."""

    __slots__ = ("first", "label", "later", "method", "seconds", "status")

    def __init__(self, label: Label, method: str, status: int) -> None:
        self.label = label
        self.method = method
        self.status = status
        self.seconds = 0.0
        self.first = 0
        """Requests of at most :data:`FIRST_BOUND` seconds."""
        self.later = [0] * (len(LATENCY_BUCKETS) + 1)
        """The others, by the index of their bucket (so index 0 stays 0; the last one is
        +Inf)."""

    def add(self, seconds: float) -> None:
        """Count one request: a kept answer's take well under :data:`FIRST_BOUND`, and one
        comparison places them."""
        self.seconds += seconds
        if seconds <= FIRST_BOUND:
            self.first += 1
        else:
            self.later[bisect_left(LATENCY_BUCKETS, seconds)] += 1

    def reset(self) -> None:
        self.seconds = 0.0
        self.first = 0
        self.later = [0] * (len(LATENCY_BUCKETS) + 1)


class Metrics:
    """The process's instruments and the ``/metrics`` endpoint."""

    def __init__(self, sources: Sources, access: str, sdks: SdkCounts) -> None:
        self.sources = sources
        self.access = access
        self.sdks = sdks
        self.directory = os.environ.get(MULTIPROC_ENV) or None
        r = self.registry = CollectorRegistry(auto_describe=False)
        self.requests = Counter(
            "segmux_http_requests",
            "HTTP requests answered, by surface, route template, method and status.",
            ["surface", "route", "method", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "segmux_http_request_duration_seconds",
            "Time from a request's arrival to the end of its answer.",
            ["surface", "route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.served = Counter(
            "segmux_cache_served",
            "Gets answered from a cache entry still valid (kept answers: requests answered "
            "without routing).",
            ["cache"],
            registry=r,
        )
        self.rebuilt = Counter(
            "segmux_cache_rebuilt",
            "Gets that built their value anew (none kept, or kept at an older revision).",
            ["cache"],
            registry=r,
        )
        self.entries = Gauge(
            "segmux_cache_entries",
            "Entries a cache holds (all processes).",
            ["cache"],
            multiprocess_mode="livesum",
            registry=r,
        )
        self.bytes = Gauge(
            "segmux_cache_bytes",
            "What a cache's entries weigh, in bytes (all processes).",
            ["cache"],
            multiprocess_mode="livesum",
            registry=r,
        )
        self.connections = Gauge(
            "segmux_store_connections",
            "Store connections by state (in_use, idle), all processes.",
            ["state"],
            multiprocess_mode="livesum",
            registry=r,
        )
        self.errors = Counter(
            "segmux_store_errors",
            "Store operations that failed, by kind.",
            ["kind"],
            registry=r,
        )
        self.announcements = Counter(
            "segmux_revision_announcements",
            "Tenant revision announcements (NOTIFY segmux_revisions) received.",
            registry=r,
        )
        self.freshness = Gauge(
            "segmux_freshness_mode",
            "1 for the freshness mode in force (SEGMUX_FRESHNESS; SQLite is always strict).",
            ["mode"],
            multiprocess_mode="livemax",
            registry=r,
        )
        self.listening = Gauge(
            "segmux_revision_listener_up",
            "1 while the LISTEN connection is up, in notify freshness only (so the series is "
            "absent in strict); with several processes the lowest of them.",
            ["freshness"],
            multiprocess_mode="livemin",
            registry=r,
        )
        self.sdk_seen = Counter(
            "segmux_sdk_seen",
            "SDK introductions: Unleash registrations by appName, Confidence resolves by client.",
            ["sdk", "name"],
            registry=r,
        )
        self.build = Gauge(
            "segmux_build_info",
            "Always 1: the running version, commit and Python.",
            ["version", "commit", "python"],
            multiprocess_mode="livemax",
            registry=r,
        )
        self.build.labels(_version(), _commit(), platform.python_version()).set(1)
        if self.directory is None:  # one process: its own figures (none per worker otherwise)
            ProcessCollector(registry=r)
        self._tallies: dict[tuple[Label, str, int], Tally] = {}
        """Requests counted since the last refresh, by (label, method, status): only usual
        methods' keys, so a client inventing methods adds no entries."""
        _check_histogram(self.latency)
        self._labels: dict[int, Label] = {}
        self._routes: list[object] = []  # keeps each labelled route alive, so ids stay unique
        self._mounts: dict[int, str] = {}
        """The app's mounts by id: the surface (or ``gateway``) under each."""
        self._mounted_at: dict[str, str] = {}
        """The same by the mount's path."""
        self._last: dict[tuple[str, object], int] = {}

    # --- the request path ----------------------------------------------------------------

    def know_top_routes(self, routes: Iterable[object]) -> None:
        """The app's own routes (health, specs, the browser's page at ``/``: surface
        ``gateway``) and its mounts (the surfaces', and the UI's, a ``gateway`` one)."""
        prefixes = {s.prefix: s.name for s in SURFACES if s.prefix is not None}
        for route in routes:
            if isinstance(route, Mount):
                self._mounts[id(route)] = self._mounted_at[route.path] = prefixes.get(
                    route.path, "gateway"
                )
            elif isinstance(route, Route):
                self._labels[id(route)] = ("gateway", route.path)
            elif isinstance(route, BrowserRoot):
                self._labels[id(route)] = ("gateway", "/")
        self._routes.extend(routes)

    def label(self, scope: Scope) -> Label:
        """The request's (surface, route template): never its path."""
        route = scope.get("route")
        found = self._labels.get(id(route)) if route is not None else None
        if found is not None:
            return found
        return self._new_label(scope, route)

    def _new_label(self, scope: Scope, route: Any) -> Label:
        """The first request a route takes (then kept by the route's id), or one no route
        took: the last route Starlette's routers left in the scope tells which."""
        mounted = self._mounts.get(id(route))
        if mounted is not None:  # a mount whose own routes took nothing
            return mounted, UNMATCHED
        if not isinstance(route, Route):  # no route at all, or HAL's root that found none
            owner = owner_of(scope["path"])
            if owner is not None:
                return owner.name, UNMATCHED
            return ("hal" if route is not None else "gateway"), UNMATCHED
        # A route inside a mount: what the mount matched is the scope's root path, and the
        # app's mounts have no parameters, so that is the mount's template too.
        root = scope.get("root_path", "")[len(scope.get("app_root_path", "")) :]
        surface = self._mounted_at.get(root)
        if surface is not None:
            label: Label = (surface, root + route.path)
        elif not root:
            label = ("hal", route.path)  # the root surface's routes sit under no mount
        else:  # under a mount that is not the app's own (none today): no template to trust
            owner = owner_of(scope["path"])
            return (owner.name if owner else "gateway"), UNMATCHED
        self._labels[id(route)] = label
        self._routes.append(route)
        return label

    def record(self, label: Label, method: str, status: int, seconds: float) -> None:
        """Count one answered request: a few additions to this process's own
        :class:`Tally`, copied into the instruments by :meth:`refresh` (a counter increment
        and a histogram observation of prometheus-client cost ~5 µs together, some 7% of a
        kept answer)."""
        tally = self._tallies.get((label, method, status)) or self.tally(label, method, status)
        tally.add(seconds)

    def tally(self, label: Label, method: str, status: int) -> Tally:
        """Where the requests of ``label``, ``method`` and ``status`` are counted: the same
        object for the process's life (a kept answer carries its own, and the middleware
        counts the requests it answers there without a lookup)."""
        if method not in _METHODS:
            method = "other"  # any spelling of an unusual method: one key, one label value
        key = (label, method, status)
        tally = self._tallies.get(key)
        if tally is None:
            tally = self._tallies[key] = Tally(label, method, status)
        return tally

    def _flush_requests(self) -> None:
        for tally in list(self._tallies.values()):
            count = tally.first + sum(tally.later)
            if not count:
                continue
            surface, route = tally.label
            self.requests.labels(surface, route, tally.method, str(tally.status)).inc(count)
            # What Histogram.observe does, for many observations at once: its sum, and the
            # first bucket whose bound holds the value (exposition makes them cumulative).
            child = self.latency.labels(surface, route, tally.method)
            child._sum.inc(tally.seconds)
            buckets = child._buckets
            if tally.first:
                buckets[0].inc(tally.first)
            for i, n in enumerate(tally.later):
                if n:
                    buckets[i].inc(n)
            tally.reset()

    # --- what is read when scraped -------------------------------------------------------

    def refresh(self) -> None:
        """Copy the plain counts of requests, caches, store and SDKs into the instruments."""
        self._flush_requests()
        try:
            store = self.sources.store
        except RuntimeError:  # the store is not open yet
            return
        for name, cache in self.sources.caches().items():
            self.entries.labels(name).set(len(cache))
            self.bytes.labels(name).set(cache.kept_bytes)
            self._add(self.served.labels(name), ("served", name), cache.served)
            self._add(self.rebuilt.labels(name), ("rebuilt", name), cache.rebuilt)
        in_use, idle = store.connections()
        self.connections.labels("in_use").set(in_use)
        self.connections.labels("idle").set(idle)
        counts = store.counts
        for kind, n in list(counts.errors.items()):
            self._add(self.errors.labels(kind), ("error", kind), n)
        self._add(self.announcements, ("announcements", ""), counts.announcements)
        # In force, not asked for: SQLite reads every revision whatever SEGMUX_FRESHNESS says.
        notify = store.freshness == "notify" and counts.listening is not None
        self.freshness.labels("notify" if notify else "strict").set(1)
        if notify:
            self.listening.labels("notify").set(1 if counts.listening else 0)
        for (sdk, name), n in list(self.sdks.counts.items()):
            self._add(self.sdk_seen.labels(sdk, name), ("sdk", (sdk, name)), n)

    def _add(self, counter: Any, key: tuple[str, object], total: int) -> None:
        last = self._last.get(key, 0)
        if total > last:
            counter.inc(total - last)
            self._last[key] = total

    async def refresh_forever(self) -> None:
        """Multiprocess mode: keep this worker's share of the files current for whichever
        worker answers the next scrape."""
        while True:
            try:
                self.refresh()
            except Exception:  # never let one bad read stop the worker's figures for good
                _log.exception("metrics refresh failed")
            await asyncio.sleep(REFRESH_SECONDS)

    def exposition(self) -> bytes:
        self.refresh()
        if self.directory is None:
            return generate_latest(self.registry)
        _forget_dead_workers(self.directory)
        merged = CollectorRegistry(auto_describe=False)
        multiprocess.MultiProcessCollector(merged, path=self.directory)  # type: ignore[no-untyped-call]
        return generate_latest(merged)

    async def endpoint(self, request: Request) -> Response:
        if self.access != "public":
            sent = request.headers.get("authorization", "")
            scheme, _, secret = sent.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                secret.strip().encode(), self.access.encode()
            ):
                return JSONResponse(
                    {"error": "metrics need the SEGMUX_METRICS secret as a Bearer token"},
                    401,
                    headers={"WWW-Authenticate": 'Bearer realm="segmux metrics"'},
                )
        return Response(self.exposition(), media_type=CONTENT_TYPE_LATEST)


def _check_histogram(histogram: Histogram) -> None:
    """:meth:`Metrics.record` adds to a histogram child's sum and buckets directly (attributes
    prometheus-client has kept since its first histograms): refuse to start on a version that
    changed them rather than report wrong latencies. The child looked at is a real one (the
    scrapes' own), so no label set is made up for the check."""
    child = histogram.labels("gateway", "/metrics", "GET")
    parts = [getattr(child, "_sum", None), *getattr(child, "_buckets", [])]
    if len(parts) != len(LATENCY_BUCKETS) + 2 or not all(hasattr(p, "inc") for p in parts):
        raise RuntimeError("this prometheus-client's histograms are not what gateway.metrics uses")


async def metrics_off(request: Request) -> Response:
    return JSONResponse({"error": "metrics are off (SEGMUX_METRICS=off)"}, 404)


def _forget_dead_workers(directory: str) -> None:
    """Drop the live gauges of workers that died (uvicorn restarts a worker that crashed, and
    offers no hook for it): a dead worker's cache sizes must not count."""
    pids: set[int] = set()
    for path in Path(directory).glob("gauge_live*_*.db"):
        digits = path.stem.rsplit("_", 1)[-1]
        if digits.isdigit():
            pids.add(int(digits))
    for pid in pids:
        if not _alive(pid):
            multiprocess.mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@functools.cache
def _version() -> str:
    try:
        return metadata.version("segmux")
    except metadata.PackageNotFoundError:
        return "unknown"


@functools.cache
def _commit() -> str:
    """``SEGMUX_BUILD_COMMIT`` if set (an image built without ``.git``), else the checkout's
    commit when segmux runs from one, else ``unknown``; asked once per process (an app is
    built per test)."""
    named = os.environ.get("SEGMUX_BUILD_COMMIT", "").strip()
    if named:
        return named[:40]
    here = Path(__file__).resolve().parent
    try:
        done = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            timeout=2,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    out = done.stdout.strip()
    return out if done.returncode == 0 and re.fullmatch(r"[0-9a-f]{7,40}", out) else "unknown"


def build_metrics(
    sources: Sources, access: str, sdks: SdkCounts
) -> tuple[Metrics | None, Callable[[Request], Any]]:
    """The instruments (None when off) and the ``/metrics`` endpoint for ``access``."""
    if access == "off":
        return None, metrics_off
    metrics = Metrics(sources, access, sdks)
    return metrics, metrics.endpoint
