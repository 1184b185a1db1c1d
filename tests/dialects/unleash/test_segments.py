"""The Unleash segments admin API over HTTP: every status and error body of the fact sheet, on
both backends."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from core.model import NewSegment
from core.store import Store
from tests.conftest import make_token
from tests.dialects.unleash.helpers import (
    SEGMENTS,
    VALIDATION,
    WITH_MESSAGE,
    add_strategy,
    auth,
    create_feature,
    create_segment,
    without_id,
)

IN_U1 = [{"contextName": "userId", "operator": "IN", "values": ["u1", "u2"]}]


async def post(client: httpx.AsyncClient, token: str, body: Any) -> httpx.Response:
    return await client.post(SEGMENTS, json=body, headers=auth(token))


def joi(message: str) -> dict[str, Any]:
    return {"name": "BadDataError", "message": VALIDATION, "details": [{"message": message}]}


def with_message(message: str) -> dict[str, Any]:
    return {
        "name": "BadDataError",
        "message": WITH_MESSAGE + message,
        "details": [{"message": message}],
    }


def ajv(r: httpx.Response, path: str, message: str) -> None:
    assert r.status_code == 400, r.text
    assert without_id(r.json(), has_id=True) == {
        "name": "BadDataError",
        "message": VALIDATION,
        "details": [{"path": path, "message": message}],
    }


# --- create --------------------------------------------------------------------------------


async def test_create_is_201_with_body_and_relative_location(
    client: httpx.AsyncClient, token_a: str
) -> None:
    r = await post(
        client, token_a, {"name": "beta-users", "description": "Beta testers", "constraints": IN_U1}
    )
    assert r.status_code == 201
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    body = r.json()
    assert r.headers["location"] == f"segments/{body['id']}"
    assert list(body) == ["id", "name", "description", "constraints", "createdBy", "createdAt"]
    assert body["id"] >= 1
    assert (body["name"], body["description"], body["createdBy"]) == (
        "beta-users",
        "Beta testers",
        "test",
    )
    assert body["constraints"] == [
        {"values": ["u1", "u2"], "operator": "IN", "contextName": "userId"}
    ]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", body["createdAt"])


async def test_create_defaults_and_ignores_sent_created_by(
    client: httpx.AsyncClient, token_a: str
) -> None:
    body = await create_segment(client, token_a, "s", createdBy="mallory")
    assert body["description"] is None
    assert "project" not in body
    assert body["createdBy"] == "test"
    assert body["constraints"] == []


async def test_create_keeps_empty_description_and_project(
    client: httpx.AsyncClient, token_a: str
) -> None:
    body = await create_segment(client, token_a, "s", description="", project="default")
    assert body["description"] == ""
    assert body["project"] == "default"


async def test_ajv_coercions_are_mirrored(client: httpx.AsyncClient, token_a: str) -> None:
    body = await create_segment(
        client,
        token_a,
        123,  # type: ignore[arg-type]
        [
            {
                "contextName": "n",
                "operator": "IN",
                "values": [1, 2.5, True],
                "inverted": "true",
                "caseInsensitive": 0,
            }
        ],
    )
    assert body["name"] == "123"
    assert body["constraints"] == [
        {
            "values": ["1", "2.5", "true"],
            "inverted": True,
            "operator": "IN",
            "contextName": "n",
            "caseInsensitive": False,
        }
    ]


async def test_explicit_id_is_honoured_and_the_sequence_moves_above_it(
    client: httpx.AsyncClient, token_a: str
) -> None:
    explicit = await create_segment(client, token_a, "explicit", id=40)
    assert explicit["id"] == 40
    assert (await create_segment(client, token_a, "next"))["id"] == 41
    coerced = await create_segment(client, token_a, "coerced", id="50")
    assert coerced["id"] == 50


async def test_explicit_id_taken_is_409(client: httpx.AsyncClient, token_a: str) -> None:
    await create_segment(client, token_a, "one", id=7)
    r = await post(client, token_a, {"name": "two", "constraints": [], "id": 7})
    assert r.status_code == 409
    assert r.json()["name"] == "ConflictError"
    assert "id" in r.json()["message"]


@pytest.mark.parametrize("bad", ["abc", 0, -3, 1.5])
async def test_explicit_id_must_be_a_positive_integer(
    client: httpx.AsyncClient, token_a: str, bad: Any
) -> None:
    r = await post(client, token_a, {"name": "x", "constraints": [], "id": bad})
    assert r.status_code == 400
    assert r.json()["details"][0]["path"] == "/body/id"


async def test_duplicate_name_on_create_is_400_name_exists(
    client: httpx.AsyncClient, token_a: str
) -> None:
    await create_segment(client, token_a, "dup")
    r = await post(client, token_a, {"name": "dup", "constraints": []})
    assert r.status_code == 400
    assert r.json() == {
        "name": "NameExistsError",
        "message": "Segment name already exists",
        "details": [{"message": "Segment name already exists"}],
    }
    # case-sensitive, and odd names are fine
    for name in ("DUP", "   ", "ünïcødé ✓", "x" * 1000):
        await create_segment(client, token_a, name)


async def test_unknown_project_is_400(client: httpx.AsyncClient, token_a: str) -> None:
    r = await post(client, token_a, {"name": "x", "constraints": [], "project": "nope"})
    assert r.status_code == 400
    assert r.json() == with_message('Project "nope" does not exist')


# --- schema (ajv) errors, first error only -------------------------------------------------


async def test_missing_name_is_ajv_required(client: httpx.AsyncClient, token_a: str) -> None:
    ajv(
        await post(client, token_a, {"constraints": []}),
        "/body/name",
        "The `/body/name` property is required. It was not present on the data you sent.",
    )


async def test_empty_body_is_missing_name(client: httpx.AsyncClient, token_a: str) -> None:
    r = await client.post(
        SEGMENTS, content=b"", headers={**auth(token_a), "Content-Type": "application/json"}
    )
    ajv(
        r,
        "/body/name",
        "The `/body/name` property is required. It was not present on the data you sent.",
    )


async def test_null_constraints_is_a_type_error(client: httpx.AsyncClient, token_a: str) -> None:
    ajv(
        await post(client, token_a, {"name": "x", "constraints": None}),
        "/body/constraints",
        "The `/body/constraints` property must be array. You sent null.",
    )


async def test_array_body_is_a_type_error(client: httpx.AsyncClient, token_a: str) -> None:
    ajv(
        await post(client, token_a, [1]),
        "/body",
        "The `/body` property must be object. You sent [1].",
    )


async def test_unknown_operator_has_the_enum_quirk(client: httpx.AsyncClient, token_a: str) -> None:
    r = await post(
        client,
        token_a,
        {
            "name": "x",
            "constraints": [{"contextName": "a", "operator": "IN_CIDR", "values": ["1"]}],
        },
    )
    assert r.status_code == 400
    detail = r.json()["details"][0]
    assert detail["path"] == "operator"
    assert detail["message"].startswith(
        'The `operator` property must be equal to one of the allowed values: "NOT_IN", "IN", '
    )
    assert detail["message"].endswith(
        'You provided "IN_CIDR", which is not valid. Please use one of the allowed values instead..'
    )


async def test_extra_constraint_key_is_refused(client: httpx.AsyncClient, token_a: str) -> None:
    ajv(
        await post(
            client,
            token_a,
            {
                "name": "x",
                "constraints": [
                    {"contextName": "a", "operator": "IN", "values": ["1"], "extra": 1}
                ],
            },
        ),
        "/body/constraints/0/extra",
        "The `/body/constraints/0` object of the request body does not allow additional "
        "properties. Your request included the `/body/constraints/0/extra` property.",
    )


async def test_missing_context_name_and_empty_value(
    client: httpx.AsyncClient, token_a: str
) -> None:
    ajv(
        await post(client, token_a, {"name": "x", "constraints": [{"operator": "IN"}]}),
        "/body/constraints/0/contextName",
        "The `/body/constraints/0/contextName` property is required. It was not present on "
        "the data you sent.",
    )
    ajv(
        await post(
            client,
            token_a,
            {"name": "x", "constraints": [{"contextName": "a", "operator": "NUM_EQ", "value": ""}]},
        ),
        "/body/constraints/0/value",
        "The `/body/constraints/0/value` property must NOT have fewer than 1 characters. "
        'You sent "".',
    )


async def test_top_level_extra_keys_are_allowed(client: httpx.AsyncClient, token_a: str) -> None:
    await create_segment(client, token_a, "x", whatever={"a": 1})


# --- joi and constraint rules, in Unleash's order ------------------------------------------


async def test_empty_name_is_joi(client: httpx.AsyncClient, token_a: str) -> None:
    r = await post(client, token_a, {"name": "", "constraints": []})
    assert r.status_code == 400
    assert without_id(r.json(), has_id=False) == joi('"name" is not allowed to be empty.')


async def test_value_length_is_1_to_100(client: httpx.AsyncClient, token_a: str) -> None:
    long = "v" * 101
    r = await post(
        client,
        token_a,
        {
            "name": "x",
            "constraints": [{"contextName": "a", "operator": "IN", "values": ["ok", long]}],
        },
    )
    assert r.json() == joi(
        f'"constraints[0].values[1]" length must be less than or equal to '
        f'100 characters long. You provided "{long}".'
    )
    r = await post(
        client,
        token_a,
        {"name": "x", "constraints": [{"contextName": "a", "operator": "IN", "values": [""]}]},
    )
    assert r.json() == joi('"constraints[0].values[0]" is not allowed to be empty.')
    await create_segment(
        client, token_a, "hundred", [{"contextName": "a", "operator": "IN", "values": ["v" * 100]}]
    )


async def test_empty_context_name_is_joi(client: httpx.AsyncClient, token_a: str) -> None:
    r = await post(
        client,
        token_a,
        {"name": "x", "constraints": [{"contextName": "", "operator": "IN", "values": ["1"]}]},
    )
    assert r.json() == joi('"constraints[0].contextName" is not allowed to be empty.')


@pytest.mark.parametrize(
    ("constraint", "expected"),
    [
        (
            {"operator": "NUM_GT"},
            with_message("Single-value constraint operators require a non-empty value."),
        ),
        (
            {"operator": "DATE_AFTER", "values": ["2024-01-01"]},
            with_message("Single-value constraint operators require a non-empty value."),
        ),
        (
            {"operator": "NUM_EQ", "value": "twelve"},
            joi('"value" must be a number. You provided "twelve".'),
        ),
        (
            {"operator": "IN", "values": []},
            joi('"value" must contain at least 1 items. You provided [].'),
        ),
        (
            {"operator": "STR_CONTAINS", "value": "lone"},
            joi('"value" must contain at least 1 items. You provided [].'),
        ),
        (
            {"operator": "SEMVER_EQ", "value": "1.2"},
            with_message(
                "the provided value is not a valid semver format. The value provided was: 1.2"
            ),
        ),
        (
            {"operator": "SEMVER_GT", "value": "v1.2.3"},
            with_message(
                "the provided value is not a valid semver format. The value provided was: v1.2.3"
            ),
        ),
        (
            {"operator": "DATE_BEFORE", "value": "not a date"},
            joi('"value" must be a valid date. You provided "not a date".'),
        ),
        (
            {"operator": "REGEX", "value": "a", "inverted": True},
            with_message("REGEX operator cannot be inverted."),
        ),
    ],
)
async def test_constraint_rules(
    client: httpx.AsyncClient, token_a: str, constraint: dict[str, Any], expected: dict[str, Any]
) -> None:
    r = await post(
        client, token_a, {"name": "x", "constraints": [{"contextName": "ctx", **constraint}]}
    )
    assert r.status_code == 400
    assert r.json() == expected


async def test_invalid_regex_is_refused(client: httpx.AsyncClient, token_a: str) -> None:
    r = await post(
        client,
        token_a,
        {"name": "x", "constraints": [{"contextName": "ctx", "operator": "REGEX", "value": "(a"}]},
    )
    assert r.status_code == 400
    assert r.json()["message"].startswith(
        WITH_MESSAGE + "the provided value is not a valid regex string. Error: "
    )


async def test_valid_single_value_operators(client: httpx.AsyncClient, token_a: str) -> None:
    constraints = [
        {"contextName": "age", "operator": "NUM_GTE", "value": "18"},
        {"contextName": "v", "operator": "SEMVER_LT", "value": "2.0.0-beta.1"},
        {"contextName": "currentTime", "operator": "DATE_AFTER", "value": "2024-01-01T00:00:00Z"},
        {
            "contextName": "email",
            "operator": "REGEX",
            "value": "@example\\.com$",
            "caseInsensitive": True,
        },
        {"contextName": "country", "operator": "NOT_IN", "values": ["DE"]},
    ]
    body = await create_segment(client, token_a, "ops", constraints)
    assert [c["operator"] for c in body["constraints"]] == [
        "NUM_GTE",
        "SEMVER_LT",
        "DATE_AFTER",
        "REGEX",
        "NOT_IN",
    ]
    assert all(c["values"] == [] for c in body["constraints"][:4])


async def test_values_limit_is_1000_over_all_constraints(
    client: httpx.AsyncClient, token_a: str
) -> None:
    def constraints(n: int) -> list[dict[str, Any]]:
        return [
            {"contextName": "a", "operator": "IN", "values": [str(i) for i in range(500)]},
            {"contextName": "b", "operator": "IN", "values": [str(i) for i in range(n)]},
        ]

    await create_segment(client, token_a, "thousand", constraints(500))
    r = await post(client, token_a, {"name": "over", "constraints": constraints(501)})
    assert r.status_code == 400
    assert r.json() == with_message("Segments may not have more than 1000 values")


async def test_segment_count_limit_comes_before_other_checks(
    client: httpx.AsyncClient, store: Store, token_a: str
) -> None:
    await store.update_tenant_settings("tenant-a", {"limits": {"segments": 2}})
    await create_segment(client, token_a, "one")
    await create_segment(client, token_a, "two")
    message = "Failed to create segment. You can't create more than the established limit of 2."
    for body in ({"name": "three", "constraints": []}, {"name": "", "constraints": []}):
        r = await post(client, token_a, body)
        assert r.status_code == 400
        assert r.json() == {
            "name": "ExceedsLimitError",
            "message": message,
            "details": [{"message": message}],
        }


async def test_segment_count_limit_counts_the_segments_there_are(
    client: httpx.AsyncClient, store: Store, token_a: str
) -> None:
    """Ids used and deleted do not count: the limit is on the segments the sandbox holds."""
    await store.update_tenant_settings("tenant-a", {"limits": {"segments": 2}})
    one = await create_segment(client, token_a, "one")
    await create_segment(client, token_a, "two")
    r = await client.delete(f"{SEGMENTS}/{one['id']}", headers=auth(token_a))
    assert r.status_code == 204, r.text
    third = await create_segment(client, token_a, "three")
    assert third["id"] == 3
    r = await post(client, token_a, {"name": "four", "constraints": []})
    assert r.status_code == 400
    assert r.json()["name"] == "ExceedsLimitError"


async def test_limits_changed_after_creates_hold_at_once(
    client: httpx.AsyncClient, store: Store, token_a: str
) -> None:
    """A process checks a create against its tenant as it last read it; the write is guarded
    by what that relied on, so limits another process changes since hold from the next
    create on, lowered or raised."""
    await create_segment(client, token_a, "one")
    await store.update_tenant_settings("tenant-a", {"limits": {"segments": 1}})
    r = await post(client, token_a, {"name": "two", "constraints": []})
    assert r.status_code == 400
    assert r.json()["name"] == "ExceedsLimitError"
    assert "limit of 1." in r.json()["message"]
    await store.update_tenant_settings("tenant-a", {"limits": {"segments": 3, "segment_values": 2}})
    three = [{"contextName": "a", "operator": "IN", "values": ["1", "2", "3"]}]
    r = await post(client, token_a, {"name": "two", "constraints": three})
    assert r.status_code == 400
    assert r.json() == with_message("Segments may not have more than 2 values")
    await store.update_tenant_settings("tenant-a", {"limits": {"segments": 3, "segment_values": 3}})
    assert (await create_segment(client, token_a, "two", three))["id"] == 2


async def test_segments_another_process_creates_count_toward_the_limit(
    client: httpx.AsyncClient, store: Store, token_a: str
) -> None:
    await store.update_tenant_settings("tenant-a", {"limits": {"segments": 2}})
    await create_segment(client, token_a, "one")
    await store.create_segment("tenant-a", NewSegment(name="elsewhere"), "another process")
    r = await post(client, token_a, {"name": "two", "constraints": []})
    assert r.status_code == 400
    assert r.json()["name"] == "ExceedsLimitError"
    names = [
        s["name"] for s in (await client.get(SEGMENTS, headers=auth(token_a))).json()["segments"]
    ]
    assert sorted(names) == ["elsewhere", "one"]


# --- read ----------------------------------------------------------------------------------


async def test_get_one_has_no_usage_fields(client: httpx.AsyncClient, token_a: str) -> None:
    created = await create_segment(client, token_a, "s", IN_U1, description="d")
    r = await client.get(f"{SEGMENTS}/{created['id']}", headers=auth(token_a))
    assert r.status_code == 200
    assert r.json() == created


async def test_list_is_wrapped_sorted_in_byte_order_with_usage(
    client: httpx.AsyncClient, token_a: str
) -> None:
    for name in ("beta-users", "BETA-USERS", "123"):
        await create_segment(client, token_a, name)
    r = await client.get(SEGMENTS, headers=auth(token_a))
    assert r.status_code == 200
    segments = r.json()["segments"]
    assert [s["name"] for s in segments] == ["123", "BETA-USERS", "beta-users"]
    assert all(s["usedInProjects"] == 0 and s["usedInFeatures"] == 0 for s in segments)
    again = await client.get(SEGMENTS + "/", headers=auth(token_a))
    assert again.status_code == 200
    assert again.json() == r.json()


async def test_usage_counts_distinct_projects_and_features(
    client: httpx.AsyncClient, store: Store, token_a: str
) -> None:
    await store.create_project("tenant-a", "red", "Red")
    seg = await create_segment(client, token_a, "s")
    other = await create_segment(client, token_a, "unused")
    await create_feature(client, token_a, "f1")
    await create_feature(client, token_a, "f2", project="red")
    await add_strategy(client, token_a, "f1", [seg["id"]])
    await add_strategy(client, token_a, "f1", [seg["id"]], env="production")
    await add_strategy(client, token_a, "f2", [seg["id"]], project="red")
    listed = {
        s["name"]: s for s in (await client.get(SEGMENTS, headers=auth(token_a))).json()["segments"]
    }
    assert (listed["s"]["usedInProjects"], listed["s"]["usedInFeatures"]) == (2, 2)
    assert (listed["unused"]["usedInProjects"], listed["unused"]["usedInFeatures"]) == (0, 0)
    assert other["id"] != seg["id"]


async def test_unknown_negative_and_non_integer_ids(
    client: httpx.AsyncClient, token_a: str
) -> None:
    for path in ("/999", "/-1"):
        r = await client.get(SEGMENTS + path, headers=auth(token_a))
        assert r.status_code == 404
        key = path[1:]
        message = f'No segment exists with ID "{key}"'
        assert r.json() == {
            "name": "NotFoundError",
            "message": message,
            "details": [{"message": message}],
        }
    ajv(
        await client.get(SEGMENTS + "/abc", headers=auth(token_a)),
        "/params/id",
        'The `/params/id` property must be integer. You sent "abc".',
    )
    ajv(
        await client.delete(SEGMENTS + "/1.5", headers=auth(token_a)),
        "/params/id",
        'The `/params/id` property must be integer. You sent "1.5".',
    )


async def test_other_tenants_segments_are_invisible(
    client: httpx.AsyncClient, token_a: str, token_b: str
) -> None:
    created = await create_segment(client, token_a, "mine")
    r = await client.get(f"{SEGMENTS}/{created['id']}", headers=auth(token_b))
    assert r.status_code == 404
    assert (await client.get(SEGMENTS, headers=auth(token_b))).json() == {"segments": []}
    r = await client.delete(f"{SEGMENTS}/{created['id']}", headers=auth(token_b))
    assert r.status_code == 404


# --- update --------------------------------------------------------------------------------


async def test_put_is_204_and_replaces(client: httpx.AsyncClient, token_a: str) -> None:
    created = await create_segment(
        client, token_a, "s", IN_U1, description="keep me", project="default"
    )
    new = [{"contextName": "country", "operator": "NOT_IN", "values": ["DE"]}]
    r = await client.put(
        f"{SEGMENTS}/{created['id']}",
        json={"name": "renamed", "constraints": new},
        headers=auth(token_a),
    )
    assert r.status_code == 204
    assert r.content == b""
    got = (await client.get(f"{SEGMENTS}/{created['id']}", headers=auth(token_a))).json()
    assert got["name"] == "renamed"
    assert got["description"] == "keep me"  # absent: kept, as real Unleash does
    assert "project" not in got  # absent: cleared, as real Unleash does
    assert got["constraints"] == [
        {"values": ["DE"], "operator": "NOT_IN", "contextName": "country"}
    ]
    assert got["createdAt"] == created["createdAt"]
    r = await client.put(
        f"{SEGMENTS}/{created['id']}",
        json={"name": "renamed", "constraints": new, "description": None},
        headers=auth(token_a),
    )
    assert r.status_code == 204
    got = (await client.get(f"{SEGMENTS}/{created['id']}", headers=auth(token_a))).json()
    assert got["description"] is None


async def test_put_unknown_is_404_after_validation(client: httpx.AsyncClient, token_a: str) -> None:
    r = await client.put(
        f"{SEGMENTS}/999", json={"name": "x", "constraints": []}, headers=auth(token_a)
    )
    assert r.status_code == 404
    r = await client.put(
        f"{SEGMENTS}/999", json={"name": "", "constraints": []}, headers=auth(token_a)
    )
    assert r.status_code == 400  # joi runs before the existence check


async def test_put_to_taken_name_is_409_own_name_is_fine(
    client: httpx.AsyncClient, token_a: str
) -> None:
    await create_segment(client, token_a, "taken")
    mine = await create_segment(client, token_a, "mine")
    r = await client.put(
        f"{SEGMENTS}/{mine['id']}", json={"name": "taken", "constraints": []}, headers=auth(token_a)
    )
    assert r.status_code == 409
    assert r.json() == {
        "name": "NameExistsError",
        "message": "Segment name already exists",
        "details": [{"message": "Segment name already exists"}],
    }
    r = await client.put(
        f"{SEGMENTS}/{mine['id']}", json={"name": "mine", "constraints": []}, headers=auth(token_a)
    )
    assert r.status_code == 204


async def test_put_project_must_cover_the_strategies_using_it(
    client: httpx.AsyncClient, store: Store, token_a: str
) -> None:
    await store.create_project("tenant-a", "red", "Red")
    seg = await create_segment(client, token_a, "s")
    await create_feature(client, token_a, "f1")
    await add_strategy(client, token_a, "f1", [seg["id"]])
    r = await client.put(
        f"{SEGMENTS}/{seg['id']}",
        json={"name": "s", "constraints": [], "project": "red"},
        headers=auth(token_a),
    )
    assert r.status_code == 400
    assert r.json() == with_message(
        "Invalid project. Segment is being used by strategies in other projects: default"
    )
    r = await client.put(
        f"{SEGMENTS}/{seg['id']}",
        json={"name": "s", "constraints": [], "project": "default"},
        headers=auth(token_a),
    )
    assert r.status_code == 204


# --- delete --------------------------------------------------------------------------------


async def test_delete_is_204_then_404(client: httpx.AsyncClient, token_a: str) -> None:
    created = await create_segment(client, token_a, "s")
    r = await client.delete(f"{SEGMENTS}/{created['id']}", headers=auth(token_a))
    assert (r.status_code, r.content) == (204, b"")
    r = await client.delete(f"{SEGMENTS}/{created['id']}", headers=auth(token_a))
    assert r.status_code == 404


async def test_delete_in_use_is_409_until_detached(client: httpx.AsyncClient, token_a: str) -> None:
    seg = await create_segment(client, token_a, "s")
    await create_feature(client, token_a, "f1")
    strategy = await add_strategy(client, token_a, "f1", [seg["id"]])
    r = await client.delete(f"{SEGMENTS}/{seg['id']}", headers=auth(token_a))
    assert r.status_code == 409
    body = r.json()
    assert body["name"] == "ConflictError"
    assert body["details"] == [{"message": body["message"]}]
    r = await client.post(
        f"{SEGMENTS}/strategies",
        json={
            "projectId": "default",
            "strategyId": strategy["id"],
            "environmentId": "development",
            "segmentIds": [],
        },
        headers=auth(token_a),
    )
    assert r.status_code == 201
    r = await client.delete(f"{SEGMENTS}/{seg['id']}", headers=auth(token_a))
    assert r.status_code == 204


# --- validate ------------------------------------------------------------------------------


async def test_validate(client: httpx.AsyncClient, token_a: str) -> None:
    url = f"{SEGMENTS}/validate"
    await create_segment(client, token_a, "taken")
    r = await client.post(url, json={"name": "free"}, headers=auth(token_a))
    assert (r.status_code, r.content) == (204, b"")
    r = await client.post(url, json={"name": "taken"}, headers=auth(token_a))
    assert r.status_code == 409
    assert r.json()["name"] == "NameExistsError"
    r = await client.post(url, json={"name": "Taken"}, headers=auth(token_a))
    assert r.status_code == 204
    r = await client.post(url, json={"name": ""}, headers=auth(token_a))
    assert r.status_code == 400
    assert r.json() == with_message("Segment name cannot be empty")
    ajv(
        await client.post(url, json={}, headers=auth(token_a)),
        "/body/name",
        "The `/body/name` property is required. It was not present on the data you sent.",
    )
    ajv(
        await client.post(url, json={"name": "x", "other": 1}, headers=auth(token_a)),
        "/body/other",
        "The `/body` object of the request body does not allow additional properties. "
        "Your request included the `/body/other` property.",
    )


# --- strategies of a segment, segments of a strategy ---------------------------------------


async def test_strategies_of_a_segment(client: httpx.AsyncClient, token_a: str) -> None:
    seg = await create_segment(client, token_a, "s")
    await create_feature(client, token_a, "f1")
    strategy = await add_strategy(
        client,
        token_a,
        "f1",
        [seg["id"]],
        constraints=[{"contextName": "a", "operator": "IN", "values": ["1"]}],
    )
    r = await client.get(f"{SEGMENTS}/{seg['id']}/strategies", headers=auth(token_a))
    assert r.status_code == 200
    body = r.json()
    assert body["changeRequestStrategies"] == []
    [item] = body["strategies"]
    assert {
        k: item[k] for k in ("id", "projectId", "featureName", "strategyName", "environment")
    } == {
        "id": strategy["id"],
        "projectId": "default",
        "featureName": "f1",
        "strategyName": "default",
        "environment": "development",
    }
    assert item["constraints"] == [{"values": ["1"], "contextName": "a", "operator": "IN"}]
    r = await client.get(f"{SEGMENTS}/999/strategies", headers=auth(token_a))
    assert r.status_code == 404
    r = await client.get(f"{SEGMENTS}/x/strategies", headers=auth(token_a))
    assert r.status_code == 400


async def test_segments_of_a_strategy(client: httpx.AsyncClient, token_a: str) -> None:
    b = await create_segment(client, token_a, "b")
    a = await create_segment(client, token_a, "a")
    await create_feature(client, token_a, "f1")
    strategy = await add_strategy(client, token_a, "f1", [b["id"], a["id"]])
    r = await client.get(f"{SEGMENTS}/strategies/{strategy['id']}", headers=auth(token_a))
    assert r.status_code == 200
    assert r.json() == {"segments": [a, b]}
    r = await client.get(f"{SEGMENTS}/strategies/NOPE", headers=auth(token_a))
    assert r.status_code == 404
    assert r.json()["name"] == "NotFoundError"


async def test_replace_strategy_segments(client: httpx.AsyncClient, token_a: str) -> None:
    s1, s2 = (
        await create_segment(client, token_a, "s1"),
        await create_segment(client, token_a, "s2"),
    )
    await create_feature(client, token_a, "f1")
    strategy = await add_strategy(client, token_a, "f1", [s1["id"]])
    body = {
        "projectId": "default",
        "strategyId": strategy["id"],
        "environmentId": "development",
        "segmentIds": [str(s2["id"])],
    }
    r = await client.post(f"{SEGMENTS}/strategies", json=body, headers=auth(token_a))
    assert r.status_code == 201
    assert r.headers["location"] == f"strategies/{strategy['id']}"
    assert r.json() == {**body, "segmentIds": [s2["id"]]}  # echo, coerced
    r = await client.get(f"{SEGMENTS}/strategies/{strategy['id']}", headers=auth(token_a))
    assert [s["name"] for s in r.json()["segments"]] == ["s2"]


async def test_replace_strategy_segments_errors(client: httpx.AsyncClient, token_a: str) -> None:
    s1 = await create_segment(client, token_a, "s1")
    await create_feature(client, token_a, "f1")
    strategy = await add_strategy(client, token_a, "f1", [s1["id"]])
    url = f"{SEGMENTS}/strategies"
    base = {"projectId": "default", "strategyId": strategy["id"], "environmentId": "development"}
    r = await client.post(
        url, json={**base, "segmentIds": [1, 2, 3, 4, 5, 6]}, headers=auth(token_a)
    )
    assert r.status_code == 400
    assert r.json() == with_message("Strategies may not have more than 5 segments")
    for change in ({"strategyId": "NOPE"}, {"projectId": "other"}, {"environmentId": "production"}):
        r = await client.post(url, json={**base, **change, "segmentIds": []}, headers=auth(token_a))
        assert r.status_code == 404, change
    r = await client.post(url, json={**base, "segmentIds": [999]}, headers=auth(token_a))
    assert r.status_code == 404
    assert r.json()["message"] == 'No segment exists with ID "999"'
    r = await client.post(url, json={**base, "segmentIds": []}, headers=auth(token_a))
    assert r.status_code == 201
    ajv(
        await client.post(url, json=base, headers=auth(token_a)),
        "/body/segmentIds",
        "The `/body/segmentIds` property is required. It was not present on the data you sent.",
    )
    # all or nothing: a failed replace left the strategy as it was
    r = await client.post(url, json={**base, "segmentIds": [s1["id"], 999]}, headers=auth(token_a))
    assert r.status_code == 404
    r = await client.get(f"{SEGMENTS}/strategies/{strategy['id']}", headers=auth(token_a))
    assert r.json()["segments"] == []


# --- transport and tokens ------------------------------------------------------------------


async def test_no_token_is_authentication_required(client: httpx.AsyncClient) -> None:
    r = await client.get(SEGMENTS)
    assert r.status_code == 401
    body = without_id(r.json(), has_id=True)
    message = (
        "You must log in to use Unleash. Your request had no authorization header, so "
        "we could not authorize you. Try logging in at /auth/simple/login"
    )
    assert body == {
        "name": "AuthenticationRequired",
        "message": message,
        "details": [{"message": message}],
        "path": "/auth/simple/login",
        "type": "password",
        "defaultHidden": False,
    }


async def test_unknown_token_is_unauthorized(client: httpx.AsyncClient) -> None:
    r = await client.get(SEGMENTS, headers=auth("*:*.nope"))
    assert r.status_code == 401
    assert without_id(r.json(), has_id=True) == {
        "name": "UnauthorizedError",
        "message": "You must log in to use Unleash.",
        "details": [{"message": "You must log in to use Unleash."}],
    }


async def test_bearer_prefix_is_accepted(client: httpx.AsyncClient, token_a: str) -> None:
    for header in (f"Bearer {token_a}", f"bearer   {token_a}"):
        r = await client.get(SEGMENTS, headers={"Authorization": header})
        assert r.status_code == 200


async def test_client_token_on_admin_api_is_403(
    client: httpx.AsyncClient, client_token_a: str
) -> None:
    for r in (
        await client.get(SEGMENTS, headers=auth(client_token_a)),
        await client.post(
            SEGMENTS, json={"name": "x", "constraints": []}, headers=auth(client_token_a)
        ),
    ):
        assert r.status_code == 403
        assert r.json() == {
            "message": "invalid token: expected a different token type for this endpoint"
        }


async def test_wrong_or_missing_content_type_is_415_after_auth(
    client: httpx.AsyncClient, token_a: str
) -> None:
    r = await client.post(
        SEGMENTS,
        content=b'{"name":"x","constraints":[]}',
        headers={**auth(token_a), "Content-Type": "text/plain"},
    )
    assert r.status_code == 415
    message = (
        "We do not accept the content-type you provided (text/plain). Try using one of "
        "the content-types we do accept instead (application/json) and make sure the "
        "body is in the corresponding format."
    )
    assert without_id(r.json(), has_id=True) == {
        "name": "ContentTypeError",
        "message": message,
        "details": [{"message": message}],
    }
    r = await client.put(f"{SEGMENTS}/1", content=b"x", headers=auth(token_a))
    assert r.status_code == 415
    assert "(you didn't provide one)" in r.json()["message"]
    r = await client.post(SEGMENTS, content=b"x", headers={"Content-Type": "text/plain"})
    assert r.status_code == 401
    r = await client.post(
        SEGMENTS,
        json={"name": "x", "constraints": []},
        headers={**auth(token_a), "Content-Type": "application/json; charset=utf-8"},
    )
    assert r.status_code == 201


async def test_body_over_100kb_is_413_before_auth(client: httpx.AsyncClient, token_a: str) -> None:
    values = ["v" * 90] * 1200  # also over the values limit: the body limit answers first
    body = {
        "name": "big",
        "constraints": [{"contextName": "a", "operator": "IN", "values": values}],
    }
    for headers in (auth(token_a), {}):
        r = await client.post(SEGMENTS, json=body, headers=headers)
        assert r.status_code == 413
        assert r.json() == {"message": "request entity too large"}
    padded = b'{"name":"edge","constraints":[]' + b" " * (102_400 - 32) + b"}"
    assert len(padded) == 102_400
    r = await client.post(
        SEGMENTS, content=padded, headers={**auth(token_a), "Content-Type": "application/json"}
    )
    assert r.status_code == 201


async def test_malformed_json_is_400_message_before_auth(client: httpx.AsyncClient) -> None:
    for content in (b'{"name": ', b"{bad", b'"just a string"'):
        r = await client.post(
            SEGMENTS, content=content, headers={"Content-Type": "application/json"}
        )
        assert r.status_code == 400
        body = r.json()
        assert list(body) == ["message"]
        assert "JSON" in body["message"]


async def test_unrouted_method_and_path_are_path_not_found(
    client: httpx.AsyncClient, token_a: str
) -> None:
    for method, path in (
        ("PATCH", f"{SEGMENTS}/1"),
        ("GET", "/api/admin/nothing-here"),
        ("DELETE", SEGMENTS),
    ):
        r = await client.request(method, path, headers=auth(token_a))
        assert r.status_code == 404
        message = f"The path you were looking for ({path}) is not available."
        assert without_id(r.json(), has_id=True) == {
            "name": "NotFoundError",
            "message": message,
            "details": [{"message": message}],
        }


async def test_admin_token_of_another_name_is_created_by(
    client: httpx.AsyncClient, store: Store
) -> None:
    token = await make_token(store, "tenant-a", name="alice@example.com")
    body = await create_segment(client, token, "s")
    assert body["createdBy"] == "alice@example.com"
