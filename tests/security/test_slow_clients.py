"""Slow clients against a real ``segmux serve`` process, over raw sockets: a client that does not
finish its headers within ``SEGMUX_HEADER_TIMEOUT`` is answered 408 and cut off; fifty of them at
once do not stop anyone else being served; past ``SEGMUX_MAX_CONNECTIONS`` open connections a
request is answered 503 at once, and the slow ones holding the places are cut off in time.

Bounds are liveness bounds (seconds, generous), never timings.
"""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.reliability.procs import ADMIN_TOKEN, Gateway

HEADER_TIMEOUT = 1.0
LIVENESS = 20.0
"""Seconds within which something that should happen at once, or after the header timeout,
must have happened on a loaded machine."""


@pytest.fixture
def gateway(store_url: str, tmp_path: Path) -> Iterator[Gateway]:
    gw = Gateway(
        store_url,
        tmp_path,
        env={"SEGMUX_HEADER_TIMEOUT": str(HEADER_TIMEOUT), "SEGMUX_MAX_CONNECTIONS": "200"},
    )
    gw.start()
    try:
        yield gw
    finally:
        gw.stop()
    assert not gw.own_tracebacks(), gw.output()


STALLED = b"GET /healthz HTTP/1.1\r\nHost: x\r\n"


def slow_client(gw: Gateway, sent: bytes = STALLED) -> socket.socket:
    """A connection that began a request and stalls before the end of its headers."""
    s = socket.create_connection(("127.0.0.1", gw.port), timeout=LIVENESS)
    if sent:
        s.sendall(sent)
    return s


def read_until_closed(s: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (or LIVENESS passes). A reset
    after the server's answer ends the reading too: bytes the client sent after the server
    stopped reading make the kernel answer the close with a reset."""
    s.settimeout(LIVENESS)
    data = b""
    deadline = time.monotonic() + LIVENESS
    while time.monotonic() < deadline:
        try:
            chunk = s.recv(4096)
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk
    raise AssertionError(f"the connection was still open after {LIVENESS} s: {data!r}")


def read_one_response(s: socket.socket) -> bytes:
    """One whole response with a Content-Length body (uvicorn writes head and body apart)."""
    s.settimeout(LIVENESS)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        assert chunk, data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = s.recv(4096)
        assert chunk, data
        body += chunk
    assert len(body) == length, (head, body)
    return head + b"\r\n\r\n" + body


def answered(s: socket.socket) -> bool:
    """Whether the server has sent something (or closed) on ``s``: a trickling client stops
    sending then, as a real one would."""
    readable, _, _ = select.select([s], [], [], 0)
    return bool(readable)


def test_slow_headers_are_cut_off_with_a_408(gateway: Gateway) -> None:
    with slow_client(gateway) as s:
        answer = read_until_closed(s)
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    # A client that keeps trickling bytes is cut off all the same.
    with slow_client(gateway, b"GET /healthz HTTP/1.1\r\n") as s:
        for _ in range(3):
            if answered(s):
                break
            s.sendall(b"X-Slow: 1\r\n")
            time.sleep(HEADER_TIMEOUT / 2)
        answer = read_until_closed(s)
    assert answer.startswith(b"HTTP/1.1 408 "), answer


def test_a_connection_that_sends_nothing_is_closed(gateway: Gateway) -> None:
    with slow_client(gateway, b"") as s:
        answer = read_until_closed(s)
    assert answer.startswith(b"HTTP/1.1 408 "), answer


def test_a_kept_alive_connection_is_timed_per_request(gateway: Gateway) -> None:
    """After a complete request on a connection, the next one's headers are timed afresh."""
    with slow_client(gateway, b"") as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        first = read_one_response(s)
        assert first.startswith(b"HTTP/1.1 200 "), first
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and stall
        assert read_until_closed(s).startswith(b"HTTP/1.1 408 ")


def test_fifty_slow_connections_do_not_stop_others_being_served(gateway: Gateway) -> None:
    slow = [slow_client(gateway) for _ in range(50)]
    try:
        with httpx.Client(base_url=gateway.url, timeout=LIVENESS) as c:
            for _ in range(20):
                assert c.get("/healthz").status_code == 200
                r = c.get("/v2.3/data/segments", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
                assert r.status_code == 200, r.text
        for s in slow:  # and every one of the fifty is cut off
            assert read_until_closed(s).startswith(b"HTTP/1.1 408 ")
    finally:
        for s in slow:
            s.close()


def test_past_the_connection_limit_requests_are_503_until_slow_clients_are_cut(
    store_url: str, tmp_path: Path
) -> None:
    limit = 5
    gw = Gateway(
        store_url,
        tmp_path,
        env={"SEGMUX_HEADER_TIMEOUT": "3", "SEGMUX_MAX_CONNECTIONS": str(limit)},
    )
    gw.start()
    try:
        slow = [slow_client(gw) for _ in range(limit)]
        try:
            time.sleep(0.5)  # let the server accept them all
            r = httpx.get(gw.url + "/healthz", timeout=LIVENESS)
            assert r.status_code == 503, r.text
            for s in slow:
                read_until_closed(s)
        finally:
            for s in slow:
                s.close()
        deadline = time.monotonic() + LIVENESS
        while httpx.get(gw.url + "/healthz", timeout=LIVENESS).status_code != 200:
            assert time.monotonic() < deadline, "the places were never given back"
            time.sleep(0.1)
    finally:
        gw.stop()
    assert not gw.own_tracebacks(), gw.output()
