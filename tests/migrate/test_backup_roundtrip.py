"""A backup restores a tenant exactly, whatever the tenant: random tenants are built through the
six HTTP APIs on one backend, exported, imported into a fresh store on the other backend, and
every answer of every dialect is compared, request for request: lists and gets, HAL members and
individuals, Unleash strategies and the client API, and ``/segmux/v1/evaluate`` for random
contexts and units (so an allocation that came back with other buckets would show)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings

from core.store import Store, open_store
from gateway.app import create_app
from gateway.migrate.ndjson import export, import_lines
from gateway.settings import Settings
from tests import pg
from tests.conftest import make_token
from tests.examples import examples
from tests.migrate import tenants

TENANT = "acme"
EXAMPLES = examples(4, least=1)
"""Per direction, besides the rich explicit example: each builds, exports, imports and reads
back two stores (the inner loop draws one)."""
RICH = [
    # An exclusive 0.35 allocated next to a rival that takes half of what is left: the case
    # where a restore that allocated anew (or kept no bitset) changes answers.
    {
        "kind": "confidence",
        "country": "SE",
        "proportion": "0.35",
        "tags": ("g",),
        "exclusive": True,
        "labels": {"team": "x"},
        "then": ("allocate",),
    },
    {
        "kind": "confidence",
        "country": None,
        "proportion": "0.5",
        "tags": ("g",),
        "exclusive": False,
        "labels": {},
        "then": ("allocate",),
    },
    {
        "kind": "confidence",
        "country": "NO",
        "proportion": "0.1",
        "tags": (),
        "exclusive": False,
        "labels": {},
        "then": ("archive",),
    },
    {"kind": "unleash", "constraints": tenants.CONSTRAINTS[0], "description": "d"},
    {"kind": "hal-static", "members": [0, 1]},
    {"kind": "feature", "project": "web", "segments": [0, 3, 4], "on": True},
    {"kind": "adobe", "pql": 'country = "SE"', "sandbox": "dev"},
    {"kind": "segmux", "country": "NO", "sandbox": "dev", "static": False},
    {"kind": "v23"},
    {"kind": "hal-dynamic", "filter": "country eq 'SE'"},
]


@pytest.fixture(scope="module")
def template() -> Iterator[str]:
    """A migrated PostgreSQL database that each example's store is copied from."""
    url = pg.create_database("segmux_backup_tpl")

    async def migrate() -> None:
        await (await open_store(url)).close()

    pg.run_sync(migrate)
    yield url.rsplit("/", 1)[1]
    pg.drop_database(url)


class Stores:
    """A fresh store of either backend per call; PostgreSQL ones dropped at the end."""

    def __init__(self, tmp: Path, template: str) -> None:
        self.tmp, self.template, self.made = tmp, template, 0
        self.databases: list[str] = []

    def url(self, backend: str) -> str:
        self.made += 1
        if backend == "sqlite":
            return f"sqlite:///{self.tmp}/store-{self.made}.db"
        url = pg.create_database("segmux_backup", template=self.template)
        self.databases.append(url)
        return url

    def drop(self) -> None:
        for url in self.databases:
            pg.drop_database(url)


async def _client(store: Store, url: str) -> tuple[httpx.AsyncClient, tenants.Client]:
    app = create_app(Settings(database_url=url), store=store)
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://segmux.test")
    token = await make_token(store, TENANT)
    client_token = await make_token(store, TENANT, scope="client:development", name="sdk")
    return http, tenants.Client(http, token, client_token)


async def _round_trip(
    source_url: str,
    target_url: str,
    plan: list[dict[str, Any]],
    people: list[dict[str, Any]],
    tenant_settings: dict[str, Any],
    probes: list[tuple[dict[str, Any], str | None]],
) -> None:
    source = await open_store(source_url)
    target = await open_store(target_url)
    try:
        http, c = await _client(source, source_url)
        async with http:
            await tenants.build(c, source, TENANT, plan, people, tenant_settings)
            before = await tenants.answers(c, probes)
            features = c.features
        backup = io.StringIO()
        await export(source, TENANT, backup)
        result = await import_lines(target, TENANT, backup.getvalue().splitlines())
        assert result.failed == [] and result.skipped == [], (result.failed, result.skipped)
        http, c = await _client(target, target_url)
        async with http:
            c.org, c.features = tenant_settings.get("ims_org_id", f"{TENANT}@AdobeOrg"), features
            after = await tenants.answers(c, probes)
    finally:
        await source.close()
        await target.close()
    assert after.keys() == before.keys()
    for key in before:
        assert after[key] == before[key], (key, before[key], after[key])


@pytest.mark.parametrize("direction", ["sqlite-to-postgres", "postgres-to-sqlite"])
def test_backup_restores_every_answer(direction: str, template: str, tmp_path: Path) -> None:
    stores = Stores(tmp_path, template)
    src_backend, dst_backend = direction.split("-to-")

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        plan=tenants.steps,
        people=tenants.individuals,
        tenant_settings=tenants.settings,
        probes=tenants.contexts,
    )
    @example(
        plan=RICH,
        people=[
            {"country": "SE", "plan": "pro", "age": 33},
            {"country": "NO", "plan": "free", "age": 20},
        ],
        tenant_settings={"confidence_account_id": "acct-1", "ims_org_id": "ACME123@AdobeOrg"},
        probes=[({"country": "SE", "plan": "pro", "age": 40}, "u1"), ({"country": "NO"}, None)],
    )
    def round_trip(
        plan: list[dict[str, Any]],
        people: list[dict[str, Any]],
        tenant_settings: dict[str, Any],
        probes: list[tuple[dict[str, Any], str | None]],
    ) -> None:
        source, target = stores.url(src_backend), stores.url(dst_backend)
        pg.run_sync(lambda: _round_trip(source, target, plan, people, tenant_settings, probes))

    try:
        round_trip()
    finally:
        stores.drop()
