"""The ``segmux`` command as a user runs it: a real process per call."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.live import free_port

SEGMUX = [sys.executable, "-m", "gateway.cli"]
ADMIN = "smx_from-the-environment-0123456789"
# Every test starts from an empty store (the ``store`` fixture empties PostgreSQL's).
pytestmark = pytest.mark.usefixtures("store")


def run(args: list[str], url: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SEGMUX, *args], capture_output=True, text=True, timeout=60,
        env={**os.environ, "SEGMUX_DATABASE_URL": url, **env},
    )


def test_tokens_create_prints_only_the_token_and_stores_its_hash(store_url: str) -> None:
    done = run(["tokens", "create", "--tenant", "acme", "--scope", "admin", "--name", "ci"],
               store_url)
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    assert done.stdout == token + "\n"
    assert token.startswith("smx_")
    assert len(token) > 40
    listed = run(["tokens", "list", "--tenant", "acme"], store_url)
    assert listed.returncode == 0
    assert "\tacme\tadmin\tci" in listed.stdout
    assert token not in listed.stdout


def test_tokens_create_refuses_bad_scope(store_url: str) -> None:
    done = run(["tokens", "create", "--tenant", "acme", "--scope", "root", "--name", "x"],
               store_url)
    assert done.returncode == 2
    assert "scope" in done.stderr
    assert done.stdout == ""


def test_tokens_revoke(store_url: str) -> None:
    run(["tokens", "create", "--tenant", "acme", "--scope", "client:dev", "--name", "sdk"],
        store_url)
    header, row = run(["tokens", "list"], store_url).stdout.splitlines()
    assert header.split("\t") == ["ID", "TENANT", "SCOPE", "NAME", "CLIENT_ID"]
    token_id = row.split("\t", 1)[0]
    done = run(["tokens", "revoke", token_id], store_url)
    assert done.returncode == 0
    assert done.stdout == f"revoked token {token_id} of tenant 'acme' (client:dev, name 'sdk')\n"
    assert run(["tokens", "list"], store_url).stdout == header + "\n"
    again = run(["tokens", "revoke", token_id], store_url)
    assert again.returncode == 2
    assert again.stderr.startswith(f"segmux: no token with id {token_id!r} in store ")


def test_db_upgrade_is_idempotent(store_url: str) -> None:
    assert run(["db", "upgrade"], store_url).returncode == 0
    assert run(["db", "upgrade"], store_url).returncode == 0


def _serve(url: str, port: int, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*SEGMUX, "serve", "--port", str(port)], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
        env={**os.environ, "SEGMUX_DATABASE_URL": url, **env},
    )


def _wait_ready(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("segmux serve did not become ready")


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    return err


@pytest.mark.parametrize("backend", ["sqlite"])
def test_serve_prints_a_first_token_once_and_it_works(tmp_path: Path, backend: str) -> None:
    url = f"sqlite:///{tmp_path}/first.db"
    port = free_port()
    proc = _serve(url, port)
    try:
        _wait_ready(port)
    finally:
        err = _stop(proc)
    lines = [json.loads(line) for line in err.splitlines()]
    token = next(line["token"] for line in lines if "token" in line)
    assert "shown once" in next(line["event"] for line in lines if "token" in line)
    port = free_port()
    proc = _serve(url, port)
    try:
        _wait_ready(port)
        r = httpx.get(f"http://127.0.0.1:{port}/v2.3/data/segments",
                      headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200
    finally:
        err = _stop(proc)
    assert "smx_" not in err  # the second start prints no token, and logs never show one


def test_serve_seeds_admin_token_from_env(store_url: str) -> None:
    port = free_port()
    proc = _serve(store_url, port, SEGMUX_ADMIN_TOKEN=ADMIN)
    try:
        _wait_ready(port)
        base = f"http://127.0.0.1:{port}"
        ok = httpx.post(f"{base}/v2.3/data/segments", json={"name": "seeded"},
                        headers={"Authorization": f"Bearer {ADMIN}"})
        assert ok.status_code == 200
        assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
        assert httpx.get(f"{base}/segmux/openapi/v23.json").json()["openapi"].startswith("3.")
    finally:
        err = _stop(proc)
    assert ADMIN not in err
    assert '"event": "request"' in err
