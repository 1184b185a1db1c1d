"""Segments as one dialect's language sees them.

A dialect whose condition language cannot say every condition (OData for HAL) shows a segment
only when its condition renders exactly; it never shows a weaker one. The dialect supplies a
*projection* (segment -> the fields it shows, raising ``NotExpressible`` when it cannot show the
segment); these use cases leave hidden segments out of lists, answer ``Hidden`` (a ``NotFound``
with the reason) on their detail, and filter and sort lists on the projected fields.

Filters and sorts over segments run here, not in SQL: whether a segment is shown at all is only
known after rendering, so the listing is computed over the sandbox's segments (a few thousand at
most; projections are cached per segment version, so a list does not re-render).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from core.bounded import MB, SLOT_BYTES, STRING_BYTES, Versioned, shape_weight
from core.errors import Invalid, NotExpressible, NotFound
from core.expr.ast import Expr
from core.expr.evaluate import compile_expr
from core.model import NewSegment, Page, Principal, Segment, SegmentPatch, Sort
from core.service import MAX_PAGE_SIZE, SegmentService, require_admin
from core.store import Store

Projection = Callable[[Segment], Mapping[str, Any]]
FieldSort = tuple[str, bool]
"""(projected field, descending)."""
_READ_PAGE = 1000
SANDBOX_RE = re.compile(r"^[a-z0-9-]{1,64}$")
"""Sandbox names, as Adobe's ``x-sandbox-name`` takes them (one namespace for every dialect)."""
MAX_SEGMENTS_LISTED = 100_000
"""A sandbox with more segments than this is refused rather than scanned."""


PROJECTION_MAX_BYTES = 32 * MB
"""Each view's kept projections, counted by :func:`~core.bounded.shape_weight`."""
_KEY_BYTES = 2 * STRING_BYTES + 56 + 56 + 32
"""A key beyond its characters: the two strings (tenant, id), the key's tuple, the (version,
projection) pair and the version."""


class Hidden(NotFound):
    """The segment exists but this dialect cannot show its condition exactly."""

    def __init__(self, key: str, language: str, reason: str) -> None:
        super().__init__(
            "segment",
            key,
            f"segment {key!r} cannot be shown here: its condition is not "
            f"expressible in {language} ({reason})",
        )
        self.language = language
        self.reason = reason


class SegmentView:
    """One dialect's projection of segments, cached per segment (tenant, id) and stamped with
    the version it was rendered from: a stale projection is never used, and an update's
    projection replaces the older one (:class:`~core.bounded.Versioned`), so a segment holds
    one entry however often it is written. The bound is in bytes as counted by
    :func:`~core.bounded.shape_weight` (an upper estimate of what the dicts and strings hold)."""

    def __init__(
        self,
        language: str,
        project: Projection,
        capacity: int = 50_000,
        max_bytes: int = PROJECTION_MAX_BYTES,
    ) -> None:
        self.language = language
        self._project = project
        self._cache: Versioned[tuple[str, str], Mapping[str, Any] | NotExpressible] = Versioned(
            capacity=capacity, max_bytes=max_bytes
        )

    def fields(self, segment: Segment) -> Mapping[str, Any]:
        """The projected fields, or ``Hidden`` when the dialect cannot show the segment."""
        key = (segment.tenant, segment.id)
        found = self._cache.get(key, segment.version)
        if found is None:
            try:
                found = self._project(segment)
            except NotExpressible as exc:
                found = exc
            weight = (
                SLOT_BYTES + len(found.reason) + STRING_BYTES + 512  # the exception object
                if isinstance(found, NotExpressible)
                else shape_weight(found)
            )
            key_weight = _KEY_BYTES + len(segment.tenant) + len(segment.id)
            self._cache.put(key, segment.version, found, weight + key_weight)
        if isinstance(found, NotExpressible):
            raise Hidden(segment.slug, self.language, found.reason)
        return found

    @property
    def cache(self) -> Versioned[tuple[str, str], Mapping[str, Any] | NotExpressible]:
        """The kept projections (their count and bytes: tests and the memory figures)."""
        return self._cache

    def shows(self, segment: Segment) -> bool:
        try:
            self.fields(segment)
        except Hidden:
            return False
        return True


def sort_by_fields(
    items: list[Segment], view: SegmentView, sort: Sequence[FieldSort]
) -> list[Segment]:
    """Stable multi-key sort on projected fields; a missing (None) value sorts last either way."""
    for field, descending in reversed(sort):
        present = [s for s in items if view.fields(s).get(field) is not None]
        absent = [s for s in items if view.fields(s).get(field) is None]

        def key(segment: Segment, field: str = field) -> Any:
            return view.fields(segment)[field]

        present.sort(key=key, reverse=descending)
        items = present + absent
    return items


class SegmentViews:
    """Get, list, create, update and delete segments through a dialect's view, in a sandbox."""

    def __init__(self, store: Store, segments: SegmentService) -> None:
        self.store = store
        self.segments = segments

    async def get(
        self, principal: Principal, view: SegmentView, sandbox: str, slug: str
    ) -> Segment:
        check_sandbox(sandbox)
        segment = await self.segments.get(principal, "slug", slug, sandbox=sandbox)
        view.fields(segment)
        return segment

    async def all_shown(
        self, principal: Principal, view: SegmentView, sandbox: str
    ) -> list[Segment]:
        """Every segment of the sandbox the view shows, oldest first (then by id)."""
        shown: list[Segment] = []
        offset = 0
        while True:
            page = await self.store.list_segments(
                principal.tenant,
                sandbox=sandbox,
                offset=offset,
                limit=_READ_PAGE,
                sort=(Sort("created_at"),),
            )
            shown += [s for s in page.items if view.shows(s)]
            offset += _READ_PAGE
            if offset >= min(page.total, MAX_SEGMENTS_LISTED) or not page.items:
                return shown

    async def list(
        self,
        principal: Principal,
        view: SegmentView,
        sandbox: str,
        *,
        where: Expr | None = None,
        sort: Sequence[FieldSort] = (),
        offset: int = 0,
        limit: int = 20,
    ) -> Page:
        """A page of the shown segments whose projection satisfies ``where``, sorted by
        ``sort`` (then by creation and id), with the total count of those."""
        check_sandbox(sandbox)
        check_window(offset, limit)
        matches = compile_expr(where)
        items = [
            s for s in await self.all_shown(principal, view, sandbox) if matches(view.fields(s))
        ]
        items = sort_by_fields(items, view, sort)
        return Page(items=items[offset : offset + limit], total=len(items))

    async def create(self, principal: Principal, new: NewSegment) -> Segment:
        require_admin(principal)
        check_sandbox(new.sandbox)
        return await self.segments.create(principal, new)

    async def update(
        self,
        principal: Principal,
        view: SegmentView,
        sandbox: str,
        slug: str,
        patch: SegmentPatch,
    ) -> Segment:
        require_admin(principal)
        segment = await self.get(principal, view, sandbox, slug)
        return await self.segments.update(principal, segment.id, patch, sandbox=sandbox)

    async def delete(
        self, principal: Principal, view: SegmentView, sandbox: str, slug: str
    ) -> None:
        require_admin(principal)
        segment = await self.get(principal, view, sandbox, slug)
        await self.segments.delete(principal, segment.id, sandbox=sandbox)


def check_sandbox(sandbox: str) -> None:
    if not SANDBOX_RE.match(sandbox):
        raise Invalid("sandbox", "must match ^[a-z0-9-]{1,64}$")


def check_window(offset: int, limit: int) -> None:
    if offset < 0:
        raise Invalid("offset", "must not be negative")
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise Invalid("limit", f"must be between 1 and {MAX_PAGE_SIZE}")
