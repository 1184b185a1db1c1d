"""``segmux export`` / ``segmux import`` carry Confidence's flags (variants, ordered rules on any
segment, clients) and clients — never a credential: the export says how many it left out and
the import reports each client it restored without them. A version 2 backup (before these
kinds) still imports; a version 2 file cannot smuggle in a version 3 kind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from core.confidence_model import (
    Assignment,
    BucketRange,
    ClientCredential,
    ConfidenceClient,
    ConfidenceFlag,
    FlagRule,
    FlagVariant,
)
from core.model import NewSegment
from core.store import Store, open_store
from core.tokens import hash_token
from tests import pg
from tests.migrate.test_ndjson import cli, run


async def _seed(store: Store) -> None:
    await store.ensure_tenant("t1")
    await store.create_segment("t1", NewSegment(name="sweden", slug="sweden"), "tests")
    await store.create_segment("t1", NewSegment(name="everyone", slug="everyone"), "tests")
    await store.create_confidence_client(
        ConfidenceClient(tenant="t1", name="clients/web", display_name="Web", create_time=1)
    )
    await store.add_client_credential(
        "t1",
        "web",
        ClientCredential(name="clients/web/credentials/k1", environments=("production",)),
        hash_token("the-secret"),
    )
    on = "flags/checkout/variants/on"
    await store.create_confidence_flag(
        "t1",
        ConfidenceFlag(
            tenant="t1",
            name="flags/checkout",
            schema={"schema": {"enabled": {"boolSchema": {}}}},
            variants=(FlagVariant(name=on, value={"enabled": True}),),
            rules=tuple(
                FlagRule(
                    name=f"flags/checkout/rules/{rule_id}",
                    segment=f"segments/{slug}",
                    bucket_count=10,
                    assignments=(
                        Assignment(kind="variant", variant=on, bucket_ranges=(BucketRange(0, 10),)),
                    ),
                )
                for rule_id, slug in (("r2", "sweden"), ("r1", "everyone"))
            ),
            clients=("clients/web",),
            create_time=5,
            update_time=6,
            version=3,
            creator="tests",
        ),
    )


async def _confidence(store: Store, tenant: str) -> dict[str, Any]:
    return {
        "flags": await store.confidence_flags(tenant),
        "clients": await store.confidence_clients(tenant),
    }


def confidence(url: str) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        store = await open_store(url)
        try:
            return await _confidence(store, "t1")
        finally:
            await store.close()

    result: dict[str, Any] = run(go)
    return result


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[tuple[str, str]]:
    source = f"sqlite:///{tmp_path}/source.db"
    target = pg.create_database("segmux_import_confidence")

    async def seed() -> None:
        store = await open_store(source)
        try:
            await _seed(store)
        finally:
            await store.close()

    run(seed)
    yield source, target
    pg.drop_database(target)


def test_flags_and_clients_round_trip_without_credentials(
    stores: tuple[str, str], tmp_path: Path
) -> None:
    source, target = stores
    out = tmp_path / "t1.ndjson"
    done = cli(source, "export", "--tenant", "t1", "--out", str(out))
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert lines[0].endswith("1 confidence_clients, 1 confidence_flags")
    assert lines[1] == (
        "left out: 1 Confidence client credentials (their secrets are never exported; create "
        "new ones after an import)"
    )
    text = out.read_text()
    assert "the-secret" not in text and hash_token("the-secret") not in text
    records = [msgspec.json.decode(x) for x in text.splitlines()]
    [client] = [r for r in records if r.get("record") == "confidence_client"]
    assert client["credentials"] == []

    done = cli(target, "import", str(out), "--tenant", "t1")
    assert done.returncode == 0, done.stderr
    report = done.stderr.splitlines()
    assert any(
        line.startswith("  note: line ")
        and "client clients/web: restored without credentials" in line
        for line in report
    ), report
    assert report[-1].endswith("skipped (already there): 0  failed: 0")
    original = confidence(source)
    restored = confidence(target)
    assert restored["flags"] == original["flags"]
    assert [r.segment for r in restored["flags"][0].rules] == [
        "segments/sweden",
        "segments/everyone",
    ]
    assert restored["clients"] == [
        msgspec.structs.replace(c, credentials=()) for c in original["clients"]
    ]

    # Again: nothing changes, each record reported as already there.
    done = cli(target, "import", str(out), "--tenant", "t1")
    assert done.returncode == 0, done.stderr
    assert "  skipped: " in done.stderr and "confidence_flag flags/checkout: already there" in (
        done.stderr
    )
    assert confidence(target) == restored


def test_a_version_2_backup_still_imports_and_holds_no_confidence_kinds(
    stores: tuple[str, str], tmp_path: Path
) -> None:
    source, target = stores
    out = tmp_path / "t1.ndjson"
    assert cli(source, "export", "--tenant", "t1", "--out", str(out)).returncode == 0
    records = [msgspec.json.decode(x) for x in out.read_text().splitlines()]
    records[0]["version"] = 2
    old = [r for r in records if not str(r.get("record", "")).startswith("confidence_")]
    out.write_text("\n".join(msgspec.json.encode(r).decode() for r in old) + "\n")
    done = cli(target, "import", str(out), "--tenant", "t1")
    assert done.returncode == 0, done.stderr
    assert confidence(target) == {"flags": [], "clients": []}

    smuggled = tmp_path / "smuggled.ndjson"
    flag = next(r for r in records if r.get("record") == "confidence_flag")
    smuggled.write_text(
        "\n".join(msgspec.json.encode(r).decode() for r in (records[0], flag)) + "\n"
    )
    done = cli(target, "import", str(smuggled), "--tenant", "t1")
    assert done.returncode == 1
    assert "unknown record kind 'confidence_flag'" in done.stderr
