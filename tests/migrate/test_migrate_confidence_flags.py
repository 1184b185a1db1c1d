"""``segmux migrate`` from Confidence to Confidence takes the flags and clients along, after the
segments: clients by display name and without credentials (the report says so), flags under
their own ids with their variants, rules in order on the target's copies of their segments,
clients and state. A re-run changes nothing; to another API they are not expressible."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.migrate.conftest import Gateway
from tests.migrate.test_migrate import run


def _post(http: httpx.Client, url: str, token: str, path: str, body: Any, **params: str) -> Any:
    r = http.post(
        f"{url}{path}", params=params, json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 200, r.text
    return r.json()


def _get(http: httpx.Client, url: str, token: str, path: str) -> Any:
    r = http.get(f"{url}{path}", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    return r.json()


def _rule(segment: str, variant: str) -> dict[str, Any]:
    return {
        "segment": f"segments/{segment}",
        "enabled": True,
        "environments": ["production"],
        "assignmentSpec": {
            "bucketCount": 10,
            "assignments": [
                {"variant": {"variant": variant}, "bucketRanges": [{"lower": 0, "upper": 7}]},
                {"fallthrough": {}, "bucketRanges": [{"lower": 7, "upper": 10}]},
            ],
        },
    }


def _seed(http: httpx.Client, url: str, token: str) -> str:
    """Two segments, a client with a credential, an active and an archived flag."""
    sweden = {
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
    _post(http, url, token, "/v1/segments", {"targeting": sweden}, segmentId="sweden")
    _post(http, url, token, "/v1/segments", {}, segmentId="everyone")
    client = _post(http, url, token, "/v1/clients", {"displayName": "Web"})["name"]
    _post(http, url, token, f"/v1/{client}/credentials", {"displayName": "key"})
    for flag_id in ("checkout", "retired"):
        on = f"flags/{flag_id}/variants/on"
        _post(
            http,
            url,
            token,
            "/v1/flags",
            {
                "description": f"{flag_id} flag",
                "schema": {"schema": {"enabled": {"boolSchema": {}}}},
                "variants": [{"name": on, "value": {"enabled": True}}],
                "rules": [_rule("sweden", on), _rule("everyone", on)],
                "clients": [client],
            },
            flagId=flag_id,
        )
    _post(http, url, token, "/v1/flags/retired:archive", {})
    return client


def _shape(flag: dict[str, Any], client: str) -> dict[str, Any]:
    """What must arrive: everything but times, actors, rule names and the client's name."""
    return {
        "state": flag["state"],
        "schema": flag["schema"],
        "description": flag["description"],
        "variants": [{k: v[k] for k in ("name", "value")} for v in flag["variants"]],
        "rules": [
            {
                k: v
                for k, v in r.items()
                if k in ("segment", "enabled", "environments", "assignmentSpec")
            }
            for r in flag["rules"]
        ],
        "clients": [client for _ in flag["clients"]],
    }


def test_flags_and_clients_arrive_on_a_confidence_target(
    gateways: tuple[Gateway, Gateway],
    tenant: str,
    http: httpx.Client,
    capsys: pytest.CaptureFixture[str],
) -> None:
    a, b = gateways
    src, dst = a.token(tenant), b.token(tenant)
    source_client = _seed(http, a.url, src)
    args = ("--source-token", src, "--target-token", dst)

    code, report = run(capsys, f"confidence+{a.url}", f"confidence+{b.url}", tenant, *args)
    assert code == 0, report
    entries = {e["name"]: e for e in report["segments"]}
    assert entries["client Web"]["outcome"] == "changed"
    target_client = entries["client Web"]["target_id"]
    assert "created without credentials" in entries["client Web"]["reason"]
    assert entries["flag flags/checkout"]["outcome"] == "migrated"
    assert entries["flag flags/retired"]["outcome"] == "migrated"

    for flag_id in ("checkout", "retired"):
        there = _get(http, b.url, dst, f"/v1/flags/{flag_id}")
        here = _get(http, a.url, src, f"/v1/flags/{flag_id}")
        assert _shape(there, target_client) == _shape(here, target_client)
        assert there["clients"] == [target_client]
    assert _get(http, b.url, dst, "/v1/flags/retired")["state"] == "ARCHIVED"
    [client] = _get(http, b.url, dst, "/v1/clients")["clients"]
    assert client["name"] == target_client and client["displayName"] == "Web"
    assert _get(http, b.url, dst, f"/v1/{target_client}/credentials") == {"clientCredentials": []}
    assert source_client.startswith("clients/")

    # Again: everything is there already.
    code, report = run(capsys, f"confidence+{a.url}", f"confidence+{b.url}", tenant, *args)
    assert code == 0, report
    entries = {e["name"]: e for e in report["segments"]}
    assert {entries[n]["outcome"] for n in ("client Web", "flag flags/checkout")} == {
        "skipped-existing"
    }
    assert len(_get(http, b.url, dst, "/v1/flags")["flags"]) == 2


def test_flags_are_not_expressible_elsewhere_and_a_dry_run_writes_nothing(
    gateways: tuple[Gateway, Gateway],
    tenant: str,
    http: httpx.Client,
    capsys: pytest.CaptureFixture[str],
) -> None:
    a, b = gateways
    src, dst = a.token(tenant), b.token(tenant)
    _seed(http, a.url, src)
    args = ("--source-token", src, "--target-token", dst)
    code, report = run(capsys, f"confidence+{a.url}", f"segmux+{b.url}", tenant, *args)
    assert code == 0, report
    entries = {e["name"]: e for e in report["segments"]}
    assert entries["flag flags/checkout"]["outcome"] == "not-expressible"
    assert entries["flag flags/checkout"]["reason"] == "segmux has no Confidence flags or clients"

    code, report = run(
        capsys,
        f"confidence+{a.url}",
        f"confidence+{b.url}",
        tenant,
        *args,
        "--dry-run",
    )
    assert code == 0, report
    entries = {e["name"]: e for e in report["segments"]}
    assert entries["flag flags/checkout"]["reason"] == "would be created"
    assert _get(http, b.url, dst, "/v1/flags") == {"flags": []}
