"""``segmux``: serve, db upgrade, tokens create|list|revoke, tenants set, migrate, export, import.

A mistake is one line on standard error, ``segmux: <what is wrong> (<how to fix it>)``, and exit
status 2: a bad flag or variable, a store that cannot be opened, a file that is not an export.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import msgspec

from core.errors import CoreError, NotFound
from core.store import Store
from core.tokens import IMS_ORG_SETTING, TokenService
from gateway.settings import SettingError, Settings, database_url, port, workers
from gateway.stores import StoreError, describe, open_checked

DEFAULT_GRACE = 10.0
"""Seconds of ``--grace`` / ``SEGMUX_SHUTDOWN_GRACE`` when neither is given."""

Command = Callable[[argparse.Namespace, Settings], int]

EPILOG = """\
commands:
  segmux serve                 run the gateway (creates the store if it does not exist)
  segmux db upgrade            create the store or apply pending migrations
  segmux tokens create         create an API token (stdout: only the token)
  segmux tokens list           list tokens, never their secrets
  segmux tokens revoke ID      delete a token
  segmux tenants set           change a tenant's settings (IMS org, Confidence account)
  segmux migrate SOURCE TARGET copy segments between vendor APIs
  segmux export                write a tenant's data as NDJSON
  segmux import FILE           add data from an export

the store: --database-url or SEGMUX_DATABASE_URL (default sqlite:///./segmux.db, a path
relative to the current directory). Only serve, db upgrade and import create a missing SQLite
file; every other command refuses one that does not exist, so that run from another directory
it does not quietly use a new, empty store. Commands that write say which store on stderr.

Every bad input is one line on stderr, "segmux: <what is wrong> (<how to fix it>)", exit 2.
"""


SERVE_EPILOG = """\
environment (also read by every worker):
  SEGMUX_DATABASE_URL  the store (default sqlite:///./segmux.db)
  SEGMUX_LOG_LEVEL     debug | info | warning | error | critical (default info)
  SEGMUX_LOG_FORMAT    json: every line one JSON object with timestamp, level, logger, event;
                       console: lines for humans (default json)
  SEGMUX_ADMIN_TOKEN   seeds this admin token of tenant default, at least 32 characters
                       (default none: an empty store prints a first token once)
  SEGMUX_BODY_LIMIT    largest request body in bytes (default 1048576)
  SEGMUX_TRUST_PROXY   1: HAL links follow X-Forwarded-Proto and -Host (default off)
  SEGMUX_SEGMENT_LIMIT segments per tenant the Unleash API lets one create (default 300)
  SEGMUX_FRESHNESS     notify | strict: how caches learn of other processes' writes
                       (default notify)
"""


class Refusal(Exception):
    """A command refused its input: ``what`` is wrong, ``fix`` says what to do."""

    def __init__(self, what: str, fix: str) -> None:
        super().__init__(f"{what} ({fix})")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        if getattr(args, "database_url", None):
            settings = _with(
                settings, database_url=database_url(args.database_url, "--database-url")
            )
        result: int = args.run(args, settings)
    except (SettingError, StoreError, Refusal) as exc:
        return _fail(str(exc))
    except CoreError as exc:
        return _fail(f"{exc.message} (see: {args.prog} --help)")
    return result


def _fail(line: str) -> int:
    print(f"segmux: {line}", file=sys.stderr)
    return 2


def _with(settings: Settings, **changes: object) -> Settings:
    return msgspec.structs.replace(settings, **changes)


class Parser(argparse.ArgumentParser):
    """argparse's mistakes as one line (its own are a usage block, then the error)."""

    def error(self, message: str) -> NoReturn:
        # "argument --port: --port must be …": the flag is named once is enough.
        if message.startswith("argument "):
            flag, _, rest = message[len("argument ") :].partition(": ")
            if flag.split("/")[0] in rest:
                message = rest
        if not message.endswith(")"):
            message += f" (see: {self.prog} --help)"
        print(f"segmux: {message}", file=sys.stderr)
        sys.exit(2)


def _flag(check: Callable[[str, str], Any], flag: str) -> Callable[[str], Any]:
    """An argparse ``type`` checking a flag with the same rule as its variable."""

    def convert(value: str) -> Any:
        try:
            return check(value, flag)
        except SettingError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = flag
    return convert


def _parser() -> Parser:
    d = Settings()
    parser = Parser(
        prog="segmux",
        description="One store of audience segments, served through "
        "five vendors' segment APIs and its own.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help=f"the store: sqlite:///path.db or postgresql://user@host:5432/db "
        f"(env SEGMUX_DATABASE_URL; default {d.database_url})",
    )
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = sub.add_parser(
        "serve",
        help="run the gateway",
        epilog=SERVE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--host", help=f"address to listen on (env SEGMUX_HOST; default {d.host})")
    serve.add_argument(
        "--port",
        type=_flag(port, "--port"),
        help=f"TCP port, 1-65535 (env SEGMUX_PORT; default {d.port})",
    )
    serve.add_argument(
        "--workers",
        type=_flag(workers, "--workers"),
        help=f"processes serving the port, at least 1 (env SEGMUX_WORKERS; default {d.workers})",
    )
    serve.add_argument(
        "--grace",
        type=_flag(_seconds, "--grace"),
        metavar="SECONDS",
        help="on SIGTERM, how long in-flight requests may take to finish before they are cut "
        f"(env SEGMUX_SHUTDOWN_GRACE; default {DEFAULT_GRACE:g})",
    )
    serve.set_defaults(run=_serve, prog="segmux serve")

    db = sub.add_parser("db", help="database maintenance: db upgrade")
    db_sub = db.add_subparsers(required=True, metavar="ACTION")
    db_sub.add_parser(
        "upgrade",
        help="create the store or apply pending migrations",
    ).set_defaults(run=_db_upgrade, prog="segmux db upgrade")

    tokens = sub.add_parser("tokens", help="API tokens: tokens create | list | revoke")
    tok_sub = tokens.add_subparsers(required=True, metavar="ACTION")
    create = tok_sub.add_parser(
        "create", help="create a token; stdout: only the token (stderr: which store)"
    )
    create.add_argument("--tenant", required=True, help="the tenant (created with its first token)")
    create.add_argument(
        "--scope",
        required=True,
        help="admin | client:<environment> (server SDKs) | frontend:<environment> (browser and "
        "mobile SDKs: the Unleash frontend API only) | ofrep:<environment> (OpenFeature "
        "providers: the OFREP API only)",
    )
    create.add_argument("--name", required=True, help="what the token is for")
    create.add_argument(
        "--client-id",
        help="also register an OAuth client (Adobe IMS: x-api-key); prints the token, then the "
        "client secret, one per line (default: none)",
    )
    create.set_defaults(run=_tokens_create, prog="segmux tokens create")
    listing = tok_sub.add_parser("list", help="list tokens (never their secrets), with a header")
    listing.add_argument("--tenant", help="only this tenant's (default: every tenant's)")
    listing.set_defaults(run=_tokens_list, prog="segmux tokens list")
    revoke = tok_sub.add_parser("revoke", help="delete a token by its id (see tokens list)")
    revoke.add_argument("id", metavar="ID")
    revoke.set_defaults(run=_tokens_revoke, prog="segmux tokens revoke")

    tenants = sub.add_parser("tenants", help="tenant settings: tenants set")
    ten_sub = tenants.add_subparsers(required=True, metavar="ACTION")
    tenant_set = ten_sub.add_parser("set", help="change a tenant's settings (give at least one)")
    tenant_set.add_argument("--tenant", required=True, help="the tenant (required)")
    tenant_set.add_argument(
        "--ims-org", help="the Adobe IMS org id, <id>@AdobeOrg (default <tenant>@AdobeOrg)"
    )
    tenant_set.add_argument(
        "--confidence-account",
        metavar="ACCOUNT",
        help="the Confidence account whose salt buckets units, as in "
        "accounts/<ACCOUNT> (default: the tenant's name)",
    )
    tenant_set.set_defaults(run=_tenants_set, prog="segmux tenants set")

    from gateway.migrate.commands import add_commands  # migrate, export, import

    add_commands(sub)
    _guard(sub, "export", _checked_export)
    _guard(sub, "import", _checked_import)
    for name in ("migrate", "export", "import"):
        sub.choices[name].set_defaults(prog=f"segmux {name}")
    _name_defaults(parser)
    return parser


def _parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """``parser`` and every parser of its commands, depth first."""
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                found += _parsers(child)
    return found


def _name_defaults(parser: argparse.ArgumentParser) -> None:
    """Every option's help says its default: options added without one get it here."""
    for each in _parsers(parser):
        for action in each._actions:
            if not action.option_strings or action.nargs == 0 or action.required:
                continue  # positional, a switch (--json, --help), or required
            if action.help is None:
                action.help = f"the {action.dest.replace('_', ' ')}"
            if "default" not in action.help:
                default = "none" if action.default is None else action.default
                action.help = f"{action.help} (default {default})".lstrip()


def _guard(sub: Any, name: str, check: Callable[[argparse.Namespace, Settings], None]) -> None:
    """Run ``check`` (which raises :class:`Refusal` or ``StoreError``) before ``name``'s own
    command: its arguments are checked here, its content where it is written."""
    command: Command = sub.choices[name].get_default("run")

    def run(args: argparse.Namespace, settings: Settings) -> int:
        check(args, settings)
        return command(args, settings)

    sub.choices[name].set_defaults(run=run)


def _seconds(value: str, source: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:  # also NaN
        raise SettingError(
            f"{source} must be a number of seconds ≥ 0, not {value!r}",
            f"set {source} to such a number",
        )
    return seconds


# --- the store ---------------------------------------------------------------------------------


async def _open(settings: Settings, *, create: bool = False) -> Store:
    return await open_checked(settings.database_url, create=create)


def _store_line(settings: Settings) -> str:
    return f"store {describe(settings.database_url)}"


def _db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    async def run() -> None:
        store = await _open(settings, create=True)  # opening applies pending migrations
        await store.close()

    asyncio.run(run())
    print(f"database is up to date: {_store_line(settings)}", file=sys.stderr)
    return 0


# --- tokens and tenants ------------------------------------------------------------------------


def _tokens_create(args: argparse.Namespace, settings: Settings) -> int:
    async def run() -> tuple[str, str]:
        store = await _open(settings)
        try:
            if args.client_id is not None:
                token, secret, info = await TokenService(store).create_client(
                    tenant=args.tenant,
                    scope=args.scope,
                    name=args.name,
                    client_id=args.client_id,
                )
                return f"{token}\n{secret}", info.id
            token, info = await TokenService(store).create(
                tenant=args.tenant, scope=args.scope, name=args.name
            )
        finally:
            await store.close()
        return token, info.id

    printed, token_id = asyncio.run(run())
    print(
        f"created token {token_id} of tenant {args.tenant!r} ({args.scope}) in "
        f"{_store_line(settings)}",
        file=sys.stderr,
    )
    print(printed)
    return 0


def _tokens_list(args: argparse.Namespace, settings: Settings) -> int:
    async def run() -> None:
        store = await _open(settings)
        try:
            infos = await store.list_tokens(args.tenant)
        finally:
            await store.close()
        print("ID\tTENANT\tSCOPE\tNAME\tCLIENT_ID")
        for info in infos:
            print(f"{info.id}\t{info.tenant}\t{info.scope}\t{info.name}\t{info.client_id or '-'}")

    asyncio.run(run())
    return 0


def _tokens_revoke(args: argparse.Namespace, settings: Settings) -> int:
    async def run() -> str:
        store = await _open(settings)
        try:
            found = [t for t in await store.list_tokens() if t.id == args.id]
            if not found:
                raise Refusal(
                    f"no token with id {args.id!r} in {_store_line(settings)}",
                    "segmux tokens list shows the ids",
                )
            await store.revoke_token(args.id)
        finally:
            await store.close()
        t = found[0]
        return f"revoked token {t.id} of tenant {t.tenant!r} ({t.scope}, name {t.name!r})"

    print(asyncio.run(run()))
    print(_store_line(settings), file=sys.stderr)
    return 0


def _tenants_set(args: argparse.Namespace, settings: Settings) -> int:
    from core.allocation import ACCOUNT_SETTING, account_id
    from core.lifecycle import LifecycleService
    from core.service import SegmentService
    from core.tokens import ims_org_id

    if args.ims_org is None and args.confidence_account is None:
        raise Refusal(
            "tenants set needs a setting to change", "give --ims-org and/or --confidence-account"
        )

    async def run() -> str:
        store = await _open(settings)
        try:
            await _tenant(store, args.tenant, settings)
            if args.ims_org is not None:
                await TokenService(store).set_ims_org(args.tenant, args.ims_org)
            if args.confidence_account is not None:
                await LifecycleService(store, SegmentService(store)).set_account(
                    args.tenant, args.confidence_account
                )
            tenant = await store.get_tenant(args.tenant)
        finally:
            await store.close()
        return (
            f"tenant {tenant.name!r}: {IMS_ORG_SETTING} {ims_org_id(tenant)}, "
            f"{ACCOUNT_SETTING} {account_id(tenant.name, tenant.settings)}"
        )

    print(asyncio.run(run()))
    print(_store_line(settings), file=sys.stderr)
    return 0


async def _tenant(store: Store, name: str, settings: Settings) -> None:
    try:
        await store.get_tenant(name)
    except NotFound:
        raise Refusal(
            f"no tenant {name!r} in {_store_line(settings)}",
            f"a tenant comes with its first token: segmux tokens create --tenant "
            f"{name} ...; segmux tokens list shows the tenants there",
        ) from None


# --- export and import: their arguments, before their own commands -----------------------------


def _checked_export(args: argparse.Namespace, settings: Settings) -> None:
    tenant: str | None = getattr(args, "tenant", None)

    async def run() -> None:
        store = await _open(settings)
        try:
            if tenant is not None:
                await _tenant(store, tenant, settings)
        finally:
            await store.close()

    asyncio.run(run())
    out = getattr(args, "out", None)
    if out is not None and not os.path.isdir(os.path.dirname(os.path.abspath(out))):
        raise Refusal(
            f"the directory of --out {out} does not exist",
            "create it, or write to standard output without --out",
        )


def _checked_import(args: argparse.Namespace, settings: Settings) -> None:
    path: str = args.file
    if path != "-":
        _check_ndjson(path)

    async def run() -> None:
        store = await _open(settings, create=True)
        await store.close()

    asyncio.run(run())


def _check_ndjson(path: str) -> None:
    """``path`` is a file whose first non-blank line is a JSON object, or :class:`Refusal`
    naming the line. A file that starts otherwise (a CSV, a JSON document over many lines, an
    array) is no export and nothing of it is imported; a bad line further on is import's to
    report with its number, and the other lines are imported."""
    if not os.path.exists(path):
        raise Refusal(f"no file {path}", "give the path of a file segmux export wrote")
    if os.path.isdir(path):
        raise Refusal(f"{path} is a directory", "give the path of a file segmux export wrote")
    fix = "import reads what segmux export writes: one JSON object per line"
    try:
        with open(path, "rb") as lines:
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    value = msgspec.json.decode(line)
                except msgspec.DecodeError as exc:
                    raise Refusal(f"{path} line {number} is not JSON: {exc}", fix) from None
                if not isinstance(value, dict):
                    raise Refusal(f"{path} line {number} is not a JSON object", fix)
                return
    except OSError as exc:
        raise Refusal(f"cannot read {path}: {exc.strerror}", "check its permissions") from None


# --- serve -------------------------------------------------------------------------------------


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from gateway.logging import configure, serving_log_config

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
    return 0


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
        raise Refusal(
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
                raise Refusal(
                    f"port {port_} on {host} is in use",
                    f"stop what listens there, or choose another port with {port_from}",
                ) from None
            raise Refusal(
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
    return DEFAULT_GRACE if value is None else _seconds(value, "SEGMUX_SHUTDOWN_GRACE")


async def _prepare(settings: Settings) -> str | None:
    """Migrate once before workers start, seed ``SEGMUX_ADMIN_TOKEN``, and on an empty store
    without it create a first admin token (returned to be printed once) — only for a person at a
    terminal (``SEGMUX_LOG_FORMAT=console``): JSON lines go to log collectors, and a token must
    never be logged, so there the banner says how to create one instead."""
    store = await _open(settings, create=True)
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


if __name__ == "__main__":
    sys.exit(main())
