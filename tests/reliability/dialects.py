"""Each dialect's segment calls and error shapes, as a vendor's client sends and sees them, for
tests that drive every dialect of a real gateway at once.

A segment is addressed per dialect by the key that dialect shows: the canonical UUID (v2.3,
Adobe, segmux), the integer ``seq`` (Unleash) or the slug (Confidence, HAL); :class:`Keys`
holds all three, read once from the segmux API.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import httpx

from tests.reliability.procs import ADMIN_TOKEN

SANDBOX = "prod"  # a tenant's default sandbox: HAL's project, Adobe's x-sandbox-name

# Whose calls these are: (token, tenant); the admin token of tenant "default" unless a test
# says otherwise (``as_tenant``), so that a test can have a tenant of its own to itself.
_caller: ContextVar[tuple[str, str]] = ContextVar("caller", default=(ADMIN_TOKEN, "default"))


@contextmanager
def as_tenant(token: str, tenant: str) -> Iterator[None]:
    reset = _caller.set((token, tenant))
    try:
        yield
    finally:
        _caller.reset(reset)


def bearer() -> dict[str, str]:
    return {"Authorization": f"Bearer {_caller.get()[0]}"}


def unleash() -> dict[str, str]:
    return {"Authorization": _caller.get()[0]}  # Unleash sends the bare token


def adobe() -> dict[str, str]:
    # A tenant's IMS org is "<tenant>@AdobeOrg" unless an operator set another.
    return {
        **bearer(),
        "x-gw-ims-org-id": f"{_caller.get()[1]}@AdobeOrg",
        "x-api-key": "segmux-tests",
        "x-sandbox-name": SANDBOX,
        "Accept": "application/json",
    }


ADOBE_DEFS = "/data/core/ups/segment/definitions"
HAL_SEGMENTS = f"/{SANDBOX}/individual-segments"


@dataclass(frozen=True)
class Keys:
    id: str
    seq: int
    slug: str
    name: str


async def keys(client: httpx.AsyncClient, segment_id: str) -> Keys:
    r = await client.get(f"/segmux/v1/segments/{segment_id}", headers=bearer())
    assert r.status_code == 200, r.text
    b = r.json()
    return Keys(id=b["id"], seq=b["seq"], slug=b["slug"], name=b["name"])


async def find(client: httpx.AsyncClient, name: str) -> Keys | None:
    """The segment named ``name`` (searched through the segmux API)."""
    r = await client.get("/segmux/v1/segments", params={"q": name, "limit": 100}, headers=bearer())
    assert r.status_code == 200, r.text
    for item in r.json()["items"]:
        if item["name"] == name:
            return Keys(id=item["id"], seq=item["seq"], slug=item["slug"], name=item["name"])
    return None


# --- error shapes ---------------------------------------------------------------------------


def v23_error(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    b: dict[str, Any] = r.json()
    assert b["success"] is False and isinstance(b["message"], str) and b["message"], b
    return b


def unleash_error(r: httpx.Response, status: int, name: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    b: dict[str, Any] = r.json()
    assert isinstance(b["name"], str) and isinstance(b["message"], str), b
    if name is not None:
        assert b["name"] == name, b
    return b


def adobe_error(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    b: dict[str, Any] = r.json()
    assert set(b) == {"requestId", "errors", "type", "title", "status"}, b
    assert b["status"] == status and b["errors"][str(status)][0]["code"] == status, b
    return b


def confidence_error(r: httpx.Response, status: int, code: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    b: dict[str, Any] = r.json()
    assert set(b) == {"code", "message", "details"} and b["code"] == code, b
    return b


def hal_error(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/hal+json", r.headers
    b: dict[str, Any] = r.json()
    assert list(b) == ["timestamp", "status", "error", "message", "path"], b
    assert b["status"] == status, b
    return b


def segmux_error(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    b: dict[str, Any] = r.json()
    assert isinstance(b["error"], str) and isinstance(b["reason"], str) and b["reason"], b
    return b


# --- one dialect ----------------------------------------------------------------------------

Call = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


@dataclass(frozen=True)
class Dialect:
    name: str
    create: Callable[[httpx.AsyncClient, str], Awaitable[httpx.Response]]
    created_status: int
    created_id: Callable[[httpx.Response], str | int]
    """What the create answer names the segment by (its key in this dialect)."""
    assert_name_taken: Callable[[httpx.Response], object]
    get: Callable[[httpx.AsyncClient, Keys], Awaitable[httpx.Response]] | None
    names: Callable[[httpx.AsyncClient], Awaitable[list[str]]]
    rename: Callable[[httpx.AsyncClient, Keys, str], Awaitable[httpx.Response]] | None
    remove: Callable[[httpx.AsyncClient, Keys], Awaitable[httpx.Response]]
    """Delete (Confidence: ``:archive``, its only way to retire a segment)."""
    assert_unavailable: Callable[[httpx.Response], object]
    probe: Call
    """A cheap authenticated read, for outages."""


def _json_list(key: str, field: str = "name") -> Callable[[httpx.Response], list[str]]:
    def names(r: httpx.Response) -> list[str]:
        assert r.status_code == 200, r.text
        return [item[field] for item in r.json()[key]]

    return names


async def _v23_names(c: httpx.AsyncClient) -> list[str]:
    r = await c.get("/v2.3/data/segments", params={"per_page": 100}, headers=bearer())
    assert r.status_code == 200, r.text
    return [i["name"] for i in r.json()["result"]["items"]]


V23 = Dialect(
    name="v23",
    create=lambda c, n: c.post("/v2.3/data/segments", json={"name": n}, headers=bearer()),
    created_status=200,
    created_id=lambda r: str(r.json()["result"]["id"]),
    assert_name_taken=lambda r: v23_error(r, 422)["errors"]["name"],
    get=None,  # v2.3 has no single-segment read: its list is the read
    names=_v23_names,
    rename=lambda c, k, n: c.put(f"/v2.3/data/segments/{k.id}", json={"name": n}, headers=bearer()),
    remove=lambda c, k: c.delete(f"/v2.3/data/segments/{k.id}", headers=bearer()),
    assert_unavailable=lambda r: v23_error(r, 503),
    probe=lambda c: c.get("/v2.3/data/segments", headers=bearer()),
)


async def _unleash_names(c: httpx.AsyncClient) -> list[str]:
    return _json_list("segments")(await c.get("/api/admin/segments", headers=unleash()))


UNLEASH_DIALECT = Dialect(
    name="unleash",
    create=lambda c, n: c.post(
        "/api/admin/segments", json={"name": n, "constraints": []}, headers=unleash()
    ),
    created_status=201,
    created_id=lambda r: int(r.json()["id"]),
    # The seed: a duplicate name on create is 400 NameExistsError.
    assert_name_taken=lambda r: unleash_error(r, 400, "NameExistsError"),
    get=lambda c, k: c.get(f"/api/admin/segments/{k.seq}", headers=unleash()),
    names=_unleash_names,
    rename=lambda c, k, n: c.put(
        f"/api/admin/segments/{k.seq}", json={"name": n, "constraints": []}, headers=unleash()
    ),
    remove=lambda c, k: c.delete(f"/api/admin/segments/{k.seq}", headers=unleash()),
    assert_unavailable=lambda r: unleash_error(r, 503),
    probe=lambda c: c.get("/api/admin/segments", headers=unleash()),
)


def adobe_body(name: str, pql: str = 'homeAddress.country = "SE"') -> dict[str, Any]:
    return {
        "name": name,
        "profileInstanceId": "ups",
        "description": f"{name} (Adobe)",
        "expression": {"type": "PQL", "format": "pql/text", "value": pql},
        "schema": {"name": "_xdm.context.profile"},
        "ttlInDays": 45,
    }


async def _adobe_names(c: httpx.AsyncClient) -> list[str]:
    return _json_list("segments")(await c.get(ADOBE_DEFS, params={"limit": 100}, headers=adobe()))


ADOBE_DIALECT = Dialect(
    name="adobe",
    create=lambda c, n: c.post(ADOBE_DEFS, json=adobe_body(n), headers=adobe()),
    created_status=200,
    created_id=lambda r: str(r.json()["id"]),
    assert_name_taken=lambda r: adobe_error(r, 422),
    get=lambda c, k: c.get(f"{ADOBE_DEFS}/{k.id}", headers=adobe()),
    names=_adobe_names,
    rename=lambda c, k, n: c.patch(f"{ADOBE_DEFS}/{k.id}", json=adobe_body(n), headers=adobe()),
    remove=lambda c, k: c.delete(f"{ADOBE_DEFS}/{k.id}", headers=adobe()),
    assert_unavailable=lambda r: adobe_error(r, 503),
    probe=lambda c: c.get(ADOBE_DEFS, headers=adobe()),
)


async def _confidence_names(c: httpx.AsyncClient) -> list[str]:
    r = await c.get("/v1/segments", params={"pageSize": 100}, headers=bearer())
    return _json_list("segments", "displayName")(r)


CONFIDENCE = Dialect(
    name="confidence",
    create=lambda c, n: c.post("/v1/segments", json={"displayName": n}, headers=bearer()),
    created_status=200,
    created_id=lambda r: str(r.json()["name"]).removeprefix("segments/"),
    assert_name_taken=lambda r: confidence_error(r, 409, 6),  # ALREADY_EXISTS
    get=lambda c, k: c.get(f"/v1/segments/{k.slug}", headers=bearer()),
    names=_confidence_names,
    rename=lambda c, k, n: c.patch(
        f"/v1/segments/{k.slug}",
        params={"updateMask": "displayName"},
        json={"displayName": n},
        headers=bearer(),
    ),
    remove=lambda c, k: c.post(f"/v1/segments/{k.slug}:archive", json={}, headers=bearer()),
    assert_unavailable=lambda r: confidence_error(r, 503, 14),  # UNAVAILABLE
    probe=lambda c: c.get("/v1/segments", headers=bearer()),
)


async def _hal_names(c: httpx.AsyncClient) -> list[str]:
    r = await c.get(HAL_SEGMENTS, params={"size": 100}, headers=bearer())
    assert r.status_code == 200, r.text
    return [i["name"] for i in r.json().get("_embedded", {}).get("individual-segments", [])]


def hal_body(name: str) -> dict[str, Any]:
    # Dynamic, so that every other dialect can show it too (a static list has no condition).
    return {"name": name, "segmentType": "DYNAMIC", "filter": "homeAddress/country eq 'NO'"}


HAL = Dialect(
    name="hal",
    create=lambda c, n: c.post(HAL_SEGMENTS, json=hal_body(n), headers=bearer()),
    created_status=200,
    created_id=lambda r: str(r.json()["identifier"]),
    assert_name_taken=lambda r: hal_error(r, 409),
    get=lambda c, k: c.get(f"{HAL_SEGMENTS}/{k.slug}", headers=bearer()),
    names=_hal_names,
    rename=lambda c, k, n: c.put(f"{HAL_SEGMENTS}/{k.slug}", json=hal_body(n), headers=bearer()),
    remove=lambda c, k: c.delete(f"{HAL_SEGMENTS}/{k.slug}", headers=bearer()),
    assert_unavailable=lambda r: hal_error(r, 503),
    probe=lambda c: c.get(HAL_SEGMENTS, headers=bearer()),
)


async def segmux_names(c: httpx.AsyncClient) -> list[str]:
    r = await c.get("/segmux/v1/segments", params={"limit": 100}, headers=bearer())
    assert r.status_code == 200, r.text
    return [i["name"] for i in r.json()["items"]]


async def segmux_get(c: httpx.AsyncClient, k: Keys) -> httpx.Response:
    return await c.get(f"/segmux/v1/segments/{k.id}", headers=bearer())


SEGMUX = Dialect(
    name="segmux",
    create=lambda c, n: c.post(
        "/segmux/v1/segments",
        headers=bearer(),
        json={
            "name": n,
            "description": f"{n} (segmux)",
            "condition": {"language": "odata", "expression": "homeAddress/country eq 'DK'"},
        },
    ),
    created_status=201,
    created_id=lambda r: str(r.json()["id"]),
    assert_name_taken=lambda r: segmux_error(r, 409)["error"] == "conflict",
    get=segmux_get,
    names=segmux_names,
    rename=lambda c, k, n: c.patch(
        f"/segmux/v1/segments/{k.id}", json={"name": n}, headers=bearer()
    ),
    remove=lambda c, k: c.delete(f"/segmux/v1/segments/{k.id}", headers=bearer()),
    assert_unavailable=lambda r: segmux_error(r, 503),
    probe=lambda c: c.get("/segmux/v1/segments", headers=bearer()),
)

WRITERS = (V23, UNLEASH_DIALECT, ADOBE_DIALECT, CONFIDENCE, HAL, SEGMUX)
"""Every dialect that creates segments."""
