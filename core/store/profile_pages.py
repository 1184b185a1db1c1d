"""Pages of individuals (HAL's listings and segments' members): the SQL both backends share, as
a mixin of ``SqlStore``: the page, its order and its exact total.

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
from collections.abc import Callable, Hashable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from core.errors import ConditionTooCostly, StatementRefused, StatementTimeout
from core.expr.ast import Expr
from core.expr.sql import jsonpath, to_sql
from core.expr.sql_refs import SqlRefs
from core.model import ProfilePage, ProfileSort
from core.store.base import Row, SqlBase, Tx
from core.store.limits import StoreLimits
from core.store.profile_keys import index_hints
from core.store.profile_totals import Counted, PageTotals, TotalCounts, TotalPending, walks
from core.store.rows import dumps, profile_from_row

CountRead = Callable[[int], AbstractAsyncContextManager[Tx]]
"""``read(timeout_ms)``: a read whose statements share one snapshot and may each run
``timeout_ms`` (0: unbounded) whatever the statement timeout, for a count outside a request."""

_COLUMNS = {
    "identifier": "p.identifier",
    "created_at": "p.created_at",
    "updated_at": "p.updated_at",
}
_DEFAULT_ORDER = "p.created_at ASC, p.identifier ASC"
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


class ProfilePageSql(SqlBase):
    """Pages of profiles with their totals (see the protocol's ``list_profiles``)."""

    limits: StoreLimits = StoreLimits()
    _totals: PageTotals | None = None
    _counting: TotalCounts | None = None

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
