"""Evaluate segments against one context: compiled once per segment version, cached.

A segment's condition is compiled the first time a version of it is evaluated; an update bumps the
version, so a stale compiled form can never be used (the key changes) and no invalidation is
needed. The cache is bounded (LRU) so a tenant with many segments cannot grow it without limit.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from core.errors import Invalid, NotFound
from core.expr import ast
from core.expr.evaluate import compile_expr
from core.model import Principal, Segment, Sort
from core.store import Store

Compiled = Callable[[Mapping[str, Any]], bool]
MAX_SEGMENTS_PER_CALL = 10_000
_PAGE = 1000


class CompiledCache:
    def __init__(self, capacity: int = 50_000) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[tuple[str, str, int], Compiled] = OrderedDict()

    def get(self, segment: Segment) -> Compiled:
        key = (segment.tenant, segment.id, segment.version)
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
            return found
        expr = ast.decode(segment.expression) if segment.expression is not None else None
        compiled = compile_expr(expr)
        self._entries[key] = compiled
        if len(self._entries) > self.capacity:
            self._entries.popitem(last=False)
        return compiled


class EvaluationService:
    def __init__(self, store: Store, cache: CompiledCache | None = None) -> None:
        self.store = store
        self.cache = cache or CompiledCache()

    async def segments_for(
        self, principal: Principal, segment_ids: Sequence[str] | None
    ) -> list[Segment]:
        """The listed segments of the tenant (unknown ids are ``NotFound``), or all of them."""
        if segment_ids is not None:
            if len(segment_ids) > MAX_SEGMENTS_PER_CALL:
                raise Invalid("segments", f"at most {MAX_SEGMENTS_PER_CALL} ids")
            found = []
            for sid in dict.fromkeys(segment_ids):
                found.append(await self.store.get_segment(principal.tenant, "id", sid))
            return found
        segments: list[Segment] = []
        offset = 0
        while True:
            page = await self.store.list_segments(
                principal.tenant, sandbox=None, offset=offset, limit=_PAGE,
                sort=(Sort("created_at"),),
            )
            segments += page.items
            offset += _PAGE
            if offset >= page.total or not page.items:
                return segments

    async def evaluate(
        self,
        principal: Principal,
        context: Mapping[str, Any],
        segment_ids: Sequence[str] | None = None,
    ) -> dict[str, bool]:
        """Segment id -> whether ``context`` is in it, for each segment asked about."""
        try:
            segments = await self.segments_for(principal, segment_ids)
        except NotFound as exc:
            raise NotFound("segment", exc.key, f"no segment with id {exc.key!r}") from exc
        return {s.id: self.cache.get(s)(context) for s in segments}
