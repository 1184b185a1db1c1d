"""Instructions per kept answer (``GET /api/client/features``) of a real ``segmux serve`` (uvicorn,
the app, the access line), counted by callgrind: a figure other load on the machine does not move.

    PYTHONPATH=<checkout> python -m bench.serve_callgrind [--level info] [--format json]
        [--seconds 20] [--out DIR]

Makes a SQLite store with a client token, starts ``segmux serve`` (one process) under
``valgrind --tool=callgrind`` at the level and format, warms it (the answer kept), counts its
instructions while idle for ``--seconds``, then while wrk (4 connections) runs as long, and
prints the difference divided by the requests wrk counted (a request in flight at either end
moves it by a few in a thousand). Needs ``valgrind`` and ``wrk``; a run takes a few minutes
(start-up under valgrind).
``docs/logs.md`` has the figures measured.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench import procs
from core.store import open_store
from core.tokens import TokenService

PATH = "/api/client/features"
_WRK = ["wrk", "-t1", "-c4"]


async def _client_token(url: str) -> str:
    store = await open_store(url)
    try:
        token, _ = await TokenService(store).create(
            tenant="default", scope="client:development", name="sdk"
        )
        return token
    finally:
        await store.close()


def _wait_healthy(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 600  # imports under valgrind take minutes on a busy machine
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(base + "/healthz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise RuntimeError("segmux serve did not answer under valgrind")


def _counted(proc: subprocess.Popen[bytes], counts: Path, dump: int) -> int:
    """The instructions since the counts were last zeroed (dumped as ``counts``.``dump``)."""
    subprocess.run(["callgrind_control", "-d", str(proc.pid)], capture_output=True)
    path = Path(f"{counts}.{dump}")
    deadline = time.monotonic() + 60
    while "summary:" not in (path.read_text() if path.exists() else ""):
        if time.monotonic() > deadline:
            raise RuntimeError(f"callgrind wrote no {path}")
        time.sleep(0.5)
    return int(
        next(ln for ln in path.read_text().splitlines() if ln.startswith("summary:")).split()[1]
    )


def measure(level: str, fmt: str, seconds: int, out: Path, pythonpath: str | None) -> float:
    """Instructions per request of one server at ``level`` and ``fmt``, less what the server
    does when idle for as long (its timers: under valgrind a run answers only some 50
    requests a second, so a timer's work would otherwise weigh on each)."""
    url = f"sqlite:///{out}/segmux-{level}-{fmt}.db"
    token = asyncio.run(_client_token(url))
    counts = out / f"callgrind-{level}-{fmt}"
    port = procs.free_port()
    env = {
        **os.environ,
        "SEGMUX_DATABASE_URL": url,
        "SEGMUX_LOG_LEVEL": level,
        "SEGMUX_LOG_FORMAT": fmt,
        **({"PYTHONPATH": pythonpath} if pythonpath else {}),
    }
    with (out / f"segmux-{level}-{fmt}.log").open("wb") as log:
        proc = subprocess.Popen(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={counts}",
                sys.executable,
                "-m",
                "gateway.cli",
                "serve",
                "--port",
                str(port),
            ],
            env=env,
            cwd=out,  # not a checkout: ``-m`` puts the working directory first on the path
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_healthy(base, proc)
        headers = {"Authorization": token, "User-Agent": "unleash-client-node"}
        with httpx.Client(base_url=base, timeout=60) as client:
            for _ in range(300):  # built, then kept; the code warm
                assert client.get(PATH, headers=headers).status_code == 200
        script = out / "serve_callgrind.lua"
        script.write_text(
            "".join(f"wrk.headers[{k!r}] = {v!r}\n" for k, v in headers.items())
            + f"wrk.path = {PATH!r}\n"
        )
        subprocess.run(["callgrind_control", "-z", str(proc.pid)], capture_output=True)
        time.sleep(seconds)
        idle = _counted(proc, counts, 1)
        subprocess.run(["callgrind_control", "-z", str(proc.pid)], capture_output=True)
        wrk = subprocess.run(
            [*_WRK, f"-d{seconds}s", "--timeout", f"{seconds}s", "-s", str(script), base + PATH],
            capture_output=True,
            text=True,
        )
        busy = _counted(proc, counts, 2)
        found = re.search(r"(\d+) requests in", wrk.stdout)
        if found is None or "Non-2xx" in wrk.stdout:
            raise RuntimeError(f"wrk: {wrk.stdout} {wrk.stderr}")
        requests = int(found.group(1))
        print(f"{requests} requests, {busy:,} instructions; idle for as long: {idle:,}")
        return (busy - idle) / requests
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=120)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--level", default="info")
    p.add_argument("--format", default="json", choices=["json", "console"])
    p.add_argument("--seconds", type=int, default=20)
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--pythonpath", default=None, help="the server's (another checkout's code)")
    args = p.parse_args()
    directory = args.out or Path(tempfile.mkdtemp(prefix="segmux-serve-callgrind-"))
    directory.mkdir(parents=True, exist_ok=True)
    per = measure(args.level, args.format, args.seconds, directory, args.pythonpath)
    print(f"{args.level} {args.format}: {per:,.0f} instructions per kept answer")
