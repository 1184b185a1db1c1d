"""The README's Unleash curl session, run as written against a live gateway (only ``BASE``
differs: the test picks a free port)."""

from __future__ import annotations

import json
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
    section = text.split("## Try it: the Unleash API with curl", 1)[1]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match, "the README lost its Unleash curl session"
    return match.group(1)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_readme_unleash_session_works(store_url: str, backend: str, tmp_path: Path) -> None:
    script = curl_session()
    assert script.startswith("BASE=http://127.0.0.1:8080\n")
    with live_gateway(store_url, "smx_readme-unleash-seed") as base:
        script = script.replace("BASE=http://127.0.0.1:8080", f"BASE={base}", 1)
        (tmp_path / ".venv").mkdir()
        (tmp_path / ".venv" / "bin").symlink_to(Path(sys.executable).parent)
        env = {**os.environ, "SEGMUX_DATABASE_URL": store_url}
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, env=env,
            capture_output=True, text=True, timeout=60,
        )
    assert done.returncode == 0, done.stderr
    # curl prints bodies without newlines: decode the JSON documents one after another.
    decoder, out, docs, at = json.JSONDecoder(), done.stdout, [], 0
    while out[at:at + 1] == "{":
        doc, at = decoder.raw_decode(out, at)
        docs.append(doc)
    feature, strategy, client = docs
    assert feature["name"] == "new-checkout"
    assert strategy["segments"] == [1]
    assert client["segments"] == [{"id": 1, "name": "beta-users", "constraints": [
        {"values": ["u1", "u2"], "operator": "IN", "contextName": "userId"}]}]
    assert client["features"][0]["strategies"][0]["segments"] == [1]
    assert client["features"][0]["enabled"] is True
    assert out[at:].strip() == "409"
