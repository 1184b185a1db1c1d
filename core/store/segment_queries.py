"""Segment reads beyond the protocol's basics — many ids at once, and listings filtered on
booleans a dialect keeps in ``extensions`` (Adobe's ``evaluationInfo``) — as a mixin of
``SqlStore``. The filter runs in the database, so a page and its total stay exact.

Reading JSON differs between the backends; ``_extension_text`` is the one place that does
(PostgreSQL here, SQLite overrides it). Both yield ``'true'``/``'false'`` for a JSON boolean.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.model import ExtensionTest, Page, Segment, Sort
from core.store.base import SqlBase, order_by
from core.store.rows import segment_from_row


class SegmentQueries(SqlBase):
    def _extension_text(self, path: tuple[str, ...], first: int) -> tuple[str, list[Any]]:
        """SQL for the text of the JSON value at ``path`` in ``extensions`` (NULL if absent),
        with its arguments numbered from ``$first``."""
        marks = ", ".join(f"${first + i}" for i in range(len(path)))
        # jsonb refuses the escape \u0000 (which JSON allows, in any string of any dialect's
        # extensions); it can only occur inside strings, never in the booleans read here, so
        # it is turned into \u0020 first. chr(92) is the backslash, whatever the quoting mode.
        json = "replace(extensions, chr(92) || 'u0000', chr(92) || 'u0020')"
        return f"jsonb_extract_path_text(CAST({json} AS jsonb), {marks})", list(path)

    async def get_segments(self, tenant: str, ids: Sequence[str]) -> list[Segment]:
        wanted = [i for i in dict.fromkeys(ids) if "\x00" not in i]
        if not wanted:
            return []
        marks = ", ".join(f"${i + 2}" for i in range(len(wanted)))
        async with self._read() as tx:
            rows = await tx.fetch(
                f"SELECT * FROM segments WHERE tenant = $1 AND id IN ({marks})", tenant, *wanted
            )
        found = {r["id"]: segment_from_row(r) for r in rows}
        return [found[i] for i in wanted if i in found]

    async def segments_after(
        self,
        tenant: str,
        *,
        after: tuple[int, str] | None,
        limit: int,
        name_contains: str | None = None,
    ) -> list[Segment]:
        """Up to ``limit`` of the tenant's segments, oldest first (then by id), strictly after
        the ``(created_at, id)`` key ``after``; with ``name_contains``, only those whose name
        contains it, ignoring case (a LIKE with its wildcards escaped, as both backends read it)."""
        where, args = ["tenant = $1"], list[Any]([tenant])
        if after is not None:
            args += [after[0], after[1]]
            n = len(args)
            where.append(f"(created_at > ${n - 1} OR (created_at = ${n - 1} AND id > ${n}))")
        if name_contains is not None:
            escaped = name_contains.replace("!", "!!").replace("%", "!%").replace("_", "!_")
            args.append(f"%{escaped}%")
            where.append(f"lower(name) LIKE lower(CAST(${len(args)} AS text)) ESCAPE '!'")
        args.append(limit)
        async with self._read() as tx:
            rows = await tx.fetch(
                f"SELECT * FROM segments WHERE {' AND '.join(where)} "
                f"ORDER BY created_at ASC, id ASC LIMIT ${len(args)}",
                *args,
            )
        return [segment_from_row(r) for r in rows]

    async def list_segments_where(
        self,
        tenant: str,
        *,
        sandbox: str | None,
        tests: Sequence[ExtensionTest],
        offset: int = 0,
        limit: int = 100,
        sort: tuple[Sort, ...] = (),
    ) -> Page:
        where, args = ["tenant = $1"], [tenant]
        if sandbox is not None:
            args.append(sandbox)
            where.append(f"sandbox = ${len(args)}")
        for test in tests:
            text, path_args = self._extension_text(test.path, len(args) + 1)
            args += path_args
            args.append("true" if test.default else "false")
            args.append("true" if test.value else "false")
            where.append(f"COALESCE({text}, ${len(args) - 1}) = ${len(args)}")
        clause = " AND ".join(where)
        n = len(args)
        async with self._read() as tx:
            total = await tx.fetchrow(f"SELECT count(*) AS n FROM segments WHERE {clause}", *args)
            rows = await tx.fetch(
                f"SELECT * FROM segments WHERE {clause} ORDER BY {order_by(sort)} "
                f"LIMIT ${n + 1} OFFSET ${n + 2}",
                *args,
                limit,
                offset,
            )
        assert total is not None
        return Page(items=[segment_from_row(r) for r in rows], total=int(total["n"]))
