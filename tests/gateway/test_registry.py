"""Every registered API surface is served: its spec, its prefix, its error format."""

from __future__ import annotations

import httpx
import pytest

import openapi
from dialects.registry import SURFACES, by_name, owner_of
from gateway.app import create_app
from gateway.settings import Settings


def test_the_served_specs_are_the_registered_ones() -> None:
    assert sorted(s.spec for s in SURFACES if s.spec) == sorted(openapi.names())


def test_names_and_prefixes_are_unique() -> None:
    names = [s.name for s in SURFACES]
    prefixes = [s.prefix for s in SURFACES if s.prefix is not None]
    assert len(set(names)) == len(names) and len(set(prefixes)) == len(prefixes)
    assert all(by_name(n).name == n for n in names)
    assert [s.prefix for s in SURFACES if s.prefix is None] == [None]  # one root surface, last
    assert SURFACES[-1].prefix is None


@pytest.mark.parametrize("surface", [s for s in SURFACES if s.spec], ids=lambda s: s.name)
async def test_each_spec_is_served(tmp_path: object, surface: object) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/r.db"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            r = await c.get(f"/segmux/openapi/{surface.spec}.json")  # type: ignore[attr-defined]
    assert r.status_code == 200 and r.json()["openapi"].startswith("3.")


@pytest.mark.parametrize("surface", [s for s in SURFACES if s.prefix], ids=lambda s: s.name)
async def test_an_unrouted_path_is_answered_in_the_surfaces_format(
    tmp_path: object, surface: object
) -> None:
    prefix = surface.prefix  # type: ignore[attr-defined]
    assert owner_of(prefix + "/nowhere") is surface
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/r.db"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            r = await c.get(prefix + "/no/such/route/here")
    assert r.status_code in (401, 404)
    assert r.json() != {"error": "Not Found"}  # the surface's own body, not the bare fallback
