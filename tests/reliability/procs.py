"""Real ``segmux serve`` processes for the reliability tests: started as a user starts them (the
CLI, in a child process of its own), killed with SIGKILL or stopped with SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.live import free_port

ADMIN_TOKEN = "smx_reliability-admin-0123456789abcdef"
START_TIMEOUT = 60.0


class Gateway:
    """One ``segmux serve`` child process on a free loopback port."""

    def __init__(
        self,
        database_url: str,
        log_dir: Path,
        *,
        workers: int = 1,
        grace: float | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.database_url = database_url
        self.log_dir = log_dir
        self.workers = workers
        self.grace = grace
        self.extra_env = env or {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self._starts = 0

    @property
    def log(self) -> Path:
        return self.log_dir / f"gateway-{self.port}-{self._starts}.log"

    def start(self) -> Gateway:
        """Start (or restart, on the same port) and wait until ``/healthz`` answers."""
        self.spawn()
        return self.wait_ready()

    def spawn(self) -> None:
        self._starts += 1
        args = [
            sys.executable,
            "-m",
            "gateway.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
        ]
        if self.grace is not None:
            args += ["--grace", str(self.grace)]
        env = {
            **os.environ,
            "SEGMUX_DATABASE_URL": self.database_url,
            "SEGMUX_ADMIN_TOKEN": ADMIN_TOKEN,
            "SEGMUX_LOG_LEVEL": "warning",
            **self.extra_env,
        }
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                args,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=Path(__file__).resolve().parents[2],
            )

    def wait_ready(self) -> Gateway:
        assert self.proc is not None
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"segmux serve exited {self.proc.returncode}:\n{self.output()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"segmux serve did not start:\n{self.output()}")
            time.sleep(0.05)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def own_tracebacks(self) -> list[str]:
        """Traceback lines that pass through segmux's own code (an unhandled error); asyncpg's
        warnings about reconnecting carry tracebacks of its own, which do not count."""
        root = Path(__file__).resolve().parents[2]
        return [
            line
            for line in self.output().splitlines()
            if any(f'File "{root}/{pkg}/' in line for pkg in ("core", "dialects", "gateway"))
        ]

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs (a crash, a power cut of the process)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def terminate(self, timeout: float = 60) -> int:
        """SIGTERM, then wait for the exit; the exit status."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def stop(self) -> None:
        """Whatever state it is in, leave no process behind (SIGTERM to the parent of
        ``--workers N`` stops its workers too; only a single process is ever SIGKILLed)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


@contextmanager
def gateways(
    database_url: str, log_dir: Path, count: int = 1, **options: object
) -> Iterator[list[Gateway]]:
    """``count`` gateways on one database, started at once (migrations take an advisory lock,
    so processes starting together are fine: what a deployment does too)."""
    started = [
        Gateway(database_url, log_dir, **options)  # type: ignore[arg-type]
        for _ in range(count)
    ]
    try:
        for gw in started:
            gw.spawn()
        for gw in started:
            gw.wait_ready()
        yield started
    finally:
        for gw in started:
            gw.stop()
