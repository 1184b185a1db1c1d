"""A release as a user gets it: ``python -m build`` makes a wheel and an sdist from a copy of the
checkout, ``twine check --strict`` accepts both (the metadata PyPI would show), the wheel holds
every file segmux reads at run time besides its Python modules (the OpenAPI specs it serves, the
migrations, the grammars, the UI), and each of the two installs into a fresh virtualenv without
extras and serves: ``--version`` names the version ``pyproject.toml`` says, ``/healthz`` answers,
every registered surface's spec is served, and a token made with the installed CLI works.

``make dist`` runs the same build and check (CONTRIBUTING.md, "Releasing").
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import httpx
import pytest

from dialects.registry import SURFACES
from tests.install.venvs import (
    ROOT,
    copy_source,
    create_token,
    fresh_venv,
    pip_install,
    run_step,
    serving,
    user_env,
)

VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def _tracked(*patterns: str) -> set[str]:
    """The checkout's files matching the glob patterns, relative to the root."""
    return {str(p.relative_to(ROOT)) for pattern in patterns for p in ROOT.glob(pattern)}


# What segmux reads from its own package directories at run time.
DATA_FILES = _tracked(
    "openapi/*.yaml",
    "core/store/*/migrations/*.sql",
    "core/expr/grammars/*.lark",
    "core/expr/*.sql",
    "dialects/*/static/*",
)


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel and the sdist built from a copy of the checkout."""
    base = tmp_path_factory.mktemp("release")
    source = copy_source(base)
    out = base / "dist"
    run_step(
        "build the wheel and sdist",
        [sys.executable, "-m", "build", "--outdir", str(out), str(source)],
        cwd=base,
    )
    return out


def _one(dist: Path, pattern: str) -> Path:
    found = sorted(dist.glob(pattern))
    assert len(found) == 1, f"{pattern}: {found}"
    return found[0]


def test_build_makes_one_wheel_and_one_sdist_of_this_version(dist: Path) -> None:
    assert _one(dist, "*.whl").name == f"segmux-{VERSION}-py3-none-any.whl"
    assert _one(dist, "*.tar.gz").name == f"segmux-{VERSION}.tar.gz"


def test_twine_accepts_both(dist: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *map(str, sorted(dist.iterdir()))],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("PASSED") == 2, done.stdout


def test_the_wheel_holds_every_data_file_and_no_tests(dist: Path) -> None:
    assert len(DATA_FILES) > 20  # the globs found the checkout's files
    with zipfile.ZipFile(_one(dist, "*.whl")) as wheel:
        names = set(wheel.namelist())
    assert names >= DATA_FILES, sorted(DATA_FILES - names)
    for surface in SURFACES:
        if surface.spec is not None:
            assert f"openapi/{surface.spec}.yaml" in names
    assert not {n for n in names if n.startswith(("tests/", "bench/"))}
    assert f"segmux-{VERSION}.dist-info/licenses/LICENSE" in names


def test_the_sdist_holds_the_changelog_license_and_docs(dist: Path) -> None:
    with tarfile.open(_one(dist, "*.tar.gz")) as sdist:
        names = {n.removeprefix(f"segmux-{VERSION}/") for n in sdist.getnames()}
    assert {"CHANGELOG.md", "LICENSE", "README.md", "pyproject.toml"} <= names
    assert names >= DATA_FILES, sorted(DATA_FILES - names)
    assert any(n.startswith("docs/dialects/") for n in names)


@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_each_installs_alone_and_serves(
    kind: str, dist: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    base = tmp_path_factory.mktemp(f"from-{kind}")
    artifact = _one(dist, "*.whl" if kind == "wheel" else "*.tar.gz")
    segmux = pip_install(fresh_venv(base), artifact, cwd=base)

    shown = subprocess.run(
        [str(segmux), "--version"], capture_output=True, text=True, timeout=60, env=user_env()
    )
    assert shown.returncode == 0, shown.stderr
    # An installed release has no git checkout beside it: the version and Python, no commit.
    assert shown.stdout.startswith(f"segmux {VERSION}, Python "), shown.stdout

    with serving(segmux, base) as (url, env):
        for surface in SURFACES:
            if surface.spec is not None:
                spec = httpx.get(f"{url}/segmux/openapi/{surface.spec}.json")
                assert spec.status_code == 200, (surface.spec, spec.text[:200])
                assert spec.json()["openapi"].startswith("3.")
        for asset in ("", "ui.js", "ui.css"):  # the portability page's static files
            ui = httpx.get(f"{url}/segmux/ui/{asset}")
            assert ui.status_code == 200, (asset, ui.status_code)
        token = create_token(segmux, env, base)
        listed = httpx.get(
            f"{url}/v2.3/data/segments",
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )
        assert listed.status_code == 200, listed.text
