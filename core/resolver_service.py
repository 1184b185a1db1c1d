"""The resolve and apply use cases: a client secret, an evaluation context and flag names in;
resolved flags and a signed resolve token out (``core.resolver`` is the algorithm).

* The secret selects the credential (stored hashed, looked up by its SHA-256), hence the tenant,
  the client and its environments. An unknown secret is ``Unauthorized``. A found credential is
  kept for at most :data:`CREDENTIAL_TTL_SECONDS` and only while the tenant's revision is the
  one it was found at, so a deleted credential stops working at once when the delete bumps the
  revision and within the TTL in any case.
* The tenant's flags, segments, bitsets and compiled targeting are one :class:`ResolverState`
  per tenant revision (``core.cache.TenantCache``): a resolve reads nothing from the store when
  nothing changed, and any write to a flag, rule or segment is seen by the next resolve.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from core import resolve_tokens
from core.allocation import account_id
from core.budget import current_budget
from core.cache import MB, Bounded, RevisionReads, TenantCache
from core.confidence_model import ConfidenceFlag
from core.errors import Invalid, Unauthorized
from core.expr import ast
from core.expr.refs import ref_slug, segment_refs
from core.model import Segment, Sort
from core.resolver import (
    Memo,
    ResolveClient,
    ResolvedFlag,
    ResolverState,
    flags_for,
    resolve_flag,
    units_asked,
)
from core.store import Store
from core.tokens import hash_token

CREDENTIAL_TTL_SECONDS = 1.0
MAX_SECRET = 1024
_PAGE = 1000
_TENANTS_CACHED = 64
_STATE_OVERHEAD = 4096
_FLAGS_PER_STEP = 100


class Resolution(msgspec.Struct, frozen=True, kw_only=True):
    flags: list[ResolvedFlag]
    resolve_id: str
    token: bytes
    """Empty when the request applied at once (``apply: true``): nothing is left to apply."""


class AppliedFlag(msgspec.Struct, frozen=True, kw_only=True):
    flag: str
    apply_time: str


def _state_weight(state: ResolverState) -> int:
    bitsets = sum(len(b or b"") for b in state.bitsets.values())
    return bitsets + _STATE_OVERHEAD * (len(state.segments) + len(state.flags) + 1)


class ResolverService:
    def __init__(self, store: Store, token_key: bytes) -> None:
        self.store = store
        self._key = token_key
        self._states: TenantCache[ResolverState] = TenantCache(
            store, _TENANTS_CACHED, weigh=_state_weight, max_bytes=256 * MB
        )
        self._revisions = RevisionReads(store)
        self._credentials: Bounded[str, tuple[int, float, ResolveClient]] = Bounded(
            capacity=10_000, max_bytes=16 * MB
        )

    # --- who ------------------------------------------------------------------------------
    async def client_for(self, secret: str) -> ResolveClient:
        if not secret or len(secret) > MAX_SECRET:
            raise Unauthorized("client secret not found")
        digest = hash_token(secret)
        kept = self._credentials.get(digest)
        if kept is not None:
            revision, expires, client = kept
            if expires > time.monotonic() and revision == await self._revisions.read(client.tenant):
                return client
            self._credentials.pop(digest)
        found = await self.store.credential_by_secret_hash(digest)
        if found is None:
            raise Unauthorized("client secret not found")
        tenant, client_name, credential = found
        # The revision is read after the lookup: a delete committed before it is already seen.
        revision = await self._revisions.read(tenant)
        client = ResolveClient(
            tenant=tenant,
            client=client_name,
            credential=credential.name,
            environments=credential.environments,
        )
        self._credentials.put(
            digest, (revision, time.monotonic() + CREDENTIAL_TTL_SECONDS, client), 512
        )
        return client

    # --- the tenant's state ---------------------------------------------------------------
    async def state(self, tenant: str) -> ResolverState:
        async def build(revision: int, previous: ResolverState | None) -> ResolverState:
            return await self._load(tenant)

        return await self._states.get(tenant, "resolver", build)

    async def _load(self, tenant: str) -> ResolverState:
        info = await self.store.get_tenant(tenant)
        flags = await self.store.confidence_flags(tenant)
        segments = await self._segments(tenant)
        by_slug = {s.slug: s for s in segments}
        # Bitsets only of the segments flags can reach (rules, then segment criteria).
        pending = [ref_slug(r.segment) for f in flags for r in f.rules]
        reached: dict[str, Segment] = {}
        while pending:
            slug = pending.pop()
            segment = by_slug.get(slug)
            if segment is None or slug in reached:
                continue
            reached[slug] = segment
            expr = ast.decode(segment.expression) if segment.expression is not None else None
            pending += segment_refs(expr)
        bitsets = {s.id: await self.store.get_bitset(tenant, s.id) for s in reached.values()}
        return ResolverState(
            account=account_id(info.name, info.settings),
            flags=flags,
            segments=segments,
            bitsets=bitsets,
        )

    async def _segments(self, tenant: str) -> list[Segment]:
        found: list[Segment] = []
        while True:
            page = await self.store.list_segments(
                tenant, sandbox=None, offset=len(found), limit=_PAGE, sort=(Sort("created_at"),)
            )
            found += page.items
            if not page.items or len(found) >= page.total:
                return found

    # --- use cases ------------------------------------------------------------------------
    async def resolve(
        self,
        secret: str,
        context: Mapping[str, Any],
        names: Sequence[str],
        apply: bool,
    ) -> Resolution:
        client = await self.client_for(secret)
        state = await self.state(client.tenant)
        resolved = await self.resolve_flags(state, client, flags_for(state, client, names), context)
        resolve_id = secrets.token_hex(16)
        token = b""
        if not apply:
            payload = resolve_tokens.TokenPayload(
                tenant=client.tenant,
                credential=client.credential,
                resolve_id=resolve_id,
                assignments={
                    r.flag: resolve_tokens.Assigned(r.rule, r.variant, r.assignment_id)
                    for r in resolved
                    if r.should_apply
                },
            )
            token = resolve_tokens.sign(self._key, payload)
        return Resolution(flags=resolved, resolve_id=resolve_id, token=token)

    async def resolve_flags(
        self,
        state: ResolverState,
        client: ResolveClient,
        flags: Sequence[ConfidenceFlag],
        context: Mapping[str, Any],
    ) -> list[ResolvedFlag]:
        """``flags`` of ``state`` resolved for ``context`` as ``client``: the one loop both
        ``flags:resolve`` and OFREP (``core.ofrep``) run (static memberships read first, the
        evaluation budget honoured, other requests let in during a long one)."""
        static: dict[str, frozenset[str]] = {}
        if state.has_static:
            for unit in units_asked(state, flags, context):
                static[unit] = frozenset(await self.store.static_memberships(client.tenant, unit))
        budget = current_budget()
        budget.resume()
        resolved = []
        memo = Memo()
        for i, flag in enumerate(flags, 1):
            resolved.append(resolve_flag(state, client, flag, context, static, memo))
            if i % _FLAGS_PER_STEP == 0:
                await budget.pause(0)  # let other requests run during a long resolve
        return resolved

    async def apply(self, secret: str, token: bytes, flags: Sequence[AppliedFlag]) -> str:
        """Check an apply: the token is one this server issued to this client's credential and
        names every flag applied. Returns the resolve id (segmux logs no exposures)."""
        client = await self.client_for(secret)
        payload = resolve_tokens.verify(self._key, token)
        if payload.tenant != client.tenant or payload.credential != client.credential:
            raise Invalid("resolve_token", "the resolve token was issued to another client")
        for applied in flags:
            if applied.flag not in payload.assignments:
                raise Invalid(
                    "flags", f"Flag in resolve token does not match flag in request: {applied.flag}"
                )
        return payload.resolve_id
