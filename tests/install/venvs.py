"""What the install tests share: the environment of a user who has nothing of this test run, a
copy of the source that a build cannot write into, fresh virtualenvs, and a ``segmux serve`` of
an installed ``segmux`` script up to its first 200 from ``/healthz``.

A missing way to build or install (no ``venv`` module, no index and no cache) skips on a laptop
and fails under ``CI=true``, where a skip would hide that the install was never tried.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

from tests.live import free_port, wait_answering
from tests.pg import unavailable

ROOT = Path(__file__).resolve().parents[2]
# What a source tree holds besides the project: never copied into the build.
NOT_SOURCE = shutil.ignore_patterns(
    ".venv",
    ".git",
    "__pycache__",
    "*.egg-info",
    "build",
    "dist",
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


def user_env(**extra: str) -> dict[str, str]:
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


def cannot(step: str, done: subprocess.CompletedProcess[str] | Exception) -> NoReturn:
    detail = done if isinstance(done, Exception) else (done.stderr or done.stdout)[-2000:]
    unavailable(f"cannot {step}: {detail}")


def run_step(step: str, argv: Sequence[str], *, cwd: Path, timeout: float = 600) -> str:
    """Run one step of an install; its stdout, or skip/fail (as above) naming the step."""
    try:
        done = subprocess.run(
            list(argv), capture_output=True, text=True, timeout=timeout, env=user_env(), cwd=cwd
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        cannot(step, exc)
    if done.returncode != 0:
        cannot(step, done)
    return done.stdout


def copy_source(base: Path) -> Path:
    """The checkout's project files under ``base`` (a build must not write into the checkout)."""
    source = base / "segmux-src"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
    return source


def fresh_venv(base: Path, name: str = "venv") -> Path:
    """A new virtualenv under ``base``; its directory."""
    venv = base / name
    run_step("create a virtualenv", [sys.executable, "-m", "venv", str(venv)], cwd=base)
    return venv


def pip_install(venv: Path, target: str | Path, *, cwd: Path) -> Path:
    """``pip install target`` into ``venv``; the ``segmux`` script it puts there."""
    run_step(
        f"pip install {Path(target).name}",
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(target)],
        cwd=cwd,
    )
    return venv / "bin" / "segmux"


@contextmanager
def serving(segmux: Path, workdir: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """``segmux serve`` on a free port over a SQLite file in ``workdir``, until it answers
    ``/healthz``; its base URL and environment. A clean stop (SIGTERM) exits 0."""
    port = free_port()
    env = user_env(SEGMUX_DATABASE_URL=f"sqlite:///{workdir}/store.db", SEGMUX_PORT=str(port))
    proc = subprocess.Popen(
        [str(segmux), "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=workdir,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_answering(proc, f"{base}/healthz", lambda: proc.communicate()[1])
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


def create_token(segmux: Path, env: dict[str, str], workdir: Path) -> str:
    """An admin token of the default tenant, made with the installed CLI as a user makes it."""
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
        cwd=workdir,
    )
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    assert done.stdout == token + "\n"
    assert "store.db" in done.stderr  # which store, on stderr
    return token
