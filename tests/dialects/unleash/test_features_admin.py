"""The admin feature calls teams script against (list, get, archive, revive, delete from the
archive), environment variants refused as Unleash 8.2.0 refuses them, and strategy variants
checked and normalised as 8.2.0 does it; on both backends."""

from __future__ import annotations

from typing import Any

import httpx

from core.store import Store
from tests.conftest import make_token
from tests.dialects.unleash.helpers import (
    FEATURES,
    VALIDATION,
    WITH_MESSAGE,
    add_strategy,
    auth,
    create_feature,
    create_segment,
    strategies_url,
)

CLIENT_SPEC = {"Unleash-Client-Spec": "5.2.0"}


def env_url(feature: str, env: str = "development", project: str = "default") -> str:
    return f"/api/admin/projects/{project}/features/{feature}/environments/{env}"


async def client_features(client: httpx.AsyncClient, token: str) -> list[str]:
    r = await client.get("/api/client/features", headers={**auth(token), **CLIENT_SPEC})
    assert r.status_code == 200, r.text
    return [f["name"] for f in r.json()["features"]]


async def listed(client: httpx.AsyncClient, token: str, query: str = "") -> list[str]:
    r = await client.get(f"{FEATURES}{query}", headers=auth(token))
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2
    return [f["name"] for f in r.json()["features"]]


def error(r: httpx.Response, status: int, name: str, message: str) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert (body["name"], body["message"]) == (name, message), body
    assert body["details"] == [{"message": message}]


# --- list and get -----------------------------------------------------------------------------


async def test_list_shows_each_environment(client: httpx.AsyncClient, token_a: str) -> None:
    await create_feature(client, token_a, "b-flag")
    await create_feature(client, token_a, "a-flag")
    await add_strategy(client, token_a, "a-flag", disabled=True)
    await add_strategy(client, token_a, "a-flag", env="production")
    assert (
        await client.post(f"{env_url('a-flag', 'production')}/on", headers=auth(token_a))
    ).status_code == 200

    r = await client.get(FEATURES, headers=auth(token_a))
    assert r.status_code == 200
    features = r.json()["features"]
    assert [f["name"] for f in features] == ["a-flag", "b-flag"]
    a = features[0]
    assert set(a) == {
        "type",
        "description",
        "favorite",
        "name",
        "createdAt",
        "stale",
        "impressionData",
        "environments",
    }
    assert (a["type"], a["favorite"], a["stale"], a["impressionData"]) == (
        "release",
        False,
        False,
        False,
    )
    envs = {e["name"]: e for e in a["environments"]}
    assert envs["development"] == {
        "name": "development",
        "enabled": False,
        "type": "development",
        "sortOrder": envs["development"]["sortOrder"],
        "variantCount": 0,
        "lastSeenAt": None,
        "hasStrategies": True,
        "hasEnabledStrategies": False,  # its one strategy is disabled
    }
    assert (envs["production"]["enabled"], envs["production"]["hasEnabledStrategies"]) == (
        True,
        True,
    )
    assert [e["name"] for e in a["environments"]] == ["development", "production"]


async def test_list_filters_as_unleash_does(client: httpx.AsyncClient, token_a: str) -> None:
    for name in ("Beta-one", "beta_two", "betaX", "gamma"):
        await create_feature(client, token_a, name)
    # Case-insensitive, and `_` is a one-character wildcard (SQL ILIKE), as in Unleash.
    assert await listed(client, token_a, "?namePrefix=beta") == ["Beta-one", "betaX", "beta_two"]
    assert await listed(client, token_a, "?namePrefix=beta_") == ["Beta-one", "betaX", "beta_two"]
    assert await listed(client, token_a, "?namePrefix=beta\\_") == ["beta_two"]
    assert await listed(client, token_a, "?namePrefix=%20") == [
        "Beta-one",
        "betaX",
        "beta_two",
        "gamma",
    ]
    # segmux keeps no tags: a well-formed tag filter matches nothing, a malformed one is a 400.
    assert await listed(client, token_a, "?tag=simple:x") == []
    r = await client.get(f"{FEATURES}?tag=bad", headers=auth(token_a))
    assert r.status_code == 400
    assert r.json()["details"] == [
        {"message": '"tag[0]" with value "bad" fails to match the tag pattern. You provided "bad".'}
    ]
    assert await listed(client, token_a, "") == ["Beta-one", "betaX", "beta_two", "gamma"]


async def test_list_of_an_unknown_project_is_empty(client: httpx.AsyncClient, token_a: str) -> None:
    await create_feature(client, token_a, "f")
    r = await client.get("/api/admin/projects/nope/features", headers=auth(token_a))
    assert (r.status_code, r.json()) == (200, {"version": 2, "features": []})


async def test_get_feature_with_strategies_and_segments(
    client: httpx.AsyncClient, token_a: str
) -> None:
    seg = await create_segment(
        client, token_a, "beta", [{"contextName": "userId", "operator": "IN", "values": ["u1"]}]
    )
    await create_feature(client, token_a, "checkout")
    first = await add_strategy(
        client,
        token_a,
        "checkout",
        [seg["id"]],
        name="flexibleRollout",
        parameters={"rollout": "50"},
        variants=[{"name": "blue", "weight": 1, "weightType": "variable", "stickiness": "default"}],
    )
    second = await add_strategy(client, token_a, "checkout", disabled=True, title="later")

    r = await client.get(f"{FEATURES}/checkout", headers=auth(token_a))
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {
        "environments",
        "name",
        "impressionData",
        "description",
        "project",
        "stale",
        "createdAt",
        "type",
        "archived",
        "dependencies",
        "children",
        "links",
    }
    assert (body["name"], body["project"], body["archived"]) == ("checkout", "default", False)
    assert (body["dependencies"], body["children"], body["links"]) == ([], [], [])
    dev = body["environments"][0]
    assert set(dev) == {"name", "lastSeenAt", "enabled", "type", "sortOrder", "strategies"}
    assert [s["id"] for s in dev["strategies"]] == [first["id"], second["id"]]
    s0 = dev["strategies"][0]
    assert s0 == {
        "name": "flexibleRollout",
        "constraints": [],
        "variants": [
            {"name": "blue", "weight": 1000, "weightType": "variable", "stickiness": "default"}
        ],
        "parameters": {"rollout": "50", "stickiness": "default", "groupId": "checkout"},
        "segments": [seg["id"]],
        "sortOrder": 0,
        "id": first["id"],
        "title": None,
        "disabled": False,
    }
    assert dev["strategies"][1]["disabled"] is True
    assert body["environments"][1]["strategies"] == []

    r = await client.get(f"{FEATURES}/checkout?variantEnvironments=true", headers=auth(token_a))
    assert all(e["variants"] == [] for e in r.json()["environments"])


async def test_get_errors(client: httpx.AsyncClient, token_a: str, store: Store) -> None:
    await create_feature(client, token_a, "f1")
    r = await client.get(f"{FEATURES}/nope", headers=auth(token_a))
    error(r, 404, "NotFoundError", 'There\'s no feature named "nope" in project "default".')
    r = await client.get("/api/admin/projects/other/features/f1", headers=auth(token_a))
    error(
        r,
        404,
        "NotFoundError",
        'There\'s no feature named "f1" in project "other", but there\'s a feature with that '
        'name in project "default"',
    )
    client_token = await make_token(store, "tenant-a", "client:development", "sdk")
    r = await client.get(f"{FEATURES}/f1", headers=auth(client_token))
    assert r.status_code == 403
    r = await client.get(f"{FEATURES}/f1")
    assert (r.status_code, r.json()["name"]) == (401, "AuthenticationRequired")


async def test_other_tenants_flags_are_invisible(
    client: httpx.AsyncClient, token_a: str, token_b: str
) -> None:
    await create_feature(client, token_a, "secret")
    assert await listed(client, token_b) == []
    assert (await client.get(f"{FEATURES}/secret", headers=auth(token_b))).status_code == 404
    assert (await client.delete(f"{FEATURES}/secret", headers=auth(token_b))).status_code == 404
    r = await client.post("/api/admin/archive/revive/secret", headers=auth(token_b))
    assert r.status_code == 404
    assert await listed(client, token_a) == ["secret"]


# --- archive, revive, delete ----------------------------------------------------------------


async def test_archive_hides_the_flag_everywhere_and_revive_brings_it_back_off(
    client: httpx.AsyncClient, token_a: str, store: Store
) -> None:
    sdk = await make_token(store, "tenant-a", "client:development", "sdk")
    await create_feature(client, token_a, "old")
    strategy = await add_strategy(client, token_a, "old")
    assert (await client.post(f"{env_url('old')}/on", headers=auth(token_a))).status_code == 200
    assert await client_features(client, sdk) == ["old"]

    r = await client.delete(f"{FEATURES}/old", headers=auth(token_a))
    assert (r.status_code, r.content) == (202, b"")
    assert await client_features(client, sdk) == []
    assert await listed(client, token_a) == []
    error(
        await client.get(f"{FEATURES}/old", headers=auth(token_a)),
        404,
        "NotFoundError",
        "Could not find feature flag with name old",
    )
    r = await client.get("/api/client/features/old", headers=auth(sdk))
    assert r.status_code == 404
    # Archiving again changes nothing; turning it on is refused as Unleash refuses it.
    assert (await client.delete(f"{FEATURES}/old", headers=auth(token_a))).status_code == 202
    error(
        await client.post(f"{env_url('old')}/on", headers=auth(token_a)),
        400,
        "ArchivedFeatureError",
        "Cannot perform this operation on archived features",
    )
    # Its name stays taken while archived.
    r = await client.post(FEATURES, json={"name": "old"}, headers=auth(token_a))
    assert r.status_code == 409

    r = await client.post("/api/admin/archive/revive/old", headers=auth(token_a))
    assert (r.status_code, r.content) == (200, b"")
    assert await listed(client, token_a) == ["old"]
    body = (await client.get(f"{FEATURES}/old", headers=auth(token_a))).json()
    # Revived off in every environment, strategies kept.
    assert [e["enabled"] for e in body["environments"]] == [False, False]
    assert [s["id"] for s in body["environments"][0]["strategies"]] == [strategy["id"]]
    sdk_view = await client.get("/api/client/features", headers=auth(sdk))
    assert [(f["name"], f["enabled"]) for f in sdk_view.json()["features"]] == [("old", False)]
    # Reviving an active flag changes nothing.
    assert (
        await client.post("/api/admin/archive/revive/old", headers=auth(token_a))
    ).status_code == 200


async def test_archive_and_revive_errors(client: httpx.AsyncClient, token_a: str) -> None:
    await create_feature(client, token_a, "f1")
    error(
        await client.delete(f"{FEATURES}/nope", headers=auth(token_a)),
        404,
        "NotFoundError",
        "No feature flag found",
    )
    error(
        await client.delete("/api/admin/projects/other/features/f1", headers=auth(token_a)),
        404,
        "NotFoundError",
        'There\'s no feature named "f1" in project "other", but there\'s a feature with that '
        'name in project "default"',
    )
    error(
        await client.post("/api/admin/archive/revive/nope", headers=auth(token_a)),
        404,
        "NotFoundError",
        "No feature flag found",
    )
    # Any content type is accepted, as Unleash accepts it on these two.
    text = {**auth(token_a), "content-type": "text/plain"}
    assert (
        await client.request("DELETE", f"{FEATURES}/f1", content=b"x", headers=text)
    ).status_code == 202
    assert (
        await client.post("/api/admin/archive/revive/f1", content=b"x", headers=text)
    ).status_code == 200


async def test_batch_archive_and_revive(
    client: httpx.AsyncClient, token_a: str, store: Store
) -> None:
    for name in ("a", "b", "c"):
        await create_feature(client, token_a, name)
    archive = "/api/admin/projects/default/archive"
    revive = "/api/admin/projects/default/revive"
    r = await client.post(archive, json={"features": ["a", "b", "nope"]}, headers=auth(token_a))
    assert (r.status_code, r.content) == (202, b"")
    assert await listed(client, token_a) == ["c"]
    r = await client.post(revive, json={"features": ["a", "nope"]}, headers=auth(token_a))
    assert (r.status_code, r.content) == (200, b"")
    assert await listed(client, token_a) == ["a", "c"]

    r = await client.post(revive, json={}, headers=auth(token_a))
    assert r.status_code == 400
    assert r.json()["details"][0]["path"] == "/body/features"
    r = await client.post(revive, json={"features": "x"}, headers=auth(token_a))
    assert (
        r.json()["details"][0]["message"]
        == 'The `/body/features` property must be array. You sent "x".'
    )
    error(
        await client.post(
            "/api/admin/projects/nope/revive", json={"features": ["b"]}, headers=auth(token_a)
        ),
        404,
        "NotFoundError",
        "Active project with id nope does not exist",
    )
    # A flag of another project refuses the whole batch: nothing changes.
    await store.create_project("tenant-a", "other", "Other")
    await create_feature(client, token_a, "z", project="other")
    r = await client.post(archive, json={"features": ["c", "z"]}, headers=auth(token_a))
    assert (r.status_code, r.json()["name"]) == (403, "InvalidOperationError")
    assert await listed(client, token_a) == ["a", "c"]


async def test_delete_from_the_archive(client: httpx.AsyncClient, token_a: str) -> None:
    seg = await create_segment(client, token_a, "s")
    await create_feature(client, token_a, "gone")
    await add_strategy(client, token_a, "gone", [seg["id"]])
    await create_feature(client, token_a, "kept")
    # Only an archived flag is deleted; anything else is a 200 that changes nothing.
    assert (
        await client.delete("/api/admin/archive/kept", headers=auth(token_a))
    ).status_code == 200
    assert (
        await client.delete("/api/admin/archive/nope", headers=auth(token_a))
    ).status_code == 200
    assert (
        await client.delete("/api/admin/archive/gone", headers=auth(token_a))
    ).status_code == 200
    assert await listed(client, token_a) == ["gone", "kept"]

    assert (await client.delete(f"{FEATURES}/gone", headers=auth(token_a))).status_code == 202
    assert (
        await client.delete("/api/admin/archive/gone", headers=auth(token_a))
    ).status_code == 200
    error(
        await client.post("/api/admin/archive/revive/gone", headers=auth(token_a)),
        404,
        "NotFoundError",
        "No feature flag found",
    )
    # Its strategies went with it, so the segment is free to delete; the name is free again.
    assert (
        await client.delete(f"/api/admin/segments/{seg['id']}", headers=auth(token_a))
    ).status_code == 204
    await create_feature(client, token_a, "gone")


# --- environment variants -------------------------------------------------------------------


DEPRECATED = "Environment variants deprecated for feature: f1. Use strategy variants instead."


async def test_environment_variants_are_refused_as_unleash_refuses_them(
    client: httpx.AsyncClient, token_a: str
) -> None:
    await create_feature(client, token_a, "f1")
    url = f"{env_url('f1')}/variants"
    variant = {"name": "v", "weight": 1000, "weightType": "variable", "stickiness": "default"}
    r = await client.get(url, headers=auth(token_a))
    assert (r.status_code, r.json()) == (200, {"version": 1, "variants": []})
    for body in ([variant], []):
        error(
            await client.put(url, json=body, headers=auth(token_a)),
            403,
            "InvalidOperationError",
            DEPRECATED,
        )
    patch = [{"op": "add", "path": "/0", "value": variant}]
    error(
        await client.patch(url, json=patch, headers=auth(token_a)),
        403,
        "InvalidOperationError",
        DEPRECATED,
    )
    # An unknown environment does not matter to the refusal (it does to the read).
    error(
        await client.put(f"{env_url('f1', 'nope')}/variants", json=[], headers=auth(token_a)),
        403,
        "InvalidOperationError",
        DEPRECATED,
    )
    error(
        await client.get(f"{env_url('f1', 'nope')}/variants", headers=auth(token_a)),
        404,
        "NotFoundError",
        "Could not find f1 in nope",
    )
    error(
        await client.put(f"{env_url('nope')}/variants", json=[], headers=auth(token_a)),
        404,
        "NotFoundError",
        'There\'s no feature named "nope" in project "default".',
    )
    # The body is checked first, with Unleash's schema messages.
    r = await client.put(url, json={"x": 1}, headers=auth(token_a))
    assert r.status_code == 400
    assert r.json()["details"] == [
        {"message": 'The `/body` property must be array. You sent {"x":1}.', "path": "/body"}
    ]
    r = await client.put(url, json=[{"name": "v", "weight": 5000}], headers=auth(token_a))
    assert (
        r.json()["details"][0]["message"]
        == "The `/body/0/weight` property must be <= 1000. You sent 5000."
    )
    r = await client.patch(url, json=[{"op": "bogus", "path": "/0"}], headers=auth(token_a))
    assert (r.status_code, r.json()["details"][0]["path"]) == (400, "op")
    r = await client.put(url, content=b"x", headers={**auth(token_a), "content-type": "text/plain"})
    assert r.status_code == 415
    # Nothing was stored anywhere: the client API still carries no feature variants.
    r = await client.get(f"{FEATURES}/f1?variantEnvironments=true", headers=auth(token_a))
    assert all(e["variants"] == [] for e in r.json()["environments"])


# --- strategy variants ----------------------------------------------------------------------


def v(name: str = "x", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "weight": 1000,
        "weightType": "variable",
        "stickiness": "default",
        **extra,
    }


async def test_strategy_variants_are_normalised_as_unleash_does(
    client: httpx.AsyncClient, token_a: str, store: Store
) -> None:
    await create_feature(client, token_a, "f1")
    seven = [v(n, weight=1) for n in ("B", "a", "_z", "-y", "9", "~", "b")]
    created = await add_strategy(client, token_a, "f1", variants=seven)
    # 1000 shared in the order sent (the first six get the remainder), then sorted as
    # JavaScript's localeCompare sorts: punctuation, digits, letters (lowercase first).
    assert [(x["name"], x["weight"]) for x in created["variants"]] == [
        ("_z", 143),
        ("-y", 143),
        ("~", 143),
        ("9", 143),
        ("a", 143),
        ("b", 142),
        ("B", 143),
    ]
    mixed = [
        v("b", weight=300, weightType="fix"),
        v("a", payload={"type": "json", "value": '{"a":1}'}),
    ]
    r = await client.put(
        f"{strategies_url('f1')}/{created['id']}",
        json={"name": "default", "variants": mixed},
        headers=auth(token_a),
    )
    assert r.status_code == 200, r.text
    assert [(x["name"], x["weight"], x["weightType"]) for x in r.json()["variants"]] == [
        ("a", 700, "variable"),
        ("b", 300, "fix"),
    ]
    # SDKs get exactly what was stored.
    sdk = await make_token(store, "tenant-a", "client:development", "sdk")
    body = (await client.get("/api/client/features", headers={**auth(sdk), **CLIENT_SPEC})).json()
    assert body["features"][0]["strategies"][0]["variants"] == r.json()["variants"]
    # A fix weight of exactly 1000 leaves 0 to the variable ones.
    edge = await add_strategy(client, token_a, "f1", variants=[v("a", weightType="fix"), v("c")])
    assert [x["weight"] for x in edge["variants"]] == [1000, 0]
    # ajv's coercions: numeric strings become numbers, numbers strings.
    coerced = await add_strategy(client, token_a, "f1", variants=[v(weight="10", stickiness=5)])
    assert coerced["variants"] == [
        {"name": "x", "weight": 1000, "weightType": "variable", "stickiness": "5"}
    ]


async def test_strategy_variant_errors(client: httpx.AsyncClient, token_a: str) -> None:
    await create_feature(client, token_a, "f1")
    url = strategies_url("f1")

    async def refused(variants: Any) -> dict[str, Any]:
        r = await client.post(
            url, json={"name": "default", "variants": variants}, headers=auth(token_a)
        )
        assert r.status_code == 400, r.text
        body: dict[str, Any] = r.json()
        assert body["name"] == "BadDataError"
        return body

    def joi(message: str) -> list[dict[str, str]]:
        return [{"message": message}]

    body = await refused([v(weightType="fix")])
    assert body["message"] == WITH_MESSAGE + 'There must be at least one "variable" variant'
    body = await refused(
        [v("a", weightType="fix", weight=700), v("b", weightType="fix", weight=400), v("c")]
    )
    assert body["details"] == joi("The traffic distribution total must equal 100%")
    body = await refused([v(weight=1001)])
    assert (
        body["details"][0]["message"]
        == "The `/body/variants/0/weight` property must be <= 1000. You sent 1001."
    )
    body = await refused([v(weight=10.5)])
    assert body["details"][0]["path"] == "/body/variants/0/weight"
    body = await refused([{"name": "x", "weight": 1, "weightType": "variable"}])
    assert body["details"][0]["path"] == "/body/variants/0/stickiness"
    body = await refused([v(weightType="other")])
    assert body["details"][0]["path"] == "weightType"
    assert (await refused([v(stickiness="")]))["details"] == joi(
        '"[0].stickiness" is not allowed to be empty.'
    )
    assert (await refused([v("")]))["details"] == joi('"[0].name" is not allowed to be empty.')
    assert (await refused([v("not url friendly")]))["details"] == joi(
        '"[0].name" must be URL friendly. You provided "not url friendly".'
    )
    assert (await refused([v("a" * 101)]))["details"][0]["message"].startswith(
        '"[0].name" length must be less than or equal to 100 characters long.'
    )
    assert (await refused([v("a"), v("a")]))["details"] == joi(
        '"[1]" contains a duplicate value. You provided '
        '{"name":"a","weight":1000,"weightType":"variable","stickiness":"default"}.'
    )
    assert (await refused([v(payload={"type": "json", "value": "{a"})]))["details"] == joi(
        "'value' must be a valid json string when 'type' is json. You provided \"{a\"."
    )
    assert (await refused([v(payload={"type": "string", "value": ""})]))["details"] == joi(
        '"[0].payload.value" is not allowed to be empty.'
    )
    assert (await refused([v(payload={"type": "string", "value": "a", "x": 1})]))["details"] == joi(
        '"[0].payload.x" is not allowed. You provided 1.'
    )
    assert (await refused([v(foo=1)]))["details"] == joi(
        '"[0].foo" is not allowed. You provided 1.'
    )
    assert (await refused([v(overrides="x")]))["details"] == joi(
        '"[0].overrides" must be an array. You provided "x".'
    )
    body = await refused({"name": "x"})
    assert (
        body["details"][0]["message"]
        == 'The `/body/variants` property must be array. You sent {"name":"x"}.'
    )
    # Overrides pass on create (8.2.0's create schema allows them) and not on update.
    created = await add_strategy(
        client, token_a, "f1", variants=[v(overrides=[{"contextName": "userId", "values": ["a"]}])]
    )
    r = await client.put(
        f"{url}/{created['id']}",
        json={"name": "default", "variants": created["variants"]},
        headers=auth(token_a),
    )
    assert r.status_code == 400
    assert r.json()["details"][0]["path"] == "/body/variants/0/overrides"
    assert r.json()["message"] == VALIDATION
    # Nothing refused was stored.
    listed_strategies = (await client.get(url, headers=auth(token_a))).json()
    assert [s["id"] for s in listed_strategies] == [created["id"]]


async def test_strategy_responses_carry_unleash_keys(
    client: httpx.AsyncClient, token_a: str
) -> None:
    await create_feature(client, token_a, "f1")
    keys = {
        "id",
        "name",
        "constraints",
        "parameters",
        "variants",
        "segments",
        "title",
        "disabled",
        "sortOrder",
    }
    created = await add_strategy(client, token_a, "f1")
    assert set(created) == keys
    one = (
        await client.get(f"{strategies_url('f1')}/{created['id']}", headers=auth(token_a))
    ).json()
    assert set(one) == keys
    put = await client.put(
        f"{strategies_url('f1')}/{created['id']}", json={"name": "default"}, headers=auth(token_a)
    )
    assert set(put.json()) == keys
    many = (await client.get(strategies_url("f1"), headers=auth(token_a))).json()
    assert [set(s) for s in many] == [keys | {"milestoneId"}]
    assert many[0]["milestoneId"] is None


async def test_strategy_update_keeps_segments_it_was_not_sent(
    client: httpx.AsyncClient, token_a: str
) -> None:
    seg = await create_segment(client, token_a, "s")
    await create_feature(client, token_a, "f1")
    created = await add_strategy(client, token_a, "f1", [seg["id"]])
    url = f"{strategies_url('f1')}/{created['id']}"
    r = await client.put(url, json={"name": "default"}, headers=auth(token_a))
    assert r.json()["segments"] == [seg["id"]]
    r = await client.put(url, json={"name": "default", "segments": []}, headers=auth(token_a))
    assert r.json()["segments"] == []


async def test_get_feature_environment(client: httpx.AsyncClient, token_a: str) -> None:
    await create_feature(client, token_a, "f1")
    created = await add_strategy(client, token_a, "f1", title="t")
    r = await client.get(env_url("f1"), headers=auth(token_a))
    assert r.status_code == 200
    assert r.json() == {
        "name": "f1",
        "environment": "development",
        "enabled": False,
        "strategies": [
            {
                "id": created["id"],
                "featureName": "f1",
                "title": "t",
                "parameters": {},
                "constraints": [],
                "variants": [],
                "sortOrder": 0,
                "disabled": False,
                "name": "default",
            }
        ],
    }
    error(
        await client.get(env_url("f1", "nope"), headers=auth(token_a)),
        404,
        "NotFoundError",
        "Could not find f1 in nope",
    )
