"""Unleash's own SDKs and segmux's evaluation engine give the same answers, on both backends.

A live gateway serves features, strategy variants and segments made through its Unleash admin
API (``tests/dialects/unleash/engine_cases.py``). Unleash's Node SDK (``unleash-client`` from
npm, installed into ``.cache/unleash-client/``) and its Python SDK (``UnleashClient``, the
Yggdrasil engine) fetch them as any application does, and evaluate ``isEnabled`` and
``getVariant`` on a table of contexts; segmux's engine (``FlagService.evaluate_features``, over
the same database) must answer every feature of every context the same way.

Everything stays on 127.0.0.1; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from core.flags import FlagService
from core.model import Principal
from core.store import Store
from core.unleash_context import UnleashContext
from core.unleash_eval import FeatureAnswer
from tests import pg
from tests.conftest import make_token
from tests.dialects.unleash.engine_cases import (
    FEATURE_NAMES,
    ids_under_properties,
    setup,
    table,
)
from tests.live import live_gateway

UnleashClient = pg.require("UnleashClient").UnleashClient

NODE_SDK_VERSION = "6.12.1"
ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache" / "unleash-client"
SCRIPT = Path(__file__).with_name("unleash_node_eval.js")
ADMIN = "smx_engine-agreement-admin"
SDK = Principal(tenant="default", scope="client:development", token_name="sdk")


def node_sdk() -> Path:
    """The Node SDK's install directory (installed by npm on first use)."""
    pg.require_command("node")
    marker = CACHE / "node_modules" / "unleash-client" / "package.json"
    if marker.exists() and json.loads(marker.read_text()).get("version") == NODE_SDK_VERSION:
        return CACHE
    pg.require_command("npm")
    CACHE.mkdir(parents=True, exist_ok=True)
    package = CACHE / "package.json"
    if not package.exists():
        package.write_text('{"name": "segmux-unleash-client", "private": true}\n')
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", f"unleash-client@{NODE_SDK_VERSION}"],
        cwd=CACHE,
        check=True,
        stdout=subprocess.DEVNULL,
        timeout=600,
    )
    return CACHE


@pytest.fixture
def gateway(store: Store, store_url: str) -> Iterator[str]:
    with live_gateway(store_url, ADMIN) as base:
        yield base


@pytest.fixture
async def admin(gateway: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=gateway, headers={"Authorization": ADMIN}, timeout=10
    ) as c:
        yield c


def comparable(answer: FeatureAnswer) -> dict[str, Any]:
    v = answer.variant
    return {
        "name": answer.name,
        "enabled": answer.enabled,
        "variant": {
            "name": v.name,
            "enabled": v.enabled,
            "feature_enabled": v.feature_enabled,
            "payload": v.payload,
        },
    }


async def engine_answers(store: Store, contexts: list[UnleashContext]) -> list[list[Any]]:
    flags = FlagService(store)
    out = []
    for context in contexts:
        answers = await flags.evaluate_features(SDK, "development", context)
        by_name = {a.name: comparable(a) for a in answers}
        out.append([by_name[name] for name in FEATURE_NAMES])
    return out


def node_answers(gateway: str, token: str, contexts: list[UnleashContext]) -> list[list[Any]]:
    cwd = node_sdk()
    node = shutil.which("node")
    assert node is not None
    request = {
        "url": f"{gateway}/api/",
        "token": token,
        "features": FEATURE_NAMES,
        "contexts": [msgspec.to_builtins(c) for c in contexts],
    }
    done = subprocess.run(
        [node, str(SCRIPT)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=cwd,
        # The script lives in the repository, the package in the cache: point require() there.
        env={**os.environ, "NODE_PATH": str(cwd / "node_modules")},
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answers: list[list[Any]] = json.loads(done.stdout)["answers"]
    return answers


def python_sdk_answers(
    gateway: str, token: str, cache: Path, contexts: list[UnleashContext]
) -> list[list[Any]]:
    client = UnleashClient(
        url=f"{gateway}/api",
        app_name="segmux-engine-agreement",
        instance_id="agreement-2",
        custom_headers={"Authorization": token},
        refresh_interval=60,
        disable_metrics=True,
        disable_registration=True,
        cache_directory=str(cache),
        request_timeout=5,
        request_retries=0,
    )
    client.initialize_client()
    try:
        deadline = time.monotonic() + 10
        while not client.is_initialized:
            assert time.monotonic() < deadline, "the Python SDK did not initialize"
            time.sleep(0.05)
        out = []
        for context in contexts:
            raw = msgspec.to_builtins(context)
            row = []
            for name in FEATURE_NAMES:
                v = client.get_variant(name, raw)
                row.append(
                    {
                        "name": name,
                        "enabled": client.is_enabled(name, raw),
                        "variant": {
                            "name": v["name"],
                            "enabled": v["enabled"],
                            "feature_enabled": v.get("feature_enabled", v.get("featureEnabled")),
                            "payload": v.get("payload"),
                        },
                    }
                )
            out.append(row)
        return out
    finally:
        client.destroy()


async def test_node_and_python_sdks_agree_with_the_engine(
    gateway: str, admin: httpx.AsyncClient, store: Store, tmp_path: Path
) -> None:
    await setup(admin, ADMIN)
    token = await make_token(store, "default", scope="client:development", name="sdk")
    contexts = table()
    ours = await engine_answers(store, contexts)

    # Not a vacuous table: it reaches every answer the features can give.
    reached = {(a["name"], a["enabled"], a["variant"]["name"]) for row in ours for a in row}
    assert {name for name, enabled, _ in reached if enabled} == {
        "checkout",
        "beta-banner",
        "gradual",
        "office",
    }
    assert {variant for _, _, variant in reached} == {"blue", "red", "green", "disabled"}

    node = await asyncio.to_thread(node_answers, gateway, token, contexts)
    python = await asyncio.to_thread(python_sdk_answers, gateway, token, tmp_path, contexts)
    for context, mine, theirs_node, theirs_python in zip(contexts, ours, node, python, strict=True):
        assert theirs_node == mine, context
        assert theirs_python == mine, context


async def test_a_user_id_under_properties_where_the_sdks_differ(
    gateway: str, admin: httpx.AsyncClient, store: Store, tmp_path: Path
) -> None:
    """Yggdrasil (the Python SDK) reads a standard field from ``properties`` when the context
    lacks it, for everything; the Node SDK only for constraints and named stickiness, not for
    ``userWithId`` or ``gradualRolloutUserId``. segmux follows Yggdrasil, and the Node SDK
    differs on exactly those two kinds."""
    await setup(admin, ADMIN)
    token = await make_token(store, "default", scope="client:development", name="sdk")
    contexts = ids_under_properties()
    ours = await engine_answers(store, contexts)
    node = await asyncio.to_thread(node_answers, gateway, token, contexts)
    python = await asyncio.to_thread(python_sdk_answers, gateway, token, tmp_path, contexts)
    assert python == ours
    differ = set()
    for mine, theirs in zip(ours, node, strict=True):
        for a, b in zip(mine, theirs, strict=True):
            if a != b:
                differ.add(a["name"])
                assert a["enabled"] and not b["enabled"], (a, b)
    assert differ == {"beta-banner", "gradual"}  # userWithId, gradualRolloutUserId
