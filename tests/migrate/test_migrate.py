"""``segmux migrate`` between two live gateways on different stores, every ordered dialect pair
in both directions: the target shows exactly the translations, the report counts them, a dry
run writes nothing, a re-run is a no-op, ids are kept where the target lets a client choose."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from dialects.registry import by_name
from gateway.cli import main
from tests.migrate.conftest import Gateway
from tests.migrate.seeds import (
    DIALECTS,
    Seed,
    canonical,
    create,
    expressible,
    render,
    seeds_for,
    segments,
)

PAIRS = [(s, t) for s in DIALECTS for t in DIALECTS if s != t]
PAGED = [d for d in DIALECTS if hasattr(importlib.import_module(str(by_name(d).codec)), "PAGE")]
"""Every codec that reads its source page by page (Unleash's admin API answers every segment
at once, so its codec has no page size)."""
ROOT = Path(__file__).resolve().parents[2]


def run(
    capsys: pytest.CaptureFixture[str], source: str, target: str, tenant: str, *extra: str
) -> tuple[int, dict[str, Any]]:
    code = main(
        [
            "migrate",
            source,
            target,
            "--json",
            "--source-ims-org",
            f"{tenant}@AdobeOrg",
            "--target-ims-org",
            f"{tenant}@AdobeOrg",
            *extra,
        ]
    )
    # The live gateways log to stdout in this process too: the report is its own line.
    [line] = [x for x in capsys.readouterr().out.splitlines() if x.startswith('{"source"')]
    return code, json.loads(line)


def _stores(src: str, dst: str) -> str:
    """Each dialect pair runs from SQLite to PostgreSQL one way and back the other way."""
    return (
        "sqlite-to-postgres" if DIALECTS.index(src) < DIALECTS.index(dst) else "postgres-to-sqlite"
    )


@pytest.mark.parametrize(
    ("src", "dst"), PAIRS, ids=[f"{s}-to-{t}-{_stores(s, t)}" for s, t in PAIRS]
)
def test_migrate_pair(
    gateways: tuple[Gateway, Gateway],
    tenant: str,
    src: str,
    dst: str,
    http: httpx.Client,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a, b = gateways if _stores(src, dst) == "sqlite-to-postgres" else gateways[::-1]
    src_token, dst_token = a.token(tenant), b.token(tenant)
    monkeypatch.setenv("SEGMUX_SOURCE_TOKEN", src_token)
    monkeypatch.setenv("SEGMUX_TARGET_TOKEN", dst_token)
    seeded = {
        seed.name: (seed, create(http, src, a.url, src_token, tenant, seed))
        for seed in seeds_for(src)
    }
    wanted = {n for n, (seed, _) in seeded.items() if expressible(dst, seed)}
    refused = set(seeded) - wanted
    source, target = f"{src}+{a.url}", f"{dst}+{b.url}"

    code, plan = run(capsys, source, target, tenant, "--dry-run")
    assert code == 0, plan["segments"]
    assert plan["dryRun"] is True
    assert plan["counts"] == {
        "migrated": len(wanted),
        "changed": 0,
        "skipped-existing": 0,
        "not-expressible": len(refused),
        "failed": 0,
    }
    assert segments(http, b.url, dst_token) == {}, "a dry run wrote"

    code, report = run(capsys, source, target, tenant)
    assert code == 0, report
    assert report["counts"] == plan["counts"]
    outcomes = {e["name"]: e for e in report["segments"]}
    assert {n for n, e in outcomes.items() if e["outcome"] == "not-expressible"} == refused
    for name in refused:
        assert outcomes[name]["reason"], outcomes[name]

    shown = segments(http, b.url, dst_token)
    assert set(shown) == wanted
    for name in wanted:
        seed, ids = seeded[name]
        got = shown[name]
        assert canonical(got) == seed.expr, name
        if dst != "segmux":
            view = got["renderings"][dst]
            assert view["expressible"] is True, view
            if dst == "unleash":  # stored constraints always carry `values`
                assert view["expression"] == [{"values": [], **c} for c in render(dst, seed)]
            elif dst != "v23":
                assert view["expression"] == render(dst, seed), name
        if dst == "confidence" and seed.proportion != "1":
            assert got["allocation"]["proportion"] == seed.proportion
        target_id = got["id"] if dst == "segmux" else got["renderings"][dst]["id"]
        assert outcomes[name]["target_id"] == str(target_id), "the report names another id"
        if dst == "unleash" and "seq" in ids:
            assert got["seq"] == ids["seq"], "Unleash id not kept"
        if dst in ("confidence", "hal") and "slug" in ids:
            assert got["slug"] == ids["slug"], "slug id not kept"

    code, again = run(capsys, source, target, tenant)
    assert code == 0, again
    assert again["counts"] == {
        "migrated": 0,
        "changed": 0,
        "skipped-existing": len(wanted),
        "not-expressible": len(refused),
        "failed": 0,
    }
    assert set(segments(http, b.url, dst_token)) == wanted


def test_failures_are_reported_and_exit_non_zero(
    gateways: tuple[Gateway, Gateway],
    tenant: str,
    http: httpx.Client,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A write the target refuses (an Unleash name too long for v2.3) is ``failed`` with the
    target's error body, the others go on, and the exit status is 1."""
    a, b = gateways
    src_token, dst_token = a.token(tenant), b.token(tenant)
    long_name = "x" * 300  # v2.3 allows 255 characters
    create(http, "unleash", a.url, src_token, tenant, Seed(long_name, None))
    code, report = run(
        capsys,
        f"unleash+{a.url}",
        f"v23+{b.url}",
        tenant,
        "--source-token",
        src_token,
        "--target-token",
        dst_token,
    )
    assert code == 1
    [entry] = report["segments"]
    assert entry["outcome"] == "failed"
    assert entry["reason"].startswith("422 ") and "255" in entry["reason"]


def test_cli_never_prints_tokens(gateways: tuple[Gateway, Gateway], tenant: str) -> None:
    a, b = gateways
    src_token, dst_token = a.token(tenant), b.token(tenant)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway.cli",
            "migrate",
            f"unleash+{a.url}",
            f"hal+{b.url}",
            "--source-token",
            src_token,
            "--target-token",
            "not-a-token",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 2
    assert "401" in done.stderr
    assert src_token not in done.stdout + done.stderr
    assert dst_token not in done.stdout + done.stderr


def test_bad_endpoint_and_missing_token(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SEGMUX_SOURCE_TOKEN", raising=False)
    assert main(["migrate", "nosuch+http://127.0.0.1:1", "unleash+http://127.0.0.1:1"]) == 2
    assert "dialect one of" in capsys.readouterr().err
    assert (
        main(
            [
                "migrate",
                "unleash+http://127.0.0.1:1",
                "hal+http://127.0.0.1:1",
                "--target-token",
                "t",
            ]
        )
        == 2
    )
    assert "SEGMUX_SOURCE_TOKEN" in capsys.readouterr().err


@pytest.mark.parametrize("src", PAGED)
def test_reads_every_page(
    gateways: tuple[Gateway, Gateway],
    tenant: str,
    src: str,
    http: httpx.Client,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Pages of 2 (the codec's page size, lowered): 5 segments are 3 pages in each API."""
    monkeypatch.setattr(f"{by_name(src).codec}.PAGE", 2)
    a, b = gateways
    src_token, dst_token = a.token(tenant), b.token(tenant)
    names = {f"page item {i}" for i in range(5)}
    for name in sorted(names):
        create(http, src, a.url, src_token, tenant, Seed(name, None))
    dst = "unleash" if src != "unleash" else "segmux"
    code, report = run(
        capsys,
        f"{src}+{a.url}",
        f"{dst}+{b.url}",
        tenant,
        "--source-token",
        src_token,
        "--target-token",
        dst_token,
    )
    assert code == 0, report
    assert report["counts"]["migrated"] == 5
    assert set(segments(http, b.url, dst_token)) == names


def test_static_segments_are_not_migrated(
    gateways: tuple[Gateway, Gateway],
    tenant: str,
    http: httpx.Client,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A member list is profiles, not a definition: reported, never created as an empty or
    match-everyone segment."""
    a, b = gateways
    src_token, dst_token = a.token(tenant), b.token(tenant)
    r = http.post(
        f"{a.url}/prod/individual-segments",
        headers={"Authorization": f"Bearer {src_token}"},
        json={"name": "vips", "segmentType": "STATIC"},
    )
    assert r.status_code == 200, r.text
    code, report = run(
        capsys,
        f"hal+{a.url}",
        f"hal+{b.url}",
        tenant,
        "--source-token",
        src_token,
        "--target-token",
        dst_token,
    )
    assert code == 0, report
    [entry] = report["segments"]
    assert entry["outcome"] == "not-expressible"
    assert "member list" in entry["reason"]
    assert segments(http, b.url, dst_token) == {}


def _confidence(
    http: httpx.Client, base: str, token: str, slug: str, body: dict[str, Any], *verbs: str
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    r = http.post(f"{base}/v1/segments", params={"segmentId": slug}, json=body, headers=headers)
    assert r.status_code == 200, r.text
    for verb in verbs:
        r = http.post(f"{base}/v1/segments/{slug}:{verb}", json={}, headers=headers)
        assert r.status_code == 200, r.text


def test_states_that_cannot_arrive_are_reported(
    gateways: tuple[Gateway, Gateway], tenant: str, http: httpx.Client
) -> None:
    """Confidence creates a segment UNALLOCATED (exclusive) or OK: an ALLOCATED or ARCHIVED
    source is reported with what to do, counted on its own line; an archived one that would
    arrive live is archived on the target; a target without archived states refuses it."""
    a, b = gateways
    src_token, dst_token = a.token(tenant), b.token(tenant)
    exclusive = {
        "allocation": {
            "proportion": {"value": "0.35"},
            "exclusivityTags": ["g"],
            "exclusiveTo": ["g"],
        }
    }
    _confidence(
        http, a.url, src_token, "held-back", {"displayName": "held back", **exclusive}, "allocate"
    )
    _confidence(
        http,
        a.url,
        src_token,
        "old-test",
        {
            "displayName": "old test",
            "allocation": {"proportion": {"value": "0.5"}, "exclusivityTags": ["h"]},
        },
        "allocate",
        "archive",
    )
    _confidence(http, a.url, src_token, "retired", {"displayName": "retired"}, "archive")
    _confidence(
        http, a.url, src_token, "plain", {"displayName": "plain", "labels": {"team": "growth"}}
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway.cli",
            "migrate",
            f"confidence+{a.url}",
            f"confidence+{b.url}",
            "--source-token",
            src_token,
            "--target-token",
            dst_token,
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    held = next(x for x in lines if "'held back'" in x)
    assert held.startswith("  changed ")
    assert (
        "ALLOCATED at the source, UNALLOCATED on the target (it serves no one until "
        "allocated): allocate it with POST /v1/segments/held-back:allocate"
    ) in held
    old = next(x for x in lines if "'old test'" in x)
    assert old.startswith("  changed ")
    assert "ARCHIVED at the source, UNALLOCATED on the target" in old
    assert "POST /v1/segments/old-test:allocate, then POST /v1/segments/old-test:archive" in old
    retired = next(x for x in lines if "'retired'" in x)
    assert retired.startswith("  migrated ") and "archived after creation" in retired
    assert lines[-2] == ("migrated: 2  skipped-existing: 0  not-expressible: 0  failed: 0")
    assert lines[-1].startswith("arrived changed: 2 (")

    states = {}
    for slug in ("held-back", "old-test", "retired", "plain"):
        r = http.get(
            f"{b.url}/v1/segments/{slug}", headers={"Authorization": f"Bearer {dst_token}"}
        )
        assert r.status_code == 200, r.text
        states[slug] = r.json()["state"]
        if slug == "plain":
            assert r.json()["labels"] == {"team": "growth"}
    assert states == {
        "held-back": "UNALLOCATED",
        "old-test": "UNALLOCATED",
        "retired": "ARCHIVED",
        "plain": "OK",
    }


def test_an_archived_segment_is_not_made_live_elsewhere(
    gateways: tuple[Gateway, Gateway],
    tenant: str,
    http: httpx.Client,
    capsys: pytest.CaptureFixture[str],
) -> None:
    a, b = gateways
    src_token, dst_token = a.token(tenant), b.token(tenant)
    _confidence(http, a.url, src_token, "retired", {"displayName": "retired"}, "archive")
    _confidence(
        http,
        a.url,
        src_token,
        "owned",
        {"displayName": "owned", "description": "d", "labels": {"team": "growth"}},
    )
    code, report = run(
        capsys,
        f"confidence+{a.url}",
        f"hal+{b.url}",
        tenant,
        "--source-token",
        src_token,
        "--target-token",
        dst_token,
    )
    assert code == 0, report
    entries = {e["name"]: e for e in report["segments"]}
    assert entries["retired"]["outcome"] == "not-expressible"
    assert "ARCHIVED at the source" in entries["retired"]["reason"]
    assert entries["owned"]["outcome"] == "changed"
    assert entries["owned"]["reason"] == (
        "the description is not carried: HAL segments have none; labels {'team': 'growth'} "
        "are not carried: only Confidence keeps labels"
    )
    assert report["counts"] == {
        "migrated": 0,
        "changed": 1,
        "skipped-existing": 0,
        "not-expressible": 1,
        "failed": 0,
    }
    assert set(segments(http, b.url, dst_token)) == {"owned"}
