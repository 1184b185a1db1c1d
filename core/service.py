"""Segment use cases: the rules every dialect goes through.

A dialect decodes its wire format, calls one function here and encodes the result. Rules that
hold whatever the dialect (who may write, what a name may be, which sandbox is visible) live here.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from core.errors import Conflict, Forbidden, Invalid, LimitExceeded, NotFound
from core.expr import ast
from core.expr.limits import check_condition
from core.model import (
    MAX_NAME,
    SLUG_RE,
    ExtensionTest,
    NewSegment,
    Page,
    Principal,
    RoomGuard,
    Segment,
    SegmentPatch,
    Sort,
)
from core.segment_links import resolve_refs
from core.sent_forms import carry_digests
from core.store import SegmentKey, Store

MAX_PAGE_SIZE = 1000
MAX_BULK_IDS = 1000
MAX_WRITE_ATTEMPTS = 5
MAX_OFFSET = 2**62
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
MAX_QUERY = 1024
"""Offsets beyond this are clamped: no store holds that many rows, and larger numbers overflow
the databases' 64-bit integers."""
STATIC_HAS_NO_CONDITION = "a static segment has a list of members, not a condition"


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


def check_no_nul(field: str, value: Any) -> None:
    """No NUL anywhere in a JSON value's strings (keys included): PostgreSQL's text and jsonb
    cannot hold it, and SQLite would keep what PostgreSQL refuses — refuse it on both."""
    if isinstance(value, str):
        if "\x00" in value:
            raise Invalid(field, "must not contain NUL characters")
    elif isinstance(value, dict):
        for key, item in value.items():
            check_no_nul(field, key)
            check_no_nul(field, item)
    elif isinstance(value, list | tuple):
        for item in value:
            check_no_nul(field, item)


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
    if new.kind == "static" and new.expression is not None:
        raise Invalid("expression", STATIC_HAS_NO_CONDITION)
    check_stored_condition(new.expression)


def check_stored_condition(expression: bytes | None) -> None:
    """The one size rule on a condition (``core.expr.limits.check_condition``), whichever
    language it was written in: every segment write passes here."""
    if expression is not None:
        check_condition(ast.decode(expression))


def kind_rule(current: Segment, patch: SegmentPatch) -> SegmentPatch:
    """A static segment has no condition: making a segment static drops its condition, and a
    condition cannot be given to a segment that stays static."""
    kind = current.kind if isinstance(patch.kind, msgspec.UnsetType) else patch.kind
    if kind != "static":
        return patch
    if isinstance(patch.expression, msgspec.UnsetType):
        if current.expression is None or current.kind == "static":
            return patch
        return msgspec.structs.replace(patch, expression=None)
    if patch.expression is not None:
        raise Invalid("expression", STATIC_HAS_NO_CONDITION)
    return patch


def check_patch(patch: SegmentPatch) -> None:
    if isinstance(patch.name, str):
        check_name(patch.name)
    if isinstance(patch.description, str):
        check_text("description", patch.description, max_len=64 * 1024)
    if isinstance(patch.owner, str):
        check_text("owner", patch.owner, max_len=1024)
    if isinstance(patch.expression, bytes):
        check_stored_condition(patch.expression)


class SegmentService:
    """Create, read, list, update and delete segments on behalf of a principal."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def create(
        self, principal: Principal, new: NewSegment, *, guard: RoomGuard | None = None
    ) -> Segment:
        """``guard``: see :meth:`core.store.protocol.SegmentStore.create_segment`."""
        require_admin(principal)
        check_new(new)
        expression = await resolve_refs(
            self.store, principal.tenant, new.expression, own=new.slug, field="expression"
        )
        extensions = carry_digests(new.extensions, new.expression, expression)
        new = msgspec.structs.replace(new, expression=expression, extensions=extensions)
        return await self.store.create_segment(
            principal.tenant, new, principal.token_name, guard=guard
        )

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
        tests: Sequence[ExtensionTest] = (),
    ) -> Page:
        """A page of segments; with ``tests``, only those whose extensions pass them all."""
        if offset < 0:
            raise Invalid("offset", "must not be negative")
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise Invalid("limit", f"must be between 1 and {MAX_PAGE_SIZE}")
        if tests:
            return await self.store.list_segments_where(
                principal.tenant,
                sandbox=sandbox,
                tests=tests,
                offset=min(offset, MAX_OFFSET),
                limit=limit,
                sort=sort,
            )
        return await self.store.list_segments(
            principal.tenant,
            sandbox=sandbox,
            offset=min(offset, MAX_OFFSET),
            limit=limit,
            sort=sort,
        )

    async def get_by_id(self, principal: Principal, segment_id: str) -> Segment:
        """One segment by its canonical (lower-case, hyphenated) UUID, in any sandbox."""
        if not UUID_RE.match(segment_id):
            raise NotFound("segment", segment_id)
        return await self.get(principal, "id", segment_id)

    async def browse(
        self, principal: Principal, *, cursor: str | None, limit: int, q: str | None = None
    ) -> tuple[Sequence[Segment], str | None]:
        """A page of the tenant's segments, oldest first, after ``cursor`` (the previous
        page's ``next``), names containing ``q`` (ignoring case); and the next page's cursor,
        None after the last."""
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise Invalid("limit", f"must be between 1 and {MAX_PAGE_SIZE}")
        if q is not None:
            check_text("q", q, max_len=MAX_QUERY)
        after = decode_cursor(cursor) if cursor is not None else None
        found = await self.store.segments_after(
            principal.tenant, after=after, limit=limit + 1, name_contains=q or None
        )
        items = found[:limit]
        more = len(found) > limit
        return items, encode_cursor(items[-1]) if more else None

    async def get_many(
        self, principal: Principal, ids: Sequence[str], *, sandbox: str | None = None
    ) -> Sequence[Segment]:
        """The segments of these ids (in ``sandbox``), in the order asked; others left out."""
        if len(ids) > MAX_BULK_IDS:
            raise LimitExceeded("ids", f"at most {MAX_BULK_IDS} ids per request")
        found = await self.store.get_segments(principal.tenant, ids)
        return [s for s in found if sandbox is None or s.sandbox == sandbox]

    async def update_with(
        self,
        principal: Principal,
        segment_id: str,
        build: Callable[[Segment], SegmentPatch],
        *,
        sandbox: str | None = None,
    ) -> Segment:
        """Read, ``build`` the patch from what is stored, write only if nothing changed in
        between (else read again): for patches that merge into stored values, such as a
        dialect's extensions, so a concurrent write is never lost."""
        require_admin(principal)
        for _ in range(MAX_WRITE_ATTEMPTS):
            current = await self.get(principal, "id", segment_id, sandbox=sandbox)
            patch = await self._with_refs(principal, current, build(current))
            try:
                return await self.store.update_segment(
                    principal.tenant,
                    segment_id,
                    patch,
                    principal.token_name,
                    if_version=current.version,
                )
            except Conflict as exc:
                if exc.field != "version":
                    raise
        raise Conflict("version", "the segment kept changing; try again")

    async def update(
        self,
        principal: Principal,
        segment_id: str,
        patch: SegmentPatch,
        *,
        sandbox: str | None = None,
        if_version: int | None = None,
        current: Segment | None = None,
    ) -> Segment:
        """``current``: the segment as the caller just read it (with ``sandbox``'s check), so
        it is not read again."""
        require_admin(principal)
        check_patch(patch)
        if current is None:
            current = await self.get(principal, "id", segment_id, sandbox=sandbox)
        patch = await self._with_refs(principal, current, kind_rule(current, patch))
        return await self.store.update_segment(
            principal.tenant, segment_id, patch, principal.token_name, if_version=if_version
        )

    async def _with_refs(
        self, principal: Principal, current: Segment, patch: SegmentPatch
    ) -> SegmentPatch:
        """``patch`` checked, its condition's segment references made canonical (and refused
        when they name no usable segment or lead back to ``current``)."""
        check_patch(patch)
        if not isinstance(patch.expression, bytes):
            return patch
        expression = await resolve_refs(
            self.store, principal.tenant, patch.expression, own=current.slug, field="expression"
        )
        if isinstance(patch.extensions, dict):
            extensions = carry_digests(patch.extensions, patch.expression, expression)
            return msgspec.structs.replace(patch, expression=expression, extensions=extensions)
        return msgspec.structs.replace(patch, expression=expression)

    async def delete(
        self, principal: Principal, segment_id: str, *, sandbox: str | None = None
    ) -> None:
        require_admin(principal)
        await self.get(principal, "id", segment_id, sandbox=sandbox)
        await self.store.delete_segment(principal.tenant, segment_id)


def encode_cursor(last: Segment) -> str:
    """An opaque cursor: the ``(created_at, id)`` key of a page's last segment."""
    raw = f"{last.created_at}.{last.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, segment_id = raw.split(".", 1)
        if not (created.isascii() and created.isdigit()) or not UUID_RE.match(segment_id):
            raise ValueError(raw)
        return int(created), segment_id
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Invalid("cursor", "not a cursor this API returned") from None
