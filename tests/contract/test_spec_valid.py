"""Every spec the gateway serves is a valid OpenAPI document, so users can build their own
contract tests (Prism, schemathesis, code generators) on what ``/segmux/openapi/<name>.json``
returns. A YAML flow mapping whose text holds a comma (``{description: a, b}``) silently becomes
an extra key; the validator is what notices."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

import openapi
from dialects.registry import SURFACES
from tests.live import live_gateway


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    store = tmp_path_factory.mktemp("specs") / "segmux.db"
    with live_gateway(f"sqlite:///{store}", "smx_spec-validity-token") as base:
        yield base


def test_every_spec_is_served() -> None:
    assert openapi.names() == sorted(s.spec for s in SURFACES if s.spec is not None)


@pytest.mark.parametrize("name", openapi.names())
def test_served_spec_is_valid_openapi(gateway: str, name: str) -> None:
    response = httpx.get(f"{gateway}/segmux/openapi/{name}.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    validate(response.json())  # raises with the offending path when it is not


@pytest.mark.parametrize("name", openapi.names())
def test_yaml_source_is_valid_openapi(name: str) -> None:
    """The file Prism and other tools read directly (a YAML parser other than the server's)."""
    spec, _ = read_from_filename(str(Path(openapi.__file__).parent / f"{name}.yaml"))
    validate(spec)
