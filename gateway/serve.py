"""``segmux serve``: the checks before listening (the address, the store, the first token), the
banner, and uvicorn with segmux's HTTP edge. A refusal is a :class:`SettingError` naming the
setting to change, printed by ``gateway.cli`` as one line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Iterator

from core.tokens import TokenService
from gateway.settings import SettingError, Settings, seconds
from gateway.stores import describe, open_checked

DEFAULT_GRACE = 10.0
"""Seconds of ``--grace`` / ``SEGMUX_SHUTDOWN_GRACE`` when neither is given."""


def serve(args: argparse.Namespace, settings: Settings) -> int:
    """``segmux serve``: check the address, migrate and seed the store once, print where it
    listens, then run uvicorn until SIGTERM."""
    from gateway.logging import configure

    host = args.host or settings.host
    port_ = args.port or settings.port
    workers_ = args.workers or settings.workers
    grace = _grace(args)
    _check_listen(host, port_, flags=(args.host is not None, args.port is not None))
    configure(settings.log_level, fmt=settings.log_format, serving=True)
    first_token = asyncio.run(_prepare(settings))
    _banner(settings, host, port_, first_token)
    # uvicorn handles SIGTERM (stop accepting, let in-flight requests finish within the grace,
    # close the store), then raises it again; under the default handler the process would die
    # of it (status 143) after stopping cleanly. A stop that was asked for and done is exit 0.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    with _metrics_directory(settings, workers_):
        _run_uvicorn(settings, host, port_, workers_, grace)
    return 0


@contextlib.contextmanager
def _metrics_directory(settings: Settings, workers_: int) -> Iterator[None]:
    """With several workers, prometheus-client's multiprocess mode: one fresh directory per
    serve, named to the workers in ``PROMETHEUS_MULTIPROC_DIR`` (each worker writes its values
    there; the one answering a scrape adds them up) and removed when the serve ends. One
    inherited from the environment is never used: files of an earlier run would count again.
    One process needs none (gateway.metrics)."""
    import shutil
    import tempfile

    from gateway.metrics import MULTIPROC_ENV

    os.environ.pop(MULTIPROC_ENV, None)
    if workers_ < 2 or settings.metrics == "off":
        yield
        return
    directory = tempfile.mkdtemp(prefix="segmux-metrics-")
    os.environ[MULTIPROC_ENV] = directory
    try:
        yield
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(directory, ignore_errors=True)


def _run_uvicorn(settings: Settings, host: str, port_: int, workers_: int, grace: float) -> None:
    import uvicorn

    from gateway.logging import serving_log_config

    uvicorn.run(
        "gateway.app:app_from_env",
        factory=True,
        host=host,
        port=port_,
        workers=workers_,
        access_log=False,
        log_level=settings.log_level,
        log_config=serving_log_config(settings.log_level, settings.log_format),
        timeout_graceful_shutdown=grace,  # type: ignore[arg-type]  # a float works
        # The HTTP edge (docs/settings-security.md): headers within SEGMUX_HEADER_TIMEOUT,
        # at most SEGMUX_MAX_CONNECTIONS connections (503 beyond), and forwarded headers left
        # to gateway.middleware.Edge, which believes them only from SEGMUX_FORWARDED_ALLOW_IPS
        # (uvicorn's own handling believes any loopback peer).
        http="gateway.slow_clients:HeaderTimeoutProtocol",
        limit_concurrency=settings.max_connections,
        proxy_headers=False,
    )


def _check_listen(host: str, port_: int, flags: tuple[bool, bool]) -> None:
    """Refuse an address the server could not listen on, before the store is opened (uvicorn
    would log it after starting the application, then exit with status 3)."""
    import errno
    import socket

    host_from = "--host" if flags[0] else "SEGMUX_HOST"
    port_from = "--port" if flags[1] else "SEGMUX_PORT"
    try:
        infos = socket.getaddrinfo(host, port_, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise SettingError(
            f"cannot listen on host {host!r}: {exc.strerror}",
            f"give an address of this machine with {host_from}",
        ) from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise SettingError(
                    f"port {port_} on {host} is in use",
                    f"stop what listens there, or choose another port with {port_from}",
                ) from None
            raise SettingError(
                f"cannot listen on {host}:{port_}: {exc.strerror}",
                f"check {host_from} and {port_from}",
            ) from None


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _grace(args: argparse.Namespace) -> float:
    """Seconds in-flight requests get after SIGTERM (then uvicorn cancels them, and the
    lifespan closes the store either way)."""
    if args.grace is not None:
        grace: float = args.grace
        return grace
    value = os.environ.get("SEGMUX_SHUTDOWN_GRACE")
    return DEFAULT_GRACE if value is None else seconds(value, "SEGMUX_SHUTDOWN_GRACE")


async def _prepare(settings: Settings) -> str | None:
    """Migrate once before workers start, seed ``SEGMUX_ADMIN_TOKEN``, and on an empty store
    without it create a first admin token (returned to be printed once) — only for a person at a
    terminal (``SEGMUX_LOG_FORMAT=console``): JSON lines go to log collectors, and a token must
    never be logged, so there the banner says how to create one instead."""
    store = await open_checked(settings.database_url, create=True)
    try:
        tokens = TokenService(store)
        if settings.admin_token:
            await tokens.ensure(
                tenant="default",
                scope="admin",
                name="SEGMUX_ADMIN_TOKEN",
                token=settings.admin_token,
            )
            return None
        if settings.log_format == "console" and await store.count_tokens() == 0:
            token, _ = await tokens.create(tenant="default", scope="admin", name="first-admin")
            return token
        return None
    finally:
        await store.close()


def _banner(settings: Settings, host: str, port_: int, first_token: str | None) -> None:
    """Where the gateway listens and which store it serves: human lines with
    ``SEGMUX_LOG_FORMAT=console``, else log lines of the one JSON form."""
    from gateway.logging import announce

    base = f"http://{host}:{port_}"
    store = describe(settings.database_url)
    try_it = f'curl -H "Authorization: Bearer $TOKEN" {base}/v2.3/data/segments'
    get_token = (
        "export TOKEN=$(.venv/bin/segmux tokens create --tenant default --scope admin --name me)"
    )
    if settings.log_format != "console":
        announce(
            "serving",
            url=base,
            store=store,
            specs=f"{base}/segmux/openapi/v23.json",
            health=f"{base}/healthz",
        )
        announce("get a token", command=get_token)
        return
    lines = [f"segmux on {base}  (store: {store})"]
    if first_token:
        lines += [
            "",
            "First admin token of tenant 'default' (shown once; only its hash is stored):",
            f"  {first_token}",
            "",
            f"  export TOKEN={first_token}",
        ]
    else:
        lines += ["", f"Get a token:  {get_token}"]
    lines += [
        f"Try it:       {try_it}",
        f"Specs:        {base}/segmux/openapi/v23.json   Health: {base}/healthz",
        "",
    ]
    print("\n".join(lines), file=sys.stderr, flush=True)
