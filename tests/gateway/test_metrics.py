"""``/metrics`` (``gateway.metrics``) through the public HTTP surface, on both backends: the
exposition parses, requests are labelled by route template (a fuzz of random paths makes no new
label values), caches, store and SDKs are counted, and ``SEGMUX_METRICS`` decides who reads it.
"""

from __future__ import annotations

import asyncio
import inspect
import random
import string
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.routing import Mount, Route

from core.store import Store, open_store
from gateway.app import create_app
from gateway.metrics import SDK_NAMES_MAX, UNMATCHED
from gateway.settings import SettingError, Settings
from tests.conftest import make_token
from tests.dialects.confidence.resolve_helpers import make_client, resolve

SECRET = "metrics-secret-0123456789abcdef0123456789"
REGISTER = {
    "appName": "checkout",
    "instanceId": "i",
    "sdkVersion": "unleash-client-python:6.9.1",
    "strategies": ["default"],
    "started": "2024-01-01T00:00:00Z",
    "interval": 15,
}

Samples = list[tuple[str, dict[str, str], float]]


def samples(text: str) -> Samples:
    return [
        (s.name, dict(s.labels), s.value)
        for family in text_string_to_metric_families(text)
        for s in family.samples
    ]


def value(found: Samples, metric: str, /, **labels: str) -> float:
    """The sum of the samples of ``metric`` whose labels include ``labels``."""
    return sum(
        v for n, ls, v in found if n == metric and all(ls.get(k) == x for k, x in labels.items())
    )


@pytest.fixture
async def gw(store: Store, store_url: str, request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """A client of an app with ``SEGMUX_METRICS`` as the test's ``access`` param says."""
    access = getattr(request, "param", "public")
    app = create_app(Settings(database_url=store_url, metrics=access), store=store)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://segmux.test") as c:
        yield c


async def scrape(client: httpx.AsyncClient, secret: str | None = None) -> Samples:
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    r = await client.get("/metrics", headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=")
    return samples(r.text)


async def test_requests_by_surface_route_method_status(
    gw: httpx.AsyncClient, store: Store, backend: str
) -> None:
    token = await make_token(store, "tenant-a")
    auth = {"Authorization": f"Bearer {token}"}
    for _ in range(3):
        assert (await gw.get("/v2.3/data/segments", headers=auth)).status_code == 200
    assert (await gw.get("/v2.3/data/segments")).status_code == 401
    # The API has no GET of one segment: a 405, labelled by the template that matched.
    assert (await gw.get("/v2.3/data/segments/no-such-id", headers=auth)).status_code == 405
    found = await scrape(gw)
    route = {"surface": "v23", "route": "/v2.3/data/segments", "method": "GET"}
    assert value(found, "segmux_http_requests_total", status="200", **route) == 3
    assert value(found, "segmux_http_requests_total", status="401", **route) == 1
    assert value(found, "segmux_http_request_duration_seconds_count", **route) == 4
    one = {"surface": "v23", "route": "/v2.3/data/segments/{segment_id}", "method": "GET"}
    assert value(found, "segmux_http_requests_total", status="405", **one) == 1
    assert "no-such-id" not in str(found)
    # Two of the three 200s were kept answers, answered without routing: same labels.
    assert value(found, "segmux_cache_served_total", cache="answers") == 2
    assert value(found, "segmux_cache_rebuilt_total", cache="answers") == 1
    assert value(found, "segmux_cache_entries", cache="answers") == 1
    assert value(found, "segmux_cache_bytes", cache="answers") > 0
    assert value(found, "segmux_store_connections", state="idle") >= 1
    mode = "notify" if backend == "postgres" else "strict"  # SQLite is always strict
    assert value(found, "segmux_freshness_mode", mode=mode) == 1
    [build] = [ls for n, ls, _ in found if n == "segmux_build_info"]
    assert build["version"] and build["python"].count(".") == 2 and build["commit"]
    assert buckets(found, route)[-1] == (float("inf"), 4)
    # Counted again from where the last scrape left them, kept answers and routed ones alike.
    for _ in range(2):
        assert (await gw.get("/v2.3/data/segments", headers=auth)).status_code == 200
    assert (await gw.get("/v2.3/data/segments")).status_code == 401
    found = await scrape(gw)
    assert value(found, "segmux_http_requests_total", status="200", **route) == 5
    assert value(found, "segmux_http_requests_total", status="401", **route) == 2
    assert value(found, "segmux_http_request_duration_seconds_count", **route) == 7
    assert buckets(found, route)[-1] == (float("inf"), 7)
    assert value(found, "segmux_cache_served_total", cache="answers") == 4


def buckets(found: Samples, labels: dict[str, str]) -> list[tuple[float, float]]:
    """A latency histogram's (bound, cumulative count) pairs, checked to be cumulative and to
    add up to a sum of seconds that is more than none."""
    name = "segmux_http_request_duration_seconds"
    pairs = sorted(
        (float(ls["le"]), v)
        for n, ls, v in found
        if n == f"{name}_bucket" and all(ls.get(k) == x for k, x in labels.items())
    )
    assert [v for _, v in pairs] == sorted(v for _, v in pairs), pairs
    assert value(found, f"{name}_sum", **labels) > 0
    return pairs


async def test_the_gateway_s_own_routes(gw: httpx.AsyncClient) -> None:
    assert (await gw.get("/", headers={"Accept": "text/html"})).status_code == 200
    assert (await gw.get("/healthz")).status_code == 200
    assert (await gw.get("/segmux/openapi/v23.json")).status_code == 200
    await gw.get("/metrics")
    found = await scrape(gw)
    for route in ("/", "/healthz", "/segmux/openapi/{name}.json", "/metrics"):
        assert value(found, "segmux_http_requests_total", surface="gateway", route=route) == 1

    assert (await gw.get("/no/such/thing")).status_code == 404
    found = await scrape(gw)
    unmatched = value(found, "segmux_http_requests_total", route=UNMATCHED, status="404")
    assert unmatched == 1

    assert (await gw.get("/segmux/ui/")).status_code == 200
    assert (await gw.get("/segmux/ui/no-such-asset.js")).status_code == 404
    found = await scrape(gw)
    ui = {"surface": "gateway", "route": "/segmux/ui/"}
    assert value(found, "segmux_http_requests_total", status="200", **ui) == 1
    asset = {"surface": "gateway", "route": "/segmux/ui/{name}"}
    assert value(found, "segmux_http_requests_total", status="404", **asset) == 1


async def test_the_frontend_poll(gw: httpx.AsyncClient, store: Store) -> None:
    """``GET /api/frontend`` is answered without Starlette's routing (``dialects.unleash.
    frontend.Poll``): still labelled by its route."""
    front = await make_token(store, "tenant-a", scope="frontend:development", name="web")
    for _ in range(3):
        r = await gw.get("/api/frontend", params={"userId": "u1"}, headers={"Authorization": front})
        assert r.status_code == 200, r.text
    assert (await gw.get("/api/frontend")).status_code == 401  # the full pipeline's answer
    found = await scrape(gw)
    poll = {"surface": "unleash", "route": "/api/frontend", "method": "GET"}
    assert value(found, "segmux_http_requests_total", status="200", **poll) == 3
    assert value(found, "segmux_http_requests_total", status="401", **poll) == 1


async def test_no_token_segment_or_user_in_labels(gw: httpx.AsyncClient, store: Store) -> None:
    token = await make_token(store, "tenant-a")
    secret_segment = "segment-name-nobody-should-see"
    r = await gw.post(
        "/api/admin/segments",
        json={"name": secret_segment, "constraints": []},
        headers={"Authorization": token},
    )
    assert r.status_code == 201, r.text
    await gw.get("/api/frontend", params={"userId": "user-nobody-should-see"})
    text = (await gw.get("/metrics")).text
    for private in (token, secret_segment, "user-nobody-should-see", "tenant-a"):
        assert private not in text


def templates(app: Any, prefix: str = "", seen: set[int] | None = None) -> set[str]:
    """Every route template the app has, with its mounts' prefixes, found by walking every
    ASGI app each one wraps (middleware, a surface's dispatchers), and ``/`` for the page a
    browser gets."""
    seen = set() if seen is None else seen
    found = {"/"}
    if id(app) in seen:
        return found
    seen.add(id(app))
    routes = getattr(app, "routes", None)
    if routes is not None:
        for route in routes:
            if isinstance(route, Route):
                found.add(prefix + route.path)
            elif isinstance(route, Mount):
                found.add(prefix + route.path + "/{path}")
                found |= templates(route.app, prefix + route.path, seen)
            elif getattr(route, "app", None) is not None:
                found |= templates(route.app, prefix, seen)
        return found
    for inner in vars(app).values() if hasattr(app, "__dict__") else ():
        if callable(inner) and hasattr(inner, "__dict__") and not inspect.isroutine(inner):
            found |= templates(inner, prefix, seen)
    return found


async def test_random_paths_make_no_new_label_values(store: Store, store_url: str) -> None:
    """Whatever paths and methods clients send, labels stay route templates (or
    ``unmatched``) and usual methods (or ``other``): the series cannot grow with them."""
    app = create_app(Settings(database_url=store_url), store=store)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://segmux.test"
    ) as gw:
        await _random_paths(gw, app)


async def _random_paths(gw: httpx.AsyncClient, app: Any) -> None:
    rng = random.Random(22)
    marker = "zq" + "".join(rng.choices(string.ascii_lowercase, k=8))
    prefixes = ["", "/v2.3", "/api", "/api/admin", "/v1", "/segmux/v1", "/data/core/ups", "/ims"]
    prefixes += ["/prod", "/segmux/ui", "/metrics", "/healthz", "/segmux/openapi"]
    methods = ["GET", "POST", "DELETE", "PUT", "PROPFIND", "BREW", f"X{marker.upper()}"]
    for i in range(300):
        depth = rng.randint(0, 4)
        parts = [rng.choice([marker, f"{marker}{i}", "segments", "..", "%2F", "{id}"])]
        parts += ["".join(rng.choices(string.ascii_letters + "-._~", k=5)) for _ in range(depth)]
        path = rng.choice(prefixes) + "/" + "/".join(parts)
        r = await gw.request(rng.choice(methods), path)
        assert r.status_code < 500, (path, r.status_code, r.text)
    found = await scrape(gw)
    labels = [ls for n, ls, _ in found if n == "segmux_http_requests_total"]
    routes = {ls["route"] for ls in labels}
    assert not any(marker in v for ls in labels for v in ls.values())
    assert {ls["method"] for ls in labels} <= {"GET", "POST", "DELETE", "PUT", "other"}
    # Templates only: each one a route the app has (or ``unmatched``).
    assert routes <= {*templates(app), UNMATCHED}, sorted(routes)
    assert {ls["surface"] for ls in labels} <= {
        "v23",
        "unleash",
        "segmux",
        "adobe",
        "ims",
        "confidence",
        "hal",
        "gateway",
    }
    assert len(routes) < 60, sorted(routes)  # ~300 distinct paths, a few dozen routes


@pytest.mark.parametrize("gw", ["off"], indirect=True)
async def test_off_serves_nothing(gw: httpx.AsyncClient) -> None:
    r = await gw.get("/metrics")
    assert r.status_code == 404
    assert r.json() == {"error": "metrics are off (SEGMUX_METRICS=off)"}


@pytest.mark.parametrize("gw", [SECRET], indirect=True)
async def test_a_secret_is_asked_for(gw: httpx.AsyncClient, store: Store) -> None:
    admin = await make_token(store, "tenant-a")
    for headers in ({}, {"Authorization": f"Bearer {admin}"}, {"Authorization": SECRET}):
        r = await gw.get("/metrics", headers=headers)
        assert r.status_code == 401, headers
        assert r.headers["www-authenticate"] == 'Bearer realm="segmux metrics"'
        assert "SEGMUX_METRICS" in r.json()["error"]
    assert value(await scrape(gw, SECRET), "segmux_build_info") == 1


def test_the_setting() -> None:
    assert Settings.from_env({}).metrics == "public"
    assert Settings.from_env({"SEGMUX_METRICS": "OFF"}).metrics == "off"
    assert Settings.from_env({"SEGMUX_METRICS": SECRET}).metrics == SECRET
    with pytest.raises(SettingError, match="SEGMUX_METRICS is neither off, public nor a secret"):
        Settings.from_env({"SEGMUX_METRICS": "short"})


async def _register(gw: httpx.AsyncClient, token: str, app_name: str) -> None:
    r = await gw.post(
        "/api/client/register",
        json={**REGISTER, "appName": app_name},
        headers={"Authorization": token},
    )
    assert r.status_code == 202, r.text


@pytest.mark.parametrize("gw", [SECRET], indirect=True)
async def test_sdks_seen_by_name_bounded(gw: httpx.AsyncClient, store: Store) -> None:
    sdk = await make_token(store, "tenant-a", scope="client:development", name="sdk")
    for _ in range(2):
        await _register(gw, sdk, "checkout")
    for i in range(SDK_NAMES_MAX + 10):
        await _register(gw, sdk, f"app-{i}")
    admin = await make_token(store, "tenant-a")
    client_name, secret = await make_client(gw, admin)
    assert (await resolve(gw, secret, {}, [])).status_code == 200
    found = await scrape(gw, SECRET)
    assert value(found, "segmux_sdk_seen_total", sdk="unleash", name="checkout") == 2
    names = {
        ls["name"] for n, ls, _ in found if n == "segmux_sdk_seen_total" and ls["sdk"] == "unleash"
    }
    assert len(names) == SDK_NAMES_MAX + 1  # the first 50 names and "other"
    assert value(found, "segmux_sdk_seen_total", sdk="unleash", name="other") == 11
    confidence = client_name.removeprefix("clients/")
    assert value(found, "segmux_sdk_seen_total", sdk="confidence", name=confidence) == 1
    assert secret not in str(found)


async def test_public_metrics_fold_sdk_names(gw: httpx.AsyncClient, store: Store) -> None:
    sdk = await make_token(store, "tenant-a", scope="client:development", name="sdk")
    await _register(gw, sdk, "checkout")
    found = await scrape(gw)
    assert value(found, "segmux_sdk_seen_total", sdk="unleash", name="hidden") == 1
    assert "checkout" not in str(found)


async def test_store_errors_by_kind(gw: httpx.AsyncClient, store: Store) -> None:
    """A statement the database refuses is counted by the kind of error it became (SQLite's
    engine errors become ``unavailable``; PostgreSQL's unmapped ones stay ``driver``). Segmux
    sends no such statement of its own, so the test sends one on the store's read path."""
    with pytest.raises(Exception):  # noqa: B017,PT011  (each backend raises its own)
        async with store._read() as tx:  # type: ignore[attr-defined]
            await tx.fetchrow("SELECT * FROM no_such_table")
    found = await scrape(gw)
    kinds = {ls["kind"]: v for n, ls, v in found if n == "segmux_store_errors_total"}
    assert kinds == ({"unavailable": 1} if "sqlite" in store.url else {"driver": 1})


async def test_revision_announcements(gw: httpx.AsyncClient, store: Store, backend: str) -> None:
    """PostgreSQL in ``notify`` freshness: another process's write is announced, and counted;
    the listener is up. SQLite has no announcements (always ``strict``) and no listener."""
    token = await make_token(store, "tenant-a")
    auth = {"Authorization": f"Bearer {token}"}
    assert (await gw.get("/segmux/v1/segments", headers=auth)).status_code == 200
    if backend == "sqlite":
        found = await scrape(gw)
        assert value(found, "segmux_freshness_mode", mode="strict") == 1
        assert not [n for n, _, _ in found if n == "segmux_revision_listener_up"]
        return
    other = await open_store(store.url)  # another process's store
    try:
        found: Samples = []
        await other.ensure_tenant("tenant-z")
        for i in range(100):  # the listener connects in the background; then a write
            await other.update_tenant_settings("tenant-z", {"round": i})
            found = await scrape(gw)
            if value(found, "segmux_revision_announcements_total") >= 1:
                break
            await asyncio.sleep(0.1)
        assert value(found, "segmux_revision_announcements_total") >= 1
        assert value(found, "segmux_revision_listener_up") == 1
        assert value(found, "segmux_freshness_mode", mode="notify") == 1
    finally:
        await other.close()
