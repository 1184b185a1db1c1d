"""Whole answers to repeated GETs, served before routing while nothing they depend on changed.

SDKs and CI suites ask the same questions again and again: a poll of the client features, the
same list, the same segment. A GET handler whose 200 is a function of the request and of its
tenant's state (segments, flags, rules, settings: what the tenant revision covers) calls
:meth:`Answers.mark` right after authenticating, before it reads anything. The gateway's one
middleware (``gateway.middleware``) then keeps the answer — status, headers, body — under the
request's key, and answers the next identical request from it, without routing, handler or
rendering, when both of these still hold:

* the token is still the same principal's (``TokenService.still_holds``: the token cache at the
  current token epoch, else the store), so a revoked token gets no more answers; and
* the tenant's revision is the one read before the answer was built (``RevisionReads``: known
  from LISTEN/NOTIFY in ``notify`` freshness, read in ``strict``; ``core.store.revisions``), so
  an answer never outlives a write it does not show.

The key is everything of the request a handler can read: method, path, query string, scheme,
server address, the base URL of links and every header, with ``Authorization`` replaced by its
SHA-256 (no token is kept) and only the headers no handler reads left out (request ids and
trace context, which change on every request). Answers built for access tokens (client
credentials, which expire on their own clock) and for anything not covered by the revision (HAL
members, evaluations) are never marked, so never kept.

Because the key is the request as sent, two spellings of one query (``pageSize=10``,
``pageSize=010``) are two entries: what bounds them is bytes, not meaning. An entry weighs its
body, its headers and its key (whose query string and headers the client chose), and the kept
entries together never weigh more than ``max_bytes``; a body over ``max_entry`` is never kept. So
hundreds of spellings of one large query cost at most ``max_bytes``, whatever their number.
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple, Protocol

from starlette.requests import Request
from starlette.types import Scope

from core.cache import ENTRY_OVERHEAD, MB, Bounded, RevisionReads
from core.model import Principal
from core.tokens import VERIFIED, TokenService
from dialects.http import ANSWER_KEY, ANSWER_MARK, BASE_URL


class Sources(Protocol):
    """What kept answers are checked against: the process's tokens and tenant revisions
    (``gateway.services.Services`` has both, once its store is open)."""

    @property
    def tokens(self) -> TokenService: ...

    @property
    def revisions(self) -> RevisionReads: ...


_UNREAD_HEADERS = frozenset({b"x-request-id", b"traceparent", b"tracestate"})
"""Headers no handler reads (``X-Request-Id`` is the middleware's own, echoed, never part of an
answer): left out of the key so that tracing does not make every request unique."""

Key = tuple[object, ...]
KEPT_STATUSES = frozenset({200, 304})
"""A 304 is as much a function of the request (its ``If-None-Match``) and the state as a 200:
SDKs that poll with ETags mostly get 304s."""


class Mark(NamedTuple):
    tenant: str
    revision: int
    token_hash: str
    principal: Principal


class Answer(NamedTuple):
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    mark: Mark
    label: tuple[str, str] = ("", "")
    """The (surface, route template) that built it, for the metrics of the requests it answers
    without routing (``gateway.metrics``)."""


ANSWERS_MAX_BYTES = 32 * MB
"""Bytes of kept answers (bodies, headers and keys) one process holds, all tenants together."""
ANSWER_MAX_BYTES = 1 * MB
"""An answer whose body is larger than this is never kept."""


class Answers:
    """The answers kept by one process: at most ``capacity`` of them and ``max_bytes`` of their
    weight (body, headers and key; least recently used first out); a body over ``max_entry``
    bytes is not kept."""

    def __init__(
        self,
        services: Sources,
        *,
        capacity: int = 4096,
        max_bytes: int = ANSWERS_MAX_BYTES,
        max_entry: int = ANSWER_MAX_BYTES,
    ) -> None:
        self.services = services
        self.capacity = capacity
        self.max_bytes = max_bytes
        self.max_entry = max_entry
        self._entries: Bounded[Key, Answer] = Bounded(capacity=capacity, max_bytes=max_bytes)
        self.hits = 0
        """Requests answered from here (for tests and the metrics)."""
        self.rebuilt = 0
        """Answers kept after a handler built them: the first time, or anew once the one kept
        no longer held (for the metrics)."""

    @staticmethod
    def key(scope: Scope) -> Key:
        headers: list[tuple[bytes, bytes]] = []
        for name, value in scope["headers"]:
            if name == b"authorization":
                value = hashlib.sha256(value).digest()
            elif name in _UNREAD_HEADERS:
                continue
            headers.append((name, value))
        # The base URL of links is decided by the gateway (``gateway.middleware.Edge``) from
        # the peer as well as the headers: it is part of what the answer depends on.
        return (
            scope["path"],
            scope["query_string"],
            scope["scheme"],
            scope.get("server"),
            tuple(headers),
            scope.get(BASE_URL),
        )

    async def lookup(self, key: Key) -> Answer | None:
        """The answer kept for this key if it is still what the handler would answer."""
        answer = self._entries.get(key)
        if answer is None:
            return None
        mark = answer.mark
        fresh = await self.services.tokens.still_holds(mark.token_hash, mark.principal)
        if fresh:
            fresh = await self.services.revisions.read(mark.tenant) == mark.revision
        if not fresh:
            self._entries.pop(key)
            return None
        self.hits += 1
        return answer

    async def mark(self, request: Request, who: Principal) -> None:
        """Called by a GET handler after authenticating ``who`` and before reading anything:
        its 200 (or 304) may be kept, valid while the token and the revision read here stand."""
        scope = request.scope
        if ANSWER_KEY not in scope:
            return
        verified = VERIFIED.get()
        if verified is None or verified[1] is not who:  # an access token, or none checked
            return
        revision = await self.services.revisions.read(who.tenant)
        scope[ANSWER_MARK] = Mark(who.tenant, revision, verified[0], who)

    def keep(
        self,
        key: Key,
        status: int,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
        mark: Mark,
        label: tuple[str, str] = ("", ""),
    ) -> None:
        if status not in KEPT_STATUSES or len(body) > self.max_entry:
            return
        current = self._entries.get(key)
        if current is not None and current.mark.revision > mark.revision:
            return  # never replace a newer answer
        self.rebuilt += 1
        self._entries.put(
            key,
            Answer(status, headers, body, mark, label),
            len(body) + _headers_weight(headers) + _key_weight(key),
        )

    @property
    def served(self) -> int:
        return self.hits

    @property
    def kept_bytes(self) -> int:
        """What the kept answers weigh (bodies, headers and keys)."""
        return self._entries.kept_bytes

    def __len__(self) -> int:
        return len(self._entries)


def _headers_weight(headers: list[tuple[bytes, bytes]]) -> int:
    # Each header is a tuple of two bytes objects: ~100 bytes of objects around its text.
    return sum(len(name) + len(value) + 100 for name, value in headers)


def _key_weight(key: Key) -> int:
    # The key's text is what the client sent (path, query string, headers): its repr is close
    # to the bytes it holds, and is computed once per kept answer.
    return ENTRY_OVERHEAD + len(repr(key))
