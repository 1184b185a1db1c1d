"""The store contract for projects, environments, flags and rules, run once per backend."""

from __future__ import annotations

import asyncio

import pytest

from core.errors import Conflict, InUse, NotFound
from core.model import NewFlag, NewRule, NewSegment, RulePatch, Segment, SegmentPatch
from core.store import Store

T = "tenant-a"
U = "tenant-b"


@pytest.fixture
async def tenants(store: Store) -> None:
    await store.ensure_tenant(T)
    await store.ensure_tenant(U)


pytestmark = pytest.mark.usefixtures("tenants")


async def segment(store: Store, name: str, tenant: str = T) -> Segment:
    return await store.create_segment(tenant, NewSegment(name=name), "tester")


async def flag_with_rule(store: Store, *segments: str, name: str = "f1") -> str:
    await store.create_flag(T, NewFlag(name=name), "tester")
    rule = await store.create_rule(
        T, NewRule(flag=name, environment="development", segments=segments), "tester"
    )
    return rule.id


# --- defaults ------------------------------------------------------------------------------


async def test_new_tenant_has_default_project_and_environments(store: Store) -> None:
    assert [p.id for p in await store.list_projects(T)] == ["default"]
    envs = await store.list_environments(T)
    assert [(e.name, e.type) for e in envs] == [
        ("development", "development"),
        ("production", "production"),
    ]
    await store.ensure_tenant(T)  # idempotent
    assert len(await store.list_projects(T)) == 1


async def test_projects_are_per_tenant(store: Store) -> None:
    await store.create_project(T, "red", "Red")
    assert (await store.get_project(T, "red")).name == "Red"
    with pytest.raises(NotFound):
        await store.get_project(U, "red")
    with pytest.raises(Conflict) as err:
        await store.create_project(T, "red", "Again")
    assert err.value.field == "project"


async def test_unknown_environment_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.get_environment(T, "staging")


# --- flags ---------------------------------------------------------------------------------


async def test_create_flag_round_trips(store: Store) -> None:
    created = await store.create_flag(
        T,
        NewFlag(
            name="new-ui",
            type="experiment",
            description="d",
            extensions={"unleash": {"impressionData": True}},
        ),
        "alice",
    )
    got = await store.get_flag(T, "new-ui")
    assert got == created
    assert (got.project, got.type, got.description, got.created_by) == (
        "default",
        "experiment",
        "d",
        "alice",
    )
    assert got.enabled == {}
    assert got.archived is False
    assert got.extensions == {"unleash": {"impressionData": True}}


async def test_flag_name_is_unique_per_tenant(store: Store) -> None:
    await store.create_flag(T, NewFlag(name="f"), None)
    with pytest.raises(Conflict) as err:
        await store.create_flag(T, NewFlag(name="f"), None)
    assert err.value.field == "flag"
    await store.create_flag(U, NewFlag(name="f"), None)


async def test_flag_in_unknown_project_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound) as err:
        await store.create_flag(T, NewFlag(name="f", project="nope"), None)
    assert err.value.kind == "project"


async def test_set_flag_enabled_per_environment_bumps_version(store: Store) -> None:
    created = await store.create_flag(T, NewFlag(name="f"), None)
    on = await store.set_flag_enabled(T, "f", "production", True, None)
    assert on.enabled == {"production": True}
    assert on.version == created.version + 1
    off = await store.set_flag_enabled(T, "f", "production", False, None)
    assert off.enabled == {"production": False}
    with pytest.raises(NotFound):
        await store.set_flag_enabled(T, "f", "staging", True, None)
    with pytest.raises(NotFound):
        await store.set_flag_enabled(T, "nope", "production", True, None)


async def test_list_flags_by_name_and_project(store: Store) -> None:
    await store.create_project(T, "p2", "P2")
    for name, project in (("b", "default"), ("B", "p2"), ("a", "default")):
        await store.create_flag(T, NewFlag(name=name, project=project), None)
    assert [f.name for f in await store.list_flags(T)] == ["B", "a", "b"]
    assert [f.name for f in await store.list_flags(T, project="p2")] == ["B"]
    assert await store.list_flags(U) == []


# --- rules ---------------------------------------------------------------------------------


async def test_create_rule_with_segments_in_order(store: Store) -> None:
    s1, s2 = await segment(store, "s1"), await segment(store, "s2")
    await store.create_flag(T, NewFlag(name="f"), None)
    rule = await store.create_rule(
        T,
        NewRule(
            flag="f",
            environment="development",
            sort_order=3,
            payload={"name": "default", "parameters": {}},
            segments=(s2.id, s1.id),
        ),
        "alice",
    )
    assert len(rule.id) == 26
    assert rule.segments == (s2.id, s1.id)
    assert rule.payload == {"name": "default", "parameters": {}}
    assert await store.get_rule(T, rule.id) == rule
    with pytest.raises(NotFound):
        await store.get_rule(U, rule.id)


async def test_create_rule_checks_references_all_or_nothing(store: Store) -> None:
    s1 = await segment(store, "s1")
    await store.create_flag(T, NewFlag(name="f"), None)
    with pytest.raises(NotFound) as err:
        await store.create_rule(
            T, NewRule(flag="f", environment="development", segments=(s1.id, "missing")), None
        )
    assert err.value.kind == "segment"
    assert await store.list_rules(T) == []
    with pytest.raises(NotFound) as err:
        await store.create_rule(T, NewRule(flag="nope", environment="development"), None)
    assert err.value.kind == "flag"
    with pytest.raises(NotFound) as err:
        await store.create_rule(T, NewRule(flag="f", environment="staging"), None)
    assert err.value.kind == "environment"


async def test_rules_cannot_use_other_tenants_segments(store: Store) -> None:
    theirs = await segment(store, "theirs", tenant=U)
    await store.create_flag(T, NewFlag(name="f"), None)
    with pytest.raises(NotFound):
        await store.create_rule(
            T, NewRule(flag="f", environment="development", segments=(theirs.id,)), None
        )


async def test_list_rules_filters_and_orders(store: Store) -> None:
    await store.create_flag(T, NewFlag(name="f"), None)
    await store.create_flag(T, NewFlag(name="g"), None)
    late = await store.create_rule(
        T, NewRule(flag="f", environment="development", sort_order=2), None
    )
    early = await store.create_rule(
        T, NewRule(flag="f", environment="development", sort_order=1), None
    )
    prod = await store.create_rule(T, NewRule(flag="f", environment="production"), None)
    other = await store.create_rule(T, NewRule(flag="g", environment="development"), None)
    dev = await store.list_rules(T, flag="f", environment="development")
    assert [r.id for r in dev] == [early.id, late.id]
    assert [r.id for r in await store.list_rules(T, flag="f")] == [early.id, late.id, prod.id]
    assert {r.id for r in await store.list_rules(T, environment="development")} == {
        early.id,
        late.id,
        other.id,
    }


async def test_update_rule_replaces_segments_and_bumps_version(store: Store) -> None:
    s1, s2 = await segment(store, "s1"), await segment(store, "s2")
    rule_id = await flag_with_rule(store, s1.id)
    before = await store.get_rule(T, rule_id)
    after = await store.update_rule(T, rule_id, RulePatch(segments=(s2.id,)), None)
    assert after.segments == (s2.id,)
    assert after.version == before.version + 1
    assert after.payload == before.payload
    cleared = await store.update_rule(
        T, rule_id, RulePatch(payload={"name": "x"}, sort_order=7, segments=()), None
    )
    assert (cleared.segments, cleared.payload, cleared.sort_order) == ((), {"name": "x"}, 7)


async def test_failed_attach_changes_nothing(store: Store) -> None:
    s1 = await segment(store, "s1")
    rule_id = await flag_with_rule(store, s1.id)
    with pytest.raises(NotFound):
        await store.update_rule(T, rule_id, RulePatch(segments=("missing",)), None)
    assert (await store.get_rule(T, rule_id)).segments == (s1.id,)


async def test_update_and_delete_unknown_rule_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.update_rule(T, "nope", RulePatch(sort_order=1), None)
    with pytest.raises(NotFound):
        await store.delete_rule(T, "nope")


# --- segments in use -----------------------------------------------------------------------


async def test_segment_used_by_a_rule_cannot_be_deleted(store: Store) -> None:
    s1 = await segment(store, "s1")
    rule_id = await flag_with_rule(store, s1.id)
    with pytest.raises(InUse):
        await store.delete_segment(T, s1.id)
    assert (await store.get_segment(T, "id", s1.id)).name == "s1"
    await store.update_rule(T, rule_id, RulePatch(segments=()), None)
    await store.delete_segment(T, s1.id)


async def test_deleting_the_rule_frees_the_segment(store: Store) -> None:
    s1 = await segment(store, "s1")
    rule_id = await flag_with_rule(store, s1.id)
    await store.delete_rule(T, rule_id)
    await store.delete_segment(T, s1.id)
    with pytest.raises(NotFound):
        await store.get_rule(T, rule_id)


async def test_segment_uses_and_usage_counts(store: Store) -> None:
    await store.create_project(T, "p2", "P2")
    s1, s2, s3 = [await segment(store, n) for n in ("s1", "s2", "s3")]
    await store.create_flag(T, NewFlag(name="f"), None)
    await store.create_flag(T, NewFlag(name="g", project="p2"), None)
    r1 = await store.create_rule(
        T, NewRule(flag="f", environment="development", segments=(s1.id, s2.id)), None
    )
    r2 = await store.create_rule(
        T, NewRule(flag="f", environment="production", segments=(s1.id,)), None
    )
    r3 = await store.create_rule(
        T, NewRule(flag="g", environment="development", segments=(s1.id,)), None
    )
    uses = await store.segment_uses(T, s1.id)
    assert sorted(u.rule.id for u in uses) == sorted([r1.id, r2.id, r3.id])
    assert {u.project for u in uses} == {"default", "p2"}
    assert await store.segment_uses(T, s3.id) == []
    usage = await store.segment_usage(T)
    assert usage == {s1.id: (2, 2), s2.id: (1, 1)}
    assert await store.segment_usage(U) == {}


async def test_find_segment_id_is_exact_and_per_sandbox(store: Store) -> None:
    s1 = await segment(store, "Beta")
    assert await store.find_segment_id(T, "prod", "Beta") == s1.id
    assert await store.find_segment_id(T, "prod", "beta") is None
    assert await store.find_segment_id(T, "other", "Beta") is None
    assert await store.find_segment_id(U, "prod", "Beta") is None
    assert await store.find_segment_id(T, "prod", "a\x00b") is None


async def test_revision_changes_on_every_kind_of_write(store: Store) -> None:
    """Each write moves the revision away from the state just before it (returning to an
    earlier state exactly, e.g. a rule created then deleted, may return an earlier revision)."""
    last = [await store.flags_revision(T)]

    async def changed() -> None:
        revision = await store.flags_revision(T)
        assert revision != last[-1]
        last.append(revision)

    s1 = await segment(store, "s1")
    await changed()
    await store.update_segment(T, s1.id, SegmentPatch(description="x"), None)
    await changed()
    await store.create_flag(T, NewFlag(name="f"), None)
    await changed()
    await store.set_flag_enabled(T, "f", "development", True, None)
    await changed()
    rule = await store.create_rule(T, NewRule(flag="f", environment="development"), None)
    await changed()
    await store.update_rule(T, rule.id, RulePatch(segments=(s1.id,)), None)
    await changed()
    await store.update_rule(T, rule.id, RulePatch(segments=()), None)
    await changed()
    await store.delete_rule(T, rule.id)
    await changed()
    await store.delete_segment(T, s1.id)
    await changed()
    before = await store.flags_revision(U)
    await segment(store, "elsewhere", tenant=T)
    assert await store.flags_revision(U) == before


async def test_attach_racing_delete_never_leaves_a_dangling_reference(store: Store) -> None:
    """Many rounds of attach and delete of one segment at once: whichever wins, the other fails
    cleanly, and the rule never points at a segment that is gone."""
    rule_id = await flag_with_rule(store)
    outcomes: set[tuple[str, str]] = set()
    for i in range(15):
        s = await segment(store, f"race-{i}")

        async def attach(seg_id: str = s.id) -> str:
            try:
                await store.update_rule(T, rule_id, RulePatch(segments=(seg_id,)), None)
            except NotFound:
                return "attach-lost"
            return "attached"

        async def delete(seg_id: str = s.id) -> str:
            try:
                await store.delete_segment(T, seg_id)
            except InUse:
                return "delete-refused"
            return "deleted"

        a, d = await asyncio.gather(attach(), delete())
        outcomes.add((a, d))
        assert (a, d) in {("attached", "delete-refused"), ("attach-lost", "deleted")}
        rule = await store.get_rule(T, rule_id)
        for seg_id in rule.segments:
            await store.get_segment(T, "id", seg_id)  # never NotFound
        await store.update_rule(T, rule_id, RulePatch(segments=()), None)
    assert outcomes  # at least one ordering was exercised


async def test_concurrent_attaches_keep_a_consistent_list(store: Store) -> None:
    segs = [await segment(store, f"s{i}") for i in range(4)]
    rule_id = await flag_with_rule(store)
    lists = [(segs[0].id, segs[1].id), (segs[2].id, segs[3].id)]
    await asyncio.gather(
        *(store.update_rule(T, rule_id, RulePatch(segments=ids), None) for ids in lists * 3)
    )
    assert (await store.get_rule(T, rule_id)).segments in lists
