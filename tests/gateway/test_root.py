"""``GET /``: a browser gets a page pointing to the UI and the specs; HAL clients the HAL root."""

from __future__ import annotations

import re

import httpx
import pytest

import openapi

FIREFOX = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
CHROME = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)


@pytest.mark.parametrize("accept", [FIREFOX, CHROME, "text/html"])
async def test_a_browser_gets_a_page_pointing_to_the_ui_and_the_specs(
    client: httpx.AsyncClient, accept: str
) -> None:
    r = await client.get("/", headers={"Accept": accept})  # no token: a person, not a client
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.headers["vary"] == "Accept"
    assert "default-src 'none'" in r.headers["content-security-policy"]
    links = re.findall(r'href="([^"]+)"', r.text)
    assert "/segmux/ui/" in links
    assert [f"/segmux/openapi/{n}.json" for n in openapi.names()] == [
        link for link in links if link.startswith("/segmux/openapi/")
    ]
    for link in links:  # every link on the page leads somewhere
        assert (await client.get(link)).status_code == 200, link
    head = await client.head("/", headers={"Accept": FIREFOX})
    assert head.status_code == 200


@pytest.mark.parametrize(
    "accept",
    [
        "application/hal+json",
        "*/*",
        "application/json",
        None,
        # An HTML type ranked below JSON is a client that can take HTML but wants JSON.
        "application/hal+json, text/html;q=0.5",
        "text/html;q=0, */*",
    ],
)
async def test_hal_clients_still_get_the_hal_root(
    client: httpx.AsyncClient, token_a: str, accept: str | None
) -> None:
    headers = {"Accept": accept} if accept is not None else {}
    anonymous = await client.get("/", headers=headers)
    assert anonymous.status_code == 401
    assert anonymous.json()["status"] == 401  # Spring Boot's error body, HAL's own
    r = await client.get("/", headers={**headers, "Authorization": f"Bearer {token_a}"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/hal+json")
    assert r.json()["_links"]["individual-segments"]["templated"] is True


async def test_only_get_and_head_get_the_page(client: httpx.AsyncClient) -> None:
    r = await client.post("/", headers={"Accept": FIREFOX})
    assert r.status_code != 200
    assert "text/html" not in r.headers.get("content-type", "")
