"""The store contract: every behaviour the protocol promises, run once per backend.

Modelled on Kinto's storage test suite: one body of tests, every backend must pass it.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import msgspec
import pytest

from core.errors import Conflict, NotFound, RoomChanged
from core.model import Allocation, NewSegment, RoomGuard, Segment, SegmentPatch, Sort
from core.store import Store

T = "tenant-a"
U = "tenant-b"


@pytest.fixture
async def tenants(store: Store) -> None:
    await store.ensure_tenant(T)
    await store.ensure_tenant(U)


async def make(store: Store, name: str, tenant: str = T, **kw: Any) -> Segment:
    return await store.create_segment(tenant, NewSegment(name=name, **kw), "tester")


pytestmark = pytest.mark.usefixtures("tenants")


# --- tenants -------------------------------------------------------------------------------


async def test_ensure_tenant_is_idempotent_and_has_prod_sandbox(store: Store) -> None:
    first = await store.get_tenant(T)
    again = await store.ensure_tenant(T)
    assert again == first
    assert first.default_sandbox == "prod"


async def test_unknown_tenant_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.get_tenant("nobody")


async def test_tenant_settings_merge(store: Store) -> None:
    await store.update_tenant_settings(T, {"ims_org": "x@AdobeOrg"})
    tenant = await store.update_tenant_settings(T, {"account": "acme"})
    assert tenant.settings == {"ims_org": "x@AdobeOrg", "account": "acme"}


async def test_create_segment_for_unknown_tenant_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.create_segment("nobody", NewSegment(name="x"), None)


# --- tokens --------------------------------------------------------------------------------


async def test_token_is_found_by_hash_only(store: Store) -> None:
    await store.add_token(token_hash="h1", tenant=T, scope="admin", name="ci")
    principal = await store.principal_for("h1")
    assert principal is not None
    assert (principal.tenant, principal.scope, principal.token_name) == (T, "admin", "ci")
    assert await store.principal_for("h2") is None


async def test_token_listing_never_contains_the_hash(store: Store) -> None:
    info = await store.add_token(token_hash="secret-hash", tenant=T, scope="admin", name="ci")
    listed = await store.list_tokens(T)
    assert [t.id for t in listed] == [info.id]
    assert "secret-hash" not in msgspec.json.encode(listed).decode()


async def test_duplicate_token_hash_conflicts(store: Store) -> None:
    await store.add_token(token_hash="h", tenant=T, scope="admin", name="a")
    with pytest.raises(Conflict):
        await store.add_token(token_hash="h", tenant=U, scope="admin", name="b")


async def test_revoke_token(store: Store) -> None:
    info = await store.add_token(token_hash="h", tenant=T, scope="admin", name="a")
    await store.revoke_token(info.id)
    assert await store.principal_for("h") is None
    with pytest.raises(NotFound):
        await store.revoke_token(info.id)


async def test_count_tokens_across_tenants(store: Store) -> None:
    assert await store.count_tokens() == 0
    await store.add_token(token_hash="h1", tenant=T, scope="admin", name="a")
    await store.add_token(token_hash="h2", tenant=U, scope="client:dev", name="b")
    assert await store.count_tokens() == 2
    assert [t.tenant for t in await store.list_tokens(U)] == [U]


# --- create --------------------------------------------------------------------------------


async def test_create_fills_ids_times_and_version(store: Store) -> None:
    s = await store.create_segment(T, NewSegment(name="EMEA"), "alice")
    assert uuid.UUID(s.id).version == 4
    assert s.seq == 1
    assert len(s.slug) == 20 and s.slug.isalnum() and s.slug.islower()
    assert s.version == 1
    assert s.created_at == s.updated_at > 0
    assert s.created_by == s.updated_by == "alice"
    assert s.sandbox == "prod" and s.kind == "dynamic" and s.expression is None


async def test_create_round_trips_every_field(store: Store) -> None:
    new = NewSegment(
        name="Beta ünïcode ✓",
        sandbox="dev",
        description="who tests",
        kind="static",
        expression=b'{"t":"exists","path":["a"]}',
        allocation=Allocation(proportion="0.25", exclusivity_tags=("g",), exclusive_to=("g",)),
        state="UNALLOCATED",
        labels={"team": "search"},
        owner="identities/u1",
        extensions={"adobe": {"ttlInDays": 30, "schema": {"name": "_xdm.context.profile"}}},
        slug="beta-users",
        seq=42,
        id="7f2d6e6d-a4ad-4b58-abfe-bd8b918ebec2",
    )
    created = await store.create_segment(T, new, "bob")
    fetched = await store.get_segment(T, "id", created.id)
    assert fetched == created
    for field in (
        "name",
        "sandbox",
        "description",
        "kind",
        "expression",
        "allocation",
        "state",
        "labels",
        "owner",
        "extensions",
        "slug",
        "seq",
        "id",
    ):
        assert getattr(fetched, field) == getattr(new, field), field


async def test_extensions_keep_key_order(store: Store) -> None:
    ext = {"adobe": {"z": 1, "a": 2, "m": {"y": 1, "b": 2}}}
    s = await store.create_segment(T, NewSegment(name="x", extensions=ext), None)
    got = (await store.get_segment(T, "id", s.id)).extensions
    assert list(got["adobe"]) == ["z", "a", "m"]
    assert list(got["adobe"]["m"]) == ["y", "b"]


async def test_seq_increments_per_tenant(store: Store) -> None:
    a1 = await make(store, "a1")
    a2 = await make(store, "a2")
    b1 = await make(store, "b1", tenant=U)
    assert (a1.seq, a2.seq, b1.seq) == (1, 2, 1)


async def test_explicit_seq_moves_sequence_above_it(store: Store) -> None:
    await make(store, "a", seq=10)
    after = await make(store, "b")
    assert after.seq == 11


async def test_explicit_low_seq_does_not_move_sequence_back(store: Store) -> None:
    await make(store, "a")
    await make(store, "b")
    await make(store, "c", seq=100)
    await make(store, "d", seq=50)
    e = await make(store, "e")
    assert e.seq == 101


async def test_explicit_seq_taken_conflicts(store: Store) -> None:
    await make(store, "a", seq=5)
    with pytest.raises(Conflict) as err:
        await make(store, "b", seq=5)
    assert err.value.field == "seq"


async def test_duplicate_name_conflicts_on_name(store: Store) -> None:
    await make(store, "EMEA")
    with pytest.raises(Conflict) as err:
        await make(store, "EMEA")
    assert err.value.field == "name"


async def test_name_uniqueness_is_case_sensitive(store: Store) -> None:
    await make(store, "beta")
    await make(store, "Beta")
    assert await store.count_segments(T) == 2


async def test_same_name_allowed_in_other_sandbox(store: Store) -> None:
    await make(store, "EMEA", sandbox="prod")
    await make(store, "EMEA", sandbox="dev")
    assert await store.count_segments(T) == 2


async def test_same_name_allowed_in_other_tenant(store: Store) -> None:
    await make(store, "EMEA", tenant=T)
    await make(store, "EMEA", tenant=U)
    assert await store.count_segments(U) == 1


async def test_segment_room_bounds_the_segments(store: Store) -> None:
    await make(store, "Beta", sandbox="prod")
    gamma = await make(store, "gamma", sandbox="prod")
    await make(store, "beta", sandbox="dev")
    await make(store, "Beta", tenant=U)
    await store.update_tenant_settings(T, {"limits": {"segments": 5}})
    room = await store.segment_room(T)
    assert room.segments_at_most == 3
    assert room.tenant == await store.get_tenant(T)
    assert (await store.segment_room(U)).segments_at_most == 1
    # A given seq moves the bound above it; a delete does not lower it (a bound, not a count).
    await make(store, "high", sandbox="dev", seq=40)
    await store.delete_segment(T, gamma.id)
    assert (await store.segment_room(T)).segments_at_most == 40
    with pytest.raises(NotFound):
        await store.segment_room("nobody")


@pytest.mark.parametrize("given_seq", [None, 40], ids=["next seq", "given seq"])
async def test_a_guarded_create_writes_only_while_the_tenant_meets_the_guard(
    store: Store, given_seq: int | None
) -> None:
    await make(store, "first")
    await store.update_tenant_settings(T, {"limits": {"segments": 5}})
    room = await store.segment_room(T)
    stale = RoomGuard(settings="{}", next_seq_at_most=5)
    full = RoomGuard(settings=room.stored_settings, next_seq_at_most=1)
    for guard in (stale, full):
        with pytest.raises(RoomChanged):
            await store.create_segment(T, NewSegment(name="x", seq=given_seq), "t", guard=guard)
    with pytest.raises(RoomChanged):  # a tenant that is not there meets no guard
        await store.create_segment("nobody", NewSegment(name="x"), "t", guard=stale)
    assert await store.count_segments(T) == 1
    assert (await store.segment_room(T)).segments_at_most == 1  # no seq taken
    guard = RoomGuard(settings=room.stored_settings, next_seq_at_most=2)
    made = await store.create_segment(T, NewSegment(name="x", seq=given_seq), "t", guard=guard)
    assert made.seq == (given_seq or 2)
    assert await store.count_segments(T) == 2


async def test_find_segment_id_finds_the_exact_name_in_its_sandbox(store: Store) -> None:
    beta = await make(store, "Beta", sandbox="prod")
    await make(store, "b", sandbox="dev")
    await make(store, "Beta", tenant=U)
    assert await store.find_segment_id(T, "prod", "Beta") == beta.id
    assert await store.find_segment_id(T, "prod", "beta") is None
    assert await store.find_segment_id(T, "prod", "b") is None  # "b" lives in dev
    # A name no row can hold is taken by none (not a driver error).
    assert await store.find_segment_id(T, "prod", "Be\x00ta") is None


async def test_segment_to_update_reads_the_segment_of_a_seq(store: Store) -> None:
    a = await make(store, "a", sandbox="prod")
    found = await store.segment_to_update(T, a.seq)
    assert found.segment == a
    assert found.tenant == await store.get_tenant(T)
    assert (await store.segment_to_update(T, 99)).segment is None
    assert (await store.segment_to_update(U, a.seq)).segment is None
    with pytest.raises(NotFound):
        await store.segment_to_update("nobody", a.seq)


async def test_duplicate_slug_conflicts(store: Store) -> None:
    await make(store, "a", slug="same-slug")
    with pytest.raises(Conflict) as err:
        await make(store, "b", slug="same-slug")
    assert err.value.field == "slug"


async def test_duplicate_id_conflicts(store: Store) -> None:
    sid = str(uuid.uuid4())
    await make(store, "a", id=sid)
    with pytest.raises(Conflict) as err:
        await make(store, "b", id=sid)
    assert err.value.field == "id"


async def test_failed_create_leaves_nothing_and_keeps_sequence_usable(store: Store) -> None:
    await make(store, "a")
    with pytest.raises(Conflict):
        await make(store, "a")
    assert await store.count_segments(T) == 1
    b = await make(store, "b")
    assert b.seq == 2  # the failed insert rolled back its seq too


async def test_concurrent_creates_of_one_name_yield_one_row(store: Store) -> None:
    results = await asyncio.gather(
        *(store.create_segment(T, NewSegment(name="race"), None) for _ in range(20)),
        return_exceptions=True,
    )
    created = [r for r in results if not isinstance(r, BaseException)]
    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert len(created) == 1
    assert len(conflicts) == 19
    assert await store.count_segments(T) == 1


async def test_concurrent_creates_of_distinct_names_get_distinct_seqs(store: Store) -> None:
    made = await asyncio.gather(*(make(store, f"n{i}") for i in range(25)))
    seqs = sorted(s.seq for s in made)
    assert seqs == list(range(1, 26))


# --- get -----------------------------------------------------------------------------------


async def test_get_by_id_seq_and_slug(store: Store) -> None:
    s = await make(store, "x", slug="by-slug")
    assert await store.get_segment(T, "id", s.id) == s
    assert await store.get_segment(T, "seq", s.seq) == s
    assert await store.get_segment(T, "slug", "by-slug") == s


async def test_get_unknown_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.get_segment(T, "id", str(uuid.uuid4()))
    with pytest.raises(NotFound):
        await store.get_segment(T, "seq", 999)
    with pytest.raises(NotFound):
        await store.get_segment(T, "slug", "nope-nope")


async def test_get_other_tenants_segment_is_not_found(store: Store) -> None:
    s = await make(store, "secret", tenant=U)
    for key, value in (("id", s.id), ("seq", s.seq), ("slug", s.slug)):
        with pytest.raises(NotFound):
            await store.get_segment(T, key, value)  # type: ignore[arg-type]


# --- list ----------------------------------------------------------------------------------


async def test_list_empty(store: Store) -> None:
    page = await store.list_segments(T, sandbox="prod")
    assert page.items == [] and page.total == 0


async def test_list_is_scoped_to_tenant(store: Store) -> None:
    await make(store, "mine")
    await make(store, "theirs", tenant=U)
    page = await store.list_segments(T, sandbox=None)
    assert [s.name for s in page.items] == ["mine"] and page.total == 1


async def test_list_is_scoped_to_sandbox(store: Store) -> None:
    await make(store, "p", sandbox="prod")
    await make(store, "d", sandbox="dev")
    assert [s.name for s in (await store.list_segments(T, sandbox="dev")).items] == ["d"]
    assert (await store.list_segments(T, sandbox=None)).total == 2


async def test_list_offset_limit_and_total(store: Store) -> None:
    for i in range(7):
        await make(store, f"s{i}")
    order = (Sort("seq"),)
    page = await store.list_segments(T, sandbox="prod", offset=2, limit=3, sort=order)
    assert [s.name for s in page.items] == ["s2", "s3", "s4"]
    assert page.total == 7


async def test_list_past_the_end_is_empty_with_real_total(store: Store) -> None:
    await make(store, "only")
    page = await store.list_segments(T, sandbox="prod", offset=50, limit=10)
    assert page.items == [] and page.total == 1


async def test_list_sort_by_name_is_byte_order(store: Store) -> None:
    for name in ("beta-users", "BETA-USERS", "123", "Zeta", "alpha"):
        await make(store, name)
    page = await store.list_segments(T, sandbox="prod", sort=(Sort("name"),))
    assert [s.name for s in page.items] == ["123", "BETA-USERS", "Zeta", "alpha", "beta-users"]


async def test_list_sort_descending(store: Store) -> None:
    for name in ("a", "b", "c"):
        await make(store, name)
    page = await store.list_segments(T, sandbox="prod", sort=(Sort("name", descending=True),))
    assert [s.name for s in page.items] == ["c", "b", "a"]


async def test_list_sort_by_creation_then_id(store: Store) -> None:
    made = [await make(store, f"s{i}") for i in range(5)]
    page = await store.list_segments(T, sandbox="prod", sort=(Sort("created_at"), Sort("id")))
    expected = sorted(made, key=lambda s: (s.created_at, s.id))
    assert [s.id for s in page.items] == [s.id for s in expected]


async def test_list_multi_key_sort(store: Store) -> None:
    await make(store, "x", state="OK")
    await make(store, "a", state="UNALLOCATED")
    await make(store, "b", state="OK")
    page = await store.list_segments(T, sandbox="prod", sort=(Sort("state"), Sort("name")))
    assert [s.name for s in page.items] == ["b", "x", "a"]


async def test_list_pages_cover_everything_once(store: Store) -> None:
    for i in range(23):
        await make(store, f"s{i:02d}")
    seen: list[str] = []
    for offset in range(0, 30, 5):
        page = await store.list_segments(
            T, sandbox="prod", offset=offset, limit=5, sort=(Sort("name"),)
        )
        seen += [s.name for s in page.items]
    assert seen == sorted(f"s{i:02d}" for i in range(23))


# --- update --------------------------------------------------------------------------------


async def test_update_bumps_version_and_updated_fields(store: Store) -> None:
    s = await make(store, "old")
    u = await store.update_segment(T, s.id, SegmentPatch(name="new"), "carol")
    assert u.name == "new" and u.version == 2
    assert u.updated_by == "carol" and u.created_by == "tester"
    assert u.updated_at >= s.updated_at and u.created_at == s.created_at


async def test_every_update_bumps_version(store: Store) -> None:
    s = await make(store, "x")
    for expected in (2, 3, 4):
        u = await store.update_segment(T, s.id, SegmentPatch(description=f"v{expected}"), None)
        assert u.version == expected


async def test_update_leaves_unset_fields_alone(store: Store) -> None:
    s = await make(store, "x", description="keep", labels={"a": "b"})
    u = await store.update_segment(T, s.id, SegmentPatch(name="y"), None)
    assert (u.description, u.labels) == ("keep", {"a": "b"})


async def test_update_can_clear_nullable_fields(store: Store) -> None:
    s = await make(store, "x", description="d", expression=b'{"t":"exists","path":["a"]}')
    u = await store.update_segment(T, s.id, SegmentPatch(description=None, expression=None), None)
    assert u.description is None and u.expression is None


async def test_update_json_fields(store: Store) -> None:
    s = await make(store, "x")
    patch = SegmentPatch(
        allocation=Allocation(proportion="0.5"),
        labels={"k": "v"},
        extensions={"unleash": {"project": "default"}},
    )
    u = await store.update_segment(T, s.id, patch, None)
    again = await store.get_segment(T, "id", u.id)
    assert again.allocation.proportion == "0.5"
    assert again.labels == {"k": "v"}
    assert again.extensions == {"unleash": {"project": "default"}}


async def test_update_to_taken_name_conflicts_and_changes_nothing(store: Store) -> None:
    await make(store, "a")
    b = await make(store, "b")
    with pytest.raises(Conflict) as err:
        await store.update_segment(T, b.id, SegmentPatch(name="a"), None)
    assert err.value.field == "name"
    still = await store.get_segment(T, "id", b.id)
    assert still.name == "b" and still.version == 1


async def test_update_to_own_name_is_fine(store: Store) -> None:
    s = await make(store, "same")
    u = await store.update_segment(T, s.id, SegmentPatch(name="same"), None)
    assert u.version == 2


async def test_update_unknown_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.update_segment(T, str(uuid.uuid4()), SegmentPatch(name="x"), None)


async def test_update_other_tenants_segment_is_not_found_and_unchanged(store: Store) -> None:
    s = await make(store, "theirs", tenant=U)
    with pytest.raises(NotFound):
        await store.update_segment(T, s.id, SegmentPatch(name="mine"), None)
    assert (await store.get_segment(U, "id", s.id)).name == "theirs"


async def test_update_if_version_matches(store: Store) -> None:
    s = await make(store, "x")
    u = await store.update_segment(T, s.id, SegmentPatch(name="y"), None, if_version=1)
    assert u.version == 2


async def test_update_if_version_stale_conflicts(store: Store) -> None:
    s = await make(store, "x")
    await store.update_segment(T, s.id, SegmentPatch(name="y"), None)
    with pytest.raises(Conflict) as err:
        await store.update_segment(T, s.id, SegmentPatch(name="z"), None, if_version=1)
    assert err.value.field == "version"
    assert (await store.get_segment(T, "id", s.id)).name == "y"


async def test_concurrent_updates_each_bump_version_once(store: Store) -> None:
    s = await make(store, "x")
    await asyncio.gather(
        *(store.update_segment(T, s.id, SegmentPatch(description=str(i)), None) for i in range(10))
    )
    assert (await store.get_segment(T, "id", s.id)).version == 11


async def test_concurrent_if_version_updates_have_one_winner(store: Store) -> None:
    s = await make(store, "x")
    results = await asyncio.gather(
        *(
            store.update_segment(T, s.id, SegmentPatch(description=str(i)), None, if_version=1)
            for i in range(8)
        ),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert all(isinstance(r, Conflict) for r in results if isinstance(r, BaseException))


# --- delete --------------------------------------------------------------------------------


async def test_delete_removes(store: Store) -> None:
    s = await make(store, "x")
    await store.delete_segment(T, s.id)
    with pytest.raises(NotFound):
        await store.get_segment(T, "id", s.id)
    assert await store.count_segments(T) == 0


async def test_delete_twice_is_not_found(store: Store) -> None:
    s = await make(store, "x")
    await store.delete_segment(T, s.id)
    with pytest.raises(NotFound):
        await store.delete_segment(T, s.id)


async def test_delete_other_tenants_segment_is_not_found_and_kept(store: Store) -> None:
    s = await make(store, "theirs", tenant=U)
    with pytest.raises(NotFound):
        await store.delete_segment(T, s.id)
    assert await store.count_segments(U) == 1


async def test_deleted_name_can_be_reused_but_seq_is_not(store: Store) -> None:
    s = await make(store, "x")
    await store.delete_segment(T, s.id)
    again = await make(store, "x")
    assert again.seq == 2


# --- persistence ---------------------------------------------------------------------------


async def test_data_survives_reopening(store: Store) -> None:
    from core.store import open_store

    s = await make(store, "durable")
    reopened = await open_store(store.url)
    try:
        assert (await reopened.get_segment(T, "id", s.id)).name == "durable"
    finally:
        await reopened.close()


async def test_ping(store: Store) -> None:
    await store.ping()


async def test_keys_no_row_can_hold_are_not_found(store: Store) -> None:
    for key in ("id", "slug"):
        with pytest.raises(NotFound):
            await store.get_segment(T, key, "a\x00b")  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        await store.update_segment(T, "a\x00b", SegmentPatch(name="x"), None)
    with pytest.raises(NotFound):
        await store.delete_segment(T, "a\x00b")
