"""What ``segmux serve`` writes, read from a real process: with ``SEGMUX_LOG_FORMAT=json`` (the
default) every line of stdout and stderr is one JSON object of one schema (segmux's banner and
request lines, uvicorn's start, stop and error lines alike); with ``console`` every line is for
humans."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live import free_port, wait_answering

SEGMUX = [sys.executable, "-m", "gateway.cli"]
SCHEMA = {"timestamp", "level", "logger", "event"}
"""Keys of every JSON line (each event adds its own)."""


def serve_and_stop(tmp_path: Path, *args: str, **env: str) -> tuple[str, str]:
    """Start ``segmux serve``, make a request and a failing one, stop it with SIGTERM; return
    (stdout, stderr)."""
    port = free_port()
    proc = subprocess.Popen(
        [*SEGMUX, "serve", "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("SEGMUX_")},
            "SEGMUX_DATABASE_URL": f"sqlite:///{tmp_path}/logs.db",
            **env,
        },
    )
    try:
        wait_answering(proc, f"http://127.0.0.1:{port}/readyz", proc.communicate)
        assert httpx.get(f"http://127.0.0.1:{port}/v2.3/data/segments").status_code == 401
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return out, err


def json_lines(text: str) -> list[dict[str, Any]]:
    lines = []
    for line in text.splitlines():
        value = json.loads(line)  # every line, blank ones included, must be JSON
        assert isinstance(value, dict), line
        assert value.keys() >= SCHEMA, line
        lines.append(value)
    return lines


@pytest.mark.parametrize("workers", ["1", "2"])
def test_every_line_is_json_of_one_schema(tmp_path: Path, workers: str) -> None:
    out, err = serve_and_stop(tmp_path, "--workers", workers)
    lines = json_lines(out) + json_lines(err)
    events = [(line["logger"], line["event"]) for line in lines]
    serving = next(line for line in lines if line["event"] == "serving")
    assert serving["store"] == f"sqlite:///{tmp_path}/logs.db"
    assert not any("token" in line for line in lines)  # a token is never logged
    assert "segmux tokens create" in next(
        line["command"] for line in lines if line["event"] == "get a token"
    )
    assert any(
        logger == "uvicorn" and event.startswith("Uvicorn running on") for logger, event in events
    )
    assert ("uvicorn", "Application shutdown complete.") in events
    requests = [line for line in lines if line["event"] == "request"]
    assert [r["status"] for r in requests if r["path"] == "/v2.3/data/segments"] == [401]
    assert {line["level"] for line in lines} <= {"debug", "info", "warning", "error", "critical"}


def test_console_lines_are_for_humans(tmp_path: Path) -> None:
    out, err = serve_and_stop(tmp_path, SEGMUX_LOG_FORMAT="console")
    text = out + err
    for line in text.splitlines():
        assert not line.lstrip().startswith("{"), line
    assert "segmux on http://127.0.0.1:" in text
    assert f"(store: sqlite:///{tmp_path}/logs.db)" in text
    assert "First admin token of tenant 'default'" in text
    assert "Uvicorn running on" in text
    assert "Application shutdown complete." in text
    request = next(line for line in text.splitlines() if "path=/v2.3/data/segments" in line)
    assert "status=401" in request
