"""Segments as constraint lists (Unleash's view of the segment store): the use cases of the
Unleash segments API, with its validation order and limits.

A segment created here keeps the list it was created with in ``extensions["unleash"]``, with a
hash of the canonical expression it was parsed into: while the expression is unchanged, reads
return that list exactly as sent (``NOT_IN`` stays ``NOT_IN``, not an inverted ``IN``); once
another dialect changes the expression, the list is rendered from the AST, or refused.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec

from core.allocation import check_condition_only
from core.bounded import Bounded
from core.constraints import (
    ConstraintLimits,
    ResourceLimit,
    SchemaInvalid,
    check_constraints,
    check_segment_fields,
    check_segment_values,
    to_expression,
)
from core.errors import Conflict, CoreError, Invalid, NotExpressible, NotFound, RoomChanged
from core.expr import ast
from core.expr.unleash import LANGUAGE, render_constraints
from core.model import (
    NewSegment,
    Principal,
    RoomGuard,
    Segment,
    SegmentPatch,
    SegmentRoom,
    SegmentUse,
    Sort,
    Tenant,
)
from core.sent_forms import expression_digest, sent_form
from core.service import SegmentService, check_name, require_admin
from core.store import Store

EXT = "unleash"
MAX_ID = 2**63
"""Integer ids are 64-bit in both stores."""
_PAGE = 1000
_ROOMS = 1024
"""Tenants whose room a process keeps (see ``ConstraintSegmentService.create``)."""
_ROOM_WEIGHT = 1024
"""What a kept room weighs beside its settings' text, in bytes."""
_NAME_ORDER = (Sort("name"),)
# The order real Unleash stores constraint keys in (PostgreSQL jsonb: by length, then bytes).
_KEY_ORDER = ("value", "values", "inverted", "operator", "contextName", "caseInsensitive")

__all__ = ["ConstraintSegment", "ConstraintSegmentService", "SchemaInvalid", "SegmentInput"]


class SegmentInput(msgspec.Struct, frozen=True, kw_only=True):
    """A create or a full update (PUT): ``description`` UNSET keeps the old one on update."""

    name: str
    constraints: list[dict[str, Any]]
    description: str | msgspec.UnsetType | None = msgspec.UNSET
    project: str | None = None
    seq: int | None = None


class ConstraintSegment(msgspec.Struct, frozen=True, kw_only=True):
    segment: Segment
    constraints: list[dict[str, Any]]
    project: str | None = None
    used_in_projects: int = 0
    used_in_flags: int = 0


def stored_form(constraints: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Constraints as Unleash stores them: ``values`` always present, keys in jsonb order."""
    out = []
    for c in constraints:
        full = {"values": [], **c}
        out.append({k: full[k] for k in sorted(full, key=lambda k: (len(k), k))})
    return out


def constraints_of(segment: Segment) -> list[dict[str, Any]]:
    """The constraint list that says exactly what the segment says, or ``NotExpressible``."""
    if segment.kind == "static":
        raise NotExpressible(LANGUAGE, "a static segment (a list of members) has no constraints")
    check_condition_only(segment, LANGUAGE, "Unleash constraints")
    ext = segment.extensions.get(EXT) or {}
    found, kept = sent_form(ext, "constraints", "expressionHash", segment.expression)
    if found and isinstance(kept, list):
        return kept
    expr = ast.decode(segment.expression) if segment.expression is not None else None
    return stored_form(render_constraints(expr))


def _expressible(segment: Segment) -> Segment:
    """The segment, if constraints can express it: otherwise it is as absent as an unknown one,
    with the reason in the message."""
    try:
        constraints_of(segment)
    except NotExpressible as exc:
        key = str(segment.seq)
        raise NotFound(
            "segment", key, f"segment {key} cannot be shown as constraints: {exc.reason}"
        ) from exc
    return segment


def _valid_name(name: str) -> None:
    if not name:
        raise Invalid("name", "Segment name cannot be empty")
    check_name(name)  # what create would refuse is not a valid name


def project_of(segment: Segment) -> str | None:
    project = (segment.extensions.get(EXT) or {}).get("project")
    return project if isinstance(project, str) else None


def _view(segment: Segment, usage: tuple[int, int] = (0, 0)) -> ConstraintSegment:
    return ConstraintSegment(
        segment=segment,
        constraints=constraints_of(segment),
        project=project_of(segment),
        used_in_projects=usage[0],
        used_in_flags=usage[1],
    )


class ConstraintSegmentService:
    def __init__(self, store: Store, limits: ConstraintLimits | None = None) -> None:
        self.store = store
        self.segments = SegmentService(store)
        self.limits = limits or ConstraintLimits()
        self._rooms: Bounded[str, SegmentRoom] = Bounded(
            capacity=_ROOMS, max_bytes=_ROOMS * 4 * _ROOM_WEIGHT
        )
        """Each tenant's room as this process last read it, for guarded creates."""

    def _limits(self, tenant: Tenant) -> ConstraintLimits:
        """The process's limits, overridden per tenant by ``settings["limits"]``."""
        override = tenant.settings.get("limits")
        if isinstance(override, dict):
            fields = {k: v for k, v in override.items() if k in ConstraintLimits.__struct_fields__}
            return msgspec.structs.replace(self.limits, **fields)
        return self.limits

    # reads ---------------------------------------------------------------------------------
    async def list_segments(self, principal: Principal) -> list[ConstraintSegment]:
        """Every segment of the principal's sandbox that constraints can express, by name in
        byte order, with how many projects and flags use it."""
        require_admin(principal)
        usage = await self.store.segment_usage(principal.tenant)
        out: list[ConstraintSegment] = []
        offset = 0
        while True:
            page = await self.store.list_segments(
                principal.tenant,
                sandbox=principal.default_sandbox,
                offset=offset,
                limit=_PAGE,
                sort=_NAME_ORDER,
            )
            for segment in page.items:
                try:
                    out.append(_view(segment, usage.get(segment.id, (0, 0))))
                except NotExpressible:
                    continue  # shown by the dialects that can say it, never widened here
            offset += _PAGE
            if offset >= page.total or not page.items:
                return out

    async def get(self, principal: Principal, seq: int) -> ConstraintSegment:
        require_admin(principal)
        return _view(await self._segment(principal, seq))

    async def _segment(self, principal: Principal, seq: int) -> Segment:
        """The segment with this integer id in the principal's sandbox, if constraints can
        express it (:func:`_expressible`)."""
        if seq < 1 or seq >= MAX_ID:
            raise NotFound("segment", str(seq))
        segment = await self.segments.get(principal, "seq", seq, sandbox=principal.default_sandbox)
        return _expressible(segment)

    async def uses(self, principal: Principal, seq: int) -> list[SegmentUse]:
        require_admin(principal)
        segment = await self._segment(principal, seq)
        return await self.store.segment_uses(principal.tenant, segment.id)

    # writes --------------------------------------------------------------------------------
    async def validate_name(self, principal: Principal, name: str) -> None:
        require_admin(principal)
        _valid_name(name)
        if await self.store.find_segment_id(principal.tenant, principal.default_sandbox, name):
            raise Conflict("name", "Segment name already exists")

    async def create(self, principal: Principal, data: SegmentInput) -> ConstraintSegment:
        require_admin(principal)
        if data.seq is not None and data.seq >= MAX_ID:
            raise Invalid("id", f"must be less than {MAX_ID}")
        created = await self._create_as_known(principal, data)
        if created is not None:
            return created
        # The tenant's limits in one read, then the checks in Unleash's order; the sandbox's
        # segments are counted only when the tenant could have reached its limit (a count
        # reads them all: O(segments) on every create otherwise).
        room = await self.store.segment_room(principal.tenant)
        self._rooms.put(principal.tenant, room, _ROOM_WEIGHT + len(room.stored_settings))
        limits = self._limits(room.tenant)
        if room.segments_at_most >= limits.segments and (
            await self.store.count_segments(principal.tenant, principal.default_sandbox)
            >= limits.segments
        ):
            raise ResourceLimit("segment", limits.segments)
        return _view(await self._insert(principal, data, limits, None))

    async def _create_as_known(
        self, principal: Principal, data: SegmentInput
    ) -> ConstraintSegment | None:
        """The create checked against the tenant as this process last read it, the insert
        guarded by what those checks relied on (its settings, so its limits; its next seq not
        above its limit): one statement instead of a read and a write. None when the process
        knows no room of the tenant, or one near its limit, or when this refused: a refusal
        may come from a stale reading, so the answer is then the one a fresh read gives."""
        known = self._rooms.get(principal.tenant)
        if known is None:
            return None
        limits = self._limits(known.tenant)
        if known.segments_at_most >= limits.segments:
            return None
        guard = RoomGuard(settings=known.stored_settings, next_seq_at_most=limits.segments)
        try:
            created = await self._insert(principal, data, limits, guard)
        except (RoomChanged, Conflict, Invalid, NotFound, NotExpressible):
            return None
        return _view(created)

    async def _insert(
        self,
        principal: Principal,
        data: SegmentInput,
        limits: ConstraintLimits,
        guard: RoomGuard | None,
    ) -> Segment:
        """A create's checks after the segment limit's, in Unleash's order, and the write."""
        expression = self._checked(data, limits)
        _valid_name(data.name)
        async with self._name_first(principal, data.name):
            await self._check_project(principal, data.project)
            constraints = stored_form(data.constraints)
            new = NewSegment(
                name=data.name,
                sandbox=principal.default_sandbox,
                description=data.description if isinstance(data.description, str) else None,
                expression=expression,
                seq=data.seq,
                extensions={EXT: self._extension(data.project, constraints, expression)},
            )
            return await self.segments.create(principal, new, guard=guard)

    async def update(self, principal: Principal, seq: int, data: SegmentInput) -> None:
        require_admin(principal)
        # The tenant's limits and the segment in one read (seq 0 is none), then the checks in
        # the order of their own reads: limits, the segment, the name.
        found = await self.store.segment_to_update(
            principal.tenant, seq if 1 <= seq < MAX_ID else 0
        )
        expression = self._checked(data, self._limits(found.tenant))
        if found.segment is None or found.segment.sandbox != principal.default_sandbox:
            raise NotFound("segment", str(seq))
        segment = _expressible(found.segment)
        if data.name == segment.name:
            await self._write_update(principal, segment, data, expression)
            return
        _valid_name(data.name)
        async with self._name_first(principal, data.name):
            await self._write_update(principal, segment, data, expression)

    async def _write_update(
        self, principal: Principal, segment: Segment, data: SegmentInput, expression: bytes | None
    ) -> None:
        """The checks an update makes after the name's (the project's), and the write."""
        if data.project is not None:
            uses = await self.store.segment_uses(principal.tenant, segment.id)
            projects = sorted({u.project for u in uses})
            if len(projects) > 1 or (projects and projects != [data.project]):
                raise Invalid(
                    "project",
                    "Invalid project. Segment is being used by strategies in other projects: "
                    + ", ".join(projects),
                )
        await self._check_project(principal, data.project)
        constraints = stored_form(data.constraints)
        extensions = {
            **segment.extensions,
            EXT: self._extension(data.project, constraints, expression),
        }
        patch = SegmentPatch(
            name=data.name,
            description=data.description,
            expression=expression,
            extensions=extensions,
        )
        await self.segments.update(
            principal, segment.id, patch, sandbox=principal.default_sandbox, current=segment
        )

    async def delete(self, principal: Principal, seq: int) -> None:
        require_admin(principal)
        segment = await self._segment(principal, seq)
        await self.segments.delete(principal, segment.id, sandbox=principal.default_sandbox)

    # helpers -------------------------------------------------------------------------------
    @asynccontextmanager
    async def _name_first(self, principal: Principal, name: str) -> AsyncIterator[None]:
        """Unleash refuses a taken name before anything it checks later (the project, what the
        segment service refuses). The write's unique key decides whether the name is taken, not
        a read before it: on a table the planner has no statistics of (a new database, until
        autovacuum analyzes it), that read was planned as a scan of the tenant's segments
        (``segments_by_created`` with the name as a filter, a cost tie with ``segments_name``):
        O(n) per create. So the name is read only when a later check refused, to answer the
        name's conflict first as Unleash does (not when the store is unavailable: a refusal of
        the request's content only)."""
        try:
            yield
        except Conflict as exc:
            if exc.field == "name":
                raise Conflict("name", "Segment name already exists") from exc
            await self._refuse_taken_name(principal, name, exc)
            raise
        except (Invalid, NotFound, NotExpressible) as exc:
            await self._refuse_taken_name(principal, name, exc)
            raise

    async def _refuse_taken_name(self, principal: Principal, name: str, cause: CoreError) -> None:
        if await self.store.find_segment_id(principal.tenant, principal.default_sandbox, name):
            raise Conflict("name", "Segment name already exists") from cause

    @staticmethod
    def _checked(data: SegmentInput, limits: ConstraintLimits) -> bytes | None:
        """Unleash's order after its schema: fields, each constraint, the values limit; then
        the parse into the canonical expression."""
        check_segment_fields(data.name, data.constraints)
        check_constraints(data.constraints)
        check_segment_values(data.constraints, limits.segment_values)
        expr = to_expression(data.constraints)
        return None if expr is None else ast.encode(expr)

    async def _check_project(self, principal: Principal, project: str | None) -> None:
        if project is None:
            return
        try:
            await self.store.get_project(principal.tenant, project)
        except NotFound as exc:
            raise Invalid("project", f'Project "{project}" does not exist') from exc

    @staticmethod
    def _extension(
        project: str | None, constraints: list[dict[str, Any]], expression: bytes | None
    ) -> dict[str, Any]:
        return {
            "project": project,
            "constraints": constraints,
            "expressionHash": expression_digest(expression),
        }
