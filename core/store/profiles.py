"""Profiles (the HAL dialect's individuals) and the stored members of static segments: the SQL
both backends share, as a mixin of ``SqlStore`` (same ``$n`` placeholders, same transactions).
Pages of them, with their totals, are ``core.store.profile_pages``'s.

Dynamic membership is never stored: which segments' conditions one individual satisfies is
asked of the database, many conditions per statement (``segments_of_profile``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from core.errors import Conflict, NotExpressible, NotFound, StatementRefused, StatementTimeout
from core.expr.ast import Expr
from core.expr.evaluate import compile_expr
from core.expr.sql import to_sql
from core.expr.sql_refs import SqlRefs, python_resolver
from core.model import Profile, now_us
from core.store.base import Row, SqlBase, Tx
from core.store.profile_keys import has_wide_ints
from core.store.rows import dumps, profile_from_row

_dict_dec = msgspec.json.Decoder(dict[str, Any])

_MAX_PARAMS = 10_000
_MAX_COLUMNS = 200
"""Per statement when many conditions are tested at once: drivers allow 32k parameters, SQLite
2,000 result columns and 1 MB of SQL text."""
NOT_STATIC = "memberships can only be stored for a static segment"


class ProfileSql(SqlBase):
    """Store operations on profiles and memberships (see the protocol)."""

    # profiles ------------------------------------------------------------------------------
    async def create_profile(
        self, tenant: str, sandbox: str, identifier: str, attributes: dict[str, Any]
    ) -> Profile:
        now = now_us()
        async with self._write() as tx:
            row = await tx.fetchrow(
                "INSERT INTO profiles (tenant, sandbox, identifier, attributes, created_at, "
                f"updated_at, version, wide_ints) SELECT $1, $2, $3, {self._json('$4')}, $5, $5, "
                "1, $6 FROM tenants WHERE name = $1 "
                "ON CONFLICT (tenant, sandbox, identifier) DO NOTHING RETURNING *",
                tenant,
                sandbox,
                identifier,
                dumps(attributes),
                now,
                has_wide_ints(attributes),
            )
            if row is None:
                if await tx.fetchrow("SELECT 1 FROM tenants WHERE name = $1", tenant) is None:
                    raise NotFound("tenant", tenant)
                raise Conflict("identifier", "an individual with this identifier already exists")
        return profile_from_row(row)

    async def get_profile(self, tenant: str, sandbox: str, identifier: str) -> Profile:
        async with self._read() as tx:
            row = await tx.fetchrow(
                "SELECT * FROM profiles WHERE tenant = $1 AND sandbox = $2 AND identifier = $3",
                tenant,
                sandbox,
                identifier,
            )
        if row is None:
            raise NotFound("individual", identifier)
        return profile_from_row(row)

    async def replace_profile(
        self, tenant: str, sandbox: str, identifier: str, attributes: dict[str, Any]
    ) -> Profile:
        async with self._write() as tx:
            row = await tx.fetchrow(
                f"UPDATE profiles SET attributes = {self._json('$4')}, updated_at = $5, "
                "version = version + 1, wide_ints = $6 "
                "WHERE tenant = $1 AND sandbox = $2 AND identifier = $3 RETURNING *",
                tenant,
                sandbox,
                identifier,
                dumps(attributes),
                now_us(),
                has_wide_ints(attributes),
            )
        if row is None:
            raise NotFound("individual", identifier)
        return profile_from_row(row)

    async def delete_profile(self, tenant: str, sandbox: str, identifier: str) -> None:
        async with self._write() as tx:
            row = await tx.fetchrow(
                "DELETE FROM profiles WHERE tenant = $1 AND sandbox = $2 AND identifier = $3 "
                "RETURNING identifier",
                tenant,
                sandbox,
                identifier,
            )
        if row is None:
            raise NotFound("individual", identifier)

    # memberships ---------------------------------------------------------------------------
    async def add_membership(self, tenant: str, segment_id: str, identifier: str) -> None:
        async with self._write() as tx:
            segment = await tx.fetchrow(
                "SELECT kind, sandbox FROM segments WHERE tenant = $1 AND id = $2"
                + self._row_lock("SHARE"),
                tenant,
                segment_id,
            )
            if segment is None:
                raise NotFound("segment", segment_id)
            if segment["kind"] != "static":
                raise Conflict("kind", NOT_STATIC)
            profile = await tx.fetchrow(
                "SELECT identifier FROM profiles WHERE tenant = $1 AND sandbox = $2 "
                "AND identifier = $3" + self._row_lock("KEY SHARE"),
                tenant,
                segment["sandbox"],
                identifier,
            )
            if profile is None:
                raise NotFound("individual", identifier)
            await tx.execute(
                "INSERT INTO memberships (tenant, segment_id, sandbox, profile, created_at) "
                "VALUES ($1, $2, $3, $4, $5) "
                "ON CONFLICT (tenant, segment_id, profile) DO NOTHING",
                tenant,
                segment_id,
                segment["sandbox"],
                identifier,
                now_us(),
            )

    async def remove_membership(self, tenant: str, segment_id: str, identifier: str) -> None:
        async with self._write() as tx:
            row = await tx.fetchrow(
                "DELETE FROM memberships WHERE tenant = $1 AND segment_id = $2 AND profile = $3 "
                "RETURNING profile",
                tenant,
                segment_id,
                identifier,
            )
        if row is None:
            raise NotFound("membership", identifier)

    async def _drop_memberships(self, tx: Tx, tenant: str, segment_id: str) -> None:
        """A segment that stops being static loses its stored members (in the caller's
        transaction), so they cannot reappear if it becomes static again."""
        await tx.execute(
            "DELETE FROM memberships WHERE tenant = $1 AND segment_id = $2", tenant, segment_id
        )

    async def static_memberships(self, tenant: str, identifier: str) -> set[str]:
        async with self._read() as tx:
            rows = await tx.fetch(
                "SELECT m.segment_id FROM memberships m JOIN segments s "
                "ON s.tenant = m.tenant AND s.id = m.segment_id "
                "WHERE m.tenant = $1 AND m.profile = $2 AND s.kind = 'static'",
                tenant,
                identifier,
            )
        return {r["segment_id"] for r in rows}

    async def segments_of_profile(
        self,
        tenant: str,
        sandbox: str,
        identifier: str,
        conditions: Mapping[str, Expr | None],
        refs: Mapping[str, SqlRefs] | None = None,
    ) -> set[str]:
        """The database evaluates the conditions, many per statement. A condition it cannot
        take (``to_sql`` refuses it, or the engine refuses or cuts off its batch) is evaluated
        by ``core.expr.evaluate`` over the individual's attributes instead, which the SQL
        agrees with exactly: one unusual segment never breaks the answer for the others."""
        matched = {sid for sid, expr in conditions.items() if expr is None}
        tested = [(sid, expr) for sid, expr in conditions.items() if expr is not None]
        in_python: list[tuple[str, Expr]] = []
        async with self._read() as tx:
            found = await tx.fetchrow(
                "SELECT attributes FROM profiles WHERE tenant = $1 AND sandbox = $2 "
                "AND identifier = $3",
                tenant,
                sandbox,
                identifier,
            )
            if found is None:
                raise NotFound("individual", identifier)
            rows = await tx.fetch(
                "SELECT m.segment_id FROM memberships m JOIN segments s "
                "ON s.tenant = m.tenant AND s.id = m.segment_id "
                "WHERE m.tenant = $1 AND m.sandbox = $2 AND m.profile = $3 AND s.kind = 'static'",
                tenant,
                sandbox,
                identifier,
            )
            members = {r["segment_id"] for r in rows}
            matched.update(members)
        refs = refs or {}
        while tested:
            batch: list[tuple[str, Expr]] = []
            args: list[Any] = []
            columns: list[str] = []
            while tested and len(args) < _MAX_PARAMS and len(columns) < _MAX_COLUMNS:
                sid, expr = tested.pop()
                try:
                    sql, params = to_sql(
                        expr,
                        self.sql_dialect,
                        column="p.attributes",
                        param_start=len(args) + 1,
                        refs=refs.get(sid),
                    )
                except NotExpressible:
                    in_python.append((sid, expr))
                    continue
                columns.append(f"CASE WHEN {sql} THEN 1 ELSE 0 END AS c{len(batch)}")
                batch.append((sid, expr))
                args.extend(params)
            if not batch:
                continue
            try:
                row = await self._test_batch(tenant, sandbox, identifier, columns, args)
            except (StatementTimeout, StatementRefused):
                in_python += batch
                continue
            matched.update(sid for i, (sid, _) in enumerate(batch) if row[f"c{i}"])
        if in_python:
            attributes = _dict_dec.decode(found["attributes"])
            for sid, expr in in_python:
                own = refs.get(sid)
                resolve = None if own is None else python_resolver(own, members)
                if compile_expr(expr, resolve)(attributes):
                    matched.add(sid)
        return matched

    async def _test_batch(
        self, tenant: str, sandbox: str, identifier: str, columns: list[str], args: list[Any]
    ) -> Row:
        """One row, one column per condition: the database evaluates them all at once. The
        key's parameters come last: SQLite numbers the compiler's ``?`` in text order, and the
        columns precede the WHERE."""
        n = len(args)
        async with self._read() as tx:
            row = await tx.fetchrow(
                f"SELECT {', '.join(columns)} FROM profiles p WHERE p.tenant = ${n + 1} "
                f"AND p.sandbox = ${n + 2} AND p.identifier = ${n + 3}",
                *args,
                tenant,
                sandbox,
                identifier,
            )
        if row is None:
            raise NotFound("individual", identifier)
        return row
