"""The write scenarios: segment create and update through each dialect that writes, and through
the real Unleash server's admin API beside segmux's.

A create sends a new unique name per request (``@N@``, see :mod:`bench.wrk`). An update cycles
over :data:`UPDATE_KEYS` segments made before the run through the same dialect's create (their
ids, as each dialect names them, fill ``@K@``), each request with another name and another
condition, so no two consecutive requests write the same body. A write that answers anything
but its 2xx fails the scenario (bench.run refuses the figure): a throughput made of refusals
(a name taken, a segment limit reached) would measure the wrong thing. Both servers are started
with their segment limit raised for this (segmux ``SEGMUX_SEGMENT_LIMIT``, unleash-server
``UNLEASH_SEGMENTS_LIMIT``; both default to 300).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from bench.fixtures import SANDBOX
from bench.wrk import KEY, PLACEHOLDER, Request

ADOBE = "/data/core/ups/segment/definitions"
JSON = {"Content-Type": "application/json"}
UPDATE_KEYS = 200
"""Segments an update scenario cycles over: enough that 10 connections rarely write the same
one at once (each would wait on the other's row lock, which is not what is measured)."""
SEGMENT_LIMIT = "100000000"
"""Both servers' segment limit while they are measured: creates run for seconds at thousands of
requests per second."""
N = PLACEHOLDER


@dataclass(frozen=True)
class Write:
    """One dialect's create and update; ``key`` reads the id an update's path takes from a
    create's answer."""

    dialect: str
    create: Request
    created: tuple[int, ...]
    update: Request  # its path holds @K@
    updated: tuple[int, ...]
    key: Callable[[Any], str]


def _unleash(token: str) -> Write:
    headers = {"Authorization": token, **JSON}

    def body(values: list[str]) -> str:
        return json.dumps(
            {
                "name": N,
                "constraints": [{"contextName": "userId", "operator": "IN", "values": values}],
            }
        )

    return Write(
        "unleash",
        Request("POST", "/api/admin/segments", headers, body(["u1", "u2"])),
        (201,),
        Request("PUT", f"/api/admin/segments/{KEY}", headers, body([f"u-{N}", "u2"])),
        (204,),
        lambda doc: str(doc["id"]),
    )


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **JSON}


def _adobe_body(country: str) -> str:
    return json.dumps(
        {
            "name": N,
            "schema": {"name": "_xdm.context.profile"},
            "ttlInDays": 60,
            "expression": {
                "type": "PQL",
                "format": "pql/text",
                "value": f'workAddress.country = "{country}"',
            },
        }
    )


def _hal_body(value: str) -> str:
    return json.dumps(
        {"name": N, "segmentType": "DYNAMIC", "filter": f"demographics/age/value eq '{value}'"}
    )


def segmux_writes(token: str) -> list[Write]:
    """Every dialect's writes, on the tenant of ``token`` (fixture A's writes tenant)."""
    bearer = _bearer(token)
    adobe = {
        **bearer,
        "x-api-key": "bench",
        "x-gw-ims-org-id": "writes@AdobeOrg",
        "x-sandbox-name": SANDBOX,
        "Accept": "application/json",
    }
    se = {"attribute": {"attributeName": "country", "eqRule": {"value": {"stringValue": "SE"}}}}
    hal = f"/{SANDBOX}/individual-segments"
    segmux_condition = {"language": "odata", "expression": "homeAddress/country eq 'DK'"}
    return [
        _unleash(token),
        Write(
            "adobe",
            Request("POST", ADOBE, adobe, _adobe_body("US")),
            (200,),
            Request("PATCH", f"{ADOBE}/{KEY}", adobe, _adobe_body(N)),
            (200,),
            lambda doc: str(doc["id"]),
        ),
        Write(
            "confidence",
            Request(
                "POST",
                "/v1/segments",
                bearer,
                json.dumps(
                    {
                        "displayName": N,
                        "targeting": {"criteria": {"se": se}, "expression": {"ref": "se"}},
                    }
                ),
            ),
            (200,),
            Request(
                "PATCH",
                f"/v1/segments/{KEY}?updateMask=displayName",
                bearer,
                json.dumps({"displayName": N}),
            ),
            (200,),
            lambda doc: str(doc["name"]).rsplit("/", 1)[-1],
        ),
        Write(
            "v23",
            Request(
                "POST",
                "/v2.3/data/segments",
                {**bearer, "Accept": "application/json"},
                json.dumps({"name": N}),
            ),
            (200, 201),
            Request(
                "PUT",
                f"/v2.3/data/segments/{KEY}",
                {**bearer, "Accept": "application/json"},
                json.dumps({"name": N}),
            ),
            (200,),
            lambda doc: str(doc["result"]["id"]),
        ),
        Write(
            "hal",
            Request("POST", hal, bearer, _hal_body("30")),
            (200, 201),
            Request("PUT", f"{hal}/{KEY}", bearer, _hal_body(N)),
            (200,),
            lambda doc: str(doc["identifier"]),
        ),
        Write(
            "segmux",
            Request(
                "POST",
                "/segmux/v1/segments",
                bearer,
                json.dumps({"name": N, "condition": segmux_condition}),
            ),
            (201,),
            Request("PATCH", f"/segmux/v1/segments/{KEY}", bearer, json.dumps({"name": N})),
            (200,),
            lambda doc: str(doc["id"]),
        ),
    ]


def unleash_writes(admin: str) -> list[Write]:
    """The real Unleash server's side: the same requests as segmux's Unleash writes."""
    return [_unleash(admin)]


async def make_keys(base: str, write: Write, count: int = UPDATE_KEYS) -> tuple[str, ...]:
    """``count`` segments made through ``write``'s create (8 at a time); their ids."""
    prefix = f"upd-{uuid.uuid4().hex[:8]}"
    sem = asyncio.Semaphore(8)
    async with httpx.AsyncClient(base_url=base, timeout=60) as c:

        async def one(i: int) -> str:
            req = write.create
            body = (req.body or "").replace(N, f"{prefix}-{i}")
            async with sem:
                r = await c.request(req.method, req.path, headers=req.headers, content=body)
            if r.status_code not in write.created:
                raise RuntimeError(
                    f"{write.dialect} create for the update keys: {r.status_code} {r.text[:200]}"
                )
            return write.key(r.json())

        return tuple(await asyncio.gather(*(one(i) for i in range(count))))


def with_keys(req: Request, keys: tuple[str, ...]) -> Request:
    return dataclasses.replace(req, keys=keys)


async def remove_unleash_segments(base: str, admin: str, keep: set[int]) -> int:
    """Delete, through the real Unleash server's admin API (8 at a time), every segment whose
    id is not in ``keep``: what its write scenarios made. Unleash 8.2.0 has no tenants and
    ``GET /api/admin/segments`` answers every segment of every project, so this is the only way
    its next reads see fixture A alone. Returns how many were deleted."""
    headers = {"Authorization": admin}
    sem = asyncio.Semaphore(8)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as c:
        r = await c.get("/api/admin/segments")
        r.raise_for_status()
        made = [int(s["id"]) for s in r.json()["segments"] if int(s["id"]) not in keep]

        async def one(ident: int) -> None:
            async with sem:
                d = await c.delete(f"/api/admin/segments/{ident}")
            if d.status_code != 204:
                raise RuntimeError(f"DELETE segment {ident}: {d.status_code} {d.text[:200]}")

        await asyncio.gather(*(one(i) for i in made))
    return len(made)
