"""The SQL both backends share. Statements use ``$n`` placeholders; the SQLite backend rewrites
them to ``?n``. Backends supply connections/transactions and map driver errors to core errors."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from core.errors import Conflict, NotFound, RoomChanged
from core.model import (
    NewSegment,
    Page,
    Principal,
    RoomGuard,
    Segment,
    SegmentPatch,
    SegmentRoom,
    SegmentToUpdate,
    Sort,
    Tenant,
    TokenInfo,
    new_slug,
    now_us,
)
from core.store.allocation import AllocationSql
from core.store.backup import BackupSql
from core.store.base import Row, Tx, order_by, token_id
from core.store.clients import CLIENT_CONSTRAINT_FIELDS, ClientSql
from core.store.confidence_flags import (
    CONFIDENCE_CONFLICT_MESSAGES,
    CONFIDENCE_CONSTRAINT_FIELDS,
    ConfidenceFlagSql,
)
from core.store.flags import FLAG_CONFLICT_MESSAGES, FLAG_CONSTRAINT_FIELDS, FlagSql
from core.store.profile_pages import ProfilePageSql
from core.store.profiles import ProfileSql
from core.store.protocol import SegmentKey
from core.store.rows import (
    SEGMENT_COLUMNS,
    dumps,
    segment_from_row,
    tenant_from_row,
    token_from_row,
)
from core.store.segment_queries import SegmentQueries
from core.store.segment_refs import (
    lock_referenced,
    names_segments,
    refuse_cycle,
    refuse_if_referenced,
)

_KEY_COLUMNS = {"id": "id", "seq": "seq", "slug": "slug"}
# Which unique constraint names which field, for Conflict(field). Both backends name their
# constraints (or index columns) so that one of these substrings appears in the driver's error.
CONSTRAINT_FIELDS = (
    # First: other mixins' names are substrings of these ("flags_pkey", "clients_pkey").
    *CONFIDENCE_CONSTRAINT_FIELDS,
    ("segments_name", "name"),
    ("segments_seq", "seq"),
    ("segments_slug", "slug"),
    ("segments_pkey", "id"),
    ("tokens_client_id", "client_id"),
    ("tokens_pkey", "token"),
    *FLAG_CONSTRAINT_FIELDS,
    *CLIENT_CONSTRAINT_FIELDS,
)
CONFLICT_MESSAGES = {
    "name": "a segment with this name already exists",
    "seq": "a segment with this id already exists",
    "slug": "a segment with this slug already exists",
    "id": "a segment with this id already exists",
    "client_id": "a client with this id already exists",
    "token": "this token already exists",
    **FLAG_CONFLICT_MESSAGES,
    **CONFIDENCE_CONFLICT_MESSAGES,
}


def conflict_for(constraint_text: str) -> Conflict | None:
    for marker, field in CONSTRAINT_FIELDS:
        if marker in constraint_text:
            return Conflict(field, CONFLICT_MESSAGES[field])
    return None


# A new segment's values; ``{seq}`` is where its seq comes from.
_VALUES = (
    "$1, $2, {seq}, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, CAST($13 AS BIGINT), "
    "CAST($13 AS BIGINT), $14, $14, 1, $15"
)
_INSERT = (
    f"INSERT INTO segments ({SEGMENT_COLUMNS}) VALUES ({_VALUES.format(seq='$16')}) RETURNING *"
)
_CLAIM_AND_INSERT = (
    "WITH claimed AS (UPDATE tenants SET next_seq = next_seq + 1 WHERE name = $1 "
    "RETURNING next_seq - 1 AS seq) "
    f"INSERT INTO segments ({SEGMENT_COLUMNS}) SELECT {_VALUES.format(seq='claimed.seq')} "
    "FROM claimed RETURNING *"
)
"""PostgreSQL's create in one statement (SQLite has no writing ``WITH``): the tenant's next seq
claimed and the segment inserted with it; no row when the tenant does not exist."""
_GUARD = " AND settings = ${} AND next_seq <= CAST(${} AS BIGINT)"
"""A :class:`RoomGuard`'s condition on the tenant's row, in the statement that claims its seq."""
_CLAIM_AND_INSERT_GUARDED = _CLAIM_AND_INSERT.replace(
    "WHERE name = $1 ", "WHERE name = $1" + _GUARD.format(16, 17) + " "
)


def insert_args(tenant: str, new: NewSegment, actor: str | None) -> list[Any]:
    """The arguments $1 to $15 of :data:`_VALUES`."""
    return [
        tenant,
        new.id or str(uuid.uuid4()),
        new.slug or new_slug(),
        new.sandbox,
        new.name,
        new.description,
        new.kind,
        new.expression.decode() if new.expression is not None else None,
        dumps(new.allocation),
        new.state,
        dumps(new.labels),
        new.owner,
        now_us(),
        actor,
        dumps(new.extensions),
    ]


class SqlStore(
    ConfidenceFlagSql,
    FlagSql,
    AllocationSql,
    ProfileSql,
    ProfilePageSql,
    ClientSql,
    SegmentQueries,
    BackupSql,
):
    """Store operations over the two backends' connections (see ``core.store.protocol``); a
    backend completes it with ``_read`` and ``_write`` (``core.store.base.SqlBase``)."""

    greatest = "GREATEST"

    # tenants -------------------------------------------------------------------------------
    async def ensure_tenant(self, name: str) -> Tenant:
        async with self._write() as tx:
            await tx.execute(
                "INSERT INTO tenants (name, default_sandbox, created_at, settings, next_seq) "
                "VALUES ($1, 'prod', $2, '{}', 1) ON CONFLICT (name) DO NOTHING",
                name,
                now_us(),
            )
            await self._seed_tenant(tx, name)
            row = await tx.fetchrow("SELECT * FROM tenants WHERE name = $1", name)
        assert row is not None
        return tenant_from_row(row)

    async def get_tenant(self, name: str) -> Tenant:
        async with self._read() as tx:
            row = await tx.fetchrow("SELECT * FROM tenants WHERE name = $1", name)
        if row is None:
            raise NotFound("tenant", name)
        return tenant_from_row(row)

    async def update_tenant_settings(self, name: str, settings: dict[str, object]) -> Tenant:
        async with self._write() as tx:
            row = await tx.fetchrow("SELECT settings FROM tenants WHERE name = $1", name)
            if row is None:
                raise NotFound("tenant", name)
            merged = msgspec.json.decode(row["settings"]) | settings
            await tx.execute(
                "UPDATE tenants SET settings = $2 WHERE name = $1", name, dumps(merged)
            )
        return await self.get_tenant(name)

    # tokens --------------------------------------------------------------------------------
    async def add_token(
        self, *, token_hash: str, tenant: str, scope: str, name: str, client_id: str | None = None
    ) -> TokenInfo:
        async with self._write() as tx:
            row = await tx.fetchrow(
                "INSERT INTO tokens (hash, id, tenant, scope, name, created_at, client_id) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
                token_hash,
                token_id(token_hash),
                tenant,
                scope,
                name,
                now_us(),
                client_id,
            )
        assert row is not None
        return token_from_row(row)

    async def principal_for(self, token_hash: str) -> Principal | None:
        async with self._read() as tx:
            row = await tx.fetchrow(
                "SELECT t.tenant, t.scope, t.name, t.client_id, n.default_sandbox FROM tokens t "
                "JOIN tenants n ON n.name = t.tenant WHERE t.hash = $1",
                token_hash,
            )
        if row is None:
            return None
        return Principal(
            tenant=row["tenant"],
            scope=row["scope"],
            token_name=row["name"],
            default_sandbox=row["default_sandbox"],
            client_id=row["client_id"],
        )

    async def list_tokens(self, tenant: str | None = None) -> list[TokenInfo]:
        async with self._read() as tx:
            if tenant is None:
                rows = await tx.fetch("SELECT * FROM tokens ORDER BY created_at, id")
            else:
                rows = await tx.fetch(
                    "SELECT * FROM tokens WHERE tenant = $1 ORDER BY created_at, id", tenant
                )
        return [token_from_row(r) for r in rows]

    async def revoke_token(self, token_id: str) -> None:
        async with self._write() as tx:
            row = await tx.fetchrow("DELETE FROM tokens WHERE id = $1 RETURNING id", token_id)
        if row is None:
            raise NotFound("token", token_id)

    async def count_tokens(self) -> int:
        async with self._read() as tx:
            row = await tx.fetchrow("SELECT count(*) AS n FROM tokens")
        assert row is not None
        return int(row["n"])

    # segments ------------------------------------------------------------------------------
    async def create_segment(
        self, tenant: str, new: NewSegment, actor: str | None, *, guard: RoomGuard | None = None
    ) -> Segment:
        if new.seq is None and not names_segments(new.expression):
            made = await self._create_at_once(tenant, new, actor, guard)
            if made is not None:
                return made
        return await self._transact(
            lambda tx: self._insert_segment(tx, tenant, new, actor, guard),
            keyed=not names_segments(new.expression),
        )

    async def _create_at_once(
        self, tenant: str, new: NewSegment, actor: str | None, guard: RoomGuard | None
    ) -> Segment | None:
        """A create that claims the next seq and names no segment, in one statement where the
        backend has one (None: it has not, and the create takes a transaction)."""
        return None

    async def _claim_and_insert(
        self, tenant: str, args: list[Any], guard: RoomGuard | None
    ) -> Segment:
        """PostgreSQL's create in one statement committed on its own: it takes the tenant's row
        lock (its seq) and inserts in one round trip instead of four (BEGIN, claim, insert,
        COMMIT). ``args`` are :func:`insert_args`'s."""
        sql = _CLAIM_AND_INSERT
        if guard is not None:
            sql = _CLAIM_AND_INSERT_GUARDED
            args = [*args, guard.settings, guard.next_seq_at_most]
        async with self._autocommit() as tx:
            row = await tx.fetchrow(sql, *args)
        if row is None:
            raise RoomChanged() if guard is not None else NotFound("tenant", tenant)
        return segment_from_row(row)

    async def _insert_segment(
        self,
        tx: Tx,
        tenant: str,
        new: NewSegment,
        actor: str | None,
        guard: RoomGuard | None = None,
    ) -> Segment:
        """The insert of ``create_segment``, in the caller's transaction (Confidence adds the
        segment's bitset in the same one)."""
        seq = await self._claim_seq(tx, tenant, new.seq, guard)
        await lock_referenced(tx, tenant, new.expression, self._row_lock("SHARE"))
        row = await tx.fetchrow(_INSERT, *insert_args(tenant, new, actor), seq)
        assert row is not None
        return segment_from_row(row)

    async def segment_room(self, tenant: str) -> SegmentRoom:
        async with self._read() as tx:
            row = await tx.fetchrow("SELECT * FROM tenants WHERE name = $1", tenant)
        if row is None:
            raise NotFound("tenant", tenant)
        return SegmentRoom(
            tenant=tenant_from_row(row),
            segments_at_most=int(row["next_seq"]) - 1,
            stored_settings=row["settings"],
        )

    async def segment_to_update(self, tenant: str, seq: int) -> SegmentToUpdate:
        async with self._read() as tx:
            row = await tx.fetchrow(
                "SELECT t.default_sandbox AS tenant_sandbox, t.created_at AS tenant_created_at, "
                "t.settings AS tenant_settings, s.* FROM tenants t "
                "LEFT JOIN segments s ON s.tenant = t.name AND s.seq = $2 WHERE t.name = $1",
                tenant,
                seq,
            )
        if row is None:
            raise NotFound("tenant", tenant)
        of_tenant = {
            "name": tenant,
            "default_sandbox": row["tenant_sandbox"],
            "created_at": row["tenant_created_at"],
            "settings": row["tenant_settings"],
        }
        return SegmentToUpdate(
            tenant=tenant_from_row(of_tenant),
            segment=None if row["id"] is None else segment_from_row(row),
        )

    async def _claim_seq(
        self, tx: Tx, tenant: str, wanted: int | None, guard: RoomGuard | None = None
    ) -> int:
        """Take the tenant's next seq, or move the sequence above an explicit one, in the
        caller's transaction (the row lock on the tenant serialises concurrent creates); with
        ``guard``, only while the tenant's row still meets it (``RoomChanged`` otherwise)."""
        args: list[Any] = [tenant]
        if wanted is None:
            sql = (
                "UPDATE tenants SET next_seq = next_seq + 1 WHERE name = $1{} "
                "RETURNING next_seq - 1 AS seq"
            )
        else:
            sql = (
                f"UPDATE tenants SET next_seq = {self.greatest}(next_seq, CAST($2 AS BIGINT) + 1) "
                "WHERE name = $1{} RETURNING CAST($2 AS BIGINT) AS seq"
            )
            args.append(wanted)
        condition = ""
        if guard is not None:
            condition = _GUARD.format(len(args) + 1, len(args) + 2)
            args += [guard.settings, guard.next_seq_at_most]
        row = await tx.fetchrow(sql.format(condition), *args)
        if row is None:
            raise RoomChanged() if guard is not None else NotFound("tenant", tenant)
        return int(row["seq"])

    async def get_segment(self, tenant: str, key: SegmentKey, value: str | int) -> Segment:
        column = _KEY_COLUMNS[key]
        _check_findable(value)
        async with self._read() as tx:
            row = await tx.fetchrow(
                f"SELECT * FROM segments WHERE tenant = $1 AND {column} = $2", tenant, value
            )
        if row is None:
            raise NotFound("segment", str(value))
        return segment_from_row(row)

    async def list_segments(
        self,
        tenant: str,
        *,
        sandbox: str | None,
        offset: int = 0,
        limit: int = 100,
        sort: tuple[Sort, ...] = (),
    ) -> Page:
        where, args = "tenant = $1", [tenant]
        if sandbox is not None:
            where += " AND sandbox = $2"
            args.append(sandbox)
        order = order_by(sort)
        n = len(args)
        async with self._read() as tx:
            total_row = await tx.fetchrow(
                f"SELECT count(*) AS n FROM segments WHERE {where}", *args
            )
            rows = await tx.fetch(
                f"SELECT * FROM segments WHERE {where} ORDER BY {order} "
                f"LIMIT ${n + 1} OFFSET ${n + 2}",
                *args,
                limit,
                offset,
            )
        assert total_row is not None
        return Page(items=[segment_from_row(r) for r in rows], total=int(total_row["n"]))

    async def update_segment(
        self,
        tenant: str,
        segment_id: str,
        patch: SegmentPatch,
        actor: str | None,
        *,
        if_version: int | None = None,
    ) -> Segment:
        _check_findable(segment_id)
        sets, args = _patch_assignments(patch)
        args = [tenant, segment_id, now_us(), actor, *args]
        sets = ["version = version + 1", "updated_at = $3", "updated_by = $4", *sets]
        where = "tenant = $1 AND id = $2"
        if if_version is not None:
            args.append(if_version)
            where += f" AND version = ${len(args)}"
        refers = isinstance(patch.expression, bytes) and names_segments(patch.expression)
        drops = isinstance(patch.kind, str) and patch.kind != "static"

        async def write(tx: Tx) -> Row:
            if refers:
                assert isinstance(patch.expression, bytes)
                # The tenant's row first, as every create and transition takes it: two writes
                # naming each other's segments then queue instead of deadlocking. A condition
                # naming none locks no other row and cannot close a cycle: it needs neither.
                await tx.execute("UPDATE tenants SET next_seq = next_seq WHERE name = $1", tenant)
                await lock_referenced(tx, tenant, patch.expression, self._row_lock("SHARE"))
                await refuse_cycle(tx, tenant, segment_id, patch.expression)
            row = await tx.fetchrow(
                f"UPDATE segments SET {', '.join(sets)} WHERE {where} RETURNING *", *args
            )
            if row is None:
                exists = await tx.fetchrow(
                    "SELECT version FROM segments WHERE tenant = $1 AND id = $2",
                    tenant,
                    segment_id,
                )
                if exists is None:
                    raise NotFound("segment", segment_id)
                raise Conflict("version", "the segment was changed by someone else")
            if drops:
                await self._drop_memberships(tx, tenant, segment_id)
            return row

        # An update that names no segment and drops no members is one statement (and the read
        # telling a missing segment from a changed one), each committed on its own: no BEGIN
        # and COMMIT round trips.
        plain = not (refers or drops)
        return segment_from_row(await self._transact(write, single=plain, keyed=plain))

    async def delete_segment(self, tenant: str, segment_id: str) -> None:
        _check_findable(segment_id)
        async with self._write() as tx:
            # Locked before the conditions are searched: a write adding a reference to it holds
            # a SHARE lock until it commits (segment_refs.lock_usable).
            found = await tx.fetchrow(
                "SELECT slug FROM segments WHERE tenant = $1 AND id = $2"
                + self._row_lock("UPDATE"),
                tenant,
                segment_id,
            )
            if found is None:
                raise NotFound("segment", segment_id)
            slug = found["slug"]
            await refuse_if_referenced(tx, tenant, slug, f"segments/{slug}", "deleted")
            row = await tx.fetchrow(
                "DELETE FROM segments WHERE tenant = $1 AND id = $2 RETURNING id",
                tenant,
                segment_id,
            )
        if row is None:
            raise NotFound("segment", segment_id)

    async def count_segments(self, tenant: str, sandbox: str | None = None) -> int:
        async with self._read() as tx:
            if sandbox is None:
                row = await tx.fetchrow(
                    "SELECT count(*) AS n FROM segments WHERE tenant = $1", tenant
                )
            else:
                row = await tx.fetchrow(
                    "SELECT count(*) AS n FROM segments WHERE tenant = $1 AND sandbox = $2",
                    tenant,
                    sandbox,
                )
        assert row is not None
        return int(row["n"])


def _check_findable(value: str | int) -> None:
    """A key no row can hold (NUL is refused by PostgreSQL text, and never stored) is simply
    not found, rather than a driver error."""
    if isinstance(value, str) and "\x00" in value:
        raise NotFound("segment", value.replace("\x00", "\\0"))


def _patch_assignments(patch: SegmentPatch) -> tuple[list[str], list[Any]]:
    """``SET`` clauses for the fields a patch sets; placeholders start at $5 (after the four
    fixed arguments of an update)."""
    sets: list[str] = []
    args: list[Any] = []
    for field in patch.__struct_fields__:
        value = getattr(patch, field)
        if value is msgspec.UNSET:
            continue
        if field == "expression":
            value = value.decode() if value is not None else None
        elif field in ("allocation", "labels", "extensions"):
            value = dumps(value)
        args.append(value)
        sets.append(f"{field} = ${len(args) + 4}")
    return sets, args
