"""The ``live`` marker (tests/conftest.py) that keeps ``pytest -m "not live"`` free of processes:
the modules and fixtures that start them are recognised, and in-process ones are not."""

from __future__ import annotations

import importlib

import pytest

from tests import conftest


@pytest.mark.parametrize(
    "module",
    [
        "tests.reliability.test_crash",  # segmux serve processes
        "tests.reliability.test_outage",  # a private PostgreSQL cluster
        "tests.gateway.test_cli",  # the CLI as a subprocess
        "tests.gateway.test_cli_adobe",  # the same, through test_cli's helper
        "tests.migrate.test_confidence_backup",  # the same, through test_ndjson's helper
        "tests.install.test_plain_install",  # a fresh venv
        "tests.install.test_release",  # python -m build, then fresh venvs
        "tests.contract.test_prism",  # npm's Prism
        "tests.ui.test_ui",  # Chromium against a real server
        "tests.ui.test_frontend_browser",  # npm, a page server, Chromium, segmux serve
        "tests.sdk.test_unleash_sdk",  # a real server for the SDK to poll
    ],
)
def test_modules_that_start_processes_are_live(module: str) -> None:
    assert conftest._module_is_live(importlib.import_module(module))


@pytest.mark.parametrize(
    "module",
    [
        "tests.dialects.test_cross_dialect",
        "tests.store.test_contract",
        "tests.unit.test_profile_totals",
        "tests.conftest",
    ],
)
def test_in_process_modules_are_not_live(module: str) -> None:
    assert not conftest._module_is_live(importlib.import_module(module))


def test_a_fixture_is_live_when_its_body_starts_a_server() -> None:
    migrate = importlib.import_module("tests.migrate.conftest")
    assert conftest._fixture_is_live(migrate.gateways)  # two live gateways
    assert not conftest._fixture_is_live(migrate.tenant)
    assert not conftest._fixture_is_live(migrate.http)  # an httpx client starts nothing
    cluster = importlib.import_module("tests.reliability.pgcluster")
    assert conftest._fixture_is_live(cluster.pg_cluster)


def test_this_module_runs_in_the_inner_loop(request: pytest.FixtureRequest) -> None:
    assert request.node.get_closest_marker("live") is None


def test_the_postgres_half_is_marked(backend: str, request: pytest.FixtureRequest) -> None:
    marked = request.node.get_closest_marker("postgres") is not None
    assert marked == (backend == "postgres")
