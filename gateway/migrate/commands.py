"""The CLI wiring of ``segmux migrate``, ``segmux export`` and ``segmux import``."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Iterable
from typing import Any

import msgspec

from core.errors import NotFound
from core.store import open_store
from gateway.migrate.endpoint import Endpoint, MigrateError, dialects, parse_endpoint
from gateway.migrate.ndjson import LEFT_OUT, BackupError, ImportResult, export, import_lines
from gateway.migrate.run import migrate
from gateway.settings import Settings

ENDPOINTS_MARK = "<the registered dialects>"


class _MigrateHelp(argparse.HelpFormatter):
    """Names the dialects migrate takes (``endpoint.dialects``) when the help is printed, so
    the registry is not imported by every command at start-up."""

    def add_text(self, text: str | None) -> None:
        if text is not None and ENDPOINTS_MARK in text:
            text = text.replace(ENDPOINTS_MARK, ", ".join(dialects()))
        super().add_text(text)


def add_commands(sub: Any) -> None:
    m = sub.add_parser(
        "migrate",
        help="copy segments from one vendor API to another",
        description="Read every segment through SOURCE's API, translate each condition exactly "
        "(or report it not expressible), create it through TARGET's API. Segments whose name "
        "is already on the target are skipped. SOURCE/TARGET: <dialect>+<base URL>, dialect "
        f"one of {ENDPOINTS_MARK}.",
        formatter_class=_MigrateHelp,
    )
    m.add_argument("source", metavar="SOURCE")
    m.add_argument("target", metavar="TARGET")
    m.add_argument("--dry-run", action="store_true", help="print the plan, write nothing")
    m.add_argument("--json", action="store_true", help="print the report as JSON")
    for side in ("source", "target"):
        m.add_argument(
            f"--{side}-token", help=f"API token (default: env SEGMUX_{side.upper()}_TOKEN)"
        )
        m.add_argument(
            f"--{side}-ims-org",
            default="default@AdobeOrg",
            help="adobe: x-gw-ims-org-id (default %(default)s)",
        )
        m.add_argument(
            f"--{side}-api-key",
            default="segmux-migrate",
            help="adobe: x-api-key, the client id (default %(default)s)",
        )
        m.add_argument(
            f"--{side}-sandbox", default="prod", help="adobe: x-sandbox-name (default %(default)s)"
        )
        m.add_argument(
            f"--{side}-project", default="prod", help="hal: the project id (default %(default)s)"
        )
    m.set_defaults(run=_migrate)

    e = sub.add_parser(
        "export",
        help="back up a tenant as NDJSON (everything but tokens and client secrets)",
        description="Write one tenant of the store (SEGMUX_DATABASE_URL) as NDJSON: settings, "
        "projects, environments, segments with their exact buckets, individuals, static "
        "memberships, flags and rules, Confidence clients and flags. Tokens, OAuth client "
        "secrets and Confidence client credentials are not exported.",
    )
    e.add_argument("--tenant", default="default", help="the tenant (default %(default)s)")
    e.add_argument("--out", help="file to write (default: stdout)")
    e.set_defaults(run=_export)

    i = sub.add_parser(
        "import",
        help="restore a backup made by export; what is already there is skipped",
        description="Put every record of a backup back into a tenant exactly as it was. "
        "Nothing is overwritten: a record whose id is already in the store is skipped, and "
        "each skip is reported. Exit status 1 when any record failed.",
    )
    i.add_argument("file", metavar="FILE", help="NDJSON file ('-' for stdin)")
    i.add_argument("--tenant", default="default", help="the tenant (default %(default)s)")
    i.set_defaults(run=_import)


def _endpoint(args: argparse.Namespace, side: str) -> Endpoint:
    dialect, url = parse_endpoint(getattr(args, side))
    token = getattr(args, f"{side}_token") or os.environ.get(f"SEGMUX_{side.upper()}_TOKEN")
    if not token:
        raise MigrateError(f"no {side} token: give --{side}-token or SEGMUX_{side.upper()}_TOKEN")
    return Endpoint(
        dialect=dialect,
        base_url=url,
        token=token,
        ims_org=getattr(args, f"{side}_ims_org"),
        api_key=getattr(args, f"{side}_api_key"),
        sandbox=getattr(args, f"{side}_sandbox"),
        project=getattr(args, f"{side}_project"),
    )


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    try:
        report = migrate(_endpoint(args, "source"), _endpoint(args, "target"), dry_run=args.dry_run)
    except MigrateError as exc:
        print(f"segmux migrate: {exc}", file=sys.stderr)
        return 2
    if args.json:
        report.write_json(sys.stdout)
    else:
        report.write_text(sys.stdout)
    return 0 if report.ok else 1


def _export(args: argparse.Namespace, settings: Settings) -> int:
    async def run() -> dict[str, int]:
        store = await open_store(settings.database_url)
        try:
            await store.get_tenant(args.tenant)  # before --out is created or truncated
            if args.out is None:
                return await export(store, args.tenant, sys.stdout)
            # A CLI process: nothing else runs on its event loop for a blocking open to stall.
            with open(args.out, "w", encoding="utf-8") as out:  # noqa: ASYNC230
                return await export(store, args.tenant, out)
        finally:
            await store.close()

    try:
        counts = asyncio.run(run())
    except NotFound:
        print(
            f"segmux: no tenant {args.tenant!r} in the store (check --tenant and "
            "SEGMUX_DATABASE_URL)",
            file=sys.stderr,
        )
        return 2
    left_out = counts.pop(LEFT_OUT, 0)
    held = ", ".join(f"{n} {kind}s" for kind, n in counts.items() if kind != "tenant")
    print(f"exported tenant {args.tenant!r}: {held}", file=sys.stderr)
    if left_out:
        print(
            f"left out: {left_out} Confidence client credentials (their secrets are never "
            "exported; create new ones after an import)",
            file=sys.stderr,
        )
    return 0


def _import(args: argparse.Namespace, settings: Settings) -> int:
    async def run(lines: Iterable[str]) -> ImportResult:
        store = await open_store(settings.database_url)
        try:
            return await import_lines(store, args.tenant, lines)
        finally:
            await store.close()

    lines = _backup_lines(args.file)
    if isinstance(lines, str):
        print(f"segmux: {lines}", file=sys.stderr)
        return 2
    try:
        result = asyncio.run(run(lines))
    except BackupError as exc:
        print(f"segmux: {args.file}: {exc}", file=sys.stderr)
        return 2
    result.write_text(sys.stderr)
    return 0 if result.ok else 1


def _backup_lines(path: str) -> list[str] | str:
    """The file's lines, or what is wrong with it (one line, with how to fix it) when it is
    missing, unreadable or not NDJSON: then nothing is imported, rather than part of it."""
    try:
        if path == "-":
            lines = sys.stdin.read().splitlines()
        else:
            with open(path, encoding="utf-8") as f:
                lines = f.read().splitlines()
    except FileNotFoundError:
        return f"no file {path!r} (give the path of a file segmux export wrote)"
    except IsADirectoryError:
        return f"{path!r} is a directory (give the path of a file segmux export wrote)"
    except PermissionError:
        return f"cannot read {path!r}: permission denied (check the file's permissions)"
    except UnicodeDecodeError as exc:
        return (
            f"{path} is not UTF-8 text (byte {exc.start}): not a backup (give a file "
            "segmux export wrote)"
        )
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            msgspec.json.decode(line)
        except msgspec.DecodeError as exc:
            return (
                f"{path}: line {number} is not JSON ({exc}): not NDJSON (give a file "
                "segmux export wrote)"
            )
    return lines
