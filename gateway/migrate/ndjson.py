"""``segmux export`` / ``segmux import``: a backup of one tenant, straight from the store named by
``SEGMUX_DATABASE_URL``, in the format of ``gateway.migrate.backup``.

Export writes everything the tenant is made of: its settings and sequence, projects,
environments, segments (every field, the stored bucket bitset byte for byte), profiles, static
memberships, flags with their per-environment states, rules with their segment links, and
Confidence's clients and flags (variants, ordered rules). It leaves out tokens, OAuth clients,
Confidence client credentials and every secret (the store keeps only their hashes; a restored
tenant gets new tokens and credentials) and what the store derives (revisions, cached totals).

Import puts each record back exactly as it was (ids, times, versions and actors included)
through the store's restore calls, which bypass the use cases' rules on purpose: an ALLOCATED
segment keeps its buckets rather than being allocated anew. It never overwrites: a record whose
key is already in the store is skipped and reported, and so are the records that belong to a
skipped one (the members of a segment that was there, the rules of a flag that was there), since
adding them would change what was there. A record that cannot be restored (a name taken by
another segment, a reference to something missing) is reported as failed and the rest go on."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

import msgspec

from core.errors import Conflict, CoreError
from core.model import Segment, Sort, now_us
from core.store import Store
from gateway.migrate.backup import (
    KINDS,
    BackupError,
    SegmentRecord,
    decode,
    encode,
    header,
    read_header,
)

PAGE = 500
LEFT_OUT = "left_out_credential"
"""The count of Confidence client credentials an export leaves out (their secrets are only
hashes in the store, so a credential could not be restored usable)."""

__all__ = ["BackupError", "ImportResult", "export", "import_lines"]


async def segments_of(store: Store, tenant: str) -> AsyncIterator[Segment]:
    offset = 0
    while True:
        page = await store.list_segments(
            tenant, sandbox=None, offset=offset, limit=PAGE, sort=(Sort("seq"),)
        )
        for segment in page.items:
            yield segment
        offset += len(page.items)
        if not page.items or offset >= page.total:
            return


async def export(store: Store, tenant: str, out: TextIO) -> dict[str, int]:
    """Write the tenant's backup; return how many records of each kind it holds.
    ``NotFound("tenant")`` when there is no such tenant."""
    counts = dict.fromkeys((*KINDS, LEFT_OUT), 0)

    def put(kind: str, record: Any, **extra: Any) -> None:
        out.write(encode(kind, record, **extra) + "\n")
        counts[kind] += 1

    backed_up = await store.backup_tenant(tenant)
    out.write(header(tenant, now_us()) + "\n")
    put("tenant", backed_up)
    for project in await store.list_projects(tenant):
        put("project", project)
    for environment in await store.list_environments(tenant):
        put("environment", environment)
    async for segment in segments_of(store, tenant):
        put("segment", segment, bitset=await store.get_bitset(tenant, segment.id))
    after: tuple[str, str] | None = None
    while profiles := await store.profiles_after(tenant, after=after, limit=PAGE):
        for profile in profiles:
            put("profile", profile)
        after = (profiles[-1].sandbox, profiles[-1].identifier)
    after = None
    while members := await store.memberships_after(tenant, after=after, limit=PAGE):
        for member in members:
            put("membership", member)
        after = (members[-1].segment_id, members[-1].identifier)
    for flag in await store.list_flags(tenant):
        put("flag", flag)
    for rule in await store.list_rules(tenant):
        put("rule", rule)
    for client in await store.confidence_clients(tenant):
        put("confidence_client", client)
        counts[LEFT_OUT] += len(client.credentials)
    for confidence_flag in await store.confidence_flags(tenant):
        put("confidence_flag", confidence_flag)
    return counts


@dataclass
class ImportResult:
    version: int = 1
    imported: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    skipped: list[str] = field(default_factory=list)
    """One line per record left as the store had it, saying which and why."""
    failed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """What was imported but not whole (a Confidence client without its credentials)."""

    @property
    def ok(self) -> bool:
        return not self.failed

    def write_text(self, out: TextIO) -> None:
        for line in self.skipped:
            out.write(f"  skipped: {line}\n")
        for line in self.failed:
            out.write(f"  failed: {line}\n")
        for line in self.notes:
            out.write(f"  note: {line}\n")
        kinds = [f"{k}s {n}" for k, n in self.imported.items() if n]
        out.write(
            f"imported: {sum(self.imported.values())}"
            f"{' (' + ', '.join(kinds) + ')' if kinds else ''}  "
            f"skipped (already there): {len(self.skipped)}  "
            f"failed: {len(self.failed)}\n"
        )


class _Import:
    def __init__(self, store: Store, tenant: str) -> None:
        self.store, self.tenant = store, tenant
        self.result = ImportResult()
        self.tenant_done = False
        self.skipped_segments: set[str] = set()
        self.skipped_flags: set[str] = set()

    async def ensure_tenant(self) -> None:
        """A version 1 backup (or a version 2 one without its tenant line) into a store without
        the tenant: create it the way every other path does."""
        if not self.tenant_done:
            await self.store.ensure_tenant(self.tenant)
            self.tenant_done = True

    async def record(self, where: str, kind: str, record: Any) -> None:
        if kind == "tenant":
            created, kept = await self.store.restore_tenant(record)
            self.tenant_done = True
            if created:
                self.result.imported["tenant"] += 1
            for key in kept:
                self.result.skipped.append(
                    f"{where}: tenant setting {key!r}: the tenant holds another value"
                )
            return
        await self.ensure_tenant()
        if kind == "segment":
            await self.segment(where, record)
        elif kind == "membership":
            if record.segment_id in self.skipped_segments:
                self.skip(
                    where,
                    f"member {record.identifier!r} of segment "
                    f"{record.segment_id}: the segment was already there",
                )
            elif await self.store.restore_membership(self.tenant, record):
                self.result.imported[kind] += 1
            else:
                self.skip(
                    where,
                    f"member {record.identifier!r} of segment "
                    f"{record.segment_id}: already a member",
                )
        elif kind == "rule" and record.flag in self.skipped_flags:
            self.skip(
                where, f"rule {record.id} of flag {record.flag!r}: the flag was already there"
            )
        elif kind == "rule" and self.skipped_segments.intersection(record.segments):
            taken = sorted(self.skipped_segments.intersection(record.segments))
            self.skip(
                where,
                f"rule {record.id} of flag {record.flag!r}: it uses segment "
                f"{', '.join(taken)}, which was already there (it may be another one)",
            )
        else:
            restore = getattr(self.store, f"restore_{kind}")
            if await restore(record):
                self.result.imported[kind] += 1
                if kind == "confidence_client":
                    self.result.notes.append(
                        f"{where}: client {record.name}: restored without credentials (their "
                        "secrets are never exported); create new ones for it"
                    )
            else:
                if kind == "flag":
                    self.skipped_flags.add(record.name)
                self.skip(where, f"{kind} {_key(kind, record)}: already there")

    async def segment(self, where: str, record: SegmentRecord) -> None:
        s = record.segment
        try:
            restored = await self.store.restore_segment(s, record.bitset)
        except Conflict as exc:
            if exc.field not in _SEGMENT_KEYS:
                raise
            # The store's message speaks of a create; say which value of the backup's is taken.
            value = getattr(s, exc.field)
            raise Conflict(
                exc.field,
                f"its {_SEGMENT_KEYS[exc.field]} {value!r} is held by another segment in the store",
            ) from exc
        if restored:
            self.result.imported["segment"] += 1
            return
        self.skipped_segments.add(s.id)
        self.skip(where, f"segment {s.id} ({s.name!r}): its id is already in the store")

    def skip(self, where: str, what: str) -> None:
        self.result.skipped.append(f"{where}: {what}")


_SEGMENT_KEYS = {"seq": "seq (Unleash's id)", "slug": "slug", "name": "name"}


def _key(kind: str, record: Any) -> str:
    if kind == "profile":
        return f"{record.identifier!r} (sandbox {record.sandbox!r})"
    if kind in ("flag", "environment"):
        return repr(record.name)
    if kind in ("confidence_flag", "confidence_client"):
        return str(record.name)
    return str(record.id)


def _name(kind: str, record: Any) -> str:
    if kind == "segment":
        return f"segment {record.segment.name!r}"
    if kind == "membership":
        return f"member {record.identifier!r} of segment {record.segment_id}"
    if kind == "tenant":
        return "tenant"
    return f"{kind} {_key(kind, record)}"


async def import_lines(store: Store, tenant: str, lines: Iterable[str]) -> ImportResult:
    """Restore a backup into ``tenant``. ``BackupError`` when the file declares a format this
    segmux cannot read (nothing is written then); every other problem is one failed record."""
    run = _Import(store, tenant)
    version: int | None = None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"line {number}"
        try:
            data = msgspec.json.decode(line)
        except msgspec.DecodeError as exc:  # the CLI refuses such a file before it gets here
            if version is None:
                version = 1
            run.result.failed.append(f"{where}: not JSON: {exc}")
            continue
        if version is None:
            declared = read_header(data)
            version = run.result.version = declared or 1
            if declared is not None:
                continue
        try:
            kind, record = decode(data, version, tenant)
        except (msgspec.ValidationError, CoreError) as exc:
            run.result.failed.append(f"{where}: not a record: {exc}")
            continue
        try:
            await run.record(where, kind, record)
        except CoreError as exc:
            run.result.failed.append(f"{where} ({_name(kind, record)}): {exc.message}")
    return run.result
