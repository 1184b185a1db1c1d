"""The HAL root document, health, authentication, and where HAL's paths end and others' begin."""

from __future__ import annotations

import httpx
import pytest
from structlog.testing import capture_logs

from core.store import Store
from gateway.app import create_app
from gateway.settings import Settings
from tests.dialects.hal.hal import HAL, Hal, assert_error, auth


async def test_root_lists_templated_links(client: httpx.AsyncClient, token_a: str) -> None:
    r = await client.get("/", headers=auth(token_a))
    assert r.status_code == 200
    assert r.headers["content-type"] == HAL
    assert r.json() == {
        "name": "segmux",
        "description": "segmux: the HAL Individual Segments API",
        "_links": {
            "self": {"href": "http://segmux.test/"},
            "individuals": {
                "href": "http://segmux.test/{projectId}/individuals{?filter}",
                "templated": True,
            },
            "individual-segments": {
                "href": "http://segmux.test/{projectId}/individual-segments{?filter}",
                "templated": True,
            },
        },
    }


async def test_every_route_needs_a_token(client: httpx.AsyncClient, token_a: str) -> None:
    hal = Hal(client, token_a)
    urls = [await hal.segments_url(), await hal.individuals_url()]
    for url in ["/", *urls]:
        for headers in ({}, auth("smx_not-a-token"), {"Authorization": "Basic eDp5"}):
            r = await client.get(url, headers=headers)
            assert_error(r, 401, "Full authentication is required")
            assert r.headers["www-authenticate"] == "Bearer"


async def test_health_is_spring_actuator_shaped(client: httpx.AsyncClient, store: Store) -> None:
    r = await client.get("/management/health")
    assert (r.status_code, r.json()) == (200, {"description": "segmux", "status": "UP"})
    assert r.headers["content-type"] == HAL
    await store.close()
    with capture_logs() as logs:
        r = await client.get("/management/health")
    assert (r.status_code, r.json()["status"]) == (503, "DOWN")
    # Why it is DOWN is in the log (the store's own error), not lost.
    (entry,) = [e for e in logs if e["event"] == "health: the store did not answer"]
    assert entry["log_level"] == "error" and entry["exc_info"] is True, entry


async def test_links_use_the_request_host(client: httpx.AsyncClient, token_a: str) -> None:
    r = await client.get("http://other.example:8084/", headers=auth(token_a))
    assert r.json()["_links"]["self"]["href"] == "http://other.example:8084/"


async def test_forwarded_headers_are_ignored_unless_trusted(
    client: httpx.AsyncClient, token_a: str
) -> None:
    headers = {**auth(token_a), "X-Forwarded-Proto": "https", "X-Forwarded-Host": "api.example"}
    r = await client.get("/", headers=headers)
    assert r.json()["_links"]["self"]["href"] == "http://segmux.test/"


async def test_forwarded_headers_are_honoured_when_trusted(
    store: Store, settings: Settings, token_a: str
) -> None:
    app = create_app(Settings(database_url=settings.database_url, trust_proxy=True), store=store)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://segmux.test") as c:
        headers = {**auth(token_a), "X-Forwarded-Proto": "https", "X-Forwarded-Host": "api.example"}
        doc = (await c.get("/", headers=headers)).json()
        assert doc["_links"]["individuals"]["href"].startswith("https://api.example/")
        # a host that is not a host name is not echoed into links
        headers["X-Forwarded-Host"] = "evil.example/<script>"
        doc = (await c.get("/", headers=headers)).json()
        assert doc["_links"]["self"]["href"] == "https://segmux.test/"


async def test_unknown_paths_under_a_project_are_hal_404s(
    client: httpx.AsyncClient, token_a: str
) -> None:
    for path in (
        "/my-project/individual-segments/a/b/c",
        "/my-project/individuals/a/b",
        "/a/b/individuals",
    ):
        assert_error(await client.get(path, headers=auth(token_a)), 404, "No resource")


async def test_other_paths_are_not_hal(client: httpx.AsyncClient) -> None:
    r = await client.get("/nothing/here")
    assert (r.status_code, r.json()) == (404, {"error": "Not Found"})
    assert (await client.get("/healthz")).json() == {"status": "ok"}


async def test_other_dialects_keep_their_prefixes(client: httpx.AsyncClient, token_a: str) -> None:
    # mounted before HAL: a HAL-looking path under another prefix is that dialect's
    r = await client.get("/v2.3/individuals", headers=auth(token_a))
    assert r.status_code == 404
    assert r.json()["success"] is False
    r = await client.get("/segmux/v1/individuals", headers=auth(token_a))
    assert (r.status_code, r.json()["error"]) == (404, "not_found")
    r = await client.get("/segmux/elsewhere/individuals", headers=auth(token_a))
    assert (r.status_code, r.json()) == (404, {"error": "Not Found"})


@pytest.mark.parametrize("project", ["My-Project", "under_score", "x" * 65, "caf%C3%A9"])
async def test_project_ids_are_sandbox_names(
    client: httpx.AsyncClient, token_a: str, project: str
) -> None:
    hal = Hal(client, token_a, project)
    message = "projectId: must match ^[a-z0-9-]{1,64}$"
    assert_error(await hal.get(await hal.individuals_url()), 400, message)
    r = await hal.post(await hal.segments_url(), {"name": "x", "segmentType": "STATIC"})
    assert_error(r, 400, "projectId")


async def test_unsupported_method_is_405_with_allow(
    client: httpx.AsyncClient, token_a: str
) -> None:
    hal = Hal(client, token_a)
    r = await hal.delete(await hal.segments_url())
    assert_error(r, 405, "Request method 'DELETE' not supported")
    assert r.headers["allow"] == "GET, HEAD, POST"


@pytest.mark.parametrize("prefix", ["/api", "/v1", "/data/core/ups", "/ims", "/v2.3", "/segmux"])
async def test_no_other_prefix_answers_in_hal_format(
    client: httpx.AsyncClient, token_a: str, prefix: str
) -> None:
    for path in ("/individuals", "/my-project/individual-segments", "/x/individuals/y"):
        r = await client.get(prefix + path, headers=auth(token_a))
        assert r.headers.get("content-type") != HAL, (prefix + path, r.text)
