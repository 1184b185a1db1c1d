"""Prism (``@stoplight/prism-cli`` from npm) as validating proxies in front of a gateway.

Prism checks every request against a spec before forwarding it and every response before
returning it; with ``--errors`` a violation becomes Prism's own error answer (422 for a request,
500 for a response) and an ``error`` line in its log. One Prism serves one spec, so there is one
per served spec, and a small router in front sends each request to the Prism of the API its path
belongs to — what a user does who puts Prism before segmux in their own contract tests.

The package is installed once into ``.cache/prism/`` (gitignored) with ``npm install`` and reused.
``python -m tests.contract.prism`` installs it ahead of time.
"""

from __future__ import annotations

import http.client
import json
import shutil
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import openapi

ROOT = Path(__file__).resolve().parents[2]
VERSION = "5.14.2"  # the newest that runs on Node 18-22 (5.15 needs Node 24)
CACHE = ROOT / ".cache" / "prism"
SPECS = Path(openapi.__file__).parent

# Which API a path belongs to (first match); anything else is HAL's (it owns the root).
PREFIXES = [
    ("/v2.3/", "v23"),
    ("/api/", "unleash"),
    ("/data/core/ups/", "adobe"),
    ("/ims/", "adobe"),
    ("/segmux/v1/", "segmux"),
    ("/v1/", "confidence"),
    ("/ofrep/", "ofrep"),
]
# Not in any vendor's API: the gateway's own probes and specs go straight through.
UNPROXIED = ("/healthz", "/readyz", "/segmux/openapi/", "/segmux/ui")


def executable() -> Path:
    return CACHE / "node_modules" / ".bin" / "prism"


def ensure_installed() -> Path:
    """Install Prism into the cache if it is not there yet; return the executable."""
    marker = CACHE / "node_modules" / "@stoplight" / "prism-cli" / "package.json"
    if marker.exists() and json.loads(marker.read_text()).get("version") == VERSION:
        return executable()
    if shutil.which("npm") is None:
        raise RuntimeError("npm is needed to install Prism (apt-get install npm)")
    CACHE.mkdir(parents=True, exist_ok=True)
    package = CACHE / "package.json"
    if not package.exists():
        package.write_text('{"name": "segmux-prism", "private": true}\n')
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", f"@stoplight/prism-cli@{VERSION}"],
        cwd=CACHE,
        check=True,
        stdout=subprocess.DEVNULL,
        timeout=900,
    )
    return executable()


def spec_of(path: str) -> str | None:
    """The spec whose Prism validates ``path`` (None: not a vendor API, not validated)."""
    if path.startswith(UNPROXIED):
        return None
    return next((name for prefix, name in PREFIXES if path.startswith(prefix)), "hal")


@dataclass
class PrismProxy:
    spec: str
    port: int
    log: Path
    process: subprocess.Popen[bytes]
    read_up_to: int = 0

    def new_log_lines(self) -> list[str]:
        """Log lines written since the last call."""
        text = self.log.read_text(errors="replace")
        lines, self.read_up_to = text[self.read_up_to :].splitlines(), len(text)
        return lines


def violations(lines: list[str]) -> list[str]:
    """Prism's log lines that report a problem (an error, a warning, a violation)."""
    return [ln for ln in lines if "✖" in ln or "⚠" in ln or "iolation" in ln]


@contextmanager
def prism_proxy(spec: str, upstream: str, port: int, log: Path) -> Iterator[PrismProxy]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(executable()),
                "proxy",
                str(SPECS / f"{spec}.yaml"),
                upstream,
                "--errors",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield PrismProxy(spec, port, log, process)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def wait_listening(proxy: PrismProxy, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while "Prism is listening" not in proxy.log.read_text(errors="replace"):
        if proxy.process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(
                f"Prism for {proxy.spec} did not start:\n{proxy.log.read_text(errors='replace')}"
            )
        time.sleep(0.2)
    proxy.new_log_lines()  # the start-up listing is not a finding


@dataclass
class Router:
    """Sends each request to the Prism of its API (or straight to the gateway)."""

    address: str  # host:port the sessions talk to
    gateway: int
    prisms: dict[str, int]
    flagged: list[str] = field(default_factory=list)  # sl-violations and Prism's errors
    sent: Counter[str] = field(default_factory=Counter)  # requests per Prism

    def target(self, path: str) -> int:
        spec = spec_of(path.split("?", 1)[0])
        if spec is None:
            return self.gateway
        self.sent[spec] += 1
        return self.prisms[spec]


def _handler(router: Router) -> type[BaseHTTPRequestHandler]:
    class Forward(BaseHTTPRequestHandler):
        def forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {
                k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")
            }
            # Prism calls the gateway by its own address; the links the gateway writes (HAL)
            # must name the address the client used, as behind any reverse proxy.
            headers["X-Forwarded-Host"] = router.address
            headers["X-Forwarded-Proto"] = "http"
            conn = http.client.HTTPConnection("127.0.0.1", router.target(self.path), timeout=60)
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
            finally:
                conn.close()
            if answer.getheader("sl-violations"):
                router.flagged.append(
                    f"{self.command} {self.path}: {answer.getheader('sl-violations')}"
                )
            if b"stoplight.io/prism/errors" in data:  # Prism's own error, with the details
                router.flagged.append(f"{self.command} {self.path}: {data.decode()}")
            self.send_response(answer.status)
            for name, value in answer.getheaders():
                if name.lower() not in (
                    "transfer-encoding",
                    "connection",
                    "content-length",
                    "date",
                    "server",
                ):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = forward

        def log_message(self, format: str, *args: object) -> None:
            pass  # Prism's log is the record

    return Forward


@contextmanager
def routed_prisms(
    gateway_port: int, router_port: int, ports: dict[str, int], logs: Path
) -> Iterator[tuple[Router, list[PrismProxy]]]:
    """A Prism per served spec in front of ``gateway_port``, and the router at
    ``router_port``."""
    upstream = f"http://127.0.0.1:{gateway_port}"
    with ExitStack() as stack:
        proxies = [
            stack.enter_context(prism_proxy(name, upstream, port, logs / f"{name}.log"))
            for name, port in ports.items()
        ]
        for proxy in proxies:  # started together: Node starts slowly on a busy machine
            wait_listening(proxy)
        router = Router(f"127.0.0.1:{router_port}", gateway_port, dict(ports))
        server = ThreadingHTTPServer(("127.0.0.1", router_port), _handler(router))
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield router, proxies
        finally:
            server.shutdown()
            server.server_close()


if __name__ == "__main__":
    print(ensure_installed())
