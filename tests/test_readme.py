"""The README's sessions, run exactly as a reader runs them, each against a fresh server and store.

A session is a ```bash block: pasted into a fresh shell in the checkout while ``make run``
serves (``.venv/bin/segmux serve`` on ``./segmux.db``) in another terminal. The test does just
that, in a temporary directory standing in for the checkout (its ``.venv/bin`` is this
interpreter's): a fresh ``segmux serve`` process on a fresh store and a free port, then the
session, unchanged, with bash in an environment that holds only ``SEGMUX_PORT`` (and, on
PostgreSQL, the ``SEGMUX_DATABASE_URL`` the README tells the reader to export). A block that
ends in ``segmux serve`` is itself the server of the session after it (Running on PostgreSQL);
it runs with only the database name made unique.

What each session prints is compared with the README's comments: every comment that starts
like an answer (``{``, ``[``, ``"`` or a digit; lines indented further continue it) is what one
command prints, in order, one to one — ``…`` elides, ``$NAME`` is that shell variable's value at
the end of the session, and ``127.0.0.1:8080`` is the server's address.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests import pg
from tests.live import free_port, wait_answering

ROOT = Path(__file__).resolve().parent.parent
README_ADDRESS = "127.0.0.1:8080"
README_PG_URL = "postgresql://postgres@127.0.0.1:5432/segmux"
README_CREATEDB = "createdb -h 127.0.0.1 -U postgres segmux"
COMMAND_MARK = "\x1e"  # printed before each top-level command (a DEBUG trap)
VARIABLES_MARK = "\x1f"

_OUTPUT = re.compile(r'# (?=[{\["0-9])(.*)')
_CONTINUED = re.compile(r"#  +(\S.*)")
_VARIABLE = re.compile(r"\$([A-Z][A-Z0-9_]*)")


@dataclass(frozen=True)
class Block:
    heading: str  # the "## …" section it is in
    text: str

    @property
    def is_server(self) -> bool:
        lines = [ln for ln in self.text.splitlines() if ln.strip() and not ln.startswith("#")]
        return bool(lines) and lines[-1].strip().endswith("segmux serve")


def readme_blocks(language: str) -> list[Block]:
    blocks, heading = [], ""
    lines = iter((ROOT / "README.md").read_text().splitlines())
    for line in lines:
        if line.startswith("## "):
            heading = line[3:]
        elif line == f"```{language}":
            body = []
            for inner in lines:
                if inner == "```":
                    break
                body.append(inner)
            blocks.append(Block(heading, "\n".join(body) + "\n"))
    return blocks


@dataclass(frozen=True)
class Session:
    block: Block
    server: Block | None  # the block that starts its server, if the README gives one

    @property
    def id(self) -> str:
        return SESSION_NAMES.get(self.block.heading) or re.sub(
            r"[^a-z0-9]+", "-", self.block.heading.lower()
        ).strip("-")


def readme_sessions() -> list[Session]:
    sessions, server = [], None
    for block in readme_blocks("bash"):
        if block.is_server:
            server = block
            continue
        sessions.append(
            Session(block, server if server and server.heading == block.heading else None)
        )
        server = None
    return sessions


SESSIONS = readme_sessions()
SESSION_NAMES = {  # the README's sections with a session, and the test ids they run under
    "Try it: the v2.3 API with curl": "v23",
    "Try it: the Unleash API with curl": "unleash",
    "Browsers and mobile apps: the Unleash frontend API": "frontend",
    "OpenFeature: OFREP at `/ofrep/v1`": "ofrep",
    "Adobe: AEP Segmentation at `/data/core/ups`": "adobe",
    "Confidence: segments at `/v1/segments`": "confidence",
    "Confidence flags: `/v1/flags:resolve` for Confidence's SDKs": "confidence-flags",
    "HAL: Individual Segments at `/{projectId}/…`": "hal",
    "segmux's own API: segments, translate and evaluate": "segmux",
    "Running on PostgreSQL": "postgresql",
}


def expected_outputs(script: str) -> list[str]:
    """The answers the README shows, one per printing command, in order."""
    out: list[str] = []
    previous_was_output = False
    for line in script.splitlines():
        continued = _CONTINUED.fullmatch(line)
        if previous_was_output and continued:
            out[-1] += continued.group(1)
            continue
        shown = _OUTPUT.fullmatch(line)
        if shown:
            out.append(shown.group(1))
        previous_was_output = bool(shown)
    return out


def pattern_of(shown: str, variables: Mapping[str, str], address: str) -> re.Pattern[str]:
    def substitute(text: str) -> str:
        def value(m: re.Match[str]) -> str:
            assert m.group(1) in variables, f"the README shows ${m.group(1)}, never set"
            return variables[m.group(1)]

        return _VARIABLE.sub(value, text).replace(README_ADDRESS, address)

    return re.compile(".*?".join(re.escape(substitute(part)) for part in shown.split("…")), re.S)


# ----------------------------------------------------------------------------- the runner


@dataclass
class Printed:
    outputs: list[str]  # what each command printed (commands that printed nothing left out)
    variables: dict[str, str]
    stderr: str


def run_session(script: str, *, cwd: Path, env: Mapping[str, str]) -> Printed:
    """Run ``script`` as a reader would paste it, with bash; split what it prints per command."""
    names = sorted(set(_VARIABLE.findall("\n".join(expected_outputs(script)))))
    trailer = f"\ntrap - DEBUG\nprintf '{VARIABLES_MARK}'\n" + "".join(
        f"printf '%s=%s{VARIABLES_MARK}' {name} \"${{{name}-}}\"\n" for name in names
    )
    done = subprocess.run(
        # -e -u -o pipefail: a failing command fails the test where a reader would notice.
        [
            "bash",
            "-euo",
            "pipefail",
            "-c",
            f"trap 'printf \"{COMMAND_MARK}\"' DEBUG\n{script}{trailer}",
        ],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"the session failed ({done.returncode}):\n{done.stderr}"
    printed, _, listed = done.stdout.partition(VARIABLES_MARK)
    variables = dict(item.split("=", 1) for item in listed.split(VARIABLES_MARK) if item)
    outputs = [chunk.removesuffix("\n") for chunk in printed.split(COMMAND_MARK)]
    return Printed([chunk for chunk in outputs if chunk], variables, done.stderr)


def check_outputs(script: str, printed: Printed, address: str) -> None:
    shown = expected_outputs(script)
    assert len(printed.outputs) == len(shown), (
        f"the session printed {len(printed.outputs)} answers, the README shows {len(shown)}:\n"
        + "\n".join(printed.outputs)
    )
    for want, got in zip(shown, printed.outputs, strict=True):
        if not pattern_of(want, printed.variables, address).fullmatch(got):
            pytest.fail(f"the README shows\n  {want}\nthe session printed\n  {got}", pytrace=False)


def checkout(tmp: Path) -> Path:
    """A directory standing in for the checkout: ``.venv/bin`` is this interpreter's."""
    (tmp / ".venv").mkdir()
    (tmp / ".venv" / "bin").symlink_to(Path(sys.executable).parent)
    return tmp


def reader_env(**extra: str) -> dict[str, str]:
    """A fresh login shell's environment: none of the test run's SEGMUX_ settings."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER")
    return {**{k: os.environ[k] for k in keep if k in os.environ}, **extra}


@contextmanager
def server(command: list[str], *, cwd: Path, env: Mapping[str, str], port: int) -> Iterator[str]:
    """A ``segmux serve`` process (in a process group of its own); its address once /healthz
    answers; stopped with SIGTERM like Ctrl-C in the reader's first terminal."""
    log = (cwd / "server.log").open("wb")
    proc = subprocess.Popen(
        command,
        cwd=cwd,
        env=dict(env),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    address = f"127.0.0.1:{port}"
    try:
        wait_answering(proc, f"http://{address}/healthz", (cwd / "server.log").read_text)
        yield address
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    url = pg.create_database("segmux_readme")
    try:
        yield url
    finally:
        pg.drop_database(url)


def with_database(script: str, database_url: str) -> str:
    """A README block with only the database made this test's own (and on the test server)."""
    parts = urlsplit(database_url)
    createdb = (
        f"createdb -h {parts.hostname} -p {parts.port or 5432} "
        f"-U {parts.username} {parts.path.lstrip('/')}"
    )
    assert README_PG_URL in script
    return script.replace(README_CREATEDB, createdb).replace(README_PG_URL, database_url)


@contextmanager
def session_store(
    session: Session,
    backend: str,
    cwd: Path,
    port: int,
    server_port: int | None = None,
    server_env: Mapping[str, str] | None = None,
) -> Iterator[tuple[str, dict[str, str], str]]:
    """Start the session's server on a fresh store; yield its address, the environment the
    reader's second terminal has, and the session to run there. ``server_port``: where the
    server listens when the session talks to something in front of it (``port``), with
    ``server_env`` added to its environment."""
    script = session.block.text
    extra = dict(server_env or {})
    server_port = server_port or port
    if session.server is not None:
        pg.require_command("createdb")
        assert README_CREATEDB in session.server.text, "the README lost its createdb"
        # A name of its own, which the README's createdb then creates.
        url = pg.with_database(pg.require_pg(), f"segmux_readme_{uuid.uuid4().hex[:10]}")
        try:
            with server(
                ["bash", "-eu", "-c", with_database(session.server.text, url)],
                cwd=cwd,
                env=reader_env(SEGMUX_PORT=str(server_port), **extra),
                port=server_port,
            ) as address:
                yield address, reader_env(SEGMUX_PORT=str(port)), with_database(script, url)
        finally:
            pg.drop_database(url)
        return
    command = [str(cwd / ".venv" / "bin" / "segmux"), "serve"]
    if backend == "sqlite":  # make run: the default store, ./segmux.db in the checkout
        with server(
            command,
            cwd=cwd,
            env=reader_env(SEGMUX_PORT=str(server_port), **extra),
            port=server_port,
        ) as address:
            yield address, reader_env(SEGMUX_PORT=str(port)), script
        return
    with (
        fresh_postgres_database() as url,
        server(  # as "Running on PostgreSQL" says
            command,
            cwd=cwd,
            env=reader_env(SEGMUX_PORT=str(server_port), SEGMUX_DATABASE_URL=url, **extra),
            port=server_port,
        ) as address,
    ):
        yield address, reader_env(SEGMUX_PORT=str(port), SEGMUX_DATABASE_URL=url), script


def session_cases() -> list[object]:
    """Every session on SQLite (what ``make run`` serves) and on PostgreSQL (the README says
    they run unchanged there); the PostgreSQL section's own session with its own server."""
    cases: list[object] = []
    for session in SESSIONS:
        backends = ["postgresql"] if session.server else ["sqlite", "postgresql"]
        cases += [pytest.param(session, b, id=f"{session.id}-{b}") for b in backends]
    return cases


# ----------------------------------------------------------------------------- the tests


def test_the_readme_has_its_sessions() -> None:
    """Every section with a curl session is found (a renamed fence would silently drop one)."""
    headings = [s.block.heading for s in SESSIONS]
    assert headings == list(SESSION_NAMES)
    assert [s.heading for s in readme_blocks("bash") if s.is_server] == ["Running on PostgreSQL"]
    for session in SESSIONS:
        first = session.block.text.split("BASE=", 1)
        assert len(first) == 2, f"{session.id}: no BASE"
        assert first[1].startswith("http://127.0.0.1:${SEGMUX_PORT:-8080}\n"), session.id
        assert expected_outputs(session.block.text), f"{session.id} shows no output"


def test_sh_blocks_are_posix_shell() -> None:
    """A block tagged ``sh`` runs in any POSIX shell (bash-only syntax is tagged ``bash``)."""
    pg.require_command("dash")
    blocks = readme_blocks("sh")
    assert blocks
    for block in blocks:
        done = subprocess.run(["dash", "-n"], input=block.text, capture_output=True, text=True)
        assert done.returncode == 0, f"{block.heading}: {done.stderr}"


@pytest.mark.parametrize(("session", "backend"), session_cases())
def test_readme_session(session: Session, backend: str, tmp_path: Path) -> None:
    pg.require_command("curl")
    if backend == "postgresql":
        pg.require_pg()
    cwd = checkout(tmp_path)
    with session_store(session, backend, cwd, free_port()) as (address, env, script):
        printed = run_session(script, cwd=cwd, env=env)
    check_outputs(script, printed, address)
