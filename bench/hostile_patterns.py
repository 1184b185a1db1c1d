"""Hostile patterns against a real ``segmux serve`` (SQLite): how long each evaluate takes and the
slowest ``/healthz`` answered meanwhile (a probe every 20 ms).

    python -m bench.hostile_patterns [SOURCE_TREE] [--short]

``SOURCE_TREE`` (default: this repository) is the segmux source the server runs, so an older
commit (``git archive <commit> | tar -x -C /tmp/old``) can be measured with ``--short``: only
the inputs a backtracking engine survives (26 and 100 characters).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from tests.live import free_port

TOKEN = "smx_bench-hostile-admin"


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--short"]
    short = "--short" in sys.argv[1:]
    root = Path(args[0]).resolve() if args else Path(__file__).resolve().parents[1]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "SEGMUX_DATABASE_URL": f"sqlite:///{tmp}/bench.db",
            "SEGMUX_ADMIN_TOKEN": TOKEN,
            "SEGMUX_LOG_LEVEL": "warning",
            "PYTHONPATH": str(root),
        }
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gateway.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            cwd=root,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait(url)
            _run(url, short)
        finally:
            proc.terminate()
            proc.wait(30)


def _wait(url: str) -> None:
    for _ in range(600):
        try:
            if httpx.get(url + "/healthz").status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("segmux serve did not start")


def _run(url: str, short: bool) -> None:
    c = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=600)

    def segment(name: str, pql: str) -> str:
        r = c.post(
            "/segmux/v1/segments",
            json={"name": name, "condition": {"language": "pql", "expression": pql}},
        )
        r.raise_for_status()
        return str(r.json()["id"])

    def timed(label: str, path: str, body: dict[str, Any]) -> None:
        worst = 0.0
        stop = threading.Event()

        def probe() -> None:
            nonlocal worst
            while not stop.is_set():
                started = time.perf_counter()
                httpx.get(url + "/healthz", timeout=600)
                worst = max(worst, time.perf_counter() - started)
                time.sleep(0.02)

        thread = threading.Thread(target=probe)
        thread.start()
        started = time.perf_counter()
        r = c.post(path, json=body)
        took = time.perf_counter() - started
        stop.set()
        thread.join()
        extra = "" if r.status_code == 200 else f" | {r.text[:300]}"
        print(
            f"{label}: HTTP {r.status_code} in {took:.3f} s; slowest /healthz meanwhile "
            f"{worst:.3f} s{extra}",
            flush=True,
        )

    rx = segment("backtracks", 'email.matches("(a+)+$")')
    like = segment("likes", 'city like "%a%a%a%a%a%!"')
    one, batch = "/segmux/v1/evaluate", "/segmux/v1/evaluate:batch"
    timed(
        'matches("(a+)+$"), 26 x a + "!"',
        one,
        {"context": {"email": "a" * 26 + "!"}, "segments": [rx]},
    )
    timed('like "%a%a%a%a%a%!", 100 x a', one, {"context": {"city": "a" * 100}, "segments": [like]})
    if short:
        return
    timed('matches("(a+)+$"), 10,000 x a + "!"', one, {"context": {"email": "a" * 10_000 + "!"}})
    timed('like "%a%a%a%a%a%!", 10,000 x a', one, {"context": {"city": "a" * 10_000}})
    timed(
        "batch of 45 x {email, city: 10,000 x a} (~0.9 MB)",
        batch,
        {"contexts": [{"email": "a" * 10_000 + "!", "city": "a" * 10_000}] * 45},
    )
    timed(
        'batch of 1,000 x {email: 26 x a + "!"}',
        batch,
        {"contexts": [{"email": "a" * 26 + "!"}] * 1000},
    )
    for s in range(15):
        segment(f"patterns-{s}", " or ".join(f'v.matches("(a+)+{s}x{a}$")' for a in range(20)))
    timed(
        "batch of 1,000 x 40 values against 300 patterns (past the budget)",
        batch,
        {"contexts": [{"v": [f"aaaaaaaaaa{i}"] * 40} for i in range(1000)]},
    )


if __name__ == "__main__":
    main()
