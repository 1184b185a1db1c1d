"""Server processes under measurement: ``segmux serve`` and the framework floor, each a real
process on a free loopback port, and their peak RSS from ``/proc``."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class Server:
    url: str
    pid: int  # the process started (uvicorn's supervisor when workers > 1)
    health: str = "/healthz"

    def serving_pids(self) -> list[int]:
        """The processes that answer requests: the workers if there are any, else itself."""
        kids = children(self.pid)
        return kids or [self.pid]


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    # uvicorn's multiprocess supervisor may also hold a resource tracker; workers serve HTTP.
    return [int(p) for p in text.split() if _is_python_worker(int(p))]


def _is_python_worker(pid: int) -> bool:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"resource_tracker" not in cmd


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the largest resident set the process has had (since start or the last reset)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used (``/proc/<pid>/stat`` fields 14 and 15):
    divided by the requests of a run, a cost per request that other load on the machine
    disturbs far less than throughput does."""
    return _ticks(pid) / os.sysconf("SC_CLK_TCK")


def postgres_pids(database: str | None = None) -> list[int]:
    """The PostgreSQL server's processes (``comm`` starting with ``postgres``); with
    ``database``, only the backends connected to it (a backend's title, its cmdline, reads
    ``postgres: [<cluster>:] <user> <database> <client> <state>``)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with suppress(OSError):
            if not (entry / "comm").read_text().startswith("postgres"):
                continue
            if database is not None:
                title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").split()
                if database.encode() not in title[1:]:
                    continue
            found.append(int(entry.name))
    return found


def _cpu_ticks(pids: list[int]) -> dict[int, int]:
    ticks = {}
    for pid in pids:
        with suppress(OSError):  # a process may end between listing and reading
            ticks[pid] = _ticks(pid)
    return ticks


class CpuWindow(threading.Thread):
    """The CPU seconds each group of processes (name -> a function listing its pids, asked at
    both ends) uses over the middle of a load of ``seconds`` that starts with this thread: from
    20% to 80% of it, away from the load's ramp-up and its tail. A process that starts inside
    the window counts from its start; one that ends inside it is lost. ``join()``, then read
    ``cpu`` and ``window`` (seconds)."""

    def __init__(self, seconds: float, groups: dict[str, Callable[[], list[int]]]) -> None:
        super().__init__(daemon=True)
        self.seconds = seconds
        self.groups = groups
        self.cpu: dict[str, float] = {}
        self.window = 0.0
        self.start()

    def run(self) -> None:
        time.sleep(self.seconds * 0.2)
        t0, before = time.monotonic(), {k: _cpu_ticks(f()) for k, f in self.groups.items()}
        time.sleep(self.seconds * 0.6)
        t1, after = time.monotonic(), {k: _cpu_ticks(f()) for k, f in self.groups.items()}
        hz = os.sysconf("SC_CLK_TCK")
        self.window = t1 - t0
        for k, ticks in after.items():
            self.cpu[k] = sum(n - before[k].get(pid, 0) for pid, n in ticks.items()) / hz


def reset_peak(pid: int) -> None:
    """Reset VmHWM to the current RSS (``clear_refs`` 5, Linux ≥ 4.0), so the next read is this
    scenario's peak; ignored where the kernel refuses."""
    with suppress(OSError):
        Path(f"/proc/{pid}/clear_refs").write_text("5")


def _wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server not up within {timeout:.0f}s:\n{log.read_text()[-3000:]}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


@contextmanager
def _process(cmd: list[str], env: dict[str, str], health: str, log: Path) -> Iterator[Server]:
    port = free_port()
    cmd = [c.replace("{port}", str(port)) for c in cmd]
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )  # own group: stopped with its workers
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_http(url + health, proc, log)
        yield Server(url=url, pid=proc.pid)
    finally:
        _stop(proc)


@contextmanager
def segmux_server(
    database_url: str,
    admin_token: str,
    *,
    workers: int,
    log: Path,
    log_level: str,
    settings: dict[str, str] | None = None,
) -> Iterator[Server]:
    """``segmux serve`` as a user runs it (the console script of the venv); ``settings``: more
    ``SEGMUX_*`` variables (``SEGMUX_METRICS=off`` for the metrics comparison)."""
    env = {
        **os.environ,
        "SEGMUX_DATABASE_URL": database_url,
        "SEGMUX_ADMIN_TOKEN": admin_token,
        "SEGMUX_LOG_LEVEL": log_level,
        # the create scenarios write thousands of segments; Unleash's 300 would stop them
        "SEGMUX_SEGMENT_LIMIT": "100000000",
        **(settings or {}),
    }
    cmd = [
        str(VENV_BIN / "segmux"),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "{port}",
        "--workers",
        str(workers),
    ]
    with _process(cmd, env, "/healthz", log) as up:
        server = Server(url=up.url, pid=up.pid, health="/readyz")
        if workers > 1:  # /healthz answers once one worker is up; wait for all of them
            deadline = time.monotonic() + 30
            while len(children(server.pid)) < workers and time.monotonic() < deadline:
                time.sleep(0.1)
        yield server


@contextmanager
def floor_server(manifest: Path, log: Path) -> Iterator[Server]:
    cmd = [sys.executable, "-m", "bench.floor", "--manifest", str(manifest), "--port", "{port}"]
    with _process(cmd, dict(os.environ), "/healthz", log) as server:
        yield server


QUIET_WINDOW = 0.25
"""Seconds over which a server counts as idle when it used at most :data:`QUIET_SHARE` of a
core."""
QUIET_SHARE = 0.1


def wait_idle(server: Server, timeout: float = 60) -> float:
    """Block until the server answers its readiness URL within 50 ms and then uses next to no
    CPU: requests that wrk left in flight (it stops sending, not the server working) must not
    leak into the next scenario. The readiness check alone does not show them: SQLite's
    ``/readyz`` pings on a reader of its own while others still run queries (the HAL members
    pages over 100,000 individuals take ~0.6 s each there, and ten were left queued after the
    scenario at 10 connections: the next scenario, creates, measured 400 req/s at 3.5 ms of CPU
    each instead of ~2,700 at 0.3 ms). Returns the seconds waited."""
    started = time.monotonic()
    with httpx.Client(timeout=timeout) as client:
        while time.monotonic() - started < timeout:
            t = time.monotonic()
            with suppress(httpx.HTTPError):
                client.get(server.url + server.health)
            if time.monotonic() - t < 0.05:
                break
            time.sleep(0.05)
    pids = [server.pid, *children(server.pid)]
    while time.monotonic() - started < timeout:
        before = _cpu_of(pids)
        time.sleep(QUIET_WINDOW)
        if _cpu_of(pids) - before <= QUIET_SHARE * QUIET_WINDOW:
            break
    return time.monotonic() - started


def _cpu_of(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        with suppress(OSError):
            total += cpu_seconds(pid)
    return total
