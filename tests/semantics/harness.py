"""Runs the whole table against one store: every segment created through its dialect's own HTTP
API, then one ``POST /segmux/v1/evaluate`` per distinct context.

The work is batched per store (the table has a few hundred rows): conditions shared by rows are
created once, rows with the same context are evaluated in one call, and the per-row tests only
read the recorded outcome. For the Unleash rows it also attaches every Unleash segment to a
feature and records ``/api/client/features`` as an SDK would fetch it, so the real SDK engine can
evaluate the same segments as a second oracle.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from core.store import open_store
from gateway.app import create_app
from gateway.settings import Settings
from tests.conftest import make_token
from tests.semantics.rows import Refused, Row, flat_unleash_context

TENANT = "semantics"
ORG = f"{TENANT}@AdobeOrg"
PROJECT = "semantics"
ENVIRONMENT = "development"
SDK_SPEC = "6.1.0"
"""What UnleashClient 6.x sends as ``Unleash-Client-Spec`` (segments by reference)."""


@dataclass
class Outcome:
    """What one store answered: per row, the evaluation (or why there is none)."""

    results: dict[str, bool] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    refused: dict[str, tuple[int, str]] = field(default_factory=dict)
    """Refused row id → (status, body) of the create attempt."""
    unleash_features: dict[str, str] = field(default_factory=dict)
    """Unleash row id → the feature whose only strategy uses that row's segment."""
    members: dict[str, bool | str] = field(default_factory=dict)
    """HAL row id → whether the row's context, stored as an individual, is listed among the
    segment's members (``GET …/individual-segments/{id}/individuals``: the SQL path), or why
    the listing failed."""
    client_features: dict[str, Any] | None = None
    engine: Any = None
    """The SDK engine fed with ``client_features`` (built lazily by the SDK test)."""


def creation_extra(row: Row | Refused) -> dict[str, Any]:
    """What the create call needs besides the condition (``unit`` is for evaluate only)."""
    return {k: v for k, v in getattr(row, "extra", {}).items() if k != "unit"}


def condition_key(row: Row | Refused) -> str:
    return json.dumps([row.dialect, row.condition, creation_extra(row)], sort_keys=True)


def context_of(row: Row) -> dict[str, Any]:
    return flat_unleash_context(row.context) if row.dialect == "unleash" else row.context


class Creator:
    """Creates segments through each dialect's own API; returns the segment's name."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        token: str,
        confidence_segments: dict[str, dict[str, Any] | None],
    ) -> None:
        self.client = client
        self.token = token
        self.confidence_segments = confidence_segments
        self.count = 0

    def _name(self, prefix: str) -> str:
        self.count += 1
        return f"semantics-{prefix}-{self.count:04d}"

    async def create(
        self, dialect: str, condition: Any, extra: dict[str, Any]
    ) -> tuple[httpx.Response, str]:
        if dialect == "unleash":
            name = self._name("unleash")
            r = await self.client.post(
                "/api/admin/segments",
                headers={"Authorization": self.token},
                json={"name": name, "constraints": condition},
            )
            return r, name
        if dialect == "confidence":
            return await self.create_confidence(condition), f"segments/{condition}"
        if dialect == "adobe":
            name = self._name("adobe")
            body = {
                "name": name,
                "description": "",
                "schema": {"name": "_xdm.context.profile"},
                "ttlInDays": 30,
                "expression": {
                    "type": "PQL",
                    "format": extra.get("format", "pql/text"),
                    "value": condition,
                },
            }
            r = await self.client.post(
                "/data/core/ups/segment/definitions",
                json=body,
                headers={
                    "Authorization": f"Bearer {self.token}",
                    "x-api-key": "semantics",
                    "x-gw-ims-org-id": ORG,
                    "x-sandbox-name": "prod",
                },
            )
            return r, name
        name = self._name("hal")
        r = await self.client.post(
            f"/{PROJECT}/individual-segments",
            headers={"Authorization": f"Bearer {self.token}"},
            json={"name": name, "segmentType": "DYNAMIC", "filter": condition},
        )
        return r, name

    async def create_confidence(self, slug: str) -> httpx.Response:
        targeting = self.confidence_segments[slug]
        body: dict[str, Any] = {"displayName": slug}
        if targeting is not None:
            body["targeting"] = targeting
        return await self.client.post(
            "/v1/segments",
            params={"segmentId": slug},
            json=body,
            headers={"Authorization": f"Bearer {self.token}"},
        )


def confidence_order(used: Iterable[str], segments: dict[str, dict[str, Any] | None]) -> list[str]:
    """The used Confidence segments and those they reference, referenced ones first (a segment
    criterion must name an existing segment). Cycles are left to the dialect to refuse."""
    order: list[str] = []
    visiting: set[str] = set()

    def refs(slug: str) -> list[str]:
        targeting = segments.get(slug) or {}
        return [
            c["segment"]["segment"].removeprefix("segments/")
            for c in targeting.get("criteria", {}).values()
            if "segment" in c
        ]

    def visit(slug: str) -> None:
        if slug in order or slug in visiting or slug not in segments:
            return
        visiting.add(slug)
        for ref in refs(slug):
            visit(ref)
        visiting.discard(slug)
        order.append(slug)

    for slug in used:
        visit(slug)
    return order


async def segment_ids(client: httpx.AsyncClient, token: str) -> dict[str, str]:
    """Every segment of the tenant, by name (Confidence: ``segments/<slug>``) → canonical id."""
    found: dict[str, str] = {}
    params: dict[str, Any] = {"limit": 1000}
    while True:
        r = await client.get(
            "/segmux/v1/segments", params=params, headers={"Authorization": f"Bearer {token}"}
        )
        assert r.status_code == 200, r.text
        page = r.json()
        for item in page["items"]:
            found[item["name"]] = item["id"]
            found[f"segments/{item['slug']}"] = item["id"]
        if not page.get("next"):
            return found
        params = {"limit": 1000, "cursor": page["next"]}


async def attach_to_features(
    client: httpx.AsyncClient, token: str, seqs: dict[str, int]
) -> dict[str, str]:
    """One feature per Unleash segment (name → seq), enabled in ENVIRONMENT with one default
    strategy using just that segment; returns segment name → feature name."""
    admin = {"Authorization": token}
    base = "/api/admin/projects/default/features"
    features: dict[str, str] = {}
    for name, seq in seqs.items():
        feature = f"sem-{seq}"
        r = await client.post(base, json={"name": feature}, headers=admin)
        assert r.status_code == 201, r.text
        env = f"{base}/{feature}/environments/{ENVIRONMENT}"
        r = await client.post(
            f"{env}/strategies", headers=admin, json={"name": "default", "segments": [seq]}
        )
        assert r.status_code == 200, r.text
        r = await client.post(f"{env}/on", headers=admin)
        assert r.status_code == 200, r.text
        features[name] = feature
    return features


async def hal_members(
    client: httpx.AsyncClient,
    token: str,
    rows: list[Row],
    created: dict[str, tuple[httpx.Response, str]],
) -> dict[str, bool | str]:
    """Each HAL row's context as an individual of PROJECT, then each HAL segment's member list,
    which the store answers in SQL over the profiles (not with the evaluator)."""
    auth = {"Authorization": f"Bearer {token}"}
    individual: dict[str, str] = {}
    for row in rows:
        key = json.dumps(row.context, sort_keys=True)
        if row.dialect != "hal" or key in individual:
            continue
        identifier = f"ctx-{len(individual):04d}"
        r = await client.post(
            f"/{PROJECT}/individuals", headers=auth, json={**row.context, "identifier": identifier}
        )
        assert r.status_code == 200, r.text
        individual[key] = identifier
    listed: dict[str, set[str] | str] = {}
    found: dict[str, bool | str] = {}
    for row in rows:
        r, _ = created[condition_key(row)]
        if row.dialect != "hal" or r.status_code != 200:
            continue
        slug = r.json()["identifier"]
        if slug not in listed:
            page = await client.get(
                f"/{PROJECT}/individual-segments/{slug}/individuals",
                params={"size": 1000},
                headers=auth,
            )
            listed[slug] = (
                {i["identifier"] for i in page.json()["_embedded"]["individuals"]}
                if page.status_code == 200
                else f"members answered {page.status_code}: {page.text[:500]}"
            )
        members = listed[slug]
        found[row.id] = (
            members
            if isinstance(members, str)
            else individual[json.dumps(row.context, sort_keys=True)] in members
        )
    return found


async def run_table(
    store_url: str,
    rows: list[Row],
    refused: list[Refused],
    confidence_segments: dict[str, dict[str, Any] | None],
) -> Outcome:
    store = await open_store(store_url)
    try:
        app = create_app(Settings(database_url=store_url), store=store)
        token = await make_token(store, TENANT)
        sdk_token = await make_token(store, TENANT, scope=f"client:{ENVIRONMENT}", name="sdk")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://segmux.test") as c:
            return await _run(c, token, sdk_token, rows, refused, confidence_segments)
    finally:
        await store.close()


async def _run(
    client: httpx.AsyncClient,
    token: str,
    sdk_token: str,
    rows: list[Row],
    refused: list[Refused],
    confidence_segments: dict[str, dict[str, Any] | None],
) -> Outcome:
    out = Outcome()
    creator = Creator(client, token, confidence_segments)

    # Confidence segments first, referenced ones before those that reference them.
    created: dict[str, tuple[httpx.Response, str]] = {}
    used = [r.condition for r in rows if r.dialect == "confidence"]
    for slug in confidence_order(used, confidence_segments):
        created[json.dumps(["confidence", slug, {}], sort_keys=True)] = (
            await creator.create_confidence(slug),
            f"segments/{slug}",
        )
    for row in rows:
        key = condition_key(row)
        if key not in created:
            created[key] = await creator.create(row.dialect, row.condition, creation_extra(row))
    for item in refused:
        r, _ = await creator.create(item.dialect, item.condition, {})
        out.refused[item.id] = (r.status_code, r.text)

    ids = await segment_ids(client, token)
    by_context: dict[str, list[tuple[Row, str]]] = {}
    for row in rows:
        r, name = created[condition_key(row)]
        if r.status_code >= 300 or name not in ids:
            out.errors[row.id] = f"create answered {r.status_code}: {r.text[:500]}"
            continue
        request = {"context": context_of(row)}
        if "unit" in row.extra:
            request["unit"] = row.extra["unit"]
        by_context.setdefault(json.dumps(request, sort_keys=True), []).append((row, ids[name]))

    for text, pending in by_context.items():
        body = json.loads(text)
        body["segments"] = sorted({sid for _, sid in pending})
        r = await client.post(
            "/segmux/v1/evaluate", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        if r.status_code != 200:
            for row, _ in pending:
                out.errors[row.id] = f"evaluate answered {r.status_code}: {r.text[:500]}"
            continue
        results = r.json()["results"]
        for row, sid in pending:
            out.results[row.id] = results[sid]

    out.members = await hal_members(client, token, rows, created)

    # The SDK's view: every Unleash segment on a feature, fetched as UnleashClient does.
    seqs: dict[str, int] = {}
    for row in rows:
        r, name = created[condition_key(row)]
        if row.dialect == "unleash" and r.status_code == 201:
            seqs[name] = r.json()["id"]
    features = await attach_to_features(client, token, seqs)
    for row in rows:
        _, name = created[condition_key(row)]
        if row.dialect == "unleash" and name in features:
            out.unleash_features[row.id] = features[name]
    r = await client.get(
        "/api/client/features",
        headers={"Authorization": sdk_token, "Unleash-Client-Spec": SDK_SPEC},
    )
    assert r.status_code == 200, r.text
    out.client_features = r.json()
    return out
