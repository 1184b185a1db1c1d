"""Which store a command uses, said plainly: the database URL with its password masked, and
opening it with one line saying what is wrong and how to fix it when it cannot be opened."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from core.store import Store, open_store
from core.store.migrations import SchemaTooNew


class StoreError(Exception):
    """A store that cannot be used: ``what`` is wrong, ``fix`` says what to do about it."""

    def __init__(self, what: str, fix: str) -> None:
        super().__init__(f"{what} ({fix})")
        self.what = what
        self.fix = fix


def sqlite_path(url: str) -> str | None:
    """The file of a ``sqlite://`` URL (as ``core.store.open_store`` reads it); None for
    PostgreSQL and for ``:memory:``."""
    if urlsplit(url).scheme != "sqlite":
        return None
    path = url.split("sqlite://", 1)[1]
    path = path[1:] if path.startswith("/") else path
    return None if path in ("", ":memory:") else path


def describe(url: str) -> str:
    """The URL as a user may see it: the password masked (in the authority and in a
    ``password=`` query parameter); a relative SQLite path followed by the file it means here."""
    path = sqlite_path(url)
    if path is not None:
        absolute = os.path.abspath(path)
        return url if path == absolute else f"{url} ({absolute})"
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        userinfo, _, hostport = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:***@{hostport}"
    query = parts.query
    if query:
        pairs = [(k, "***" if k.lower() == "password" else v) for k, v in parse_qsl(query)]
        query = urlencode(pairs, safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


async def open_checked(url: str, *, create: bool, migrate: bool = True) -> Store:
    """Open (and migrate, unless ``migrate`` is false) the store at ``url``, or raise
    :class:`StoreError`; a store a later segmux upgraded is one.

    ``create``: whether a missing SQLite file may be created. Only ``serve`` and ``db upgrade``
    create one; any other command run from the wrong directory would otherwise make a new,
    empty store there (and a token in it that the running server has never seen)."""
    path = sqlite_path(url)
    if path is not None:
        _check_sqlite_file(url, path, create=create)
    async with checked(url):
        return await open_store(url, migrate=migrate)


@asynccontextmanager
async def checked(url: str) -> AsyncIterator[None]:
    """What goes wrong with the store at ``url`` inside the block, as a :class:`StoreError`:
    opening it, and the upgrade or status read of a store opened without migrating."""
    path = sqlite_path(url)
    try:
        yield
    except SchemaTooNew as exc:
        raise too_new(url, exc) from None
    except sqlite3.Error as exc:
        raise _sqlite_error(path or url, exc) from None
    except Exception as exc:
        if path is not None:
            raise
        mapped = _postgres_error(url, exc)
        if mapped is None:
            raise
        raise mapped from None


def too_new(url: str, exc: SchemaTooNew) -> StoreError:
    return StoreError(
        f"the store {describe(url)} has {exc.message}: a later segmux upgraded it",
        "run that segmux or a later one, or restore the backup taken before the upgrade",
    )


def _check_sqlite_file(url: str, path: str, *, create: bool) -> None:
    absolute = os.path.abspath(path)
    directory = os.path.dirname(absolute)
    if os.path.isdir(absolute):
        raise StoreError(
            f"the SQLite path {absolute} is a directory",
            "name a file in SEGMUX_DATABASE_URL, e.g. sqlite:///./segmux.db",
        )
    if os.path.exists(absolute):
        if not os.access(absolute, os.R_OK | os.W_OK):
            raise StoreError(
                f"cannot write the SQLite file {absolute}",
                "give this user read and write permission on it",
            )
        return
    if not os.path.isdir(directory):
        raise StoreError(
            f"the directory of the SQLite file {absolute} does not exist",
            f"create it with mkdir -p {directory}, or set SEGMUX_DATABASE_URL",
        )
    if not create:
        raise StoreError(
            f"no store at {absolute}",
            "run this where segmux serve runs, or set SEGMUX_DATABASE_URL or --database-url to "
            "its store; segmux db upgrade creates a new one",
        )
    if not os.access(directory, os.W_OK | os.X_OK):
        raise StoreError(
            f"cannot create the SQLite file {absolute}: its directory is not writable",
            "give this user write permission on it, or choose another path in SEGMUX_DATABASE_URL",
        )


def _sqlite_error(path: str, exc: sqlite3.Error) -> StoreError:
    absolute = os.path.abspath(path)
    text = str(exc)
    if "not a database" in text:
        return StoreError(
            f"{absolute} is not a SQLite database", "point SEGMUX_DATABASE_URL at segmux's store"
        )
    if "readonly" in text or "unable to open" in text:
        return StoreError(
            f"cannot write the SQLite file {absolute}",
            "check its permissions and its directory's, or choose another path "
            "in SEGMUX_DATABASE_URL",
        )
    return StoreError(
        f"cannot use the SQLite file {absolute}: {text}",
        "check the file, or choose another path in SEGMUX_DATABASE_URL",
    )


def _postgres_error(url: str, exc: BaseException) -> StoreError | None:
    """A connection failure of asyncpg (raised plainly, or inside the core's ``Unavailable``)
    as a :class:`StoreError`; None for anything else."""
    import asyncpg

    cause: BaseException | None = exc
    while cause is not None and not isinstance(
        cause, (asyncpg.PostgresError, OSError, TimeoutError)
    ):
        cause = cause.__cause__
    if cause is None:
        return None
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    port = parts.port or 5432
    user = unquote(parts.username) if parts.username else os.environ.get("PGUSER", "")
    database = unquote(parts.path.lstrip("/")) or user
    where = f"{host}:{port}"
    if isinstance(cause, asyncpg.InvalidCatalogNameError):
        user_flag = f" -U {user}" if user else ""
        return StoreError(
            f"PostgreSQL database {database!r} does not exist on {where}",
            f"create it: createdb -h {host} -p {port}{user_flag} {database}",
        )
    if isinstance(cause, asyncpg.InvalidPasswordError):
        return StoreError(
            f"PostgreSQL on {where} refused the password of role {user!r}",
            "fix the password in SEGMUX_DATABASE_URL",
        )
    if isinstance(cause, asyncpg.InvalidAuthorizationSpecificationError):
        if "does not exist" in str(cause):
            return StoreError(
                f"PostgreSQL role {user!r} does not exist on {where}",
                f"create it: createuser -h {host} -p {port} {user}, or fix the "
                "user in SEGMUX_DATABASE_URL",
            )
        return StoreError(
            f"PostgreSQL on {where} refused the connection: {cause}",
            "check the user and pg_hba.conf",
        )
    if isinstance(cause, (OSError, TimeoutError)):
        reason = getattr(cause, "strerror", None) or type(cause).__name__
        return StoreError(
            f"cannot reach PostgreSQL at {where}: {reason}",
            "is the server running? check host and port in SEGMUX_DATABASE_URL",
        )
    if isinstance(cause, asyncpg.PostgresError):
        return StoreError(f"PostgreSQL on {where}: {cause}", "check SEGMUX_DATABASE_URL")
    return None
