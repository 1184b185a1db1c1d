"""The README's curl session, run as written against a live gateway (only ``BASE`` differs: the
test picks a free port)."""

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


def curl_session() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Try it: the v2.3 API with curl", 1)[1]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match, "the README lost its curl session"
    return match.group(1)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_readme_curl_session_works(store_url: str, backend: str, tmp_path: Path) -> None:
    script = curl_session()
    assert script.startswith("BASE=http://127.0.0.1:8080\n")
    with live_gateway(store_url, "smx_readme-seed") as base:
        script = script.replace("BASE=http://127.0.0.1:8080", f"BASE={base}", 1)
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        # `.venv/bin/segmux` as the README says, whichever interpreter runs the tests.
        (tmp_path / ".venv").mkdir()
        (tmp_path / ".venv" / "bin").symlink_to(Path(sys.executable).parent)
        env = {**os.environ, "SEGMUX_DATABASE_URL": store_url}
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, env=env,
            capture_output=True, text=True, timeout=60,
        )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert '"success":true,"result":{"id":' in out
    assert '"name":"Central Europe"' in out
    assert '"total":2' in out
    assert "The name has already been taken." in out
    assert out.rstrip().endswith("204")
