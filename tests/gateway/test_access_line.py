"""The access line is built directly (``gateway.logging.access``), not through structlog's chain:
it must be, byte for byte, the line the chain writes for the same request, in both formats. And
a serving process's lines go through a buffered writer (``gateway.log_writer``) that loses none
and keeps their order."""

from __future__ import annotations

import asyncio
import datetime
import io
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


def _both(fmt: str, method: str, path: str, status: int, ms: float, rid: str | None) -> list[str]:
    out = io.StringIO()
    logs.configure("info", stream=out, fmt=fmt)
    token = logs.REQUEST_ID.set(rid)
    try:
        # The chain is given the rounded milliseconds; the direct line rounds them itself.
        logs.get_logger("segmux.access").info(
            "request", method=method, path=path, status=status, ms=round(ms, 2)
        )
        logs.access(method, path, status, ms)
    finally:
        logs.REQUEST_ID.reset(token)
    *lines, rest = out.getvalue().split("\n")  # not splitlines: a path may hold \x1e
    assert len(lines) == 2 and rest == "", lines
    return [_STAMP.sub("<time>", line, count=1) for line in lines]


_PATHS = st.text(max_size=40).map(lambda p: "/" + p) | st.sampled_from(
    ["/api/client/features", "/v1/segments", "/x y", "/a=b", "/'q'", '/"', "/é", "/\t\n"]
)
_IDS = st.none() | st.text(alphabet=string.ascii_letters + string.digits + "._:-", max_size=40)


@pytest.mark.parametrize("fmt", ["json", "console"])
@settings(max_examples=examples(200), deadline=None)
@given(
    method=st.sampled_from(["GET", "POST", "DELETE", "PATCH", "OPTIONS", "PROPFIND"]),
    path=_PATHS,
    status=st.integers(100, 599),
    ms=st.floats(0, 10**6, allow_nan=False)
    | st.integers(0, 10**8).map(lambda n: n / 1000)  # ties at the third decimal (0.125)
    | st.floats(10**12, 10**17),  # past where the short form is used
    rid=_IDS,
)
def test_the_direct_line_is_the_chains_line(
    fmt: str, method: str, path: str, status: int, ms: float, rid: str | None
) -> None:
    chain, direct = _both(fmt, method, path, status, ms, rid)
    assert direct == chain


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_YEAR_9999 = int((datetime.datetime(9999, 12, 31, tzinfo=datetime.UTC) - _EPOCH).total_seconds())


@settings(max_examples=examples(300), deadline=None)
@given(
    st.lists(
        st.integers(0, _YEAR_9999 * 10**9)
        | st.integers(0, _YEAR_9999).map(lambda s: s * 10**9)  # on the second: no fraction
        | st.integers(1_700_000_000, 1_700_000_003).flatmap(  # one second's instants in a row
            lambda s: st.integers(s * 10**9 - 2000, s * 10**9 + 2000)
        ),
        min_size=1,
        max_size=20,
    )
)
def test_the_access_lines_timestamp_is_the_chains(instants: list[int]) -> None:
    # What structlog's TimeStamper writes for the instant datetime.now would read from the
    # same clock (microseconds floored), in any order of calls (the text of a second is kept).
    for ns in instants:
        moment = _EPOCH + datetime.timedelta(microseconds=ns // 1000)
        assert logs.timestamp(ns) == moment.isoformat().replace("+00:00", "Z")


def test_nothing_is_written_below_info() -> None:
    out = io.StringIO()
    logs.configure("warning", stream=out)
    logs.access("GET", "/x", 200, 1.0)
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
