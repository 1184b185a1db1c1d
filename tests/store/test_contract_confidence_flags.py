"""The store contract for Confidence's flags, clients and credentials, run once per backend:
round trips, rule order, the segment a rule uses (shared with every other API: not deletable,
not archivable while used), clients and secrets found by hash, tenant isolation, revisions."""

from __future__ import annotations

import random

import msgspec
import pytest

from core.confidence_model import (
    Assignment,
    BucketRange,
    ClientCredential,
    ConfidenceClient,
    ConfidenceFlag,
    FlagRule,
    FlagVariant,
)
from core.errors import Conflict, InUse, NotFound
from core.lifecycle import LifecycleService
from core.model import NewFlag, NewRule, NewSegment, Principal, Segment
from core.service import SegmentService
from core.store import Store
from core.tokens import hash_token

T = "tenant-a"
U = "tenant-b"
ADMIN = Principal(tenant=T, scope="admin", token_name="tester")


@pytest.fixture
async def tenants(store: Store) -> None:
    await store.ensure_tenant(T)
    await store.ensure_tenant(U)


pytestmark = pytest.mark.usefixtures("tenants")


async def segment(store: Store, slug: str, tenant: str = T) -> Segment:
    return await store.create_segment(tenant, NewSegment(name=slug, slug=slug), "tester")


def rule(flag: str, rule_id: str, slug: str, variant: str | None = "on") -> FlagRule:
    assignment = (
        Assignment(
            assignment_id="a1",
            kind="variant",
            variant=f"flags/{flag}/variants/{variant}",
            bucket_ranges=(BucketRange(0, 100),),
        )
        if variant
        else Assignment(kind="client_default", bucket_ranges=(BucketRange(0, 100),))
    )
    return FlagRule(
        name=f"flags/{flag}/rules/{rule_id}",
        segment=f"segments/{slug}",
        environments=("production",),
        bucket_count=100,
        assignments=(assignment,),
        create_time=1,
        update_time=1,
    )


def flag(flag_id: str, *rules: FlagRule, clients: tuple[str, ...] = ()) -> ConfidenceFlag:
    return ConfidenceFlag(
        tenant=T,
        name=f"flags/{flag_id}",
        schema={"schema": {"enabled": {"boolSchema": {}}}},
        variants=(
            FlagVariant(name=f"flags/{flag_id}/variants/on", value={"enabled": True}),
            FlagVariant(name=f"flags/{flag_id}/variants/off", value={"enabled": False}),
        ),
        rules=rules,
        clients=clients,
        create_time=1,
        update_time=1,
        creator="tester",
    )


async def new_client(store: Store, client_id: str, tenant: str = T) -> ConfidenceClient:
    return await store.create_confidence_client(
        ConfidenceClient(tenant=tenant, name=f"clients/{client_id}", display_name=client_id)
    )


# --- flags ---------------------------------------------------------------------------------


async def test_a_flag_round_trips_with_its_children_in_order(store: Store) -> None:
    for slug in ("seg-a", "seg-b", "seg-c"):
        await segment(store, slug)
    await new_client(store, "web")
    made = flag(
        "alpha",
        rule("alpha", "r2", "seg-b"),
        rule("alpha", "r1", "seg-a", variant=None),
        rule("alpha", "r3", "seg-c", variant="off"),
        clients=("clients/web",),
    )
    stored = await store.create_confidence_flag(T, made)
    assert stored == made
    assert [r.name.rsplit("/", 1)[1] for r in stored.rules] == ["r2", "r1", "r3"]
    assert await store.confidence_flag(T, "alpha") == made
    assert await store.confidence_flags(T) == [made]
    assert await store.confidence_flags(U) == []
    with pytest.raises(NotFound):
        await store.confidence_flag(U, "alpha")


async def test_flags_are_listed_by_id_in_any_state(store: Store) -> None:
    await store.create_confidence_flag(T, flag("zeta"))
    archived = msgspec.structs.replace(flag("beta"), state="ARCHIVED")
    await store.create_confidence_flag(T, archived)
    assert [f.name for f in await store.confidence_flags(T)] == ["flags/beta", "flags/zeta"]
    assert (await store.confidence_flag(T, "beta")).state == "ARCHIVED"


async def test_a_taken_flag_id_is_a_conflict(store: Store) -> None:
    await store.create_confidence_flag(T, flag("alpha"))
    with pytest.raises(Conflict) as err:
        await store.create_confidence_flag(T, flag("alpha"))
    assert err.value.field == "confidence_flag"
    # Another tenant may use the id.
    await store.create_confidence_flag(U, msgspec.structs.replace(flag("alpha"), tenant=U))


async def test_a_rule_on_a_missing_segment_or_client_writes_nothing(store: Store) -> None:
    await segment(store, "seg-other", tenant=U)
    with pytest.raises(NotFound) as err:
        await store.create_confidence_flag(T, flag("alpha", rule("alpha", "r1", "seg-other")))
    assert err.value.kind == "segment"
    with pytest.raises(NotFound) as err:
        await store.create_confidence_flag(T, flag("alpha", clients=("clients/nobody",)))
    assert err.value.kind == "client"
    assert await store.confidence_flags(T) == []


async def test_a_rule_on_a_segment_of_another_sandbox_is_not_found(store: Store) -> None:
    await store.create_segment(T, NewSegment(name="dev", slug="dev-seg", sandbox="dev"), "t")
    with pytest.raises(NotFound):
        await store.create_confidence_flag(
            T, flag("alpha", rule("alpha", "r1", "dev-seg")), sandbox="prod"
        )
    # Without a sandbox (a restore), any segment of the tenant.
    await store.create_confidence_flag(T, flag("alpha", rule("alpha", "r1", "dev-seg")))


async def test_change_rewrites_the_flag_and_bumps_its_version(store: Store) -> None:
    for slug in ("seg-a", "seg-b"):
        await segment(store, slug)
    made = await store.create_confidence_flag(T, flag("alpha", rule("alpha", "r1", "seg-a")))
    before = await store.tenant_revision(T)

    def add_rule(current: ConfidenceFlag) -> ConfidenceFlag:
        return msgspec.structs.replace(
            current, rules=(rule("alpha", "r0", "seg-b"), *current.rules), description="new"
        )

    changed = await store.change_confidence_flag(T, "alpha", "bob", add_rule)
    assert changed.version == made.version + 1
    assert changed.updater == "bob" and changed.update_time >= made.update_time
    assert changed.description == "new"
    assert [r.segment for r in changed.rules] == ["segments/seg-b", "segments/seg-a"]
    assert await store.confidence_flag(T, "alpha") == changed
    assert await store.tenant_revision(T) > before
    # None (or the same flag) writes nothing.
    same = await store.change_confidence_flag(T, "alpha", "carol", lambda current: None)
    assert same == changed
    with pytest.raises(NotFound):
        await store.change_confidence_flag(U, "alpha", "bob", add_rule)


async def test_a_refused_change_writes_nothing(store: Store) -> None:
    await segment(store, "seg-a")
    made = await store.create_confidence_flag(T, flag("alpha", rule("alpha", "r1", "seg-a")))

    def to_missing(current: ConfidenceFlag) -> ConfidenceFlag:
        return msgspec.structs.replace(current, rules=(rule("alpha", "r9", "no-such-seg"),))

    with pytest.raises(NotFound):
        await store.change_confidence_flag(T, "alpha", "bob", to_missing)
    assert await store.confidence_flag(T, "alpha") == made


# --- segments are shared -------------------------------------------------------------------


async def test_a_segment_a_rule_uses_cannot_be_deleted_or_archived(store: Store) -> None:
    service = LifecycleService(store, SegmentService(store), random.Random(1))
    used = await service.create(ADMIN, NewSegment(name="used", slug="used-seg"))
    await store.create_confidence_flag(T, flag("alpha", rule("alpha", "r1", "used-seg")))
    assert await store.segment_flag_rules(T, used.id) == ["flags/alpha/rules/r1"]
    with pytest.raises(InUse):
        await store.delete_segment(T, used.id)
    with pytest.raises(InUse) as refused:
        await service.archive(ADMIN, "used-seg")
    assert refused.value.users == ("flags/alpha/rules/r1",)
    assert (await store.get_segment(T, "id", used.id)).state == "OK"
    # Once no rule uses it, both work.
    await store.change_confidence_flag(
        T, "alpha", "t", lambda f: msgspec.structs.replace(f, rules=())
    )
    assert await store.segment_flag_rules(T, used.id) == []
    assert (await service.archive(ADMIN, "used-seg")).state == "ARCHIVED"


async def test_an_archived_segment_cannot_back_a_rule(store: Store) -> None:
    service = LifecycleService(store, SegmentService(store), random.Random(1))
    await service.create(ADMIN, NewSegment(name="old", slug="old-seg"))
    await service.archive(ADMIN, "old-seg")
    with pytest.raises(Conflict) as err:
        await store.create_confidence_flag(T, flag("alpha", rule("alpha", "r1", "old-seg")))
    assert err.value.field == "state"


# --- clients and credentials ----------------------------------------------------------------


async def test_clients_and_credentials_round_trip_and_secrets_are_found_by_hash(
    store: Store,
) -> None:
    before = await store.tenant_revision(T)
    made = await new_client(store, "web")
    assert made.credentials == ()
    assert await store.tenant_revision(T) > before
    credential = ClientCredential(
        name="clients/web/credentials/k1", display_name="k", environments=("production",)
    )
    await store.add_client_credential(T, "web", credential, hash_token("s3cret"))
    got = await store.confidence_client(T, "web")
    assert got.credentials == (credential,)
    assert await store.credential_by_secret_hash(hash_token("s3cret")) == (
        T,
        "clients/web",
        credential,
    )
    assert await store.credential_by_secret_hash(hash_token("other")) is None
    assert [c.name for c in await store.confidence_clients(T)] == ["clients/web"]
    assert await store.confidence_clients(U) == []
    with pytest.raises(NotFound):
        await store.confidence_client(U, "web")
    with pytest.raises(NotFound):
        await store.add_client_credential(U, "web", credential, hash_token("x"))
    before = await store.tenant_revision(T)
    await store.delete_client_credential(T, "web", "k1")
    # A deleted credential must stop resolving at once: caches key on the revision.
    assert await store.tenant_revision(T) > before
    assert await store.credential_by_secret_hash(hash_token("s3cret")) is None
    with pytest.raises(NotFound):
        await store.delete_client_credential(T, "web", "k1")


async def test_a_taken_client_id_is_a_conflict(store: Store) -> None:
    await new_client(store, "web")
    with pytest.raises(Conflict) as err:
        await new_client(store, "web")
    assert err.value.field == "confidence_client"


async def test_deleting_a_client_removes_it_from_flags_and_its_secrets(store: Store) -> None:
    await new_client(store, "web")
    await new_client(store, "ios")
    await store.add_client_credential(
        T, "web", ClientCredential(name="clients/web/credentials/k1"), hash_token("s")
    )
    await store.create_confidence_flag(T, flag("alpha", clients=("clients/web", "clients/ios")))
    await store.delete_confidence_client(T, "web")
    assert (await store.confidence_flag(T, "alpha")).clients == ("clients/ios",)
    assert await store.credential_by_secret_hash(hash_token("s")) is None
    with pytest.raises(NotFound):
        await store.delete_confidence_client(T, "web")


async def test_restores_insert_once(store: Store) -> None:
    await segment(store, "seg-a")
    made = flag("alpha", rule("alpha", "r1", "seg-a"))
    assert await store.restore_confidence_flag(made) is True
    assert await store.restore_confidence_flag(made) is False
    assert await store.confidence_flag(T, "alpha") == made
    web = ConfidenceClient(
        tenant=T,
        name="clients/web",
        credentials=(ClientCredential(name="clients/web/credentials/k1"),),
    )
    assert await store.restore_confidence_client(web) is True
    assert await store.restore_confidence_client(web) is False
    assert (await store.confidence_client(T, "web")).credentials == ()


async def test_flags_using_names_the_flags_of_every_api(store: Store) -> None:
    shared = await segment(store, "shared")
    alone = await segment(store, "alone")
    await store.create_flag(T, NewFlag(name="new-ui"), "tester")
    await store.create_rule(
        T, NewRule(flag="new-ui", environment="development", segments=(shared.id,)), "tester"
    )
    await store.create_confidence_flag(
        T, flag("alpha", rule("alpha", "r1", "shared"), rule("alpha", "r2", "shared"))
    )
    assert await store.flags_using(T) == {
        shared.id: {"confidence": ["flags/alpha"], "unleash": ["new-ui"]}
    }
    assert await store.flags_using(T, shared.id) == {
        shared.id: {"confidence": ["flags/alpha"], "unleash": ["new-ui"]}
    }
    assert await store.flags_using(T, alone.id) == {}
    assert await store.flags_using(U) == {}
