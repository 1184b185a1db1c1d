"""The resolve fixture: 50 Confidence flags of one client, each resolved by every request.

Made through the admin API of a running gateway (``bench.run``: tenant ``resolve``, so that
fixture A's lists hold fixture A alone): three segments (Sweden, half of Sweden by bucket,
everyone), a client with one credential, and 50 flags whose three rules are what a real
experiment looks like — a 50/50 split on the half segment, a fallthrough on Sweden, a default for
everyone — so that a resolve does targeting, bitset and variant hashing for every flag. The
scenario's body names a new unit per request (``@N@``, see ``bench.wrk``), so no answer can come
from a cache of answers.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from bench.wrk import PLACEHOLDER, Request

FLAGS = 50
SWEDEN = {
    "criteria": {
        "se": {
            "attribute": {"attributeName": "country", "eqRule": {"value": {"stringValue": "SE"}}}
        }
    },
    "expression": {"ref": "se"},
}


def _assign(flag: str, variant: str | None, lower: int, upper: int, kind: str = "variant") -> Any:
    out: dict[str, Any] = {
        "assignmentId": f"{kind}-{lower}",
        "bucketRanges": [{"lower": lower, "upper": upper}],
    }
    if kind == "variant":
        out["variant"] = {"variant": f"flags/{flag}/variants/{variant}"}
    else:
        out[kind] = {}
    return out


async def create_resolve_fixture(
    base: str,
    admin_token: str,
    flags: int = FLAGS,
    transport: httpx.AsyncBaseTransport | None = None,
) -> str:
    """Make the fixture (``flags`` flags) in the token's tenant; returns the client secret the
    scenario sends. ``transport``: another way to the gateway than the network (an in-process
    app)."""
    headers = {"Authorization": f"Bearer {admin_token}"}
    async with httpx.AsyncClient(
        base_url=base, headers=headers, timeout=60, transport=transport
    ) as c:

        async def post(path: str, body: Any, **params: str) -> Any:
            r = await c.post(path, json=body, params=params)
            if r.status_code != 200:
                raise RuntimeError(f"resolve fixture: POST {path}: {r.status_code} {r.text[:300]}")
            return r.json()

        await post(
            "/v1/segments",
            {"displayName": "bench sweden", "targeting": SWEDEN},
            segmentId="bench-se",
        )
        await post(
            "/v1/segments",
            {
                "displayName": "bench half",
                "targeting": SWEDEN,
                "allocation": {"proportion": {"value": "0.5"}},
            },
            segmentId="bench-half",
        )
        await post("/v1/segments", {"displayName": "bench all"}, segmentId="bench-all")
        client = await post("/v1/clients", {"displayName": "bench"})
        cred = await post(f"/v1/{client['name']}/credentials", {"displayName": "bench"})
        schema: dict[str, Any] = {
            "schema": {"enabled": {"boolSchema": {}}, "color": {"stringSchema": {}}}
        }
        for i in range(flags):
            f = f"bench-flag-{i}"
            await post("/v1/flags", {"schema": schema, "clients": [client["name"]]}, flagId=f)
            for v, value in (
                ("on", {"enabled": True, "color": "red"}),
                ("off", {"enabled": False}),
            ):
                await post(
                    f"/v1/flags/{f}/variants", {"name": f"flags/{f}/variants/{v}", "value": value}
                )
            rules = [
                ("segments/bench-half", [_assign(f, "on", 0, 50), _assign(f, "off", 50, 100)]),
                ("segments/bench-se", [_assign(f, None, 0, 100, "fallthrough")]),
                ("segments/bench-all", [_assign(f, "off", 0, 100)]),
            ]
            for segment, assignments in rules:
                await post(
                    f"/v1/flags/{f}/rules",
                    {
                        "segment": segment,
                        "enabled": True,
                        "assignmentSpec": {"bucketCount": 100, "assignments": assignments},
                    },
                )
        return str(cred["clientSecret"]["secret"])


def resolve_request(secret: str) -> Request:
    """``:resolve`` of all the client's flags for a new unit per request."""
    body = {
        "clientSecret": secret,
        "evaluationContext": {"targeting_key": PLACEHOLDER, "country": "SE"},
        "flags": [],
        "apply": True,
        "sdk": {"id": "SDK_ID_PYTHON_CONFIDENCE", "version": "3.0.3"},
    }
    return Request(
        "POST", "/v1/flags:resolve", {"Content-Type": "application/json"}, json.dumps(body)
    )
