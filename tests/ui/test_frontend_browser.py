"""The Unleash frontend API in a real browser: Unleash's own browser SDK (``unleash-proxy-client``
from npm, its UMD build) in headless Chromium, on a page served from another origin than the
gateway's, against a live ``segmux serve`` with a frontend token made by ``segmux tokens create``.

Two pages, two users on either side of a segment, show the toggles the SDK holds; a change to the
segment reaches both pages on the SDK's next poll (every second here), through the ETag the SDK
keeps; a page from an origin ``SEGMUX_CORS_ORIGINS`` does not list gets nothing — Chromium itself
refuses the answer (the SDK reports the failed fetch, the console says CORS).

The SDK is installed once into ``.cache/unleash-proxy-client/`` (gitignored) with ``npm install``;
without npm or Chromium the test skips on a laptop and fails under ``CI=true``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser import POLLING_ARGS, gateway_for_pages, npm_install, serve_pages
from tests.reliability.procs import ADMIN_TOKEN, Gateway
from tests.ui.test_ui import CHROMIUM_ARGS, chromium

ROOT = Path(__file__).resolve().parents[2]
SDK_VERSION = "3.8.2"
BETA = "beta-testers"

PAGE = """<!doctype html>
<meta charset="utf-8">
<title>frontend API</title>
<script src="/unleash.js"></script>
<p id="toggles">starting</p>
<p id="variant"></p>
<p id="error"></p>
<script>
  const q = new URLSearchParams(location.search);
  const client = new unleash.UnleashClient({
    url: q.get("gateway") + "/api/frontend",
    clientKey: q.get("token"),
    appName: "browser-test",
    refreshInterval: 1,
    metricsInterval: 1,
    context: {userId: q.get("user"), properties: {country: "SE"}},
  });
  function show() {
    const names = client.getAllToggles().map((t) => t.name).sort();
    document.getElementById("toggles").textContent = JSON.stringify(names);
    document.getElementById("variant").textContent = client.getVariant("colour").name;
  }
  client.on("ready", show);
  client.on("update", show);
  client.on("error", (e) => {
    document.getElementById("error").textContent = "error: " + (e && (e.message || e.type));
  });
  client.start();
</script>
"""


@pytest.fixture(scope="module")
def pages() -> Iterator[int]:
    """The app's own web server: the page and the SDK's UMD build (from npm, on first use)."""
    modules = npm_install("unleash-proxy-client", {"unleash-proxy-client": SDK_VERSION})
    script = (modules / "unleash-proxy-client" / "build" / "main.min.js").read_bytes()
    files = {
        "/": (PAGE.encode(), "text/html; charset=utf-8"),
        "/unleash.js": (script, "text/javascript"),
    }
    with serve_pages(files) as port:
        yield port


@pytest.fixture(scope="module")
def gateway(pages: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    # The frontend API's store behaviour on both backends: tests/dialects/unleash/test_frontend.py.
    with gateway_for_pages(pages, tmp_path_factory.mktemp("frontend-browser")) as g:
        yield g


def frontend_token(gateway: Gateway) -> str:
    """Made as a user makes one: ``segmux tokens create --scope frontend:development``."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway.cli",
            "tokens",
            "create",
            "--tenant",
            "default",
            "--scope",
            "frontend:development",
            "--name",
            "browser-app",
        ],
        env={"SEGMUX_DATABASE_URL": gateway.database_url, "PATH": "/usr/bin:/bin"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout.strip()


def ok(r: httpx.Response, *status: int) -> Any:
    assert r.status_code in (status or (200,)), r.text
    return r.json() if r.content else None


def seed(base: str) -> int:
    """``new-ui`` for the segment's users (u1), ``colour`` for everyone with variant ``blue``."""
    admin = {"Authorization": ADMIN_TOKEN}
    features = "/api/admin/projects/default/features"
    with httpx.Client(base_url=base, headers=admin) as c:
        segment = ok(
            c.post(
                "/api/admin/segments",
                json={
                    "name": BETA,
                    "constraints": [{"contextName": "userId", "operator": "IN", "values": ["u1"]}],
                },
            ),
            201,
        )
        blue = {
            "name": "blue",
            "weight": 1000,
            "weightType": "variable",
            "stickiness": "default",
            "payload": {"type": "string", "value": "b"},
        }
        for name, strategy in (
            ("new-ui", {"name": "default", "segments": [segment["id"]]}),
            ("colour", {"name": "default", "variants": [blue]}),
        ):
            ok(c.post(features, json={"name": name}), 201)
            dev = f"{features}/{name}/environments/development"
            ok(c.post(f"{dev}/strategies", json=strategy))
            ok(c.post(f"{dev}/on"))
    return int(segment["id"])


def poll_statuses(gateway: Gateway) -> set[int]:
    """Statuses of the frontend API's polls in the gateway's access log."""
    lines = [json.loads(x) for x in gateway.output().splitlines() if '"request"' in x]
    return {a["status"] for a in lines if a.get("path") == "/api/frontend"}


def test_the_browser_sdk_across_origins(gateway: Gateway, pages: int) -> None:
    executable = chromium()
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=30_000)  # two busy cores
    segment = seed(gateway.url)
    token = frontend_token(gateway)
    assert token.startswith("smx_")

    def url(host: str, user: str) -> str:
        query = f"gateway={gateway.url}&token={token}&user={user}"
        return f"http://{host}:{pages}/?{query}"

    with sync_playwright() as p:
        # Three pages poll at once (POLLING_ARGS).
        args = [*CHROMIUM_ARGS, *POLLING_ARGS]
        browser = p.chromium.launch(executable_path=executable, args=args)
        try:
            context = browser.new_context()
            console: list[str] = []
            calls: list[tuple[str, str, int, str]] = []
            context.on("console", lambda m: console.append(m.text))
            context.on(
                "requestfinished",
                lambda r: (
                    calls.append(
                        (r.method, r.url, r.response().status, r.headers.get("if-none-match", ""))
                    )
                    if r.url.startswith(gateway.url)
                    else None
                ),
            )
            inside = context.new_page()
            outside = context.new_page()
            inside.goto(url("127.0.0.1", "u1"))
            outside.goto(url("127.0.0.1", "u2"))
            expect(inside.locator("#toggles")).to_have_text('["colour","new-ui"]')
            expect(outside.locator("#toggles")).to_have_text('["colour"]')
            expect(inside.locator("#variant")).to_have_text("blue")
            expect(outside.locator("#variant")).to_have_text("blue")

            # The segment now holds u2 instead of u1: both pages follow on the next poll.
            with httpx.Client(base_url=gateway.url) as c:
                ok(
                    c.put(
                        f"/api/admin/segments/{segment}",
                        headers={"Authorization": ADMIN_TOKEN},
                        json={
                            "name": BETA,
                            "constraints": [
                                {"contextName": "userId", "operator": "IN", "values": ["u2"]}
                            ],
                        },
                    ),
                    204,
                )
            expect(outside.locator("#toggles")).to_have_text('["colour","new-ui"]')
            expect(inside.locator("#toggles")).to_have_text('["colour"]')
            assert inside.locator("#error").text_content() == ""

            # The same page from an origin not listed: the browser refuses every answer.
            stranger = context.new_page()
            stranger.goto(url("localhost", "u2"))
            expect(stranger.locator("#error")).to_contain_text("error")
            assert stranger.locator("#toggles").text_content() == "starting"
            # The SDK posts its metrics each second once it has counted a call; on a busy
            # machine the first may come after the checks above, so wait for it (at most 30 s).
            # The same for a poll answered 304 (an unchanged answer, revalidated by ETag).
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not (
                any(m == "POST" and "/api/frontend/client/metrics" in u for m, u, _, _ in calls)
                and 304 in poll_statuses(gateway)
            ):
                inside.wait_for_timeout(250)
        finally:
            browser.close()

    # The SDK polled with the ETag it kept and the gateway answered 304 while nothing changed
    # (the browser then hands the page the 200 it cached, so the page sees 200s); it sent its
    # metrics (a JSON POST: preflighted); and the refusal was CORS's, not the gateway's.
    seen = {(m, u.split("?", 1)[0].removeprefix(gateway.url), s) for m, u, s, _ in calls}
    assert ("GET", "/api/frontend", 200) in seen, seen
    assert ("POST", "/api/frontend/client/metrics", 200) in seen, seen
    assert any(etag.startswith('W/"') for m, _, _, etag in calls if m == "GET"), calls
    answered = [json.loads(line) for line in gateway.output().splitlines() if '"request"' in line]
    polls = poll_statuses(gateway)
    assert {200, 304} <= polls, polls
    preflights = {a["status"] for a in answered if a.get("method") == "OPTIONS"}
    assert preflights == {204}, preflights
    assert any("blocked by CORS policy" in line and "localhost" in line for line in console), (
        console
    )
