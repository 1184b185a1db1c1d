"""Kept answers (``gateway.answers``): a repeated GET is answered from the process's cache, and
never once anything it depends on changed — a write, a revoked token, another header — on both
backends, through the public HTTP surface. ``services.answers.hits`` counts what was served
from the cache, so each test can tell a kept answer from a rebuilt one.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from core.cache import ENTRY_OVERHEAD
from core.model import Principal
from core.store import Store
from core.tokens import TokenService
from dialects.http import ANSWER_KEY
from gateway.answers import Answers, Mark
from tests.conftest import make_token

SE = {"contextName": "country", "operator": "IN", "values": ["SE"]}


def answers(app: Any) -> Answers:
    kept: Answers = app.state.services.answers
    return kept


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _segment(client: httpx.AsyncClient, token: str, name: str = "se") -> int:
    r = await client.post(
        "/api/admin/segments",
        json={"name": name, "constraints": [SE]},
        headers={"Authorization": token},
    )
    assert r.status_code == 201, r.text
    seq: int = r.json()["id"]
    return seq


def _adobe(token: str, org: str = "tenant-a@AdobeOrg") -> dict[str, str]:
    return {**bearer(token), "x-api-key": "app", "x-gw-ims-org-id": org}


async def _reads(
    client: httpx.AsyncClient, token: str, seq: int
) -> dict[str, tuple[str, dict[str, str]]]:
    """Each dialect's list and get of the one segment (ids looked up through the dialect)."""
    segmux = (await client.get("/segmux/v1/segments", headers=bearer(token))).json()["items"][0]
    confidence = (await client.get("/v1/segments", headers=bearer(token))).json()["segments"][0]
    adobe = (await client.get("/data/core/ups/segment/definitions", headers=_adobe(token))).json()[
        "segments"
    ][0]
    hal = (await client.get("/prod/individual-segments", headers=bearer(token))).json()
    hal_id = hal["_embedded"]["individual-segments"][0]["identifier"]
    return {
        "unleash list": ("/api/admin/segments", {"Authorization": token}),
        "unleash get": (f"/api/admin/segments/{seq}", {"Authorization": token}),
        "v23 list": ("/v2.3/data/segments", bearer(token)),
        "segmux list": ("/segmux/v1/segments", bearer(token)),
        "segmux get": (f"/segmux/v1/segments/{segmux['id']}", bearer(token)),
        "confidence list": ("/v1/segments", bearer(token)),
        "confidence get": (f"/v1/{confidence['name']}", bearer(token)),
        "adobe list": ("/data/core/ups/segment/definitions", _adobe(token)),
        "adobe get": (f"/data/core/ups/segment/definitions/{adobe['id']}", _adobe(token)),
        "hal list": ("/prod/individual-segments", bearer(token)),
        "hal get": (f"/prod/individual-segments/{hal_id}", bearer(token)),
    }


async def test_every_dialects_list_and_get_is_kept_and_dropped_by_a_write(
    client: httpx.AsyncClient, app: Any, store: Store
) -> None:
    token = await make_token(store, "tenant-a")
    seq = await _segment(client, token)
    reads = await _reads(client, token, seq)
    for name, (path, headers) in reads.items():
        first = await client.get(path, headers=headers)
        assert first.status_code == 200, (name, first.text)
        hits = answers(app).hits
        again = await client.get(path, headers=headers)
        assert answers(app).hits == hits + 1, name
        assert again.status_code == 200 and again.content == first.content, name
        assert again.headers["content-type"] == first.headers["content-type"], name
        assert again.headers["x-request-id"] != first.headers["x-request-id"], name
    r = await client.put(
        f"/api/admin/segments/{seq}",
        json={"name": "renamed", "constraints": [SE]},
        headers={"Authorization": token},
    )
    assert r.status_code == 204, r.text
    for name, (path, headers) in reads.items():
        hits = answers(app).hits
        r = await client.get(path, headers=headers)
        assert r.status_code == 200, (name, r.text)
        assert answers(app).hits == hits, f"{name}: served a kept answer after a write"
        assert "renamed" in r.text and '"se"' not in r.text, name


async def test_a_revoked_token_gets_no_kept_answer(
    client: httpx.AsyncClient, app: Any, store: Store
) -> None:
    token = await make_token(store, "tenant-a", name="doomed")
    for _ in range(2):
        r = await client.get("/v2.3/data/segments", headers=bearer(token))
        assert r.status_code == 200
    assert answers(app).hits == 1
    [info] = [t for t in await store.list_tokens("tenant-a") if t.name == "doomed"]
    await app.state.services.tokens.store.revoke_token(info.id)
    r = await client.get("/v2.3/data/segments", headers=bearer(token))
    assert r.status_code == 401, r.text


async def test_a_token_never_gets_another_tokens_answer(
    client: httpx.AsyncClient, app: Any, store: Store
) -> None:
    a = await make_token(store, "tenant-a")
    b = await make_token(store, "tenant-b")
    await _segment(client, a, "only-in-a")
    for _ in range(2):
        r = await client.get("/api/admin/segments", headers={"Authorization": a})
        assert [s["name"] for s in r.json()["segments"]] == ["only-in-a"]
    r = await client.get("/api/admin/segments", headers={"Authorization": b})
    assert r.status_code == 200 and r.json()["segments"] == []
    # The same token with and without "Bearer " are two requests: each answered for itself.
    r = await client.get("/api/admin/segments", headers={"Authorization": f"Bearer {b}"})
    assert r.json()["segments"] == []
    # A client token of tenant a never gets the admin answer its tenant's admin got.
    sdk = await make_token(store, "tenant-a", scope="client:development", name="sdk")
    r = await client.get("/api/admin/segments", headers={"Authorization": sdk})
    assert r.status_code in (401, 403), r.text


async def test_the_clients_host_is_not_part_of_the_key(
    client: httpx.AsyncClient, app: Any, store: Store
) -> None:
    """Links never carry the client's Host (they point to the address the client connected to,
    or what the settings and a trusted proxy say, which the key holds): another Host is the
    same answer, served from the one kept."""
    token = await make_token(store, "tenant-a")
    await _segment(client, token)
    bodies = []
    for host in ("one.test", "two.test", "one.test"):
        r = await client.get("/prod/individual-segments", headers={**bearer(token), "Host": host})
        assert r.status_code == 200
        bodies.append(r.json()["_links"]["self"]["href"])
    assert bodies[0].startswith("http://segmux.test/"), bodies
    assert bodies[0] == bodies[1] == bodies[2]
    assert answers(app).hits == 2


async def test_a_header_the_endpoint_reads_is_another_answer(
    client: httpx.AsyncClient, app: Any, store: Store
) -> None:
    """What an endpoint declares it varies on splits the key: Adobe's sandbox header, the
    Unleash client spec; the same headers elsewhere (not read there) do not."""
    token = await make_token(store, "tenant-a")
    sdk = await make_token(store, "tenant-a", scope="client:development", name="sdk")
    await _segment(client, token)
    path = "/data/core/ups/segment/definitions"
    for sandbox in ("prod", "other", "prod"):
        r = await client.get(path, headers={**_adobe(token), "x-sandbox-name": sandbox})
        assert r.status_code == 200, r.text
    assert answers(app).hits == 1
    for spec in ("4.3.0", "4.1.0", "4.3.0"):
        r = await client.get(
            "/api/client/features", headers={"Authorization": sdk, "Unleash-Client-Spec": spec}
        )
        assert r.status_code == 200, r.text
        assert r.json()["query"]["inlineSegmentConstraints"] is (spec == "4.1.0")
    assert answers(app).hits == 2
    for spec in ("4.3.0", "4.1.0", "bad"):
        r = await client.get(
            "/api/admin/segments", headers={"Authorization": token, "Unleash-Client-Spec": spec}
        )
        assert r.status_code == 200, r.text
    assert answers(app).hits == 4
    assert answers(app).vary_of("/api/client/features") == (
        b"accept",
        b"accept-encoding",
        b"authorization",
        b"if-none-match",
        b"unleash-client-spec",
    )


async def test_the_org_change_drops_adobes_kept_answers(
    client: httpx.AsyncClient, app: Any, store: Store
) -> None:
    token = await make_token(store, "tenant-a")
    for _ in range(2):
        r = await client.get("/data/core/ups/segment/definitions", headers=_adobe(token))
        assert r.status_code == 200, r.text
    assert answers(app).hits == 1
    await TokenService(store).set_ims_org("tenant-a", "moved@AdobeOrg")
    r = await client.get("/data/core/ups/segment/definitions", headers=_adobe(token))
    assert r.status_code == 403, r.text
    r = await client.get(
        "/data/core/ups/segment/definitions", headers=_adobe(token, "moved@AdobeOrg")
    )
    assert r.status_code == 200, r.text


async def test_access_tokens_errors_and_heads_are_never_kept(
    client: httpx.AsyncClient, app: Any, store: Store
) -> None:
    _, secret, _ = await TokenService(store).create_client(
        tenant="tenant-a", scope="admin", name="tool", client_id="tool-client"
    )
    r = await client.post(
        "/v1/oauth/token",
        json={"grantType": "client_credentials", "clientId": "tool-client", "clientSecret": secret},
    )
    access = r.json()["accessToken"]
    token = await make_token(store, "tenant-a")
    for _ in range(3):
        r = await client.get("/v1/segments", headers=bearer(access))
        assert r.status_code == 200, r.text
        r = await client.get("/api/admin/segments/999", headers={"Authorization": token})
        assert r.status_code == 404
        r = await client.head("/v2.3/data/segments", headers=bearer(token))
        assert r.status_code == 200 and r.content == b""
    assert answers(app).hits == 0
    assert len(answers(app)) == 0


def _mark(revision: int = 1) -> Mark:
    who = Principal(tenant="t", scope="admin", token_name="n")
    return Mark("t", revision, "hash", who)


def _scope(path: str, query: bytes = b"", headers: list[tuple[bytes, bytes]] | None = None) -> Any:
    scope = {
        "path": path,
        "query_string": query,
        "scheme": "http",
        "server": None,
        "headers": headers or [],
    }
    scope[ANSWER_KEY] = Answers.primary(scope)
    return scope


def _key(scope: Any) -> tuple[object, ...]:
    return Answers.key(scope[ANSWER_KEY], _mark().vary, scope)


def _weight(scope: Any, body: bytes) -> int:
    return len(body) + ENTRY_OVERHEAD + len(repr(_key(scope)))


def test_bodies_are_bounded_and_the_least_recent_go_first() -> None:
    a, b, c = _scope("/a"), _scope("/b"), _scope("/c")
    room = 2 * _weight(a, b"12345") + 5
    # The paths' Vary declarations take a sixteenth of the bytes: the answers, the rest.
    kept = Answers(
        services=None,  # type: ignore[arg-type]
        capacity=3,
        max_bytes=room * 16 // 15 + 1,
        max_entry=6,
    )
    kept.keep(a, 200, [], b"12345", _mark())
    kept.keep(b, 200, [], b"12345", _mark())
    assert len(kept) == 2 and kept._entries.kept_bytes == 2 * _weight(a, b"12345")
    kept.keep(c, 200, [], b"1", _mark())  # over the bound: the oldest goes
    assert len(kept) == 2 and _key(a) not in kept._entries
    big = _scope("/big")
    kept.keep(big, 200, [], b"1234567", _mark())  # over max_entry: not kept
    assert _key(big) not in kept._entries
    kept.keep(c, 200, [], b"22", _mark(revision=5))
    kept.keep(c, 200, [], b"33", _mark(revision=4))  # never replaced by an older build
    found = kept._entries.get(_key(c))
    assert found is not None and found.body == b"22"
    d = _scope("/d")
    kept.keep(d, 404, [], b"x", _mark())
    assert _key(d) not in kept._entries
    assert kept._entries.kept_bytes == _weight(b, b"12345") + _weight(c, b"22")


def test_keys_and_headers_count_against_the_bound() -> None:
    """Spellings of one query are distinct keys: their text and headers are counted, so a
    client cannot fill memory with long query strings over small bodies."""
    kept = Answers(
        services=None,
        capacity=10_000,
        max_bytes=64 * 1024,  # type: ignore[arg-type]
        max_entry=1024,
    )
    headers = [(b"content-type", b"application/json")]
    for n in range(1000):
        scope = _scope("/x", b"q=" + b"0" * (n + 1000) + b"1")
        kept.keep(scope, 200, headers, b"{}", _mark())
        assert kept.kept_bytes <= 64 * 1024
    assert 0 < len(kept) < 64
    assert kept.kept_bytes > kept._entries.kept_bytes  # the paths' declarations count too


@pytest.mark.parametrize(
    "header",
    [b"x-request-id", b"traceparent", b"unleash-instanceid", b"unleash-connection-id", b"host"],
)
def test_headers_the_endpoint_does_not_read_do_not_split_the_key(header: bytes) -> None:
    def scope(value: bytes) -> Any:
        return _scope("/x", headers=[(b"authorization", b"Bearer t"), (header, value)])

    assert _key(scope(b"1")) == _key(scope(b"2"))
    assert b"Bearer t" not in repr(_key(scope(b"1"))).encode()


def test_a_header_sent_twice_is_another_key() -> None:
    once = _scope("/x", headers=[(b"authorization", b"a")])
    twice = _scope("/x", headers=[(b"authorization", b"a"), (b"authorization", b"b")])
    swapped = _scope("/x", headers=[(b"authorization", b"b"), (b"authorization", b"a")])
    assert len({_key(once), _key(twice), _key(swapped)}) == 3


async def test_an_sdk_polling_with_its_etag_gets_kept_304s_until_a_change(
    client: httpx.AsyncClient, app: Any, store: Store
) -> None:
    admin = {"Authorization": await make_token(store, "tenant-a")}
    sdk = {
        "Authorization": await make_token(store, "tenant-a", scope="client:development", name="sdk")
    }
    r = await client.post(
        "/api/admin/projects/default/features", json={"name": "f1"}, headers=admin
    )
    assert r.status_code in (200, 201), r.text
    etag = (await client.get("/api/client/features", headers=sdk)).headers["etag"]
    polls = [
        await client.get("/api/client/features", headers={**sdk, "If-None-Match": etag})
        for _ in range(3)
    ]
    assert [p.status_code for p in polls] == [304, 304, 304]
    assert answers(app).hits == 2
    await client.post("/api/admin/projects/default/features", json={"name": "f2"}, headers=admin)
    r = await client.get("/api/client/features", headers={**sdk, "If-None-Match": etag})
    assert r.status_code == 200 and r.headers["etag"] != etag
    assert sorted(f["name"] for f in r.json()["features"]) == ["f1", "f2"]
