"""Pure ASGI middleware: request ids, access logs, the requests' metrics, the shutdown's 503 and
what a request's origin is believed to be (:class:`Edge`), in one layer.

One layer, one ``send`` wrapper and no Request objects on the hot path: each layer of the stack
costs a coroutine frame and a closure per request, and these three used to be two layers with
two wrappers. The wrapper records the response status in a ``ResponseState`` left in the scope
(``dialects.http.RESPONSE_STATE``), so inner guards (``CatchAll``) know whether a response has
started without wrapping ``send`` again.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import re
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core import clock
from dialects.http import ANSWER_KEY, ANSWER_MARK, BASE_URL, RESPONSE_STATE, ResponseState
from gateway.answers import KEPT_STATUSES, Answers
from gateway.draining import Render, shutdown_response
from gateway.logging import REQUEST_ID, access
from gateway.metrics import Metrics, Tally

# An incoming X-Request-Id is kept only if it is short and tame, so logs cannot be forged: the
# access line writes it as is (gateway.logging.access). Matched whole (``fullmatch``): ``$``
# would let a trailing newline through.
_REQUEST_ID_RE = re.compile(rb"[A-Za-z0-9._:-]{1,128}")
# A host name or address with an optional port: anything else is not echoed into a link.
_HOST_RE = re.compile(
    rb"^[A-Za-z0-9.-]{1,253}(?::[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]{2,45}\](?::[0-9]{1,5})?$"
)


class Edge:
    """What a request's origin is believed to be, decided before anything reads it.

    * Links and locations (``dialects.http.base_url``) point to ``SEGMUX_PUBLIC_URL`` when it is
      set. Otherwise, behind a trusted proxy, to its ``X-Forwarded-Host`` (else the ``Host`` it
      passed on) with its ``X-Forwarded-Proto``; from any other peer, to the address the client
      connected to. A client's own ``Host`` header never becomes a link: it is whatever the
      client wants it to be, and a link is copied into other people's screens and scripts.
    * ``X-Forwarded-For/-Proto/-Host`` are believed only from a peer in
      ``SEGMUX_FORWARDED_ALLOW_IPS`` (uvicorn's own proxy-header handling, which believes any
      loopback peer by default, is switched off in ``segmux serve``). From a trusted peer the
      client address becomes the rightmost ``X-Forwarded-For`` entry that is not itself a
      trusted proxy, as uvicorn would do.
    """

    def __init__(self, public_url: str | None, forwarded_allow_ips: tuple[str, ...]) -> None:
        self.public_url = public_url
        self.any_peer = "*" in forwarded_allow_ips
        self.networks = [
            ipaddress.ip_network(entry, strict=False)
            for entry in forwarded_allow_ips
            if entry != "*"
        ]
        self.forwarding = self.any_peer or bool(self.networks)

    def trusts(self, address: str) -> bool:
        if self.any_peer:
            return True
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def apply(self, scope: Scope) -> None:
        if self.public_url is not None:
            scope[BASE_URL] = self.public_url
        client = scope.get("client")
        if not self.forwarding or not client or not self.trusts(client[0]):
            return
        proto = forwarded_for = forwarded_host = host = None
        for name, value in scope["headers"]:
            if name == b"x-forwarded-proto":
                proto = value
            elif name == b"x-forwarded-for":
                forwarded_for = value
            elif name == b"x-forwarded-host":
                forwarded_host = value
            elif name == b"host":
                host = value
        if proto is not None:
            last = proto.rsplit(b",", 1)[-1].strip().lower()
            if last in (b"http", b"https"):
                scope["scheme"] = last.decode()
        if forwarded_for is not None:
            hops = [hop.strip().decode("latin-1") for hop in forwarded_for.split(b",")]
            for hop in reversed(hops):
                if hop and not self.trusts(hop):
                    scope["client"] = (hop, 0)
                    break
        if self.public_url is None:
            shown = forwarded_host.rsplit(b",", 1)[-1].strip() if forwarded_host else host
            if shown is not None and _HOST_RE.match(shown):
                scope[BASE_URL] = f"{scope['scheme']}://{shown.decode().lower()}"


def new_request_id() -> str:
    """A random UUID (version 4) as 32 hex digits: ``uuid.uuid4().hex`` without building a
    ``UUID`` object."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    return raw.hex()


class RequestContext:
    """Give each request an id (``X-Request-Id`` in, or a new UUID), bind it to every log line of
    the request, send it back, and log one access line and count it in the metrics
    (``gateway.metrics``, labelled by its route template) when the response ends.

    With ``render`` (the app's per-prefix error renderer), a request cut by the shutdown before
    its response started is answered 503 in its dialect's format (``gateway.draining``)."""

    def __init__(
        self,
        app: ASGIApp,
        render: Render | None = None,
        answers: Answers | None = None,
        edge: Edge | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.app = app
        self.render = render
        self.answers = answers
        self.edge = edge
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.edge is not None:
            self.edge.apply(scope)
        request_id = _incoming_id(scope) or new_request_id()
        header = (b"x-request-id", request_id.encode())
        scope.setdefault("state", {})["request_id"] = request_id
        state = scope[RESPONSE_STATE] = ResponseState()
        started = time.perf_counter_ns()
        answers = self.answers if scope["method"] == "GET" else None
        kept_headers: list[tuple[bytes, bytes]] | None = None
        metrics = self.metrics
        tally: Tally | None = None  # a kept answer's, known without routing

        async def send_with_id(message: Message) -> None:
            nonlocal kept_headers
            if message["type"] == "http.response.start":
                state.status = message["status"]
                headers = message.get("headers", [])
                if state.status in KEPT_STATUSES and ANSWER_MARK in scope:
                    kept_headers = list(headers)
                message = {**message, "headers": [*headers, header]}
            elif kept_headers is not None and answers is not None:
                if not message.get("more_body", False):
                    answers.keep(
                        scope,
                        state.status,
                        kept_headers,
                        message.get("body", b""),
                        scope[ANSWER_MARK],
                        None
                        if metrics is None
                        else metrics.tally(metrics.label(scope), "GET", state.status),
                    )
                kept_headers = None  # an answer in several parts is not kept
            await send(message)

        token = REQUEST_ID.set(request_id)
        clock_token = clock.begin()  # one instant for every condition relative to now
        try:
            if answers is not None:
                primary = answers.primary(scope)
                try:
                    answer = await answers.lookup(scope, primary)
                except Exception:  # e.g. the store is down: answer normally, and the
                    answer = None  # handler reports it in its dialect's format
                if answer is not None:
                    state.status = answer.status
                    tally = answer.tally
                    await send(
                        {
                            "type": "http.response.start",
                            "status": answer.status,
                            "headers": [*answer.headers, header],
                        }
                    )
                    await send({"type": "http.response.body", "body": answer.body})
                    return
                scope[ANSWER_KEY] = primary
            await self.app(scope, receive, send_with_id)
        except asyncio.CancelledError:
            # uvicorn cancels request tasks only when the shutdown grace ran out (a client
            # going away is a message, not a cancellation), so this is the end of the process.
            if state.status or self.render is None:
                raise  # a response was under way: nothing well-formed can follow it
            response = await shutdown_response(scope, self.render)
            await response(scope, receive, send_with_id)
        finally:
            clock.end(clock_token)
            elapsed = time.perf_counter_ns() - started
            seconds = elapsed / 1e9
            if tally is not None:
                tally.add(seconds)
            elif metrics is not None:
                metrics.record(
                    metrics.label(scope),
                    scope["method"],
                    state.status or 500,
                    seconds,
                )
            access(request_id, scope["method"], scope["path"], state.status or 500, elapsed)
            REQUEST_ID.reset(token)


def _incoming_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"x-request-id" and _REQUEST_ID_RE.fullmatch(value):
            decoded: str = value.decode()
            return decoded
    return None
