"""``segmux``: serve, db upgrade, tokens create|list|revoke, tenants set, migrate, export, import.

A mistake is one line on standard error, ``segmux: <what is wrong> (<how to fix it>)``, and exit
status 2: a bad flag or variable, a store that cannot be opened, a file that is not an export.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import msgspec

from core.errors import CoreError, NotFound
from core.store import Store
from core.store.migrations import SchemaStatus, SchemaTooNew
from core.tokens import IMS_ORG_SETTING, TokenService
from gateway import version as build
from gateway.serve import DEFAULT_GRACE
from gateway.serve import serve as serve_command
from gateway.settings import SettingError, Settings, database_url, port, seconds, workers
from gateway.stores import StoreError, checked, describe, open_checked, too_new

Command = Callable[[argparse.Namespace, Settings], int]

EPILOG = """\
commands:
  segmux serve                 run the gateway (creates the store if it does not exist)
  segmux db status             the store's schema version and its pending migrations
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
  SEGMUX_METRICS       who may read /metrics: public | off | a secret of 32+ characters
                       sent as a Bearer token (default public; docs/metrics.md)
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
    parser.add_argument(
        "--version",
        action="version",
        version=build.describe(),
        help="print the version, the commit when run from a checkout, and Python's version",
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
        type=_flag(seconds, "--grace"),
        metavar="SECONDS",
        help="on SIGTERM, how long in-flight requests may take to finish before they are cut "
        f"(env SEGMUX_SHUTDOWN_GRACE; default {DEFAULT_GRACE:g})",
    )
    serve.set_defaults(run=serve_command, prog="segmux serve")

    db = sub.add_parser("db", help="database maintenance: db status | upgrade")
    db_sub = db.add_subparsers(required=True, metavar="ACTION")
    db_sub.add_parser(
        "status",
        help="the store's schema version, this segmux's, and the pending migrations; exit "
        "status 0 when up to date, 1 when migrations are pending, 2 for a store a later "
        "segmux upgraded",
    ).set_defaults(run=_db_status, prog="segmux db status")
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


# --- the store ---------------------------------------------------------------------------------


async def _open(settings: Settings, *, create: bool = False) -> Store:
    return await open_checked(settings.database_url, create=create)


def _store_line(settings: Settings) -> str:
    return f"store {describe(settings.database_url)}"


def _db_status(args: argparse.Namespace, settings: Settings) -> int:
    async def run() -> SchemaStatus:
        store = await open_checked(settings.database_url, create=False, migrate=False)
        try:
            async with checked(settings.database_url):
                return await store.schema_status()
        finally:
            await store.close()

    status = asyncio.run(run())
    print(f"version: {status.version or 'none (an empty store)'}")
    print(f"segmux: {status.current}")
    print(f"pending: {' '.join(status.pending) or 'none'}")
    print(_store_line(settings), file=sys.stderr)
    if status.unknown:
        print(f"newer: {' '.join(status.unknown)}")
        return _fail(str(too_new(settings.database_url, SchemaTooNew(status))))
    return 1 if status.pending else 0


def _db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    async def run() -> list[str]:
        # Under the store's lock: another process upgrading at the same time waits, then finds
        # nothing left to apply.
        store = await open_checked(settings.database_url, create=True, migrate=False)
        try:
            async with checked(settings.database_url):
                return await store.migrate()
        finally:
            await store.close()

    applied = asyncio.run(run())
    done = f"applied {', '.join(applied)}" if applied else "nothing to apply"
    print(f"database is up to date ({done}): {_store_line(settings)}", file=sys.stderr)
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


if __name__ == "__main__":
    sys.exit(main())
