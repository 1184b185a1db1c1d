"""What the migrate tests put into a source gateway, through that dialect's own API (bodies as
the dialect tests send them), and what a target is expected to show for each.

Conditions are canonical ASTs; a source gets every seed its language can say. The expected
form on a target is the core renderer's (``NotExpressible`` there = not migrated)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import httpx
import msgspec

from core.errors import NotExpressible
from core.expr import ast
from core.expr.ast import Expr
from core.expr.languages import LANGUAGES
from core.expr.normalize import normalize
from dialects.registry import SURFACES

LANGUAGE = {"unleash": "unleash", "adobe": "pql", "confidence": "confidence", "hal": "odata"}
DIALECTS = tuple(s.name for s in SURFACES if s.codec is not None)
"""Every ``segmux migrate`` endpoint (the registry's surfaces with a codec); a new one fails in
``render`` and ``create`` until it is taught here how its API says a seed."""


@dataclass(frozen=True)
class Seed:
    name: str
    expr: Expr | None
    proportion: str = "1"
    """Confidence allocation (only a Confidence source can hold a share)."""


def _pql(text: str) -> Expr | None:
    return normalize(LANGUAGES["pql"].parse(text))


def _unleash(constraints: list[dict[str, Any]]) -> Expr | None:
    return normalize(LANGUAGES["unleash"].parse(constraints))


SEEDS = (
    Seed("Everyone — all users", None),
    Seed("in sweden", _pql('country = "SE"')),
    Seed("sweden or pro", _pql('country = "SE" or plan = "pro"')),
    Seed(
        "new app",
        _unleash([{"contextName": "appVersion", "operator": "SEMVER_GT", "value": "1.2.3"}]),
    ),
    Seed(
        "example.com mail, any case",
        _unleash(
            [
                {
                    "contextName": "email",
                    "operator": "STR_ENDS_WITH",
                    "values": ["@example.com"],
                    "caseInsensitive": True,
                }
            ]
        ),
    ),
    Seed("has email", _pql("email.isNotNull()")),
    Seed("half of sweden", _pql('country = "SE"'), proportion="0.5"),
    Seed("Everyone again", None),
)


def render(dialect: str, seed: Seed) -> Any:
    """The seed's condition in ``dialect``; ``NotExpressible`` where it has none."""
    if seed.proportion != "1" and dialect != "confidence":
        raise NotExpressible(dialect, "no allocation")
    if dialect == "segmux":
        return seed.expr
    if dialect == "v23":
        if seed.expr is not None:
            raise NotExpressible("v2.3", "no conditions")
        return None
    if dialect == "confidence" and seed.expr is None:
        return None  # no targeting at all (Confidence's everyone)
    return LANGUAGES[LANGUAGE[dialect]].render(seed.expr)


def expressible(dialect: str, seed: Seed) -> bool:
    try:
        render(dialect, seed)
    except NotExpressible:
        return False
    return True


def seeds_for(dialect: str) -> list[Seed]:
    return [s for s in SEEDS if expressible(dialect, s)]


def _slug(prefix: str, seed: Seed) -> str:
    """A client-chosen id (Confidence ``segmentId``, HAL ``identifier``) for the seed."""
    return f"{prefix}-{hashlib.sha1(seed.name.encode()).hexdigest()[:10]}"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def create(
    http: httpx.Client, dialect: str, base: str, token: str, tenant: str, seed: Seed
) -> dict[str, Any]:
    """Create ``seed`` through ``dialect``'s API; return ``{"seq"?, "slug"?}`` it shows."""
    form = render(dialect, seed)
    if dialect == "unleash":
        r = http.post(
            base + "/api/admin/segments",
            headers={"Authorization": token},
            json={"name": seed.name, "constraints": form},
        )
        assert r.status_code == 201, r.text
        return {"seq": r.json()["id"]}
    if dialect == "adobe":
        r = http.post(
            base + "/data/core/ups/segment/definitions",
            headers={
                **auth(token),
                "x-api-key": "segmux-tests",
                "x-sandbox-name": "prod",
                "x-gw-ims-org-id": f"{tenant}@AdobeOrg",
            },
            json={
                "name": seed.name,
                "schema": {"name": "_xdm.context.profile"},
                "expression": {"type": "PQL", "format": "pql/text", "value": form},
            },
        )
        assert r.status_code == 200, r.text
        return {}
    if dialect == "confidence":
        slug = _slug("seed", seed)
        body: dict[str, Any] = {"displayName": seed.name}
        if form:
            body["targeting"] = form
        if seed.proportion != "1":
            body["allocation"] = {"proportion": {"value": seed.proportion}}
        r = http.post(
            base + "/v1/segments", params={"segmentId": slug}, json=body, headers=auth(token)
        )
        assert r.status_code == 200, r.text
        return {"slug": slug}
    if dialect == "v23":
        r = http.post(base + "/v2.3/data/segments", json={"name": seed.name}, headers=auth(token))
        assert r.status_code == 200, r.text
        return {}
    if dialect == "hal":
        slug = _slug("hal-seed", seed)
        r = http.post(
            base + "/prod/individual-segments",
            headers=auth(token),
            json={"name": seed.name, "segmentType": "DYNAMIC", "filter": form, "identifier": slug},
        )
        assert r.status_code == 200, r.text
        return {"slug": r.json()["identifier"]}
    assert dialect == "segmux"
    sent: dict[str, Any] = {"name": seed.name}
    if form is not None:
        sent["expression"] = msgspec.json.decode(ast.encode(form))
    r = http.post(base + "/segmux/v1/segments", json=sent, headers=auth(token))
    assert r.status_code == 201, r.text
    return {"seq": r.json()["seq"], "slug": r.json()["slug"]}


def segments(http: httpx.Client, base: str, token: str) -> dict[str, dict[str, Any]]:
    """Every segment of the token's tenant by name, through the segmux API (canonical
    expression and every dialect's rendering)."""
    r = http.get(f"{base}/segmux/v1/segments", params={"limit": 1000}, headers=auth(token))
    assert r.status_code == 200, r.text
    assert r.json()["next"] is None
    return {s["name"]: s for s in r.json()["items"]}


def canonical(segment: dict[str, Any]) -> Expr | None:
    raw = segment["expression"]
    return None if raw is None else normalize(ast.decode(msgspec.json.encode(raw)))
