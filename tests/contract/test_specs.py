"""Schemathesis against every served spec, on both backends: no 5xx, and every response (status,
content type, headers, body) conforms to the spec. Example counts are bounded so ``make test``
stays fast; ``make fuzz`` (later) runs the same with a large budget."""

from __future__ import annotations

import os
from collections.abc import Iterator

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.parameters import ParameterLocation

import openapi
from core.store import open_store
from core.tokens import TokenService
from tests import pg
from tests.live import live_gateway

TOKEN = "smx_contract-test-admin-token"
FRONTEND_TOKEN = "smx_contract-test-frontend-token"
"""For the Unleash frontend API, which takes frontend tokens only (an admin token is a 403)."""
FRONTEND_PATHS = ("/api/frontend",)
OFREP_TOKEN = "smx_contract-test-ofrep-token"
"""For OFREP, which takes OFREP and client tokens only (an admin token is a 403)."""
OFREP_PATHS = ("/ofrep/",)
EXAMPLES = int(os.environ.get("SEGMUX_CONTRACT_EXAMPLES", "30"))
# Header values no generator can guess (the live gateway's tenant is ``default``), per spec;
# fixed values are neither generated nor mutated by negative testing.
FIXED_HEADERS: dict[str, dict[str, str]] = {"adobe": {"x-gw-ims-org-id": "default@AdobeOrg"}}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def gateway(store_url: str, backend: str) -> Iterator[str]:
    with live_gateway(store_url, TOKEN) as base:
        pg.run_sync(lambda: seed_frontend_token(store_url))
        yield base


async def seed_frontend_token(url: str) -> None:
    store = await open_store(url)
    try:
        await TokenService(store).ensure(
            tenant="default", scope="frontend:development", name="contract", token=FRONTEND_TOKEN
        )
        await TokenService(store).ensure(
            tenant="default", scope="ofrep:development", name="contract-ofrep", token=OFREP_TOKEN
        )
    finally:
        await store.close()


def auth_for(case: schemathesis.Case) -> dict[str, str]:
    """The test token, unless this negative case mutated the headers: adding the token back
    would undo the mutation (a case "without Authorization" would then carry one)."""
    headers = case.meta.components.get(ParameterLocation.HEADER) if case.meta else None
    if headers is not None and headers.mode.is_negative:
        return {}
    if case.path.startswith(FRONTEND_PATHS):
        return {"Authorization": FRONTEND_TOKEN}
    if case.path.startswith(OFREP_PATHS):
        return {"Authorization": f"Bearer {OFREP_TOKEN}"}
    return {"Authorization": f"Bearer {TOKEN}"}


def run_operations(base: str, spec: str, mode: GenerationMode, checks: list) -> int:  # type: ignore[type-arg]
    schema = schemathesis.openapi.from_url(f"{base}/segmux/openapi/{spec}.json")
    ran = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @hypothesis.given(
            case=operation.as_strategy(generation_mode=mode, headers=FIXED_HEADERS.get(spec))
        )
        @hypothesis.settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=base, headers=auth_for(case), checks=checks)

        try:
            check()
        except hypothesis.errors.Unsatisfiable:
            # Only negative mode: an operation whose every input is unconstrained text (or
            # that takes none) has no invalid request to send.
            if mode is not GenerationMode.NEGATIVE:
                raise
            continue
        ran += 1
    return ran


@pytest.mark.parametrize("spec", openapi.names())
def test_positive_examples_conform(gateway: str, spec: str) -> None:
    assert run_operations(gateway, spec, GenerationMode.POSITIVE, CHECKS) > 0


@pytest.mark.parametrize("spec", openapi.names())
def test_negative_examples_are_rejected_and_conform(gateway: str, spec: str) -> None:
    checks = [*CHECKS, negative_data_rejection]
    assert run_operations(gateway, spec, GenerationMode.NEGATIVE, checks) > 0
