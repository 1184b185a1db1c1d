"""``core.unleash_eval``: Unleash's SDK semantics, case by case (each row's expected answer is
what Yggdrasil, the SDKs' engine, gives for it: ``test_unleash_eval_yggdrasil.py`` runs the
same kind of input through Yggdrasil itself)."""

from __future__ import annotations

import datetime as dt
import random
import socket
from typing import Any

import msgspec
import pytest

from core.murmur3 import murmur3_x86_32
from core.unleash_context import UnleashContext
from core.unleash_eval import FeatureAnswer, compile_features
from core.unleash_variants import DISABLED_OFF, DISABLED_ON, VariantAnswer, normalized_hash

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def feature(
    strategies: list[dict[str, Any]] | None = None,
    *,
    name: str = "f",
    enabled: bool = True,
    variants: list[dict[str, Any]] | None = None,
    impression: bool = False,
) -> dict[str, Any]:
    return {
        "name": name,
        "enabled": enabled,
        "impressionData": impression,
        "strategies": strategies or [],
        "variants": variants or [],
    }


def strategy(
    name: str = "default",
    parameters: dict[str, str] | None = None,
    constraints: list[dict[str, Any]] | None = None,
    segments: list[int] | None = None,
    variants: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "name": name,
        "parameters": parameters or {},
        "constraints": constraints or [],
        "segments": segments or [],
        "variants": variants or [],
    }


def answer(
    f: dict[str, Any],
    segments: dict[int, Any] | None = None,
    *,
    rng: random.Random | None = None,
    **context: Any,
) -> FeatureAnswer:
    engine = compile_features([f], segments or {})
    [one] = engine.evaluate(msgspec.convert(context, UnleashContext), now=NOW, rng=rng)
    return one


def on(f: dict[str, Any], segments: dict[int, Any] | None = None, **context: Any) -> bool:
    return answer(f, segments, **context).enabled


# --- hashing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "seed", "expected"),
    [
        # The reference implementation's published vectors.
        (b"", 0, 0),
        (b"", 1, 0x514E28B7),
        (b"", 0xFFFFFFFF, 0x81F16F39),
        (b"\0\0\0\0", 0, 0x2362F9DE),
        (b"aaaa", 0x9747B28C, 0x5A97808A),
        (b"abc", 0, 0xB3DD93FA),
        (b"Hello, world!", 0x9747B28C, 0x24884CBA),
        (b"The quick brown fox jumps over the lazy dog", 0x9747B28C, 0x2FA826CD),
    ],
)
def test_murmur3_x86_32_is_the_reference_hash(data: bytes, seed: int, expected: int) -> None:
    assert murmur3_x86_32(data, seed) == expected


def test_normalized_hash_matches_the_sdks_published_values() -> None:
    # The Node SDK's own tests: normalizedHash('123', 'gr1') is 73, ('999', 'groupX') is 25.
    assert normalized_hash("gr1", "123", 100) == 73
    assert normalized_hash("groupX", "999", 100) == 25


# --- features ----------------------------------------------------------------------------------


def test_a_disabled_feature_is_off_whatever_its_strategies_say() -> None:
    a = answer(feature([strategy()], enabled=False, impression=True), userId="u")
    assert a == FeatureAnswer(name="f", enabled=False, impression_data=True, variant=DISABLED_OFF)


def test_no_strategies_is_on_and_no_variant_is_the_disabled_variant_of_an_enabled_feature() -> None:
    a = answer(feature([]))
    assert a.enabled and a.variant == DISABLED_ON
    assert a.variant == VariantAnswer(name="disabled", enabled=False, feature_enabled=True)


def test_one_matching_strategy_is_enough() -> None:
    f = feature(
        [strategy("userWithId", {"userIds": "a"}), strategy("userWithId", {"userIds": "b"})]
    )
    assert on(f, userId="a") and on(f, userId="b") and not on(f, userId="c")


def test_an_unknown_strategy_never_matches_but_the_others_still_count() -> None:
    assert not on(feature([strategy("myCustom")]), userId="u")
    assert on(feature([strategy("myCustom"), strategy()]), userId="u")


# --- kinds -------------------------------------------------------------------------------------


def test_user_with_id_trims_the_list() -> None:
    f = feature([strategy("userWithId", {"userIds": "123, 222 ,88"})])
    assert on(f, userId="222") and on(f, userId="88") and not on(f, userId=" 222")
    assert not on(f)
    assert not on(feature([strategy("userWithId", {})]), userId="123")


def test_flexible_rollout_buckets_by_group_and_user() -> None:
    def rollout(percent: int, **params: str) -> dict[str, Any]:
        return feature([strategy("flexibleRollout", {"rollout": str(percent), **params})])

    bucket = normalized_hash("g", "u1", 100)
    assert on(rollout(bucket, groupId="g"), userId="u1")
    assert not on(rollout(bucket - 1, groupId="g"), userId="u1")
    # Without a groupId the feature's name is the group.
    assert on(rollout(normalized_hash("f", "u1", 100)), userId="u1")
    assert not on(rollout(normalized_hash("f", "u1", 100) - 1), userId="u1")
    assert on(rollout(100), userId="anyone") and not on(rollout(0), userId="anyone")


def test_flexible_rollout_stickiness() -> None:
    def sticky(stickiness: str, percent: int) -> dict[str, Any]:
        params = {"rollout": str(percent), "stickiness": stickiness, "groupId": "g"}
        return feature([strategy("flexibleRollout", params)])

    s = normalized_hash("g", "s1", 100)
    assert on(sticky("default", s), sessionId="s1")  # no userId: the session
    assert not on(sticky("default", s - 1), sessionId="s1")
    assert on(sticky("sessionId", s), userId="x", sessionId="s1")
    assert not on(sticky("sessionId", 100), userId="x")  # its field is missing: no match
    t = normalized_hash("g", "gold", 100)
    assert on(sticky("tier", t), properties={"tier": "gold"})
    assert not on(sticky("tier", t - 1), properties={"tier": "gold"})
    assert not on(sticky("tier", 100), userId="u")
    # Without any id, default stickiness draws a random number: 100% still matches.
    assert on(sticky("default", 100)) and on(sticky("random", 100)) and not on(sticky("random", 0))


def test_random_stickiness_draws_from_the_given_source() -> None:
    params = {"rollout": "50", "stickiness": "random", "groupId": "g"}
    f = feature([strategy("flexibleRollout", params)])
    hits = sum(answer(f, rng=random.Random(seed)).enabled for seed in range(400))
    assert 140 < hits < 260  # about half


def test_rollout_parameters_as_yggdrasil_reads_them() -> None:
    def with_rollout(value: str) -> dict[str, Any]:
        return feature([strategy("flexibleRollout", {"rollout": value}), strategy()])

    assert on(with_rollout("+100"), userId="u")  # an unsigned integer, "+" allowed
    # Not a number: that strategy is false, the others still count.
    assert on(with_rollout("fifty"), userId="u") and on(with_rollout(" 50"), userId="u")
    # Over 100: Yggdrasil cannot compile the feature, so it is off altogether.
    assert not on(with_rollout("101"), userId="u")


def test_gradual_rollouts() -> None:
    uid = feature([strategy("gradualRolloutUserId", {"percentage": "100", "groupId": "g"})])
    assert on(uid, userId="u") and not on(uid, sessionId="s")
    sid = feature([strategy("gradualRolloutSessionId", {"percentage": "100", "groupId": "g"})])
    assert on(sid, sessionId="s") and not on(sid, userId="u")
    no_group = feature([strategy("gradualRolloutUserId", {"percentage": "100"})])
    assert not on(no_group, userId="u")
    exact = normalized_hash("g", "u", 100)
    edge = feature([strategy("gradualRolloutUserId", {"percentage": str(exact), "groupId": "g"})])
    assert on(edge, userId="u")
    assert on(feature([strategy("gradualRolloutRandom", {"percentage": "100"})]))
    assert not on(feature([strategy("gradualRolloutRandom", {"percentage": "0"})]))
    # "random < 1" with random in 1..99: never.
    never = feature([strategy("gradualRolloutRandom", {"percentage": "1"})])
    assert not any(answer(never, rng=random.Random(s)).enabled for s in range(200))


def test_remote_address_takes_addresses_and_ranges() -> None:
    f = feature([strategy("remoteAddress", {"IPs": "10.0.0.1, 192.168.0.0/16, 2001:db8::/32, x"})])
    assert on(f, remoteAddress="10.0.0.1") and on(f, remoteAddress="192.168.44.3")
    assert on(f, remoteAddress="2001:db8::7")
    assert not on(f, remoteAddress="10.0.0.2") and not on(f, remoteAddress="not an ip")
    assert not on(f, remoteAddress="fe80::1%eth0") and not on(f)


def test_application_hostname_never_matches_the_host_of_the_sdk_is_unknown() -> None:
    f = feature([strategy("applicationHostname", {"hostNames": socket.gethostname()})])
    assert not on(f) and on(feature([strategy("applicationHostname"), strategy()]))


# --- constraints and segments ---------------------------------------------------------------

BETA = [{"contextName": "userId", "operator": "IN", "values": ["u1", "u2"]}]
PRO = [{"contextName": "plan", "operator": "NOT_IN", "values": ["free"]}]


def test_every_segment_and_constraint_of_a_strategy_must_hold() -> None:
    f = feature([strategy(constraints=PRO, segments=[1])])
    segments: dict[int, Any] = {1: BETA}
    assert on(f, segments, userId="u1")
    assert not on(f, segments, userId="u1", properties={"plan": "free"})
    assert not on(f, segments, userId="u3")


def test_a_segment_not_in_the_snapshot_turns_the_feature_off() -> None:
    f = feature([strategy(segments=[1]), strategy()])
    assert not on(f, {}, userId="u1")
    assert not on(f, {1: None}, userId="u1")  # a segment constraints cannot say


def test_standard_fields_come_from_the_root_else_the_properties_and_names_are_not_paths() -> None:
    f = feature([strategy(constraints=BETA)])
    assert on(f, properties={"userId": "u1"})
    assert not on(f, userId="u9", properties={"userId": "u1"})
    assert not on(f, userId="", properties={"userId": "u1"})  # an empty one is a value
    rollout = {"rollout": "100", "stickiness": "sessionId", "groupId": "g"}
    assert on(feature([strategy("flexibleRollout", rollout)]), properties={"sessionId": "s"})
    dotted = [{"contextName": "a.b", "operator": "IN", "values": ["x"]}]
    assert on(feature([strategy(constraints=dotted)]), properties={"a.b": "x"})


def test_operators_follow_the_sdks() -> None:
    def holds(constraint: dict[str, Any], **context: Any) -> bool:
        return on(feature([strategy(constraints=[constraint])]), **context)

    assert holds({"contextName": "plan", "operator": "NOT_IN", "values": ["free"]})  # missing
    assert not holds(
        {"contextName": "plan", "operator": "IN", "values": ["Pro"], "caseInsensitive": True},
        properties={"plan": "pro"},
    )
    assert holds(
        {
            "contextName": "e",
            "operator": "STR_ENDS_WITH",
            "values": ["@X.COM"],
            "caseInsensitive": True,
        },
        properties={"e": "a@x.com"},
    )
    assert holds(
        {"contextName": "n", "operator": "NUM_GTE", "value": "12"}, properties={"n": "12.0"}
    )
    assert not holds(
        {"contextName": "n", "operator": "NUM_GT", "value": "1"}, properties={"n": "x"}
    )
    assert holds(
        {"contextName": "v", "operator": "SEMVER_LT", "value": "2.0.0"},
        properties={"v": "2.0.0-beta.1"},
    )
    assert holds(
        {
            "contextName": "currentTime",
            "operator": "DATE_AFTER",
            "value": "2025-01-01T00:00:00.000Z",
        }
    )  # currentTime missing: now (2026 here)
    assert not holds(
        {"contextName": "currentTime", "operator": "DATE_BEFORE", "value": "2025-01-01T00:00:00Z"},
        currentTime="2025-01-01T00:00:00Z",
    )
    assert holds(
        {"contextName": "r", "operator": "REGEX", "value": "^a.c"}, properties={"r": "abcd"}
    )
    inverted_in = {"contextName": "plan", "operator": "IN", "values": ["x"], "inverted": True}
    assert holds(inverted_in)


@pytest.mark.parametrize(
    ("when", "after"),
    [
        ("2030-01-01T00:00:00Z", True),
        ("2030-01-01 00:00:00Z", True),
        ("2030-01-01t00:00:00z", True),
        ("2030-01-01T00:00:00.123456789Z", True),
        ("2030-01-01T00:00:00+01:00", True),
        # Not an instant Rust reads: false, and true inverted (as Yggdrasil answers).
        ("2030-01-01", False),
        ("2030-01-01T00:00:00", False),
        # Rust takes this one; segmux does not (narrower, never wider).
        ("2030-01-01T00:00:00+0100", False),
    ],
)
def test_a_context_date_compares_only_as_a_full_instant(when: str, after: bool) -> None:
    constraint = {
        "contextName": "currentTime",
        "operator": "DATE_AFTER",
        "value": "2025-01-01T00:00:00Z",
    }
    assert on(feature([strategy(constraints=[constraint])]), currentTime=when) is after
    inverted = {**constraint, "inverted": True}
    assert on(feature([strategy(constraints=[inverted])]), currentTime=when) is not after


@pytest.mark.parametrize(
    "constraint",
    [
        {"contextName": "x", "operator": "IN_CIDR", "values": ["10.0.0.0/8"]},  # not in 8.2
        {"contextName": "x", "operator": "WHATEVER", "values": ["a"]},
        {"contextName": "x", "operator": "IN", "values": ["ends with \\"]},
        {"contextName": 'a"b', "operator": "IN", "values": ["x"]},
        {"contextName": "n", "operator": "NUM_EQ", "value": ".5"},
        {"contextName": "d", "operator": "DATE_AFTER", "value": "2025-01-01"},
        {"contextName": "s", "operator": "STR_CONTAINS", "values": []},
    ],
)
def test_what_yggdrasil_cannot_compile_turns_the_feature_off(constraint: dict[str, Any]) -> None:
    f = feature([strategy(constraints=[constraint]), strategy()])
    assert not on(f, userId="u", properties={"x": "a", "n": "0.5", "d": "2026-01-01T00:00:00Z"})


def test_empty_value_lists_are_constants_and_a_v_semver_is_false() -> None:
    def holds(constraint: dict[str, Any]) -> bool:
        return on(feature([strategy(constraints=[constraint])]), properties={"x": "a"})

    assert not holds({"contextName": "x", "operator": "IN", "values": []})
    assert holds({"contextName": "x", "operator": "NOT_IN", "values": []})
    assert holds({"contextName": "x", "operator": "IN", "values": [], "inverted": True})
    assert not holds(
        {"contextName": "x", "operator": "SEMVER_EQ", "value": "v1.0.0", "inverted": True}
    )


# --- variants --------------------------------------------------------------------------------


def variant(name: str, weight: int, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "weight": weight,
        "weightType": "variable",
        "stickiness": "default",
        **extra,
    }


def test_strategy_variants_pick_by_the_normalized_hash() -> None:
    payload = {"type": "string", "value": "b"}
    params = {"rollout": "100", "stickiness": "default", "groupId": "g"}
    variants = [variant("blue", 500, payload=payload), variant("red", 500)]
    f = feature([strategy("flexibleRollout", params, variants=variants)])
    for user in ("u1", "u2", "u3", "u4", "u5", "u6"):
        target = normalized_hash("g", user, 1000, 86028157)
        got = answer(f, userId=user).variant
        expected = "blue" if target <= 500 else "red"
        assert got.name == expected and got.enabled and got.feature_enabled
        assert got.payload == (payload if expected == "blue" else None)


def test_the_first_matching_strategy_decides_the_variant_even_without_variants() -> None:
    f = feature(
        [
            strategy("userWithId", {"userIds": "u1"}),
            strategy(variants=[variant("only", 1000)]),
        ]
    )
    assert answer(f, userId="u1").variant == DISABLED_ON
    assert answer(f, userId="u2").variant.name == "only"


def test_feature_variants_with_overrides_when_the_strategy_has_none() -> None:
    variants = [
        variant("a", 0, overrides=[{"contextName": "userId", "values": ["vip"]}]),
        variant("b", 1000, stickiness="plan"),
    ]
    f = feature([strategy()], variants=variants)
    assert answer(f, userId="vip").variant.name == "a"
    assert answer(f, userId="x", properties={"plan": "p"}).variant.name == "b"


def test_no_weight_is_no_variant() -> None:
    f = feature([strategy(variants=[variant("a", 0), variant("b", 0)])])
    assert answer(f, userId="u").variant == DISABLED_ON


def test_answers_come_in_the_snapshot_order_and_a_name_can_be_asked_alone() -> None:
    engine = compile_features([feature([], name="b"), feature([], name="a", enabled=False)], {})
    answers = engine.evaluate(UnleashContext())
    assert [(a.name, a.enabled) for a in answers] == [("b", True), ("a", False)]
    one = engine.evaluate_one("a", UnleashContext())
    assert one is not None and not one.enabled
    assert engine.evaluate_one("nope", UnleashContext()) is None
