"""Tenant isolation, walked over every operation of every served spec, on both backends.

The list of operations comes from the specs the gateway serves (not from a hand-kept list), so a
new route cannot escape the walk: ``test_every_operation_is_walked`` fails until the route has a
rule here. For each operation, tenant B calls it with tenant A's resource ids in the path and,
for writes, a valid body (so the request gets past validation to the lookup, which is what is
being tested):

- an operation addressing one of A's resources answers 404 — never 403, which would say that the
  resource exists — and never any of A's data;
- a collection read answers 2xx with none of A's names or ids;
- a create with A's names succeeds for B (a 409 would leak that A holds the name);
- afterwards A's data is exactly as it was.

Then A's client-scoped (SDK) token tries every write of every dialect on A's own resources: each
is refused with 401/403 and, again, nothing of A's changes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

import openapi
from core.store import Store
from tests.conftest import make_token
from tests.dialects.adobe.common import body as adobe_body
from tests.dialects.adobe.common import headers as adobe_headers

PROJECT = "my-project"
SECRET = "secret-of-a"  # in every name A creates; B must never see it


@dataclass
class World:
    """Tenant A's resources, one or more per dialect, and what B's calls substitute for them."""

    ids: dict[str, str] = field(default_factory=dict)

    def names(self) -> list[str]:
        return [v for v in self.ids.values() if SECRET in v]

    def leaks(self) -> list[str]:
        """Strings that must never appear in a body B receives for a collection."""
        return [v for k, v in self.ids.items() if k.endswith(("name", "uuid", "ident"))]


async def _ok(r: httpx.Response, *statuses: int) -> Any:
    assert r.status_code in statuses, (r.request.method, r.request.url, r.status_code, r.text)
    return r.json() if r.content else None


async def build_world(c: httpx.AsyncClient, token: str) -> World:
    w = World()
    bearer = {"Authorization": f"Bearer {token}"}
    # v2.3
    doc = await _ok(
        await c.post("/v2.3/data/segments", json={"name": f"v23 {SECRET}"}, headers=bearer),
        200,
        201,
    )
    w.ids["v23.uuid"] = doc["result"]["id"]
    w.ids["v23.name"] = f"v23 {SECRET}"
    await _ok(
        await c.post("/v2.3/data/segments", json={"name": f"only-a {SECRET}"}, headers=bearer),
        200,
        201,
    )
    w.ids["only.name"] = f"only-a {SECRET}"  # a name no step of B's creates
    # Unleash: a segment, a feature, a strategy using the segment
    u = {"Authorization": token}
    constraints = [{"contextName": "country", "operator": "IN", "values": ["SE"]}]
    doc = await _ok(
        await c.post(
            "/api/admin/segments",
            json={"name": f"unleash-{SECRET}", "constraints": constraints},
            headers=u,
        ),
        201,
    )
    w.ids["unleash.id"] = str(doc["id"])
    w.ids["unleash.name"] = f"unleash-{SECRET}"
    await _ok(
        await c.post("/api/admin/projects/default/features", json={"name": "feature-a"}, headers=u),
        201,
    )
    w.ids["feature.name"] = "feature-a"
    doc = await _ok(
        await c.post(
            "/api/admin/projects/default/features/feature-a/environments/development/strategies",
            json={"name": "default", "segments": [int(w.ids["unleash.id"])]},
            headers=u,
        ),
        200,
    )
    w.ids["strategy.id"] = doc["id"]
    # On, so that A's frontend token sees it (for Swedes): what B's must never see.
    await _ok(
        await c.post(
            "/api/admin/projects/default/features/feature-a/environments/development/on",
            headers=u,
        ),
        200,
    )
    # Adobe
    doc = await _ok(
        await c.post(
            "/data/core/ups/segment/definitions",
            json=adobe_body(f"adobe {SECRET}"),
            headers=adobe_headers(token),
        ),
        200,
    )
    w.ids["adobe.uuid"] = doc["id"]
    w.ids["adobe.name"] = f"adobe {SECRET}"
    # Confidence
    doc = await _ok(
        await c.post(
            "/v1/segments",
            params={"segmentId": "conf-a-slug"},
            json={"displayName": f"confidence {SECRET}"},
            headers=bearer,
        ),
        200,
    )
    w.ids["confidence.slug"] = "conf-a-slug"
    w.ids["confidence.name"] = f"confidence {SECRET}"
    # Confidence flags: a client with a credential, a flag with a variant and a rule on the
    # segment above (ids without the secret: a 404 may repeat the id B sent, never A's data)
    doc = await _ok(
        await c.post("/v1/clients", json={"displayName": f"client {SECRET}"}, headers=bearer), 200
    )
    w.ids["client.id"] = doc["name"].removeprefix("clients/")
    w.ids["client.name"] = f"client {SECRET}"
    doc = await _ok(
        await c.post(
            f"/v1/clients/{w.ids['client.id']}/credentials",
            json={"displayName": f"key {SECRET}"},
            headers=bearer,
        ),
        200,
    )
    w.ids["credential.id"] = doc["name"].rsplit("/", 1)[1]
    w.ids["credential.name"] = f"key {SECRET}"
    await _ok(
        await c.post(
            "/v1/flags",
            params={"flagId": "flag-a"},
            json={
                "description": f"flag {SECRET}",
                "schema": {"schema": {"on": {"boolSchema": {}}}},
                "variants": [{"name": "flags/flag-a/variants/va", "value": {"on": True}}],
                "clients": [f"clients/{w.ids['client.id']}"],
            },
            headers=bearer,
        ),
        200,
    )
    w.ids["flag.name"] = f"flag {SECRET}"
    doc = await _ok(await c.post("/v1/flags/flag-a/rules", json=_flag_rule(w), headers=bearer), 200)
    w.ids["rule.id"] = doc["name"].rsplit("/", 1)[1]
    # HAL: a STATIC segment with one member
    hal = f"/{PROJECT}"
    seg = await _ok(
        await c.post(
            f"{hal}/individual-segments",
            json={"name": f"hal {SECRET}", "filter": None, "segmentType": "STATIC"},
            headers=bearer,
        ),
        200,
    )
    w.ids["hal.ident"] = seg["identifier"]
    w.ids["hal.name"] = f"hal {SECRET}"
    ind = await _ok(
        await c.post(f"{hal}/individuals", json={"identifier": "indiv-a"}, headers=bearer), 200
    )
    w.ids["individual.ident"] = ind["identifier"]
    await _ok(
        await c.post(
            f"{hal}/individual-segments/{seg['identifier']}/memberships",
            json={
                "individualSegmentIdentifier": seg["identifier"],
                "individualIdentifier": ind["identifier"],
            },
            headers=bearer,
        ),
        200,
        201,
        204,
    )
    # the canonical id of one of them, for segmux's own API
    doc = await _ok(
        await c.get("/segmux/v1/segments", params={"q": f"v23 {SECRET}"}, headers=bearer), 200
    )
    w.ids["segmux.uuid"] = doc["items"][0]["id"]
    return w


# --- how B calls each operation ---------------------------------------------------------------

Kind = str  # "resource" | "collection" | "create" | "stateless"


@dataclass(frozen=True)
class Rule:
    kind: Kind
    body: Callable[[World], Any] | None = None
    params: Callable[[World], dict[str, str]] | None = None
    echoes: bool = False  # the answer may repeat the ids B sent (but never A's names)


def _strategy_body(w: World) -> dict[str, Any]:
    return {"name": "default", "constraints": [], "parameters": {}}


def _register() -> dict[str, Any]:
    return {
        "appName": "walk",
        "instanceId": "i",
        "strategies": [],
        "started": "2026-01-01T00:00:00Z",
        "interval": 15000,
    }


def _metrics() -> dict[str, Any]:
    return {
        "appName": "walk",
        "instanceId": "i",
        "bucket": {"start": "2026-01-01T00:00:00Z", "stop": "2026-01-01T00:01:00Z", "toggles": {}},
    }


def _flag_rule(w: World) -> dict[str, Any]:
    return {
        "segment": f"segments/{w.ids['confidence.slug']}",
        "enabled": True,
        "assignmentSpec": {
            "bucketCount": 1,
            "assignments": [
                {
                    "assignmentId": f"assignment {SECRET}",
                    "variant": {"variant": "flags/flag-a/variants/va"},
                    "bucketRanges": [{"lower": 0, "upper": 1}],
                }
            ],
        },
    }


def _hal_segment(w: World) -> dict[str, Any]:
    return {"name": w.ids["hal.name"], "filter": None, "segmentType": "STATIC"}


RULES: dict[tuple[str, str], Rule] = {
    # v2.3
    ("get", "/v2.3/data/segments"): Rule("collection"),
    ("post", "/v2.3/data/segments"): Rule("create", lambda w: {"name": w.ids["v23.name"]}),
    ("put", "/v2.3/data/segments/{segmentId}"): Rule("resource", lambda w: {"name": "renamed"}),
    ("delete", "/v2.3/data/segments/{segmentId}"): Rule("resource"),
    # Unleash
    ("get", "/api/admin/segments"): Rule("collection"),
    ("post", "/api/admin/segments"): Rule(
        "create", lambda w: {"name": w.ids["unleash.name"], "constraints": []}
    ),
    ("post", "/api/admin/segments/validate"): Rule(
        "create", lambda w: {"name": w.ids["only.name"]}
    ),
    # B attaching A's segment to a strategy: the segment is not B's → 404.
    ("post", "/api/admin/segments/strategies"): Rule(
        "resource",
        lambda w: {
            "projectId": "default",
            "strategyId": w.ids["strategy.id"],
            "environmentId": "development",
            "segmentIds": [int(w.ids["unleash.id"])],
        },
    ),
    ("get", "/api/admin/segments/strategies/{strategyId}"): Rule("resource"),
    ("get", "/api/admin/segments/{id}"): Rule("resource"),
    ("put", "/api/admin/segments/{id}"): Rule(
        "resource", lambda w: {"name": "renamed", "constraints": []}
    ),
    ("delete", "/api/admin/segments/{id}"): Rule("resource"),
    ("get", "/api/admin/segments/{id}/strategies"): Rule("resource"),
    ("post", "/api/admin/projects/{projectId}/features"): Rule(
        "create", lambda w: {"name": w.ids["feature.name"]}
    ),
    (
        "get",
        "/api/admin/projects/{projectId}/features/{featureName}/environments/{environment}/"
        "strategies",
    ): Rule("resource"),
    (
        "post",
        "/api/admin/projects/{projectId}/features/{featureName}/environments/{environment}/"
        "strategies",
    ): Rule("resource", _strategy_body),
    (
        "get",
        "/api/admin/projects/{projectId}/features/{featureName}/environments/{environment}/"
        "strategies/{strategyId}",
    ): Rule("resource"),
    (
        "put",
        "/api/admin/projects/{projectId}/features/{featureName}/environments/{environment}/"
        "strategies/{strategyId}",
    ): Rule("resource", _strategy_body),
    (
        "delete",
        "/api/admin/projects/{projectId}/features/{featureName}/environments/"
        "{environment}/strategies/{strategyId}",
    ): Rule("resource"),
    (
        "post",
        "/api/admin/projects/{projectId}/features/{featureName}/environments/{environment}/on",
    ): Rule("resource"),
    (
        "post",
        "/api/admin/projects/{projectId}/features/{featureName}/environments/{environment}/off",
    ): Rule("resource"),
    ("get", "/api/admin/projects/{projectId}/features"): Rule("collection"),
    ("get", "/api/admin/projects/{projectId}/features/{featureName}"): Rule("resource"),
    (
        "get",
        "/api/admin/projects/{projectId}/features/{featureName}/environments/{environment}",
    ): Rule("resource"),
    ("delete", "/api/admin/projects/{projectId}/features/{featureName}"): Rule("resource"),
    (
        "get",
        "/api/admin/projects/{projectId}/features/{featureName}/environments/{environment}/"
        "variants",
    ): Rule("resource"),
    (
        "put",
        "/api/admin/projects/{projectId}/features/{featureName}/environments/{environment}/"
        "variants",
    ): Rule("resource", lambda w: []),
    (
        "patch",
        "/api/admin/projects/{projectId}/features/{featureName}/environments/{environment}/"
        "variants",
    ): Rule("resource", lambda w: []),
    # Batches ignore names B has no flag of (200/202, nothing changes: the snapshot checks).
    ("post", "/api/admin/projects/{projectId}/archive"): Rule(
        "stateless", lambda w: {"features": [w.ids["feature.name"]]}
    ),
    ("post", "/api/admin/projects/{projectId}/revive"): Rule(
        "stateless", lambda w: {"features": [w.ids["feature.name"]]}
    ),
    ("post", "/api/admin/archive/revive/{featureName}"): Rule("resource"),
    # Deleting a name that is no archived flag of B's is a 200 that changes nothing.
    ("delete", "/api/admin/archive/{featureName}"): Rule("stateless"),
    ("get", "/api/client/features"): Rule("collection"),
    # The frontend API: B's frontend token sees B's toggles only.
    ("get", "/api/frontend"): Rule("collection", params=lambda w: {"country": "SE"}),
    ("post", "/api/frontend"): Rule("collection", lambda w: {"context": {"country": "SE"}}),
    ("post", "/api/frontend/client/metrics"): Rule("stateless", lambda w: _metrics()),
    ("post", "/api/frontend/client/register"): Rule("stateless", lambda w: _register()),
    ("get", "/api/client/features/{featureName}"): Rule("resource"),
    ("post", "/api/client/register"): Rule("stateless", lambda w: _register()),
    ("post", "/api/client/metrics"): Rule("stateless", lambda w: _metrics()),
    # Adobe
    ("get", "/data/core/ups/segment/definitions"): Rule("collection"),
    ("post", "/data/core/ups/segment/definitions"): Rule(
        "create", lambda w: adobe_body(w.ids["adobe.name"])
    ),
    ("get", "/data/core/ups/segment/definitions/{SEGMENT_ID}"): Rule("resource"),
    ("patch", "/data/core/ups/segment/definitions/{SEGMENT_ID}"): Rule(
        "resource", lambda w: adobe_body("changed by B")
    ),
    ("delete", "/data/core/ups/segment/definitions/{SEGMENT_ID}"): Rule("resource"),
    # bulk-get of A's ids: answered (it is a collection read; the ids B sent are echoed as not
    # found), without any of A's data.
    ("post", "/data/core/ups/segment/definitions/bulk-get"): Rule(
        "collection", lambda w: {"ids": [{"id": w.ids["adobe.uuid"]}]}, echoes=True
    ),
    ("post", "/data/core/ups/segment/conversion"): Rule(
        "stateless",
        lambda w: {
            "name": "c",
            "imsOrgId": "tenant-b@AdobeOrg",
            "description": None,
            "expression": {"type": "PQL", "format": "pql/text", "value": 'a = "b"'},
            "schema": {"name": "_xdm.context.profile"},
            "ttlInDays": 30,
        },
    ),
    ("post", "/ims/token/v3"): Rule("stateless"),
    # Confidence
    ("get", "/v1/segments"): Rule("collection"),
    ("post", "/v1/segments"): Rule(
        "create",
        lambda w: {"displayName": w.ids["confidence.name"]},
        lambda w: {"segmentId": w.ids["confidence.slug"]},
    ),
    ("get", "/v1/segments/{segmentId}"): Rule("resource"),
    ("patch", "/v1/segments/{segmentId}"): Rule("resource", lambda w: {"displayName": "B"}),
    ("delete", "/v1/segments/{segmentId}"): Rule("resource"),
    ("post", "/v1/segments/{segmentId}:allocate"): Rule("resource", lambda w: {}),
    ("post", "/v1/segments/{segmentId}:archive"): Rule("resource", lambda w: {}),
    ("post", "/v1/segments/{segmentId}:segmentAvailableSpace"): Rule("resource", lambda w: {}),
    ("post", "/v1/oauth/token"): Rule("stateless"),
    # The resolver takes no token: the client secret in the body names the tenant. B's walk
    # sends a secret no one was issued, so the answer is a 401 that must name nothing of A's.
    ("post", "/v1/flags:resolve"): Rule(
        "stateless",
        lambda w: {
            "clientSecret": "walk-secret",
            "evaluationContext": {},
            "flags": ["flags/flag-a"],
        },
    ),
    ("post", "/v1/flags:apply"): Rule(
        "stateless",
        lambda w: {
            "clientSecret": "walk-secret",
            "resolveToken": "AAAA",
            "flags": [{"flag": "flags/flag-a", "applyTime": "2026-01-01T00:00:00Z"}],
            "sendTime": "2026-01-01T00:00:00Z",
        },
    ),
    ("get", "/v1/flags"): Rule("collection"),
    ("post", "/v1/flags"): Rule(
        "create", lambda w: {"description": w.ids["flag.name"]}, lambda w: {"flagId": "flag-a"}
    ),
    ("get", "/v1/flags/{flagId}"): Rule("resource"),
    ("patch", "/v1/flags/{flagId}"): Rule("resource", lambda w: {"description": "B"}),
    ("post", "/v1/flags/{flagId}:archive"): Rule("resource", lambda w: {}),
    ("post", "/v1/flags/{flagId}:addFlagClient"): Rule(
        "resource", lambda w: {"client": f"clients/{w.ids['client.id']}"}
    ),
    ("post", "/v1/flags/{flagId}:removeFlagClient"): Rule(
        "resource", lambda w: {"client": f"clients/{w.ids['client.id']}"}
    ),
    ("get", "/v1/flags/{flagId}/variants"): Rule("resource"),
    ("post", "/v1/flags/{flagId}/variants"): Rule(
        "resource",
        lambda w: {"name": "flags/flag-a/variants/vb", "value": {}, "description": "B"},
    ),
    ("get", "/v1/flags/{flagId}/variants/{variantId}"): Rule("resource"),
    ("patch", "/v1/flags/{flagId}/variants/{variantId}"): Rule(
        "resource", lambda w: {"description": "B"}
    ),
    ("delete", "/v1/flags/{flagId}/variants/{variantId}"): Rule("resource"),
    ("get", "/v1/flags/{flagId}/rules"): Rule("resource"),
    ("post", "/v1/flags/{flagId}/rules"): Rule("resource", _flag_rule),
    ("get", "/v1/flags/{flagId}/rules/{ruleId}"): Rule("resource"),
    ("patch", "/v1/flags/{flagId}/rules/{ruleId}"): Rule(
        "resource", lambda w: {"targetingKeySelector": "B"}
    ),
    ("delete", "/v1/flags/{flagId}/rules/{ruleId}"): Rule("resource"),
    ("get", "/v1/clients"): Rule("collection"),
    ("post", "/v1/clients"): Rule("create", lambda w: {"displayName": w.ids["client.name"]}),
    ("get", "/v1/clients/{clientId}"): Rule("resource"),
    ("delete", "/v1/clients/{clientId}"): Rule("resource"),
    ("get", "/v1/clients/{clientId}/credentials"): Rule("resource"),
    ("post", "/v1/clients/{clientId}/credentials"): Rule(
        "resource", lambda w: {"displayName": "B", "environments": ["production"]}
    ),
    ("get", "/v1/clients/{clientId}/credentials/{credentialId}"): Rule("resource"),
    ("delete", "/v1/clients/{clientId}/credentials/{credentialId}"): Rule("resource"),
    # HAL
    ("get", "/"): Rule("stateless"),
    ("get", "/management/health"): Rule("stateless"),
    ("get", "/{projectId}/individual-segments"): Rule("collection"),
    ("post", "/{projectId}/individual-segments"): Rule("create", _hal_segment),
    ("get", "/{projectId}/individual-segments/{id}"): Rule("resource"),
    ("put", "/{projectId}/individual-segments/{id}"): Rule("resource", _hal_segment),
    ("delete", "/{projectId}/individual-segments/{id}"): Rule("resource"),
    ("get", "/{projectId}/individual-segments/{id}/individuals"): Rule("resource"),
    ("post", "/{projectId}/individual-segments/{id}/memberships"): Rule(
        "resource",
        lambda w: {
            "individualSegmentIdentifier": w.ids["hal.ident"],
            "individualIdentifier": w.ids["individual.ident"],
        },
    ),
    ("delete", "/{projectId}/individual-segments/{id}/memberships/{individualId}"): Rule(
        "resource"
    ),
    ("get", "/{projectId}/individuals"): Rule("collection"),
    ("post", "/{projectId}/individuals"): Rule(
        "create", lambda w: {"identifier": w.ids["individual.ident"]}
    ),
    ("get", "/{projectId}/individuals/{id}"): Rule("resource"),
    ("put", "/{projectId}/individuals/{id}"): Rule(
        "resource", lambda w: {"identifier": w.ids["individual.ident"]}
    ),
    ("delete", "/{projectId}/individuals/{id}"): Rule("resource"),
    ("get", "/{projectId}/individuals/{id}/individual-segments"): Rule("resource"),
    # segmux's own API
    ("get", "/segmux/v1/segments"): Rule("collection"),
    ("get", "/segmux/v1/segments/{id}"): Rule("resource"),
    ("post", "/segmux/v1/translate"): Rule(
        "stateless", lambda w: {"from": "pql", "to": "odata", "expression": 'a = "b"'}
    ),
    ("post", "/segmux/v1/evaluate"): Rule(
        "resource", lambda w: {"context": {}, "segments": [w.ids["segmux.uuid"]]}
    ),
    ("post", "/segmux/v1/evaluate:batch"): Rule(
        "resource", lambda w: {"contexts": [{}], "segments": [w.ids["segmux.uuid"]]}
    ),
    # OFREP: B's OFREP token evaluates B's flags only; A's feature is no flag of B's.
    ("post", "/ofrep/v1/evaluate/flags"): Rule(
        "collection", lambda w: {"context": {"targetingKey": "u1", "country": "SE"}}
    ),
    ("post", "/ofrep/v1/evaluate/flags/{key}"): Rule(
        "resource", lambda w: {"context": {"targetingKey": "u1", "country": "SE"}}, echoes=True
    ),
    # A's HAL name, in prod (B's HAL create takes it in my-project; names are per sandbox).
    ("post", "/segmux/v1/segments"): Rule("create", lambda w: {"name": w.ids["hal.name"]}),
    ("patch", "/segmux/v1/segments/{id}"): Rule("resource", lambda w: {"name": "changed by B"}),
    ("delete", "/segmux/v1/segments/{id}"): Rule("resource"),
}


def operations() -> list[tuple[str, str, str]]:
    """(spec, method, path) for every operation of every served spec."""
    out = []
    for name in openapi.names():
        spec = json.loads(openapi.as_json(name))
        for path, item in spec["paths"].items():
            for method in item:
                if method in ("get", "post", "put", "patch", "delete"):
                    out.append((name, method, path))
    return out


def fill(path: str, w: World) -> str:
    """A's resource ids in the path's parameters, chosen by the dialect the path belongs to."""
    if path.startswith("/v2.3/"):
        values = {"segmentId": w.ids["v23.uuid"]}
    elif path.startswith("/api/"):
        values = {
            "id": w.ids["unleash.id"],
            "strategyId": w.ids["strategy.id"],
            "projectId": "default",
            "featureName": w.ids["feature.name"],
            "environment": "development",
        }
    elif path.startswith("/data/core/ups/"):
        values = {"SEGMENT_ID": w.ids["adobe.uuid"]}
    elif path.startswith("/v1/"):
        values = {
            "segmentId": w.ids["confidence.slug"],
            "flagId": "flag-a",
            "variantId": "va",
            "ruleId": w.ids["rule.id"],
            "clientId": w.ids["client.id"],
            "credentialId": w.ids["credential.id"],
        }
    elif path.startswith("/segmux/"):
        values = {"id": w.ids["segmux.uuid"]}
    elif path.startswith("/ofrep/"):
        values = {"key": w.ids["feature.name"]}
    elif path.startswith("/{projectId}/individuals"):
        values = {"projectId": PROJECT, "id": w.ids["individual.ident"]}
    else:
        values = {
            "projectId": PROJECT,
            "id": w.ids["hal.ident"],
            "individualId": w.ids["individual.ident"],
        }
    for key, value in values.items():
        path = path.replace("{" + key + "}", value)
    assert "{" not in path, path
    return path


def headers_for(path: str, token: str, *, tenant: str) -> dict[str, str]:
    if path.startswith("/data/core/ups/"):
        return adobe_headers(token, org=f"{tenant}@AdobeOrg")
    if path.startswith("/api/"):
        return {"Authorization": token, "Content-Type": "application/json"}
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


async def call(
    c: httpx.AsyncClient,
    method: str,
    path: str,
    rule: Rule,
    w: World,
    token: str,
    tenant: str,
    sdk_token: str | None = None,
    front_token: str | None = None,
    ofrep_token: str | None = None,
) -> httpx.Response:
    """``sdk_token`` (a client token of the same tenant) is used for the SDK routes,
    ``front_token`` (a frontend token) for the frontend API and ``ofrep_token`` for OFREP,
    which admin tokens may not call (the wrong kind of token is a 403)."""
    if path.startswith("/api/client/") and sdk_token is not None:
        token = sdk_token
    if is_frontend(path) and front_token is not None:
        token = front_token
    if is_ofrep(path) and ofrep_token is not None:
        token = ofrep_token
    body = rule.body(w) if rule.body is not None else None
    params = rule.params(w) if rule.params is not None else None
    return await c.request(
        method.upper(),
        fill(path, w),
        params=params,
        content=None if body is None else json.dumps(body),
        headers=headers_for(path, token, tenant=tenant),
    )


def is_frontend(path: str) -> bool:
    return path.startswith("/api/frontend")


def is_ofrep(path: str) -> bool:
    return path.startswith("/ofrep/")


async def snapshot(c: httpx.AsyncClient, token: str, w: World, sdk: str) -> list[Any]:
    """Everything of A's that any walk step could have touched, read through A's own token."""
    bearer = {"Authorization": f"Bearer {token}"}
    reads = [
        c.get("/segmux/v1/segments", params={"limit": "1000"}, headers=bearer),
        c.get(
            "/api/admin/projects/default/features/"
            + w.ids["feature.name"]
            + "/environments/development/strategies",
            headers={"Authorization": token},
        ),
        c.get(f"/{PROJECT}/individuals", headers=bearer),
        c.get(f"/{PROJECT}/individual-segments/{w.ids['hal.ident']}/individuals", headers=bearer),
        c.get("/api/client/features", headers={"Authorization": sdk}),
        c.get("/v1/flags", headers=bearer),
        c.get("/v1/clients", headers=bearer),
        c.get(f"/v1/clients/{w.ids['client.id']}/credentials", headers=bearer),
    ]
    out = []
    for pending in reads:
        r = await pending
        assert r.status_code == 200, r.text
        out.append(r.json())
    return out


def test_every_operation_is_walked() -> None:
    served = {(m, p) for _, m, p in operations()}
    missing = sorted(served - set(RULES))
    stale = sorted(set(RULES) - served)
    assert not missing, f"operations without an isolation rule: {missing}"
    assert not stale, f"rules for operations no spec serves: {stale}"


async def test_tenant_b_never_reaches_tenant_a(
    client: httpx.AsyncClient, store: Store, token_a: str, token_b: str
) -> None:
    w = await build_world(client, token_a)
    sdk_a = await make_token(store, "tenant-a", scope="client:development", name="sdk-a")
    sdk_b = await make_token(store, "tenant-b", scope="client:development", name="sdk-b")
    front_b = await make_token(store, "tenant-b", scope="frontend:development", name="front-b")
    ofrep_b = await make_token(store, "tenant-b", scope="ofrep:development", name="ofrep-b")
    before = await snapshot(client, token_a, w, sdk_a)
    failures = []
    # Creates last: once B holds a name of A's, B's own resource would answer for it.
    walk = sorted(operations(), key=lambda op: RULES[(op[1], op[2])].kind == "create")
    for _, method, path in walk:
        rule = RULES[(method, path)]
        r = await call(client, method, path, rule, w, token_b, "tenant-b", sdk_b, front_b, ofrep_b)
        text = r.text
        if rule.kind == "resource":
            ok = r.status_code == 404
        elif rule.kind in ("collection", "create"):
            # A create with A's names must succeed too: a refusal would say A holds them.
            ok = 200 <= r.status_code < 300
        else:
            ok = r.status_code < 500
        if not ok:
            failures.append((method, path, r.status_code, text[:300]))
        if rule.kind == "create":
            continue  # B's own copy of a name is B's data
        secrets = w.leaks() if rule.kind == "collection" and not rule.echoes else w.names()
        leaked = [s for s in secrets if s in text]
        if leaked:
            failures.append((method, path, "leaked", leaked))
    assert not failures, "\n".join(map(str, failures))
    assert await snapshot(client, token_a, w, sdk_a) == before


async def test_a_client_token_cannot_write(
    client: httpx.AsyncClient, store: Store, token_a: str
) -> None:
    w = await build_world(client, token_a)
    sdk = await make_token(store, "tenant-a", scope="client:development", name="walk-sdk")
    before = await snapshot(client, token_a, w, sdk)
    # SDK-facing writes that a client token exists for, and calls that change nothing.
    allowed = {
        ("post", "/api/client/register"),
        ("post", "/api/client/metrics"),
        ("post", "/ims/token/v3"),
        ("post", "/v1/oauth/token"),
        ("post", "/segmux/v1/translate"),
        ("post", "/segmux/v1/evaluate"),
        ("post", "/segmux/v1/evaluate:batch"),
        ("post", "/data/core/ups/segment/definitions/bulk-get"),
        ("post", "/data/core/ups/segment/conversion"),
        ("post", "/api/admin/segments/validate"),
        ("post", "/v1/segments/{segmentId}:segmentAvailableSpace"),
        ("post", "/ofrep/v1/evaluate/flags"),
        ("post", "/ofrep/v1/evaluate/flags/{key}"),
    }
    # Confidence has no delete at all [dialect sheet §2]: the spec documents its 404.
    not_a_route = {("delete", "/v1/segments/{segmentId}")}
    failures = []
    writes = [(m, p) for _, m, p in operations() if m != "get" and (m, p) not in allowed]
    assert len(writes) > 20
    for method, path in writes:
        r = await call(client, method, path, RULES[(method, path)], w, sdk, "tenant-a")
        expected = (404,) if (method, path) in not_a_route else (401, 403)
        if r.status_code not in expected:
            failures.append((method, path, r.status_code, r.text[:300]))
    assert not failures, "\n".join(map(str, failures))
    assert await snapshot(client, token_a, w, sdk) == before


# Operations that take no token at all: a frontend token there is simply not looked at.
TOKEN_FREE = {
    ("get", "/"),
    ("get", "/management/health"),
    ("post", "/ims/token/v3"),
    ("post", "/v1/oauth/token"),
    ("post", "/v1/flags:resolve"),
    ("post", "/v1/flags:apply"),
}


async def test_a_frontend_token_reaches_only_the_frontend_api(
    client: httpx.AsyncClient, store: Store, token_a: str
) -> None:
    """A frontend token ships inside browser and mobile apps, so anyone may hold it: every
    operation of every dialect outside the frontend API refuses it with a 403, reads included,
    and nothing of A's changes."""
    w = await build_world(client, token_a)
    sdk = await make_token(store, "tenant-a", scope="client:development", name="walk-sdk")
    front = await make_token(store, "tenant-a", scope="frontend:development", name="walk-web")
    r = await client.get(
        "/api/frontend", params={"country": "SE"}, headers={"Authorization": front}
    )
    assert [t["name"] for t in r.json()["toggles"]] == [w.ids["feature.name"]]
    before = await snapshot(client, token_a, w, sdk)
    await refused_everywhere_else(client, w, front, is_frontend)
    assert await snapshot(client, token_a, w, sdk) == before


async def refused_everywhere_else(
    client: httpx.AsyncClient, w: World, token: str, home: Callable[[str], bool]
) -> None:
    """Every operation outside ``home`` (and those that take no token) answers ``token`` 403,
    reads included, with none of A's data."""
    failures = []
    walked = 0
    for _, method, path in operations():
        if home(path) or (method, path) in TOKEN_FREE:
            continue
        walked += 1
        r = await call(client, method, path, RULES[(method, path)], w, token, "tenant-a")
        if r.status_code != 403:
            failures.append((method, path, r.status_code, r.text[:300]))
        leaked = [s for s in w.names() if s in r.text]
        if leaked:
            failures.append((method, path, "leaked", leaked))
    assert walked > 40
    assert not failures, "\n".join(map(str, failures))


async def test_an_ofrep_token_reaches_only_ofrep(
    client: httpx.AsyncClient, store: Store, token_a: str
) -> None:
    """An OFREP token, like a frontend token, may ship inside an app: every operation outside
    OFREP refuses it with a 403 (the Unleash frontend API included), and nothing changes."""
    w = await build_world(client, token_a)
    sdk = await make_token(store, "tenant-a", scope="client:development", name="walk-sdk")
    ofrep = await make_token(store, "tenant-a", scope="ofrep:development", name="walk-ofrep")
    r = await client.post(
        "/ofrep/v1/evaluate/flags/" + w.ids["feature.name"],
        json={"context": {"country": "SE"}},
        headers={"Authorization": f"Bearer {ofrep}"},
    )
    assert r.status_code == 200 and r.json()["value"] is True, r.text
    before = await snapshot(client, token_a, w, sdk)
    await refused_everywhere_else(client, w, ofrep, is_ofrep)
    assert await snapshot(client, token_a, w, sdk) == before


async def test_tokens_are_stored_only_as_hashes(store: Store) -> None:
    token = await make_token(store, "tenant-a", name="hash-check")
    dump = await store_dump(store)
    assert token not in dump
    assert token.split("_", 1)[1] not in dump
    assert hashlib.sha256(token.encode()).hexdigest() in dump


async def store_dump(store: Store) -> str:
    """Every text and byte column of every table, as one string (both backends)."""
    from core.store.postgres.backend import PostgresStore
    from core.store.sqlite.backend import SqliteStore

    if isinstance(store, PostgresStore):
        async with store._write() as tx:
            tables = [
                r["tablename"]
                for r in await tx.fetch(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                )
            ]
            parts = []
            for t in tables:
                rows = await tx.fetch(f'SELECT row_to_json(x)::text AS j FROM "{t}" x')
                parts += [r["j"] for r in rows]
            return "\n".join(parts)
    assert isinstance(store, SqliteStore)
    async with store._write() as tx:
        tables = [
            r[0] for r in await tx.fetch("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        parts = []
        for t in tables:
            for row in await tx.fetch(f'SELECT * FROM "{t}"'):
                parts += [v.hex() if isinstance(v, bytes) else str(v) for v in row]
        return "\n".join(parts)
