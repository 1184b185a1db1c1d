"""OFREP in a real browser: OpenFeature's web SDK (``@openfeature/web-sdk``) with its OFREP web
provider (``@openfeature/ofrep-web-provider``), both from npm, in headless Chromium, on a page
served from another origin than the gateway's, against a live ``segmux serve`` with an
``ofrep:development`` token made by ``segmux tokens create``.

The web provider evaluates every flag at once through the bulk endpoint and then polls it (every
second here) with the ``ETag`` it kept: two pages, a Swede and a Norwegian, show the Unleash
features and Confidence flags of tests/sdk/ofrep_flags.py as the SDK reports them (values,
variants, reasons, a missing flag); a new context (the Swede moves to Norway and back) is
evaluated anew at once; a change made through Unleash's admin API and one made through
Confidence's API reach both pages on a later poll; the gateway answered 304 to polls
whose ``If-None-Match`` was still current; a page with a wrong token gets the provider's error.

The packages' ES modules are served as they are, under an import map (no bundler). They are
installed once into ``.cache/ofrep-web/`` (gitignored); without npm or Chromium the test skips
on a laptop and fails under ``CI=true``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.browser import POLLING_ARGS, gateway_for_pages, npm_install, serve_pages
from tests.reliability.procs import ADMIN_TOKEN, Gateway
from tests.sdk.ofrep_flags import BIG, DEV, FEATURES, SMALL, Seeded, ok, seed, token
from tests.ui.test_ui import CHROMIUM_ARGS, chromium

# The SDK and the provider, and the packages they import by name, each pinned (npm would take
# the newest within their ranges).
PACKAGES = {
    "@openfeature/web-sdk": "1.10.0",
    "@openfeature/ofrep-web-provider": "0.4.3",
    "@openfeature/core": "1.12.0",
    "@openfeature/ofrep-core": "2.3.0",
}
# Their ES module builds, served as they are.
MODULES = {
    "@openfeature/core": "@openfeature/core/dist/esm/index.js",
    "@openfeature/web-sdk": "@openfeature/web-sdk/dist/esm/index.js",
    "@openfeature/ofrep-core": "@openfeature/ofrep-core/index.esm.js",
    "@openfeature/ofrep-web-provider": "@openfeature/ofrep-web-provider/index.esm.js",
}
BULK = "/ofrep/v1/evaluate/flags"
# What each page asks its OpenFeature client: (method, key, default).
ASKS = [
    ("Boolean", "dark-mode", False),
    ("Boolean", "retired", True),
    ("Object", "theme", {}),
    ("Boolean", "unleash:both", False),
    ("Boolean", "nope", True),
]

PAGE = """<!doctype html>
<meta charset="utf-8">
<title>OFREP</title>
<script type="importmap">IMPORTS</script>
<pre id="flags">starting</pre>
<p id="error"></p>
<script type="module">
  import { OpenFeature, ProviderEvents } from "@openfeature/web-sdk";
  import { OFREPWebProvider } from "@openfeature/ofrep-web-provider";
  const q = new URLSearchParams(location.search);
  const asks = JSON.parse(q.get("asks"));
  const client = OpenFeature.getClient();
  function show() {
    const flags = {};
    for (const [kind, key, fallback] of asks) {
      const d = client[`get${kind}Details`](key, fallback);
      flags[key] = [d.value, d.variant ?? null, d.reason ?? null, d.errorCode ?? null];
    }
    document.getElementById("flags").textContent = JSON.stringify(flags);
  }
  function failed(e) {
    // The provider's error event, or the error setProviderAndWait rejects with (its cause
    // says what the server answered).
    const said = [e?.code, e?.errorCode, e?.message, e?.cause?.message].filter(Boolean);
    document.getElementById("error").textContent += "error: " + said.join(" | ") + "\\n";
  }
  OpenFeature.addHandler(ProviderEvents.Ready, show);
  OpenFeature.addHandler(ProviderEvents.ConfigurationChanged, show);
  OpenFeature.addHandler(ProviderEvents.Error, failed);
  await OpenFeature.setContext({targetingKey: q.get("user"), country: q.get("country")});
  const provider = new OFREPWebProvider({
    baseUrl: q.get("gateway"),
    pollInterval: 1000,
    cacheMode: "disabled",
    headers: [["Authorization", "Bearer " + q.get("token")]],
  });
  OpenFeature.setProviderAndWait(provider).catch(failed);
  // The user moves: a new context, which the provider evaluates anew (no ETag of the old one).
  window.relocate = async (country) => {
    await OpenFeature.setContext({targetingKey: q.get("user"), country});
    show();
  };
</script>
"""


@pytest.fixture(scope="module")
def pages() -> Iterator[int]:
    """The app's own web server: the page and the SDK's modules (from npm, on first use)."""
    modules = npm_install("ofrep-web", PACKAGES)
    files = {
        f"/m/{name}.js": ((modules / path).read_bytes(), "text/javascript")
        for name, path in MODULES.items()
    }
    imports = json.dumps({"imports": {name: f"/m/{name}.js" for name in MODULES}})
    files["/"] = (PAGE.replace("IMPORTS", imports).encode(), "text/html; charset=utf-8")
    with serve_pages(files) as port:
        yield port


@pytest.fixture(scope="module")
def gateway(pages: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    # OFREP's store behaviour on both backends: tests/sdk/test_ofrep_sdk.py, tests/dialects/ofrep.
    with gateway_for_pages(pages, tmp_path_factory.mktemp("ofrep-browser")) as g:
        yield g


def bulk_statuses(gateway: Gateway) -> list[int]:
    """Statuses of the bulk evaluations in the gateway's access log, in order."""
    lines = [json.loads(x) for x in gateway.output().splitlines() if '"request"' in x]
    return [a["status"] for a in lines if a.get("path") == BULK and a.get("method") == "POST"]


def shown(page: Any) -> dict[str, list[Any]]:
    text = page.locator("#flags").text_content()
    return dict(json.loads(text)) if text and text != "starting" else {}


def wait_for(
    page: Any, check: Any, what: str, problems: list[str], timeout: float = 30
) -> dict[str, list[Any]]:
    """The page's flags once ``check`` holds for them (polled every 250 ms)."""
    deadline = time.monotonic() + timeout
    while True:
        flags = shown(page)
        if flags and check(flags):
            return flags
        assert time.monotonic() < deadline, f"{what}: the page shows {flags}; {problems}"
        page.wait_for_timeout(250)


def test_the_ofrep_web_provider_polls_with_its_etag(gateway: Gateway, pages: int) -> None:
    executable = chromium()
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=30_000)  # two busy cores
    seeded: Seeded = seed(gateway.url, ADMIN_TOKEN)
    web = token(gateway.database_url, f"ofrep:{DEV}", "web-app")
    asks = json.dumps(ASKS)

    def url(user: str, country: str, key: str) -> str:
        query = httpx.QueryParams(
            gateway=gateway.url, token=key, user=user, country=country, asks=asks
        )
        return f"http://127.0.0.1:{pages}/?{query}"

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=executable, args=[*CHROMIUM_ARGS, *POLLING_ARGS]
        )
        try:
            context = browser.new_context()
            calls: list[tuple[str, int, str, str]] = []
            context.on(
                "requestfinished",
                lambda r: (
                    calls.append(
                        (
                            r.url.removeprefix(gateway.url).split("?", 1)[0],
                            r.response().status,
                            r.headers.get("if-none-match", ""),
                            r.response().headers.get("etag", ""),
                        )
                    )
                    if r.url.startswith(gateway.url) and r.method == "POST"
                    else None
                ),
            )
            problems: list[str] = []  # script errors on any page: in every failure message
            context.on("weberror", lambda e: problems.append(str(e.error)))
            swede = context.new_page()
            norwegian = context.new_page()
            swede.goto(url("u1", "SE", web))
            norwegian.goto(url("u2", "NO", web))

            # What each page's OpenFeature client reports: [value, variant, reason, errorCode].
            first = wait_for(swede, lambda f: "dark-mode" in f, "the Swede's first flags", problems)
            assert first == {
                "dark-mode": [True, "enabled", "TARGETING_MATCH", None],
                "retired": [False, "disabled", "DISABLED", None],
                "theme": [BIG, "big", "TARGETING_MATCH", None],
                "unleash:both": [True, "enabled", "STATIC", None],
                "nope": [True, None, "ERROR", "FLAG_NOT_FOUND"],
            }, first
            other = wait_for(
                norwegian, lambda f: "dark-mode" in f, "the Norwegian's first flags", problems
            )
            assert other["dark-mode"] == [False, "disabled", "DEFAULT", None], other
            assert other["theme"] == [SMALL, "small", "TARGETING_MATCH", None], other

            # Polls with nothing changed: the gateway answers 304 to the ETag the provider kept.
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and 304 not in bulk_statuses(gateway):
                swede.wait_for_timeout(250)

            # The Swede moves to Norway and back: each context is evaluated anew at once.
            swede.evaluate("relocate('NO')")
            moved = wait_for(swede, lambda f: f["theme"][1] == "small", "moved to NO", problems)
            assert moved["dark-mode"] == [False, "disabled", "DEFAULT", None], moved
            swede.evaluate("relocate('SE')")
            back = wait_for(swede, lambda f: f["theme"][1] == "big", "back in SE", problems)
            assert back == first, back

            # Unleash's admin API switches the feature off; Confidence's API gives Swedes `small`.
            admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
            with httpx.Client(base_url=gateway.url, headers=admin) as http:
                ok(http.post(f"{FEATURES}/dark-mode/environments/{DEV}/off"))
                small = {
                    "assignmentId": "small",
                    "variant": {"variant": "flags/theme/variants/small"},
                    "bucketRanges": [{"lower": 0, "upper": 1}],
                }
                ok(
                    http.patch(
                        f"/v1/{seeded.rule_for_swedes}",
                        params={"updateMask": "assignmentSpec"},
                        json={"assignmentSpec": {"bucketCount": 1, "assignments": [small]}},
                    )
                )
            after = wait_for(
                swede,
                lambda f: f["dark-mode"][0] is False and f["theme"][1] == "small",
                "the Swede's page after the changes",
                problems,
            )
            assert after["dark-mode"] == [False, "disabled", "DISABLED", None], after
            assert after["theme"] == [SMALL, "small", "TARGETING_MATCH", None], after
            wait_for(
                norwegian,
                lambda f: f["dark-mode"] == [False, "disabled", "DISABLED", None],
                "the Norwegian's page after the change",
                problems,
            )

            # A page with a token segmux does not know: 401, the provider's error.
            stranger = context.new_page()
            stranger.goto(url("u1", "SE", "smx_not-a-token"))
            expect(stranger.locator("#error")).to_contain_text("unauthorized")
            assert "PROVIDER_FATAL" in str(stranger.locator("#error").text_content())
            assert shown(stranger) == {}  # nothing evaluated
            assert swede.locator("#error").text_content() == ""
            assert norwegian.locator("#error").text_content() == ""
            assert problems == []
        finally:
            browser.close()

    # The browser saw the ETag (CORS exposes it), polled with it, and got 304s while nothing
    # changed; the gateway says the same in its access log.
    bulk = [c for c in calls if c[0] == BULK]
    etags = {etag for _, status, _, etag in bulk if status == 200}
    assert etags and all(e.startswith('"') for e in etags), bulk
    assert any(s == 304 and sent in etags for _, s, sent, _ in bulk), bulk
    # ...and after a 304, the changes came as a 200 with a new ETag, not as a stale 304.
    first_304 = next(i for i, (_, s, _, _) in enumerate(bulk) if s == 304)
    assert any(s == 200 and sent for _, s, sent, _ in bulk[first_304:]), bulk
    # Access lines are written in batches (every 0.2 s: gateway/log_writer.py): the stranger's
    # 401, the last request, may still be on its way to the log.
    deadline = time.monotonic() + 10
    statuses = bulk_statuses(gateway)
    while 401 not in statuses and time.monotonic() < deadline:
        time.sleep(0.1)
        statuses = bulk_statuses(gateway)
    assert {200, 304} <= set(statuses), statuses
    assert 401 in statuses, statuses  # the stranger's page
