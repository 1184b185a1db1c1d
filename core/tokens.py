"""API tokens: made here, shown once, stored only as a SHA-256 hash.

Tokens are 256-bit random secrets, so an unsalted fast hash is the right tool (it is what GitHub
and Stripe do for API keys): nothing to brute-force, and lookup by hash is an indexed equality
that never compares secrets byte by byte in Python.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import secrets

from core.errors import Conflict, Invalid, Unauthorized
from core.model import Principal, TokenInfo
from core.store import Store

TOKEN_PREFIX = "smx_"
_SCOPE_RE = re.compile(r"^(admin|client:[A-Za-z0-9_.-]{1,100})$")
_TENANT_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


def generate_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def check_scope(scope: str) -> None:
    if not _SCOPE_RE.match(scope):
        raise Invalid("scope", "must be 'admin' or 'client:<environment>'")


def check_tenant_name(name: str) -> None:
    if not _TENANT_RE.match(name):
        raise Invalid("tenant", "must match ^[a-z0-9][a-z0-9_-]{0,62}$")


class TokenService:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def create(
        self, *, tenant: str, scope: str, name: str, token: str | None = None
    ) -> tuple[str, TokenInfo]:
        """Create the tenant if needed and a token for it; return the secret (the only time it
        exists outside the caller) and what is stored about it."""
        check_tenant_name(tenant)
        check_scope(scope)
        if not name or len(name) > 200:
            raise Invalid("name", "must be 1 to 200 characters")
        secret = token or generate_token()
        await self.store.ensure_tenant(tenant)
        info = await self.store.add_token(
            token_hash=hash_token(secret), tenant=tenant, scope=scope, name=name
        )
        return secret, info

    async def ensure(self, *, tenant: str, scope: str, name: str, token: str) -> None:
        """Make sure ``token`` exists (idempotent: seeding from the environment at start-up)."""
        with contextlib.suppress(Conflict):
            await self.create(tenant=tenant, scope=scope, name=name, token=token)

    async def authenticate(self, token: str | None) -> Principal:
        if not token:
            raise Unauthorized("no token")
        principal = await self.store.principal_for(hash_token(token))
        if principal is None:
            raise Unauthorized("unknown token")
        return principal
