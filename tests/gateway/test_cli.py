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

from core.store import Store
from tests.live import free_port

SEGMUX = [sys.executable, "-m", "gateway.cli"]
ADMIN = "smx_from-the-environment-0123456789"
# Every test starts from an empty store (the ``store`` fixture empties PostgreSQL's).
pytestmark = pytest.mark.usefixtures("store")


def run(args: list[str], url: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SEGMUX, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "SEGMUX_DATABASE_URL": url, **env},
    )


def test_tokens_create_prints_only_the_token_and_stores_its_hash(store_url: str) -> None:
    done = run(
        ["tokens", "create", "--tenant", "acme", "--scope", "admin", "--name", "ci"], store_url
    )
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
    done = run(
        ["tokens", "create", "--tenant", "acme", "--scope", "root", "--name", "x"], store_url
    )
    assert done.returncode == 2
    assert "scope" in done.stderr
    assert done.stdout == ""


def test_tokens_create_takes_an_ofrep_scope(store_url: str) -> None:
    done = run(
        ["tokens", "create", "--tenant", "acme", "--scope", "ofrep:production", "--name", "web"],
        store_url,
    )
    assert done.returncode == 0, done.stderr
    assert "\tacme\tofrep:production\tweb" in run(["tokens", "list"], store_url).stdout
    bad = run(
        ["tokens", "create", "--tenant", "acme", "--scope", "ofrep:", "--name", "x"], store_url
    )
    assert bad.returncode == 2 and "ofrep:<environment>" in bad.stderr


def test_tokens_revoke(store_url: str) -> None:
    run(
        ["tokens", "create", "--tenant", "acme", "--scope", "client:dev", "--name", "sdk"],
        store_url,
    )
    header, row = run(["tokens", "list"], store_url).stdout.splitlines()
    assert header.split("\t") == ["ID", "TENANT", "SCOPE", "NAME", "CLIENT_ID"]
    token_id = row.split("\t", 1)[0]
    done = run(["tokens", "revoke", token_id], store_url)
    assert done.returncode == 0
    assert done.stdout == f"revoked token {token_id} of tenant 'acme' (client:dev, name 'sdk')\n"
    assert done.stderr == f"store {store_url}\n"
    assert run(["tokens", "list"], store_url).stdout == header + "\n"
    again = run(["tokens", "revoke", token_id], store_url)
    assert again.returncode == 2
    assert again.stderr.startswith(f"segmux: no token with id {token_id!r} in store ")


def test_db_upgrade_is_idempotent(store_url: str) -> None:
    assert run(["db", "upgrade"], store_url).returncode == 0
    assert run(["db", "upgrade"], store_url).returncode == 0


def _serve(url: str, port: int, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*SEGMUX, "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
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


def test_serve_prints_a_first_token_once_to_a_person_and_it_works(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/first.db"
    port = free_port()
    proc = _serve(url, port, SEGMUX_LOG_FORMAT="console")
    try:
        _wait_ready(port)
    finally:
        err = _stop(proc)
    assert "shown once" in err
    token = next(w for w in err.split() if w.startswith("smx_"))
    port = free_port()
    proc = _serve(url, port, SEGMUX_LOG_FORMAT="console")
    try:
        _wait_ready(port)
        r = httpx.get(
            f"http://127.0.0.1:{port}/v2.3/data/segments",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 200
    finally:
        err = _stop(proc)
    assert "smx_" not in err  # the second start prints no token, and logs never show one


def test_json_logs_never_carry_a_token_even_on_an_empty_store(tmp_path: Path) -> None:
    """JSON lines go to log collectors: no first token is made there, the banner says how."""
    url = f"sqlite:///{tmp_path}/empty.db"
    port = free_port()
    proc = _serve(url, port)
    try:
        _wait_ready(port)
        r = httpx.get(f"http://127.0.0.1:{port}/v2.3/data/segments")
        assert r.status_code == 401
    finally:
        err = _stop(proc)
    lines = [json.loads(line) for line in err.splitlines()]
    assert "smx_" not in err
    hint = next(line for line in lines if line["event"] == "get a token")
    assert "segmux tokens create" in hint["command"]


def test_serve_seeds_admin_token_from_env(store_url: str) -> None:
    port = free_port()
    proc = _serve(store_url, port, SEGMUX_ADMIN_TOKEN=ADMIN)
    try:
        _wait_ready(port)
        base = f"http://127.0.0.1:{port}"
        ok = httpx.post(
            f"{base}/v2.3/data/segments",
            json={"name": "seeded"},
            headers={"Authorization": f"Bearer {ADMIN}"},
        )
        assert ok.status_code == 200
        assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
        assert httpx.get(f"{base}/segmux/openapi/v23.json").json()["openapi"].startswith("3.")
    finally:
        err = _stop(proc)
    assert ADMIN not in err
    assert '"event": "request"' in err


def with_password(url: str) -> str:
    """``url`` with a password (the test server trusts local connections, so any will do)."""
    if not url.startswith("postgresql://"):
        return url
    user, rest = url[len("postgresql://") :].split("@", 1)
    return f"postgresql://{user}:pass-w0rd@{rest}"


def shown(url: str) -> str:
    """How segmux names the store: the password masked."""
    return url.replace(":pass-w0rd@", ":***@")


def test_commands_name_their_store_with_the_password_masked(store_url: str) -> None:
    url = with_password(store_url)
    done = run(["tokens", "create", "--tenant", "acme", "--scope", "admin", "--name", "ci"], url)
    assert done.returncode == 0, done.stderr
    token_id = run(["tokens", "list"], url).stdout.splitlines()[1].split("\t")[0]
    assert (
        done.stderr == f"created token {token_id} of tenant 'acme' (admin) in store {shown(url)}\n"
    )
    assert "pass-w0rd" not in done.stderr
    port = free_port()
    proc = _serve(url, port, SEGMUX_ADMIN_TOKEN=ADMIN)
    try:
        _wait_ready(port)
    finally:
        err = _stop(proc)
    serving = next(json.loads(line) for line in err.splitlines() if '"serving"' in line)
    assert serving["store"] == shown(url)
    assert "pass-w0rd" not in err


def test_a_command_run_elsewhere_does_not_make_a_new_store(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "SEGMUX_DATABASE_URL"}
    done = subprocess.run(
        [*SEGMUX, "tokens", "create", "--tenant", "default", "--scope", "admin", "--name", "x"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=elsewhere,
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith(f"segmux: no store at {elsewhere}/segmux.db (")
    assert list(elsewhere.iterdir()) == []


async def test_tenants_set_sets_every_tenant_setting(store_url: str, store: Store) -> None:
    run(["tokens", "create", "--tenant", "acme", "--scope", "admin", "--name", "a"], store_url)
    done = run(
        [
            "tenants",
            "set",
            "--tenant",
            "acme",
            "--ims-org",
            "53A7E4A25F3C@AdobeOrg",
            "--confidence-account",
            "acme-prod",
        ],
        store_url,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        "tenant 'acme': ims_org_id 53A7E4A25F3C@AdobeOrg, confidence_account_id acme-prod\n"
    )
    assert done.stderr == f"store {store_url}\n"
    settings = (await store.get_tenant("acme")).settings
    assert (settings["ims_org_id"], settings["confidence_account_id"]) == (
        "53A7E4A25F3C@AdobeOrg",
        "acme-prod",
    )
    bad = run(["tenants", "set", "--tenant", "acme", "--confidence-account", "not one"], store_url)
    assert bad.returncode == 2
    assert bad.stderr.startswith("segmux: account_id: must be 1 to 128 characters")
    assert (await store.get_tenant("acme")).settings["confidence_account_id"] == "acme-prod"
    nothing = run(["tenants", "set", "--tenant", "acme"], store_url)
    assert (nothing.returncode, nothing.stderr) == (
        2,
        "segmux: tenants set needs a setting to change (give --ims-org and/or "
        "--confidence-account)\n",
    )


def test_help_lists_every_command_and_names_variables_and_defaults() -> None:
    top = subprocess.run([*SEGMUX, "--help"], capture_output=True, text=True, timeout=60)
    assert top.returncode == 0
    for command in (
        "serve",
        "db upgrade",
        "tokens create",
        "tokens list",
        "tokens revoke ID",
        "tenants set",
        "migrate SOURCE TARGET",
        "export",
        "import FILE",
    ):
        assert f"  segmux {command} " in top.stdout
    assert "(env SEGMUX_DATABASE_URL; default sqlite:///./segmux.db)" in " ".join(
        top.stdout.split()
    )
    serve = " ".join(
        subprocess.run(
            [*SEGMUX, "serve", "--help"], capture_output=True, text=True, timeout=60
        ).stdout.split()
    )
    for flag, variable, default in (
        ("--host", "SEGMUX_HOST", "127.0.0.1"),
        ("--port", "SEGMUX_PORT", "8080"),
        ("--workers", "SEGMUX_WORKERS", "1"),
        ("--grace", "SEGMUX_SHUTDOWN_GRACE", "10"),
    ):
        assert flag in serve
        assert f"(env {variable}; default {default})" in serve
    for variable in (
        "SEGMUX_LOG_LEVEL",
        "SEGMUX_LOG_FORMAT",
        "SEGMUX_ADMIN_TOKEN",
        "SEGMUX_BODY_LIMIT",
        "SEGMUX_SEGMENT_LIMIT",
        "SEGMUX_FRESHNESS",
    ):
        assert variable in serve


def test_every_option_of_every_command_names_its_default() -> None:
    from gateway.cli import _parser, _parsers

    for parser in _parsers(_parser()):
        for action in parser._actions:
            if action.option_strings and action.nargs != 0 and not action.required:
                assert action.help and "default" in action.help, (parser.prog, action.dest)
