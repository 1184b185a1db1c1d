"""Profile (individual) use cases: create, read, list, replace and delete individuals; the
members of a segment; the stored members of static segments; the segments of an individual.

Membership is never computed in Python: a dynamic segment's members are the profiles its
condition selects in the database (``Store.list_profiles``), a static segment's are the stored
ones, and an individual's segments are evaluated by the database in one statement per batch.
A condition naming other segments (``inSegment``) is compiled with what each named segment
means (``core.segment_links.sql_refs``): its condition in place, its stored members, or no one.
A sandbox (HAL's ``{projectId}``) exists once something is written to it; reading one that has
nothing is an empty sandbox, not an error.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from core.errors import Invalid, NotFound
from core.expr import ast
from core.expr.ast import Expr
from core.expr.limits import check_condition
from core.model import (
    Page,
    Principal,
    Profile,
    ProfilePage,
    ProfileSort,
    Segment,
    new_slug,
)
from core.segment_links import sql_refs
from core.segment_views import (
    SegmentView,
    SegmentViews,
    check_sandbox,
    check_window,
    sort_by_fields,
)
from core.service import MAX_OFFSET, require_admin
from core.store import Store

IDENTIFIER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@:+-]{0,254}$")
"""Individual identifiers: safe in a URL path segment without escaping (``/`` excluded)."""
MAX_SORT_KEYS = 10
MAX_PATH_STEPS = 32


class NotStatic(Invalid):
    """Memberships are stored only for static segments (dynamic ones are computed)."""

    def __init__(self, slug: str, action: str) -> None:
        super().__init__("segment", f"segment {slug!r} is dynamic: memberships cannot be {action}")
        self.action = action


def check_identifier(identifier: str) -> None:
    if not IDENTIFIER_RE.match(identifier):
        raise Invalid(
            "identifier",
            "must be 1 to 255 of A-Z a-z 0-9 _ . @ : + -, starting with a letter or digit",
        )


def findable(identifier: str) -> str:
    """An identifier no individual can have (create checks them) is simply not found, without
    asking the store (PostgreSQL cannot even compare text with NUL in it)."""
    if not IDENTIFIER_RE.match(identifier):
        raise NotFound("individual", identifier.replace("\x00", "\\0"))
    return identifier


def check_attributes(attributes: dict[str, Any]) -> None:
    """JSON both stores keep exactly: no NUL in keys or strings (PostgreSQL's jsonb refuses it;
    SQLite would keep it, and the two must agree)."""
    stack: list[Any] = [attributes]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                if "\x00" in key:
                    raise Invalid("attributes", "keys must not contain NUL characters")
                stack.append(item)
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str) and "\x00" in value:
            raise Invalid("attributes", "strings must not contain NUL characters")


def check_sort(sort: Sequence[ProfileSort]) -> None:
    if len(sort) > MAX_SORT_KEYS:
        raise Invalid("sort", f"at most {MAX_SORT_KEYS} sort keys")
    for s in sort:
        if s.column is None and not 1 <= len(s.path) <= MAX_PATH_STEPS:
            raise Invalid("sort", f"an attribute path has 1 to {MAX_PATH_STEPS} steps")
        if any(step == "" or "\x00" in step for step in s.path):
            raise Invalid("sort", "attribute path steps must be non-empty names")


def condition(segment: Segment) -> Expr | None:
    return ast.decode(segment.expression) if segment.expression is not None else None


class ProfileService:
    def __init__(self, store: Store, views: SegmentViews) -> None:
        self.store = store
        self.views = views

    # individuals ---------------------------------------------------------------------------
    async def create(
        self,
        principal: Principal,
        sandbox: str,
        identifier: str | None,
        attributes: dict[str, Any],
    ) -> Profile:
        require_admin(principal)
        check_sandbox(sandbox)
        if identifier is not None:
            check_identifier(identifier)
        check_attributes(attributes)
        return await self.store.create_profile(
            principal.tenant, sandbox, identifier or new_slug(), attributes
        )

    async def get(self, principal: Principal, sandbox: str, identifier: str) -> Profile:
        check_sandbox(sandbox)
        return await self.store.get_profile(principal.tenant, sandbox, findable(identifier))

    async def replace(
        self, principal: Principal, sandbox: str, identifier: str, attributes: dict[str, Any]
    ) -> Profile:
        require_admin(principal)
        check_sandbox(sandbox)
        check_attributes(attributes)
        return await self.store.replace_profile(
            principal.tenant, sandbox, findable(identifier), attributes
        )

    async def delete(self, principal: Principal, sandbox: str, identifier: str) -> None:
        require_admin(principal)
        check_sandbox(sandbox)
        await self.store.delete_profile(principal.tenant, sandbox, findable(identifier))

    async def list(
        self,
        principal: Principal,
        sandbox: str,
        *,
        where: Expr | None = None,
        offset: int = 0,
        limit: int = 20,
        sort: Sequence[ProfileSort] = (),
    ) -> ProfilePage:
        check_sandbox(sandbox)
        check_window(offset, limit)
        check_sort(sort)
        check_condition(where)  # the database evaluates it: the size rule of stored ones
        return await self.store.list_profiles(
            principal.tenant,
            sandbox,
            where=() if where is None else (where,),
            offset=min(offset, MAX_OFFSET),
            limit=limit,
            sort=sort,
        )

    # a segment's members -------------------------------------------------------------------
    async def members(
        self,
        principal: Principal,
        view: SegmentView,
        sandbox: str,
        slug: str,
        *,
        where: Expr | None = None,
        offset: int = 0,
        limit: int = 20,
        sort: Sequence[ProfileSort] = (),
    ) -> ProfilePage:
        """The individuals in a segment: its stored members when static, the profiles its
        condition selects when dynamic (None = every profile of the sandbox); ``where``
        narrows either further. One query for the page and its total (a page past the
        end adds a count)."""
        check_sandbox(sandbox)
        check_window(offset, limit)
        check_sort(sort)
        check_condition(where)
        segment = await self.views.get(principal, view, sandbox, slug)
        static = segment.kind == "static"
        conditions = [e for e in (None if static else condition(segment), where) if e is not None]
        refs = await sql_refs(self.store, principal.tenant, conditions, own=segment.slug)
        return await self.store.list_profiles(
            principal.tenant,
            sandbox,
            where=conditions,
            member_of=segment.id if static else None,
            offset=min(offset, MAX_OFFSET),
            limit=limit,
            sort=sort,
            refs=refs,
        )

    async def add_member(
        self, principal: Principal, view: SegmentView, sandbox: str, slug: str, identifier: str
    ) -> None:
        require_admin(principal)
        check_sandbox(sandbox)
        segment = await self.views.get(principal, view, sandbox, slug)
        if segment.kind != "static":
            raise NotStatic(slug, "added")
        await self.store.add_membership(principal.tenant, segment.id, findable(identifier))

    async def remove_member(
        self, principal: Principal, view: SegmentView, sandbox: str, slug: str, identifier: str
    ) -> None:
        require_admin(principal)
        check_sandbox(sandbox)
        segment = await self.views.get(principal, view, sandbox, slug)
        if segment.kind != "static":
            raise NotStatic(slug, "removed")
        await self.store.get_profile(principal.tenant, sandbox, findable(identifier))
        await self.store.remove_membership(principal.tenant, segment.id, identifier)

    # an individual's segments --------------------------------------------------------------
    async def segments_of(
        self,
        principal: Principal,
        view: SegmentView,
        sandbox: str,
        identifier: str,
        *,
        offset: int = 0,
        limit: int = 20,
        sort: Sequence[tuple[str, bool]] = (),
    ) -> Page:
        """The shown segments of the sandbox the individual belongs to (stored member of a
        static one, or selected by a dynamic one's condition), oldest first."""
        check_sandbox(sandbox)
        check_window(offset, limit)
        findable(identifier)
        shown = await self.views.all_shown(principal, view, sandbox)
        conditions = {s.id: condition(s) for s in shown if s.kind != "static"}
        refs = await sql_refs(self.store, principal.tenant, conditions.values())
        own = (
            {}
            if refs is None
            else {s.id: replace(refs, own=s.slug) for s in shown if s.id in conditions}
        )
        matched = await self.store.segments_of_profile(
            principal.tenant, sandbox, identifier, conditions, own
        )
        items = sort_by_fields([s for s in shown if s.id in matched], view, sort)
        return Page(items=items[offset : offset + limit], total=len(items))
