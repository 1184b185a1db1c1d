"""Flags, variants, rules and clients made through Confidence's admin API, and resolves through
``/v1/flags:resolve``: what the resolver tests share."""

from __future__ import annotations

from typing import Any

import httpx

from tests.dialects.confidence.helpers import auth

RESOLVE = "/v1/flags:resolve"
APPLY = "/v1/flags:apply"


async def post(client: httpx.AsyncClient, token: str, path: str, body: Any, **params: str) -> Any:
    r = await client.post(path, params=params, json=body, headers=auth(token))
    assert r.status_code == 200, f"POST {path} {params}: {r.status_code} {r.text}"
    return r.json()


async def make_client(
    client: httpx.AsyncClient, token: str, environments: list[str] | None = None
) -> tuple[str, str]:
    """A new client and one credential: (the client's name, the credential's secret)."""
    made = await post(client, token, "/v1/clients", {"displayName": "resolver test"})
    body: dict[str, Any] = {"displayName": "resolver test"}
    if environments:
        body["environments"] = environments
    cred = await post(client, token, f"/v1/{made['name']}/credentials", body)
    secret = cred["clientSecret"]["secret"]
    assert isinstance(secret, str) and secret
    return str(made["name"]), secret


async def make_flag(
    client: httpx.AsyncClient,
    token: str,
    flag_id: str,
    *,
    schema: dict[str, Any],
    clients: list[str],
    variants: dict[str, dict[str, Any]],
    rules: list[dict[str, Any]],
) -> dict[str, str]:
    """A flag with its variants and rules, each made through its own create method; returns
    the rules' names by the name asked for (the server may name them itself)."""
    await post(client, token, "/v1/flags", {"schema": schema, "clients": clients}, flagId=flag_id)
    for variant_id, value in variants.items():
        await post(
            client,
            token,
            f"/v1/flags/{flag_id}/variants",
            {"name": f"flags/{flag_id}/variants/{variant_id}", "value": value},
        )
    names = {}
    for rule in rules:
        made = await post(client, token, f"/v1/flags/{flag_id}/rules", rule)
        names[rule.get("name", "")] = str(made["name"])
    return names


async def resolve(
    client: httpx.AsyncClient, secret: str, context: Any, flags: list[str], apply: bool = False
) -> httpx.Response:
    body = {"clientSecret": secret, "evaluationContext": context, "flags": flags, "apply": apply}
    return await client.post(RESOLVE, json=body)


def schema_of(variants: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A struct schema that holds every field of the variants' values (by the JSON type)."""
    kinds = {bool: "boolSchema", str: "stringSchema", int: "intSchema", float: "doubleSchema"}
    fields: dict[str, Any] = {}
    for value in variants.values():
        for key, v in value.items():
            fields[key] = {kinds[type(v)]: {}} if type(v) in kinds else {"structSchema": {}}
    return {"schema": fields}


def everyone_gets(flag_id: str, variant: str, segment: str) -> dict[str, Any]:
    """A rule giving every member of ``segment`` the flag's ``variant`` (one full range)."""
    return {
        "segment": segment,
        "enabled": True,
        "assignmentSpec": {
            "bucketCount": 10,
            "assignments": [
                {
                    "assignmentId": "all",
                    "variant": {"variant": f"flags/{flag_id}/variants/{variant}"},
                    "bucketRanges": [{"lower": 0, "upper": 10}],
                }
            ],
        },
    }
