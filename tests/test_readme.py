"""The README's curl sessions, run as written against a live gateway (only ``BASE`` differs: the
test picks a free port), on both backends, each on a store of its own.

One runner for every section (find its ```sh block, swap ``BASE=``, run it with bash next to a
``.venv/bin`` pointing at this interpreter's); each section keeps its own check of the output.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import pg
from tests.live import live_gateway

ROOT = Path(__file__).resolve().parent.parent
README_BASE = "BASE=http://127.0.0.1:8080"


def assert_in_order(out: str, markers: list[str]) -> None:
    """Each marker occurs in ``out`` after the previous one (the answers, one after another:
    curl adds no newlines)."""
    at = 0
    for marker in markers:
        found = out.find(marker, at)
        assert found >= 0, f"{marker!r} missing after position {at}: {out[at:at + 300]!r}"
        at = found + len(marker)


# ----------------------------------------------------------------------------- the checks


def check_v23(out: str) -> None:
    assert '"success":true,"result":{"id":' in out
    assert '"name":"Central Europe"' in out
    assert '"total":2' in out
    assert "The name has already been taken." in out
    assert out.rstrip().endswith("204")


def check_unleash(out: str) -> None:
    # curl prints bodies without newlines: decode the JSON documents one after another.
    decoder, docs, at = json.JSONDecoder(), [], 0
    while out[at:at + 1] == "{":
        doc, at = decoder.raw_decode(out, at)
        docs.append(doc)
    feature, strategy, client = docs
    assert feature["name"] == "new-checkout"
    assert strategy["segments"] == [1]
    assert client["segments"] == [{"id": 1, "name": "beta-users", "constraints": [
        {"values": ["u1", "u2"], "operator": "IN", "contextName": "userId"}]}]
    assert client["features"][0]["strategies"][0]["segments"] == [1]
    assert client["features"][0]["enabled"] is True
    assert out[at:].strip() == "409"


def check_adobe(out: str) -> None:
    assert '"imsOrgId":"default@AdobeOrg"' in out
    assert '"page":{"totalCount":1,"totalPages":1,"sortField":"name","sort":"asc"' in out
    assert '"format":"pql/json","value":"{\\"nodeType\\":\\"fnApply\\"' in out
    assert "select … from (event queries) is not supported" in out
    assert '"operator":"IN","values":["US"]' in out
    assert out.rstrip().endswith("200")


def check_confidence(out: str) -> None:
    assert_in_order(out, [
        '"creator":"identities/confidence-tool"',
        '"name":"segments/sweden-10pct"',
        '"state":"OK"',
        '"name":"segments/exp-a"',
        '"state":"ALLOCATED"',
        '{"availableSpace":{"value":"0.35"}}',
        '{"code":9,"message":"segment segments/exp-b cannot be allocated: 0.5 requested, '
        '0.35 available"',
        '"name":"segments/exp-b"',
        '"state":"ALLOCATED"',
        '{"segments":[',
        '"name":"segments/exp-b"',
        '"name":"segments/exp-a"',
        '{"code":5,"message":"segments cannot be deleted',
        '"state":"ARCHIVED"',
    ])
    listing = out[out.index('{"segments":['):out.index('{"code":5')]
    assert re.findall(r'"name":"(segments/[^"]+)"', listing) == [
        "segments/exp-b", "segments/exp-a"]


def check_hal(out: str) -> None:
    assert_in_order(out, [
        '{"name":"segmux",',
        '/{projectId}/individual-segments{?filter}","templated":true',
        '"filter":"demographics/age/value eq \'30\'"',
        '"segmentType":"DYNAMIC"',
        '{"_embedded":{"individuals":[{',
        '"identifier":"ana"',
        '"page":{"size":20,"totalElements":1,"totalPages":1,"number":0}}',
        '{"_embedded":{"individual-segments":[{',
        '"name":"Friends","segmentType":"STATIC"',
        '"status":400,"error":"Bad Request","message":"Membership POST requests can only be '
        'made to a static individual segment"',
        '"name":"Thirty"',
        '"page":{"size":1,"totalElements":2,"totalPages":2,"number":0}}',
    ])
    assert out.rstrip().endswith("200")


@dataclass(frozen=True)
class Section:
    heading: str  # the README's "## …" line
    admin_token: str  # seeded in the gateway (the scripts make their own tokens with the CLI)
    check: Callable[[str], None]  # of the session's stdout


SECTIONS = {
    "v2.3": Section("## Try it: the v2.3 API with curl", "smx_readme-seed", check_v23),
    "unleash": Section("## Try it: the Unleash API with curl", "smx_readme-unleash-seed",
                       check_unleash),
    "adobe": Section("## Adobe: AEP Segmentation at `/data/core/ups`", "smx_readme-seed",
                     check_adobe),
    "confidence": Section("## Confidence: segments at `/v1/segments`", "smx_readme-seed",
                          check_confidence),
    "hal": Section("## HAL: Individual Segments at `/{projectId}/…`", "smx_readme-seed",
                   check_hal),
}


# ----------------------------------------------------------------------------- the runner


def readme_session(heading: str) -> str:
    """The first ```sh block after ``heading``."""
    text = (ROOT / "README.md").read_text()
    assert heading in text, f"the README lost its section {heading!r}"
    section = text.split(heading, 1)[1]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match, f"the README lost its curl session under {heading!r}"
    return match.group(1)


def run_session(script: str, database_url: str, admin_token: str, cwd: Path) -> str:
    """Run ``script`` with bash against a live gateway over ``database_url``; its stdout."""
    assert script.startswith(README_BASE + "\n")
    with live_gateway(database_url, admin_token) as base:
        script = script.replace(README_BASE, f"BASE={base}", 1)
        # `.venv/bin/segmux` as the README says, whichever interpreter runs the tests.
        (cwd / ".venv").mkdir()
        (cwd / ".venv" / "bin").symlink_to(Path(sys.executable).parent)
        env = {**os.environ, "SEGMUX_DATABASE_URL": database_url}
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script], cwd=cwd, env=env,
            capture_output=True, text=True, timeout=60,
        )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory,
                 request: pytest.FixtureRequest) -> Iterator[str]:
    """An empty store for each session, whatever ran before it in this module: a new SQLite
    file, or a new PostgreSQL database copied from the migrated template."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('store')}/segmux.db"
        return
    url = pg.create_database("segmux_readme", template=request.getfixturevalue("pg_template"))
    yield url
    pg.drop_database(url)


@pytest.mark.parametrize("name", list(SECTIONS))
def test_readme_session_works(name: str, database_url: str, tmp_path: Path) -> None:
    pg.require_command("curl")
    section = SECTIONS[name]
    out = run_session(readme_session(section.heading), database_url, section.admin_token,
                      tmp_path)
    section.check(out)
