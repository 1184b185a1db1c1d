"""The README's sessions through Prism: every request they make and every answer they get is
what the served specs say.

One Prism (``prism proxy <spec> <gateway> --errors``) per served spec, behind a router that
sends each path to its API's Prism (``tests/contract/prism.py``); each session runs as in
``tests/test_readme.py`` — a fresh ``segmux serve`` on a fresh store, the reader's shell — with
``SEGMUX_PORT`` naming the router, so the session is unchanged. A violation would turn an answer
into Prism's error (so the session's output no longer matches the README) and write an error
line in Prism's log; the test checks both, and the ``sl-violations`` header. Prism comes from
npm (installed into ``.cache/prism/`` on first use): without npm this skips on a laptop and
fails under ``CI=true``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import openapi
from tests import pg
from tests.contract import prism
from tests.live import free_port
from tests.test_readme import (
    SESSIONS,
    Session,
    check_outputs,
    checkout,
    run_session,
    session_store,
)


@pytest.fixture(scope="module")
def proxies(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[prism.Router, list[prism.PrismProxy], int]]:
    pg.require_command("node")
    pg.require_command("npm")
    pg.require_command("curl")
    try:
        prism.ensure_installed()
    except Exception as exc:  # the registry unreachable, npm failing
        pg.unavailable(f"Prism could not be installed: {exc}")
    gateway = free_port()
    ports = {name: free_port() for name in openapi.names()}
    logs = tmp_path_factory.mktemp("prism")
    with prism.routed_prisms(gateway, free_port(), ports, logs) as (router, running):
        yield router, running, gateway


def test_every_path_of_every_spec_goes_to_its_own_prism() -> None:
    for name in openapi.names():
        for path in openapi.load(name)["paths"]:
            assert prism.spec_of(path) == name, path


@pytest.mark.parametrize(
    "session", [pytest.param(s, id=s.id) for s in SESSIONS if s.server is None]
)
def test_readme_session_through_prism(
    proxies: tuple[prism.Router, list[prism.PrismProxy], int], session: Session, tmp_path: Path
) -> None:
    router, running, gateway = proxies
    port = int(router.address.rsplit(":", 1)[1])
    for proxy in running:
        proxy.new_log_lines()
    router.flagged.clear()
    router.sent.clear()
    cwd = checkout(tmp_path)
    # The gateway behind a proxy writes its links for the address the client used: the
    # forwarded host it is told to trust, or the public URL it is given.
    public = {"SEGMUX_TRUST_PROXY": "1", "SEGMUX_PUBLIC_URL": f"http://{router.address}"}
    with session_store(session, "sqlite", cwd, port, server_port=gateway, server_env=public) as (
        _,
        env,
        script,
    ):
        try:
            printed = run_session(script, cwd=cwd, env=env)
        finally:  # Prism's findings first: they say why a session went wrong
            assert not router.flagged, "\n".join(router.flagged)
            lines = {p.spec: p.new_log_lines() for p in running}
            found = {spec: bad for spec, log in lines.items() if (bad := prism.violations(log))}
            assert not found, f"Prism reports violations: {found}"
    # Every request reached its Prism and was forwarded after passing its checks.
    forwarded = {spec: sum("> Forwarding" in ln for ln in log) for spec, log in lines.items()}
    assert forwarded == {spec: router.sent[spec] for spec in lines}, (forwarded, router.sent)
    assert sum(forwarded.values()) >= 5
    check_outputs(script, printed, router.address)
