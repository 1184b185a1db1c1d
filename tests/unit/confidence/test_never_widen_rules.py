"""The one rule every view and evaluation applies to segments a condition alone cannot describe
(``core.allocation``): archived, unallocated, or allocated to fewer than all buckets."""

from __future__ import annotations

import pytest

from core import allocation as rules
from core.errors import NotExpressible
from tests.unit.confidence.test_allocation import seg


@pytest.mark.parametrize(
    ("proportion", "partial"),
    [
        ("1", False),
        ("1.0", False),
        ("1.000", False),
        ("0.9999995", False),  # 999,999.5 buckets rounds half to even: all 1,000,000
        ("0.9999985", True),  # 999,998.5 rounds to 999,998
        ("0.1", True),
        ("0", True),
        ("0.000001", True),
    ],
)
def test_partial_is_fewer_than_all_buckets(proportion: str, partial: bool) -> None:
    assert rules.is_partial(seg(proportion=proportion)) is partial


@pytest.mark.parametrize(
    ("state", "proportion", "reason"),
    [
        ("OK", "1", None),
        ("ALLOCATED", "1", None),
        ("OK", "0.5", "needs a unit"),
        ("ALLOCATED", "0.5", "needs a unit"),
        ("ARCHIVED", "1", "archived"),
        ("ARCHIVED", "0.5", "archived"),
        ("UNALLOCATED", "1", "unallocated"),
    ],
)
def test_without_a_unit(state: str, proportion: str, reason: str | None) -> None:
    segment = seg(state=state, proportion=proportion)
    assert rules.without_unit(segment) == reason
    assert rules.not_serving(segment) == (reason if reason != "needs a unit" else None)


@pytest.mark.parametrize(
    ("state", "proportion", "said"),
    [
        ("ARCHIVED", "1", "the segment is ARCHIVED and serves no one; PQL cannot say so"),
        (
            "UNALLOCATED",
            "1",
            "the segment is UNALLOCATED and serves no one until it is allocated; PQL cannot say so",
        ),
        (
            "OK",
            "0.25",
            "the segment allocates a proportion (0.25) of its audience by bucket of a "
            "unit; PQL cannot say a proportion",
        ),
    ],
)
def test_condition_only_languages_refuse_with_the_reason(
    state: str, proportion: str, said: str
) -> None:
    with pytest.raises(NotExpressible) as caught:
        rules.check_condition_only(seg(state=state, proportion=proportion), "pql", "PQL")
    assert caught.value.reason == said
    assert caught.value.language == "pql"


def test_a_full_live_segment_is_a_condition() -> None:
    for state in ("OK", "ALLOCATED"):
        rules.check_condition_only(seg(state=state, proportion="1.0"), "OData")
