"""Profiles (the HAL dialect's individuals) and the stored members of static segments: the SQL
both backends share, as a mixin of ``SqlStore`` (same ``$n`` placeholders, same transactions).

Dynamic membership is never stored: a segment's condition is compiled to a predicate over the
``attributes`` JSON column (``core.expr.sql.to_sql``), so a page of members is one query the
database answers, its total included, however many profiles there are; only a page past the end
runs a separate count. On PostgreSQL the total is remembered under the sandbox's revision
(``core.store.profile_totals``): the statement counts only when the individuals or memberships
changed since the last count, so a page usually reads just its own rows; a count too long for
the statement timeout goes on outside the request, the page answered "retry" until it ends.
SQLite carries the total on every row (``count(*) OVER ()``).
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import Callable, Hashable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import msgspec

from core.errors import (
    ConditionTooCostly,
    Conflict,
    NotExpressible,
    NotFound,
    StatementRefused,
    StatementTimeout,
)
from core.expr.ast import Expr
from core.expr.evaluate import compile_expr
from core.expr.sql import Dialect, jsonpath, to_sql
from core.expr.sql_refs import SqlRefs, python_resolver
from core.model import Profile, ProfilePage, ProfileSort, now_us
from core.store.base import Row, SqlBase, Tx
from core.store.limits import StoreLimits
from core.store.profile_keys import has_wide_ints, index_hints
from core.store.profile_totals import Counted, PageTotals, TotalCounts, TotalPending, walks
from core.store.rows import dumps, profile_from_row

_dict_dec = msgspec.json.Decoder(dict[str, Any])

CountRead = Callable[[int], AbstractAsyncContextManager[Tx]]
"""``read(timeout_ms)``: a read whose statements share one snapshot and may each run
``timeout_ms`` (0: unbounded) whatever the statement timeout, for a count outside a request."""

_COLUMNS = {
    "identifier": "p.identifier",
    "created_at": "p.created_at",
    "updated_at": "p.updated_at",
}
_DEFAULT_ORDER = "p.created_at ASC, p.identifier ASC"
_MAX_PARAMS = 10_000
_MAX_COLUMNS = 200
"""Per statement when many conditions are tested at once: drivers allow 32k parameters, SQLite
2,000 result columns and 1 MB of SQL text."""
NOT_STATIC = "memberships can only be stored for a static segment"
_ATTEMPTS = 3
"""Reads of a page whose total is counted outside the request: a write between the count and
the page's read makes the count useless to it (another revision) and a new one is waited for."""


async def _wait(task: asyncio.Task[Counted], deadline: float | None) -> None:
    """Wait for a count outside the request until ``deadline`` (the loop's clock; None: until
    it ends); past it, the page is answered "retry" and the count goes on."""
    left = None if deadline is None else max(0.0, deadline - asyncio.get_running_loop().time())
    try:
        await asyncio.wait_for(asyncio.shield(task), left)
    except TimeoutError:
        raise TotalPending() from None


def _remembered_total(
    known: Counted | None, source: str, clause: str, first: int, *, inline: bool
) -> tuple[str, list[Any]]:
    """Select-list SQL for ``total_count``, ``revision`` and ``individuals`` (PostgreSQL): the
    remembered total while the sandbox's revision is the one it was counted at, else a count of
    ``clause`` in the same statement and snapshot (an uncorrelated subquery, run at most once
    and only when the CASE reaches it) if ``inline``, else NULL (the count is made outside the
    request) but for a sandbox never written to (no revision: nothing to count). Its two
    arguments are numbered from ``first + 1``; the clause's own arguments, tenant ($1) and
    sandbox ($2) first, are the caller's."""
    of_sandbox = "FROM profile_revisions r WHERE r.tenant = $1 AND r.sandbox = $2"
    count = f"(SELECT count(*) FROM {source} WHERE {clause})"
    if not inline:
        count = f"CASE WHEN (SELECT r.revision {of_sandbox}) IS NULL THEN {count} END"
    sql = (
        f"CASE WHEN (SELECT r.revision {of_sandbox}) = ${first + 1}::bigint "
        f"THEN ${first + 2}::bigint "
        f"ELSE {count} END AS total_count, "
        f"(SELECT r.revision {of_sandbox}) AS revision, "
        f"(SELECT r.individuals {of_sandbox}) AS individuals"
    )
    return sql, [None, None] if known is None else [known.revision, known.total]


def too_costly(exc: StatementTimeout | StatementRefused, timeout_ms: int) -> ConditionTooCostly:
    """What a condition's statement cut off after ``timeout_ms`` (or refused) by the database
    says to the client: the condition's own cost, which no retry changes."""
    if isinstance(exc, StatementTimeout):
        reason = (
            f"the condition took more than {timeout_ms} ms of database "
            "time to evaluate over the individuals; make it simpler (fewer tests, one "
            "`in` set instead of many alternatives)"
        )
    else:
        reason = (
            "the condition is too large or complex for the database to evaluate; make "
            "it simpler (fewer tests, one `in` set instead of many alternatives)"
        )
    return ConditionTooCostly("expression", reason)


class ProfileSql(SqlBase):
    """Store operations on profiles and memberships (see the protocol)."""

    limits: StoreLimits = StoreLimits()
    _totals: PageTotals | None = None
    _counting: TotalCounts | None = None

    @property
    def sql_dialect(self) -> Dialect:
        return "sqlite" if self.url.startswith("sqlite") else "postgres"

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

    async def list_profiles(
        self,
        tenant: str,
        sandbox: str,
        *,
        where: Sequence[Expr] = (),
        member_of: str | None = None,
        offset: int = 0,
        limit: int = 100,
        sort: Sequence[ProfileSort] = (),
        refs: SqlRefs | None = None,
    ) -> ProfilePage:
        args: list[Any] = [tenant, sandbox]
        if member_of is None:
            source = "profiles p"
            conditions = ["p.tenant = $1", "p.sandbox = $2"]
        else:
            source = (
                "memberships m JOIN profiles p ON p.tenant = m.tenant "
                "AND p.sandbox = m.sandbox AND p.identifier = m.profile"
            )
            conditions = ["m.tenant = $1", "m.sandbox = $2", "m.segment_id = $3"]
            args.append(member_of)
        hints: list[str] = []
        for expr in where:
            if self.sql_dialect == "postgres":
                for hint in index_hints(expr):
                    args.append(hint)
                    hints.append(f"(p.attributes @? CAST(${len(args)} AS jsonpath) OR p.wide_ints)")
            sql, params = to_sql(
                expr,
                self.sql_dialect,
                column="p.attributes",
                param_start=len(args) + 1,
                refs=refs,
            )
            conditions.append(f"({sql})")
            args.extend(params)
        clause = " AND ".join(conditions + hints)
        order, order_args = self._order(sort, len(args) + 1)
        page_args = [*args, *order_args]
        count_read = self._count_read()
        if count_read is None:
            # No revisions: the window count is taken over every matching row before
            # LIMIT/OFFSET, so each row of the page carries the total. A count budget past the
            # statement timeout changes nothing here: there is no count outside the request.
            try:
                return await self._page_counted_inside(
                    source, clause, order, page_args, offset, limit, clause_args=len(args)
                )
            except (StatementTimeout, StatementRefused) as exc:
                if not where:
                    raise
                raise too_costly(exc, self.limits.statement_timeout_ms) from exc
        key = (source, clause, repr(args))  # what a remembered total is the count of
        walkable = bool(hints) and not sort and member_of is None

        async def read(known: Counted | None, *, inline: bool) -> tuple[Sequence[Row], Row]:
            """The page and the row carrying its total (None when not ``inline`` and the
            revision moved since ``known``)."""
            page_clause = clause
            if walkable and walks(known, offset + limit):
                page_clause = " AND ".join(conditions)
            n = len(page_args)
            total_sql, total_args = _remembered_total(known, source, clause, n, inline=inline)
            async with self._read() as tx:
                rows = await tx.fetch(
                    f"SELECT p.*, {total_sql} FROM {source} WHERE {page_clause} "
                    f"ORDER BY {order} LIMIT ${n + 3} OFFSET ${n + 4}",
                    *page_args,
                    *total_args,
                    limit,
                    offset,
                )
                if rows:
                    return rows, rows[0]
                # a page past the end has no row to carry the total
                total_sql, total_args = _remembered_total(
                    known, source, clause, len(args), inline=inline
                )
                found = await tx.fetchrow(f"SELECT {total_sql}", *args, *total_args)
                assert found is not None
                return rows, found

        async def count() -> Counted:
            return await self._count_outside(count_read, key, source, clause, args)

        counts = self._total_counts
        wait = self.limits.statement_timeout_ms / 1000 if self.limits.counts_outside else None
        deadline = None if wait is None else asyncio.get_running_loop().time() + wait
        try:
            for _ in range(_ATTEMPTS):
                known = self._page_totals.get(key)
                if not counts.outside(key):
                    # the count in the page's own statement, as long as it fits there
                    try:
                        rows, found = await read(known, inline=True)
                    except StatementTimeout:
                        if not where or not self.limits.counts_outside:
                            raise
                        counts.start(key, count)
                        raise TotalPending() from None
                    return self._counted_page(key, rows, found)
                if known is not None:
                    rows, found = await read(known, inline=False)
                    if found["total_count"] is not None:
                        return self._counted_page(key, rows, found)
                await _wait(counts.start(key, count), deadline)
            raise TotalPending()
        except (StatementTimeout, StatementRefused) as exc:
            if not where:
                raise
            raise too_costly(exc, self.limits.statement_timeout_ms) from exc

    def _counted_page(self, key: Hashable, rows: Sequence[Row], found: Row) -> ProfilePage:
        """The page, its total remembered under the revision it was read at."""
        total = int(found["total_count"])
        if found["revision"] is not None:
            counted = Counted(int(found["revision"]), total, int(found["individuals"]))
            self._page_totals.put(key, counted)
        return ProfilePage(items=[profile_from_row(r) for r in rows], total=total)

    async def _count_outside(
        self, read: CountRead, key: Hashable, source: str, clause: str, args: Sequence[Any]
    ) -> Counted:
        """Count ``clause`` under the count budget, outside any request's statement timeout,
        with the sandbox's revision read in the same snapshot; the total is remembered."""
        budget = self.limits.count_budget_ms
        revision: int | None = None
        try:
            async with read(budget) as tx:
                found = await tx.fetchrow(
                    "SELECT revision, individuals FROM profile_revisions "
                    "WHERE tenant = $1 AND sandbox = $2",
                    args[0],
                    args[1],
                )
                # no revision yet: nothing was ever written to the sandbox, and no page's
                # statement will match this count (theirs count again, an empty sandbox)
                revision = -1 if found is None else int(found["revision"])
                individuals = 0 if found is None else int(found["individuals"])
                refused = self._total_counts.refused(key, revision)
                if refused is not None:
                    raise refused
                row = await tx.fetchrow(
                    f"SELECT count(*) AS total_count FROM {source} WHERE {clause}", *args
                )
                assert row is not None
        except (StatementTimeout, StatementRefused) as exc:
            error = too_costly(exc, budget)
            if revision is not None:
                self._total_counts.refuse(key, revision, error)
            raise error from exc
        counted = Counted(revision, int(row["total_count"]), individuals)
        self._page_totals.put(key, counted)
        return counted

    @abc.abstractmethod
    def _count_read(self) -> CountRead | None:
        """How this backend reads a listing's count outside a request, or None when it counts
        only inside the page's own statement. Outside counts, and the totals remembered
        between pages, are filed under the sandbox's revision of its individuals
        (``profile_revisions``): PostgreSQL keeps one; SQLite does not, and answers every page
        with ``count(*) OVER ()`` whatever ``StoreLimits.count_timeout_ms`` says. Abstract, so
        a backend declares which it does rather than failing on the first costly listing."""

    @property
    def _total_counts(self) -> TotalCounts:
        if self._counting is None:
            self._counting = TotalCounts()
        return self._counting

    async def _stop_counting(self) -> None:
        """Cancel the counts still running outside requests (the store is closing)."""
        if self._counting is not None:
            await self._counting.close()

    async def _page_counted_inside(
        self,
        source: str,
        clause: str,
        order: str,
        args: list[Any],
        offset: int,
        limit: int,
        *,
        clause_args: int,
    ) -> ProfilePage:
        """A page whose every row carries the total (a backend without ``_count_read``);
        ``args`` are the clause's ``clause_args`` arguments, then the order's."""
        n = len(args)
        async with self._read() as tx:
            rows = await tx.fetch(
                f"SELECT p.*, count(*) OVER () AS total_count FROM {source} WHERE {clause} "
                f"ORDER BY {order} LIMIT ${n + 1} OFFSET ${n + 2}",
                *args,
                limit,
                offset,
            )
            if rows:
                total = int(rows[0]["total_count"])
            else:  # a page past the end has no row to carry the total
                row = await tx.fetchrow(
                    f"SELECT count(*) AS total_count FROM {source} WHERE {clause}",
                    *args[:clause_args],
                )
                assert row is not None
                total = int(row["total_count"])
        return ProfilePage(items=[profile_from_row(r) for r in rows], total=total)

    @property
    def _page_totals(self) -> PageTotals:
        """This store's remembered totals (made on first use: the mixin has no __init__)."""
        if self._totals is None:
            self._totals = PageTotals()
        return self._totals

    def _order(self, sort: Sequence[ProfileSort], first: int) -> tuple[str, list[Any]]:
        """ORDER BY terms for ``sort`` (placeholders from ``first``), ending with the identifier
        so pages never overlap. An attribute sorts by two keys, its number then its string, so
        both backends order mixed values alike (numbers, then strings, then anything else)."""
        terms: list[str] = []
        args: list[Any] = []
        for s in sort:
            direction = "DESC" if s.descending else "ASC"
            if s.column is not None:
                terms.append(f"{_COLUMNS[s.column]} {direction}")
                continue
            if self.sql_dialect == "postgres":
                args.append(jsonpath(s.path))
                p = f"CAST(${first + len(args) - 1} AS jsonpath)"
                v = f"jsonb_path_query_first(p.attributes, {p})"
                number = f"CASE WHEN jsonb_typeof({v}) = 'number' THEN CAST({v} AS numeric) END"
                text = f"(CASE WHEN jsonb_typeof({v}) = 'string' THEN {v} #>> '{{}}' END)"
                text += ' COLLATE "C"'
            else:
                args.append(dumps(list(s.path)))
                p = f"${first + len(args) - 1}"
                number = f"profile_sort_number(p.attributes, {p})"
                text = f"profile_sort_text(p.attributes, {p})"
            terms += [f"{number} {direction} NULLS LAST", f"{text} {direction} NULLS LAST"]
        if not terms:
            return _DEFAULT_ORDER, args
        terms.append("p.identifier ASC")
        return ", ".join(terms), args

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
