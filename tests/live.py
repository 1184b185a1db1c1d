"""A real gateway in this process: uvicorn on a free loopback port, in a thread of its own, with
the app opening its store in its lifespan exactly as ``segmux serve`` does."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import uvicorn

from gateway.app import create_app
from gateway.settings import Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_answering(
    proc: subprocess.Popen[str],
    url: str,
    failed: Callable[[], object],
    *,
    timeout: float = 60,
) -> None:
    """Poll ``url`` until it answers 200 while ``proc`` (the server behind it) runs: a process
    that exits, or no 200 within ``timeout`` seconds, fails the test with ``failed()`` (its
    output, as the caller can read it)."""
    deadline = time.monotonic() + timeout
    while True:
        assert proc.poll() is None, failed()
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"no 200 from {url} in {timeout:.0f} s"
        time.sleep(0.1)


@contextmanager
def live_gateway(database_url: str, admin_token: str) -> Iterator[str]:
    """Yield the base URL of a running gateway seeded with ``admin_token`` (tenant default)."""
    port = free_port()
    settings = Settings(database_url=database_url, admin_token=admin_token, port=port)
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the gateway did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
