"""Adobe's own Python SDK, ``aepp`` (PyPI), against a live gateway, on both backends — with its
own OAuth flow against ``/ims/token/v3`` and with a static token.

aepp keeps its configuration in module globals: ``configure`` fills
``aepp.config.config_object`` / ``header`` / ``endpoints``, and every class reads them when it is
made. The gateway is reached by pointing ``endpoints["global"]`` (Segmentation uses
``global + "/data/core/ups"``) and ``config_object["oauthTokenEndpointV2"]`` at it; nothing
else of aepp is changed. The globals are restored after each test.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from typing import Any

import pytest

from core.model import NewSegment
from core.store import Store
from core.tokens import TokenService
from tests import pg
from tests.live import live_gateway

aepp = pg.require("aepp")
from aepp import segmentation  # noqa: E402

ADMIN = "smx_aepp-test-admin"
ORG = "default@AdobeOrg"
CLIENT_ID = "5f3c9b170a495e8b"
DOC_PQL = 'workAddress.country = "US"'
DOC_PQL_JSON = (
    '{"nodeType":"fnApply","fnName":"=","params":[{"nodeType":"fieldLookup","fieldName":'
    '"country","object":{"nodeType":"fieldLookup","fieldName":"workAddress","object":'
    '{"nodeType":"parameterReference","position":1}}},{"nodeType":"literal","literalType":'
    '"String","value":"US"}]}'
)
STORED = 250


@pytest.fixture(autouse=True)
def restore_aepp_globals() -> Iterator[None]:
    saved = [
        (d, copy.deepcopy(d))
        for d in (aepp.config.config_object, aepp.config.header, aepp.config.endpoints)
    ]
    yield
    for live, snapshot in saved:
        live.clear()
        live.update(snapshot)


@pytest.fixture
def gateway(store: Store, store_url: str) -> Iterator[str]:
    with live_gateway(store_url, ADMIN) as base:
        yield base


async def configure_oauth(store: Store, base: str) -> None:
    """aepp's default flow: client id + secret + scopes, token fetched from IMS."""
    _, secret, _ = await TokenService(store).create_client(
        tenant="default", scope="admin", name="aepp", client_id=CLIENT_ID
    )
    aepp.configure(
        org_id=ORG,
        client_id=CLIENT_ID,
        secret=secret,
        scopes="openid,AdobeID,read_organizations,additional_info.projectedProductContext",
        sandbox="prod",
        environment="prod",
    )
    aepp.config.endpoints["global"] = base
    aepp.config.config_object["oauthTokenEndpointV2"] = f"{base}/ims/token/v3"


def configure_static(base: str) -> None:
    """A token made elsewhere (``segmux tokens create``), with aepp's "support" environment;
    aepp 0.5.7 to 0.6.0 also need ``connectionType`` and a far ``date_limit`` set by hand."""
    aepp.configure(
        org_id=ORG,
        client_id="segmux-sdk",
        environment="support",
        endpoint=base,
        accesstoken=ADMIN,
        sandbox="prod",
    )
    aepp.config.config_object["connectionType"] = "support"
    aepp.config.config_object["date_limit"] = time.time() + 10 * 365 * 86400


def definition(name: str, pql: str = DOC_PQL) -> dict[str, Any]:
    return {
        "name": name,
        "description": "Last 30 days",
        "profileInstanceId": "ups",
        "expression": {"type": "PQL", "format": "pql/text", "value": pql},
        "schema": {"name": "_xdm.context.profile"},
        "ttlInDays": 60,
        "labels": ["core/C1"],
    }


async def exercise(store: Store) -> None:
    seg = segmentation.Segmentation()

    created = seg.createSegment(definition("People who ordered in the last 30 days"))
    assert created["name"] == "People who ordered in the last 30 days"
    assert created["expression"]["value"] == DOC_PQL
    assert created["labels"] == ["core/C1"]
    assert created["imsOrgId"] == ORG
    second = seg.createSegment(definition("Second", 'homeAddress.city = "Paris"'))

    for i in range(STORED - 2):
        await store.create_segment("default", NewSegment(name=f"bulk {i:03d}"), "seed")
    listed = seg.getSegments()
    assert len(listed) == STORED
    assert len({s["id"] for s in listed}) == STORED
    assert {created["id"], second["id"]} <= {s["id"] for s in listed}

    got = seg.getSegment(created["id"])
    assert got == created

    changed = definition(
        "Updated people who ordered in the last 30 days", 'workAddress.country = "CA"'
    )
    updated = seg.updateSegment(created["id"], changed)
    assert updated["id"] == created["id"]
    assert updated["name"] == "Updated people who ordered in the last 30 days"
    assert updated["expression"]["value"] == 'workAddress.country = "CA"'
    assert updated["creationTime"] == created["creationTime"]
    assert seg.getSegment(created["id"]) == updated

    results = seg.getMultipleSegments([created["id"], second["id"]])
    assert set(results) == {created["id"], second["id"]}
    assert results[created["id"]] == updated
    results = seg.getMultipleSegments({"ids": [{"id": second["id"]}, {"id": "unknown"}]})
    assert list(results) == [second["id"]]

    assert seg.deleteSegment(second["id"]) == 200
    gone = seg.getSegment(second["id"])
    assert gone["status"] == 404
    assert seg.deleteSegment(second["id"])["status"] == 404
    assert len(seg.getSegments()) == STORED - 1

    converted = seg.convertSegmentDef(
        name="convert", expression={"type": "PQL", "format": "pql/text", "value": DOC_PQL}
    )
    assert converted["expression"] == {"type": "PQL", "format": "pql/json", "value": DOC_PQL_JSON}
    back = seg.convertSegmentDef(
        name="convert", expression={"type": "PQL", "format": "pql/json", "value": DOC_PQL_JSON}
    )
    assert back["expression"]["value"] == DOC_PQL


async def test_aepp_with_its_own_oauth_flow(gateway: str, store: Store) -> None:
    await configure_oauth(store, gateway)
    await exercise(store)


async def test_aepp_with_a_static_token(gateway: str, store: Store) -> None:
    configure_static(gateway)
    await exercise(store)


async def test_aepp_reports_gateway_errors_as_json(gateway: str, store: Store) -> None:
    configure_static(gateway)
    aepp.config.config_object["org_id"] = aepp.config.header["x-gw-ims-org-id"] = "x@AdobeOrg"
    seg = segmentation.Segmentation()
    assert seg.getSegment("any") == {"error_code": "403025", "message": "Profile is not valid"}
