"""``segmux export`` / ``segmux import``: a tenant's segments as NDJSON, from SQLite into an empty
PostgreSQL store and back; import is idempotent by id."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest

from core.expr import ast
from core.expr.languages import LANGUAGES
from core.expr.normalize import normalize
from core.model import Allocation, NewSegment, Segment
from core.store import open_store
from gateway.cli import main
from tests import pg

SERVER_SET = ("created_at", "updated_at", "created_by", "updated_by", "version")


def _expr(pql: str) -> bytes | None:
    e = normalize(LANGUAGES["pql"].parse(pql))
    return None if e is None else ast.encode(e)


NEW = [
    NewSegment(name="in sweden", description="SE", expression=_expr('country = "SE"'),
               labels={"team": "growth"}, owner="user:ana",
               extensions={"unleash": {"project": "default"}}),
    NewSegment(name="half, exclusive", expression=_expr('plan = "pro" or age > 30'),
               allocation=Allocation("0.5", ("g",), ("g",)), state="ALLOCATED", seq=40,
               slug="half-exclusive"),
    NewSegment(name="everyone — ünïcode", sandbox="dev"),
    NewSegment(name="vips", kind="static", id="0b6f0d0e-8a57-4a4c-9f1e-3c2b1a000001"),
]


def run(fn: Any) -> Any:
    return pg.run_sync(fn)


def seed(url: str) -> None:
    async def go() -> None:
        store = await open_store(url)
        try:
            await store.ensure_tenant("t1")
            await store.ensure_tenant("other")
            for new in NEW:
                await store.create_segment("t1", new, "tests")
            await store.create_segment("other", NewSegment(name="not mine"), "tests")
        finally:
            await store.close()

    run(go)


def listed(url: str, tenant: str) -> list[Segment]:
    async def go() -> list[Segment]:
        store = await open_store(url)
        try:
            return (await store.list_segments(tenant, sandbox=None, limit=1000)).items
        finally:
            await store.close()

    result: list[Segment] = run(go)
    return sorted(result, key=lambda s: s.seq)


def portable(s: Segment) -> dict[str, Any]:
    data: dict[str, Any] = msgspec.to_builtins(s)
    for field in SERVER_SET:
        data.pop(field)
    return data


@pytest.fixture
def stores(tmp_path: Path) -> Any:
    source = f"sqlite:///{tmp_path}/source.db"
    target = pg.create_database("segmux_import")
    seed(source)
    yield source, target
    pg.drop_database(target)


def test_export_import_round_trip(stores: tuple[str, str], tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    source, target = stores
    out = tmp_path / "t1.ndjson"
    assert main(["--database-url", source, "export", "--tenant", "t1", "--out", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert len(lines) == len(NEW)
    first = msgspec.json.decode(lines[0])
    assert first["name"] == "in sweden"
    assert first["expression"] == msgspec.json.decode(NEW[0].expression or b"")  # AST, not base64

    assert main(["--database-url", target, "import", str(out), "--tenant", "t1"]) == 0
    assert "imported: 4  skipped (id exists): 0  failed: 0" in capsys.readouterr().err
    original, copied = listed(source, "t1"), listed(target, "t1")
    assert [portable(s) for s in copied] == [portable(s) for s in original]
    assert listed(target, "other") == []

    # Again: every id is there already; nothing changes, nothing is duplicated.
    assert main(["--database-url", target, "import", str(out), "--tenant", "t1"]) == 0
    assert "imported: 0  skipped (id exists): 4  failed: 0" in capsys.readouterr().err
    assert [portable(s) for s in listed(target, "t1")] == [portable(s) for s in original]

    # And the copy exports to the same lines, but for the server-set fields.
    again = tmp_path / "again.ndjson"
    assert main(["--database-url", target, "export", "--tenant", "t1", "--out",
                 str(again)]) == 0
    strip = [{k: v for k, v in msgspec.json.decode(x).items() if k not in SERVER_SET}
             for x in lines]
    assert [{k: v for k, v in msgspec.json.decode(x).items() if k not in SERVER_SET}
            for x in again.read_text().splitlines()] == strip


def test_import_reports_bad_lines_and_goes_on(stores: tuple[str, str], tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    source, target = stores
    out = tmp_path / "t1.ndjson"
    assert main(["--database-url", source, "export", "--tenant", "t1", "--out", str(out)]) == 0
    good = out.read_text().splitlines()
    broken = dict(msgspec.json.decode(good[1]))
    broken["expression"] = {"t": "nonsense"}
    clash = dict(msgspec.json.decode(good[2]))
    clash["id"] = "0b6f0d0e-8a57-4a4c-9f1e-3c2b1a0000ff"  # a new id, but the name is taken
    out.write_text("\n".join([good[0], "{not json", msgspec.json.encode(broken).decode(),
                              good[2], msgspec.json.encode(clash).decode(), ""]))
    assert main(["--database-url", target, "import", str(out), "--tenant", "t1"]) == 1
    err = capsys.readouterr().err
    assert "line 2: not a segment" in err
    assert "line 3: not a segment" in err
    assert "line 5 ('everyone — ünïcode')" in err
    assert "imported: 2  skipped (id exists): 0  failed: 3" in err
    assert [s.name for s in listed(target, "t1")] == ["in sweden", "everyone — ünïcode"]
