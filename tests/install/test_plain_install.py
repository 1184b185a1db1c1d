"""The checkout installed as a user installs it: a fresh virtualenv, ``pip install`` without
extras (so nothing the tests install can hide a missing runtime dependency), then the ``segmux``
it puts on the PATH: ``--help``, ``serve`` up to a 200 from ``/healthz``, and ``tokens create``
making a token the running server accepts.

pip builds the wheel with its cache (a warm cache makes this seconds). Without a way to build
the test skips on a laptop and fails under ``CI=true`` (tests/install/venvs.py).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest

from tests.install.venvs import (
    copy_source,
    create_token,
    fresh_venv,
    pip_install,
    serving,
    user_env,
)


@pytest.fixture(scope="module")
def segmux(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``segmux`` script of a fresh virtualenv holding the checkout without extras."""
    base = tmp_path_factory.mktemp("install")
    source = copy_source(base)
    return pip_install(fresh_venv(base), source, cwd=base)


def test_only_runtime_dependencies_are_installed(segmux: Path) -> None:
    # The test tools are not there: what follows runs on the runtime dependencies alone.
    listed = subprocess.run(
        [str(segmux.parent / "python"), "-m", "pip", "list"],
        capture_output=True,
        text=True,
        timeout=120,
        env=user_env(),
    )
    names = {line.split()[0].lower() for line in listed.stdout.splitlines()[2:] if line}
    assert "segmux" in names
    assert not names & {"pytest", "hypothesis", "schemathesis", "mypy", "ruff"}


def test_help_lists_every_command(segmux: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [str(segmux), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env=user_env(),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    for command in (
        "serve",
        "db upgrade",
        "tokens create",
        "tokens list",
        "tokens revoke",
        "tenants set",
        "migrate",
        "export",
        "import",
    ):
        assert f"segmux {command}" in done.stdout
    assert "--version" in done.stdout


def test_serve_answers_and_a_created_token_works(segmux: Path, tmp_path: Path) -> None:
    with serving(segmux, tmp_path) as (base, env):
        assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
        token = create_token(segmux, env, tmp_path)
        r = httpx.get(
            f"{base}/v2.3/data/segments",
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )
        assert r.status_code == 200, r.text
