"""Members of a segment whose condition names other segments (PQL ``inSegment``), answered by
the database on both backends: the named segment's condition is compiled in place, a static
one is its stored members (of the same individual: the sandbox and identifier), and one that
matches no one without a unit (a proportion of units) is no one. Each answer is checked against
the evaluator's (``/segmux/v1/evaluate``'s service) for every individual."""

from __future__ import annotations

from typing import Any

import pytest

from core.evaluation import EvaluationService
from core.expr import ast
from core.expr.ast import And, Cmp, Lit, Not, Or, Quant, Regex, SegmentRef
from core.model import Allocation, NewSegment, Principal, Segment, SegmentPatch
from core.profiles import ProfileService
from core.segment_views import SegmentView, SegmentViews
from core.service import SegmentService
from core.store import Store

T = "tenant-a"
SANDBOX = "p1"
ADMIN = Principal(tenant=T, scope="admin", token_name="t")
EVERYTHING = SegmentView("ast", lambda s: {})
"""A view that shows every segment (HAL's OData hides one naming another segment)."""

PEOPLE: dict[str, dict[str, Any]] = {
    "ann": {"country": "US", "age": 30, "tags": ["a", "b"]},
    "bob": {"country": "US", "age": 12, "tags": ["b"]},
    "cy": {"country": "FR", "age": 40, "tags": []},
    "dee": {"country": "FR", "age": 17},
    "eve": {"age": 70, "tags": ["a"]},
}


def _cond(expr: ast.Expr | None) -> bytes | None:
    return None if expr is None else ast.encode(expr)


def _ref(segment: Segment) -> SegmentRef:
    return SegmentRef(segment.id)  # inSegment takes the id; it is stored as segments/<slug>


async def _segment(
    segments: SegmentService,
    name: str,
    expr: ast.Expr | None,
    *,
    kind: str = "dynamic",
    proportion: str = "1",
) -> Segment:
    new = NewSegment(
        name=name,
        sandbox=SANDBOX,
        kind=kind,  # type: ignore[arg-type]
        expression=_cond(expr),
        allocation=Allocation(proportion=proportion),
    )
    return await segments.create(ADMIN, new)


@pytest.fixture
async def world(store: Store) -> dict[str, Segment]:
    await store.ensure_tenant(T)
    await store.ensure_tenant("tenant-b")
    segments = SegmentService(store)
    for who, attributes in PEOPLE.items():
        await store.create_profile(T, SANDBOX, who, attributes)
        # the same identifiers in another sandbox and tenant are other individuals
        await store.create_profile(T, "p2", who, attributes)
        await store.create_profile("tenant-b", SANDBOX, who, attributes)
    us = await _segment(segments, "us", Cmp("eq", ("country",), Lit("string", "US")))
    vip = await _segment(segments, "vip", None, kind="static")
    for who in ("cy", "eve"):
        await store.add_membership(T, vip.id, who)
    other_vip = await _segment(segments, "vip elsewhere", None, kind="static")
    tenth = await _segment(segments, "tenth", None, proportion="0.1")
    everyone = await _segment(segments, "everyone", None)
    adults = Cmp("ge", ("age",), Lit("number", 18))
    us_adults = await _segment(segments, "us adults", And((_ref(us), adults)))
    made = {
        "us": us,
        "vip": vip,
        "tenth": tenth,
        "everyone": everyone,
        "us adults": us_adults,
        "us adults or vip": await _segment(
            segments, "us adults or vip", Or((_ref(us_adults), _ref(vip)))
        ),
        "not us": await _segment(segments, "not us", Not(_ref(us))),
        "not tenth": await _segment(segments, "not tenth", Not(_ref(tenth))),
        "tenth or vip": await _segment(segments, "tenth or vip", Or((_ref(tenth), _ref(vip)))),
        "everyone but vip": await _segment(
            segments, "everyone but vip", And((_ref(everyone), Not(_ref(vip))))
        ),
        # a reference inside an array quantifier still asks about the whole individual
        "tagged a, us": await _segment(
            segments,
            "tagged a, us",
            Quant("any", ("tags",), And((Cmp("eq", (), Lit("string", "a")), _ref(us)))),
        ),
    }
    # a static segment of another sandbox holding the same identifiers holds other individuals
    other = await SegmentService(store).create(
        ADMIN, NewSegment(name="vip p2", sandbox="p2", kind="static")
    )
    for who in PEOPLE:
        await store.add_membership(T, other.id, who)
    made["vip p2 named"] = await _segment(segments, "vip p2 named", _ref(other))
    del other_vip
    return made


EXPECTED = {
    "us adults": {"ann"},
    "us adults or vip": {"ann", "cy", "eve"},
    "not us": {"cy", "dee", "eve"},
    "not tenth": set(PEOPLE),  # a proportion of units is no one without a unit
    "tenth or vip": {"cy", "eve"},
    "everyone but vip": {"ann", "bob", "dee"},
    "tagged a, us": {"ann"},
    "vip p2 named": set(),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_members_of_a_segment_naming_others_are_the_evaluators(
    store: Store, world: dict[str, Segment], name: str
) -> None:
    segments = SegmentService(store)
    profiles = ProfileService(store, SegmentViews(store, segments))
    segment = world[name]
    page = await profiles.members(ADMIN, EVERYTHING, SANDBOX, segment.slug, limit=100)
    got = {p.identifier for p in page.items}
    assert got == EXPECTED[name]
    assert page.total == len(got)
    # the evaluator, asked about each individual as HAL's individual (its identifier)
    if name != "vip p2 named":  # the evaluator has no sandbox: an identifier is all it knows
        evaluation = EvaluationService(store)
        for who, attributes in PEOPLE.items():
            result = await evaluation.evaluate(
                ADMIN, {"identifier": who, **attributes}, [segment.id]
            )
            assert result[segment.id] is (who in got), who
    # and each individual's segments (one statement for many conditions) agree
    for who in PEOPLE:
        mine = await profiles.segments_of(ADMIN, EVERYTHING, SANDBOX, who, limit=100)
        assert (segment.id in {s.id for s in mine.items}) is (who in got), who


async def test_a_filter_narrows_a_segment_naming_others(
    store: Store, world: dict[str, Segment]
) -> None:
    profiles = ProfileService(store, SegmentViews(store, SegmentService(store)))
    where = Cmp("ge", ("age",), Lit("number", 50))
    page = await profiles.members(
        ADMIN, EVERYTHING, SANDBOX, world["us adults or vip"].slug, where=where
    )
    assert [p.identifier for p in page.items] == ["eve"]


async def test_an_individuals_segments_fall_back_to_python_with_the_same_meaning(
    store: Store, world: dict[str, Segment]
) -> None:
    """PostgreSQL cannot match a case-insensitive pattern over cased characters exactly: that
    condition is evaluated in Python, where the reference still means the stored members."""
    segments = SegmentService(store)
    vip_fr = await _segment(
        segments, "vip in fr", And((_ref(world["vip"]), Regex(("country",), "^f", ci=True)))
    )
    profiles = ProfileService(store, SegmentViews(store, segments))
    for who in PEOPLE:
        mine = await profiles.segments_of(ADMIN, EVERYTHING, SANDBOX, who, limit=100)
        assert (vip_fr.id in {s.id for s in mine.items}) is (who == "cy"), who


async def test_members_follow_writes_to_what_the_condition_names(
    store: Store, world: dict[str, Segment]
) -> None:
    """A page's total is remembered per sandbox revision on PostgreSQL: a new stored member of
    the named static segment, and a new condition of the named dynamic one, change the answer."""
    segments = SegmentService(store)
    profiles = ProfileService(store, SegmentViews(store, segments))
    slug = world["us adults or vip"].slug

    async def members() -> tuple[set[str], int]:
        page = await profiles.members(ADMIN, EVERYTHING, SANDBOX, slug, limit=100)
        return {p.identifier for p in page.items}, page.total

    assert await members() == ({"ann", "cy", "eve"}, 3)
    await store.add_membership(T, world["vip"].id, "dee")
    assert await members() == ({"ann", "cy", "dee", "eve"}, 4)
    fr = Cmp("eq", ("country",), Lit("string", "FR"))
    await segments.update(ADMIN, world["us"].id, SegmentPatch(expression=ast.encode(fr)))
    assert await members() == ({"cy", "dee", "eve"}, 3)
