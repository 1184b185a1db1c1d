"""The store protocol: the store itself (connections, schema), tenants and the tokens
that act for them (API tokens, OAuth clients' and their access tokens)."""

from __future__ import annotations

from typing import Protocol

from core.model import Principal, Tenant, TokenInfo
from core.store.migrations import SchemaStatus


class TenantStore(Protocol):
    url: str

    async def close(self) -> None:
        """Release connections. The store is unusable afterwards."""

    async def ping(self) -> None:
        """Return when the database answers; raise ``Unavailable`` otherwise."""

    async def migrate(self) -> list[str]:
        """Apply the pending migrations, one process at a time (the others wait, then find
        nothing pending); return the versions applied. ``SchemaTooNew`` for a store a later
        segmux upgraded, before anything is changed."""

    async def schema_status(self) -> SchemaStatus:
        """The migrations the store holds against the ones this code knows (it reads, never
        migrates: a store opened with ``migrate=False`` may be behind or ahead)."""

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

    # OAuth clients and their access tokens (Adobe IMS; see core.store.clients) -------------
    async def add_client_token(
        self,
        *,
        token_hash: str,
        tenant: str,
        scope: str,
        name: str,
        client_id: str,
        secret_hash: str,
    ) -> TokenInfo:
        """Store a token with a client id and the hash of the client's secret, in one
        transaction. ``Conflict("client_id")`` if the client id is taken."""

    async def check_client_secret(self, client_id: str, secret_hash: str) -> bool:
        """Whether a client with this id exists and its secret has this hash."""

    async def add_access_token(self, *, token_hash: str, client_id: str, expires_at: int) -> None:
        """Store an access token of a client (by hash), valid until ``expires_at`` (µs); drops
        expired ones. ``NotFound("client")``."""

    async def principal_for_access_token(self, token_hash: str, now: int) -> Principal | None:
        """Who an unexpired access token acts as (its client's token), or None."""
