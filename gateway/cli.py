"""``segmux``: serve, db upgrade, tokens create|list|revoke, migrate, export, import."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Sequence

from core.errors import CoreError
from core.store import Store, open_store
from core.tokens import TokenService
from gateway.settings import Settings

DEFAULT_GRACE = 10.0
"""Seconds of ``--grace`` / ``SEGMUX_SHUTDOWN_GRACE`` when neither is given."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except ValueError as exc:  # a malformed SEGMUX_* variable: say which, no traceback
        print(f"segmux: {exc}", file=sys.stderr)
        return 2
    if getattr(args, "database_url", None):
        settings = _with(settings, database_url=args.database_url)
    try:
        result: int = args.run(args, settings)
    except CoreError as exc:
        print(f"segmux: {exc.message}", file=sys.stderr)
        return 2
    return result


def _with(settings: Settings, **changes: object) -> Settings:
    import msgspec

    return msgspec.structs.replace(settings, **changes)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="segmux", description=__doc__)
    parser.add_argument("--database-url", help="overrides SEGMUX_DATABASE_URL")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the gateway")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument(
        "--grace", type=float, metavar="SECONDS",
        help="on SIGTERM, how long in-flight requests may take to finish before they are cut "
        f"(overrides SEGMUX_SHUTDOWN_GRACE; default {DEFAULT_GRACE:g})",
    )
    serve.set_defaults(run=_serve)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(required=True, metavar="ACTION")
    db_sub.add_parser("upgrade", help="apply pending migrations").set_defaults(run=_db_upgrade)

    tokens = sub.add_parser("tokens", help="API tokens")
    tok_sub = tokens.add_subparsers(required=True, metavar="ACTION")
    create = tok_sub.add_parser("create", help="create a token; prints only the token")
    create.add_argument("--tenant", required=True)
    create.add_argument("--scope", required=True, help="admin | client:<environment>")
    create.add_argument("--name", required=True)
    create.add_argument(
        "--client-id",
        help="also register an OAuth client (Adobe IMS: x-api-key); prints the token, then the "
        "client secret, one per line",
    )
    create.set_defaults(run=_tokens_create)
    listing = tok_sub.add_parser("list", help="list tokens (never their secrets)")
    listing.add_argument("--tenant")
    listing.set_defaults(run=_tokens_list)
    revoke = tok_sub.add_parser("revoke", help="delete a token by its id")
    revoke.add_argument("id")
    revoke.set_defaults(run=_tokens_revoke)

    tenants = sub.add_parser("tenants", help="tenant settings")
    ten_sub = tenants.add_subparsers(required=True, metavar="ACTION")
    tenant_set = ten_sub.add_parser("set", help="change a tenant's settings")
    tenant_set.add_argument("--tenant", required=True)
    tenant_set.add_argument("--ims-org", required=True,
                            help="the Adobe IMS org id (default <tenant>@AdobeOrg)")
    tenant_set.set_defaults(run=_tenants_set)

    from gateway.migrate.commands import add_commands  # migrate, export, import

    add_commands(sub)
    return parser


async def _with_store(settings: Settings) -> Store:
    return await open_store(settings.database_url)


def _db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    async def run() -> None:
        store = await _with_store(settings)  # opening a store applies pending migrations
        await store.close()

    asyncio.run(run())
    print("database is up to date", file=sys.stderr)
    return 0


def _tokens_create(args: argparse.Namespace, settings: Settings) -> int:
    async def run() -> str:
        store = await _with_store(settings)
        try:
            if args.client_id is not None:
                token, secret, _ = await TokenService(store).create_client(
                    tenant=args.tenant, scope=args.scope, name=args.name,
                    client_id=args.client_id,
                )
                return f"{token}\n{secret}"
            token, _ = await TokenService(store).create(
                tenant=args.tenant, scope=args.scope, name=args.name
            )
        finally:
            await store.close()
        return token

    print(asyncio.run(run()))
    return 0


def _tenants_set(args: argparse.Namespace, settings: Settings) -> int:
    async def run() -> None:
        store = await _with_store(settings)
        try:
            await TokenService(store).set_ims_org(args.tenant, args.ims_org)
        finally:
            await store.close()

    asyncio.run(run())
    return 0


def _tokens_list(args: argparse.Namespace, settings: Settings) -> int:
    async def run() -> None:
        store = await _with_store(settings)
        try:
            for info in await store.list_tokens(args.tenant):
                client = f"\t{info.client_id}" if info.client_id else ""
                print(f"{info.id}\t{info.tenant}\t{info.scope}\t{info.name}{client}")
        finally:
            await store.close()

    asyncio.run(run())
    return 0


def _tokens_revoke(args: argparse.Namespace, settings: Settings) -> int:
    async def run() -> None:
        store = await _with_store(settings)
        try:
            await store.revoke_token(args.id)
        finally:
            await store.close()

    asyncio.run(run())
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    host = args.host or settings.host
    port = args.port or settings.port
    grace = _grace(args)
    first_token = asyncio.run(_prepare(settings))
    _banner(settings, host, port, first_token)
    # uvicorn handles SIGTERM (stop accepting, let in-flight requests finish within the grace,
    # close the store), then raises it again; under the default handler the process would die
    # of it (status 143) after stopping cleanly. A stop that was asked for and done is exit 0.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    uvicorn.run(
        "gateway.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=args.workers,
        access_log=False,
        log_level=settings.log_level,
        timeout_graceful_shutdown=grace,  # type: ignore[arg-type]  # a float works
        # The HTTP edge (docs/settings-security.md): headers within SEGMUX_HEADER_TIMEOUT,
        # at most SEGMUX_MAX_CONNECTIONS connections (503 beyond), and forwarded headers left
        # to gateway.middleware.Edge, which believes them only from SEGMUX_FORWARDED_ALLOW_IPS
        # (uvicorn's own handling believes any loopback peer).
        http="gateway.slow_clients:HeaderTimeoutProtocol",
        limit_concurrency=settings.max_connections,
        proxy_headers=False,
    )
    return 0


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _grace(args: argparse.Namespace) -> float:
    """Seconds in-flight requests get after SIGTERM (then uvicorn cancels them, and the
    lifespan closes the store either way)."""
    if args.grace is not None:
        grace: float = args.grace
    else:
        grace = float(os.environ.get("SEGMUX_SHUTDOWN_GRACE", DEFAULT_GRACE))
    if grace < 0:
        raise SystemExit("segmux: the shutdown grace must be ≥ 0 seconds")
    return grace


async def _prepare(settings: Settings) -> str | None:
    """Migrate once before workers start, seed ``SEGMUX_ADMIN_TOKEN``, and on an empty store
    without it create a first admin token (returned to be printed once)."""
    store = await _with_store(settings)
    try:
        tokens = TokenService(store)
        if settings.admin_token:
            await tokens.ensure(
                tenant="default", scope="admin", name="SEGMUX_ADMIN_TOKEN",
                token=settings.admin_token,
            )
            return None
        if await store.count_tokens() == 0:
            token, _ = await tokens.create(tenant="default", scope="admin", name="first-admin")
            return token
        return None
    finally:
        await store.close()


def _banner(settings: Settings, host: str, port: int, first_token: str | None) -> None:
    base = f"http://{host}:{port}"
    lines = [f"segmux on {base}  (store: {settings.database_url})"]
    if first_token:
        lines += [
            "",
            "First admin token of tenant 'default' (shown once; only its hash is stored):",
            f"  {first_token}",
            "",
            f"  export TOKEN={first_token}",
        ]
    else:
        lines += [
            "",
            "Get a token:  export TOKEN=$(.venv/bin/segmux tokens create "
            "--tenant default --scope admin --name me)",
        ]
    lines += [
        f'Try it:       curl -H "Authorization: Bearer $TOKEN" {base}/v2.3/data/segments',
        f"Specs:        {base}/segmux/openapi/v23.json   Health: {base}/healthz",
        "",
    ]
    print("\n".join(lines), file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
