"""One store, six views. One segment is made through each dialect's own HTTP API (Adobe PQL,
Unleash constraints, Confidence targeting, HAL OData filter, v2.3 name only, segmux's canonical
AST), and every dialect's view of each is read back through its HTTP API:

* where the dialect can say the condition exactly, its detail shows that exact payload (PQL
  text, constraint list, targeting, OData filter, name) and its list holds the segment;
* where it cannot, its list leaves the segment out and its detail answers the dialect's own
  refusal with the reason — the same reason segmux's ``renderings`` give;
* segmux's ``renderings`` agree with every dialect, payload for payload.

Then each dialect updates one segment and every other dialect sees the change on the very next
read, including segments that become expressible (or stop being) in some dialect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from tests.dialects.adobe.common import DEFS, service_error
from tests.dialects.adobe.common import body as adobe_body
from tests.dialects.adobe.common import headers as adobe_headers
from tests.dialects.confidence.helpers import assert_status
from tests.dialects.hal.hal import assert_error, embedded

SEGMUX = "/segmux/v1/segments"
UNLEASH = "/api/admin/segments"
CONFIDENCE = "/v1/segments"
HAL = "/prod/individual-segments"  # prod: the default sandbox every other dialect serves
V23 = "/v2.3/data/segments"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json() if r.content else None


# --- what each dialect is sent -------------------------------------------------------------

ADOBE_PQL = 'workAddress.country = "US" or age > 30'  # an OR across attributes: not Unleash
UNLEASH_CONSTRAINTS: list[dict[str, Any]] = [
    {"contextName": "country", "operator": "IN", "values": ["SE", "NO"]},
    {"contextName": "age", "operator": "NUM_GTE", "value": "18"},
]
CONFIDENCE_TARGETING = {  # a Confidence version: not SemVer (Unleash), no PQL/OData literal
    "criteria": {
        "v": {
            "attribute": {
                "attributeName": "app.version",
                "rangeRule": {"startInclusive": {"versionValue": {"version": "2.1"}}},
            }
        },
        "c": {
            "attribute": {
                "attributeName": "country",
                "setRule": {"values": [{"stringValue": "SE"}, {"stringValue": "DK"}]},
            }
        },
    },
    "expression": {"and": {"operands": [{"ref": "v"}, {"ref": "c"}]}},
}
HAL_FILTER = "startswith(email, 'ana') and interests/all(i: i eq 'golf')"  # all(): not Unleash
SEGMUX_AST = {
    "t": "and",
    "args": [  # a regex: not OData, not Confidence
        {"t": "regex", "path": ["email"], "pattern": "@example\\.com$"},
        {
            "t": "cmp",
            "op": "eq",
            "path": ["plan"],
            "value": {"t": "lit", "kind": "string", "value": "pro"},
        },
    ],
}

NAMES = {
    "adobe": "US or older (Adobe)",
    "unleash": "Nordic adults (Unleash)",
    "confidence": "New app in SE/DK (Confidence)",
    "hal": "Golfing Anas (HAL)",
    "v23": "Everyone (v2.3)",
    "segmux": "Pro example.com (segmux)",
}


async def create_all(c: httpx.AsyncClient, token: str) -> None:
    ok(await c.post(DEFS, json=adobe_body(NAMES["adobe"], ADOBE_PQL), headers=adobe_headers(token)))
    ok(
        await c.post(
            UNLEASH,
            json={"name": NAMES["unleash"], "constraints": UNLEASH_CONSTRAINTS},
            headers={"Authorization": token},
        ),
        201,
    )
    ok(
        await c.post(
            CONFIDENCE,
            params={"segmentId": "new-app-nordics"},
            headers=bearer(token),
            json={"displayName": NAMES["confidence"], "targeting": CONFIDENCE_TARGETING},
        )
    )
    ok(
        await c.post(
            HAL,
            headers=bearer(token),
            json={
                "name": NAMES["hal"],
                "segmentType": "DYNAMIC",
                "filter": HAL_FILTER,
                "identifier": "golfing-anas",
            },
        )
    )
    ok(await c.post(V23, json={"name": NAMES["v23"]}, headers=bearer(token)))
    ok(
        await c.post(
            SEGMUX, json={"name": NAMES["segmux"], "expression": SEGMUX_AST}, headers=bearer(token)
        ),
        201,
    )


# --- what each dialect shows ---------------------------------------------------------------


@dataclass(frozen=True)
class Refused:
    """Expected: the dialect leaves the segment out; its refusal's reason contains ``needle``."""

    needle: str


@dataclass(frozen=True)
class Seen:
    """One dialect's answer for one segment: ``shown`` with ``payload``, or refused with
    ``message``; ``listed`` says whether its list holds the segment; ``url`` is what was read."""

    shown: bool
    payload: Any
    message: str
    listed: bool
    url: str


@dataclass(frozen=True)
class Ids:
    id: str
    seq: int
    slug: str
    name: str


class Views:
    def __init__(self, client: httpx.AsyncClient, token: str) -> None:
        self.c = client
        self.token = token

    async def ids(self) -> dict[str, Ids]:
        page = ok(await self.c.get(SEGMUX, headers=bearer(self.token)))
        assert page["next"] is None
        return {s["name"]: Ids(s["id"], s["seq"], s["slug"], s["name"]) for s in page["items"]}

    async def adobe(self, s: Ids) -> Seen:
        h = adobe_headers(self.token)
        listed = [d["id"] for d in ok(await self.c.get(DEFS, headers=h))["segments"]]
        url = f"{DEFS}/{s.id}"
        r = await self.c.get(url, headers=h)
        if r.status_code != 200:
            return Seen(False, None, service_error(r, 422), s.id in listed, url)
        d = r.json()
        assert d["name"] == s.name and d["expression"]["format"] == "pql/text", d
        return Seen(True, d["expression"]["value"], "", s.id in listed, url)

    async def unleash(self, s: Ids) -> Seen:
        h = {"Authorization": self.token}
        listed = [x["id"] for x in ok(await self.c.get(UNLEASH, headers=h))["segments"]]
        url = f"{UNLEASH}/{s.seq}"
        r = await self.c.get(url, headers=h)
        if r.status_code != 200:
            body = ok(r, 404)
            assert body["name"] == "NotFoundError", body
            return Seen(False, None, body["message"], s.seq in listed, url)
        assert r.json()["name"] == s.name
        return Seen(True, r.json()["constraints"], "", s.seq in listed, url)

    async def confidence(self, s: Ids) -> Seen:
        listed = [
            x["name"]
            for x in ok(await self.c.get(CONFIDENCE, headers=bearer(self.token)))["segments"]
        ]
        url = f"{CONFIDENCE}/{s.slug}"
        r = await self.c.get(url, headers=bearer(self.token))
        name = f"segments/{s.slug}"
        if r.status_code != 200:
            body = assert_status(r, 404, 5)
            return Seen(False, None, body["message"], name in listed, url)
        assert r.json()["displayName"] == s.name
        return Seen(True, r.json().get("targeting"), "", name in listed, url)

    async def hal(self, s: Ids) -> Seen:
        doc = ok(await self.c.get(HAL, headers=bearer(self.token)))
        listed = [x["identifier"] for x in embedded(doc, "individual-segments")]
        url = f"{HAL}/{s.slug}"
        r = await self.c.get(url, headers=bearer(self.token))
        if r.status_code != 200:
            body = assert_error(r, 404)
            return Seen(False, None, body["message"], s.slug in listed, url)
        assert r.json()["name"] == s.name and r.json()["segmentType"] == "DYNAMIC"
        return Seen(True, r.json()["filter"], "", s.slug in listed, url)

    async def v23(self, s: Ids) -> Seen:
        """v2.3 has names only (and no detail route): every segment is in its list."""
        items = ok(await self.c.get(V23, headers=bearer(self.token)))["result"]["items"]
        names = {x["id"]: x["name"] for x in items}
        return Seen(s.id in names, names.get(s.id), "", s.id in names, V23)

    async def check(self, name: str, expected: dict[str, Any]) -> None:
        """Every dialect's view of the segment called ``name`` is ``expected`` (per dialect: the
        exact payload, or ``Refused``), and segmux's renderings say the same."""
        s = (await self.ids())[name]
        shown = ok(await self.c.get(f"{SEGMUX}/{s.id}", headers=bearer(self.token)))
        assert shown["name"] == name
        renderings = shown["renderings"]
        for dialect, want in {**expected, "v23": name}.items():
            seen: Seen = await getattr(self, dialect)(s)
            rendering = renderings[dialect]
            where = f"{name!r} through {dialect}"
            if isinstance(want, Refused):
                assert not seen.shown and not seen.listed, where
                assert want.needle in seen.message, (where, seen.message)
                assert rendering == {"expressible": False, "reason": rendering["reason"]}, where
                assert rendering["reason"] in seen.message, (where, rendering, seen.message)
            else:
                assert seen.shown and seen.listed, (where, seen.message)
                assert seen.payload == want, (where, seen.payload)
                assert rendering["expressible"] is True, (where, rendering)
                if dialect != "v23":
                    assert rendering["expression"] == want, (where, rendering)
                    assert rendering["url"] == seen.url, where


# --- the expected views ----------------------------------------------------------------------

EVERYONE: dict[str, Any] = {"adobe": "true", "unleash": [], "confidence": None, "hal": "true"}

BEFORE: dict[str, dict[str, Any]] = {
    NAMES["adobe"]: {
        "adobe": ADOBE_PQL,
        "unleash": Refused("an OR of different conditions has no constraint"),
        "confidence": {
            "criteria": {
                "c0": {
                    "attribute": {
                        "attributeName": "workAddress.country",
                        "eqRule": {"value": {"stringValue": "US"}},
                    }
                },
                "c1": {
                    "attribute": {
                        "attributeName": "age",
                        "rangeRule": {"startExclusive": {"numberValue": 30}},
                    }
                },
            },
            "expression": {"or": {"operands": [{"ref": "c0"}, {"ref": "c1"}]}},
        },
        "hal": "workAddress/country eq 'US' or age gt 30",
    },
    NAMES["unleash"]: {
        "adobe": 'age >= 18 and country in ["NO", "SE"]',
        # as sent, with the `values` Unleash fills in for a one-value operator
        "unleash": [UNLEASH_CONSTRAINTS[0], {**UNLEASH_CONSTRAINTS[1], "values": []}],
        "confidence": {
            "criteria": {
                "c0": {
                    "attribute": {
                        "attributeName": "age",
                        "rangeRule": {"startInclusive": {"numberValue": 18}},
                    }
                },
                "c1": {
                    "attribute": {
                        "attributeName": "country",
                        "setRule": {"values": [{"stringValue": "NO"}, {"stringValue": "SE"}]},
                    }
                },
            },
            "expression": {"and": {"operands": [{"ref": "c0"}, {"ref": "c1"}]}},
        },
        "hal": "age ge 18 and country in ('NO','SE')",
    },
    NAMES["confidence"]: {
        "adobe": Refused("PQL has no version literal"),
        "unleash": Refused("Confidence versions are not SemVer"),
        "confidence": CONFIDENCE_TARGETING,
        "hal": Refused("OData has no version literal"),
    },
    NAMES["hal"]: {
        # stored normalised, as every dialect stores a condition (the order of `and` is canonical)
        "adobe": '(forall X1 from interests where X1 = "golf") and email.startsWith("ana")',
        "unleash": Refused("Quant has no Unleash constraint operator"),
        "confidence": {
            "criteria": {
                "c0": {
                    "attribute": {
                        "attributeName": "interests",
                        "allRule": {"rule": {"eqRule": {"value": {"stringValue": "golf"}}}},
                    }
                },
                "c1": {"attribute": {"attributeName": "email", "startsWithRule": {"value": "ana"}}},
            },
            "expression": {"and": {"operands": [{"ref": "c0"}, {"ref": "c1"}]}},
        },
        "hal": HAL_FILTER,  # as sent, while the condition is unchanged
    },
    NAMES["v23"]: EVERYONE,
    NAMES["segmux"]: {
        "adobe": 'plan = "pro" and email.matches("@example\\\\.com$")',
        "unleash": [
            {"values": ["pro"], "operator": "IN", "contextName": "plan"},
            {"value": "@example\\.com$", "values": [], "operator": "REGEX", "contextName": "email"},
        ],
        "confidence": Refused("Regex has no Confidence rule"),
        "hal": Refused("OData has no regular-expression test"),
    },
}


async def test_every_dialect_sees_every_dialects_segment(
    client: httpx.AsyncClient, token_a: str
) -> None:
    await create_all(client, token_a)
    views = Views(client, token_a)
    assert sorted(await views.ids()) == sorted(NAMES.values())
    for name, expected in BEFORE.items():
        await views.check(name, expected)


SWEDES: dict[str, Any] = {
    "adobe": 'country = "SE"',
    "unleash": [{"values": ["SE"], "operator": "IN", "contextName": "country"}],
    "confidence": {
        "criteria": {
            "c0": {
                "attribute": {
                    "attributeName": "country",
                    "eqRule": {"value": {"stringValue": "SE"}},
                }
            }
        },
        "expression": {"ref": "c0"},
    },
    "hal": "country eq 'SE'",
}
PROS: dict[str, Any] = {
    "adobe": 'plan = "pro"',
    "unleash": [{"values": ["pro"], "operator": "IN", "contextName": "plan"}],
    "confidence": {
        "criteria": {
            "c0": {
                "attribute": {"attributeName": "plan", "eqRule": {"value": {"stringValue": "pro"}}}
            }
        },
        "expression": {"ref": "c0"},
    },
    "hal": "plan eq 'pro'",
}
EXAMPLE_COM: dict[str, Any] = {
    "adobe": 'email.matches("@example\\\\.com$")',
    "unleash": [
        {"value": "@example\\.com$", "values": [], "operator": "REGEX", "contextName": "email"}
    ],
    "confidence": Refused("Regex has no Confidence rule"),
    "hal": Refused("OData has no regular-expression test"),
}


async def test_an_update_in_one_dialect_is_seen_by_all_at_once(
    client: httpx.AsyncClient, token_a: str
) -> None:
    await create_all(client, token_a)
    views = Views(client, token_a)
    ids = await views.ids()

    # Unleash replaces its constraints.
    s = ids[NAMES["unleash"]]
    ok(
        await client.put(
            f"{UNLEASH}/{s.seq}",
            headers={"Authorization": token_a},
            json={
                "name": s.name,
                "constraints": [{"contextName": "country", "operator": "IN", "values": ["SE"]}],
            },
        ),
        204,
    )
    await views.check(s.name, SWEDES)

    # segmux gives the Adobe segment a regex: Unleash can now show it, Confidence and HAL
    # can no longer.
    s = ids[NAMES["adobe"]]
    ok(
        await client.patch(
            f"{SEGMUX}/{s.id}",
            headers=bearer(token_a),
            json={
                "condition": {"language": "pql", "expression": 'email.matches("@example\\\\.com$")'}
            },
        )
    )
    await views.check(s.name, EXAMPLE_COM)

    # Confidence drops the version criterion: the segment appears in Adobe, Unleash and HAL.
    s = ids[NAMES["confidence"]]
    r = await client.patch(
        f"{CONFIDENCE}/{s.slug}",
        params={"updateMask": "targeting"},
        headers=bearer(token_a),
        json={
            "targeting": {
                "criteria": {
                    "se": {
                        "attribute": {
                            "attributeName": "country",
                            "eqRule": {"value": {"stringValue": "SE"}},
                        }
                    }
                },
                "expression": {"ref": "se"},
            }
        },
    )
    ok(r)
    await views.check(s.name, {**SWEDES, "confidence": r.json()["targeting"]})
    assert r.json()["targeting"]["criteria"]["se"]["attribute"]["attributeName"] == "country"

    # Adobe gives the segmux segment a plain condition: Confidence and HAL can show it now.
    s = ids[NAMES["segmux"]]
    ok(
        await client.patch(
            f"{DEFS}/{s.id}",
            json=adobe_body(s.name, 'plan = "pro"'),
            headers=adobe_headers(token_a),
        )
    )
    await views.check(s.name, PROS)

    # HAL renames the v2.3 segment and gives it a filter.
    s = ids[NAMES["v23"]]
    renamed = "Pros (renamed in HAL)"
    ok(
        await client.put(
            f"{HAL}/{s.slug}",
            headers=bearer(token_a),
            json={"name": renamed, "segmentType": "DYNAMIC", "filter": "plan eq 'pro'"},
        )
    )
    await views.check(renamed, PROS)

    # v2.3 renames the HAL segment; its condition is untouched everywhere.
    s = ids[NAMES["hal"]]
    ok(
        await client.put(
            f"{V23}/{s.id}", json={"name": "Golfers (renamed in v2.3)"}, headers=bearer(token_a)
        )
    )
    await views.check("Golfers (renamed in v2.3)", BEFORE[NAMES["hal"]])

    # The segments nobody touched are as they were.
    await views.check(NAMES["unleash"], SWEDES)
    assert sorted(await views.ids()) == sorted(
        [
            NAMES["adobe"],
            NAMES["unleash"],
            NAMES["confidence"],
            NAMES["segmux"],
            renamed,
            "Golfers (renamed in v2.3)",
        ]
    )


async def test_evaluate_agrees_with_what_each_dialect_was_sent(
    client: httpx.AsyncClient, token_a: str
) -> None:
    """The six conditions mean what their own dialects say, whoever evaluates them."""
    await create_all(client, token_a)
    ids = await Views(client, token_a).ids()
    contexts = [
        {"workAddress": {"country": "US"}, "age": 20},
        {"country": "SE", "age": "18", "app": {"version": "2.10"}},
        {"country": "DK", "app": {"version": "2.0"}},
        {"email": "ana@example.com", "interests": ["golf", "golf"], "plan": "pro"},
        {"email": "bob@example.com", "interests": [], "plan": "pro", "age": 31},
    ]
    r = ok(
        await client.post(
            "/segmux/v1/evaluate:batch", headers=bearer(token_a), json={"contexts": contexts}
        )
    )
    got = [{name: result["results"][s.id] for name, s in ids.items()} for result in r["results"]]
    expected = [
        {"adobe": True, "unleash": False, "confidence": False, "hal": False, "segmux": False},
        {"adobe": False, "unleash": True, "confidence": True, "hal": False, "segmux": False},
        {"adobe": False, "unleash": False, "confidence": False, "hal": False, "segmux": False},
        {"adobe": False, "unleash": False, "confidence": False, "hal": True, "segmux": True},
        {"adobe": True, "unleash": False, "confidence": False, "hal": False, "segmux": True},
    ]
    assert got == [{NAMES[d]: v for d, v in {**row, "v23": True}.items()} for row in expected]
