"""Segment use cases: the rules every dialect goes through.

A dialect decodes its wire format, calls one function here and encodes the result. Rules that
hold whatever the dialect (who may write, what a name may be, which sandbox is visible) live here.
"""

from __future__ import annotations

from core.errors import Forbidden, Invalid, NotFound
from core.model import (
    MAX_NAME,
    SLUG_RE,
    NewSegment,
    Page,
    Principal,
    Segment,
    SegmentPatch,
    Sort,
)
from core.store import SegmentKey, Store

MAX_PAGE_SIZE = 1000
MAX_OFFSET = 2**62
"""Offsets beyond this are clamped: no store holds that many rows, and larger numbers overflow
the databases' 64-bit integers."""


def require_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise Forbidden("this token may not change segments")


def check_text(field: str, value: str | None, *, max_len: int) -> None:
    """Text the stores can keep exactly: bounded, and without NUL (PostgreSQL refuses it)."""
    if value is None:
        return
    if len(value) > max_len:
        raise Invalid(field, f"must be at most {max_len} characters")
    if "\x00" in value:
        raise Invalid(field, "must not contain NUL characters")


def check_name(name: str) -> None:
    if name == "":
        raise Invalid("name", "must not be empty")
    check_text("name", name, max_len=MAX_NAME)


def check_new(new: NewSegment) -> None:
    check_name(new.name)
    check_text("description", new.description, max_len=64 * 1024)
    check_text("owner", new.owner, max_len=1024)
    check_text("sandbox", new.sandbox, max_len=255)
    if new.slug is not None and not SLUG_RE.match(new.slug):
        raise Invalid("slug", "must match ^[a-z0-9-]{4,63}$")
    if new.seq is not None and new.seq < 1:
        raise Invalid("seq", "must be an integer of at least 1")


def check_patch(patch: SegmentPatch) -> None:
    if isinstance(patch.name, str):
        check_name(patch.name)
    if isinstance(patch.description, str):
        check_text("description", patch.description, max_len=64 * 1024)
    if isinstance(patch.owner, str):
        check_text("owner", patch.owner, max_len=1024)


class SegmentService:
    """Create, read, list, update and delete segments on behalf of a principal."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def create(self, principal: Principal, new: NewSegment) -> Segment:
        require_admin(principal)
        check_new(new)
        return await self.store.create_segment(principal.tenant, new, principal.token_name)

    async def get(
        self,
        principal: Principal,
        key: SegmentKey,
        value: str | int,
        *,
        sandbox: str | None = None,
    ) -> Segment:
        """One segment of the principal's tenant; with ``sandbox``, only if it lives there (a
        segment of another sandbox is as absent as another tenant's)."""
        segment = await self.store.get_segment(principal.tenant, key, value)
        if sandbox is not None and segment.sandbox != sandbox:
            raise NotFound("segment", str(value))
        return segment

    async def list(
        self,
        principal: Principal,
        *,
        sandbox: str | None,
        offset: int = 0,
        limit: int = 100,
        sort: tuple[Sort, ...] = (),
    ) -> Page:
        if offset < 0:
            raise Invalid("offset", "must not be negative")
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise Invalid("limit", f"must be between 1 and {MAX_PAGE_SIZE}")
        return await self.store.list_segments(
            principal.tenant,
            sandbox=sandbox,
            offset=min(offset, MAX_OFFSET),
            limit=limit,
            sort=sort,
        )

    async def update(
        self,
        principal: Principal,
        segment_id: str,
        patch: SegmentPatch,
        *,
        sandbox: str | None = None,
        if_version: int | None = None,
    ) -> Segment:
        require_admin(principal)
        check_patch(patch)
        await self.get(principal, "id", segment_id, sandbox=sandbox)
        return await self.store.update_segment(
            principal.tenant, segment_id, patch, principal.token_name, if_version=if_version
        )

    async def delete(
        self, principal: Principal, segment_id: str, *, sandbox: str | None = None
    ) -> None:
        require_admin(principal)
        await self.get(principal, "id", segment_id, sandbox=sandbox)
        await self.store.delete_segment(principal.tenant, segment_id)
