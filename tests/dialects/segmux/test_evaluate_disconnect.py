"""A real ``segmux serve`` (both backends): a long ``evaluate:batch`` whose client goes away
stops its work (its log says after how many contexts, and it answers 499 to no one), and
``/healthz`` answers while the batch runs."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.reliability.procs import ADMIN_TOKEN, Gateway

CONTEXTS = 1000
GENEROUS_SECONDS = 60.0


def _seed(url: str) -> None:
    with httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=30
    ) as c:
        for s in range(15):  # 300 distinct patterns on v
            pql = " or ".join(f'v.matches("(a+)+{s}x{a}$")' for a in range(20))
            r = c.post(
                "/segmux/v1/segments",
                json={"name": f"patterns-{s}", "condition": {"language": "pql", "expression": pql}},
            )
            assert r.status_code == 201, r.text


def _log_events(gw: Gateway, event: str) -> list[dict[str, Any]]:
    found = []
    for line in gw.output().splitlines():
        if event in line and line.startswith("{"):
            found.append(json.loads(line))
    return found


def _await_events(gw: Gateway, event: str, path: str | None = None) -> list[dict[str, Any]]:
    """The log's ``event`` lines (of ``path`` if given), once there is one; fails after
    :data:`GENEROUS_SECONDS` with the log's tail."""
    deadline = time.monotonic() + GENEROUS_SECONDS
    while True:
        found = [e for e in _log_events(gw, event) if path is None or e.get("path") == path]
        if found:
            return found
        assert time.monotonic() < deadline, gw.output()[-3000:]
        time.sleep(0.2)


def test_a_batch_whose_client_disconnects_stops_and_healthz_answers_meanwhile(
    store_url: str, tmp_path: Path
) -> None:
    gw = Gateway(
        store_url,
        tmp_path,
        env={"SEGMUX_LOG_LEVEL": "info", "SEGMUX_EVALUATE_BUDGET_MS": "3600000"},
    )
    gw.start()
    try:
        _seed(gw.url)
        # 300 patterns x 40 values x 1,000 contexts: far longer than this test waits.
        body = json.dumps(
            {"contexts": [{"v": [f"aaaaaaaaaa{i}"] * 40} for i in range(CONTEXTS)]}
        ).encode()
        head = (
            f"POST /segmux/v1/evaluate:batch HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {ADMIN_TOKEN}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        sock = socket.create_connection(("127.0.0.1", gw.port), timeout=30)
        try:
            sock.sendall(head + body)
            time.sleep(1.0)  # the batch is under way
            health = httpx.get(gw.url + "/healthz", timeout=GENEROUS_SECONDS)
            assert health.status_code == 200
        finally:
            sock.close()  # the client gives up
        stopped = _await_events(gw, "the client went away")
        assert 0 < stopped[0]["done"] < CONTEXTS
        # Access lines are written in batches off the request path (gateway/log_writer.py), so
        # the request's line may follow the handler's own event by a flush: wait for it too.
        requests = _await_events(gw, '"request"', path="/segmux/v1/evaluate:batch")
        assert [e["status"] for e in requests] == [499]
        # The process is free again: a small evaluate is answered.
        r = httpx.post(
            gw.url + "/segmux/v1/evaluate",
            timeout=GENEROUS_SECONDS,
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            json={"context": {"v": "!a3x7"}},
        )
        assert r.status_code == 200, r.text
        assert sum(r.json()["results"].values()) == 1
        assert gw.own_tracebacks() == []
    finally:
        gw.stop()


def test_a_malformed_budget_is_refused_at_start(store_url: str) -> None:
    for value in ("0", "-5", "2s", ""):
        done = subprocess.run(
            [sys.executable, "-m", "gateway.cli", "serve", "--port", "1"],
            capture_output=True,
            text=True,
            timeout=60,
            env={
                **os.environ,
                "SEGMUX_DATABASE_URL": store_url,
                "SEGMUX_EVALUATE_BUDGET_MS": value,
            },
        )
        assert done.returncode == 2, done.stderr
        assert "SEGMUX_EVALUATE_BUDGET_MS must be a whole number of at least 1" in done.stderr
        assert "Traceback" not in done.stderr
