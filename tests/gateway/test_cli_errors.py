"""Every bad input to ``segmux`` is one line on stderr, ``segmux: <what is wrong> (<how to fix
it>)``, exit status 2, and no traceback: each case is a real ``segmux`` process."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests import pg
from tests.live import free_port

SEGMUX = [sys.executable, "-m", "gateway.cli"]
UNPRIVILEGED = [
    "setpriv",
    "--bounding-set=-dac_override,-dac_read_search",
    "--inh-caps=-dac_override,-dac_read_search",
]
"""Root without the capabilities that let it write whatever the permissions say: the
permission cases need a refusal that root would not get."""


@dataclass
class World:
    """What the cases need: a scratch directory any user can read, and PostgreSQL URLs."""

    scratch: Path
    busy_port: int = 0
    """A port something else listens on."""
    urls: dict[str, str] = field(default_factory=dict)

    def pg(self, name: str) -> str:
        if name not in self.urls:
            self.urls[name] = _PG_URLS[name](self)
        return self.urls[name]


@dataclass
class Case:
    args: list[str]
    line: Callable[[World], str]
    """The whole expected line (without ``segmux: `` and the newline)."""
    env: Callable[[World], dict[str, str]] = lambda w: {}
    unprivileged: bool = False
    """Run without root's power to override permissions (see ``UNPRIVILEGED``)."""


def sqlite(w: World, rel: str) -> dict[str, str]:
    return {"SEGMUX_DATABASE_URL": f"sqlite:///{w.scratch}/{rel}"}


def store(w: World) -> dict[str, str]:
    return sqlite(w, "ok/segmux.db")


def pg_env(name: str) -> Callable[[World], dict[str, str]]:
    return lambda w: {"SEGMUX_DATABASE_URL": w.pg(name)}


def where(w: World, name: str) -> str:
    parts = urlsplit(w.pg(name))
    return f"{parts.hostname}:{parts.port}"


def flags(w: World, name: str) -> str:
    parts = urlsplit(w.pg(name))
    return f"-h {parts.hostname} -p {parts.port}"


FIX_PORT = "set {0} to such a number"
FIX_NDJSON = "import reads what segmux export writes: one JSON object per line"

CASES: dict[str, Case] = {
    "sqlite directory missing": Case(
        ["serve"],
        env=lambda w: sqlite(w, "missing/segmux.db"),
        line=lambda w: (
            f"the directory of the SQLite file {w.scratch}/missing/segmux.db does not "
            f"exist (create it with mkdir -p {w.scratch}/missing, or set SEGMUX_DATABASE_URL)"
        ),
    ),
    "sqlite directory unwritable": Case(
        ["db", "upgrade"],
        env=lambda w: sqlite(w, "readonly/segmux.db"),
        unprivileged=True,
        line=lambda w: (
            f"cannot create the SQLite file {w.scratch}/readonly/segmux.db: its "
            "directory is not writable (give this user write permission on it, or choose another "
            "path in SEGMUX_DATABASE_URL)"
        ),
    ),
    "sqlite file unwritable": Case(
        ["tokens", "list"],
        env=lambda w: sqlite(w, "ok/readonly.db"),
        unprivileged=True,
        line=lambda w: (
            f"cannot write the SQLite file {w.scratch}/ok/readonly.db (give this user "
            "read and write permission on it)"
        ),
    ),
    "sqlite store missing for a command that does not create one": Case(
        ["tokens", "create", "--tenant", "t", "--scope", "admin", "--name", "n"],
        env=lambda w: sqlite(w, "ok/elsewhere.db"),
        line=lambda w: (
            f"no store at {w.scratch}/ok/elsewhere.db (run this where segmux serve "
            "runs, or set SEGMUX_DATABASE_URL or --database-url to its store; segmux db upgrade "
            "creates a new one)"
        ),
    ),
    "postgres unreachable": Case(
        ["tokens", "list"],
        env=pg_env("unreachable"),
        line=lambda w: (
            f"cannot reach PostgreSQL at {where(w, 'unreachable')}: Connect call "
            f"failed ('127.0.0.1', {urlsplit(w.pg('unreachable')).port}) (is the server running? "
            "check host and port in SEGMUX_DATABASE_URL)"
        ),
    ),
    "postgres database missing": Case(
        ["serve"],
        env=pg_env("no database"),
        line=lambda w: (
            f"PostgreSQL database 'segmux_absent' does not exist on "
            f"{where(w, 'no database')} (create it: createdb {flags(w, 'no database')} -U "
            f"{urlsplit(w.pg('no database')).username} segmux_absent)"
        ),
    ),
    "postgres role unknown": Case(
        ["db", "upgrade"],
        env=pg_env("no role"),
        line=lambda w: (
            f"PostgreSQL role 'segmux_no_such_role' does not exist on "
            f"{where(w, 'no role')} (create it: createuser {flags(w, 'no role')} "
            "segmux_no_such_role, or fix the user in SEGMUX_DATABASE_URL)"
        ),
    ),
    "postgres password wrong": Case(
        ["tokens", "list"],
        env=pg_env("wrong password"),
        line=lambda w: (
            f"PostgreSQL on {where(w, 'wrong password')} refused the password of "
            "role 'segmux_pw' (fix the password in SEGMUX_DATABASE_URL)"
        ),
    ),
    "unknown URL scheme": Case(
        ["tokens", "list"],
        env=lambda w: {"SEGMUX_DATABASE_URL": "mysql://root@localhost/db"},
        line=lambda w: (
            "unknown database URL scheme 'mysql' in SEGMUX_DATABASE_URL (use "
            "sqlite:///path.db or postgresql://user@host:5432/db)"
        ),
    ),
    "unknown URL scheme in the flag": Case(
        ["--database-url", "segmux.db", "tokens", "list"],
        line=lambda w: (
            "unknown database URL scheme '' in --database-url (use "
            "sqlite:///path.db or postgresql://user@host:5432/db)"
        ),
    ),
    "--port above 65535": Case(
        ["serve", "--port", "99999"],
        line=lambda w: (
            "--port must be a whole number from 1 to 65535, not '99999' "
            f"({FIX_PORT.format('--port')})"
        ),
    ),
    "--port not a number": Case(
        ["serve", "--port", "http"],
        line=lambda w: (
            "--port must be a whole number from 1 to 65535, not 'http' "
            f"({FIX_PORT.format('--port')})"
        ),
    ),
    "SEGMUX_PORT not a number": Case(
        ["serve"],
        env=lambda w: {"SEGMUX_PORT": "abc"},
        line=lambda w: (
            "SEGMUX_PORT must be a whole number from 1 to 65535, not 'abc' "
            f"({FIX_PORT.format('SEGMUX_PORT')})"
        ),
    ),
    "SEGMUX_PORT zero": Case(
        ["serve"],
        env=lambda w: {"SEGMUX_PORT": "0"},
        line=lambda w: (
            "SEGMUX_PORT must be a whole number from 1 to 65535, not '0' "
            f"({FIX_PORT.format('SEGMUX_PORT')})"
        ),
    ),
    "--workers below 1": Case(
        ["serve", "--workers", "0"],
        line=lambda w: (
            "--workers must be a whole number of at least 1, not '0' "
            f"({FIX_PORT.format('--workers')})"
        ),
    ),
    "port in use": Case(
        ["serve", "--port", "{busy_port}"],
        env=store,
        line=lambda w: (
            f"port {w.busy_port} on 127.0.0.1 is in use (stop what listens there, or "
            "choose another port with --port)"
        ),
    ),
    "host that is not an address": Case(
        ["serve"],
        env=lambda w: {**store(w), "SEGMUX_HOST": "no-such-host.invalid"},
        line=lambda w: (
            "cannot listen on host 'no-such-host.invalid': Name or service not known "
            "(give an address of this machine with SEGMUX_HOST)"
        ),
    ),
    "SEGMUX_ADMIN_TOKEN too short": Case(
        ["serve"],
        env=lambda w: {"SEGMUX_ADMIN_TOKEN": "smx_short-secret"},
        line=lambda w: (
            "SEGMUX_ADMIN_TOKEN is 16 characters; a secret needs at least 32 (make "
            "one with: python3 -c 'import secrets; print(\"smx_\" + secrets.token_urlsafe(32))')"
        ),
    ),
    "import of a missing file": Case(
        ["import", "/nonexistent/segments.ndjson"],
        env=store,
        line=lambda w: (
            "no file /nonexistent/segments.ndjson (give the path of a file segmux export wrote)"
        ),
    ),
    "import of a file that is not NDJSON": Case(
        ["import", "{scratch}/ok/export.csv"],
        env=store,
        line=lambda w: (
            f"{w.scratch}/ok/export.csv line 1 is not JSON: JSON is malformed: "
            f"invalid character (byte 0) ({FIX_NDJSON})"
        ),
    ),
    "import of JSON lines that are not objects": Case(
        ["import", "{scratch}/ok/array.ndjson"],
        env=store,
        line=lambda w: f"{w.scratch}/ok/array.ndjson line 2 is not a JSON object ({FIX_NDJSON})",
    ),
    "export of a tenant that does not exist": Case(
        ["export", "--tenant", "nobody-here"],
        env=store,
        line=lambda w: (
            f"no tenant 'nobody-here' in store sqlite:///{w.scratch}/ok/segmux.db (a "
            "tenant comes with its first token: segmux tokens create --tenant nobody-here ...; "
            "segmux tokens list shows the tenants there)"
        ),
    ),
    "tenants set of a tenant that does not exist": Case(
        ["tenants", "set", "--tenant", "ghost", "--ims-org", "ABC@AdobeOrg"],
        env=store,
        line=lambda w: (
            f"no tenant 'ghost' in store sqlite:///{w.scratch}/ok/segmux.db (a "
            "tenant comes with its first token: segmux tokens create --tenant ghost ...; "
            "segmux tokens list shows the tenants there)"
        ),
    ),
    "a missing command": Case(
        [], line=lambda w: "the following arguments are required: COMMAND (see: segmux --help)"
    ),
}


# --- PostgreSQL: the shared test server, and a private one that checks passwords ---------------


def _unreachable(w: World) -> str:
    return f"postgresql://postgres@127.0.0.1:{free_port()}/segmux"


def _no_database(w: World) -> str:
    return pg.with_database(pg.require_pg(), "segmux_absent")


def _no_role(w: World) -> str:
    parts = urlsplit(pg.require_pg())
    return f"postgresql://segmux_no_such_role@{parts.hostname}:{parts.port or 5432}/postgres"


def _wrong_password(w: World) -> str:
    port = _password_server(w.scratch / "pg")
    return f"postgresql://segmux_pw:not-the-password@127.0.0.1:{port}/postgres"


_PG_URLS: dict[str, Callable[[World], str]] = {
    "unreachable": _unreachable,
    "no database": _no_database,
    "no role": _no_role,
    "wrong password": _wrong_password,
}


def _postgres_bin() -> Path | None:
    found = shutil.which("pg_config")
    if found:
        done = subprocess.run([found, "--bindir"], capture_output=True, text=True)
        if done.returncode == 0 and (Path(done.stdout.strip()) / "initdb").exists():
            return Path(done.stdout.strip())
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return versions[-1].parent if versions else None


_servers: list[tuple[Path, Path, int | None]] = []


def _password_server(data: Path) -> int:
    """A private PostgreSQL that authenticates with scram-sha-256 (the shared test server trusts
    every local connection, so it cannot refuse a password): role ``segmux_pw``."""
    bindir = _postgres_bin()
    if bindir is None:
        pg.unavailable("PostgreSQL's initdb is not installed (apt-get install postgresql)")
    user = None
    if os.geteuid() == 0:  # postgres refuses to run as root
        import pwd

        user = pwd.getpwnam("postgres").pw_uid
    data.mkdir()
    (data / "pw").write_text("the-password\n")
    if user is not None:
        for path in (data, data / "pw"):
            os.chown(path, user, -1)
    port = free_port()

    def run(*cmd: str) -> None:
        done = subprocess.run(cmd, capture_output=True, text=True, user=user, timeout=120)
        assert done.returncode == 0, done.stderr

    run(
        str(bindir / "initdb"),
        "-D",
        str(data / "db"),
        "-U",
        "segmux_pw",
        "-N",
        "--auth=scram-sha-256",
        f"--pwfile={data / 'pw'}",
    )
    _servers.append((bindir, data / "db", user))
    run(
        str(bindir / "pg_ctl"),
        "-D",
        str(data / "db"),
        "-w",
        "-l",
        str(data / "log"),
        "-o",
        f"-c port={port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={data} "
        "-c fsync=off -c shared_buffers=8MB",
        "start",
    )
    return port


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    scratch = Path(tempfile.mkdtemp(prefix="segmux-cli-errors-"))
    scratch.chmod(0o755)  # the private PostgreSQL runs as its own user, and reads its files here
    ok = scratch / "ok"
    ok.mkdir(mode=0o755)
    done = subprocess.run(
        [*SEGMUX, "db", "upgrade"],
        capture_output=True,
        text=True,
        env={**os.environ, **sqlite(World(scratch), "ok/segmux.db")},
    )
    assert done.returncode == 0, done.stderr
    shutil.copy(ok / "segmux.db", ok / "readonly.db")
    (ok / "readonly.db").chmod(0o444)
    (ok / "export.csv").write_text('id,name\n1,"in sweden"\n')
    (ok / "array.ndjson").write_text('\n[{"id": "a"}, {"id": "b"}]\n')
    (scratch / "readonly").mkdir(mode=0o555)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        yield World(scratch, busy_port=busy.getsockname()[1])
    for bindir, data, user in _servers:
        subprocess.run(
            [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            user=user,
            timeout=60,
        )
    _servers.clear()
    shutil.rmtree(scratch, ignore_errors=True)


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_one_line_and_status_2(world: World, name: str) -> None:
    case = CASES[name]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEGMUX_")}
    env.update(case.env(world))
    args = [
        a.replace("{scratch}", str(world.scratch)).replace("{busy_port}", str(world.busy_port))
        for a in case.args
    ]
    prefix: list[str] = []
    if case.unprivileged and os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pg.unavailable("setpriv (util-linux) is not installed")
        prefix = UNPRIVILEGED
    done = subprocess.run(
        [*prefix, *SEGMUX, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=world.scratch,
    )
    assert (done.returncode, done.stdout) == (2, ""), done.stderr
    assert done.stderr == f"segmux: {case.line(world)}\n"


def test_no_case_left_a_database_behind() -> None:
    """The missing database stays missing (no case created it)."""
    url = pg.require_pg()
    import asyncpg

    async def names() -> set[str]:
        conn = await asyncpg.connect(url)
        try:
            rows = await conn.fetch("SELECT datname FROM pg_database")
        finally:
            await conn.close()
        return {r["datname"] for r in rows}

    assert "segmux_absent" not in pg.run_sync(names)
