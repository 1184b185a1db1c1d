"""Unleash's feature evaluation, server-side: for one context, every feature of a client snapshot
on or off, its impression flag and its variant, as Unleash's SDK engine (Yggdrasil, the Rust core
of Unleash's Python, Ruby, .NET, Java and Go SDKs) answers them from the same client features.

Compiled once per snapshot (:func:`compile_features`, cached by ``core.flags`` at the tenant's
revision), so that a request pays for the evaluation only. The input is what
``GET /api/client/features`` serves with segments by reference: feature objects
(``name``, ``enabled``, ``impressionData``, ``strategies``, ``variants``) and the segments'
constraint lists by id (None: a segment constraints cannot say).

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
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import msgspec

from core.constraints import to_expression
from core.errors import Invalid, LimitExceeded, NotExpressible
from core.expr import ast
from core.expr.evaluate import compile_expr
from core.expr.kinds import SEMVER_RE, parse_datetime_us
from core.expr.unleash import OPERATORS
from core.murmur3 import murmur3_x86_32

ROLLOUT_SEED = 0
VARIANT_SEED = 86028157
"""Yggdrasil's ``VARIANT_NORMALIZATION_SEED``: variants hash apart from rollouts."""
STANDARD_FIELDS = frozenset(
    ("userId", "sessionId", "remoteAddress", "environment", "appName", "currentTime")
)
"""Context fields of the context's root (taken from ``properties`` only when the root lacks
them); every other name is a property."""
DEFAULT_STICKINESS_RANGE = 10_000
"""``default``/``random`` stickiness without an id hashes a random integer in 1..9999."""

_USIZE = re.compile(r"\+?[0-9]+")
# The grammar of Yggdrasil's rule text for the values it writes unquoted.
_YGG_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?")
_YGG_DATE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{3})?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})"
)
_FULL_INSTANT = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?"
    r"(?:[Zz]|[+-][0-9]{2}:[0-9]{2})$"
)
"""A context date the SDKs' engine reads (RFC 3339): a subset of the shared evaluator's."""
_STRINGY = frozenset(("IN", "NOT_IN", "STR_STARTS_WITH", "STR_ENDS_WITH", "STR_CONTAINS"))
_STR_OPS = frozenset(("STR_STARTS_WITH", "STR_ENDS_WITH", "STR_CONTAINS"))
_SEMVER_OPS = frozenset(("SEMVER_EQ", "SEMVER_GT", "SEMVER_GTE", "SEMVER_LT", "SEMVER_LTE"))
_NUM_OPS = frozenset(("NUM_EQ", "NUM_GT", "NUM_GTE", "NUM_LT", "NUM_LTE"))
_DATE_OPS = frozenset(("DATE_AFTER", "DATE_BEFORE"))
_KNOWN_OPERATORS = frozenset(OPERATORS)


# ----------------------------------------------------------------------------- the interface


class UnleashContext(msgspec.Struct, frozen=True, kw_only=True, rename="camel", omit_defaults=True):
    """An Unleash context as SDKs send it (``appName``, ``userId``, … ``properties``)."""

    app_name: str | None = None
    environment: str | None = None
    user_id: str | None = None
    session_id: str | None = None
    remote_address: str | None = None
    current_time: str | None = None
    properties: dict[str, str] = {}


class VariantAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """A feature's variant for one context: ``disabled`` (not enabled) when it has none."""

    name: str
    enabled: bool
    feature_enabled: bool
    payload: dict[str, Any] | None = None


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

DISABLED_OFF = VariantAnswer(name="disabled", enabled=False, feature_enabled=False)
DISABLED_ON = VariantAnswer(name="disabled", enabled=False, feature_enabled=True)


# ----------------------------------------------------------------------------- a context, ready


class Prepared:
    """One context as the compiled features read it: the flat object constraints evaluate,
    the standard fields for stickiness, the properties, and the random source."""

    __slots__ = ("fields", "flat", "properties", "rng")

    def __init__(
        self,
        context: UnleashContext,
        now: dt.datetime | None,
        rng: random.Random,
        reads_time: bool = True,
    ) -> None:
        props = context.properties
        self.properties = props
        fields: dict[str, str] = {}
        # A standard field missing from the context is taken from the properties, as the SDKs
        # do (a value at the root, even an empty one, wins).
        for key, value in (
            ("userId", context.user_id),
            ("sessionId", context.session_id),
            ("remoteAddress", context.remote_address),
            ("environment", context.environment),
            ("appName", context.app_name),
        ):
            if value is None:
                value = props.get(key)
            if value is not None:
                fields[key] = value
        current_time = context.current_time
        if current_time is None:
            current_time = props.get("currentTime")
        if current_time is not None:
            fields["currentTime"] = current_time
        elif reads_time:  # formatting now costs more than the rest: only when it is read
            fields["currentTime"] = _now_text(now)
        self.fields = fields
        self.flat: dict[str, Any] = {**props, **fields}
        self.rng = rng


def _now_text(now: dt.datetime | None) -> str:
    moment = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# ----------------------------------------------------------------------------- compiled pieces

Check = Callable[[Prepared], bool]
Resolve = Callable[[Prepared], str | None]


class Broken(Exception):
    """Yggdrasil could not compile the feature: it is off for every context."""


class _Variant(msgspec.Struct, frozen=True):
    name: str
    weight: int
    payload: dict[str, Any] | None
    overrides: tuple[tuple[str, frozenset[str]], ...] = ()


class _Variants:
    """A list of variants with the hash group and stickiness that pick among them."""

    __slots__ = ("answers", "group", "has_overrides", "seed_of", "total", "variants")

    def __init__(self, variants: list[_Variant], group: str, stickiness: str | None) -> None:
        self.variants = variants
        self.group = group
        self.total = sum(v.weight for v in variants)
        self.seed_of = _variant_seed(stickiness)
        self.has_overrides = any(v.overrides for v in variants)
        self.answers = [
            VariantAnswer(name=v.name, enabled=True, feature_enabled=True, payload=v.payload)
            for v in variants
        ]

    def pick(self, p: Prepared) -> VariantAnswer:
        return self.pick_why(p)[0]

    def pick_why(self, p: Prepared) -> tuple[VariantAnswer, bool]:
        """The variant, and whether an override (not the weights) chose it."""
        if self.has_overrides:
            for i, v in enumerate(self.variants):
                for field, values in v.overrides:
                    value = _override_value(field, p)
                    if value is not None and value in values:
                        return self.answers[i], True
        return self._weighted(p), False

    def _weighted(self, p: Prepared) -> VariantAnswer:
        if self.total <= 0:
            return DISABLED_ON  # no weight to share (Yggdrasil would divide by zero)
        seed = self.seed_of(p)
        if seed is None:
            target = p.rng.randint(1, self.total)
        else:
            target = normalized_hash(self.group, seed, self.total, VARIANT_SEED)
        running = 0
        for i, v in enumerate(self.variants):
            running += v.weight
            if running >= target:
                return self.answers[i]
        return DISABLED_ON


class _Strategy:
    __slots__ = ("check", "constraints", "variants", "why")

    def __init__(
        self,
        check: Check,
        constraints: Check | None,
        variants: _Variants | None,
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
        variants: _Variants | None,
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

    def evaluate(self, p: Prepared) -> FeatureAnswer:
        if not self.enabled:
            return self.off
        if not self.strategies:
            return self._on(self.variants, p)
        for strategy in self.strategies:
            if strategy.matches(p):
                return self._on(strategy.variants or self.variants, p)
        return self.off

    def _on(self, variants: _Variants | None, p: Prepared) -> FeatureAnswer:
        if variants is None:
            return self.on
        return FeatureAnswer(
            name=self.name,
            enabled=True,
            impression_data=self.impression_data,
            variant=variants.pick(p),
        )

    def explain(self, p: Prepared) -> tuple[FeatureAnswer, Why]:
        """:meth:`evaluate`'s answer (the same steps) and why it is so."""
        if not self.enabled:
            return self.off, "disabled"
        if not self.strategies:
            return self._on_why(self.variants, p, "static")
        for strategy in self.strategies:
            if strategy.matches(p):
                return self._on_why(strategy.variants or self.variants, p, strategy.why)
        return self.off, "default"

    def _on_why(
        self, variants: _Variants | None, p: Prepared, why: Why
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


# ----------------------------------------------------------------------------- hashing


def normalized_hash(group: str, identifier: str, modulus: int, seed: int = ROLLOUT_SEED) -> int:
    """Unleash's normalized hash: ``murmur3_x86_32("<group>:<identifier>", seed) % modulus + 1``
    (1..modulus)."""
    return murmur3_x86_32(f"{group}:{identifier}".encode(), seed) % modulus + 1


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
    variants = _feature_variants(feature.get("variants") or [], name)
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
    constraints = _constraints(raw)
    test: Check | None = None
    if constraints is False:
        check = _never
    elif constraints is not True:
        test = constraints
    variants = _strategy_variants(strategy.get("variants") or [], params, feature)
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
        return _rollout(params.get("rollout"), _stickiness(params.get("stickiness")), group)
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
    group = _quoted(group)

    def check(p: Prepared) -> bool:
        value = stickiness(p)
        return value is not None and normalized_hash(group, value, 100) <= percent

    return check


def _gradual(params: Mapping[str, str], field: str) -> Check:
    group = params.get("groupId")
    if group is None:  # Yggdrasil writes "false" before looking at the percentage
        return _never
    return _rollout(params.get("percentage"), _field(field), group)


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
        ids.add(_escaped(part.strip()))
    return lambda p: p.fields.get("userId") in ids


def _remote_address(raw: str | None) -> Check:
    if raw is None:
        return _never
    networks = []
    for part in raw.split(","):
        text = _quoted(part.strip())
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


# --- stickiness ----------------------------------------------------------------------------


def _field(name: str) -> Resolve:
    return lambda p: p.fields.get(name)


def _property(name: str) -> Resolve:
    return lambda p: p.properties.get(name)


def _random_id(p: Prepared) -> str:
    return str(p.rng.randint(1, DEFAULT_STICKINESS_RANGE - 1))


def _default_id(p: Prepared) -> str:
    fields = p.fields
    value = fields.get("userId")
    if value is None:
        value = fields.get("sessionId")
    return _random_id(p) if value is None else value


def _stickiness(raw: str | None) -> Resolve:
    """A rollout's stickiness: the value its hash is of (None: the strategy does not match)."""
    if raw is None or raw == "default":
        return _default_id
    if raw == "random":
        return _random_id
    if raw in STANDARD_FIELDS:
        return _field(raw)
    return _property(_quoted(raw))


def _variant_seed(stickiness: str | None) -> Resolve:
    """A variant's stickiness (None: a random pick). ``currentTime`` is not one of its fields
    in Yggdrasil, so it is read from the properties like any custom name."""
    if stickiness is None or stickiness == "default":
        return lambda p: p.fields.get("userId", p.fields.get("sessionId"))
    if stickiness in STANDARD_FIELDS and stickiness != "currentTime":
        return _field(stickiness)
    return _property(stickiness)


def _override_value(field: str, p: Prepared) -> str | None:
    if field in STANDARD_FIELDS:
        return p.fields.get(field)
    return p.properties.get(field)


# --- rule-text literals ------------------------------------------------------------------------


def _escaped(value: str) -> str:
    """A value Yggdrasil quotes with its quotes escaped: only a trailing backslash (which
    escapes the closing quote) breaks its rule."""
    if value.endswith("\\"):
        raise Broken("a value ends with a backslash")
    return value


def _quoted(value: str) -> str:
    """A value Yggdrasil quotes as it is (group ids, property names, addresses, host names):
    a quote not escaped by a backslash, or a trailing backslash, breaks its rule; ``\\"``
    reads as ``"``."""
    i = 0
    while i < len(value):
        if value.startswith('\\"', i):
            i += 2
        elif value[i] == '"':
            raise Broken("a quote in a name")
        else:
            i += 1
    if value.endswith("\\") and not value.endswith('\\"'):
        raise Broken("a name ends with a backslash")
    return value.replace('\\"', '"')


# --- constraints ---------------------------------------------------------------------------


def _constraints(raw: list[Mapping[str, Any]]) -> Check | bool:
    """The conjunction of a strategy's and its segments' constraints: True (none), False (one
    can never hold) or a test; ``Broken`` where Yggdrasil's rule would not compile."""
    kept: list[dict[str, Any]] = []
    never = False
    for c in raw:
        constant = _constant(c)
        if constant is None:
            kept.append(dict(c))
        elif constant is False:
            never = True
    if never:
        return False
    if not kept:
        return True
    try:
        expr = to_expression(kept)
    except (Invalid, LimitExceeded, NotExpressible) as exc:
        raise Broken(str(exc)) from exc
    if expr is None:
        return True
    run = compile_expr(_as_sdks_read(expr))
    return lambda p: run(p.flat)


def _constant(c: Mapping[str, Any]) -> bool | None:
    """Check one constraint as Yggdrasil compiles it; its constant value where it has one
    (an empty ``IN``/``NOT_IN``, a ``v``-prefixed semver), else None."""
    name = c.get("contextName")
    operator = c.get("operator")
    if not isinstance(name, str) or operator not in _KNOWN_OPERATORS:
        raise Broken("unknown operator or context name")
    if name not in STANDARD_FIELDS:
        _quoted(name)
    inverted = c.get("inverted") is True
    values = c.get("values") or []
    value = c.get("value")
    if operator in _STRINGY:
        for v in values:
            if not isinstance(v, str):
                raise Broken("a value is not text")
            _escaped(v)
        if not values:
            if operator in _STR_OPS:
                raise Broken(f"{operator} without values")
            # Yggdrasil's empty list: IN is false and NOT_IN true, even on a missing field.
            return bool((operator == "NOT_IN") != inverted)
        return None
    if operator == "REGEX":
        if not isinstance(value, str):
            raise Broken("REGEX without a value")
        _escaped(value)
        return None
    if not isinstance(value, str):
        raise Broken(f"{operator} without a value")
    text = value.strip(" \t")
    if operator in _SEMVER_OPS:
        if value.startswith("v"):
            return False  # Yggdrasil writes "false" for it, inverted or not
        if SEMVER_RE.fullmatch(text) is None:
            raise Broken("not a semver")
    elif operator in _NUM_OPS:
        if _YGG_NUMBER.fullmatch(text) is None:
            raise Broken("not a number Yggdrasil reads")
    elif operator in _DATE_OPS and (
        _YGG_DATE.fullmatch(text) is None or parse_datetime_us(text) is None
    ):
        raise Broken("not a date Yggdrasil reads")
    return None


def _as_sdks_read(expr: ast.Expr) -> ast.Expr:
    """The parsed condition, read as the SDKs read a context. Context names are keys, not
    paths (``a.b`` is the property ``"a.b"``): each path becomes one step. A date compares only
    when the context's value is a full instant (date, time and zone), as Rust's parser takes
    it; the shared evaluator would also read ``2025-01-01`` (as UTC midnight), which is wider."""
    if isinstance(expr, ast.And | ast.Or):
        return type(expr)(tuple(_as_sdks_read(a) for a in expr.args))
    if isinstance(expr, ast.Not):
        return ast.Not(_as_sdks_read(expr.arg))
    if isinstance(expr, ast.Quant):
        return msgspec.structs.replace(
            expr, path=(".".join(expr.path),), cond=_as_sdks_read(expr.cond)
        )
    if isinstance(expr, ast.SegmentRef):
        return expr
    if isinstance(expr, ast.CmpAttr):
        # No Unleash constraint compares two attributes; read its names as keys all the same.
        return msgspec.structs.replace(
            expr, left=(".".join(expr.left),), right=(".".join(expr.right),)
        )
    if len(expr.path) > 1:
        expr = msgspec.structs.replace(expr, path=(".".join(expr.path),))
    if isinstance(expr, ast.Cmp) and expr.value.kind == "datetime":
        return ast.And((ast.Regex(expr.path, _FULL_INSTANT, False), expr))
    return expr


# --- variants ------------------------------------------------------------------------------


def _variant_list(raw: Sequence[Any], with_overrides: bool) -> list[_Variant]:
    out = []
    for v in raw:
        if not isinstance(v, Mapping):
            continue
        weight = v.get("weight")
        payload = v.get("payload")
        overrides: list[tuple[str, frozenset[str]]] = []
        if with_overrides:
            for o in v.get("overrides") or ():
                if isinstance(o, Mapping) and isinstance(o.get("contextName"), str):
                    overrides.append(
                        (o["contextName"], frozenset(str(x) for x in o.get("values") or ()))
                    )
        out.append(
            _Variant(
                name=str(v.get("name")),
                weight=weight if isinstance(weight, int) and weight > 0 else 0,
                payload=dict(payload) if isinstance(payload, Mapping) else None,
                overrides=tuple(overrides),
            )
        )
    return out


def _strategy_variants(
    raw: Sequence[Any], params: Mapping[str, str], feature: str
) -> _Variants | None:
    variants = _variant_list(raw, with_overrides=False)
    if not variants:
        return None
    # The strategy's parameters pick, not each variant's own stickiness (Yggdrasil).
    return _Variants(variants, params.get("groupId", feature), params.get("stickiness", "default"))


def _feature_variants(raw: Sequence[Any], feature: str) -> _Variants | None:
    variants = _variant_list(raw, with_overrides=True)
    if not variants:
        return None
    first = raw[0] if isinstance(raw[0], Mapping) else {}
    stickiness = first.get("stickiness")
    return _Variants(variants, feature, stickiness if isinstance(stickiness, str) else None)
