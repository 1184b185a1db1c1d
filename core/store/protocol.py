"""The store protocol: everything the use cases need from persistence.

Two backends implement it (``sqlite`` and ``postgres``) and pass one contract suite
(``tests/store``). Rules the protocol promises, whatever the backend:

* Every call is scoped by tenant; no call returns or changes another tenant's rows.
* Uniqueness (segment name per tenant+sandbox, seq and slug per tenant, token hash) is enforced by
  the database, never by read-then-write; a violation raises ``Conflict(field)``.
* Every write bumps ``version`` and ``updated_at`` in the same statement.
* A lost connection raises ``Unavailable``; driver errors never leak out.
"""

from __future__ import annotations

from typing import Literal, Protocol

from core.model import NewSegment, Page, Principal, Segment, SegmentPatch, Sort, Tenant, TokenInfo

SegmentKey = Literal["id", "seq", "slug"]


class Store(Protocol):
    url: str

    async def close(self) -> None:
        """Release connections. The store is unusable afterwards."""

    async def ping(self) -> None:
        """Return when the database answers; raise ``Unavailable`` otherwise."""

    # tenants -------------------------------------------------------------------------------
    async def ensure_tenant(self, name: str) -> Tenant:
        """Create the tenant (default sandbox ``prod``) unless it exists; return it."""

    async def get_tenant(self, name: str) -> Tenant:
        """The tenant, or ``NotFound``."""

    async def update_tenant_settings(self, name: str, settings: dict[str, object]) -> Tenant:
        """Merge ``settings`` into the tenant's settings."""

    # tokens --------------------------------------------------------------------------------
    async def add_token(
        self, *, token_hash: str, tenant: str, scope: str, name: str, client_id: str | None = None
    ) -> TokenInfo:
        """Store a token by its hash (the secret itself is never stored)."""

    async def principal_for(self, token_hash: str) -> Principal | None:
        """Who holds the token with this hash, or None."""

    async def list_tokens(self, tenant: str | None = None) -> list[TokenInfo]:
        """Stored tokens (without secrets), optionally of one tenant, oldest first."""

    async def revoke_token(self, token_id: str) -> None:
        """Delete a token by its id; ``NotFound`` if there is none."""

    async def count_tokens(self) -> int:
        """How many tokens exist (all tenants): start-up uses it to seed a first one."""

    # segments ------------------------------------------------------------------------------
    async def create_segment(self, tenant: str, new: NewSegment, actor: str | None) -> Segment:
        """Insert a segment. ``seq``/``slug``/``id`` are generated unless given; a given ``seq``
        moves the tenant's sequence above it. ``Conflict("name"|"seq"|"slug"|"id")``."""

    async def get_segment(self, tenant: str, key: SegmentKey, value: str | int) -> Segment:
        """One segment by id (UUID), seq or slug; ``NotFound`` otherwise."""

    async def list_segments(
        self,
        tenant: str,
        *,
        sandbox: str | None,
        offset: int = 0,
        limit: int = 100,
        sort: tuple[Sort, ...] = (),
    ) -> Page:
        """A page of segments (all sandboxes when ``sandbox`` is None), ordered by ``sort`` and
        then by id, with the total count of matching rows."""

    async def update_segment(
        self,
        tenant: str,
        segment_id: str,
        patch: SegmentPatch,
        actor: str | None,
        *,
        if_version: int | None = None,
    ) -> Segment:
        """Apply ``patch``; bump version and ``updated_at``. With ``if_version``, refuse with
        ``Conflict("version")`` when the stored version differs. ``NotFound``, ``Conflict``."""

    async def delete_segment(self, tenant: str, segment_id: str) -> None:
        """Delete a segment; ``NotFound`` if it does not exist."""

    async def count_segments(self, tenant: str, sandbox: str | None = None) -> int:
        """How many segments the tenant has (in one sandbox, or in all)."""
