"""The scenarios: what one wrk run sends. Ids for the get-by-id scenarios are discovered
through each dialect's own list (the first item of the first page), never assumed.

Every scenario is checked with one request before it is measured (status, body), which also
warms whatever the server caches; that body is what the framework floor answers with.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from bench.fixtures import EVAL_CONTEXT, SANDBOX, Tokens
from bench.ofrep import ofrep_bulk_request
from bench.resolve import resolve_request
from bench.writes import Write, segmux_writes, unleash_writes, with_keys
from bench.wrk import INSTANCE, KEY, PLACEHOLDER, Request

ADOBE = "/data/core/ups/segment/definitions"
UNLEASH_SPEC = {"Unleash-Client-Spec": "5.2.0"}  # what current SDKs send: segments by reference


def unleash_sdk(instance: str) -> dict[str, str]:
    """The headers Unleash's Node SDK (6.x) sends with each poll, as one instance of it:
    ``UNLEASH-INSTANCEID`` and ``unleash-connection-id`` are its own, the rest the fleet's."""
    return {
        **UNLEASH_SPEC,
        "UNLEASH-APPNAME": "bench",
        "UNLEASH-INSTANCEID": f"bench-{instance}-host",
        "unleash-connection-id": f"00000000-0000-4000-8000-0000000{instance}",
        "unleash-sdk": "unleash-client-node:6.12.1",
        "User-Agent": "unleash-client-node",
    }


ONE_SDK = unleash_sdk("00001")
"""Every poll from one SDK instance."""
# Each poll from the next of INSTANCES (10,000) SDK instances (bench.wrk fills in the number):
# what a fleet of SDKs sends, which no answer kept per instance could serve.
FLEET = unleash_sdk(INSTANCE)
CLIENT_FEATURES = "unleash client features"
FLEET_FEATURES = "unleash client features fleet"


def client_features_scenarios(client: str) -> list[Scenario]:
    """The Unleash SDKs' poll, from one instance and from a fleet (same for both servers)."""
    return [
        Scenario(
            CLIENT_FEATURES,
            Request("GET", "/api/client/features", {"Authorization": client, **ONE_SDK}),
            "A",
            one_connection=True,
        ),
        Scenario(
            FLEET_FEATURES,
            Request("GET", "/api/client/features", {"Authorization": client, **FLEET}),
            "A",
        ),
    ]


@dataclass(frozen=True)
class Scenario:
    name: str  # "<dialect> <what>", e.g. "unleash list"
    request: Request
    fixture: str  # A, B, eval, writes
    ok: tuple[int, ...] = (200,)
    one_connection: bool = False  # also measured at 1 connection (latency targets)

    @property
    def slug(self) -> str:
        return self.name.replace(" ", "-").replace("/", "-")


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _adobe(token: str) -> dict[str, str]:
    return {
        **_bearer(token),
        "x-api-key": "bench",
        "x-gw-ims-org-id": "default@AdobeOrg",
        "x-sandbox-name": SANDBOX,
        "Accept": "application/json",
    }


JSON = {"Content-Type": "application/json"}


def _first(doc: Any, *keys: str | int) -> Any:
    for k in keys:
        doc = doc[k]
    return doc


async def discover(base: str, tokens: Tokens) -> dict[str, str]:
    """The path of one fixture A segment in each dialect that has a get-by-id."""
    paths: dict[str, str] = {}
    async with httpx.AsyncClient(base_url=base, timeout=60) as c:

        async def get(path: str, headers: dict[str, str]) -> Any:
            r = await c.get(path, headers=headers)
            r.raise_for_status()
            return r.json()

        un = await get("/api/admin/segments", {"Authorization": tokens.admin})
        paths["unleash"] = f"/api/admin/segments/{_first(un, 'segments', 0, 'id')}"
        ad = await get(ADOBE, _adobe(tokens.admin))
        paths["adobe"] = f"{ADOBE}/{_first(ad, 'segments', 0, 'id')}"
        co = await get("/v1/segments", _bearer(tokens.admin))
        paths["confidence"] = "/v1/" + _first(co, "segments", 0, "name")
        hal = await get(f"/{SANDBOX}/individual-segments", _bearer(tokens.admin))
        ident = _first(hal, "_embedded", "individual-segments", 0, "identifier")
        paths["hal"] = f"/{SANDBOX}/individual-segments/{ident}"
        sx = await get("/segmux/v1/segments", _bearer(tokens.admin))
        paths["segmux"] = f"/segmux/v1/segments/{_first(sx, 'items', 0, 'id')}"
    return paths


def write_scenarios(
    writes: list[Write], update_keys: dict[str, tuple[str, ...]] | None
) -> list[Scenario]:
    """Each write's create, and its update where keys were made for it."""
    out = []
    for w in writes:
        out.append(Scenario(f"{w.dialect} create", w.create, "writes", w.created))
        keys = (update_keys or {}).get(w.dialect)
        if keys:
            out.append(
                Scenario(f"{w.dialect} update", with_keys(w.update, keys), "writes", w.updated)
            )
    return out


def is_write(sc: Scenario) -> bool:
    return sc.fixture == "writes"


def selected(only: str | None, name: str, write: bool) -> bool:
    """``--only``: substrings of the scenario's name, comma-separated (any of them selects it);
    ``writes`` selects every write."""
    return not only or any(
        part and (part in name or (part == "writes" and write)) for part in only.split(",")
    )


def segmux_scenarios(
    tokens: Tokens,
    ids: dict[str, str],
    members_path: str,
    update_keys: dict[str, tuple[str, ...]] | None = None,
) -> list[Scenario]:
    """``update_keys``: per dialect, the segments its update scenario cycles over (no update
    scenario without them)."""
    a = tokens.admin
    un = {"Authorization": a}
    return [
        Scenario(
            "unleash list", Request("GET", "/api/admin/segments", un), "A", one_connection=True
        ),
        Scenario("unleash get", Request("GET", ids["unleash"], un), "A"),
        *client_features_scenarios(tokens.client),
        frontend_scenario(tokens.frontend),
        Scenario("adobe list", Request("GET", ADOBE, _adobe(a)), "A"),
        Scenario("adobe get", Request("GET", ids["adobe"], _adobe(a)), "A"),
        Scenario("confidence list", Request("GET", "/v1/segments", _bearer(a)), "A"),
        Scenario("confidence get", Request("GET", ids["confidence"], _bearer(a)), "A"),
        Scenario(
            "v23 list",
            Request("GET", "/v2.3/data/segments", {**_bearer(a), "Accept": "application/json"}),
            "A",
        ),
        Scenario("hal list", Request("GET", f"/{SANDBOX}/individual-segments", _bearer(a)), "A"),
        Scenario("hal get", Request("GET", ids["hal"], _bearer(a)), "A"),
        Scenario("segmux list", Request("GET", "/segmux/v1/segments", _bearer(a)), "A"),
        Scenario("segmux get", Request("GET", ids["segmux"], _bearer(a)), "A"),
        Scenario(
            "segmux evaluate 1000",
            Request(
                "POST",
                "/segmux/v1/evaluate",
                {**_bearer(tokens.eval), **JSON},
                json.dumps({"context": EVAL_CONTEXT}),
            ),
            "eval",
            one_connection=True,
        ),
        *(
            [
                Scenario(
                    "confidence resolve 50 flags",
                    resolve_request(ids["resolve_secret"]),
                    "resolve",
                    one_connection=True,
                )
            ]
            if "resolve_secret" in ids
            else []
        ),
        *(
            [Scenario("ofrep bulk 50 flags", ofrep_bulk_request(tokens.ofrep), "ofrep")]
            if "ofrep" in ids
            else []
        ),
        Scenario(
            "hal members 100k",
            Request("GET", members_path, _bearer(tokens.bulk)),
            "B",
            one_connection=True,
        ),
        *write_scenarios(segmux_writes(tokens.writes), update_keys),
    ]


FRONTEND_PATH = f"/api/frontend?appName=bench&country=SE&userId=u-{PLACEHOLDER}"
"""A browser SDK's poll: another user on every request, so no answer kept for one user (by
segmux, a proxy or the server) can serve the next; every request evaluates fixture A's ten
features (their twenty segments' constraints) for a user none of them is on for."""


def frontend_scenario(token: str) -> Scenario:
    return Scenario(
        "unleash frontend", Request("GET", FRONTEND_PATH, {"Authorization": token}), "A"
    )


def unleash_scenarios(
    admin: str,
    client: str,
    frontend: str,
    update_keys: dict[str, tuple[str, ...]] | None = None,
) -> list[Scenario]:
    """The real Unleash server's side of the Unleash scenarios (same names, to pair them)."""
    return [
        frontend_scenario(frontend),
        Scenario(
            "unleash list",
            Request("GET", "/api/admin/segments", {"Authorization": admin}),
            "A",
            one_connection=True,
        ),
        *client_features_scenarios(client),
        *write_scenarios(unleash_writes(admin), update_keys),
    ]


# One request per dialect list over fixture B (10,000 segments), so the peak RSS reported as
# "with fixture B loaded" includes whatever the gateway builds or caches for a large tenant.
def fixture_b_requests(tokens: Tokens) -> list[Request]:
    b = tokens.bulk
    return [
        Request("GET", "/api/admin/segments", {"Authorization": b}),
        Request("GET", ADOBE, {**_adobe(b), "x-gw-ims-org-id": "bulk@AdobeOrg"}),
        Request("GET", "/v1/segments", _bearer(b)),
        Request("GET", "/v2.3/data/segments", {**_bearer(b), "Accept": "application/json"}),
        Request("GET", f"/{SANDBOX}/individual-segments", _bearer(b)),
        Request("GET", "/segmux/v1/segments", _bearer(b)),
        Request(
            "POST",
            "/segmux/v1/evaluate",
            {**_bearer(b), **JSON},
            json.dumps({"context": EVAL_CONTEXT}),
        ),
    ]


async def probe(base: str, req: Request) -> httpx.Response:
    """One request as wrk will send it (the placeholders filled with a unique name and the
    first key)."""
    name = f"probe-{uuid.uuid4().hex[:12]}"
    body = req.body.replace(PLACEHOLDER, name) if req.body else None
    path = req.path.replace(PLACEHOLDER, name)
    if req.keys:
        path = path.replace(KEY, req.keys[0])
    async with httpx.AsyncClient(base_url=base, timeout=120) as c:
        return await c.request(
            req.method,
            path,
            headers=req.headers,
            content=body.encode() if body is not None else None,
        )
