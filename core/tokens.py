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
from contextvars import ContextVar
from typing import Literal

import msgspec

from core.cache import TokenCache
from core.errors import Conflict, CoreError, Forbidden, Invalid, NotFound, Unauthorized
from core.model import Principal, Tenant, TokenInfo, now_us
from core.store import Store
from core.store.limits import WORK_TENANT

TOKEN_PREFIX = "smx_"
CLIENT_SECRET_PREFIX = "p8e-"
"""Adobe's client secrets start so; tools that sniff secrets recognise them."""
ACCESS_TOKEN_SECONDS = 86_399
"""Lifetime of an access token from the client-credentials flow (IMS: a day less a second)."""
IMS_ORG_SETTING = "ims_org_id"
"""Tenant setting holding the Adobe IMS org id; unset, it is ``<tenant>@AdobeOrg``."""
_CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$")
_IMS_ORG_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}@AdobeOrg$")
_SCOPE_RE = re.compile(r"^(admin|(client|frontend|ofrep):[A-Za-z0-9_.-]{1,100})$")
FRONTEND_SCOPE = "frontend:"
"""A frontend token's scope is ``frontend:<environment>``: Unleash's frontend tokens, made to be
shipped inside browser and mobile apps, so public by design. Such a token may call the frontend
API and nothing else (Unleash's own rule), whatever the dialect."""
OFREP_SCOPE = "ofrep:"
"""An OFREP token's scope is ``ofrep:<environment>``: it evaluates the environment's flags
through the OpenFeature Remote Evaluation Protocol (``/ofrep``) and nothing else, so, like a
frontend token, it may be shipped inside a browser or mobile app."""
_TENANT_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")

VERIFIED: ContextVar[tuple[str, Principal] | None] = ContextVar("segmux_verified", default=None)
"""The (token hash, principal) the current request authenticated as with a stored token: what
an answer cache needs to check the token again later without ever keeping the token."""


def generate_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def check_scope(scope: str) -> None:
    if not _SCOPE_RE.match(scope):
        raise Invalid(
            "scope",
            "must be 'admin', 'client:<environment>', 'frontend:<environment>' or "
            "'ofrep:<environment>'",
        )


def frontend_environment(principal: Principal) -> str | None:
    """The environment of a frontend token, else None."""
    scope = principal.scope
    return scope[len(FRONTEND_SCOPE) :] if scope.startswith(FRONTEND_SCOPE) else None


def require_frontend(principal: Principal) -> str:
    """The environment of a frontend token; any other token is refused (Unleash answers an
    admin or client token on its frontend API with the wrong-token-kind 403)."""
    environment = frontend_environment(principal)
    if environment is None:
        raise Forbidden("this endpoint needs a frontend token")
    return environment


def ofrep_environment(principal: Principal) -> str | None:
    """The environment OFREP evaluates for this token: an OFREP token's or a client (server
    SDK) token's; None for any other (admin tokens name no environment, frontend tokens open
    only Unleash's frontend API)."""
    scope = principal.scope
    if scope.startswith(OFREP_SCOPE):
        return scope[len(OFREP_SCOPE) :]
    return principal.environment


def _outside_frontend(principal: Principal, *, ofrep_api: bool = False) -> None:
    if frontend_environment(principal) is not None:
        raise Forbidden("a frontend token may only call the frontend API")
    if not ofrep_api and principal.scope.startswith(OFREP_SCOPE):
        raise Forbidden("an OFREP token may only call the OFREP API")


def check_tenant_name(name: str) -> None:
    if not _TENANT_RE.match(name):
        raise Invalid("tenant", "must match ^[a-z0-9][a-z0-9_-]{0,62}$")


def check_client_id(client_id: str) -> None:
    if not _CLIENT_ID_RE.match(client_id):
        raise Invalid("client_id", "must match ^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$")


def ims_org_id(tenant: Tenant) -> str:
    """The tenant's Adobe IMS org id: its setting, else ``<tenant>@AdobeOrg``."""
    value = tenant.settings.get(IMS_ORG_SETTING)
    return value if isinstance(value, str) else f"{tenant.name}@AdobeOrg"


GatewayCheck = Literal[
    "token_missing",
    "token_invalid",
    "api_key_missing",
    "api_key_invalid",
    "org_missing",
    "org_invalid",
]


class Refused(CoreError):
    """A gateway credential check failed; ``check`` says which (the dialect picks the status
    and body: Adobe's gateway answers each differently)."""

    def __init__(self, check: GatewayCheck, message: str) -> None:
        super().__init__(message)
        self.check = check


class AccessToken(msgspec.Struct, frozen=True):
    token: str
    expires_in: int
    """Seconds."""


class TokenService:
    def __init__(self, store: Store, cache: TokenCache | None = None) -> None:
        self.store = store
        self.cache = cache or TokenCache()

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

    async def authenticate(
        self, token: str | None, *, frontend_api: bool = False, ofrep_api: bool = False
    ) -> Principal:
        """The token's holder. A frontend token is refused (``Forbidden``) unless the caller is
        the frontend API (``frontend_api``), an OFREP token unless it is the OFREP API
        (``ofrep_api``): they are public, so they open nothing else."""
        if not token:
            raise Unauthorized("no token")
        principal = await self._principal(token)
        if principal is None:
            raise Unauthorized("unknown token")
        if frontend_api:
            if principal.scope.startswith(OFREP_SCOPE):
                raise Forbidden("an OFREP token may only call the OFREP API")
        else:
            _outside_frontend(principal, ofrep_api=ofrep_api)
        return principal

    async def _principal(self, token: str) -> Principal | None:
        """A stored token's holder, else an unexpired access token's (client credentials)."""
        token_hash = hash_token(token)
        WORK_TENANT.set(None)  # the lookup is nobody's yet (a task may serve several requests)
        principal = await self._stored(token_hash)
        if principal is not None:
            VERIFIED.set((token_hash, principal))
        else:
            # Access tokens expire on their own clock: looked up every time, never cached (and
            # never VERIFIED: an answer to one must not outlive it).
            principal = await self.store.principal_for_access_token(token_hash, now_us())
        if principal is not None:
            WORK_TENANT.set(principal.tenant)  # the request's store work counts as its tenant's
        return principal

    async def _stored(self, token_hash: str) -> Principal | None:
        """The holder of a stored (not revoked) token, through the cache."""
        epoch = await self.store.token_epoch()  # read before the lookup: see TokenCache.put
        if epoch is not None:
            cached = self.cache.get(token_hash, epoch)
            if cached is not None:
                return cached
        principal = await self.store.principal_for(token_hash)
        if principal is not None and epoch is not None:
            self.cache.put(token_hash, epoch, principal)
        return principal

    async def still_holds(self, token_hash: str, principal: Principal) -> bool:
        """Whether the stored token of this hash still belongs to ``principal`` (the check an
        answer cached for it needs: a revoked token gets no more answers)."""
        return await self._stored(token_hash) == principal

    # OAuth clients (Adobe IMS client credentials) ------------------------------------------
    async def create_client(
        self, *, tenant: str, scope: str, name: str, client_id: str
    ) -> tuple[str, str, TokenInfo]:
        """Like :meth:`create`, with a client id and a new client secret registered with the
        token; return (token, secret, stored info). Both secrets exist only in the result."""
        check_tenant_name(tenant)
        check_scope(scope)
        check_client_id(client_id)
        if not name or len(name) > 200:
            raise Invalid("name", "must be 1 to 200 characters")
        token = generate_token()
        secret = CLIENT_SECRET_PREFIX + secrets.token_urlsafe(32)
        await self.store.ensure_tenant(tenant)
        info = await self.store.add_client_token(
            token_hash=hash_token(token),
            tenant=tenant,
            scope=scope,
            name=name,
            client_id=client_id,
            secret_hash=hash_token(secret),
        )
        return token, secret, info

    async def issue_access_token(self, client_id: str, secret: str) -> AccessToken:
        """The client-credentials grant: a new access token acting as the client's token, or
        ``Unauthorized`` (unknown client and wrong secret are one answer)."""
        if not client_id or not secret:
            raise Unauthorized("client credentials are required")
        if not _CLIENT_ID_RE.match(client_id):  # no such id was ever registered
            raise Unauthorized("invalid client credentials")
        if not await self.store.check_client_secret(client_id, hash_token(secret)):
            raise Unauthorized("invalid client credentials")
        token = generate_token()
        expires_at = now_us() + ACCESS_TOKEN_SECONDS * 1_000_000
        try:
            await self.store.add_access_token(
                token_hash=hash_token(token), client_id=client_id, expires_at=expires_at
            )
        except NotFound:  # the client was revoked meanwhile
            raise Unauthorized("invalid client credentials") from None
        return AccessToken(token=token, expires_in=ACCESS_TOKEN_SECONDS)

    async def authenticate_client(
        self, token: str | None, *, api_key: str | None, org: str | None
    ) -> Principal:
        """Adobe's gateway checks, in its order: a token, a valid one, an API key, the token's
        own client id if it has one, an org header, and the token's tenant's org."""
        if not token:
            raise Refused("token_missing", "no token")
        principal = await self._principal(token)
        if principal is None:
            raise Refused("token_invalid", "unknown or expired token")
        _outside_frontend(principal)
        if not api_key:
            raise Refused("api_key_missing", "no API key")
        if not _CLIENT_ID_RE.match(api_key) or (
            principal.client_id is not None and api_key != principal.client_id
        ):
            raise Refused("api_key_invalid", "the API key is not the token's client id")
        if not org:
            raise Refused("org_missing", "no IMS org header")
        await self.check_org(principal, org)
        return principal

    async def check_org(self, principal: Principal, org: str) -> None:
        """``org`` is the IMS org of the principal's tenant, else ``Refused("org_invalid")``."""
        if org != ims_org_id(await self.store.get_tenant(principal.tenant)):
            raise Refused("org_invalid", "the IMS org is not the token's")

    async def set_ims_org(self, tenant: str, org: str) -> Tenant:
        if not _IMS_ORG_RE.match(org):
            raise Invalid("ims_org", "must look like <id>@AdobeOrg")
        await self.store.get_tenant(tenant)
        return await self.store.update_tenant_settings(tenant, {IMS_ORG_SETTING: org})
