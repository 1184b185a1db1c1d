"""What the browser tests share: vendors' browser SDKs installed from npm into ``.cache/``, a small
web server standing for the application's own (another origin than the gateway's), and the
Chromium flags for pages whose SDKs poll, and a gateway that lets that server's pages call it.

``npm_install`` installs pinned versions once into ``.cache/<name>/`` (gitignored) and again only
when a version there differs; without npm it skips on a laptop and fails under ``CI=true``.
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests import pg
from tests.live import free_port
from tests.reliability.procs import Gateway

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache"

POLLING_ARGS = [
    # Pages that poll at once: keep Chromium from throttling the timers of the ones it considers
    # in the background, or their SDKs poll (and post metrics) only now and then.
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]


def npm_install(name: str, packages: Mapping[str, str]) -> Path:
    """``node_modules`` of ``.cache/<name>/`` holding exactly ``packages`` (name -> version)."""
    folder = CACHE / name
    modules = folder / "node_modules"

    def installed(package: str) -> str | None:
        manifest = modules / package / "package.json"
        return str(json.loads(manifest.read_text())["version"]) if manifest.exists() else None

    if all(installed(p) == v for p, v in packages.items()):
        return modules
    pg.require_command("npm")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "package.json").write_text(f'{{"name": "segmux-{name}", "private": true}}\n')
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", *(f"{p}@{v}" for p, v in packages.items())],
        cwd=folder,
        check=True,
        stdout=subprocess.DEVNULL,
        timeout=600,
    )
    wrong = {p: installed(p) for p, v in packages.items() if installed(p) != v}
    assert not wrong, f"npm installed other versions into {folder}: {wrong}"
    return modules


@contextmanager
def serve_pages(files: Mapping[str, tuple[bytes, str]]) -> Iterator[int]:
    """A web server on a free loopback port answering GET ``path`` (the query ignored) with
    ``files[path]`` (body, media type), 404 otherwise: the application's own server, which
    serves its page and the SDK and nothing of segmux. Yields the port."""

    class Pages(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # the stdlib names it so
            found = files.get(self.path.split("?", 1)[0])
            if found is None:
                self.send_error(404)
                return
            body, media = found
            self.send_response(200)
            self.send_header("Content-Type", media)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), Pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def gateway_for_pages(pages: int, where: Path) -> Iterator[Gateway]:
    """``segmux serve`` on SQLite under ``where``, allowing CORS from the page server on port
    ``pages`` only (as the browser names it: 127.0.0.1; the same page reached as localhost is
    another origin, which must be refused). One backend: a page talks HTTP only, and the APIs'
    store behaviour on both backends has tests of its own. The access log (``info``) shows
    what the gateway answered, before the browser's cache turns a 304 back into the 200 it
    holds."""
    env = {"SEGMUX_CORS_ORIGINS": f"http://127.0.0.1:{pages}", "SEGMUX_LOG_LEVEL": "info"}
    g = Gateway(f"sqlite:///{where}/segmux.db", where, env=env).start()
    try:
        yield g
    finally:
        g.stop()
