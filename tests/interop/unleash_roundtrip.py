"""``make interop``: segments from a real Unleash server into segmux and out into another one.

1. Start real Unleash A and B (``unleash-server@8.2.0``, each on a fresh PostgreSQL database;
   ``bench.unleash_server``) and a segmux (``segmux serve``) on its own SQLite store.
2. Create a handful of segments in A through its admin API, with a spread of operators.
3. ``segmux migrate unleash+A unleash+segmux``, then again (must be a no-op), then
   ``segmux migrate unleash+segmux unleash+B`` — the real CLI, as a person runs it.
4. Check that B's segments equal A's: ids, names, descriptions and constraints (compared as
   sets of key/value pairs per constraint, since Postgres jsonb orders keys its own way).

Prints every command and its report; exits non-zero on any difference. Not part of
``make test``: it needs npm (first run) and takes about a minute.
"""

from __future__ import annotations

import os
import secrets
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.unleash_server import unleash_server  # noqa: E402
from tests.live import free_port  # noqa: E402

SEGMUX = str(ROOT / ".venv" / "bin" / "segmux")

SEGMENTS: list[dict[str, Any]] = [
    {
        "name": "beta-users",
        "description": "Beta testers",
        "constraints": [{"contextName": "userId", "operator": "IN", "values": ["u1", "u2", "u3"]}],
    },
    {
        "name": "not internal",
        "constraints": [
            {
                "contextName": "email",
                "operator": "STR_ENDS_WITH",
                "values": ["@example.com"],
                "inverted": True,
            }
        ],
    },
    {
        "name": "nordics on new app",
        "description": "SE/NO/DK, app ≥ 2.1.0",
        "constraints": [
            {"contextName": "country", "operator": "IN", "values": ["SE", "NO", "DK"]},
            {"contextName": "appVersion", "operator": "SEMVER_GTE", "value": "2.1.0"},
        ],
    },
    {
        "name": "adults",
        "constraints": [{"contextName": "age", "operator": "NUM_GTE", "value": "18"}],
    },
    {
        "name": "after launch",
        "constraints": [
            {
                "contextName": "currentTime",
                "operator": "DATE_AFTER",
                "value": "2025-01-01T00:00:00.000Z",
            }
        ],
    },
    {
        "name": "acme anywhere, any case",
        "constraints": [
            {
                "contextName": "company",
                "operator": "STR_CONTAINS",
                "values": ["acme"],
                "caseInsensitive": True,
            }
        ],
    },
    {
        "name": "not blocked",
        "constraints": [
            {"contextName": "userId", "operator": "NOT_IN", "values": ["bad1", "bad2"]}
        ],
    },
    {"name": "everyone", "description": "", "constraints": []},
]


def admin(url: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": token}, timeout=30)


def load(url: str, token: str) -> None:
    with admin(url, token) as http:
        for body in SEGMENTS:
            r = http.post("/api/admin/segments", json=body)
            if r.status_code != 201:
                raise SystemExit(f"Unleash A refused {body['name']!r}: {r.status_code} {r.text}")


def listing(url: str, token: str) -> list[dict[str, Any]]:
    with admin(url, token) as http:
        r = http.get("/api/admin/segments")
        r.raise_for_status()
        segments: list[dict[str, Any]] = r.json()["segments"]
        return segments


def comparable(segment: dict[str, Any]) -> tuple[Any, ...]:
    """What must survive the round trip. ``values: []`` is how a stored single-value
    constraint looks in every Unleash; ``description`` "" and null are both "none"."""
    constraints = sorted(
        tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in c.items()))
        for c in segment["constraints"]
    )
    return (segment["id"], segment["name"], segment.get("description") or None, tuple(constraints))


def migrate(source: str, target: str, source_token: str, target_token: str) -> int:
    command = [SEGMUX, "migrate", source, target]
    print(f"\n$ segmux migrate {shlex.join(command[2:])}", flush=True)
    env = {**os.environ, "SEGMUX_SOURCE_TOKEN": source_token, "SEGMUX_TARGET_TOKEN": target_token}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    print(f"(exit status {done.returncode})", flush=True)
    return done.returncode


def segmux_serve(store: str, token: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "SEGMUX_DATABASE_URL": store,
        "SEGMUX_ADMIN_TOKEN": token,
        "SEGMUX_LOG_LEVEL": "warning",
    }
    proc = subprocess.Popen(
        [SEGMUX, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    proc.terminate()
    raise SystemExit("segmux serve did not start")


def main() -> int:
    token = secrets.token_urlsafe(24)
    with (
        tempfile.TemporaryDirectory() as tmp,
        unleash_server("segmux_interop_a") as a,
        unleash_server("segmux_interop_b") as b,
    ):
        print(f"Unleash A {a.url} (db {a.database}), Unleash B {b.url} (db {b.database})")
        proc, segmux = segmux_serve(f"sqlite:///{tmp}/segmux.db", token)
        try:
            print(f"segmux   {segmux} (store sqlite {tmp}/segmux.db)")
            load(a.url, a.admin_token)
            codes = [
                migrate(f"unleash+{a.url}", f"unleash+{segmux}", a.admin_token, token),
                migrate(f"unleash+{a.url}", f"unleash+{segmux}", a.admin_token, token),
                migrate(f"unleash+{segmux}", f"unleash+{b.url}", token, b.admin_token),
            ]
        finally:
            proc.terminate()
            proc.wait(timeout=20)
        want = sorted(comparable(s) for s in listing(a.url, a.admin_token))
        got = sorted(comparable(s) for s in listing(b.url, b.admin_token))
    print(f"\nA has {len(want)} segments, B has {len(got)}.")
    if codes != [0, 0, 0] or want != got:
        for row in sorted(set(want) ^ set(got)):
            print(f"  differs: {row}")
        print("INTEROP FAILED")
        return 1
    print("B's segments equal A's (ids, names, descriptions, constraints). INTEROP OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
