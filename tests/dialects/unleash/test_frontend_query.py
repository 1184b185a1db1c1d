"""The frontend poll's query string, read by ``dialects.unleash.frontend.query_items`` (the
fast path) exactly as Starlette's ``query_params`` (the full pipeline) reads it."""

from __future__ import annotations

import pytest
from starlette.datastructures import QueryParams

from dialects.unleash.frontend import query_items

QUERIES = [
    "",
    "userId=u-1&appName=web",
    "userId=u-1&&appName=web&",
    "&",
    "flag",
    "a=",
    "=b",
    "a=1=2",
    "userId=%41%42",
    "userId=a+b&c+d=e",
    "properties[plan]=pro&properties%5Bx%5D=1",
    "a=1;b=2",
    "userId=%E9t%C3%A9&bad=%ZZ&raw=\xe9",
    "a=1&a=2",
]


@pytest.mark.parametrize("query", QUERIES)
def test_a_query_reads_as_starlette_reads_it(query: str) -> None:
    assert query_items(query) == QueryParams(query.encode("latin-1")).multi_items()
