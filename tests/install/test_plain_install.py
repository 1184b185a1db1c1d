"""The checkout installed as a user installs it: a fresh virtualenv, ``pip install`` without
extras (so nothing the tests install can hide a missing runtime dependency), then the ``segmux``
it puts on the PATH: ``--help``, ``serve`` up to a 200 from ``/healthz``, and ``tokens create``
making a token the running server accepts.

pip builds the wheel with its cache (a warm cache makes this seconds). Without a way to build
(no ``venv`` module, no index and no cache) the test skips on a laptop and fails under
``CI=true``, where a skip would hide that the install was never tried.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import httpx
import pytest

from tests.live import free_port
from tests.pg import unavailable

ROOT = Path(__file__).resolve().parents[2]
# What a source tree holds besides the project: never copied into the build.
NOT_SOURCE = shutil.ignore_patterns(
    ".venv",
    ".git",
    "__pycache__",
    "*.egg-info",
    "build",
    ".cache",
    "bench",
    "tests",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    ".hypothesis",
    "*.db",
    "*.db-wal",
    "*.db-shm",
)


def _env(**extra: str) -> dict[str, str]:
    """The environment without this test run's Python: no virtualenv, no PYTHONPATH, no
    SEGMUX_* variables of the caller."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME") and not k.startswith("SEGMUX_")
    }
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(str(ROOT))
    )
    return {**env, **extra}


def _cannot(step: str, done: subprocess.CompletedProcess[str] | Exception) -> NoReturn:
    detail = done if isinstance(done, Exception) else (done.stderr or done.stdout)[-2000:]
    unavailable(f"cannot {step}: {detail}")


@pytest.fixture(scope="module")
def segmux(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``segmux`` script of a fresh virtualenv holding the checkout without extras."""
    base = tmp_path_factory.mktemp("install")
    source = base / "segmux-src"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)  # the build must not write into ROOT
    venv = base / "venv"
    try:
        made = subprocess.run(
            [sys.executable, "-m", "venv", str(venv)],
            capture_output=True,
            text=True,
            timeout=300,
            env=_env(),
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        _cannot("create a virtualenv", exc)
    if made.returncode != 0:
        _cannot("create a virtualenv", made)
    try:
        installed = subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(source)],
            capture_output=True,
            text=True,
            timeout=600,
            env=_env(),
            cwd=base,
        )
    except subprocess.TimeoutExpired as exc:
        _cannot("pip install the checkout", exc)
    if installed.returncode != 0:
        _cannot("pip install the checkout", installed)
    return venv / "bin" / "segmux"


def test_only_runtime_dependencies_are_installed(segmux: Path) -> None:
    # The test tools are not there: what follows runs on the runtime dependencies alone.
    listed = subprocess.run(
        [str(segmux.parent / "python"), "-m", "pip", "list"],
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(),
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
        env=_env(),
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


@pytest.fixture
def served(segmux: Path, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    port = free_port()
    env = _env(SEGMUX_DATABASE_URL=f"sqlite:///{tmp_path}/store.db", SEGMUX_PORT=str(port))
    proc = subprocess.Popen(
        [str(segmux), "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.communicate()[1]
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "segmux serve did not answer /healthz"
            time.sleep(0.1)
        yield base, env
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0


def test_serve_answers_and_a_created_token_works(
    segmux: Path, served: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    base, env = served
    assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
    done = subprocess.run(
        [
            str(segmux),
            "tokens",
            "create",
            "--tenant",
            "default",
            "--scope",
            "admin",
            "--name",
            "install",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    assert done.stdout == token + "\n"
    assert "store.db" in done.stderr  # which store, on stderr
    r = httpx.get(
        f"{base}/v2.3/data/segments",
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
    )
    assert r.status_code == 200, r.text
