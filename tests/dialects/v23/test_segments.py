"""The v2.3 API over HTTP, every status it answers, on both backends."""

from __future__ import annotations

import io
import json
import uuid

import httpx
import pytest

from core.store import Store
from gateway.logging import configure
from tests.conftest import make_token

BASE = "/v2.3/data/segments"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


async def create(client: httpx.AsyncClient, token: str, name: str) -> dict[str, str]:
    r = await client.post(BASE, json={"name": name}, headers=auth(token))
    assert r.status_code == 200, r.text
    result: dict[str, str] = r.json()["result"]
    return result


# --- success paths --------------------------------------------------------------------------


async def test_create_returns_200_with_envelope(client: httpx.AsyncClient, token_a: str) -> None:
    r = await client.post(BASE, json={"name": "EMEA"}, headers=auth(token_a))
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert list(body) == ["success", "result"]
    assert body["success"] is True
    assert body["result"]["name"] == "EMEA"
    assert uuid.UUID(body["result"]["id"])
    assert list(body["result"]) == ["id", "name"]


async def test_list_matches_the_seed_shape(client: httpx.AsyncClient, token_a: str) -> None:
    emea = await create(client, token_a, "EMEA")
    dach = await create(client, token_a, "DACH")
    r = await client.get(BASE, params={"page": 1, "per_page": 20}, headers=auth(token_a))
    assert r.status_code == 200
    assert r.json() == {
        "success": True,
        "result": {
            "currentPage": 1,
            "perPage": 20,
            "lastPage": 1,
            "total": 2,
            "items": [emea, dach],  # creation order
            "filters": [],
        },
    }


async def test_list_defaults_page_1_per_page_20(client: httpx.AsyncClient, token_a: str) -> None:
    for i in range(25):
        await create(client, token_a, f"s{i:02d}")
    result = (await client.get(BASE, headers=auth(token_a))).json()["result"]
    assert (result["currentPage"], result["perPage"], result["lastPage"]) == (1, 20, 2)
    assert result["total"] == 25
    assert [i["name"] for i in result["items"]] == [f"s{i:02d}" for i in range(20)]


async def test_list_second_page(client: httpx.AsyncClient, token_a: str) -> None:
    for i in range(5):
        await create(client, token_a, f"s{i}")
    r = await client.get(BASE, params={"page": 2, "per_page": 2}, headers=auth(token_a))
    result = r.json()["result"]
    assert [i["name"] for i in result["items"]] == ["s2", "s3"]
    assert (result["currentPage"], result["lastPage"], result["total"]) == (2, 3, 5)


async def test_page_past_the_end_is_empty(client: httpx.AsyncClient, token_a: str) -> None:
    await create(client, token_a, "only")
    r = await client.get(BASE, params={"page": 9}, headers=auth(token_a))
    result = r.json()["result"]
    assert result["items"] == []
    assert (result["total"], result["lastPage"], result["currentPage"]) == (1, 1, 9)


async def test_huge_page_number_is_empty_not_an_error(
    client: httpx.AsyncClient, token_a: str
) -> None:
    r = await client.get(BASE, params={"page": "99999999999999999"}, headers=auth(token_a))
    assert r.status_code == 200
    assert r.json()["result"]["items"] == []


async def test_empty_list_has_last_page_1(client: httpx.AsyncClient, token_a: str) -> None:
    result = (await client.get(BASE, headers=auth(token_a))).json()["result"]
    assert (result["total"], result["lastPage"], result["items"]) == (0, 1, [])


async def test_per_page_100_is_allowed(client: httpx.AsyncClient, token_a: str) -> None:
    r = await client.get(BASE, params={"per_page": 100}, headers=auth(token_a))
    assert r.status_code == 200
    assert r.json()["result"]["perPage"] == 100


async def test_update_renames(client: httpx.AsyncClient, token_a: str) -> None:
    seg = await create(client, token_a, "EMEA")
    r = await client.put(
        f"{BASE}/{seg['id']}", json={"name": "Central Europe"}, headers=auth(token_a)
    )
    assert r.status_code == 200
    assert r.json() == {"success": True, "result": {"id": seg["id"], "name": "Central Europe"}}
    listed = (await client.get(BASE, headers=auth(token_a))).json()["result"]["items"]
    assert listed == [{"id": seg["id"], "name": "Central Europe"}]


async def test_update_to_same_name(client: httpx.AsyncClient, token_a: str) -> None:
    seg = await create(client, token_a, "EMEA")
    r = await client.put(f"{BASE}/{seg['id']}", json={"name": "EMEA"}, headers=auth(token_a))
    assert r.status_code == 200


async def test_delete_is_204_without_content(client: httpx.AsyncClient, token_a: str) -> None:
    seg = await create(client, token_a, "EMEA")
    r = await client.delete(f"{BASE}/{seg['id']}", headers=auth(token_a))
    assert r.status_code == 204
    assert r.content == b""
    assert (await client.get(BASE, headers=auth(token_a))).json()["result"]["total"] == 0


async def test_names_are_trimmed_like_laravel(client: httpx.AsyncClient, token_a: str) -> None:
    seg = await create(client, token_a, "  EMEA  ")
    assert seg["name"] == "EMEA"


async def test_name_of_255_characters_is_accepted(client: httpx.AsyncClient, token_a: str) -> None:
    seg = await create(client, token_a, "n" * 255)
    assert len(seg["name"]) == 255


async def test_extra_fields_are_ignored(client: httpx.AsyncClient, token_a: str) -> None:
    r = await client.post(BASE, json={"name": "x", "id": "forced"}, headers=auth(token_a))
    assert r.status_code == 200
    assert r.json()["result"]["id"] != "forced"


async def test_request_id_is_echoed(client: httpx.AsyncClient, token_a: str) -> None:
    r = await client.get(BASE, headers={**auth(token_a), "X-Request-Id": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    r = await client.get(BASE, headers=auth(token_a))
    assert len(r.headers["x-request-id"]) == 32


# --- 400 / 413 / 415 -----------------------------------------------------------------------


async def test_malformed_json_is_400(client: httpx.AsyncClient, token_a: str) -> None:
    r = await client.post(
        BASE, content=b'{"name": ', headers={**auth(token_a), "Content-Type": "application/json"}
    )
    assert r.status_code == 400
    assert r.json() == {"success": False, "message": "Malformed JSON body."}


async def test_invalid_utf8_is_400(client: httpx.AsyncClient, token_a: str) -> None:
    r = await client.post(
        BASE,
        content=b'{"name": "\xff\xfe"}',
        headers={**auth(token_a), "Content-Type": "application/json"},
    )
    assert r.status_code == 400


async def test_deeply_nested_json_is_400(client: httpx.AsyncClient, token_a: str) -> None:
    body = b'{"name": "x", "deep": ' + b"[" * 10000 + b"]" * 10000 + b"}"
    r = await client.post(
        BASE, content=body, headers={**auth(token_a), "Content-Type": "application/json"}
    )
    assert r.status_code == 400


async def test_body_over_limit_is_413(client: httpx.AsyncClient, token_a: str) -> None:
    body = json.dumps({"name": "x" * (1024 * 1024 + 10)})
    r = await client.post(
        BASE, content=body, headers={**auth(token_a), "Content-Type": "application/json"}
    )
    assert r.status_code == 413
    assert r.json()["success"] is False


async def test_wrong_content_type_is_415(client: httpx.AsyncClient, token_a: str) -> None:
    r = await client.post(
        BASE, content=b'{"name":"x"}', headers={**auth(token_a), "Content-Type": "text/plain"}
    )
    assert r.status_code == 415
    assert r.json()["success"] is False
    r = await client.put(
        f"{BASE}/{uuid.uuid4()}",
        content=b"name=x",
        headers={**auth(token_a), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 415


async def test_content_type_with_charset_is_fine(client: httpx.AsyncClient, token_a: str) -> None:
    r = await client.post(
        BASE,
        content=b'{"name":"x"}',
        headers={**auth(token_a), "Content-Type": "application/json; charset=utf-8"},
    )
    assert r.status_code == 200


# --- 401 / 403 -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", BASE),
        ("POST", BASE),
        # A fresh id each run, under a fixed test id (pytest-xdist's workers must collect the
        # same test ids).
        pytest.param("PUT", f"{BASE}/{uuid.uuid4()}", id="PUT-unknown-id"),
        pytest.param("DELETE", f"{BASE}/{uuid.uuid4()}", id="DELETE-unknown-id"),
    ],
)
@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic dXNlcjpwYXNz", "Bearer "])
async def test_missing_or_unknown_token_is_401(
    client: httpx.AsyncClient, method: str, path: str, header: str | None
) -> None:
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["Authorization"] = header
    r = await client.request(method, path, headers=headers, content=b'{"name":"x"}')
    assert r.status_code == 401
    assert r.json() == {"success": False, "message": "Unauthenticated."}


async def test_token_without_bearer_scheme_is_401(client: httpx.AsyncClient, token_a: str) -> None:
    r = await client.get(BASE, headers={"Authorization": token_a})
    assert r.status_code == 401


async def test_client_token_can_read_but_not_write(
    client: httpx.AsyncClient, token_a: str, client_token_a: str
) -> None:
    seg = await create(client, token_a, "EMEA")
    r = await client.get(BASE, headers=auth(client_token_a))
    assert r.status_code == 200
    assert r.json()["result"]["total"] == 1
    for method, path in (
        ("POST", BASE),
        ("PUT", f"{BASE}/{seg['id']}"),
        ("DELETE", f"{BASE}/{seg['id']}"),
    ):
        r = await client.request(
            method, path, json={"name": "hijack"}, headers=auth(client_token_a)
        )
        assert r.status_code == 403, method
        assert r.json() == {"success": False, "message": "This action is unauthorized."}
    listed = (await client.get(BASE, headers=auth(token_a))).json()["result"]["items"]
    assert listed == [seg]


# --- 404 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "segment_id",
    [pytest.param(str(uuid.uuid4()), id="unknown-uuid"), "not-a-uuid", "1", "%00"],
)
async def test_unknown_or_malformed_id_is_404(
    client: httpx.AsyncClient, token_a: str, segment_id: str
) -> None:
    for method in ("PUT", "DELETE"):
        r = await client.request(
            method, f"{BASE}/{segment_id}", json={"name": "x"}, headers=auth(token_a)
        )
        assert r.status_code == 404, (method, r.text)
        assert r.json() == {"success": False, "message": "Segment not found."}


async def test_other_tenants_segment_is_404_and_untouched(
    client: httpx.AsyncClient, token_a: str, token_b: str
) -> None:
    theirs = await create(client, token_b, "B's segment")
    for method in ("PUT", "DELETE"):
        r = await client.request(
            method, f"{BASE}/{theirs['id']}", json={"name": "mine now"}, headers=auth(token_a)
        )
        assert r.status_code == 404
        assert r.json() == {"success": False, "message": "Segment not found."}
    mine = (await client.get(BASE, headers=auth(token_a))).json()["result"]
    assert mine["total"] == 0
    theirs_now = (await client.get(BASE, headers=auth(token_b))).json()["result"]["items"]
    assert theirs_now == [theirs]


async def test_same_name_in_two_tenants(
    client: httpx.AsyncClient, token_a: str, token_b: str
) -> None:
    await create(client, token_a, "EMEA")
    await create(client, token_b, "EMEA")


async def test_unknown_path_is_404_in_envelope(client: httpx.AsyncClient, token_a: str) -> None:
    r = await client.get("/v2.3/data/nothing", headers=auth(token_a))
    assert r.status_code == 404
    assert r.json()["success"] is False


async def test_update_of_unknown_id_with_invalid_body_is_404(
    client: httpx.AsyncClient, token_a: str
) -> None:
    r = await client.put(f"{BASE}/{uuid.uuid4()}", json={}, headers=auth(token_a))
    assert r.status_code == 404


# --- 405 -----------------------------------------------------------------------------------


async def test_unsupported_method_is_405_with_allow(
    client: httpx.AsyncClient, token_a: str
) -> None:
    r = await client.patch(BASE, headers=auth(token_a))
    assert r.status_code == 405
    assert r.headers["allow"] == "GET, HEAD, POST"
    assert r.json() == {
        "success": False,
        "message": "The PATCH method is not supported for route v2.3/data/segments. "
        "Supported methods: GET, HEAD, POST.",
    }
    r = await client.get(f"{BASE}/{uuid.uuid4()}", headers=auth(token_a))
    assert r.status_code == 405
    assert r.headers["allow"] == "PUT, DELETE"


# --- 422 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "The name field is required."),
        ({"name": None}, "The name field is required."),
        ({"name": ""}, "The name field is required."),
        ({"name": "   "}, "The name field is required."),
        ([], "The name field is required."),
        ("EMEA", "The name field is required."),
        ({"name": 5}, "The name field must be a string."),
        ({"name": ["EMEA"]}, "The name field must be a string."),
        ({"name": True}, "The name field must be a string."),
        ({"name": "x" * 256}, "The name field must not be greater than 255 characters."),
    ],
)
async def test_invalid_name_is_422(
    client: httpx.AsyncClient, token_a: str, body: object, message: str
) -> None:
    seg = await create(client, token_a, "keep")
    for method, path in (("POST", BASE), ("PUT", f"{BASE}/{seg['id']}")):
        r = await client.request(method, path, json=body, headers=auth(token_a))
        assert r.status_code == 422, (method, r.text)
        assert r.json() == {"success": False, "message": message, "errors": {"name": [message]}}
    items = (await client.get(BASE, headers=auth(token_a))).json()["result"]["items"]
    assert items == [seg]  # nothing stored, nothing changed


async def test_nul_in_name_is_422(client: httpx.AsyncClient, token_a: str) -> None:
    r = await client.post(BASE, json={"name": "a\x00b"}, headers=auth(token_a))
    assert r.status_code == 422
    assert r.json()["errors"]["name"]


async def test_duplicate_name_is_422(client: httpx.AsyncClient, token_a: str) -> None:
    await create(client, token_a, "EMEA")
    r = await client.post(BASE, json={"name": "EMEA"}, headers=auth(token_a))
    assert r.status_code == 422
    taken = "The name has already been taken."
    assert r.json() == {"success": False, "message": taken, "errors": {"name": [taken]}}


async def test_rename_onto_taken_name_is_422_and_keeps_old(
    client: httpx.AsyncClient, token_a: str
) -> None:
    await create(client, token_a, "EMEA")
    dach = await create(client, token_a, "DACH")
    r = await client.put(f"{BASE}/{dach['id']}", json={"name": "EMEA"}, headers=auth(token_a))
    assert r.status_code == 422
    assert r.json()["errors"] == {"name": ["The name has already been taken."]}
    names = [
        i["name"] for i in (await client.get(BASE, headers=auth(token_a))).json()["result"]["items"]
    ]
    assert names == ["EMEA", "DACH"]


async def test_names_differing_in_case_are_distinct(
    client: httpx.AsyncClient, token_a: str
) -> None:
    await create(client, token_a, "emea")
    await create(client, token_a, "EMEA")


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"page": "0"}, "page", "The page field must be at least 1."),
        ({"page": "-1"}, "page", "The page field must be at least 1."),
        ({"page": "abc"}, "page", "The page field must be an integer."),
        ({"page": "1.5"}, "page", "The page field must be an integer."),
        ({"page": "1e3"}, "page", "The page field must be an integer."),
        ({"page": "9" * 40}, "page", "The page field must be an integer."),
        ({"per_page": "0"}, "per_page", "The per page field must be at least 1."),
        ({"per_page": "101"}, "per_page", "The per page field must not be greater than 100."),
        ({"per_page": "x"}, "per_page", "The per page field must be an integer."),
        ([("page", "1"), ("page", "2")], "page", "The page field must be a single value."),
    ],
)
async def test_bad_paging_is_422(
    client: httpx.AsyncClient, token_a: str, params: object, field: str, message: str
) -> None:
    r = await client.get(BASE, params=params, headers=auth(token_a))  # type: ignore[arg-type]
    assert r.status_code == 422
    assert r.json() == {"success": False, "message": message, "errors": {field: [message]}}


# --- 503 -----------------------------------------------------------------------------------


async def test_store_unavailable_is_503_with_retry_after(
    client: httpx.AsyncClient, token_a: str, store: Store
) -> None:
    await store.close()
    r = await client.get(BASE, headers=auth(token_a))
    assert r.status_code == 503
    assert r.headers["retry-after"] == "1"
    assert r.json() == {"success": False, "message": "Service Unavailable."}


# --- logs ----------------------------------------------------------------------------------


async def test_tokens_never_appear_in_logs(client: httpx.AsyncClient, store: Store) -> None:
    token = await make_token(store, "tenant-log")
    buf = io.StringIO()
    configure("debug", stream=buf)
    try:
        await client.post(BASE, json={"name": "x"}, headers=auth(token))
        await client.get(BASE, headers=auth(token))
        await client.get(BASE, headers={"Authorization": f"Bearer {token}x"})
        await client.get(f"{BASE}?token={token}", headers=auth(token))
    finally:
        configure("info")
    lines = [json.loads(line) for line in buf.getvalue().splitlines()]
    assert len([ln for ln in lines if ln["event"] == "request"]) == 4
    assert {ln["status"] for ln in lines if ln["event"] == "request"} == {200, 401}
    assert token not in buf.getvalue()
    assert all("request_id" in ln for ln in lines)


async def test_unroutable_path_under_prefix_is_404_in_envelope(
    client: httpx.AsyncClient, token_a: str
) -> None:
    r = await client.delete(f"{BASE}/a%0Ab", headers=auth(token_a))
    assert r.status_code == 404
    assert r.json() == {"success": False, "message": "Not Found."}
