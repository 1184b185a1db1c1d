"""OpenFeature's Python SDK (PyPI ``openfeature-sdk``) with its OFREP provider
(``openfeature-provider-ofrep``) against a live ``segmux serve``, on both backends: boolean,
string, integer, float and object evaluations of Unleash features and of Confidence flags, made
through their vendors' APIs over a segment made through Adobe's (tests/sdk/ofrep_flags.py); a
field of a Confidence flag read as ``flag.path.to.field``; the reasons and variants as the SDK
reports them; a change seen by the next evaluation; and the error paths as the SDK reports them:
a missing flag, a missing targeting key, an ambiguous key, a wrong type, a bad token.

The SDK is in the test extra (``pip install -e '.[test]'``); without it this skips on a laptop
and fails under ``CI=true``. (Spotify's Confidence SDK pins an older openfeature-sdk, so it is
the one with a virtualenv of its own: tests/sdk/test_confidence_sdk.py.)
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests import pg
from tests.conftest import BACKENDS
from tests.reliability.procs import ADMIN_TOKEN, Gateway
from tests.sdk.ofrep_flags import BANNER, BIG, DEV, FEATURES, SMALL, Seeded, ok, seed, token

try:
    from openfeature import api
    from openfeature.client import OpenFeatureClient
    from openfeature.contrib.provider.ofrep import OFREPProvider
    from openfeature.evaluation_context import EvaluationContext
    from openfeature.exception import ErrorCode
    from openfeature.flag_evaluation import FlagEvaluationDetails, Reason
except ImportError as missing:
    pg.unavailable(
        f"the OpenFeature SDK is not installed ({missing}): pip install -e '.[test]'",
        module_level=True,
    )

SE = EvaluationContext(targeting_key="u1", attributes={"country": "SE"})
NO = EvaluationContext(targeting_key="u2", attributes={"country": "NO"})
_domains = itertools.count()


@dataclass(frozen=True)
class Served:
    gateway: Gateway
    seeded: Seeded
    token: str
    """An ``ofrep:development`` token, as ``segmux tokens create`` makes it."""


@pytest.fixture(scope="module", params=BACKENDS)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    where = tmp_path_factory.mktemp("ofrep-sdk")
    if request.param == "sqlite":
        url = f"sqlite:///{where}/segmux.db"
    else:
        url = str(request.getfixturevalue("pg_module_url"))
    gateway = Gateway(url, where).start()
    try:
        seeded = seed(gateway.url, ADMIN_TOKEN)
        yield Served(gateway, seeded, token(url, f"ofrep:{DEV}", "python-sdk"))
    finally:
        gateway.stop()


def client(served: Served, headers: Mapping[str, str] | None = None) -> OpenFeatureClient:
    """An OpenFeature client whose provider is OFREP at the gateway, in a domain of its own (the
    SDK's API is global: every test's provider stays apart)."""
    sent = dict({"Authorization": f"Bearer {served.token}"} if headers is None else headers)
    domain = f"segmux-{next(_domains)}"
    api.set_provider(OFREPProvider(served.gateway.url, headers_factory=lambda: sent), domain)
    return api.get_client(domain)


def answer(d: FlagEvaluationDetails[Any]) -> tuple[Any, str | None, str | None]:
    """(value, variant, reason) as the SDK reports them, asserting it reported no error."""
    assert d.error_code is None, (d.flag_key, d.error_code, d.error_message)
    reason = None if d.reason is None else str(Reason(d.reason).value)
    return d.value, d.variant, reason


def failure(d: FlagEvaluationDetails[Any]) -> tuple[Any, str, str | None]:
    """(value, error code, reason) of an evaluation the SDK reports as failed."""
    assert d.error_code is not None, (d.flag_key, d.value, d.variant, d.reason)
    reason = None if d.reason is None else str(Reason(d.reason).value)
    return d.value, str(ErrorCode(d.error_code).value), reason


def test_unleash_features_as_booleans(served: Served) -> None:
    sdk = client(served)
    # The feature's strategy targets the segment made through Adobe: a Swede matches it.
    assert answer(sdk.get_boolean_details("dark-mode", False, SE)) == (
        True,
        "enabled",
        "TARGETING_MATCH",
    )
    assert answer(sdk.get_boolean_details("dark-mode", True, NO)) == (False, "disabled", "DEFAULT")
    # The flag's metadata reaches the application: which namespace answered, under which key.
    meta = sdk.get_boolean_details("dark-mode", False, SE).flag_metadata
    assert (meta["namespace"], meta["key"]) == ("unleash", "unleash:dark-mode"), meta
    # The qualified key names the same feature.
    assert answer(sdk.get_boolean_details("unleash:dark-mode", False, SE)) == (
        True,
        "enabled",
        "TARGETING_MATCH",
    )
    # Never switched on in the environment: disabled, whoever asks.
    assert answer(sdk.get_boolean_details("retired", True, SE)) == (False, "disabled", "DISABLED")
    # On for everyone (an unconditional strategy) with one variant: the variant names the answer.
    assert answer(sdk.get_boolean_details("greeting", False, SE)) == (True, "greeting", "STATIC")


def test_unleash_variants_and_payloads_as_strings_numbers_and_objects(served: Served) -> None:
    sdk = client(served)
    assert answer(sdk.get_string_details("greeting@payload", "", SE)) == (
        "hej",
        "greeting",
        "STATIC",
    )
    assert answer(sdk.get_string_details("greeting@variant", "", SE))[:2] == (
        "greeting",
        "greeting",
    )
    limit = sdk.get_integer_details("limit@payload", 0, SE)
    assert answer(limit)[0] == 10 and type(limit.value) is int
    ratio = sdk.get_float_details("ratio@payload", 0.0, SE)
    assert answer(ratio)[0] == 0.25
    assert answer(sdk.get_object_details("banner@payload", {}, SE))[:2] == (BANNER, "banner")
    # A feature without variants has no payload: the SDK keeps the caller's default, and the
    # variant is Unleash's own for "no variant".
    assert answer(sdk.get_string_details("dark-mode@payload", "none", SE)) == (
        "none",
        "disabled",
        "DEFAULT",
    )


def test_a_split_is_the_variant_unleash_frontend_api_gives(served: Served) -> None:
    """Half and half by weight: the reason is SPLIT and, for each user, the variant is the one
    Unleash's frontend API gives the same user (one engine)."""
    sdk = client(served)
    frontend = token(served.gateway.database_url, f"frontend:{DEV}", "web")
    seen = set()
    for user in ("u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8"):
        got = answer(sdk.get_string_details("coin@variant", "", EvaluationContext(user)))
        assert got[2] == "SPLIT", got
        toggles = ok(
            httpx.get(
                served.gateway.url + "/api/frontend",
                params={"userId": user},
                headers={"Authorization": frontend},
            )
        )["toggles"]
        [coin] = [t for t in toggles if t["name"] == "coin"]
        assert got[:2] == (coin["variant"]["name"], coin["variant"]["name"]), (user, got, coin)
        seen.add(got[0])
    assert seen == {"heads", "tails"}  # eight users, two halves: both show up


def test_confidence_flags_as_objects_and_fields(served: Served) -> None:
    sdk = client(served)
    # The rule on the segment made through Adobe gives Swedes `big`; the next rule everyone else
    # `small`.
    assert answer(sdk.get_object_details("theme", {}, SE)) == (BIG, "big", "TARGETING_MATCH")
    assert answer(sdk.get_object_details("confidence:theme", {}, NO)) == (
        SMALL,
        "small",
        "TARGETING_MATCH",
    )
    meta = sdk.get_object_details("theme", {}, SE).flag_metadata
    assert (meta["namespace"], meta["key"]) == ("confidence", "confidence:theme"), meta
    assert meta["segment"] == served.seeded.swedes_confidence, meta  # the Adobe-made segment
    # flag.path.to.field, as Confidence's SDK reads it, for every kind of field.
    assert answer(sdk.get_string_details("theme.color", "", SE))[:2] == ("red", "big")
    size = sdk.get_integer_details("theme.size", 0, SE)
    assert answer(size)[0] == 3 and type(size.value) is int
    ratio = sdk.get_float_details("theme.ratio", 0.0, SE)
    assert answer(ratio)[0] == 2.0 and type(ratio.value) is float
    assert answer(sdk.get_boolean_details("theme.bold", False, SE))[0] is True
    assert answer(sdk.get_boolean_details("theme.bold", True, NO))[0] is False
    assert answer(sdk.get_object_details("theme.style", {}, NO))[0] == {"font": "sans"}
    assert answer(sdk.get_string_details("confidence:theme.style.font", "", SE))[0] == "serif"


def test_a_confidence_flag_no_rule_matches_gives_the_callers_default(served: Served) -> None:
    sdk = client(served)
    assert answer(sdk.get_object_details("swedish", {"d": 1}, SE)) == (
        {"hej": True},
        "yes",
        "TARGETING_MATCH",
    )
    # No rule for a Norwegian: no value in the answer, so the SDK keeps the caller's default.
    assert answer(sdk.get_object_details("swedish", {"d": 1}, NO)) == (
        {"d": 1},
        "default",
        "DEFAULT",
    )
    assert answer(sdk.get_boolean_details("swedish.hej", False, NO)) == (
        False,
        "default",
        "DEFAULT",
    )


def test_a_split_on_the_targeting_key_is_confidences_own(served: Served) -> None:
    """``rollout`` gives half the units ``on``: for each unit the variant Confidence's
    ``flags:resolve`` gives the same unit (one resolver), and both halves show up."""
    sdk = client(served)
    seen = {}
    for unit in ("u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8"):
        value, variant, reason = answer(
            sdk.get_boolean_details("rollout.on", False, EvaluationContext(unit))
        )
        # Confidence's own OpenFeature provider reports a rule's match so, split or not.
        assert value is (variant == "on") and reason == "TARGETING_MATCH", (unit, value, variant)
        resolved = ok(
            httpx.post(
                served.gateway.url + "/v1/flags:resolve",
                json={
                    "clientSecret": served.seeded.client_secret,
                    "flags": ["flags/rollout"],
                    "evaluationContext": {"targeting_key": unit},
                    "apply": False,
                },
            )
        )["resolvedFlags"]
        assert [f"flags/rollout/variants/{variant}"] == [f["variant"] for f in resolved], unit
        seen[unit] = variant
    assert set(seen.values()) == {"on", "off"}, seen


def test_errors_as_the_sdk_reports_them(served: Served) -> None:
    sdk = client(served)
    assert failure(sdk.get_boolean_details("nope", True, SE)) == (True, "FLAG_NOT_FOUND", "ERROR")
    assert failure(sdk.get_object_details("confidence:nope", {"d": 1}, SE)) == (
        {"d": 1},
        "FLAG_NOT_FOUND",
        "ERROR",
    )
    # A rule that buckets by the unit, and no targeting key to bucket.
    no_key = EvaluationContext(attributes={"country": "SE"})
    assert failure(sdk.get_boolean_details("rollout.on", False, no_key)) == (
        False,
        "TARGETING_KEY_MISSING",
        "ERROR",
    )
    # An object in the context of an Unleash feature, whose context holds only strings.
    nested = EvaluationContext("u1", {"country": "SE", "address": {"city": "Lund"}})
    assert failure(sdk.get_boolean_details("dark-mode", False, nested)) == (
        False,
        "INVALID_CONTEXT",
        "ERROR",
    )
    # A key both namespaces hold is refused, naming the two keys that are not ambiguous.
    both = sdk.get_boolean_details("both", False, SE)
    assert failure(both) == (False, "GENERAL", "ERROR")
    assert "unleash:both" in str(both.error_message), both.error_message
    assert "confidence:both" in str(both.error_message), both.error_message
    assert answer(sdk.get_boolean_details("unleash:both", False, SE))[0] is True
    assert answer(sdk.get_boolean_details("confidence:both.on", False, SE))[0] is True
    # A field that is not in the flag.
    assert failure(sdk.get_string_details("theme.nope", "x", SE))[1:] == ("GENERAL", "ERROR")
    # A boolean flag asked for as a string, an object flag as a boolean: the SDK refuses the
    # server's (right) type. (Not a boolean as an integer: Python's bool is an int, and the
    # provider checks with isinstance.)
    assert failure(sdk.get_string_details("dark-mode", "x", SE)) == ("x", "TYPE_MISMATCH", "ERROR")
    assert failure(sdk.get_boolean_details("theme", False, SE)) == (
        False,
        "TYPE_MISMATCH",
        "ERROR",
    )


def test_tokens_as_the_sdk_reports_them(served: Served) -> None:
    # X-API-Key is the other header OFREP providers are configured with.
    by_key = client(served, {"X-API-Key": served.token})
    assert answer(by_key.get_boolean_details("dark-mode", False, SE))[0] is True
    # An unknown token: 401 with no body; the SDK reports a general error and the default.
    stranger = client(served, {"Authorization": "Bearer smx_not-a-token"})
    got = stranger.get_boolean_details("dark-mode", False, SE)
    assert failure(got) == (False, "GENERAL", "ERROR") and got.error_message == "unauthorized"
    # No token at all.
    nobody = client(served, {})
    assert failure(nobody.get_boolean_details("dark-mode", False, SE))[1] == "GENERAL"
    # The server SDKs' client token evaluates too; a frontend token is for the frontend API.
    server_token = token(served.gateway.database_url, f"client:{DEV}", "s")
    server = client(served, {"Authorization": f"Bearer {server_token}"})
    assert answer(server.get_boolean_details("dark-mode", False, SE))[0] is True
    frontend = token(served.gateway.database_url, f"frontend:{DEV}", "f")
    got = client(served, {"Authorization": f"Bearer {frontend}"}).get_boolean_details(
        "dark-mode", False, SE
    )
    assert failure(got) == (False, "GENERAL", "ERROR") and got.error_message == "forbidden"
    # The admin token is not an evaluation token: 403.
    admin = client(served, {"Authorization": f"Bearer {ADMIN_TOKEN}"})
    got = admin.get_boolean_details("dark-mode", False, SE)
    assert failure(got) == (False, "GENERAL", "ERROR") and got.error_message == "forbidden"


def test_a_change_is_seen_by_the_next_evaluation(served: Served) -> None:
    sdk = client(served)
    base = served.gateway.url
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    off = f"{base}{FEATURES}/dark-mode/environments/{DEV}/off"
    on = f"{base}{FEATURES}/dark-mode/environments/{DEV}/on"
    rule = f"{base}/v1/{served.seeded.rule_for_swedes}"

    def swedes_get(variant: str) -> dict[str, Any]:
        assignment = {
            "assignmentId": variant,
            "variant": {"variant": f"flags/theme/variants/{variant}"},
            "bucketRanges": [{"lower": 0, "upper": 1}],
        }
        return {"assignmentSpec": {"bucketCount": 1, "assignments": [assignment]}}

    try:
        ok(httpx.post(off, headers=admin))
        assert answer(sdk.get_boolean_details("dark-mode", True, SE)) == (
            False,
            "disabled",
            "DISABLED",
        )
        ok(
            httpx.patch(
                rule,
                headers=admin,
                params={"updateMask": "assignmentSpec"},
                json=swedes_get("small"),
            )
        )
        assert answer(sdk.get_object_details("theme", {}, SE))[:2] == (SMALL, "small")
    finally:
        ok(httpx.post(on, headers=admin))
        ok(
            httpx.patch(
                rule, headers=admin, params={"updateMask": "assignmentSpec"}, json=swedes_get("big")
            )
        )
    assert answer(sdk.get_boolean_details("dark-mode", False, SE))[0] is True
    assert answer(sdk.get_object_details("theme", {}, SE))[:2] == (BIG, "big")
