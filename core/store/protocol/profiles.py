"""The store protocol: profiles (HAL's individuals), pages of them and static memberships."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from core.expr.ast import Expr
from core.expr.sql_refs import SqlRefs
from core.model import Profile, ProfilePage, ProfileSort


class ProfileStore(Protocol):
    # profiles (HAL's individuals) and static memberships ------------------------------------
    async def create_profile(
        self, tenant: str, sandbox: str, identifier: str, attributes: dict[str, Any]
    ) -> Profile:
        """Insert a profile; ``Conflict("identifier")`` if the sandbox has one with this
        identifier, ``NotFound("tenant")``."""

    async def get_profile(self, tenant: str, sandbox: str, identifier: str) -> Profile:
        """One profile, or ``NotFound("individual")``."""

    async def replace_profile(
        self, tenant: str, sandbox: str, identifier: str, attributes: dict[str, Any]
    ) -> Profile:
        """Replace the attributes; bump version and ``updated_at``. ``NotFound``."""

    async def delete_profile(self, tenant: str, sandbox: str, identifier: str) -> None:
        """Delete a profile and its memberships; ``NotFound`` if there is none."""

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
        """A page of the sandbox's profiles that satisfy every condition of ``where``
        (evaluated by the database; ``refs`` says what the segments its references name mean,
        ``core.expr.sql_refs``) and, with ``member_of``, are stored members of that
        segment; ordered by ``sort`` then identifier (default: creation, then identifier), with
        the total count. One query for the page and its total; a page past the end (no row
        to carry the total) adds a count."""

    async def add_membership(self, tenant: str, segment_id: str, identifier: str) -> None:
        """Store a profile (of the segment's sandbox) as a member of a static segment; a
        repeated membership is a no-op. ``NotFound("segment"|"individual")``,
        ``Conflict("kind")`` when the segment is not static."""

    async def remove_membership(self, tenant: str, segment_id: str, identifier: str) -> None:
        """Remove a stored membership; ``NotFound("membership")`` if there is none."""

    async def segments_of_profile(
        self,
        tenant: str,
        sandbox: str,
        identifier: str,
        conditions: Mapping[str, Expr | None],
        refs: Mapping[str, SqlRefs] | None = None,
    ) -> set[str]:
        """Ids of the static segments the profile is a stored member of, and of the
        ``conditions`` (segment id -> condition, None = everyone) it satisfies, evaluated by the
        database (``refs``: per segment id, what its references mean; a condition the database
        cannot take is evaluated in Python with the same meaning). ``NotFound("individual")``."""

    async def static_memberships(self, tenant: str, identifier: str) -> set[str]:
        """Ids of the tenant's static segments (any sandbox) that hold a profile called
        ``identifier`` as a stored member; empty when there is none."""
