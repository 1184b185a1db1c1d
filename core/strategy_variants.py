"""A strategy's variants as Unleash keeps them: its joi checks of each variant (names URL
friendly and unique, payloads, stickiness, overrides), the weights shared out of 1000, and the
order SDKs walk them in. ``core.flags`` runs these on every strategy written through any dialect.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import msgspec

from core.constraints import SchemaInvalid
from core.errors import Invalid

# encodeURIComponent leaves exactly these unchanged: Unleash's "URL friendly" names.
URL_FRIENDLY = re.compile(r"^[A-Za-z0-9\-_.!~*'()]*$")
VARIANT_NAME_MAX = 100
VARIANT_WEIGHT_TOTAL = 1000
# Unleash sorts a strategy's variants with JavaScript's localeCompare (ICU's root collation).
# For the characters a URL-friendly name may hold that is: punctuation in ICU's order, then
# digits, then letters compared without case first and lowercase before uppercase on a tie.
_COLLATION_PUNCTUATION = "_-!.'()*~"


def _collation_key(name: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    primary: list[int] = []
    tertiary: list[int] = []
    for ch in name:
        if ch in _COLLATION_PUNCTUATION:
            primary.append(_COLLATION_PUNCTUATION.index(ch))
        elif ch.isdigit():
            primary.append(100 + ord(ch))
        else:
            primary.append(1000 + ord(ch.lower()))
        tertiary.append(1 if ch.isupper() else 0)
    return tuple(primary), tuple(tertiary)


def strategy_variants(variants: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """A strategy's variants as Unleash keeps them, or ``Invalid``: Unleash's joi pass (names
    URL friendly and unique, no empty strings, a ``json`` payload a JSON object or array, no
    unknown keys), at least one ``variable`` variant, ``fix`` weights at most 1000 in total;
    the rest of 1000 is shared among the ``variable`` variants (the first ones sent get the
    remainder) and the list is sorted by name. SDKs pick a variant by walking the list in
    order, so the order is part of who gets what."""
    if not variants:
        return []
    for i, variant in enumerate(variants):
        _check_variant(variant, f"[{i}]")
    seen: set[str] = set()
    for i, variant in enumerate(variants):
        if variant["name"] in seen:
            raise SchemaInvalid(f"[{i}]", "contains a duplicate value", variant)
        seen.add(variant["name"])
    variable = [dict(v) for v in variants if v.get("weightType", "variable") == "variable"]
    fixed = [dict(v) for v in variants if v.get("weightType") == "fix"]
    if not variable:
        raise Invalid("", 'There must be at least one "variable" variant')
    fixed_total = sum(int(v["weight"]) for v in fixed)
    if fixed_total > VARIANT_WEIGHT_TOTAL:
        raise Invalid("", "The traffic distribution total must equal 100%")
    share, remainder = divmod(VARIANT_WEIGHT_TOTAL - fixed_total, len(variable))
    for i, v in enumerate(variable):
        v["weight"] = share + (1 if i < remainder else 0)
    return sorted(variable + fixed, key=lambda v: _collation_key(str(v["name"])))


_VARIANT_KEYS = ("name", "weight", "weightType", "payload", "stickiness", "overrides")


def _check_variant(variant: dict[str, Any], label: str) -> None:
    """joi's ``variantsSchema`` over one variant, its keys in the schema's order, unknown keys
    last (the OpenAPI pass before it has checked the types)."""
    check_url_friendly_name(variant.get("name"), f"{label}.name")
    payload = variant.get("payload")
    if isinstance(payload, dict):
        value = payload.get("value")
        _not_empty(value, f"{label}.payload.value")
        if payload.get("type") == "json" and not _json_object(value):
            raise SchemaInvalid(
                "", "'value' must be a valid json string when 'type' is json", value
            )
        _no_other_keys(payload, ("type", "value"), f"{label}.payload")
    _not_empty(variant.get("stickiness"), f"{label}.stickiness")
    if "overrides" in variant:
        _check_overrides(variant["overrides"], f"{label}.overrides")
    _no_other_keys(variant, _VARIANT_KEYS, label)


def _check_overrides(overrides: object, label: str) -> None:
    if not isinstance(overrides, list):
        raise SchemaInvalid(label, "must be an array", overrides)
    for i, override in enumerate(overrides):
        where = f"{label}[{i}]"
        if not isinstance(override, dict):
            raise SchemaInvalid(where, "must be of type object", override)
        context = override.get("contextName")
        if context is None:
            raise SchemaInvalid(f"{where}.contextName", "is required")
        if not isinstance(context, str):
            raise SchemaInvalid(f"{where}.contextName", "must be a string", context)
        _not_empty(context, f"{where}.contextName")
        values = override.get("values", [])
        if not isinstance(values, list):
            raise SchemaInvalid(f"{where}.values", "must be an array", values)
        for j, value in enumerate(values):
            if not isinstance(value, str):
                raise SchemaInvalid(f"{where}.values[{j}]", "must be a string", value)
            _not_empty(value, f"{where}.values[{j}]")
        _no_other_keys(override, ("contextName", "values"), where)


def check_url_friendly_name(name: object, label: str) -> None:
    """Unleash's ``nameType``: a non-empty string that ``encodeURIComponent`` leaves as it is
    (and not ``.`` or ``..``), at most 100 characters; joi checks them in this order."""
    if not isinstance(name, str):
        raise SchemaInvalid(label, "must be a string", name)
    _not_empty(name, label)
    if not URL_FRIENDLY.match(name) or name in (".", ".."):
        raise SchemaInvalid(label, "must be URL friendly", name)
    if len(name) > VARIANT_NAME_MAX:
        raise SchemaInvalid(
            label,
            f"length must be less than or equal to {VARIANT_NAME_MAX} characters long",
            name,
        )


def _not_empty(value: object, label: str) -> None:
    if value == "":
        raise SchemaInvalid(label, "is not allowed to be empty")


def _no_other_keys(obj: dict[str, Any], allowed: Sequence[str], label: str) -> None:
    for key, value in obj.items():
        if key not in allowed:
            raise SchemaInvalid(f"{label}.{key}", "is not allowed", value)


def _json_object(text: object) -> bool:
    """Unleash's ``validateJsonString``: JSON whose value is an object or an array."""
    try:
        value = msgspec.json.decode(str(text))
    except msgspec.DecodeError:
        return False
    return isinstance(value, dict | list)
