"""Who gets which share: stickiness (the value a rollout or a variant hashes), Unleash's
normalized hash, and variant selection (overrides first, then the weights), as Yggdrasil picks
them. The compiled features (``core.unleash_eval``) call these.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from core.murmur3 import murmur3_x86_32
from core.unleash_context import STANDARD_FIELDS, Prepared, Resolve
from core.unleash_rule_text import quoted

ROLLOUT_SEED = 0
VARIANT_SEED = 86028157
"""Yggdrasil's ``VARIANT_NORMALIZATION_SEED``: variants hash apart from rollouts."""
DEFAULT_STICKINESS_RANGE = 10_000
"""``default``/``random`` stickiness without an id hashes a random integer in 1..9999."""


class VariantAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """A feature's variant for one context: ``disabled`` (not enabled) when it has none."""

    name: str
    enabled: bool
    feature_enabled: bool
    payload: dict[str, Any] | None = None


DISABLED_OFF = VariantAnswer(name="disabled", enabled=False, feature_enabled=False)
DISABLED_ON = VariantAnswer(name="disabled", enabled=False, feature_enabled=True)


class Variant(msgspec.Struct, frozen=True):
    name: str
    weight: int
    payload: dict[str, Any] | None
    overrides: tuple[tuple[str, frozenset[str]], ...] = ()


class Variants:
    """A list of variants with the hash group and stickiness that pick among them."""

    __slots__ = ("answers", "group", "has_overrides", "seed_of", "total", "variants")

    def __init__(self, variants: list[Variant], group: str, stickiness: str | None) -> None:
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


def normalized_hash(group: str, identifier: str, modulus: int, seed: int = ROLLOUT_SEED) -> int:
    """Unleash's normalized hash: ``murmur3_x86_32("<group>:<identifier>", seed) % modulus + 1``
    (1..modulus)."""
    return murmur3_x86_32(f"{group}:{identifier}".encode(), seed) % modulus + 1


# --- stickiness ----------------------------------------------------------------------------


def context_field(name: str) -> Resolve:
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


def rollout_stickiness(raw: str | None) -> Resolve:
    """A rollout's stickiness: the value its hash is of (None: the strategy does not match)."""
    if raw is None or raw == "default":
        return _default_id
    if raw == "random":
        return _random_id
    if raw in STANDARD_FIELDS:
        return context_field(raw)
    return _property(quoted(raw))


def _variant_seed(stickiness: str | None) -> Resolve:
    """A variant's stickiness (None: a random pick). ``currentTime`` is not one of its fields
    in Yggdrasil, so it is read from the properties like any custom name."""
    if stickiness is None or stickiness == "default":
        return lambda p: p.fields.get("userId", p.fields.get("sessionId"))
    if stickiness in STANDARD_FIELDS and stickiness != "currentTime":
        return context_field(stickiness)
    return _property(stickiness)


def _override_value(field: str, p: Prepared) -> str | None:
    if field in STANDARD_FIELDS:
        return p.fields.get(field)
    return p.properties.get(field)


# --- variants ------------------------------------------------------------------------------


def _variant_list(raw: Sequence[Any], with_overrides: bool) -> list[Variant]:
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
            Variant(
                name=str(v.get("name")),
                weight=weight if isinstance(weight, int) and weight > 0 else 0,
                payload=dict(payload) if isinstance(payload, Mapping) else None,
                overrides=tuple(overrides),
            )
        )
    return out


def compile_strategy_variants(
    raw: Sequence[Any], params: Mapping[str, str], feature: str
) -> Variants | None:
    variants = _variant_list(raw, with_overrides=False)
    if not variants:
        return None
    # The strategy's parameters pick, not each variant's own stickiness (Yggdrasil).
    return Variants(variants, params.get("groupId", feature), params.get("stickiness", "default"))


def compile_feature_variants(raw: Sequence[Any], feature: str) -> Variants | None:
    variants = _variant_list(raw, with_overrides=True)
    if not variants:
        return None
    first = raw[0] if isinstance(raw[0], Mapping) else {}
    stickiness = first.get("stickiness")
    return Variants(variants, feature, stickiness if isinstance(stickiness, str) else None)
