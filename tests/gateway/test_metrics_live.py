"""``/metrics`` of a real ``segmux serve``: with ``--workers 2`` every scrape (whichever worker
answers it) counts both workers' requests, and the multiprocess directory segmux made is gone
after the stop; and a real Prometheus server (Debian's ``prometheus``) scrapes a live gateway,
whose request counts and latency quantile are then read back through Prometheus's HTTP API.

Without ``prometheus`` the Prometheus test skips saying how to install it (``make test``
installs it as root); under ``CI=true`` that is a failure.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway.metrics import MULTIPROC_ENV, REFRESH_SECONDS
from tests import pg
from tests.live import free_port
from tests.reliability.procs import ADMIN_TOKEN, Gateway

pytestmark = pytest.mark.live

HOW = "install Debian's prometheus: sudo apt-get install -y prometheus (make test does it as root)"
LIST = "/v2.3/data/segments"


def requests_to(text: str, route: str, status: str) -> float:
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "segmux_http_requests_total"
        and s.labels.get("route") == route
        and s.labels.get("status") == status
    )


def workers_of(pid: int) -> list[int]:
    """The serve's child processes."""
    found = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True, check=False
    )
    return [int(p) for p in found.stdout.split()]


def multiproc_dir(pid: int) -> str | None:
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    for entry in environ:
        if entry.startswith(MULTIPROC_ENV.encode() + b"="):
            return entry.split(b"=", 1)[1].decode()
    return None


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[Gateway]:
    gw = Gateway(f"sqlite:///{tmp_path / 'metrics.db'}", tmp_path, workers=2)
    try:
        yield gw.start()
    finally:
        gw.stop()


def test_two_workers_are_added_up(two_workers: Gateway) -> None:
    gw = two_workers
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    sent = 40
    for _ in range(sent):  # a new connection each: the kernel hands them to either worker
        assert httpx.get(gw.url + LIST, headers=auth).status_code == 200
    assert gw.proc is not None
    # uvicorn's children: the two workers (and multiprocessing's resource tracker), all
    # given the one directory the serve made.
    children = workers_of(gw.proc.pid)
    directories = {multiproc_dir(c) for c in children}
    assert len(directories) == 1
    directory = directories.pop()
    assert directory is not None
    writers = {int(p.stem.rsplit("_", 1)[-1]) for p in Path(directory).glob("counter_*.db")}
    assert len(writers) == 2 and writers <= set(children), "both workers counted requests"
    # Every scrape, whichever worker answers it, sees all the requests both served, once each
    # worker copied its counts into the files (every REFRESH_SECONDS).
    time.sleep(3 * REFRESH_SECONDS)
    for _ in range(10):
        text = httpx.get(gw.url + "/metrics").text
        assert requests_to(text, LIST, "200") == sent
    gw.stop()
    assert not Path(directory).exists(), "segmux removes its multiprocess directory"


def prometheus_binary() -> str:
    path = shutil.which("prometheus")
    if path is None:
        pg.unavailable(f"prometheus is not installed: {HOW}")
    return path


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[tuple[str, Gateway]]:
    """A gateway (one worker, SQLite) and a Prometheus server scraping it every second."""
    binary = prometheus_binary()
    gw = Gateway(f"sqlite:///{tmp_path / 'scraped.db'}", tmp_path).start()
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n"
        "  scrape_interval: 1s\n"
        "  evaluation_interval: 1s\n"
        "scrape_configs:\n"
        "  - job_name: segmux\n"
        "    scrape_interval: 1s\n"
        "    static_configs:\n"
        f"      - targets: ['127.0.0.1:{gw.port}']\n"
    )
    log = (tmp_path / "prometheus.log").open("wb")
    proc = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not _ready(base):
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                output = (tmp_path / "prometheus.log").read_text(errors="replace")
                raise RuntimeError(f"prometheus did not start:\n{output[-3000:]}")
            time.sleep(0.2)
        yield base, gw
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()
        gw.stop()


def _ready(base: str) -> bool:
    try:
        return httpx.get(base + "/-/ready", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def query(base: str, promql: str) -> list[dict[str, object]]:
    r = httpx.get(base + "/api/v1/query", params={"query": promql}, timeout=5)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "success", body
    result: list[dict[str, object]] = body["data"]["result"]
    return result


def eventually(base: str, promql: str, want: float, timeout: float = 60) -> float:
    """The query's single value once it equals ``want`` (scrapes come every second)."""
    deadline = time.monotonic() + timeout
    seen: list[dict[str, object]] = []
    while time.monotonic() < deadline:
        seen = query(base, promql)
        if len(seen) == 1:
            value = float(seen[0]["value"][1])  # type: ignore[index]
            if value == want:
                return value
        time.sleep(0.5)
    raise AssertionError(f"{promql}: wanted {want}, Prometheus has {seen}")


def test_a_real_prometheus_scrapes_segmux(prometheus: tuple[str, Gateway]) -> None:
    base, gw = prometheus
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    # Prometheus must have scraped at least once before the traffic, so the counter's rise
    # is all of it.
    eventually(base, 'up{job="segmux"}', 1)
    for _ in range(25):
        assert httpx.get(gw.url + LIST, headers=auth).status_code == 200
    for _ in range(5):
        assert httpx.get(gw.url + LIST).status_code == 401
    selector = 'job="segmux",surface="v23",route="/v2.3/data/segments",method="GET"'
    eventually(base, f'sum(segmux_http_requests_total{{{selector},status="200"}})', 25)
    eventually(base, f'sum(segmux_http_requests_total{{{selector},status="401"}})', 5)
    eventually(base, f"sum(segmux_http_request_duration_seconds_count{{{selector}}})", 30)
    # The 99th percentile of those 30 requests' latency, from the histogram's buckets: a
    # list on a local SQLite store takes well under the top bucket (10 s), and above zero.
    p99 = query(
        base,
        "histogram_quantile(0.99, sum by (le) "
        f"(segmux_http_request_duration_seconds_bucket{{{selector}}}))",
    )
    assert len(p99) == 1
    latency = float(p99[0]["value"][1])  # type: ignore[index]
    assert 0 < latency <= 10, latency
    build = query(base, 'segmux_build_info{job="segmux"}')
    assert len(build) == 1 and build[0]["metric"]["python"]  # type: ignore[index]
