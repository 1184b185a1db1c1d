"""Use cases of the segment lifecycle Confidence exposes: create with an allocation, update,
allocate, archive, available space, listings through a dialect's filter, and membership of a
unit (targeting AND buckets). The rules are in ``core.allocation``; this module orders the
checks and calls the store, whose transitions run the rules inside one transaction.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from typing import Any

import msgspec

from core import allocation as rules
from core.bounded import MB, Versioned
from core.budget import current_budget
from core.errors import Conflict, Invalid, LimitExceeded, NotFound
from core.evaluation import MAX_CONTEXTS_PER_BATCH, compiled_weight, identity_of
from core.expr import ast
from core.expr.evaluate import Compiled, compile_expr
from core.expr.refs import ref_slug, segment_refs
from core.model import (
    Allocation,
    NewSegment,
    Principal,
    Segment,
    SegmentPatch,
    Sort,
    Tenant,
    new_slug,
)
from core.segment_links import resolve_refs
from core.sent_forms import carry_digests
from core.service import SegmentService, check_new, check_patch, require_admin
from core.store import Store
from core.store.allocation import AllocationChange, AllocationView

SCAN_PAGE = 500
MAX_SEGMENTS = 10_000
"""Evaluating every segment reads at most this many (as the evaluation service does)."""
CRITERIA = "targeting.criteria"
"""Where Confidence's segment criteria sit in a segment (the field a refused reference names)."""
_ACCOUNT_RE = re.compile(r"^[A-Za-z0-9._-]{1,128}$")

Keep = Callable[[Segment], bool]

# The resolver of the evaluation running now: compiled segments are cached across calls, while
# what a segment criterion means (other segments' buckets for *this* unit) changes per call.
_resolver: ContextVar[Callable[[str, Mapping[str, Any]], bool] | None] = ContextVar(
    "segmux_segment_resolver", default=None
)


def _resolve(ref: str, context: Mapping[str, Any]) -> bool:
    current = _resolver.get()
    return current(ref, context) if current is not None else False


def _decode(expression: bytes | None) -> ast.Expr | None:
    return ast.decode(expression) if expression is not None else None


class LifecycleService:
    def __init__(
        self,
        store: Store,
        segments: SegmentService,
        rng: random.Random | None = None,
        cache_size: int = 50_000,
    ) -> None:
        self.store = store
        self.segments = segments
        self.rng = rng or random.Random()
        # One entry per segment, stamped with its version: an update replaces the compiled
        # condition of the older version instead of keeping both (core.bounded.Versioned).
        self._compiled: Versioned[tuple[str, str], Compiled] = Versioned(
            capacity=cache_size, max_bytes=64 * MB
        )

    # --- reads ----------------------------------------------------------------------------
    async def get(self, principal: Principal, slug: str) -> Segment:
        """A segment of the principal's default sandbox by slug."""
        return await self.segments.get(principal, "slug", slug, sandbox=principal.default_sandbox)

    async def bitset(self, principal: Principal, segment: Segment) -> int | None:
        """The segment's buckets (None while UNALLOCATED)."""
        stored = await self.store.get_bitset(principal.tenant, segment.id)
        return rules.stored_bitset(segment, stored)

    async def scan(
        self,
        principal: Principal,
        *,
        keep: Keep,
        sort: tuple[Sort, ...],
        offset: int,
        limit: int,
    ) -> tuple[list[Segment], bool]:
        """The ``limit`` segments after the first ``offset`` that ``keep`` accepts, in
        ``sort`` order, and whether more follow. Reads only as far as it must."""
        if offset < 0 or limit < 1:
            raise Invalid("page", "offset must be ≥ 0 and the page size ≥ 1")
        found: list[Segment] = []
        skipped = 0
        position = 0
        while True:
            page = await self.store.list_segments(
                principal.tenant,
                sandbox=principal.default_sandbox,
                offset=position,
                limit=SCAN_PAGE,
                sort=sort,
            )
            for segment in page.items:
                if not keep(segment):
                    continue
                if skipped < offset:
                    skipped += 1
                    continue
                if len(found) == limit:
                    return found, True
                found.append(segment)
            position += len(page.items)
            if not page.items or position >= page.total:
                return found, False

    async def available(
        self, principal: Principal, slug: str, allocation: Allocation | None = None
    ) -> int:
        """Buckets left for the segment (or for ``allocation``'s tags): those no ALLOCATED
        rival holds. The segment's own buckets never count against it."""
        segment = await self.get(principal, slug)
        wanted = allocation or segment.allocation
        rules.check_allocation(wanted)
        union = await self.store.allocated_union(
            principal.tenant,
            lambda other: rules.conflicts(wanted, other.allocation),
            exclude=segment.id,
        )
        return rules.available_buckets(union)

    # --- writes ---------------------------------------------------------------------------
    async def create(self, principal: Principal, new: NewSegment) -> Segment:
        """Create a segment: uncoordinated ones get their buckets now (OK), coordinated ones
        wait for :meth:`allocate` (UNALLOCATED)."""
        require_admin(principal)
        if new.slug is None:
            new = msgspec.structs.replace(new, slug=new_slug())
        if not new.name:  # [project] a segment without a display name is named by its id
            new = msgspec.structs.replace(new, name=new.slug)
        check_new(new)
        state, bitset = rules.initial(new.allocation, self.rng)
        expression = await resolve_refs(
            self.store, principal.tenant, new.expression, own=new.slug, field=CRITERIA
        )
        extensions = carry_digests(new.extensions, new.expression, expression)
        new = msgspec.structs.replace(
            new, state=state, expression=expression, extensions=extensions
        )
        return await self.store.create_segment_with_bitset(
            principal.tenant, new, principal.token_name, bitset
        )

    async def update(
        self, principal: Principal, slug: str, build: Callable[[Segment], SegmentPatch]
    ) -> Segment:
        """Apply the patch ``build`` makes from the segment as read now, if the state allows it
        and nobody wrote the segment meanwhile; the state and buckets follow the new
        allocation (``rules.decide_update``)."""
        require_admin(principal)
        segment = await self.get(principal, slug)
        patch = build(segment)
        check_patch(patch)
        if not isinstance(patch.expression, msgspec.UnsetType):
            expression = await resolve_refs(
                self.store, principal.tenant, patch.expression, own=segment.slug, field=CRITERIA
            )
            if isinstance(patch.extensions, dict):
                extensions = carry_digests(patch.extensions, patch.expression, expression)
                patch = msgspec.structs.replace(patch, extensions=extensions)
            patch = msgspec.structs.replace(patch, expression=expression)

        def decide(view: AllocationView) -> AllocationChange:
            if view.segment.version != segment.version:
                raise Conflict("version", "the segment changed meanwhile; read it and retry")
            return rules.decide_update(view, patch, self.rng)

        return await self.store.change_allocation(
            principal.tenant, segment.id, principal.token_name, decide
        )

    async def allocate(self, principal: Principal, slug: str) -> Segment:
        require_admin(principal)
        segment = await self.get(principal, slug)
        return await self.store.change_allocation(
            principal.tenant,
            segment.id,
            principal.token_name,
            lambda view: rules.decide_allocate(view, self.rng),
            conflicts=rules.segments_conflict,
        )

    async def archive(self, principal: Principal, slug: str) -> Segment:
        require_admin(principal)
        segment = await self.get(principal, slug)
        return await self.store.change_allocation(
            principal.tenant,
            segment.id,
            principal.token_name,
            rules.decide_archive,
            with_uses=True,
        )

    async def set_account(self, tenant: str, account_id: str) -> Tenant:
        """Set the Confidence account whose salt buckets the tenant's units (an operator's
        setting: the account of ``accounts/<id>`` in Confidence, for identical bucketing)."""
        if not _ACCOUNT_RE.match(account_id):
            raise Invalid("account_id", "must be 1 to 128 characters of [A-Za-z0-9._-]")
        await self.store.get_tenant(tenant)
        return await self.store.update_tenant_settings(tenant, {rules.ACCOUNT_SETTING: account_id})

    # --- membership -----------------------------------------------------------------------
    async def members(
        self,
        principal: Principal,
        segment_ids: Sequence[str] | None,
        context: Mapping[str, Any],
        unit: str | None = None,
    ) -> dict[str, bool]:
        """Segment id -> whether the unit is a member: OK or ALLOCATED, targeting matches
        ``context`` (segment criteria: the other segment's membership of the same unit), and the
        unit's bucket is allocated. Without ``unit``, a segment reads it from the context's
        ``targeting_key`` (or its ``targetingKeySelector``); only full bitsets match no unit."""
        return (await self.members_many(principal, segment_ids, [context], unit))[0]

    async def members_many(
        self,
        principal: Principal,
        segment_ids: Sequence[str] | None,
        contexts: Sequence[Mapping[str, Any]],
        unit: str | None = None,
    ) -> list[dict[str, bool]]:
        """:meth:`members` for each of ``contexts``, in order; the tenant, the segments and their
        bitsets are read once for all of them."""
        if len(contexts) > MAX_CONTEXTS_PER_BATCH:
            raise LimitExceeded("contexts", f"at most {MAX_CONTEXTS_PER_BATCH} contexts per batch")
        tenant = await self.store.get_tenant(principal.tenant)
        account = rules.account_id(tenant.name, tenant.settings)
        if segment_ids is None:
            wanted = await self._every_sandbox(principal)
        else:
            wanted = [
                await self.segments.get(principal, "id", sid) for sid in dict.fromkeys(segment_ids)
            ]
        by_slug = {s.slug: s for s in wanted}
        pending = [r for s in wanted for r in segment_refs(_decode(s.expression))]
        while pending:  # load what segment criteria name, transitively
            slug = pending.pop()
            if slug in by_slug:
                continue
            try:
                found = await self.store.get_segment(principal.tenant, "slug", slug)
            except NotFound:
                continue
            by_slug[slug] = found
            pending += segment_refs(_decode(found.expression))
        bitsets = {
            s.id: await self.store.get_bitset(principal.tenant, s.id) for s in by_slug.values()
        }
        # A static segment is its stored member list, asked about the context's identity.
        stored: dict[str, set[str]] = {}
        if any(s.kind == "static" for s in by_slug.values()):
            for ctx in contexts:
                who = identity_of(ctx, unit)
                if who is not None and who not in stored:
                    stored[who] = await self.store.static_memberships(principal.tenant, who)
        active: set[str] = set()

        def member(segment: Segment, ctx: Mapping[str, Any]) -> bool:
            if rules.not_serving(segment) is not None:
                return False  # an archived or unallocated segment serves no one, static too
            if segment.kind == "static":
                return segment.id in stored.get(identity_of(ctx, unit) or "", set())
            if segment.slug in active:
                return False  # a cycle never matches
            active.add(segment.slug)
            try:
                own_unit = unit if unit is not None else _unit_for(segment, ctx)
                if not rules.in_buckets(segment, bitsets[segment.id], own_unit, account):
                    return False
                return self._compile(segment)(ctx)
            finally:
                active.discard(segment.slug)

        def resolve(ref: str, ctx: Mapping[str, Any]) -> bool:
            target = by_slug.get(ref_slug(ref))
            return target is not None and member(target, ctx)

        token = _resolver.set(resolve)
        budget = current_budget()  # one context per step (core.budget)
        budget.resume()
        try:
            results = []
            for ctx in contexts:
                results.append({s.id: member(s, ctx) for s in wanted})
                await budget.pause()
            return results
        finally:
            _resolver.reset(token)

    async def _every_sandbox(self, principal: Principal) -> list[Segment]:
        """Every segment of the tenant, whatever its sandbox: membership is asked of all of
        them, as evaluation without a unit does (HAL projects are sandboxes of their own)."""
        found: list[Segment] = []
        while True:
            page = await self.store.list_segments(
                principal.tenant,
                sandbox=None,
                offset=len(found),
                limit=SCAN_PAGE,
                sort=(Sort("created_at"),),
            )
            found += page.items
            if not page.items or len(found) >= min(page.total, MAX_SEGMENTS):
                return found[:MAX_SEGMENTS]

    def _compile(self, segment: Segment) -> Compiled:
        key = (segment.tenant, segment.id)
        compiled = self._compiled.get(key, segment.version)
        if compiled is None:
            compiled = compile_expr(_decode(segment.expression), _resolve)
            self._compiled.put(key, segment.version, compiled, compiled_weight(segment.expression))
        return compiled


def _unit_for(segment: Segment, context: Mapping[str, Any]) -> str | None:
    conf = segment.extensions.get("confidence")
    selector = conf.get("targetingKeySelector") if isinstance(conf, dict) else None
    key = selector if isinstance(selector, str) and selector else "targeting_key"
    return rules.unit_of(context.get(key), key)
