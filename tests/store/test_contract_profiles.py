"""The store contract for profiles (HAL's individuals) and static memberships, on both backends."""

from __future__ import annotations

from typing import Any

import pytest

from core.errors import Conflict, NotFound
from core.expr.ast import And, Cmp, Exists, In, Lit, Not, StrOp
from core.expr.evaluate import evaluate
from core.model import NewSegment, ProfileSort, Segment, SegmentPatch
from core.store import Store

T = "tenant-a"
U = "tenant-b"
pytestmark = pytest.mark.usefixtures("tenants")


@pytest.fixture
async def tenants(store: Store) -> None:
    await store.ensure_tenant(T)
    await store.ensure_tenant(U)


def age(value: str) -> dict[str, Any]:
    """Pulpo's shape: a schema.org property maps to a list of fields, values as strings."""
    return {"demographics": {"age": [{"name": "age", "value": value}]}}


AGE_30 = Cmp("eq", ("demographics", "age", "value"), Lit("string", "30"))


async def static(store: Store, name: str = "friends", sandbox: str = "p1") -> Segment:
    new = NewSegment(name=name, sandbox=sandbox, kind="static")
    return await store.create_segment(T, new, None)


async def ids(store: Store, sandbox: str = "p1", **kw: Any) -> list[str]:
    page = await store.list_profiles(T, sandbox, **kw)
    return [p.identifier for p in page.items]


# --- profiles ------------------------------------------------------------------------------


async def test_create_and_get_round_trip(store: Store) -> None:
    attrs = {"demographics": {"email": [{"value": "cris@liferay.com"}]}, "n": 1.5, "ok": True}
    created = await store.create_profile(T, "p1", "ind-1", attrs)
    assert (created.identifier, created.sandbox, created.version) == ("ind-1", "p1", 1)
    assert created.created_at == created.updated_at > 0
    assert created.attributes == attrs
    assert await store.get_profile(T, "p1", "ind-1") == created


async def test_identifier_is_unique_per_tenant_and_sandbox(store: Store) -> None:
    await store.create_profile(T, "p1", "x", {})
    with pytest.raises(Conflict) as err:
        await store.create_profile(T, "p1", "x", {"a": 1})
    assert err.value.field == "identifier"
    await store.create_profile(T, "p2", "x", {})
    await store.create_profile(U, "p1", "x", {})
    assert (await store.get_profile(T, "p1", "x")).attributes == {}


async def test_profiles_of_unknown_tenant_are_refused(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.create_profile("nobody", "p1", "x", {})


async def test_other_tenant_and_sandbox_are_invisible(store: Store) -> None:
    await store.create_profile(T, "p1", "x", {})
    for tenant, sandbox in ((U, "p1"), (T, "p2")):
        with pytest.raises(NotFound):
            await store.get_profile(tenant, sandbox, "x")
        with pytest.raises(NotFound):
            await store.replace_profile(tenant, sandbox, "x", {})
        with pytest.raises(NotFound):
            await store.delete_profile(tenant, sandbox, "x")
        assert (await store.list_profiles(tenant, sandbox)).total == 0


async def test_replace_bumps_version_and_updated_at(store: Store) -> None:
    first = await store.create_profile(T, "p1", "x", age("30"))
    second = await store.replace_profile(T, "p1", "x", age("31"))
    assert second.version == 2
    assert second.updated_at >= first.updated_at and second.created_at == first.created_at
    assert second.attributes == age("31")


async def test_delete(store: Store) -> None:
    await store.create_profile(T, "p1", "x", {})
    await store.delete_profile(T, "p1", "x")
    with pytest.raises(NotFound):
        await store.get_profile(T, "p1", "x")
    with pytest.raises(NotFound):
        await store.delete_profile(T, "p1", "x")


async def test_list_pages_in_creation_order_with_total(store: Store) -> None:
    for i in range(5):
        await store.create_profile(T, "p1", f"i{i}", {})
    page = await store.list_profiles(T, "p1", offset=1, limit=2)
    assert page.total == 5
    assert [p.identifier for p in page.items] == ["i1", "i2"]
    assert (await store.list_profiles(T, "p1", offset=10, limit=2)).items == []


async def test_list_where_is_evaluated_by_the_database(store: Store) -> None:
    await store.create_profile(T, "p1", "a", age("30"))
    await store.create_profile(T, "p1", "b", age("41"))
    await store.create_profile(
        T, "p1", "c", {"demographics": {"age": [{"value": "29"}, {"value": "30"}]}}
    )
    await store.create_profile(T, "p1", "d", {})
    assert await ids(store, where=[AGE_30]) == ["a", "c"]
    assert await ids(store, where=[Not(AGE_30)]) == ["b", "d"]
    older = Cmp("gt", ("demographics", "age", "value"), Lit("number", 35))
    assert await ids(store, where=[Not(AGE_30), Exists(("demographics",))]) == ["b"]
    assert await ids(store, where=[older]) == ["b"]
    assert (await store.list_profiles(T, "p1", where=[AGE_30], limit=1)).total == 2


async def test_sort_by_columns_and_attribute_paths(store: Store) -> None:
    await store.create_profile(T, "p1", "b", {"city": [{"value": "Madrid"}], "n": 2})
    await store.create_profile(T, "p1", "a", {"city": [{"value": "Malaga"}], "n": 10})
    await store.create_profile(T, "p1", "c", {"n": "x"})
    await store.create_profile(T, "p1", "d", {"city": [{"value": "Alcala"}]})
    by = ProfileSort
    assert await ids(store, sort=[by(column="identifier")]) == ["a", "b", "c", "d"]
    assert await ids(store, sort=[by(column="identifier", descending=True)]) == ["d", "c", "b", "a"]
    assert await ids(store, sort=[by(path=("city", "value"))]) == ["d", "b", "a", "c"]
    # a missing value is last either way
    assert await ids(store, sort=[by(path=("city", "value"), descending=True)]) == [
        "a",
        "b",
        "d",
        "c",
    ]
    # numbers first in numeric order, then strings, then nothing; ties by identifier
    assert await ids(store, sort=[by(path=("n",))]) == ["b", "a", "c", "d"]
    assert await ids(store, sort=[by(path=("n",), descending=True)]) == ["a", "b", "c", "d"]


# --- memberships ---------------------------------------------------------------------------


async def test_static_members_are_stored_and_listed(store: Store) -> None:
    seg = await static(store)
    for name in ("a", "b", "c"):
        await store.create_profile(T, "p1", name, age("30") if name != "b" else {})
    await store.add_membership(T, seg.id, "c")
    await store.add_membership(T, seg.id, "b")
    await store.add_membership(T, seg.id, "b")  # a repeated membership is a no-op
    assert await ids(store, member_of=seg.id) == ["b", "c"]
    assert await ids(store, member_of=seg.id, where=[AGE_30]) == ["c"]
    await store.remove_membership(T, seg.id, "b")
    assert await ids(store, member_of=seg.id) == ["c"]
    with pytest.raises(NotFound):
        await store.remove_membership(T, seg.id, "b")


async def test_membership_needs_a_static_segment_and_a_profile_of_its_sandbox(store: Store) -> None:
    seg = await static(store)
    dynamic = await store.create_segment(T, NewSegment(name="dyn", sandbox="p1"), None)
    await store.create_profile(T, "p1", "a", {})
    await store.create_profile(T, "p2", "elsewhere", {})
    with pytest.raises(Conflict) as err:
        await store.add_membership(T, dynamic.id, "a")
    assert err.value.field == "kind"
    with pytest.raises(NotFound):
        await store.add_membership(T, seg.id, "elsewhere")
    with pytest.raises(NotFound):
        await store.add_membership(T, seg.id, "nobody")
    with pytest.raises(NotFound):
        await store.add_membership(U, seg.id, "a")
    with pytest.raises(NotFound):
        await store.add_membership(T, "00000000-0000-4000-8000-000000000000", "a")


async def test_deleting_a_profile_removes_its_memberships(store: Store) -> None:
    seg = await static(store)
    await store.create_profile(T, "p1", "a", {})
    await store.add_membership(T, seg.id, "a")
    await store.delete_profile(T, "p1", "a")
    await store.create_profile(T, "p1", "a", {})  # the same identifier again: not a member
    assert await ids(store, member_of=seg.id) == []


async def test_deleting_a_segment_leaves_profiles_untouched(store: Store) -> None:
    seg = await static(store)
    await store.create_profile(T, "p1", "a", age("30"))
    await store.add_membership(T, seg.id, "a")
    await store.delete_segment(T, seg.id)
    assert (await store.get_profile(T, "p1", "a")).attributes == age("30")
    assert await store.segments_of_profile(T, "p1", "a", {}) == set()


async def test_a_segment_turning_dynamic_loses_its_stored_members(store: Store) -> None:
    seg = await static(store)
    await store.create_profile(T, "p1", "a", {})
    await store.add_membership(T, seg.id, "a")
    await store.update_segment(T, seg.id, SegmentPatch(kind="dynamic"), None)
    await store.update_segment(T, seg.id, SegmentPatch(kind="static"), None)
    assert await ids(store, member_of=seg.id) == []


async def test_segments_of_a_profile(store: Store) -> None:
    friends = await static(store)
    other = await static(store, "others")
    await store.create_profile(T, "p1", "a", age("30"))
    await store.create_profile(T, "p1", "b", age("41"))
    await store.add_membership(T, friends.id, "a")
    conditions = {
        "thirty": AGE_30,
        "everyone": None,
        "bs": StrOp("starts_with", ("demographics", "age", "value"), ("4",)),
    }
    assert await store.segments_of_profile(T, "p1", "a", conditions) == {
        friends.id,
        "thirty",
        "everyone",
    }
    assert await store.segments_of_profile(T, "p1", "b", conditions) == {"everyone", "bs"}
    assert other.id not in await store.segments_of_profile(T, "p1", "a", {})
    with pytest.raises(NotFound):
        await store.segments_of_profile(T, "p1", "nobody", conditions)


async def test_many_conditions_are_batched(store: Store) -> None:
    await store.create_profile(T, "p1", "a", {"n": 5})
    conditions = {f"s{i}": Cmp("ge", ("n",), Lit("number", i)) for i in range(1000)}
    matched = await store.segments_of_profile(T, "p1", "a", conditions)
    assert matched == {f"s{i}" for i in range(6)}


# --- the database agrees with the evaluator ------------------------------------------------

DOCS: dict[str, Any] = {
    "str": {"v": "30"},
    "int": {"v": 30},
    "float": {"v": 30.0},
    "frac": {"v": 30.5},
    "list": {"v": ["x", "30"]},
    "nested": {"a": [{"v": "30"}, {"v": "31"}]},
    "deep": {"a": {"b": [{"c": [{"v": "Madrid"}]}]}},
    "bool": {"v": True},
    "null": {"v": None},
    "obj": {"v": {"x": "30"}},
    "wide": {"v": 9007199254740993},
    "quote": {"v": 'L\'Oreal "x"'},
    "neg": {"v": -0.0},
}
CONDITIONS = [
    Cmp("eq", ("v",), Lit("string", "30")),
    Cmp("eq", ("v",), Lit("string", "30.5")),
    Cmp("eq", ("v",), Lit("string", "30.0")),
    Cmp("eq", ("v",), Lit("string", "9007199254740992")),
    Cmp("eq", ("v",), Lit("string", "0")),
    Cmp("eq", ("v",), Lit("string", 'L\'Oreal "x"')),
    Cmp("eq", ("a", "v"), Lit("string", "31")),
    Cmp("eq", ("a", "b", "c", "v"), Lit("string", "Madrid")),
    Cmp("eq", ("v",), Lit("bool", True)),
    In(("v",), (Lit("string", "x"), Lit("string", "30.5"))),
    Not(Cmp("eq", ("v",), Lit("string", "30"))),
    And((Cmp("eq", ("v",), Lit("string", "30")), Exists(("v",)))),
]


@pytest.mark.parametrize("condition", CONDITIONS, ids=[repr(c)[:60] for c in CONDITIONS])
async def test_membership_in_sql_agrees_with_the_evaluator(store: Store, condition: Any) -> None:
    """Whatever shortcut a backend takes (PostgreSQL's index hints), the database selects
    exactly the profiles the evaluator says match."""
    for name, attrs in DOCS.items():
        await store.create_profile(T, "p1", name, attrs)
    expected = sorted(name for name, attrs in DOCS.items() if evaluate(condition, attrs))
    got = sorted(
        p.identifier
        for p in (await store.list_profiles(T, "p1", where=[condition], limit=100)).items
    )
    assert got == expected
