"""``/segmux/ui`` in a real browser: Debian's headless Chromium, driven by Playwright, against a
real gateway (uvicorn on a free port) seeded through the dialects' own APIs.

The test checks that the matrix shows, for every seeded segment and every dialect, exactly the
rendering ``GET /segmux/v1/segments`` gives (or its not-expressible reason), that an evaluation
shows its result and that bad input shows its error, and it leaves a screenshot of the page at
``build/ui.png`` (gitignored; the path is printed, see it with ``pytest -s``).

Without Chromium (or the ``playwright`` package) the browser test is skipped with a message saying
how to install them; under ``CI=true`` that is a failure. Playwright's own browser download is
never used: ``executable_path`` points at the system Chromium.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dialects.registry import SURFACES
from tests import pg
from tests.live import live_gateway

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "build" / "ui.png"
ADMIN_TOKEN = "ui-test-admin-token-0123456789"
DIALECTS = tuple(s.name for s in SURFACES if s.view is not None)
"""The matrix's columns: every surface that shows segments, as the registry lists them."""
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HOW = (
    "install Debian's Chromium (`sudo apt-get install -y chromium`; `make test` does it when "
    "run as root) and the test extra (`pip install -e '.[test]'`, for playwright); or point "
    "SEGMUX_CHROMIUM at a Chromium binary"
)

OR_PQL = 'workAddress.country = "US" or age > 30'
REGEX_PQL = 'personalEmail.address.matches("@example\\.com$")'
# A name that would run script if any part of the page used innerHTML with data.
HOSTILE_NAME = '<img src=x onerror="window.__pwned=1"> & "everyone"'
SWEDEN = [{"contextName": "country", "operator": "IN", "values": ["SE"]}]
SE_TARGETING = {
    "criteria": {
        "c": {"attribute": {"attributeName": "country", "eqRule": {"value": {"stringValue": "SE"}}}}
    },
    "expression": {"ref": "c"},
}
NAMES = {"tenth": "A tenth of Swedes", "gone": "Archived Swedes"}
SEGMENTS = 7


def chromium() -> str:
    """The Chromium binary, or skip (fail under CI) saying how to get one."""
    path = os.environ.get("SEGMUX_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        found = False
    else:
        found = Path(path).is_file()
    if not found:
        if pg.in_ci():
            pytest.fail(f"CI=true but no Chromium/playwright for the UI test: {HOW}", pytrace=False)
        pytest.skip(f"UI browser test skipped: {HOW}")
    return path


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # One backend is enough here: the page only talks HTTP to /segmux/v1, whose store behaviour
    # on both backends is covered by tests/dialects/segmux.
    url = f"sqlite:///{tmp_path_factory.mktemp('ui')}/segmux.db"
    with live_gateway(url, ADMIN_TOKEN) as base:
        yield base


def ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json()


def seed(base: str) -> dict[str, str]:
    """Segments made through four dialects' APIs: name by role."""
    bearer = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    adobe = {
        **bearer,
        "x-gw-ims-org-id": "default@AdobeOrg",
        "x-api-key": "segmux-ui-test",
        "x-sandbox-name": "prod",
        "Content-Type": "application/json",
    }

    def pql(name: str, text: str) -> dict[str, Any]:
        return {
            "name": name,
            "schema": {"name": "_xdm.context.profile"},
            "expression": {"type": "PQL", "format": "pql/text", "value": text},
        }

    with httpx.Client(base_url=base) as c:
        ok(
            c.post(
                "/api/admin/segments",
                headers={"Authorization": ADMIN_TOKEN},
                json={"name": "Swedes", "constraints": SWEDEN},
            ),
            201,
        )
        ok(
            c.post(
                "/data/core/ups/segment/definitions",
                headers=adobe,
                json=pql("US or over 30", OR_PQL),
            )
        )
        ok(
            c.post(
                "/data/core/ups/segment/definitions",
                headers=adobe,
                json=pql("Example.com mail", REGEX_PQL),
            )
        )
        ok(
            c.post(
                "/my-project/individual-segments",
                headers=bearer,
                json={"name": "Friends", "segmentType": "STATIC", "identifier": "my-friends"},
            )
        )
        ok(c.post("/v2.3/data/segments", headers=bearer, json={"name": HOSTILE_NAME}))
        # Confidence: a tenth of the Swedes by bucket, and an archived segment.
        for slug, proportion in (("tenth", "0.1"), ("gone", "1")):
            ok(
                c.post(
                    "/v1/segments",
                    params={"segmentId": slug},
                    headers=bearer,
                    json={
                        "displayName": NAMES[slug],
                        "targeting": SE_TARGETING,
                        "allocation": {"proportion": {"value": proportion}},
                    },
                )
            )
        ok(c.post("/v1/segments/gone:archive", headers=bearer, json={}))
    return {
        "swedes": "Swedes",
        "or": "US or over 30",
        "regex": "Example.com mail",
        "static": "Friends",
        "everyone": HOSTILE_NAME,
        **NAMES,
    }


def api_segments(base: str) -> dict[str, dict[str, Any]]:
    with httpx.Client(base_url=base) as c:
        page = ok(c.get("/segmux/v1/segments", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}))
    assert page["next"] is None
    return {s["name"]: s for s in page["items"]}


def expected_code(dialect: str, segment: dict[str, Any]) -> Any:
    """What the cell's code block must hold (parsed back for JSON forms), None for no block."""
    form = segment["renderings"][dialect]["expression"]
    if dialect == "v23":
        return segment["name"]
    return form


def test_the_matrix_and_evaluate_in_chromium(gateway: str) -> None:
    executable = chromium()
    from playwright.sync_api import expect, sync_playwright

    # Waits go through locators, never wait_for_function: that evaluates a string in the page,
    # which the page's CSP (no 'unsafe-eval') rightly refuses. Generous: two busy cores.
    expect.set_options(timeout=30_000)

    names = seed(gateway)
    segments = api_segments(gateway)
    assert set(segments) == set(names.values())
    # The seeds cover both sides of portability (so the matrix has both kinds of cell).
    assert segments["US or over 30"]["renderings"]["unleash"]["expressible"] is False
    assert segments["Example.com mail"]["renderings"]["hal"]["expressible"] is False
    assert all(r["expressible"] for r in segments["Swedes"]["renderings"].values())

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1680, "height": 1000})
            problems: list[str] = []
            requests: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))

            page.goto(f"{gateway}/segmux/ui")
            assert page.url == f"{gateway}/segmux/ui/"
            assert page.title() == "segmux — segments in every dialect"

            # No token yet: nothing listed. A wrong token: the API's 401, shown.
            assert page.locator("#rows tr").count() == 0
            page.fill("#token", "not-a-token")
            page.click("#connect")
            page.wait_for_selector("#status.error")
            assert page.text_content("#status") == (
                "Could not list segments: 401 unauthorized: a valid token is required"
                " — check the API token"
            )

            page.fill("#token", ADMIN_TOKEN)
            page.click("#connect")
            expect(page.locator("#rows tr")).to_have_count(SEGMENTS)
            expect(page.locator("#status")).to_have_text(f"Loaded {SEGMENTS} segments.")
            check_matrix(page, segments)
            # The hostile name is text; nothing from it became an element or ran.
            assert page.evaluate("window.__pwned") is None
            assert page.locator("#rows img").count() == 0

            # The token stays in this tab's sessionStorage, so a reload lists again.
            assert page.evaluate("sessionStorage.getItem('segmux.token')") == ADMIN_TOKEN
            page.reload()
            expect(page.locator("#status")).to_have_text(f"Loaded {SEGMENTS} segments.")
            expect(page.locator("#rows tr")).to_have_count(SEGMENTS)

            # Evaluate the default context ({"country": "SE", "age": 42}).
            page.click("#run")
            page.wait_for_selector("#eval-result:not([hidden])")
            with httpx.Client(base_url=gateway) as c:
                want = ok(
                    c.post(
                        "/segmux/v1/evaluate",
                        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
                        json={"context": {"country": "SE", "age": 42}},
                    )
                )
            shown = results_shown(page, segments)
            assert shown == {name: want["results"][s["id"]] for name, s in segments.items()}
            # From the vendors' semantics, not from the API's answer.
            assert shown["Swedes"] is True and shown["US or over 30"] is True
            assert shown["Example.com mail"] is False and shown[HOSTILE_NAME] is True
            # Never widened: the tenth needs a unit, the archived one serves no one.
            assert shown[NAMES["tenth"]] is False and shown[NAMES["gone"]] is False
            assert page.text_content("#eval-summary") == (
                f"{len(want['matches'])} of {SEGMENTS} segments match."
            )
            why = {NAMES["tenth"]: " (needs a unit)", NAMES["gone"]: " (archived)"}
            for name, s in segments.items():
                cell = page.locator(f'#rows tr[data-segment-id="{s["id"]}"] td.eval')
                assert cell.text_content() == (
                    "match" if shown[name] else "no match" + why.get(name, "")
                )
            page.screenshot(path=str(SCREENSHOT), full_page=True)
            print(f"\nUI screenshot: {SCREENSHOT}")

            # A context that is not JSON: the parser's message, no request.
            sent = len(requests)
            page.fill("#context", '{"country": ')
            page.click("#run")
            page.wait_for_selector("#eval-error:not([hidden])")
            assert page.text_content("#eval-error").startswith("The context is not valid JSON: ")
            assert page.is_hidden("#eval-result")
            assert len(requests) == sent

            # JSON that is not a context: the API's 400, shown with its reason.
            page.fill("#context", "[1, 2]")
            page.click("#run")
            expect(page.locator("#eval-error")).to_contain_text("400")
            with httpx.Client(base_url=gateway) as c:
                bad = c.post(
                    "/segmux/v1/evaluate",
                    json={"context": [1, 2]},
                    headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
                )
            assert bad.status_code == 400
            body = bad.json()
            message = f"Evaluation failed: 400 {body['error']}: {body['reason']}"
            if body.get("field"):
                message += f" (field {body['field']})"
            assert page.text_content("#eval-error") == message

            # Forget: the token leaves sessionStorage and the matrix empties.
            page.click("#forget")
            assert page.evaluate("sessionStorage.getItem('segmux.token')") is None
            assert page.locator("#rows tr").count() == 0
        finally:
            browser.close()

    # Only the two refusals the test provoked (Chromium logs every 4xx fetch); no script error,
    # no CSP violation (an asset or inline code the policy blocked would show up here).
    assert problems == [
        "Failed to load resource: the server responded with a status of 401 (Unauthorized)",
        "Failed to load resource: the server responded with a status of 400 (Bad Request)",
    ], problems
    # Every request went to segmux itself (no CDN), and the token never rode in a URL.
    assert requests and all(u.startswith(gateway + "/") for u in requests), requests
    assert not any(ADMIN_TOKEN in u for u in requests)


def check_matrix(page: Any, segments: dict[str, dict[str, Any]]) -> None:
    """Every cell against the API: the exact form where expressible, else the reason."""
    for s in segments.values():
        row = page.locator(f'#rows tr[data-segment-id="{s["id"]}"]')
        assert row.locator("th .name").text_content() == s["name"]
        for dialect in DIALECTS:
            rendering = s["renderings"][dialect]
            cell = row.locator(f'td[data-dialect="{dialect}"]')
            if not rendering["expressible"]:
                assert cell.get_attribute("class") == "no"
                assert cell.locator(".badge").text_content() == "not expressible"
                assert cell.locator(".reason").text_content() == rendering["reason"]
                assert rendering["reason"]
                continue
            assert cell.get_attribute("class") == "ok", (s["name"], dialect)
            want = expected_code(dialect, s)
            code = cell.locator("pre.rendering code")
            if want is None:
                assert code.count() == 0
                assert cell.locator(".note").text_content()
            elif isinstance(want, str):
                assert code.text_content() == want, (s["name"], dialect)
            else:
                assert json.loads(code.text_content()) == want, (s["name"], dialect)
            assert cell.locator(".meta code").all_text_contents() == [
                str(rendering["id"]),
                rendering["url"],
            ]

    # And a few cells by what the vendors write, not only by what the API said.
    def code_of(name: str, dialect: str) -> str:
        return str(
            page.locator(
                f'#rows tr[data-segment-id="{segments[name]["id"]}"] '
                f'td[data-dialect="{dialect}"] pre code'
            ).text_content()
        )

    assert code_of("US or over 30", "adobe") == OR_PQL
    assert code_of("Swedes", "hal") == "country eq 'SE'"
    assert code_of("Swedes", "adobe") == 'country = "SE"'
    assert json.loads(code_of("Swedes", "unleash")) == SWEDEN
    assert code_of(HOSTILE_NAME, "v23") == HOSTILE_NAME

    # Archived segments are marked (and only they); a proportion says it needs a unit.
    for s in segments.values():
        row = page.locator(f'#rows tr[data-segment-id="{s["id"]}"]')
        assert row.get_attribute("data-state") == s["state"]
        archived = s["state"] == "ARCHIVED"
        assert ("archived" in (row.get_attribute("class") or "").split()) is archived
        assert row.locator("th .state.archived").count() == (1 if archived else 0)
    gone = page.locator(f'#rows tr[data-segment-id="{segments[NAMES["gone"]]["id"]}"]')
    assert gone.locator("th .state").text_content() == "archived"
    assert segments[NAMES["gone"]]["state"] == "ARCHIVED"
    tenth = page.locator(f'#rows tr[data-segment-id="{segments[NAMES["tenth"]]["id"]}"]')
    assert tenth.locator("th .allocation").text_content() == "0.1 of units (needs a unit)"
    assert tenth.locator("th .state").count() == 0


def results_shown(page: Any, segments: dict[str, dict[str, Any]]) -> dict[str, bool]:
    by_id = {s["id"]: name for name, s in segments.items()}
    out: dict[str, bool] = {}
    for row in page.locator("#result-rows tr").all():
        name = by_id[row.get_attribute("data-segment-id")]
        assert row.locator("th .name").text_content() == name
        text = row.locator("td").text_content()
        assert text in ("match", "no match", "no match (needs a unit)", "no match (archived)")
        out[name] = text == "match"
    return out


def test_page_headers_and_plain_404s(gateway: str) -> None:
    """The page and its assets carry the security headers; nothing else is served."""
    with httpx.Client(base_url=gateway) as c:
        for path, media in [
            ("/segmux/ui/", "text/html"),
            ("/segmux/ui/ui.js", "text/javascript"),
            ("/segmux/ui/ui.css", "text/css"),
            ("/segmux/ui/favicon.svg", "image/svg+xml"),
        ]:
            r = c.get(path)
            assert r.status_code == 200, path
            assert r.headers["content-type"].startswith(media)
            assert r.headers["x-content-type-options"] == "nosniff"
            csp = r.headers["content-security-policy"]
            assert "default-src 'self'" in csp and "unsafe-inline" not in csp
        html = c.get("/segmux/ui/").text
        # No inline script or style: CSP would block it, so the page must not need it.
        assert "<script>" not in html and "<style" not in html and " style=" not in html
        assert "http://" not in html and "https://" not in html
        assert c.get("/segmux/ui").status_code == 307
        for path in (
            "/segmux/ui/nope",
            "/segmux/ui/ui.py",
            "/segmux/ui/..%2Fui.py",
            "/segmux/ui/static/ui.js",
            "/segmux/ui/a/b/c",
        ):
            r = c.get(path)
            assert (r.status_code, r.text) == (404, "Not Found"), path
            assert r.headers["content-type"].startswith("text/plain")
            assert r.headers["x-content-type-options"] == "nosniff"
        r = c.post("/segmux/ui/", content=b"x")
        assert (r.status_code, r.headers["allow"]) == (405, "GET, HEAD")
        # The page holds no data: its text is the same whoever asks.
        assert (
            c.get("/segmux/ui/").content
            == c.get("/segmux/ui/", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).content
        )
