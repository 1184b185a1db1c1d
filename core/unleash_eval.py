"""Unleash's feature evaluation, server-side: for one context, every feature of a client snapshot
on or off, its impression flag and its variant, as Unleash's SDK engine (Yggdrasil, the Rust core
of Unleash's Python, Ruby, .NET, Java and Go SDKs) answers them from the same client features.

Compiled once per snapshot (:func:`compile_features`, cached by ``core.flags`` at the tenant's
revision), so that a request pays for the evaluation only. The input is what
``GET /api/client/features`` serves with segments by reference: feature objects
(``name``, ``enabled``, ``impressionData``, ``strategies``, ``variants``) and the segments'
constraint lists by id (None: a segment constraints cannot say).

This module holds the engine, the compiling and the strategies' kinds; it follows Yggdrasil's
seams for the rest: the context as the compiled pieces read it (``core.unleash_context``), the
constraints (``core.unleash_constraints``), stickiness, hashing and variants
(``core.unleash_variants``), and the values its rule text cannot carry
(``core.unleash_rule_text``).

Semantics (``docs/dialects/unleash.md``, "Evaluation", is the reference):

* A feature is on when it is enabled in the environment and it has no strategies, or one of them
  matches. A strategy matches when its kind says so (below), its constraints hold and every
  constraint of every one of its segments holds. Constraints are Unleash's condition language:
  they are parsed (``core.constraints.to_expression``) and evaluated (``core.expr.evaluate``) by
  the same code as every other condition of segmux; a context field is a standard field
  (``userId``, ``sessionId``, ``remoteAddress``, ``environment``, ``appName``, ``currentTime``:
  the context's own, else the property of that name; ``currentTime`` now when both are
  missing) or else one of ``properties``.
* Kinds: ``default``; ``flexibleRollout`` (``rollout`` percent of the hash of
  ``"<groupId>:<stickiness value>"``; stickiness ``default`` = userId, else sessionId, else a
  random number; ``random``; a standard field; a property); ``userWithId``;
  ``gradualRolloutUserId``/``SessionId``/``Random``; ``remoteAddress`` (addresses and CIDR
  ranges). ``applicationHostname`` (the SDK's machine, unknown to a server) and any other name
  (a custom strategy whose code segmux does not have) never match.
* The variant comes from the first matching strategy if it has variants (its ``stickiness`` and
  ``groupId`` parameters), else from the feature's variants (their overrides first): the
  normalized hash of ``"<group>:<stickiness value>"`` with seed 86028157 modulo the total weight,
  plus one, picks by cumulative weight.
* Never widen. What Yggdrasil cannot compile turns the whole feature off there, and so here:
  an unknown operator, a segment that is not in the snapshot (or that constraints cannot say), a
  rollout over 100, a value its rule text cannot carry (a trailing backslash, a quote in a
  group id or property name), a number, date or semver its grammar refuses.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import random
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import msgspec

from core.unleash_constraints import compile_constraints
from core.unleash_context import Check, Prepared, Resolve, UnleashContext
from core.unleash_rule_text import Broken, escaped, quoted
from core.unleash_variants import (
    DISABLED_OFF,
    DISABLED_ON,
    VariantAnswer,
    Variants,
    compile_feature_variants,
    compile_strategy_variants,
    context_field,
    normalized_hash,
    rollout_stickiness,
)

_USIZE = re.compile(r"\+?[0-9]+")


# ----------------------------------------------------------------------------- the interface


class FeatureAnswer(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    enabled: bool
    impression_data: bool
    variant: VariantAnswer


Why = Literal["disabled", "static", "targeting", "split", "default"]
"""Why a feature answered as it did (``FeatureEngine.explain``): off in the environment; on
unconditionally; on by a strategy that reads the context (or a variant override); on by a
pseudorandom share (a rollout under 100%, a variant picked by weight); on, but no strategy
matched. OpenFeature's reasons (``core.ofrep``) are read from it."""


class _Strategy:
    __slots__ = ("check", "constraints", "variants", "why")

    def __init__(
        self,
        check: Check,
        constraints: Check | None,
        variants: Variants | None,
        why: Why = "targeting",
    ):
        self.check = check
        self.constraints = constraints
        self.variants = variants
        self.why = why
        """What a match of this strategy means: ``static`` (always on), ``split`` (a share
        under 100%), ``targeting`` (it reads the context)."""

    def matches(self, p: Prepared) -> bool:
        # Constraints first: they are pure and usually cheaper than a hash.
        constraints = self.constraints
        if constraints is not None and not constraints(p):
            return False
        return self.check(p)


class CompiledFeature:
    __slots__ = ("enabled", "impression_data", "name", "off", "on", "strategies", "variants")

    def __init__(
        self,
        name: str,
        enabled: bool,
        impression_data: bool,
        strategies: list[_Strategy] | None,
        variants: Variants | None,
    ) -> None:
        self.name = name
        self.impression_data = impression_data
        self.enabled = enabled and strategies is not None
        self.strategies = strategies or []
        self.variants = variants
        self.off = FeatureAnswer(
            name=name, enabled=False, impression_data=impression_data, variant=DISABLED_OFF
        )
        self.on = FeatureAnswer(
            name=name, enabled=True, impression_data=impression_data, variant=DISABLED_ON
        )

    def _deciding(self, p: Prepared) -> tuple[Variants | None, Why] | None:
        """Unleash's one rule of which strategy decides, for :meth:`evaluate` and
        :meth:`explain` alike: none when the feature is off (disabled, or no strategy matches),
        else the variants that apply and why: a feature without strategies is on for everyone,
        otherwise the first strategy that matches, in order, with its own variants if it has
        any."""
        if not self.enabled:
            return None
        if not self.strategies:
            return self.variants, "static"
        for strategy in self.strategies:
            # ``_Strategy.matches``, inline: this loop runs for every feature of every request.
            constraints = strategy.constraints
            if (constraints is None or constraints(p)) and strategy.check(p):
                return strategy.variants or self.variants, strategy.why
        return None

    def evaluate(self, p: Prepared) -> FeatureAnswer:
        deciding = self._deciding(p)
        if deciding is None:
            return self.off
        return self._on(deciding[0], p)

    def _on(self, variants: Variants | None, p: Prepared) -> FeatureAnswer:
        if variants is None:
            return self.on
        return FeatureAnswer(
            name=self.name,
            enabled=True,
            impression_data=self.impression_data,
            variant=variants.pick(p),
        )

    def explain(self, p: Prepared) -> tuple[FeatureAnswer, Why]:
        """:meth:`evaluate`'s answer and why it is so."""
        deciding = self._deciding(p)
        if deciding is None:
            return self.off, "default" if self.enabled else "disabled"
        return self._on_why(*deciding, p)

    def _on_why(
        self, variants: Variants | None, why: Why, p: Prepared
    ) -> tuple[FeatureAnswer, Why]:
        if variants is None:
            return self.on, why
        variant, overridden = variants.pick_why(p)
        if overridden:
            why = "targeting"
        elif why != "targeting" and sum(1 for v in variants.variants if v.weight > 0) > 1:
            why = "split"
        answer = FeatureAnswer(
            name=self.name, enabled=True, impression_data=self.impression_data, variant=variant
        )
        return answer, why


class FeatureEngine:
    """The compiled features of one snapshot, in the snapshot's order."""

    def __init__(self, features: list[CompiledFeature], weight: int, reads_time: bool) -> None:
        self.features = features
        self.by_name = {f.name: f for f in features}
        self.weight = weight
        """An estimate of the bytes this holds (for the caches' bounds)."""
        self.reads_time = reads_time
        """Whether any constraint or stickiness reads ``currentTime``."""

    def evaluate(
        self,
        context: UnleashContext,
        *,
        now: dt.datetime | None = None,
        rng: random.Random | None = None,
    ) -> list[FeatureAnswer]:
        """Every feature's answer for ``context``."""
        p = Prepared(context, now, rng or _RNG, self.reads_time)
        return [f.evaluate(p) for f in self.features]

    def explain(
        self,
        context: UnleashContext,
        *,
        now: dt.datetime | None = None,
        rng: random.Random | None = None,
    ) -> list[tuple[FeatureAnswer, Why]]:
        """Every feature's answer for ``context`` (as :meth:`evaluate`) and why it is so."""
        p = Prepared(context, now, rng or _RNG, self.reads_time)
        return [f.explain(p) for f in self.features]

    def explain_one(
        self,
        name: str,
        context: UnleashContext,
        *,
        now: dt.datetime | None = None,
        rng: random.Random | None = None,
    ) -> tuple[FeatureAnswer, Why] | None:
        """One feature's answer and why, or None when there is no feature of that name."""
        feature = self.by_name.get(name)
        if feature is None:
            return None
        return feature.explain(Prepared(context, now, rng or _RNG, self.reads_time))

    def evaluate_one(
        self,
        name: str,
        context: UnleashContext,
        *,
        now: dt.datetime | None = None,
        rng: random.Random | None = None,
    ) -> FeatureAnswer | None:
        """One feature's answer, or None when the snapshot has no feature of that name."""
        feature = self.by_name.get(name)
        if feature is None:
            return None
        return feature.evaluate(Prepared(context, now, rng or _RNG, self.reads_time))


_RNG = random.Random()


# ----------------------------------------------------------------------------- compiling


def compile_features(
    features: Sequence[Mapping[str, Any]],
    segments: Mapping[int, Sequence[Mapping[str, Any]] | None],
) -> FeatureEngine:
    """Compile client features (the client API's shape, segments by reference) once."""
    compiled: list[CompiledFeature] = []
    weight = 0
    for feature in features:
        compiled.append(_compile_feature(feature, segments))
        weight += len(msgspec.json.encode(feature)) * 16
    weight += sum(len(msgspec.json.encode(c or [])) * 16 for c in segments.values())
    return FeatureEngine(compiled, weight, _reads_time(features, segments))


def _reads_time(
    features: Sequence[Mapping[str, Any]],
    segments: Mapping[int, Sequence[Mapping[str, Any]] | None],
) -> bool:
    lists = [c or () for c in segments.values()]
    for feature in features:
        for strategy in feature.get("strategies") or ():
            lists.append(strategy.get("constraints") or ())
            if (strategy.get("parameters") or {}).get("stickiness") == "currentTime":
                return True
    return any(c.get("contextName") == "currentTime" for cs in lists for c in cs)


def _compile_feature(feature: Mapping[str, Any], segments: Mapping[int, Any]) -> CompiledFeature:
    name = str(feature.get("name"))
    strategies: list[_Strategy] | None
    try:
        strategies = [_compile_strategy(s, name, segments) for s in feature.get("strategies") or ()]
    except Broken:
        strategies = None
    variants = compile_feature_variants(feature.get("variants") or [], name)
    return CompiledFeature(
        name=name,
        enabled=feature.get("enabled") is True,
        impression_data=feature.get("impressionData") is True,
        strategies=strategies,
        variants=variants,
    )


def _compile_strategy(
    strategy: Mapping[str, Any], feature: str, segments: Mapping[int, Any]
) -> _Strategy:
    params: Mapping[str, str] = strategy.get("parameters") or {}
    raw: list[Mapping[str, Any]] = list(strategy.get("constraints") or [])
    for seq in strategy.get("segments") or ():
        found = segments.get(seq)
        if found is None:  # not in the snapshot, or constraints cannot say it
            raise Broken(f"segment {seq} cannot be resolved")
        raw.extend(found)
    check = _kind(str(strategy.get("name")), params, feature)
    constraints = compile_constraints(raw)
    test: Check | None = None
    if constraints is False:
        check = _never
    elif constraints is not True:
        test = constraints
    variants = compile_strategy_variants(strategy.get("variants") or [], params, feature)
    return _Strategy(check, test, variants, _why(str(strategy.get("name")), params, test))


_ROLLOUT_PERCENT = {
    "flexibleRollout": "rollout",
    "gradualRolloutUserId": "percentage",
    "gradualRolloutSessionId": "percentage",
    "gradualRolloutRandom": "percentage",
}


def _why(name: str, params: Mapping[str, str], constraints: Check | None) -> Why:
    """What a match of this strategy means (see :data:`Why`). A rollout at 100% is on for
    every context its constraints let through, like ``default``."""
    if name in _ROLLOUT_PERCENT:
        raw = params.get(_ROLLOUT_PERCENT[name])
        if raw is None or not _USIZE.fullmatch(raw) or int(raw) < 100:
            return "split"
    elif name != "default":
        return "targeting"
    return "static" if constraints is None else "targeting"


def _never(p: Prepared) -> bool:
    return False


def _always(p: Prepared) -> bool:
    return True


# --- kinds ---------------------------------------------------------------------------------


def _kind(name: str, params: Mapping[str, str], feature: str) -> Check:
    if name == "default":
        return _always
    if name == "flexibleRollout":
        group = params.get("groupId", feature)
        return _rollout(params.get("rollout"), rollout_stickiness(params.get("stickiness")), group)
    if name == "gradualRolloutUserId":
        return _gradual(params, "userId")
    if name == "gradualRolloutSessionId":
        return _gradual(params, "sessionId")
    if name == "gradualRolloutRandom":
        return _random(params.get("percentage"))
    if name == "userWithId":
        return _user_with_id(params.get("userIds"))
    if name == "remoteAddress":
        return _remote_address(params.get("IPs"))
    if name == "applicationHostname":
        # The application's host is the SDK's machine, which a server-side answer cannot
        # know (Yggdrasil's own build for the Python SDK has no hostname either): never.
        return _never
    return _never  # a custom strategy: no code of it runs here


def _percent(raw: str | None) -> int | None:
    """A rollout parameter as Yggdrasil reads it: an unsigned integer (None: the strategy is
    off); over 100 its rule text does not parse, so the feature is off (``Broken``)."""
    if raw is None or not _USIZE.fullmatch(raw):
        return None
    value = int(raw)
    if value >= 2**64:
        return None
    if value > 100:
        raise Broken(f"rollout {raw} is over 100")
    return value


def _rollout(raw: str | None, stickiness: Resolve, group: str) -> Check:
    found = _percent(raw)
    if found is None:
        return _never
    percent: int = found
    group = quoted(group)

    def check(p: Prepared) -> bool:
        value = stickiness(p)
        return value is not None and normalized_hash(group, value, 100) <= percent

    return check


def _gradual(params: Mapping[str, str], field: str) -> Check:
    group = params.get("groupId")
    if group is None:  # Yggdrasil writes "false" before looking at the percentage
        return _never
    return _rollout(params.get("percentage"), context_field(field), group)


def _random(raw: str | None) -> Check:
    # "random < percentage" with random in 1..99: a number, not a percentage, in Yggdrasil's
    # grammar, so any size parses.
    if raw is None or not _USIZE.fullmatch(raw) or int(raw) >= 2**64:
        return _never
    percent = int(raw)
    return lambda p: p.rng.randint(1, 99) < percent


def _user_with_id(raw: str | None) -> Check:
    if raw is None:
        return _never
    ids = set()
    for part in raw.split(","):
        ids.add(escaped(part.strip()))
    return lambda p: p.fields.get("userId") in ids


def _remote_address(raw: str | None) -> Check:
    if raw is None:
        return _never
    networks = []
    for part in raw.split(","):
        text = quoted(part.strip())
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            continue  # Yggdrasil drops what does not parse

    def check(p: Prepared) -> bool:
        value = p.fields.get("remoteAddress")
        if value is None or "%" in value:  # no zone ids in Rust's IpAddr
            return False
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            return False
        return any(address in net for net in networks)

    return check
