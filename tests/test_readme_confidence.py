"""The README's Confidence curl session, run as written against a live gateway (only ``BASE``
differs: the test picks a free port), on both backends."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.live import live_gateway

ROOT = Path(__file__).resolve().parent.parent


def confidence_session() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Confidence: segments at `/v1/segments`", 1)[1]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match, "the README lost its Confidence curl session"
    return match.group(1)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_readme_confidence_session_works(store_url: str, backend: str, tmp_path: Path) -> None:
    script = confidence_session()
    assert script.startswith("BASE=http://127.0.0.1:8080\n")
    with live_gateway(store_url, "smx_readme-seed") as base:
        script = script.replace("BASE=http://127.0.0.1:8080", f"BASE={base}", 1)
        (tmp_path / ".venv").mkdir()
        (tmp_path / ".venv" / "bin").symlink_to(Path(sys.executable).parent)
        env = {**os.environ, "SEGMUX_DATABASE_URL": store_url}
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, env=env,
            capture_output=True, text=True, timeout=60,
        )
    assert done.returncode == 0, done.stderr
    out = done.stdout  # the answers, one after another (curl adds no newlines)
    expected = [
        '"creator":"identities/confidence-tool"',
        '"name":"segments/sweden-10pct"',
        '"state":"OK"',
        '"name":"segments/exp-a"',
        '"state":"ALLOCATED"',
        '{"availableSpace":{"value":"0.35"}}',
        '{"code":9,"message":"segment segments/exp-b cannot be allocated: 0.5 requested, '
        '0.35 available"',
        '"name":"segments/exp-b"',
        '"state":"ALLOCATED"',
        '{"segments":[',
        '"name":"segments/exp-b"',
        '"name":"segments/exp-a"',
        '{"code":5,"message":"segments cannot be deleted',
        '"state":"ARCHIVED"',
    ]
    at = 0
    for marker in expected:
        found = out.find(marker, at)
        assert found >= 0, f"{marker!r} missing after position {at}: {out[at:at + 300]!r}"
        at = found + len(marker)
    listing = out[out.index('{"segments":['):out.index('{"code":5')]
    assert re.findall(r'"name":"(segments/[^"]+)"', listing) == [
        "segments/exp-b", "segments/exp-a"]
