"""The README's HAL curl session, run as written against a live gateway (only ``BASE``
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


def hal_session() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split("## HAL: Individual Segments at `/{projectId}/…`", 1)[1]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match, "the README lost its HAL curl session"
    return match.group(1)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_readme_hal_session_works(store_url: str, backend: str, tmp_path: Path) -> None:
    script = hal_session()
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
    out = done.stdout  # the answers, one after another
    expected = [
        '{"name":"segmux",',
        '/{projectId}/individual-segments{?filter}","templated":true',
        '"filter":"demographics/age/value eq \'30\'"',
        '"segmentType":"DYNAMIC"',
        '{"_embedded":{"individuals":[{',
        '"identifier":"ana"',
        '"page":{"size":20,"totalElements":1,"totalPages":1,"number":0}}',
        '{"_embedded":{"individual-segments":[{',
        '"name":"Friends","segmentType":"STATIC"',
        '"status":400,"error":"Bad Request","message":"Membership POST requests can only be '
        'made to a static individual segment"',
        '"name":"Thirty"',
        '"page":{"size":1,"totalElements":2,"totalPages":2,"number":0}}',
    ]
    at = 0
    for needle in expected:
        found = out.find(needle, at)
        assert found >= 0, f"{needle!r} not found after position {at} in {out!r}"
        at = found + len(needle)
    assert out.rstrip().endswith("200")
