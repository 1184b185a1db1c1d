"""Every registered API surface is served: its spec, its prefix, its error format; and every
one that serves segments is a migrate endpoint, and every vendor's is a rendering and a column
of the portability page."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys

import httpx
import pytest

import openapi
from dialects.registry import SURFACES, by_name, owner_of
from gateway.app import create_app
from gateway.migrate.endpoint import MigrateError, parse_endpoint
from gateway.settings import Settings

SEGMENT_APIS = [s for s in SURFACES if s.spec and s.serves_segments]
"""The surfaces that serve segments: each publishes its OpenAPI document."""
FLAG_APIS = [s for s in SURFACES if s.spec and not s.serves_segments]
"""Surfaces of flags only (OFREP): a spec, but no view of segments and no migrate codec."""
VENDORS = [s for s in SEGMENT_APIS if s.name != "segmux"]
"""segmux's own API shows a segment in its canonical form: it is no column of the matrix."""


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


def test_the_segment_apis_are_the_five_vendors_and_segmux() -> None:
    assert sorted(s.name for s in SEGMENT_APIS) == [
        "adobe",
        "confidence",
        "hal",
        "segmux",
        "unleash",
        "v23",
    ]
    assert [s.name for s in SURFACES if s.view is not None] == [s.name for s in VENDORS]
    assert [s.name for s in FLAG_APIS] == ["ofrep"]
    # A surface without segments (the IMS token endpoint, OFREP) is no migrate endpoint.
    assert [s.name for s in SURFACES if s.codec is not None] == [s.name for s in SEGMENT_APIS]


@pytest.mark.parametrize("surface", SEGMENT_APIS, ids=lambda s: s.name)
def test_each_segment_api_is_a_migrate_endpoint(surface: object) -> None:
    name, codec = surface.name, surface.codec  # type: ignore[attr-defined]
    assert parse_endpoint(f"{name}+http://h:1/") == (name, "http://h:1")
    module = importlib.import_module(codec)
    assert callable(module.Codec) and module.Codec.__module__ == codec


def test_migrate_names_every_codec_and_no_other() -> None:
    with pytest.raises(MigrateError, match="dialect one of") as refused:
        parse_endpoint("ims+http://h:1")
    listed = re.search(r"dialect one of (.*)$", str(refused.value))
    assert listed and listed.group(1).split(", ") == [s.name for s in SEGMENT_APIS]
    helped = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "migrate", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert helped.returncode == 0, helped.stderr
    text = " ".join(helped.stdout.split())
    assert f"dialect one of {', '.join(s.name for s in SEGMENT_APIS)}." in text


async def test_each_vendor_is_a_rendering_and_a_column(
    client: httpx.AsyncClient, token_a: str
) -> None:
    auth = {"Authorization": f"Bearer {token_a}"}
    made = await client.post(
        "/segmux/v1/segments",
        headers=auth,
        json={
            "name": "Swedes",
            "expression": {
                "t": "cmp",
                "op": "eq",
                "path": ["country"],
                "value": {"t": "lit", "kind": "string", "value": "SE"},
            },
        },
    )
    assert made.status_code == 201, made.text
    listed = await client.get("/segmux/v1/segments", headers=auth)
    assert listed.status_code == 200
    [segment] = listed.json()["items"]
    assert list(segment["renderings"]) == [s.name for s in VENDORS]
    assert all(r["expressible"] for r in segment["renderings"].values()), segment

    page = await client.get("/segmux/ui/")
    assert page.status_code == 200
    columns = re.findall(r'<th scope="col" data-dialect="([a-z0-9]+)"', page.text)
    assert columns == [s.name for s in VENDORS]
    assert "<!--" not in page.text  # the mark the columns replace is gone
