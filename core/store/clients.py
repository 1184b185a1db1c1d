"""OAuth clients (a client id and secret registered with a token, as Adobe IMS issues them) and
the short-lived access tokens they obtain: the SQL both backends share, as a mixin of
``SqlStore``.

A client belongs to one stored token: its access tokens act as that token (tenant, scope,
name), and revoking the token removes the client and every access token it obtained (foreign
keys with ``ON DELETE CASCADE``). Secrets and access tokens are stored only as SHA-256 hashes.
"""

from __future__ import annotations

import hmac

from core.errors import NotFound
from core.model import Principal, TokenInfo, now_us
from core.store.base import SqlBase, token_id
from core.store.rows import token_from_row

# Unique constraints of these tables, for Conflict(field) (the token's own ``client_id``
# constraint fires first, so these only back it up).
CLIENT_CONSTRAINT_FIELDS = (("clients_pkey", "client_id"),)
CLIENT_UNIQUE_COLUMNS = {"clients.client_id": "client_id"}


class ClientSql(SqlBase):
    """Store operations on OAuth clients and their access tokens (see the protocol)."""

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
        now = now_us()
        async with self._write() as tx:
            row = await tx.fetchrow(
                "INSERT INTO tokens (hash, id, tenant, scope, name, created_at, client_id) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
                token_hash,
                token_id(token_hash),
                tenant,
                scope,
                name,
                now,
                client_id,
            )
            await tx.execute(
                "INSERT INTO clients (client_id, token_hash, secret_hash, created_at) "
                "VALUES ($1, $2, $3, $4)",
                client_id,
                token_hash,
                secret_hash,
                now,
            )
        assert row is not None
        return token_from_row(row)

    async def check_client_secret(self, client_id: str, secret_hash: str) -> bool:
        async with self._read() as tx:
            row = await tx.fetchrow(
                "SELECT secret_hash FROM clients WHERE client_id = $1", client_id
            )
        # Constant-time compare: the hash is not secret, but habits are cheap.
        return row is not None and hmac.compare_digest(str(row["secret_hash"]), secret_hash)

    async def add_access_token(self, *, token_hash: str, client_id: str, expires_at: int) -> None:
        now = now_us()
        async with self._write() as tx:
            # Expired tokens are useless: drop them here so the table stays a day's worth.
            await tx.execute("DELETE FROM access_tokens WHERE expires_at <= $1", now)
            client = await tx.fetchrow(
                "SELECT client_id FROM clients WHERE client_id = $1", client_id
            )
            if client is None:
                raise NotFound("client", client_id)
            await tx.execute(
                "INSERT INTO access_tokens (hash, client_id, created_at, expires_at) "
                "VALUES ($1, $2, $3, $4)",
                token_hash,
                client_id,
                now,
                expires_at,
            )

    async def principal_for_access_token(self, token_hash: str, now: int) -> Principal | None:
        async with self._read() as tx:
            row = await tx.fetchrow(
                "SELECT t.tenant, t.scope, t.name, t.client_id, n.default_sandbox "
                "FROM access_tokens a JOIN clients c ON c.client_id = a.client_id "
                "JOIN tokens t ON t.hash = c.token_hash JOIN tenants n ON n.name = t.tenant "
                "WHERE a.hash = $1 AND a.expires_at > $2",
                token_hash,
                now,
            )
        if row is None:
            return None
        return Principal(
            tenant=row["tenant"],
            scope=row["scope"],
            token_name=row["name"],
            default_sandbox=row["default_sandbox"],
            client_id=row["client_id"],
        )
