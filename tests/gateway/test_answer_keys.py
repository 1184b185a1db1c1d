"""Kept answers key on what the answer depends on, and nothing else (``gateway.answers``).

Each kept endpoint declares, like HTTP's ``Vary``, the request headers its answer depends on.
A fleet of SDKs sends the same question with headers of its own — an instance id, a connection
id, an app name, a user agent, trace context — so those must not split the key, and none may
change an answer either: a kept answer served for one set of them is given to any other.

The property, for every kept endpoint, on both backends: a request is answered once with random
values of every header the endpoint does not declare (priming the cache), then again with other
random values; that second answer, served from the kept one, is byte for byte (status, headers
but the request id, body) what a gateway without kept answers gives the same request. A header a
handler read without declaring it would make the two differ.
"""

from __future__ import annotations

import string
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.store import Store
from gateway.answers import Answers
from gateway.app import create_app
from gateway.settings import Settings
from tests.conftest import make_token
from tests.dialects.unleash.helpers import add_strategy, create_feature, create_segment
from tests.examples import examples

ALLOWED = frozenset(
    {
        b"authorization",
        b"accept",
        b"accept-encoding",
        b"unleash-client-spec",
        b"if-none-match",
        b"x-api-key",
        b"x-gw-ims-org-id",
        b"x-sandbox-name",
    }
)
"""All any endpoint may vary on: the token, the representation, the client spec and ETag of
Unleash's client API, and Adobe's key, org and sandbox (which pick the caller and its data)."""

SDK_HEADERS = (
    # Unleash SDKs (Node, Python, Go, Java, proxy client) and the Unleash proxy.
    "UNLEASH-INSTANCEID",
    "unleash-connection-id",
    "UNLEASH-APPNAME",
    "unleash-sdk",
    "unleash-interval",
    "Unleash-Client-Spec",
    "If-None-Match",
    # Adobe's clients and gateway.
    "x-api-key",
    "x-gw-ims-org-id",
    "x-sandbox-name",
    "x-gw-ims-user-id",
    "x-request-id",
    # Every HTTP client, proxy and tracer.
    "User-Agent",
    "traceparent",
    "tracestate",
    "baggage",
    "Host",
    "Origin",
    "Referer",
    "Cookie",
    "Accept-Language",
    "Cache-Control",
    "Pragma",
    "If-Modified-Since",
    "X-Forwarded-For",
    "X-Forwarded-Host",
    "X-Forwarded-Proto",
    "Content-Type",
)

_VALUE = st.text(alphabet=string.ascii_letters + string.digits + " -_.:/;=,*\"'", max_size=40)
# Each header absent or with a value; one more with a name no list above could foresee.
_HEADERS = st.fixed_dictionaries({}, optional={name: _VALUE for name in SDK_HEADERS})
_KNOWN = ALLOWED | {name.lower().encode() for name in SDK_HEADERS}
_ODD_NAME = (
    st.text(alphabet=string.ascii_lowercase + "-", min_size=1, max_size=20)
    .map(lambda n: "x-" + n)
    .filter(lambda n: n.encode() not in _KNOWN)
)


@pytest.fixture
async def endpoints(client: httpx.AsyncClient, store: Store) -> dict[str, tuple[str, Any]]:
    """Every kept endpoint, with what its answer needs: a segment of each dialect, a feature
    with a strategy on it, and the tokens (admin, Unleash client, Adobe's headers)."""
    token = await make_token(store, "tenant-a")
    sdk = await make_token(store, "tenant-a", scope="client:development", name="sdk")
    admin = {"Authorization": token}
    bearer = {"Authorization": f"Bearer {token}"}
    adobe = {**bearer, "x-api-key": "app", "x-gw-ims-org-id": "tenant-a@AdobeOrg"}
    se = [{"contextName": "country", "operator": "IN", "values": ["SE"]}]
    seg = await create_segment(client, token, "se", se)
    await create_feature(client, token, "f1")
    await add_strategy(client, token, "f1", [seg["id"]])

    async def first(path: str, headers: dict[str, str], *keys: str | int) -> Any:
        r = await client.get(path, headers=headers)
        assert r.status_code == 200, r.text
        found: Any = r.json()
        for k in keys:
            found = found[k]
        return found

    segmux = await first("/segmux/v1/segments", bearer, "items", 0, "id")
    confidence = await first("/v1/segments", bearer, "segments", 0, "name")
    adobe_id = await first("/data/core/ups/segment/definitions", adobe, "segments", 0, "id")
    hal = await first(
        "/prod/individual-segments", bearer, "_embedded", "individual-segments", 0, "identifier"
    )
    features = "/api/admin/projects/default/features"
    r = await client.get("/api/client/features", headers={"Authorization": sdk})
    etag = r.headers["etag"]
    return {
        "unleash segments": ("/api/admin/segments", admin),
        "unleash segment": (f"/api/admin/segments/{seg['id']}", admin),
        "unleash features": (features, admin),
        "unleash feature": (f"{features}/f1", admin),
        "unleash feature environment": (f"{features}/f1/environments/development", admin),
        "unleash client features": ("/api/client/features", {"Authorization": sdk}),
        "unleash client features, spec 4.3.0": (
            "/api/client/features?namePrefix=f",
            {"Authorization": sdk, "Unleash-Client-Spec": "4.3.0"},
        ),
        "unleash client features, 304": (
            "/api/client/features",
            {"Authorization": sdk, "If-None-Match": etag},
        ),
        "v23 segments": ("/v2.3/data/segments", bearer),
        "segmux segments": ("/segmux/v1/segments?limit=5", bearer),
        "segmux segment": (f"/segmux/v1/segments/{segmux}", bearer),
        "confidence segments": ("/v1/segments", bearer),
        "confidence segment": (f"/v1/{confidence}", bearer),
        "confidence flags": ("/v1/flags", bearer),
        "confidence clients": ("/v1/clients", bearer),
        "adobe definitions": ("/data/core/ups/segment/definitions", adobe),
        "adobe definition": (f"/data/core/ups/segment/definitions/{adobe_id}", adobe),
        "hal segments": ("/prod/individual-segments", bearer),
        "hal segment": (f"/prod/individual-segments/{hal}", bearer),
    }


@pytest.fixture
async def uncached(store: Store, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A gateway on the same store that keeps no answers: what every request should get."""
    app: Any = create_app(settings, store=store)
    app.context.answers = None
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://segmux.test") as c:
        yield c


def _kept(app: Any) -> Answers:
    kept: Answers = app.state.services.answers
    return kept


def _request(
    declared: dict[str, str],
    vary: tuple[bytes, ...],
    random: dict[str, str],
    odd_name: str,
    odd_value: str,
) -> dict[str, str]:
    """The endpoint's own headers, and random values of every header it does not declare."""
    headers = {k: v for k, v in random.items() if k.lower().encode() not in vary}
    headers[odd_name] = odd_value
    return {**headers, **declared}


def _shown(r: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = [(k, v) for k, v in r.headers.multi_items() if k != "x-request-id"]
    return r.status_code, headers, r.content


async def test_every_kept_endpoint_declares_only_what_it_may_vary_on(
    client: httpx.AsyncClient, app: Any, endpoints: dict[str, tuple[str, Any]]
) -> None:
    for name, (url, headers) in endpoints.items():
        r = await client.get(url, headers=headers)
        assert r.status_code in (200, 304), (name, r.text)
        hits = _kept(app).hits
        r = await client.get(url, headers=headers)
        assert _kept(app).hits == hits + 1, f"{name}: not kept"
        vary = _kept(app).vary_of(httpx.URL(url).path)
        assert vary is not None and set(vary) <= ALLOWED, (name, vary)


@settings(
    max_examples=examples(30),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(first=_HEADERS, second=_HEADERS, odd=st.tuples(_ODD_NAME, _VALUE, _VALUE))
async def test_headers_left_out_of_a_key_never_change_the_answer(
    client: httpx.AsyncClient,
    uncached: httpx.AsyncClient,
    app: Any,
    endpoints: dict[str, tuple[str, Any]],
    first: dict[str, str],
    second: dict[str, str],
    odd: tuple[str, str, str],
) -> None:
    for name, (url, declared) in endpoints.items():
        r = await client.get(url, headers=declared)  # kept, and its Vary learned
        assert r.status_code in (200, 304), (name, r.text)
        vary = _kept(app).vary_of(httpx.URL(url).path)
        assert vary is not None
        primed = await client.get(url, headers=_request(declared, vary, first, odd[0], odd[1]))
        hits = _kept(app).hits
        headers = _request(declared, vary, second, odd[0], odd[2])
        served = await client.get(url, headers=headers)
        assert _kept(app).hits == hits + 1, f"{name}: not served from the kept answer"
        truth = await uncached.get(url, headers=headers)
        assert _shown(served) == _shown(truth), name
        assert _shown(primed) == _shown(truth), name
