"""The store contract for OAuth clients, access tokens and the extra segment reads
(``core.store.clients``, ``core.store.segment_queries``), once per backend."""

from __future__ import annotations

from typing import Any

import pytest

from core.errors import Conflict, NotFound
from core.model import ExtensionTest, NewSegment, Segment, Sort, now_us
from core.store import Store

T = "tenant-a"
U = "tenant-b"
HOUR = 3600 * 1_000_000


@pytest.fixture
async def tenants(store: Store) -> None:
    await store.ensure_tenant(T)
    await store.ensure_tenant(U)


pytestmark = pytest.mark.usefixtures("tenants")


async def add_client(
    store: Store, client_id: str = "cid", token_hash: str = "th", tenant: str = T
) -> None:
    await store.add_client_token(
        token_hash=token_hash,
        tenant=tenant,
        scope="admin",
        name="aepp",
        client_id=client_id,
        secret_hash="sh",
    )


# --- clients -------------------------------------------------------------------------------


async def test_client_token_is_a_token_with_its_client_id(store: Store) -> None:
    await add_client(store)
    principal = await store.principal_for("th")
    assert principal is not None
    assert (principal.tenant, principal.scope, principal.token_name) == (T, "admin", "aepp")
    assert principal.client_id == "cid"
    [info] = await store.list_tokens(T)
    assert info.client_id == "cid"


async def test_plain_tokens_have_no_client_id(store: Store) -> None:
    await store.add_token(token_hash="h", tenant=T, scope="admin", name="ci")
    principal = await store.principal_for("h")
    assert principal is not None
    assert principal.client_id is None


async def test_client_secret_is_checked_by_hash(store: Store) -> None:
    await add_client(store)
    assert await store.check_client_secret("cid", "sh") is True
    assert await store.check_client_secret("cid", "other") is False
    assert await store.check_client_secret("nobody", "sh") is False


async def test_duplicate_client_id_conflicts_and_stores_nothing(store: Store) -> None:
    await add_client(store)
    with pytest.raises(Conflict) as caught:
        await add_client(store, token_hash="th2", tenant=U)
    assert caught.value.field == "client_id"
    assert await store.principal_for("th2") is None
    assert await store.list_tokens(U) == []


# --- access tokens -------------------------------------------------------------------------


async def test_access_token_acts_as_the_clients_token_until_it_expires(store: Store) -> None:
    await add_client(store)
    now = now_us()
    await store.add_access_token(token_hash="at", client_id="cid", expires_at=now + HOUR)
    principal = await store.principal_for_access_token("at", now)
    assert principal is not None
    assert (principal.tenant, principal.scope, principal.client_id) == (T, "admin", "cid")
    assert await store.principal_for_access_token("at", now + HOUR) is None
    assert await store.principal_for_access_token("other", now) is None
    # An access token is not a stored token.
    assert await store.principal_for("at") is None


async def test_access_token_of_unknown_client_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.add_access_token(
            token_hash="at", client_id="nobody", expires_at=now_us() + HOUR
        )


async def test_issuing_drops_expired_access_tokens(store: Store) -> None:
    await add_client(store)
    now = now_us()
    await store.add_access_token(token_hash="old", client_id="cid", expires_at=now - 1)
    await store.add_access_token(token_hash="new", client_id="cid", expires_at=now + HOUR)
    assert await store.principal_for_access_token("old", now - 10) is None
    assert await store.principal_for_access_token("new", now) is not None


async def test_revoking_the_token_removes_client_and_access_tokens(store: Store) -> None:
    await add_client(store)
    now = now_us()
    await store.add_access_token(token_hash="at", client_id="cid", expires_at=now + HOUR)
    [info] = await store.list_tokens(T)
    await store.revoke_token(info.id)
    assert await store.principal_for_access_token("at", now) is None
    assert await store.check_client_secret("cid", "sh") is False
    # The client id is free again.
    await add_client(store, token_hash="th2")


# --- get_segments --------------------------------------------------------------------------


async def make(store: Store, name: str, tenant: str = T, **kw: Any) -> Segment:
    return await store.create_segment(tenant, NewSegment(name=name, **kw), "tester")


async def test_get_segments_in_the_order_asked_unknown_left_out(store: Store) -> None:
    a = await make(store, "a")
    b = await make(store, "b")
    other = await make(store, "c", tenant=U)
    found = await store.get_segments(T, [b.id, "nope", a.id, b.id, other.id, "bad\x00id"])
    assert [s.id for s in found] == [b.id, a.id]
    assert await store.get_segments(T, []) == []


# --- list_segments_where -------------------------------------------------------------------

CONTINUOUS = ("adobe", "evaluationInfo", "continuous", "enabled")


def flagged(value: bool) -> dict[str, Any]:
    return {"adobe": {"evaluationInfo": {"continuous": {"enabled": value}}}, "other": {"x": 1}}


async def test_list_where_filters_on_extension_booleans(store: Store) -> None:
    on = await make(store, "on", extensions=flagged(True))
    off = await make(store, "off", extensions=flagged(False))
    bare = await make(store, "bare")
    await make(store, "elsewhere", sandbox="dev", extensions=flagged(True))
    await make(store, "other tenant", tenant=U, extensions=flagged(True))
    order = (Sort("name"),)

    page = await store.list_segments_where(
        T, sandbox="prod", tests=[ExtensionTest(CONTINUOUS, True)], sort=order
    )
    assert ([s.id for s in page.items], page.total) == ([on.id], 1)

    page = await store.list_segments_where(
        T, sandbox="prod", tests=[ExtensionTest(CONTINUOUS, False)], sort=order
    )
    assert ([s.id for s in page.items], page.total) == ([bare.id, off.id], 2)

    # The default stands in for the absent value.
    page = await store.list_segments_where(
        T, sandbox="prod", tests=[ExtensionTest(CONTINUOUS, True, default=True)], sort=order
    )
    assert [s.id for s in page.items] == [bare.id, on.id]

    page = await store.list_segments_where(
        T, sandbox=None, tests=[ExtensionTest(CONTINUOUS, True)], sort=order
    )
    assert page.total == 2


async def test_list_where_pages_and_combines_tests(store: Store) -> None:
    for i in range(5):
        ext = {
            "adobe": {
                "evaluationInfo": {
                    "continuous": {"enabled": True},
                    "batch": {"enabled": i % 2 == 0},
                }
            }
        }
        await make(store, f"s{i}", extensions=ext)
    tests = [
        ExtensionTest(CONTINUOUS, True),
        ExtensionTest(("adobe", "evaluationInfo", "batch", "enabled"), True),
    ]
    page = await store.list_segments_where(
        T, sandbox="prod", tests=tests, offset=1, limit=1, sort=(Sort("name", descending=True),)
    )
    assert page.total == 3
    assert [s.name for s in page.items] == ["s2"]


async def test_sort_by_description_puts_absent_first_and_is_byte_order(store: Store) -> None:
    await make(store, "none")
    await make(store, "lower", description="b")
    await make(store, "upper", description="B")
    await make(store, "accent", description="é")
    page = await store.list_segments(T, sandbox="prod", sort=(Sort("description"),))
    assert [s.name for s in page.items] == ["none", "upper", "lower", "accent"]
    page = await store.list_segments_where(
        T,
        sandbox="prod",
        tests=[ExtensionTest(CONTINUOUS, False)],
        sort=(Sort("description", descending=True),),
    )
    assert [s.name for s in page.items] == ["accent", "lower", "upper", "none"]


async def test_list_where_reads_extensions_holding_nul_escapes(store: Store) -> None:
    ext = {
        "adobe": {
            "evaluationInfo": {"continuous": {"enabled": True}},
            "fields": {"payloadSchema": "a\x00b", "odd": "\\u0000"},
        }
    }
    made = await make(store, "nul", extensions=ext)
    page = await store.list_segments_where(
        T, sandbox="prod", tests=[ExtensionTest(CONTINUOUS, True)]
    )
    assert [s.id for s in page.items] == [made.id]
    assert page.items[0].extensions == ext
