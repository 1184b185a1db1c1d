"""Evaluate segments against one context, without reloading or recompiling per request.

* The tenant's segments and their :class:`~core.expr.segment_set.SegmentSet` (every distinct atom
  evaluated once per context, each segment's structure as generated code) are kept in a
  :class:`~core.cache.TenantCache`: each call reads the tenant revision (one indexed query) and
  rebuilds only when it changed, so a write on any process is seen by the next call on any
  process. A rebuild reuses the previous set's shapes and atom tests.
* Single segments (calls naming their ids) use closures from :class:`CompiledCache`, keyed by the
  condition's canonical JSON: what is compiled depends on nothing else, so a key can never go
  stale (a segment deleted and re-created under its id with another condition gets another key).
* Two kinds of segment are not a condition over the context alone, and are finished after the
  set has run: a **static** segment is its stored member list (the context's identity — the unit,
  else ``targeting_key``, else ``identifier`` — is looked up; no identity is not a member), and a
  condition with **segment criteria** (Confidence) asks the named segments, by slug, about the same
  context (a cycle never matches; an unknown slug never matches).
* Never widen (``core.allocation.without_unit``): with no unit, an ARCHIVED or UNALLOCATED
  segment, and one allocated to a proportion of units by bucket, match no context, whether asked
  directly or through a segment criterion; :meth:`EvaluationService.reasons` says why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from core.allocation import not_serving, without_unit
from core.budget import current_budget
from core.cache import ENTRY_OVERHEAD, MB, Bounded, TenantCache
from core.errors import Invalid, LimitExceeded, NotFound
from core.expr import ast
from core.expr.evaluate import compile_expr
from core.expr.refs import ref_slug, segment_refs
from core.expr.segment_set import SegmentSet
from core.model import Principal, Segment, Sort
from core.store import Store

Compiled = Callable[[Mapping[str, Any]], bool]
MAX_SEGMENTS_PER_CALL = 10_000
MAX_CONTEXTS_PER_BATCH = 1000
_PAGE = 1000
_TENANTS_CACHED = 64
COMPILED_FACTOR = 16
"""A compiled condition (closures, constants, regex objects) holds roughly this many times the
bytes of its canonical JSON: the estimate the byte bounds below count."""
SEGMENT_OVERHEAD = 4096
"""Bytes a tenant's segment costs in its :class:`TenantSegments` beyond its compiled condition."""


def compiled_weight(expression: bytes | None) -> int:
    return len(expression or b"") * COMPILED_FACTOR + ENTRY_OVERHEAD


class CompiledCache:
    """Compiled conditions by canonical JSON: at most ``capacity`` and ``max_bytes`` of them."""

    def __init__(self, capacity: int = 50_000, max_bytes: int = 64 * MB) -> None:
        self.capacity = capacity
        self._entries: Bounded[bytes | None, Compiled] = Bounded(
            capacity=capacity, max_bytes=max_bytes
        )

    def get(self, segment: Segment) -> Compiled:
        key = segment.expression
        found = self._entries.get(key)
        if found is not None:
            return found
        expr = ast.decode(key) if key is not None else None
        compiled = compile_expr(expr)
        # The key is counted twice: once as itself, once for what was compiled from it.
        self._entries.put(key, compiled, compiled_weight(key) + len(key or b""))
        return compiled


class TenantSegments:
    """All of a tenant's segments at one revision (creation order), by id and as one set."""

    def __init__(self, segments: list[Segment], previous: TenantSegments | None) -> None:
        self.segments = segments
        self.by_id = {s.id: s for s in segments}
        self.by_slug = {s.slug: s for s in segments}
        self.static_ids = frozenset(s.id for s in segments if s.kind == "static")
        self.withheld: dict[str, str] = {}
        """Segment id -> why it matches no context without a unit (``without_unit``)."""
        for s in segments:
            reason = without_unit(s)
            if reason is not None:
                self.withheld[s.id] = reason
        self.referring: dict[str, ast.Expr] = {}
        for s in segments:
            expr = ast.decode(s.expression) if s.expression is not None else None
            if expr is not None and segment_refs(expr):
                self.referring[s.id] = expr
        self.compiled: SegmentSet = SegmentSet(
            ((s.id, s.expression) for s in segments),
            previous=None if previous is None else previous.compiled,
        )


def _tenant_weight(tenant: TenantSegments) -> int:
    """An estimate of a tenant's loaded and compiled segments (the set's bytes and more)."""
    return sum(compiled_weight(s.expression) + SEGMENT_OVERHEAD for s in tenant.segments)


class EvaluationService:
    def __init__(self, store: Store, cache: CompiledCache | None = None) -> None:
        self.store = store
        self.cache = cache or CompiledCache()
        self._tenants: TenantCache[TenantSegments] = TenantCache(
            store, _TENANTS_CACHED, weigh=_tenant_weight, max_bytes=256 * MB
        )

    def caches(self) -> dict[str, TenantCache[Any]]:
        """Its caches by name, for the operator's metrics."""
        return {"segment_sets": self._tenants}

    async def tenant_segments(self, principal: Principal) -> TenantSegments:
        """The tenant's segments as of now (cached per tenant revision)."""

        async def load(revision: int, previous: TenantSegments | None) -> TenantSegments:
            return TenantSegments(await self._load_all(principal.tenant), previous)

        return await self._tenants.get(principal.tenant, "segments", load)

    async def _load_all(self, tenant: str) -> list[Segment]:
        segments: list[Segment] = []
        offset = 0
        while True:
            page = await self.store.list_segments(
                tenant,
                sandbox=None,
                offset=offset,
                limit=_PAGE,
                sort=(Sort("created_at"),),
            )
            segments += page.items
            offset += _PAGE
            if offset >= page.total or not page.items:
                return segments

    async def segments_for(
        self, principal: Principal, segment_ids: Sequence[str] | None
    ) -> list[Segment]:
        """The listed segments of the tenant (unknown ids are ``NotFound``), or all of them."""
        current = await self.tenant_segments(principal)
        return current.segments if segment_ids is None else _listed(current, segment_ids)

    async def evaluate(
        self,
        principal: Principal,
        context: Mapping[str, Any],
        segment_ids: Sequence[str] | None = None,
    ) -> dict[str, bool]:
        """Segment id -> whether ``context`` is in it, for each segment asked about."""
        return (await self.evaluate_batch(principal, [context], segment_ids))[0]

    async def evaluate_batch(
        self,
        principal: Principal,
        contexts: Sequence[Mapping[str, Any]],
        segment_ids: Sequence[str] | None = None,
    ) -> list[dict[str, bool]]:
        """:meth:`evaluate` for each of up to :data:`MAX_CONTEXTS_PER_BATCH` contexts, in
        order, loading and compiling the segments once."""
        return (await self.explained_batch(principal, contexts, segment_ids)).results

    async def explained_batch(
        self,
        principal: Principal,
        contexts: Sequence[Mapping[str, Any]],
        segment_ids: Sequence[str] | None = None,
    ) -> Explained:
        """:meth:`evaluate_batch` and :meth:`reasons` (no unit) of the same segments, both from
        one read of the tenant's segments: one revision read per request, not two, and reasons
        that always belong to the segments the answers came from."""
        if len(contexts) > MAX_CONTEXTS_PER_BATCH:
            raise LimitExceeded("contexts", f"at most {MAX_CONTEXTS_PER_BATCH} contexts per batch")
        current = await self.tenant_segments(principal)
        budget = current_budget()  # one context per step (core.budget)
        results: list[dict[str, bool]] = []
        if segment_ids is None:
            budget.resume()
            for context in contexts:
                results.append(current.compiled.evaluate(context))
                await budget.pause()
        else:
            segments = _listed(current, segment_ids)
            compiled = [(s.id, self.cache.get(s)) for s in segments]
            budget.resume()
            for context in contexts:
                results.append({sid: run(context) for sid, run in compiled})
                await budget.pause()
        if current.static_ids or current.referring:
            for context, result in zip(contexts, results, strict=True):
                await self._finish(principal, current, context, result)
                await budget.pause(0)
        if current.withheld:
            for result in results:
                for sid in current.withheld:
                    if sid in result:
                        result[sid] = False
        return Explained(results, _withheld(current, segment_ids))

    async def reasons(
        self, principal: Principal, segment_ids: Sequence[str] | None, *, unit: bool = False
    ) -> dict[str, str]:
        """Segment id -> why it matches no context whatever its condition says, for the
        segments asked about that have such a reason: ``archived``, ``unallocated``, and
        (``unit`` False: none was given) ``needs a unit``."""
        if unit:
            return {
                s.id: r
                for s in await self.segments_for(principal, segment_ids)
                if (r := not_serving(s)) is not None
            }
        return _withheld(await self.tenant_segments(principal), segment_ids)

    async def _finish(
        self,
        principal: Principal,
        current: TenantSegments,
        context: Mapping[str, Any],
        result: dict[str, bool],
    ) -> None:
        """Replace the set's answers for static segments and segment criteria (see the module
        docstring)."""
        members: set[str] = set()
        who = identity_of(context, None)
        if current.static_ids and who is not None:
            members = await self.store.static_memberships(principal.tenant, who)
            current_budget().resume()  # the query's wait is not this request's CPU
        active: set[str] = set()

        def member(segment: Segment) -> bool:
            if segment.id in current.withheld:
                return False
            if segment.kind == "static":
                return segment.id in members
            expr = current.referring.get(segment.id)
            if expr is None:
                return self.cache.get(segment)(context)
            if segment.slug in active:
                return False  # a cycle never matches
            active.add(segment.slug)
            try:
                return compile_expr(expr, resolve)(context)
            finally:
                active.discard(segment.slug)

        def resolve(ref: str, ctx: Mapping[str, Any]) -> bool:
            target = current.by_slug.get(ref_slug(ref))
            return target is not None and member(target)

        for sid in result:
            if sid in current.static_ids or sid in current.referring:
                result[sid] = member(current.by_id[sid])


class Explained(NamedTuple):
    """Answers for each context, and why some segments asked about match no context at all."""

    results: list[dict[str, bool]]
    reasons: dict[str, str]


def _listed(current: TenantSegments, segment_ids: Sequence[str]) -> list[Segment]:
    """The listed segments, each once, in the order first listed."""
    if len(segment_ids) > MAX_SEGMENTS_PER_CALL:
        raise Invalid("segments", f"at most {MAX_SEGMENTS_PER_CALL} ids")
    found = []
    for sid in dict.fromkeys(segment_ids):
        segment = current.by_id.get(sid)
        if segment is None:
            raise NotFound("segment", sid, f"no segment with id {sid!r}")
        found.append(segment)
    return found


def _withheld(current: TenantSegments, segment_ids: Sequence[str] | None) -> dict[str, str]:
    """``current.withheld`` for the segments asked about (None: every segment)."""
    if segment_ids is None:
        return dict(current.withheld)
    return {
        sid: current.withheld[sid] for sid in dict.fromkeys(segment_ids) if sid in current.withheld
    }


def identity_of(context: Mapping[str, Any], unit: str | None) -> str | None:
    """Whom a static segment's member list is asked about: the unit, else the context's
    ``targeting_key`` (as Confidence reads it), else its ``identifier`` (a HAL individual)."""
    for value in (unit, context.get("targeting_key"), context.get("identifier")):
        if isinstance(value, str) and value:
            return value
    return None
