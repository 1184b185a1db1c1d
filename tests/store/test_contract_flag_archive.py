"""The store contract for archiving, reviving and deleting archived flags, once per backend."""

from __future__ import annotations

import pytest

from core.errors import Conflict, InUse, NotFound
from core.model import NewFlag, NewRule, NewSegment
from core.store import Store

T = "tenant-a"
U = "tenant-b"


@pytest.fixture
async def tenants(store: Store) -> None:
    await store.ensure_tenant(T)
    await store.ensure_tenant(U)


pytestmark = pytest.mark.usefixtures("tenants")


async def test_archive_and_revive_keep_rules_and_bump_the_revision(store: Store) -> None:
    created = await store.create_flag(T, NewFlag(name="f"), None)
    rule = await store.create_rule(T, NewRule(flag="f", environment="development"), None)
    await store.set_flag_enabled(T, "f", "development", True, None)
    await store.set_flag_enabled(T, "f", "production", False, None)
    before = await store.tenant_revision(T)

    enabled = await store.get_flag(T, "f")
    archived = await store.set_flag_archived(T, "f", True, "tester")
    assert archived.archived is True
    assert archived.version == enabled.version + 1
    assert archived.updated_at >= created.updated_at
    assert archived.enabled == {"development": True, "production": False}
    assert await store.tenant_revision(T) > before
    assert [r.id for r in await store.list_rules(T, flag="f")] == [rule.id]

    revived = await store.set_flag_archived(T, "f", False, "tester", turn_off=True)
    assert revived.archived is False
    assert revived.enabled == {"development": False, "production": False}
    assert [r.id for r in await store.list_rules(T, flag="f")] == [rule.id]


async def test_archive_without_turn_off_keeps_states(store: Store) -> None:
    await store.create_flag(T, NewFlag(name="f"), None)
    await store.set_flag_enabled(T, "f", "production", True, None)
    revived = await store.set_flag_archived(T, "f", False, None)
    assert revived.enabled == {"production": True}


async def test_archive_of_an_unknown_flag_or_other_tenant_is_not_found(store: Store) -> None:
    await store.create_flag(U, NewFlag(name="theirs"), None)
    for name in ("nope", "theirs"):
        with pytest.raises(NotFound):
            await store.set_flag_archived(T, name, True, None)
    assert (await store.get_flag(U, "theirs")).archived is False


async def test_delete_archived_flag_removes_it_with_its_rules(store: Store) -> None:
    segment = await store.create_segment(T, NewSegment(name="s"), None)
    await store.create_flag(T, NewFlag(name="f"), None)
    await store.create_rule(
        T, NewRule(flag="f", environment="development", segments=(segment.id,)), None
    )
    # Not archived: nothing happens, and the segment stays in use.
    assert await store.delete_archived_flag(T, "f") is False
    with pytest.raises(InUse):
        await store.delete_segment(T, segment.id)
    await store.set_flag_archived(T, "f", True, None)
    before = await store.tenant_revision(T)
    assert await store.delete_archived_flag(T, "f") is True
    assert await store.tenant_revision(T) > before
    with pytest.raises(NotFound):
        await store.get_flag(T, "f")
    assert await store.list_rules(T, flag="f") == []
    await store.delete_segment(T, segment.id)  # no rule uses it any more
    assert await store.delete_archived_flag(T, "f") is False
    assert await store.delete_archived_flag(T, "nope") is False


async def test_delete_archived_flag_never_crosses_tenants(store: Store) -> None:
    await store.create_flag(U, NewFlag(name="f"), None)
    await store.set_flag_archived(U, "f", True, None)
    assert await store.delete_archived_flag(T, "f") is False
    assert (await store.get_flag(U, "f")).archived is True


async def test_an_archived_flag_cannot_be_turned_on_or_off(store: Store) -> None:
    await store.create_flag(T, NewFlag(name="f"), None)
    archived = await store.set_flag_archived(T, "f", True, None)
    for enabled in (True, False):
        with pytest.raises(Conflict) as err:
            await store.set_flag_enabled(T, "f", "development", enabled, None)
        assert err.value.field == "archived"
    after = await store.get_flag(T, "f")
    assert (after.enabled, after.version) == ({}, archived.version)
