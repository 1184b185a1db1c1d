"""Every earlier schema version, upgraded: a store populated through the HTTP APIs of the segmux
that had that schema (tests/upgrade/dumps, made once with the old code: its README) is restored,
``segmux db upgrade`` brings it to the current schema, and every read the old version answered
at populate time is answered the same by this version, with the tokens made then."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from core import resolve_tokens
from core.store.migrations import migration_files
from tests.live import free_port
from tests.upgrade.conftest import DUMPS, applied, restore, segmux

PACKAGES = {"sqlite": "core.store.sqlite", "postgres": "core.store.postgres"}
CASES = sorted(
    (backend.name, dump.name.removesuffix(".sql.gz"))
    for backend in DUMPS.iterdir()
    if backend.is_dir()
    for dump in backend.glob("*.sql.gz")
)


@pytest.fixture(params=CASES, ids=[f"{b}-{v}" for b, v in CASES])
def case(request: pytest.FixtureRequest) -> tuple[str, str]:
    value: tuple[str, str] = request.param
    return value


@pytest.fixture
def backend(case: tuple[str, str]) -> str:
    return case[0]  # the dump's backend: fresh_url makes a store of it


def test_every_earlier_version_has_a_dump() -> None:
    """The schemas a commit of the history stopped at (several migrations landed together:
    PostgreSQL's 0002-0005 and 0006-0007, SQLite's 0002-0005), one dump each; and the newest
    dump is of the version just before this one, so a new migration needs a dump of the schema
    it upgrades (docs/upgrading.md says how)."""
    dumped = {b: [v for b_, v in CASES if b_ == b] for b in PACKAGES}
    assert dumped == {
        "sqlite": ["0001", "0005", "0006", "0007"],
        "postgres": ["0001", "0005", "0007", "0008", "0009"],
    }
    readme = (DUMPS / "README.md").read_text()
    for backend, package in PACKAGES.items():
        versions = [version for version, _ in migration_files(package)]
        assert versions[-2].startswith(dumped[backend][-1]), backend
        for version in dumped[backend]:
            assert f"`{backend}/{version}`" in readme


def test_an_old_store_upgraded_answers_as_it_did(case: tuple[str, str], fresh_url: str) -> None:
    backend, version = case
    record = json.loads((DUMPS / backend / f"{version}.json").read_text())
    restore(fresh_url, DUMPS / backend / f"{version}.sql.gz")
    before = applied(fresh_url)
    assert before[-1].startswith(version)

    upgrade = segmux(["db", "upgrade"], fresh_url)
    assert upgrade.returncode == 0, upgrade.stderr
    versions = [v for v, _ in migration_files(PACKAGES[backend])]
    pending = [v for v in versions if v not in before]
    assert f"(applied {', '.join(pending)})" in upgrade.stderr
    assert applied(fresh_url) == versions
    status = segmux(["db", "status"], fresh_url)
    assert status.returncode == 0 and "pending: none" in status.stdout

    revised = "0006_revisions" in pending
    bucketed = bucketed_ids(record)
    with serving(fresh_url) as base:
        tokens: dict[str, str] = record["tokens"]
        with httpx.Client(base_url=base, timeout=30) as http:
            for read in record["requests"]:
                status_, answer = call(http, read, tokens)
                where = f"{read['method']} {read['path']} ({backend} {version})"
                assert status_ == read["status"], f"{where}: {status_} {answer}"
                then = unwidened(read, normal(read["answer"], revised), bucketed)
                now = normal(answer, revised)
                assert not differences(now, then), f"{where}: {differences(now, then)}"
            check_tokens(http, tokens)


def call(http: httpx.Client, read: dict[str, Any], tokens: dict[str, str]) -> tuple[int, Any]:
    headers = dict(read["headers"])
    if read["token"]:
        headers["Authorization"] = read["scheme"] + tokens[read["token"]]
    body = read["body"]
    response = http.request(
        read["method"], read["path"], headers=headers, json=body if body is not None else None
    )
    try:
        return response.status_code, response.json() if response.content else None
    except ValueError:
        return response.status_code, response.text


def check_tokens(http: httpx.Client, tokens: dict[str, str]) -> None:
    """Every token made at populate time authenticates here, whatever the old version served
    (the Unleash client API came after the first schema, the tokens of then still work for it)."""
    adobe = {"x-gw-ims-org-id": "default@AdobeOrg", "x-sandbox-name": "prod"}
    asks = {
        "admin": ("/v2.3/data/segments", {"Authorization": f"Bearer {tokens['admin']}"}),
        "client": ("/api/client/features", {"Authorization": tokens["client"]}),
        "frontend": ("/api/frontend?appName=web", {"Authorization": tokens.get("frontend", "")}),
        "imsClient": (
            "/data/core/ups/segment/definitions",
            {
                **adobe,
                "Authorization": f"Bearer {tokens.get('imsClient', '')}",
                "x-api-key": "populate-ims",
            },
        ),
    }
    for name, (path, headers) in asks.items():
        if name in tokens:
            response = http.get(path, headers=headers)
            assert response.status_code == 200, (name, response.status_code, response.text)
    if "imsSecret" in tokens:  # the OAuth client: its secret still buys an access token
        grant = http.post(
            "/ims/token/v3",
            data={
                "grant_type": "client_credentials",
                "client_id": "populate-ims",
                "client_secret": tokens["imsSecret"],
                "scope": "openid,AdobeID",
            },
        )
        assert grant.status_code == 200, grant.text
        access = grant.json()["access_token"]
        listed = http.get(
            "/data/core/ups/segment/definitions",
            headers={**adobe, "Authorization": f"Bearer {access}", "x-api-key": "populate-ims"},
        )
        assert listed.status_code == 200, listed.text
    wrong = http.get("/v2.3/data/segments", headers={"Authorization": "Bearer smx_nope"})
    assert wrong.status_code == 401


_ORIGIN = re.compile(r"http://127\.0\.0\.1:\d+")


BUCKETED = {"exp-a", "exp-b"}
"""populate.py's Confidence segments allocated to a share of the units."""


def unwidened(read: dict[str, Any], answer: Any, bucketed: set[str]) -> Any:
    """An old answer as the rule "never widen" (commit 8d06694, after the dumps of 0005 and
    0007 were made) has it: Adobe's and HAL's lists leave out a segment allocated to a share
    of the units, which neither PQL nor an OData filter can say (it would match every unit).
    Those items are taken out of the old answer, their renderings out of segmux's own list,
    and their matches out of ``evaluate`` without a unit; the segments themselves are read,
    unchanged, through the Confidence API (its reads are compared whole)."""
    path = read["path"]
    if path.startswith("/data/core/ups/segment/definitions?"):
        kept = [s for s in answer["segments"] if s["name"] not in BUCKETED]
        # totalCount still counts them (as it does for a store this version populated).
        return {**answer, "segments": kept, "page": {**answer["page"], "pageSize": len(kept)}}
    if path.startswith("/prod/individual-segments?"):
        items = answer["_embedded"]["individual-segments"]
        kept = [s for s in items if s["name"] not in BUCKETED]
        page = {**answer["page"], "totalElements": len(kept)}
        return {**answer, "_embedded": {"individual-segments": kept}, "page": page}
    if path == "/segmux/v1/segments":
        # Their renderings now say why Adobe and HAL cannot have them: code's views, not rows.
        items = [
            {k: v for k, v in s.items() if k != "renderings" or s["name"] not in BUCKETED}
            for s in answer["items"]
        ]
        return {**answer, "items": items}
    if path == "/segmux/v1/evaluate":
        # Without a unit, whether a context is in one is not known: no longer a match.
        return {
            **answer,
            "matches": [m for m in answer["matches"] if m not in bucketed],
            "results": {k: v for k, v in answer["results"].items() if k not in bucketed},
        }
    return answer


def bucketed_ids(record: dict[str, Any]) -> set[str]:
    """The ids segmux's own API gave the BUCKETED segments at populate time."""
    return {
        item["id"]
        for read in record["requests"]
        if read["path"] == "/segmux/v1/segments"
        for item in read["answer"]["items"]
        if item["name"] in BUCKETED
    }


def normal(value: Any, revised: bool) -> Any:
    """The answer with what legitimately differs taken out: the origin in HAL links (each
    server had its own port); a Confidence resolve's id (:func:`_resolve_id_out`); and when the
    upgrade applied ``0006_revisions``, the Unleash client API's revision (``meta.revisionId``
    and the ``meta.etag`` made of it): that migration replaced how the store counts its changes,
    so the first answer after it carries a new revision (an SDK fetches the features once more;
    they are the same)."""
    value = json.loads(_ORIGIN.sub("http://segmux", json.dumps(value, sort_keys=True)))
    if revised and isinstance(value, dict) and isinstance(value.get("meta"), dict):
        value["meta"] = {**value["meta"], "revisionId": "<revision>", "etag": "<revision>"}
    if isinstance(value, dict) and "resolveToken" in value:
        value = {**value, **_resolve_id_out(value["resolveId"], value["resolveToken"])}
    return value


def _resolve_id_out(resolve_id: str, token: str) -> dict[str, Any]:
    """Confidence's resolve with its random parts taken out: a new resolve id each resolve, and
    the token that carries it, signed. What the token assigns must be the same: its payload
    (the JSON after the version and the signature, ``core.resolve_tokens``) without the id."""
    raw = base64.b64decode(token)
    assert raw.startswith(resolve_tokens.VERSION)
    payload = json.loads(raw[len(resolve_tokens.VERSION) + hashlib.sha256().digest_size :])
    assert payload.pop("resolve_id") == resolve_id
    return {"resolveId": "<resolve id>", "resolveToken": payload}


def differences(now: Any, then: Any, at: str = "") -> list[str]:
    """Where the answer now departs from the old one, as JSON paths with both values. A key
    the old answer lacked is no departure: later versions added fields to their answers (e.g.
    ``usedBy`` on segmux's segments), and an added field cannot have lost anything; every value
    the old version answered must be there, the same, and lists have the same items in order."""
    if isinstance(now, dict) and isinstance(then, dict):
        return [
            d
            for key in sorted(then)
            for d in differences(now.get(key, "<absent>"), then[key], f"{at}.{key}")
        ]
    if isinstance(now, list) and isinstance(then, list) and len(now) == len(then):
        return [
            d
            for i, (a, b) in enumerate(zip(now, then, strict=True))
            for d in differences(a, b, f"{at}[{i}]")
        ]
    return [] if now == then else [f"{at or '.'}: now {now!r}, was {then!r}"]


@contextmanager
def serving(url: str) -> Iterator[str]:
    """``segmux serve`` on the upgraded store, as a user starts it."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "SEGMUX_DATABASE_URL": url, "SEGMUX_LOG_LEVEL": "warning"},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, server.communicate()[1]
            assert time.monotonic() < deadline, "segmux serve did not start"
            time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
