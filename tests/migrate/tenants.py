"""Random tenants built through the six HTTP APIs, and everything those APIs answer about one.

``build`` plays a drawn list of steps against an in-process app (each step is what a client of
one dialect would send: Adobe PQL definitions, Unleash segments, features, strategies and
toggles, Confidence segments with allocations, ``:allocate`` and ``:archive``, v2.3 names, HAL
individuals, static segments and memberships, segmux's own API). ``answers`` reads back every
list and get of every dialect, HAL members, and ``evaluate`` for given contexts and units, as
(status, body) pairs, so two stores can be compared answer for answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
from hypothesis import strategies as st

from core.store import Store

COUNTRIES = ("SE", "NO", "DK", "US")
PLANS = ("free", "pro", "team")
PQL = (
    'country = "SE"',
    "age > 30",
    'plan = "pro" or country = "NO"',
    "email.isNotNull()",
    'country = "DK" and age >= 18',
)
CONSTRAINTS: tuple[list[dict[str, Any]], ...] = (
    [{"contextName": "country", "operator": "IN", "values": ["SE", "NO"]}],
    [{"contextName": "plan", "operator": "NOT_IN", "values": ["free"]}],
    [
        {"contextName": "age", "operator": "NUM_GTE", "value": "21"},
        {"contextName": "country", "operator": "IN", "values": ["US"]},
    ],
    [],
)
PROPORTIONS = ("1", "0.5", "0.35", "0.1")
FILTERS = ("country eq 'SE'", "plan eq 'pro' or age gt 40", "age ge 18")
SANDBOXES = ("prod", "dev")
SWEEP = tuple(f"unit-{i}" for i in range(40))
"""Units every context is evaluated under (with 40 units, a 0.35 share that moved is seen
unless its buckets moved onto the same units: (0.35² + 0.65²)^40 ≈ 10^-8)."""


def targeting(country: str) -> dict[str, Any]:
    return {
        "criteria": {
            "c": {
                "attribute": {
                    "attributeName": "country",
                    "setRule": {"values": [{"stringValue": country}]},
                }
            }
        },
        "expression": {"ref": "c"},
    }


# --- the steps -----------------------------------------------------------------------------

name_part = st.text(alphabet="abcdefghij XYZ-é", min_size=1, max_size=8)


@st.composite
def confidence_step(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "kind": "confidence",
        "country": draw(st.sampled_from((None, *COUNTRIES))),
        "proportion": draw(st.sampled_from(PROPORTIONS)),
        "tags": draw(st.sampled_from(((), ("g",), ("h",)))),
        "exclusive": draw(st.booleans()),
        "labels": draw(st.dictionaries(st.sampled_from(("team", "area")), name_part, max_size=2)),
        "then": draw(st.sampled_from(((), ("allocate",), ("allocate", "archive"), ("archive",)))),
    }


steps = st.lists(
    st.one_of(
        st.builds(
            dict,
            kind=st.just("adobe"),
            pql=st.sampled_from(PQL),
            sandbox=st.sampled_from(SANDBOXES),
        ),
        st.builds(
            dict,
            kind=st.just("unleash"),
            constraints=st.sampled_from(CONSTRAINTS),
            description=st.one_of(st.none(), name_part),
        ),
        confidence_step(),
        st.builds(dict, kind=st.just("v23")),
        st.builds(dict, kind=st.just("hal-dynamic"), filter=st.sampled_from(FILTERS)),
        st.builds(
            dict,
            kind=st.just("hal-static"),
            members=st.lists(st.integers(0, 9), max_size=4, unique=True),
        ),
        st.builds(
            dict,
            kind=st.just("segmux"),
            country=st.sampled_from(COUNTRIES),
            sandbox=st.sampled_from(SANDBOXES),
            static=st.booleans(),
        ),
        st.builds(
            dict,
            kind=st.just("feature"),
            project=st.sampled_from(("default", "web")),
            segments=st.lists(st.integers(0, 30), max_size=3, unique=True),
            on=st.booleans(),
        ),
    ),
    min_size=1,
    max_size=9,
)

individuals = st.lists(
    st.fixed_dictionaries(
        {
            "country": st.sampled_from(COUNTRIES),
            "plan": st.sampled_from(PLANS),
            "age": st.integers(10, 70),
        },
        optional={"email": st.just("a@example.com")},
    ),
    min_size=0,
    max_size=6,
)

settings = st.fixed_dictionaries(
    {},
    optional={
        "confidence_account_id": st.sampled_from(("acct-1", "acct-2")),
        "ims_org_id": st.just("ACME123@AdobeOrg"),
        "note": name_part,
    },
)

contexts = st.lists(
    st.tuples(
        st.fixed_dictionaries(
            {},
            optional={
                "country": st.sampled_from(COUNTRIES),
                "plan": st.sampled_from(PLANS),
                "age": st.integers(10, 70),
                "email": st.just("b@example.com"),
            },
        ),
        st.one_of(st.none(), st.text(alphabet="abcdef0123", min_size=1, max_size=6)),
    ),
    min_size=1,
    max_size=6,
)


# --- building a tenant ---------------------------------------------------------------------


@dataclass
class Client:
    http: httpx.AsyncClient
    token: str
    client_token: str
    org: str = ""
    features: list[tuple[str, str]] = field(default_factory=list)
    """(project, feature) made so far."""

    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def adobe(self, sandbox: str = "prod") -> dict[str, str]:
        return {
            **self.bearer(),
            "x-api-key": "segmux-tests",
            "x-gw-ims-org-id": self.org,
            "x-sandbox-name": sandbox,
        }

    async def ok(self, method: str, url: str, status: int = 200, **kw: Any) -> Any:
        r = await self.http.request(method, url, **kw)
        assert r.status_code == status, (method, url, r.status_code, r.text)
        return r.json() if r.content else None


async def build(
    c: Client,
    store: Store,
    tenant: str,
    plan: list[dict[str, Any]],
    people: list[dict[str, Any]],
    tenant_settings: dict[str, Any],
) -> None:
    """Play ``plan`` (and the individuals, settings and a second project) into ``tenant``."""
    await store.update_tenant_settings(tenant, tenant_settings)
    await store.create_project(tenant, "web", "Web", "the web app")  # no HTTP API makes one
    c.org = tenant_settings.get("ims_org_id", f"{tenant}@AdobeOrg")
    for i, person in enumerate(people):
        await c.ok(
            "POST", "/prod/individuals", json={"identifier": f"p{i}", **person}, headers=c.bearer()
        )
    for n, step in enumerate(plan):
        await _step(c, n, step, len(people))


async def _step(c: Client, n: int, step: dict[str, Any], people: int) -> None:
    kind = step["kind"]
    name = f"{kind} {n}"
    if kind == "adobe":
        await c.ok(
            "POST",
            "/data/core/ups/segment/definitions",
            headers=c.adobe(step["sandbox"]),
            json={
                "name": name,
                "schema": {"name": "_xdm.context.profile"},
                "ttlInDays": 30,
                "expression": {"type": "PQL", "format": "pql/text", "value": step["pql"]},
            },
        )
    elif kind == "unleash":
        body: dict[str, Any] = {"name": name, "constraints": step["constraints"]}
        if step["description"] is not None:
            body["description"] = step["description"]
        await c.ok(
            "POST", "/api/admin/segments", 201, json=body, headers={"Authorization": c.token}
        )
    elif kind == "confidence":
        await _confidence(c, n, name, step)
    elif kind == "v23":
        await c.ok("POST", "/v2.3/data/segments", json={"name": name}, headers=c.bearer())
    elif kind == "hal-dynamic":
        await c.ok(
            "POST",
            "/prod/individual-segments",
            headers=c.bearer(),
            json={
                "name": name,
                "segmentType": "DYNAMIC",
                "filter": step["filter"],
                "identifier": f"hal-dyn-{n}",
            },
        )
    elif kind == "hal-static":
        slug = f"hal-static-{n}"
        await c.ok(
            "POST",
            "/prod/individual-segments",
            headers=c.bearer(),
            json={"name": name, "segmentType": "STATIC", "identifier": slug},
        )
        for member in step["members"]:
            if member < people:
                await c.ok(
                    "POST",
                    f"/prod/individual-segments/{slug}/memberships",
                    headers=c.bearer(),
                    json={"individualIdentifier": f"p{member}"},
                )
    elif kind == "segmux":
        sent: dict[str, Any] = {"name": name, "sandbox": step["sandbox"]}
        if step["static"]:
            sent["kind"] = "static"
        else:
            sent["condition"] = {"language": "pql", "expression": f'country = "{step["country"]}"'}
        await c.ok("POST", "/segmux/v1/segments", 201, json=sent, headers=c.bearer())
    else:
        await _feature(c, n, step)


async def _confidence(c: Client, n: int, name: str, step: dict[str, Any]) -> None:
    slug = f"conf-{n}"
    body: dict[str, Any] = {"displayName": name, "labels": step["labels"]}
    if step["country"] is not None:
        body["targeting"] = targeting(step["country"])
    allocation: dict[str, Any] = {
        "proportion": {"value": step["proportion"]},
        "exclusivityTags": list(step["tags"]),
    }
    if step["exclusive"] and step["tags"]:
        allocation["exclusiveTo"] = list(step["tags"])
    body["allocation"] = allocation
    await c.ok("POST", "/v1/segments", params={"segmentId": slug}, json=body, headers=c.bearer())
    for verb in step["then"]:
        # Allocation may find no room left (a rival holds the buckets): that answer is part of
        # the tenant too; only a server error would be a failure of the test's own making.
        r = await c.http.post(f"/v1/segments/{slug}:{verb}", json={}, headers=c.bearer())
        assert r.status_code < 500, r.text


async def _feature(c: Client, n: int, step: dict[str, Any]) -> None:
    project, feature = step["project"], f"feature-{n}"
    await c.ok(
        "POST",
        f"/api/admin/projects/{project}/features",
        201,
        json={"name": feature},
        headers={"Authorization": c.token},
    )
    c.features.append((project, feature))
    listed = await c.ok("GET", "/api/admin/segments", headers={"Authorization": c.token})
    ids = [s["id"] for s in listed["segments"]]
    chosen = [ids[i] for i in step["segments"] if i < len(ids)]
    env = f"/api/admin/projects/{project}/features/{feature}/environments/development"
    r = await c.http.post(
        f"{env}/strategies",
        headers={"Authorization": c.token},
        json={
            "name": "flexibleRollout",
            "segments": chosen,
            "parameters": {"rollout": "50", "stickiness": "default", "groupId": feature},
        },
    )
    assert r.status_code in (200, 400, 409), r.text  # e.g. an archived segment: refused
    if step["on"]:
        await c.ok("POST", f"{env}/on", headers={"Authorization": c.token})


# --- what the APIs answer ------------------------------------------------------------------

PER_REQUEST = ("requestId", "id", "timestamp")
"""Fields of an error body made for the request itself (Adobe's request id, Unleash's error id,
Spring's time of the error): never the same twice, whatever the store holds."""


def _steady(status: int, body: Any) -> Any:
    if status < 400 or not isinstance(body, dict):
        return body
    return {k: v for k, v in body.items() if k not in PER_REQUEST}


async def answers(c: Client, probes: list[tuple[dict[str, Any], str | None]]) -> dict[str, Any]:
    """Every list and get of every dialect, HAL members, and evaluate for ``probes``, keyed by
    request; each answer is (status, body)."""
    out: dict[str, Any] = {}

    async def get(key: str, url: str, headers: dict[str, str], **params: Any) -> Any:
        r = await c.http.get(url, params=params or None, headers=headers)
        body = r.json() if r.content else None
        out[key] = (r.status_code, _steady(r.status_code, body))
        return body

    listed = await get("segmux list", "/segmux/v1/segments", c.bearer(), limit=1000)
    segments = listed["items"]
    for s in segments:
        await get(f"segmux {s['id']}", f"/segmux/v1/segments/{s['id']}", c.bearer())
        await get(
            f"unleash {s['seq']}", f"/api/admin/segments/{s['seq']}", {"Authorization": c.token}
        )
        await get(
            f"unleash {s['seq']} strategies",
            f"/api/admin/segments/{s['seq']}/strategies",
            {"Authorization": c.token},
        )
        await get(f"confidence {s['slug']}", f"/v1/segments/{s['slug']}", c.bearer())
        r = await c.http.post(
            f"/v1/segments/{s['slug']}:segmentAvailableSpace", json={}, headers=c.bearer()
        )
        out[f"confidence {s['slug']} available"] = (r.status_code, _steady(r.status_code, r.json()))
        await get(
            f"adobe {s['id']}",
            f"/data/core/ups/segment/definitions/{s['id']}",
            c.adobe(s["sandbox"]),
        )
        await get(
            f"hal {s['slug']}", f"/{s['sandbox']}/individual-segments/{s['slug']}", c.bearer()
        )
        await get(
            f"hal {s['slug']} members",
            f"/{s['sandbox']}/individual-segments/{s['slug']}/individuals",
            c.bearer(),
            size=1000,
        )
    await get("unleash list", "/api/admin/segments", {"Authorization": c.token})
    await get("confidence list", "/v1/segments", c.bearer(), pageSize=1000)
    await get("v23 list", "/v2.3/data/segments", c.bearer(), per_page=100)
    for sandbox in SANDBOXES:
        await get(
            f"adobe list {sandbox}",
            "/data/core/ups/segment/definitions",
            c.adobe(sandbox),
            limit=100,
        )
        await get(f"hal list {sandbox}", f"/{sandbox}/individual-segments", c.bearer(), size=1000)
    people = await get("hal individuals", "/prod/individuals", c.bearer(), size=1000)
    for person in people["_embedded"]["individuals"] if people.get("_embedded") else []:
        ident = person["identifier"]
        await get(f"hal individual {ident}", f"/prod/individuals/{ident}", c.bearer())
        await get(
            f"hal individual {ident} segments",
            f"/prod/individuals/{ident}/individual-segments",
            c.bearer(),
        )
    for project, feature in c.features:
        for env in ("development", "production"):
            url = f"/api/admin/projects/{project}/features/{feature}/environments/{env}/strategies"
            strategies = await get(f"strategies {feature} {env}", url, {"Authorization": c.token})
            for strategy in strategies or []:
                await get(
                    f"strategy {strategy['id']}",
                    f"{url}/{strategy['id']}",
                    {"Authorization": c.token},
                )
                await get(
                    f"strategy {strategy['id']} segments",
                    f"/api/admin/segments/strategies/{strategy['id']}",
                    {"Authorization": c.token},
                )
    await get("client features", "/api/client/features", {"Authorization": c.client_token})
    # The revision the client API reports (and its ETag) counts the store's writes, which a
    # restore makes anew: what the features say is compared, not when the store last changed.
    status, features = out["client features"]
    out["client features"] = (status, {k: v for k, v in features.items() if k != "meta"})
    for i, (context, unit) in enumerate(probes):
        body: dict[str, Any] = {"context": context}
        if unit is not None:
            body["unit"] = unit
        r = await c.http.post("/segmux/v1/evaluate", json=body, headers=c.bearer())
        out[f"evaluate {i}"] = (r.status_code, r.json())
    # Every context under many units: a bucket that moved changes some unit's answer.
    contexts = [context for context, _ in probes]
    for unit in SWEEP:
        r = await c.http.post(
            "/segmux/v1/evaluate:batch",
            json={"contexts": contexts, "unit": unit},
            headers=c.bearer(),
        )
        out[f"evaluate:batch {unit}"] = (r.status_code, r.json())
    return out
