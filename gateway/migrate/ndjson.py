"""``segmux export`` / ``segmux import``: one tenant's segments as NDJSON, straight from the store
named by ``SEGMUX_DATABASE_URL``.

A line is one ``core.model.Segment`` as msgspec encodes it, except ``expression``, which is the
canonical AST as JSON (not base64 bytes), so a backup can be read and diffed. Import is
idempotent by id: a segment whose id is already in the tenant is skipped, never overwritten
(a backup restores what is missing; it does not roll back later edits). A new one keeps its
id, seq, slug, name, sandbox, condition, allocation, state, labels, owner and extensions; the
store sets its times and version afresh (the store protocol has no raw insert)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

import msgspec

from core.errors import CoreError, NotFound
from core.expr import ast
from core.model import NewSegment, Segment, Sort
from core.store import Store

PAGE = 500
ACTOR = "segmux import"


def encode_line(segment: Segment) -> str:
    data: dict[str, Any] = msgspec.to_builtins(segment)
    data["expression"] = (None if segment.expression is None
                          else msgspec.json.decode(segment.expression))
    return msgspec.json.encode(data).decode()


def decode_line(line: str) -> Segment:
    data = msgspec.json.decode(line)
    if not isinstance(data, dict):
        raise msgspec.ValidationError("a line must be a JSON object")
    expression = data.get("expression")
    data["expression"] = None
    segment = msgspec.convert(data, Segment)
    if expression is None:
        return segment
    # Decoding checks that the expression is a canonical AST before it reaches the store.
    checked = ast.encode(ast.decode(msgspec.json.encode(expression)))
    return msgspec.structs.replace(segment, expression=checked)


async def segments_of(store: Store, tenant: str) -> AsyncIterator[Segment]:
    offset = 0
    while True:
        page = await store.list_segments(tenant, sandbox=None, offset=offset, limit=PAGE,
                                         sort=(Sort("seq"),))
        for segment in page.items:
            yield segment
        offset += len(page.items)
        if not page.items or offset >= page.total:
            return


async def export(store: Store, tenant: str, out: TextIO) -> int:
    count = 0
    async for segment in segments_of(store, tenant):
        out.write(encode_line(segment) + "\n")
        count += 1
    return count


@dataclass
class ImportResult:
    imported: int = 0
    skipped: int = 0
    failed: list[str] = field(default_factory=list)


async def import_lines(store: Store, tenant: str, lines: Iterable[str]) -> ImportResult:
    result = ImportResult()
    await store.ensure_tenant(tenant)
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            segment = decode_line(line)
        except (msgspec.DecodeError, msgspec.ValidationError, CoreError) as exc:
            result.failed.append(f"line {number}: not a segment: {exc}")
            continue
        try:
            await store.get_segment(tenant, "id", segment.id)
            result.skipped += 1
            continue
        except NotFound:
            pass
        try:
            await store.create_segment(tenant, _new(segment), ACTOR)
        except CoreError as exc:
            result.failed.append(f"line {number} ({segment.name!r}): {exc.message}")
            continue
        result.imported += 1
    return result


def _new(s: Segment) -> NewSegment:
    return NewSegment(
        name=s.name, sandbox=s.sandbox, description=s.description, kind=s.kind,
        expression=s.expression, allocation=s.allocation, state=s.state, labels=s.labels,
        owner=s.owner, extensions=s.extensions, seq=s.seq, slug=s.slug, id=s.id,
    )
