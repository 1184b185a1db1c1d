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

The key is what the answer depends on, declared by the handler as HTTP's ``Vary`` would: the
path, the query string, the scheme, the server address and the base URL of links (decided by
the gateway from its settings, the peer and a trusted proxy's headers: never the client's own
``Host``), and the values of the request headers the handler names when it marks the answer —
always ``Authorization`` (kept as its SHA-256: no token is kept), ``Accept`` and
``Accept-Encoding`` (the representation asked for; no handler negotiates today, but an answer
kept for one representation must never serve another), plus what that endpoint reads, such as
the Unleash client features' ``Unleash-Client-Spec`` and ``If-None-Match``, or Adobe's API key,
org and sandbox headers. Nothing else is part of the key: the ids every SDK instance sends of
itself (``UNLEASH-INSTANCEID``, ``unleash-connection-id``, ``User-Agent``, trace context, …)
change on every process of a fleet and nothing reads them, so a fleet shares one answer.
``tests/gateway/test_answer_keys.py`` proves, for every kept endpoint, that no header left out
of its key changes its answer.

A request is looked up in two steps, as an HTTP cache does: the path gives the header names
the answer kept there varies on (learned when it was kept), then those headers' values select
the answer. Answers built for access tokens (client credentials, which expire on their own
clock) and for anything not covered by the revision (HAL members, evaluations) are never
marked, so never kept.

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
from gateway.metrics import Tally


class Sources(Protocol):
    """What kept answers are checked against: the process's tokens and tenant revisions
    (``gateway.services.Services`` has both, once its store is open)."""

    @property
    def tokens(self) -> TokenService: ...

    @property
    def revisions(self) -> RevisionReads: ...


VARY_ALWAYS: tuple[bytes, ...] = (b"authorization", b"accept", b"accept-encoding")
"""Request headers every kept answer varies on (the token; the representation asked for)."""

Primary = tuple[object, ...]
"""What every kept answer depends on besides headers: path, query string, scheme, server
address, base URL of links."""
Key = tuple[object, ...]
KEPT_STATUSES = frozenset({200, 304})
"""A 304 is as much a function of the request (its ``If-None-Match``) and the state as a 200:
SDKs that poll with ETags mostly get 304s."""


class Mark(NamedTuple):
    tenant: str
    revision: int
    token_hash: str
    principal: Principal
    vary: tuple[bytes, ...] = VARY_ALWAYS
    """The request headers the answer depends on (lower case, sorted)."""


class Answer(NamedTuple):
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    mark: Mark
    tally: Tally | None = None
    """Where the metrics count the requests it answers without routing: its route's, for GET
    and its status (``gateway.metrics``; None when they are off)."""


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
        # The paths' declarations take a sixteenth of the bytes: paths are short, and each
        # names one of a few constant tuples.
        self._varies: Bounded[str, tuple[bytes, ...]] = Bounded(
            capacity=capacity, max_bytes=max_bytes // 16
        )
        self._entries: Bounded[Key, Answer] = Bounded(
            capacity=capacity, max_bytes=max_bytes - max_bytes // 16
        )
        """Per path, the headers the answer last kept there varies on (its handler's ``Vary``)."""
        self.hits = 0
        """Requests answered from here (for tests and the metrics)."""
        self.rebuilt = 0
        """Answers kept after a handler built them: the first time, or anew once the one kept
        no longer held (for the metrics)."""

    @staticmethod
    def primary(scope: Scope) -> Primary:
        # The base URL of links is decided by the gateway (``gateway.middleware.Edge``) from
        # the peer as well as the headers: it is part of what the answer depends on.
        return (
            scope["path"],
            scope["query_string"],
            scope["scheme"],
            scope.get("server"),
            scope.get(BASE_URL),
        )

    @staticmethod
    def key(primary: Primary, vary: tuple[bytes, ...], scope: Scope) -> Key:
        """The key of the answer to the request of ``scope``, which varies on ``vary``: every
        value of those headers, in the order sent per name (a header sent twice is another
        request: handlers refuse a repeated ``Authorization``)."""
        headers: list[tuple[bytes, bytes]] = []
        for name, value in scope["headers"]:
            if name in vary:
                if name == b"authorization":
                    value = hashlib.sha256(value).digest()
                headers.append((name, value))
        headers.sort(key=_name)  # stable: repeated headers keep their order
        return (primary, vary, tuple(headers))

    def vary_of(self, path: str) -> tuple[bytes, ...] | None:
        """The headers the answer kept for ``path`` varies on, if one was kept."""
        return self._varies.get(path)

    async def lookup(self, scope: Scope, primary: Primary) -> Answer | None:
        """The answer kept for this request (``primary``: :meth:`primary` of its scope) if it
        is still what the handler would answer."""
        vary = self._varies.get(str(primary[0]))
        if vary is None:
            return None
        key = self.key(primary, vary, scope)
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

    async def mark(self, request: Request, who: Principal, vary: tuple[str, ...] = ()) -> None:
        """Called by a GET handler after authenticating ``who`` and before reading anything:
        its 200 (or 304) may be kept, valid while the token and the revision read here stand.
        ``vary``: the request headers the handler reads besides :data:`VARY_ALWAYS` (lower
        case); every header it reads must be named, as in HTTP's ``Vary``."""
        scope = request.scope
        if ANSWER_KEY not in scope:
            return
        verified = VERIFIED.get()
        if verified is None or verified[1] is not who:  # an access token, or none checked
            return
        revision = await self.services.revisions.read(who.tenant)
        names = _vary(vary)
        scope[ANSWER_MARK] = Mark(who.tenant, revision, verified[0], who, names)

    def keep(
        self,
        scope: Scope,
        status: int,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
        mark: Mark,
        tally: Tally | None = None,
    ) -> None:
        """Keep the answer to the request of ``scope`` (its primary key under ``ANSWER_KEY``),
        under the headers its mark names."""
        if status not in KEPT_STATUSES or len(body) > self.max_entry:
            return
        primary: Primary = scope[ANSWER_KEY]
        path = str(primary[0])  # as the lookup saw it (routing may rewrite the scope's)
        if self._varies.get(path) != mark.vary:
            self._varies.put(path, mark.vary, ENTRY_OVERHEAD + len(path) + len(repr(mark.vary)))
        key = self.key(primary, mark.vary, scope)
        current = self._entries.get(key)
        if current is not None and current.mark.revision > mark.revision:
            return  # never replace a newer answer
        self.rebuilt += 1
        self._entries.put(
            key,
            Answer(status, headers, body, mark, tally),
            len(body) + _headers_weight(headers) + _key_weight(key),
        )

    @property
    def served(self) -> int:
        return self.hits

    @property
    def kept_bytes(self) -> int:
        """What the kept answers weigh (bodies, headers and keys, and the paths' ``Vary``)."""
        return self._entries.kept_bytes + self._varies.kept_bytes

    def __len__(self) -> int:
        return len(self._entries)


_VARIES: dict[tuple[str, ...], tuple[bytes, ...]] = {}
"""Each handler's declaration, normalised once (handlers pass constants: a few entries)."""


def _vary(extra: tuple[str, ...]) -> tuple[bytes, ...]:
    found = _VARIES.get(extra)
    if found is None:
        names = {*VARY_ALWAYS, *(name.lower().encode("latin-1") for name in extra)}
        found = _VARIES[extra] = tuple(sorted(names))
    return found


def _name(header: tuple[bytes, bytes]) -> bytes:
    return header[0]


def _headers_weight(headers: list[tuple[bytes, bytes]]) -> int:
    # Each header is a tuple of two bytes objects: ~100 bytes of objects around its text.
    return sum(len(name) + len(value) + 100 for name, value in headers)


def _key_weight(key: Key) -> int:
    # The key's text is what the client sent (path, query string, headers): its repr is close
    # to the bytes it holds, and is computed once per kept answer.
    return ENTRY_OVERHEAD + len(repr(key))
