"""The flags the OpenFeature SDK tests evaluate through OFREP, made as users make them: Unleash
features through Unleash's admin API and Confidence flags through Confidence's API, both
targeting a segment made through Adobe's API (PQL ``country = "SE"``); and the tokens, made with
``segmux tokens create`` as a user makes them.

Unleash features (environment ``development``, all on unless said):

* ``dark-mode``: a ``default`` strategy on the Swedes segment (boolean; off for everyone else);
* ``greeting`` / ``limit`` / ``ratio`` / ``banner``: one variant each whose payload is a
  string ``"hej"``, a number ``"10"``, a number ``"0.25"``, JSON ``{"width": 3, "tone": "calm"}``;
* ``coin``: two variants weighted half and half (a split);
* ``retired``: made and never switched on.

Confidence flags (served to the client ``sdk``):

* ``theme``: an object of every schema kind; Swedes get ``big``, everyone else ``small``;
* ``rollout``: half the units get ``on``: a rule that needs the unit (the targeting key);
* ``swedish``: ``{"hej": true}`` for Swedes, no rule for anyone else (the client's default);
* ``both``: a Confidence flag named like the Unleash feature ``both`` (an ambiguous key).
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
ADOBE = {"x-gw-ims-org-id": "default@AdobeOrg", "x-api-key": "sdk", "x-sandbox-name": "prod"}
FEATURES = "/api/admin/projects/default/features"
DEV = "development"

BIG = {
    "color": "red",
    "size": 3,
    "ratio": 2.0,  # integral: must still reach the SDKs as a float
    "bold": True,
    "style": {"font": "serif"},
}
SMALL = {"color": "blue", "size": 1, "ratio": 0.5, "bold": False, "style": {"font": "sans"}}
BANNER = {"width": 3, "tone": "calm"}


def token(database_url: str, scope: str, name: str) -> str:
    """Made as a user makes one: ``segmux tokens create --scope <scope>``."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway.cli",
            "tokens",
            "create",
            "--tenant",
            "default",
            "--scope",
            scope,
            "--name",
            name,
        ],
        env={"SEGMUX_DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    made = done.stdout.strip()
    assert made.startswith("smx_"), done.stdout
    return made


def ok(r: httpx.Response, *status: int) -> Any:
    assert r.status_code in (status or (200,)), (
        f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"
    )
    return r.json() if r.content else None


@dataclass(frozen=True)
class Seeded:
    swedes_unleash_id: int
    swedes_confidence: str
    rule_for_swedes: str
    """The ``theme`` rule that gives Swedes ``big`` (its resource name)."""
    client_secret: str
    """The secret of the Confidence client the flags are served to (for ``flags:resolve``)."""


def _feature(http: httpx.Client, name: str, strategy: dict[str, Any] | None) -> None:
    ok(http.post(FEATURES, json={"name": name}), 200, 201)
    if strategy is None:
        return
    env = f"{FEATURES}/{name}/environments/{DEV}"
    ok(http.post(f"{env}/strategies", json=strategy))
    ok(http.post(f"{env}/on"))


def _variant(name: str, payload: dict[str, str] | None, weight: int = 1000) -> dict[str, Any]:
    v: dict[str, Any] = {
        "name": name,
        "weight": weight,
        "weightType": "variable",
        "stickiness": "default",
    }
    if payload is not None:
        v["payload"] = payload
    return v


def _one_rule(
    http: httpx.Client, flag: str, segment: str, buckets: dict[str, tuple[int, int]], count: int
) -> str:
    rule = ok(
        http.post(
            f"/v1/flags/{flag}/rules",
            json={
                "segment": segment,
                "enabled": True,
                "assignmentSpec": {
                    "bucketCount": count,
                    "assignments": [
                        {
                            "assignmentId": variant,
                            "variant": {"variant": f"flags/{flag}/variants/{variant}"},
                            "bucketRanges": [{"lower": lower, "upper": upper}],
                        }
                        for variant, (lower, upper) in buckets.items()
                    ],
                },
            },
        )
    )
    return str(rule["name"])


def _confidence_flag(
    http: httpx.Client,
    flag: str,
    schema: dict[str, Any],
    variants: dict[str, dict[str, Any]],
    client: str,
) -> None:
    ok(
        http.post(
            "/v1/flags",
            params={"flagId": flag},
            json={"schema": {"schema": schema}, "clients": [client]},
        )
    )
    for name, value in variants.items():
        ok(
            http.post(
                f"/v1/flags/{flag}/variants",
                json={"name": f"flags/{flag}/variants/{name}", "value": value},
            )
        )


def seed(base: str, admin_token: str) -> Seeded:
    with httpx.Client(
        base_url=base, headers={"Authorization": f"Bearer {admin_token}"}, timeout=30
    ) as http:
        # One segment, made through Adobe's API in PQL; Unleash and Confidence both see it.
        adobe = ok(
            http.post(
                "/data/core/ups/segment/definitions",
                headers=ADOBE,
                json={
                    "name": "Swedes",
                    "profileInstanceId": "ups",
                    "expression": {"type": "PQL", "format": "pql/text", "value": 'country = "SE"'},
                    "schema": {"name": "_xdm.context.profile"},
                },
            )
        )
        [unleash_id] = [
            s["id"]
            for s in ok(http.get("/api/admin/segments"))["segments"]
            if s["name"] == "Swedes"
        ]
        listed = ok(http.get("/v1/segments", params={"pageSize": 1000}))["segments"]
        [swedes] = [s["name"] for s in listed if s.get("displayName") == adobe["name"]]
        everyone = ok(http.post("/v1/segments", params={"segmentId": "everyone"}, json={}))["name"]

        _feature(http, "dark-mode", {"name": "default", "segments": [unleash_id]})
        for name, payload in (
            ("greeting", {"type": "string", "value": "hej"}),
            ("limit", {"type": "number", "value": "10"}),
            ("ratio", {"type": "number", "value": "0.25"}),
            ("banner", {"type": "json", "value": '{"width": 3, "tone": "calm"}'}),
        ):
            _feature(http, name, {"name": "default", "variants": [_variant(name, payload)]})
        halves = [_variant("heads", None, 500), _variant("tails", None, 500)]
        _feature(http, "coin", {"name": "default", "variants": halves})
        _feature(http, "retired", None)
        _feature(http, "both", {"name": "default"})

        client = ok(http.post("/v1/clients", json={"displayName": "sdk"}))["name"]
        secret = ok(http.post(f"/v1/{client}/credentials", json={"displayName": "sdk"}))
        theme_schema = {
            "color": {"stringSchema": {}},
            "size": {"intSchema": {}},
            "ratio": {"doubleSchema": {}},
            "bold": {"boolSchema": {}},
            "style": {"structSchema": {"schema": {"font": {"stringSchema": {}}}}},
        }
        _confidence_flag(http, "theme", theme_schema, {"big": BIG, "small": SMALL}, client)
        rule = _one_rule(http, "theme", swedes, {"big": (0, 1)}, 1)
        _one_rule(http, "theme", everyone, {"small": (0, 1)}, 1)
        on_off = {"on": {"on": True}, "off": {"on": False}}
        _confidence_flag(http, "rollout", {"on": {"boolSchema": {}}}, on_off, client)
        _one_rule(http, "rollout", everyone, {"on": (0, 50), "off": (50, 100)}, 100)
        hej = {"yes": {"hej": True}}
        _confidence_flag(http, "swedish", {"hej": {"boolSchema": {}}}, hej, client)
        _one_rule(http, "swedish", swedes, {"yes": (0, 1)}, 1)
        _confidence_flag(http, "both", {"on": {"boolSchema": {}}}, {"on": {"on": True}}, client)
        _one_rule(http, "both", everyone, {"on": (0, 1)}, 1)
    return Seeded(unleash_id, swedes, rule, secret["clientSecret"]["secret"])
