"""The README's Adobe curl session, run as written against a live gateway (only ``BASE``
differs: the test picks a free port)."""

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


def adobe_session() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Adobe: AEP Segmentation at `/data/core/ups`", 1)[1]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match, "the README lost its Adobe curl session"
    return match.group(1)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_readme_adobe_session_works(store_url: str, backend: str, tmp_path: Path) -> None:
    script = adobe_session()
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
    out = done.stdout
    assert '"imsOrgId":"default@AdobeOrg"' in out
    assert '"page":{"totalCount":1,"totalPages":1,"sortField":"name","sort":"asc"' in out
    assert '"format":"pql/json","value":"{\\"nodeType\\":\\"fnApply\\"' in out
    assert "select … from (event queries) is not supported" in out
    assert '"operator":"IN","values":["US"]' in out
    assert out.rstrip().endswith("200")
