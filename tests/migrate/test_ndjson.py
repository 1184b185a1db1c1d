"""``segmux export`` / ``segmux import`` as a user runs them (real CLI processes): a backup of
SQLite restored into PostgreSQL row for row, a second import that changes nothing, an import into
a store that already holds some of it (skips reported, nothing overwritten, exit 1 on a
failure), version 1 backups still read, a newer version refused."""

from __future__ import annotations

import base64
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from core.buckets import FULL, to_bytes
from core.errors import NotFound
from core.expr import ast
from core.expr.languages import LANGUAGES
from core.expr.normalize import normalize
from core.model import Allocation, NewFlag, NewRule, NewSegment
from core.store import Store, open_store
from tests import pg

ROOT = Path(__file__).resolve().parents[2]
STATIC_ID = "0b6f0d0e-8a57-4a4c-9f1e-3c2b1a000001"
HALF = FULL & int("10" * 500_000, 2)
"""Every other bucket: a bitset no allocation would draw, so a redraw cannot pass for it."""


def _expr(pql: str) -> bytes | None:
    e = normalize(LANGUAGES["pql"].parse(pql))
    return None if e is None else ast.encode(e)


def cli(url: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", "--database-url", url, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        input=stdin,
    )


def run(fn: Any) -> Any:
    return pg.run_sync(fn)


async def _seed(store: Store) -> None:
    await store.ensure_tenant("t1")
    await store.ensure_tenant("other")
    await store.update_tenant_settings("t1", {"confidence_account_id": "acct-7"})
    await store.create_project("t1", "web", "Web")
    await store.create_segment(
        "t1",
        NewSegment(
            name="in sweden",
            description="SE",
            expression=_expr('country = "SE"'),
            labels={"team": "growth"},
            owner="user:ana",
            extensions={"unleash": {"project": "default"}},
        ),
        "tests",
    )
    await store.create_segment_with_bitset(
        "t1",
        NewSegment(
            name="half, exclusive",
            expression=_expr('plan = "pro" or age > 30'),
            allocation=Allocation("0.5", ("g",), ("g",)),
            state="ALLOCATED",
            seq=40,
            slug="half-exclusive",
        ),
        "tests",
        HALF,
    )
    await store.create_segment("t1", NewSegment(name="everyone — ünïcode", sandbox="dev"), "tests")
    vips = await store.create_segment(
        "t1", NewSegment(name="vips", kind="static", id=STATIC_ID), "tests"
    )
    for who in ("ana", "bo"):
        await store.create_profile("t1", "prod", who, {"country": "SE", "n": [1, {"x": None}]})
    await store.add_membership("t1", vips.id, "ana")
    await store.create_flag("t1", NewFlag(name="checkout", project="web"), "tests")
    await store.set_flag_enabled("t1", "checkout", "production", True, "tests")
    await store.create_rule(
        "t1",
        NewRule(
            flag="checkout",
            environment="production",
            payload={"name": "default"},
            segments=(vips.id,),
        ),
        "tests",
    )
    await store.create_segment("other", NewSegment(name="not mine"), "tests")


async def _everything(store: Store, tenant: str) -> dict[str, Any]:
    """What a tenant holds, as the store reads it (times and versions included)."""
    segments = (await store.list_segments(tenant, sandbox=None, limit=1000)).items
    return {
        "tenant": await store.backup_tenant(tenant),
        "projects": await store.list_projects(tenant),
        "environments": await store.list_environments(tenant),
        "segments": segments,
        "bitsets": {s.id: await store.get_bitset(tenant, s.id) for s in segments},
        "profiles": await store.profiles_after(tenant, after=None, limit=1000),
        "memberships": await store.memberships_after(tenant, after=None, limit=1000),
        "flags": await store.list_flags(tenant),
        "rules": await store.list_rules(tenant),
    }


def everything(url: str, tenant: str = "t1") -> Any:
    """``_everything``, or None when the store has no such tenant."""

    async def go() -> dict[str, Any] | None:
        store = await open_store(url)
        try:
            return await _everything(store, tenant)
        except NotFound:
            return None
        finally:
            await store.close()

    return run(go)


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[tuple[str, str]]:
    source = f"sqlite:///{tmp_path}/source.db"
    target = pg.create_database("segmux_import")

    async def seed() -> None:
        store = await open_store(source)
        try:
            await _seed(store)
        finally:
            await store.close()

    run(seed)
    yield source, target
    pg.drop_database(target)


def test_backup_restores_every_row_and_a_second_import_changes_nothing(
    stores: tuple[str, str], tmp_path: Path
) -> None:
    source, target = stores
    out = tmp_path / "t1.ndjson"
    done = cli(source, "export", "--tenant", "t1", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stderr == (
        "exported tenant 't1': 2 projects, 2 environments, 4 segments, "
        "2 profiles, 1 memberships, 1 flags, 1 rules, 0 confidence_clients, "
        "0 confidence_flags\n"
    )
    lines = [msgspec.json.decode(x) for x in out.read_text().splitlines()]
    assert {k: lines[0][k] for k in ("format", "version", "tenant")} == {
        "format": "segmux-backup",
        "version": 3,
        "tenant": "t1",
    }
    half = next(x for x in lines if x.get("name") == "half, exclusive")
    assert zlib.decompress(base64.b64decode(half["bitset"])) == to_bytes(HALF)
    sweden = next(x for x in lines if x.get("name") == "in sweden")
    assert sweden["expression"] == msgspec.json.decode(_expr('country = "SE"') or b"")
    assert sweden["bitset"] is None

    done = cli(target, "import", str(out), "--tenant", "t1")
    assert done.returncode == 0, done.stderr
    assert done.stderr == (
        "imported: 14 (tenants 1, projects 2, environments 2, segments 4, "
        "profiles 2, memberships 1, flags 1, rules 1)  "
        "skipped (already there): 0  failed: 0\n"
    )
    original = everything(source)
    assert everything(target) == original
    assert everything(target, "other") is None

    done = cli(target, "import", str(out), "--tenant", "t1")
    assert done.returncode == 0, done.stderr
    report = done.stderr.splitlines()
    assert report[-1] == "imported: 0  skipped (already there): 13  failed: 0"
    assert "  skipped: line 7: segment " in done.stderr
    assert (
        "  skipped: line 13: member 'ana' of segment "
        + STATIC_ID
        + ": the segment was already there"
        in report
    )
    assert everything(target) == original

    again = tmp_path / "again.ndjson"
    assert cli(target, "export", "--tenant", "t1", "--out", str(again)).returncode == 0
    # The same records (PostgreSQL's jsonb keeps an individual's attributes in its own key
    # order, which no dialect promises; the values are the same).
    assert [msgspec.json.decode(x) for x in again.read_text().splitlines()[1:]] == lines[1:]


def test_import_into_a_store_that_holds_some_of_it(stores: tuple[str, str], tmp_path: Path) -> None:
    """Ids already there are skipped and left as they are; a name another segment holds
    fails; everything else is restored; exit status 1."""
    source, target = stores
    out = tmp_path / "t1.ndjson"
    assert cli(source, "export", "--tenant", "t1", "--out", str(out)).returncode == 0

    async def prepare() -> None:
        store = await open_store(target)
        try:
            await store.ensure_tenant("t1")
            await store.update_tenant_settings("t1", {"confidence_account_id": "mine"})
            await store.create_segment(
                "t1", NewSegment(name="VIPs of mine", kind="static", id=STATIC_ID), "someone"
            )
            await store.create_segment("t1", NewSegment(name="in sweden"), "someone")
        finally:
            await store.close()

    run(prepare)
    before = everything(target)
    done = cli(target, "import", str(out), "--tenant", "t1")
    assert done.returncode == 1, done.stderr
    report = done.stderr.splitlines()
    assert (
        "  skipped: line 2: tenant setting 'confidence_account_id': the tenant holds "
        "another value" in report
    )
    assert (
        f"  skipped: line 10: segment {STATIC_ID} ('vips'): its id is already in the store"
        in report
    )
    assert any(
        x.startswith("  failed: line 7 (segment 'in sweden'): its ")
        and x.endswith("is held by another segment in the store")
        for x in report
    ), "\n".join(report)
    assert "  skipped: line 15: rule " in done.stderr  # it uses the 'vips' that was there
    assert report[-1] == (
        "imported: 6 (projects 1, segments 2, profiles 2, flags 1)  "
        "skipped (already there): 7  failed: 1"
    )

    after = everything(target)
    assert after["tenant"].settings == {"confidence_account_id": "mine"}
    kept = {s.id: s for s in before["segments"]}
    for segment in after["segments"]:
        if segment.id in kept:
            assert segment == kept[segment.id], "an existing segment was overwritten"
    assert after["memberships"] == []  # the members of 'vips' were not added to 'VIPs of mine'
    assert {s.name for s in after["segments"]} == {
        "VIPs of mine",
        "in sweden",
        "half, exclusive",
        "everyone — ünïcode",
    }
    assert after["bitsets"][
        next(s.id for s in after["segments"] if s.name == "half, exclusive")
    ] == to_bytes(HALF)


def test_bad_lines_are_reported_and_the_rest_goes_on(
    stores: tuple[str, str], tmp_path: Path
) -> None:
    source, target = stores
    out = tmp_path / "t1.ndjson"
    assert cli(source, "export", "--tenant", "t1", "--out", str(out)).returncode == 0
    good = out.read_text().splitlines()
    segment = next(msgspec.json.decode(x) for x in good if '"record":"segment"' in x)
    broken = {**segment, "expression": {"t": "nonsense"}}
    cut = {**segment, "bitset": base64.b64encode(zlib.compress(b"\x01" * 10)).decode()}
    lines = [
        *good[:5],
        "[1, 2]",
        msgspec.json.encode(broken).decode(),
        msgspec.json.encode(cut).decode(),
        '{"record": "gizmo"}',
        *good[5:],
    ]
    out.write_text("\n".join(lines) + "\n")
    done = cli(target, "import", str(out), "--tenant", "t1")
    assert done.returncode == 1
    report = done.stderr.splitlines()
    assert report[0] == "  failed: line 6: not a record: a line must be a JSON object"
    assert report[1].startswith("  failed: line 7: not a record: ")
    assert report[2] == "  failed: line 8: not a record: bitset holds 10 bytes, not 125000"
    assert report[3].startswith("  failed: line 9: not a record: unknown record kind 'gizmo'")
    assert report[-1].endswith("skipped (already there): 0  failed: 4")
    assert everything(target) == everything(source)


def test_a_file_that_is_not_a_backup_is_one_line_and_exit_2(
    stores: tuple[str, str], tmp_path: Path
) -> None:
    """Nothing is imported from a file that is missing or not NDJSON: not even its good
    lines."""
    source, target = stores
    out = tmp_path / "t1.ndjson"
    assert cli(source, "export", "--tenant", "t1", "--out", str(out)).returncode == 0
    good = out.read_text().splitlines()
    out.write_text("\n".join([*good[:3], "{not json", *good[3:]]) + "\n")
    done = cli(target, "import", str(out), "--tenant", "t1")
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith(f"segmux: {out}: line 4 is not JSON (")
    assert line.endswith("): not NDJSON (give a file segmux export wrote)")
    assert everything(target) is None
    done = cli(target, "import", str(tmp_path / "nope.ndjson"))
    assert (done.returncode, done.stderr) == (
        2,
        f"segmux: no file "
        f"{tmp_path / 'nope.ndjson'} (give the path "
        "of a file segmux export wrote)\n",
    )


def test_version_1_backups_still_import(stores: tuple[str, str], tmp_path: Path) -> None:
    """segmux before the header wrote one segment per line: it still restores."""
    source, target = stores
    out = tmp_path / "t1.ndjson"
    assert cli(source, "export", "--tenant", "t1", "--out", str(out)).returncode == 0
    v1 = []
    for line in out.read_text().splitlines()[1:]:
        data = msgspec.json.decode(line)
        if data.pop("record") == "segment" and data.pop("bitset") is None:
            v1.append(msgspec.json.encode(data).decode())
    done = cli(target, "import", "-", "--tenant", "t1", stdin="\n".join(v1) + "\n")
    assert done.returncode == 0, done.stderr
    assert done.stderr.endswith("imported: 3 (segments 3)  skipped (already there): 0  failed: 0\n")
    restored = {s.name: s for s in everything(target)["segments"]}
    for segment in everything(source)["segments"]:
        if segment.name in restored:
            assert restored[segment.name] == segment


def test_a_newer_format_and_a_missing_tenant_are_one_line_and_exit_2(
    stores: tuple[str, str], tmp_path: Path
) -> None:
    source, target = stores
    newer = tmp_path / "newer.ndjson"
    newer.write_text(
        '{"format": "segmux-backup", "version": 99, "tenant": "t1"}\n{"record": "hologram"}\n'
    )
    done = cli(target, "import", str(newer), "--tenant", "t1")
    assert done.returncode == 2
    assert done.stderr == (
        f"segmux: {newer}: the backup is format version 99; this segmux "
        "reads versions 1 to 3 (upgrade segmux to import it)\n"
    )
    kept = tmp_path / "kept.ndjson"
    kept.write_text("an earlier backup\n")
    done = cli(source, "export", "--tenant", "nobody", "--out", str(kept))
    assert done.returncode == 2
    assert kept.read_text() == "an earlier backup\n"
    assert done.stderr.startswith("segmux: no tenant 'nobody' in store sqlite:///")
    assert done.stderr.endswith("segmux tokens list shows the tenants there)\n")
    assert done.stderr.count("\n") == 1
    assert done.stdout == ""
