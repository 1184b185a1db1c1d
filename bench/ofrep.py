"""The OFREP fixture: 50 flags of one environment, half Unleash features, half Confidence flags,
all evaluated by every bulk request.

Made through the two vendors' admin APIs of a running gateway, in tenant ``ofrep`` (so no other
fixture's flags join the answer): 25 Unleash features, each a 50% ``flexibleRollout`` on
``userId`` for Swedes with two weighted variants carrying payloads, and the resolve fixture's
Confidence flags (``bench.resolve``: split, fallthrough and default rules) 25 times. The
scenario's context names a new ``targetingKey`` per request (``@N@``, see ``bench.wrk``), so
every request evaluates rollouts, variants, targeting and bucket hashes afresh, and no ETag of an
earlier answer can serve it.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from bench.resolve import create_resolve_fixture
from bench.wrk import PLACEHOLDER, Request

UNLEASH_FEATURES = 25
CONFIDENCE_FLAGS = 25
FEATURES = "/api/admin/projects/default/features"


def _variant(name: str, colour: str) -> dict[str, Any]:
    return {
        "name": name,
        "weight": 500,
        "weightType": "variable",
        "stickiness": "default",
        "payload": {"type": "string", "value": colour},
    }


async def create_ofrep_fixture(base: str, admin_token: str) -> None:
    """Make the fixture in the token's tenant (tenant ``ofrep``)."""
    await create_resolve_fixture(base, admin_token, flags=CONFIDENCE_FLAGS)
    headers = {"Authorization": admin_token}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as c:

        async def post(path: str, body: Any | None = None) -> None:
            r = await c.post(path, json=body)
            if r.status_code not in (200, 201):
                raise RuntimeError(f"ofrep fixture: POST {path}: {r.status_code} {r.text[:300]}")

        for i in range(UNLEASH_FEATURES):
            name = f"bench-feature-{i}"
            await post(FEATURES, {"name": name})
            env = f"{FEATURES}/{name}/environments/development"
            await post(
                f"{env}/strategies",
                {
                    "name": "flexibleRollout",
                    "parameters": {"rollout": "50", "stickiness": "userId", "groupId": name},
                    "constraints": [
                        {"contextName": "country", "operator": "IN", "values": ["SE", "NO"]}
                    ],
                    "variants": [_variant("red", "#f00"), _variant("blue", "#00f")],
                },
            )
            await post(f"{env}/on")


def ofrep_bulk_request(token: str) -> Request:
    """The bulk evaluation a static-context provider makes, for a new user per request."""
    body = {"context": {"targetingKey": f"u-{PLACEHOLDER}", "country": "SE", "plan": "pro"}}
    return Request(
        "POST",
        "/ofrep/v1/evaluate/flags",
        {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        json.dumps(body),
    )
