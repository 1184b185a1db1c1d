"""The access line is built directly (``gateway.logging.access``), not through structlog's chain:
it must be, byte for byte, the line the chain writes for the same request, in both formats. And
a serving process's lines go through a buffered writer (``gateway.log_writer``) that loses none
and keeps their order."""

from __future__ import annotations

import asyncio
import datetime
import io
import json
import re
import string
import threading
import time
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway import log_writer
from gateway import logging as logs
from tests.examples import examples

_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z")


@pytest.fixture(autouse=True)
def _restore() -> Iterator[None]:
    yield
    logs.configure("info")  # what the test suite runs with otherwise


def _both(
    fmt: str, method: str, path: str, status: int, elapsed_ns: int, rid: str, now: int | None = None
) -> list[str]:
    """The chain's line and the direct one for one request (at ``now`` on the wall clock if
    given, the timestamps masked otherwise)."""
    out = io.StringIO()
    logs.configure("info", stream=out, fmt=fmt)
    token = logs.REQUEST_ID.set(rid)
    clock = logs._time_ns
    try:
        # The chain is given the milliseconds the direct line is to write: the nanoseconds
        # rounded to hundredths of a millisecond, half up (test_the_milliseconds_are_rounded).
        logs.get_logger("segmux.access").info(
            "request",
            method=method,
            path=path,
            status=status,
            ms=(elapsed_ns + 5000) // 10000 / 100,
        )
        if now is not None:
            logs._time_ns = lambda: now
        logs.access(rid, method, path, status, elapsed_ns)
    finally:
        logs._time_ns = clock
        logs.REQUEST_ID.reset(token)
    *lines, rest = out.getvalue().split("\n")  # not splitlines: a path may hold \x1e
    assert len(lines) == 2 and rest == "", lines
    if now is not None:
        return lines
    return [_STAMP.sub("<time>", line, count=1) for line in lines]


_PATHS = st.text(max_size=40).map(lambda p: "/" + p) | st.sampled_from(
    ["/api/client/features", "/v1/segments", "/x y", "/a=b", "/'q'", '/"', "/é", "/\t\n"]
)
_IDS = st.text(alphabet=string.ascii_letters + string.digits + "._:-", min_size=1, max_size=128)
"""What the middleware gives (``gateway.middleware``): a new id, or a tame one it was sent."""
_ELAPSED = (
    st.integers(0, 10**12)
    | st.integers(0, 10**7).map(lambda n: n * 10000 + 5000)  # ties at the hundredth
    | st.integers(10**17, 10**20)  # past where the short form is used
)


@pytest.mark.parametrize("fmt", ["json", "console"])
@settings(max_examples=examples(200), deadline=None)
@given(
    method=st.sampled_from(["GET", "POST", "DELETE", "PATCH", "OPTIONS", "PROPFIND"]),
    path=_PATHS,
    status=st.integers(100, 599),
    elapsed_ns=_ELAPSED,
    rid=_IDS,
)
def test_the_direct_line_is_the_chains_line(
    fmt: str, method: str, path: str, status: int, elapsed_ns: int, rid: str
) -> None:
    chain, direct = _both(fmt, method, path, status, elapsed_ns, rid)
    assert direct == chain


@settings(max_examples=examples(200), deadline=None)
@given(elapsed_ns=_ELAPSED)
def test_the_milliseconds_are_rounded_to_the_nearest_hundredth(elapsed_ns: int) -> None:
    out = io.StringIO()
    logs.configure("info", stream=out)
    logs.access("r", "GET", "/", 200, elapsed_ns)
    written = json.loads(out.getvalue())["ms"]
    assert isinstance(written, float)
    assert abs(written * 10**6 - elapsed_ns) <= 5000 * (1 + 1e-9) + elapsed_ns * 1e-15


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_YEAR_9999 = int((datetime.datetime(9999, 12, 31, tzinfo=datetime.UTC) - _EPOCH).total_seconds())
_INSTANTS = st.lists(
    st.integers(0, _YEAR_9999 * 10**9)
    | st.integers(0, _YEAR_9999).map(lambda s: s * 10**9)  # on the second: no fraction
    | st.integers(1_700_000_000, 1_700_000_003).flatmap(  # one second's instants in a row
        lambda s: st.integers(s * 10**9 - 2000, s * 10**9 + 2000)
    )
    | st.sampled_from([10**18 - 1, 10**18, 10**19 - 1, 10**19]),  # where the digits change
    min_size=1,
    max_size=20,
)


def _chains_stamp(ns: int) -> str:
    """What structlog's TimeStamper writes for the instant ``datetime.now`` would read from the
    same clock (microseconds floored)."""
    moment = _EPOCH + datetime.timedelta(microseconds=ns // 1000)
    return moment.isoformat().replace("+00:00", "Z")


@settings(max_examples=examples(300), deadline=None)
@given(_INSTANTS)
def test_the_timestamp_is_the_chains(instants: list[int]) -> None:
    for ns in instants:
        assert logs.timestamp(ns) == _chains_stamp(ns)


@pytest.mark.parametrize("fmt", ["json", "console"])
@settings(max_examples=examples(100), deadline=None)
@given(instants=_INSTANTS)
def test_the_access_lines_timestamp_is_the_chains(fmt: str, instants: list[int]) -> None:
    # In any order of calls: the text of a second is kept from one line to the next.
    for ns in instants:
        _, direct = _both(fmt, "GET", "/", 200, 0, "r", now=ns)
        assert _STAMP.search(direct) is not None
        if fmt == "json":
            assert json.loads(direct)["timestamp"] == _chains_stamp(ns)
        else:
            assert direct.startswith(_chains_stamp(ns) + " ")


def test_nothing_is_written_below_info() -> None:
    out = io.StringIO()
    logs.configure("warning", stream=out)
    logs.access("r", "GET", "/x", 200, 10**6)
    assert out.getvalue() == ""


def test_a_buffered_writer_keeps_every_line_in_order() -> None:
    out = io.StringIO()
    writer = log_writer.LineWriter(out, buffered=True)
    threads = [
        threading.Thread(target=lambda n=n: [writer.write(f"{n} {i}\n") for i in range(2000)])
        for n in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.flush()
    lines = out.getvalue().splitlines()
    assert len(lines) == 8000
    for n in range(4):  # each thread's lines in the order it wrote them
        assert [line for line in lines if line.startswith(f"{n} ")] == [
            f"{n} {i}" for i in range(2000)
        ]


async def test_a_buffered_writer_writes_between_requests_within_its_interval() -> None:
    out = io.StringIO()
    writer = log_writer.LineWriter(out, buffered=True)
    writer.write("one\n")
    writer.write("two\n")
    assert out.getvalue() == ""  # not on the request's path
    deadline = time.monotonic() + 10 * log_writer.FLUSH_SECONDS + 5
    while out.getvalue() != "one\ntwo\n":
        assert time.monotonic() < deadline, "the lines were never written"
        await asyncio.sleep(0.01)


async def test_a_full_buffer_is_written_at_once() -> None:
    out = io.StringIO()
    writer = log_writer.LineWriter(out, buffered=True)
    line = "x" * 99 + "\n"
    count = log_writer.FLUSH_BYTES // len(line)
    for _ in range(count):
        writer.write(line)
    assert out.getvalue() == ""
    writer.write(line)  # past the bound: everything goes out with it
    assert out.getvalue() == line * (count + 1)


def test_any_other_line_is_written_at_once_after_the_buffered_ones() -> None:
    out = io.StringIO()
    writer = log_writer.LineWriter(out, buffered=True)
    writer.write("request 1\n")
    writer.write("request 2\n")
    writer.write_now("stopped\n")
    assert out.getvalue() == "request 1\nrequest 2\nstopped\n"


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_a_path_seen_before_is_written_alike_and_the_table_of_them_is_bounded(fmt: str) -> None:
    out = io.StringIO()
    logs.configure("info", stream=out, fmt=fmt)
    paths = ["/a b", '/"q"', "/é", "/api/client/features"]
    for _ in range(2):  # the second time from the table
        for path in paths:
            logs.access("r", "GET", path, 200, 10**6)
    lines = [_STAMP.sub("<time>", line) for line in out.getvalue().splitlines()]
    assert lines[:4] == lines[4:]
    assert len(set(lines)) == 4
    kept = len(logs._PATHS)
    logs.access("r", "GET", "/scanned", 404, 10**6)  # not answered: not kept
    logs.access("r", "GET", "/" + "x" * 300, 200, 10**6)  # too long: not kept
    assert len(logs._PATHS) == kept
    for n in range(2 * logs._PATHS_KEPT):
        logs.access("r", "GET", f"/n/{n}", 200, 10**6)
    assert len(logs._PATHS) == logs._PATHS_KEPT


async def test_a_buffered_writer_makes_records_lines_when_it_writes_them_in_order() -> None:
    # The access line is made from its record when the batch is written, off the request's
    # path: the same text an unbuffered writer writes at once, in the order it was logged.
    at_once, batched = io.StringIO(), io.StringIO()
    records = [("r1", "GET", "/a", 200, 1_250_000, 1_700_000_000_123_456_789)]
    records.append(("r2", "POST", "/b c", 201, 7_000, 1_700_000_001_000_000_000))
    logs.configure("info", stream=at_once)
    for record in records:
        logs._writer.add(record)
    writer = log_writer.LineWriter(batched, buffered=True, render=logs._access_line)
    writer.add(records[0])
    writer.write("between\n")
    writer.add(records[1])
    assert batched.getvalue() == ""  # nothing made or written on the request's path
    writer.write_now("stopped\n")
    first, second = at_once.getvalue().splitlines(keepends=True)
    assert batched.getvalue() == first + "between\n" + second + "stopped\n"
    assert json.loads(first)["timestamp"] == "2023-11-14T22:13:20.123456Z"
    assert json.loads(second)["ms"] == 0.01


async def test_reconfiguring_writes_the_records_so_far_in_their_format() -> None:
    # A serving process's writer holds records, not lines: the format they were logged in is
    # the one they are written in, whatever the next configuration says.
    out = io.StringIO()
    logs.configure("info", stream=out, fmt="json")
    logs._writer.buffered = True  # as a serving process's
    logs.access("r", "GET", "/x", 200, 10**6)
    assert out.getvalue() == ""
    logs.configure("info", stream=io.StringIO(), fmt="console")
    assert json.loads(out.getvalue())["path"] == "/x"
