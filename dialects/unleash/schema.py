"""Unleash's request schemas, checked the way its OpenAPI layer (ajv with ``coerceTypes``) checks
them: the first error only, keywords in ajv's order, and ajv's coercions applied (``name: 123``
becomes ``"123"``, ``segmentIds: ["1"]`` becomes ``[1]``) because clients rely on them (MIRROR).

Only the JSON Schema subset Unleash's schemas use is implemented: type (+ nullable), required,
properties, additionalProperties, items, enum, minLength, minimum, maximum, and a ``oneOf`` of
scalar types. Error texts are Unleash's (``fromOpenApiValidationError``).
"""

from __future__ import annotations

import math
import re
from typing import Any

import msgspec

from core.expr.kinds import number_text
from core.flag_records import FLAG_TYPES

Schema = dict[str, Any]


class SchemaError(Exception):
    """The first schema violation: ``path`` (``/body/name``) and Unleash's message."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


def _json(value: Any) -> str:
    try:
        return msgspec.json.encode(value).decode()
    except (TypeError, ValueError):
        return "[value too large or deeply nested to display]"


def _generic(path: str, value: Any, message: str) -> SchemaError:
    return SchemaError(path, f"The `{path}` property {message}. You sent {_json(value)}.")


_JS_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_JS_RADIX = re.compile(r"0(?:x[0-9a-f]+|o[0-7]+|b[01]+)", re.I)
_JS_SPACE = " \t\n\v\f\r\u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff" + "".join(
    chr(c) for c in range(0x2000, 0x200B)
)


def js_number(text: str) -> float:
    """JavaScript's ``Number(text)`` (NaN when it is not a number)."""
    s = text.strip(_JS_SPACE)
    if s == "":
        return 0.0
    if _JS_RADIX.fullmatch(s):
        return float(int(s, 0))
    if s in ("Infinity", "+Infinity", "-Infinity"):
        return -math.inf if s.startswith("-") else math.inf
    return float(s) if _JS_DECIMAL.fullmatch(s) else math.nan


def _js_string(value: float | int) -> str:
    return number_text(float(value)) if isinstance(value, float) else str(value)


_FAIL = object()


def _coerce(value: Any, kind: str) -> Any:
    """ajv's ``coerceTypes: true`` from scalars; ``_FAIL`` when it cannot."""
    if kind == "string":
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return _js_string(value)
        return "" if value is None else _FAIL
    if kind in ("number", "integer"):
        if isinstance(value, bool):
            number: float | int = int(value)
        elif isinstance(value, int | float):
            number = value
        elif isinstance(value, str) and value != "":
            number = js_number(value)
        elif value is None:
            number = 0
        else:
            return _FAIL
        if isinstance(number, float):
            if not math.isfinite(number):
                return _FAIL
            if number.is_integer():
                number = int(number)
            elif kind == "integer":
                return _FAIL
        return number
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):
            return value == "true"
        if type(value) in (int, float) and value in (0, 1):
            return bool(value)
        return False if value is None else _FAIL
    if kind == "array":
        return value if isinstance(value, list) else _FAIL
    if kind == "object":
        return value if isinstance(value, dict) else _FAIL
    raise ValueError(kind)


def validate(value: Any, schema: Schema, path: str) -> Any:
    """``value`` coerced as ajv would, or ``SchemaError`` for the first violation."""
    if "oneOf" in schema:
        for option in schema["oneOf"]:
            try:
                return validate(value, option, path)
            except SchemaError:
                continue
        raise SchemaError(
            path,
            f'The "{path}" property must match exactly one schema in oneOf. The data you provided '
            "matches more than one option in the schema. These options are mutually exclusive. "
            "Please refer back to the schema and remove any excess properties.",
        )
    kind = schema.get("type")
    if value is None and schema.get("nullable"):
        return None
    if kind is not None:
        coerced = _coerce(value, kind)
        if coerced is _FAIL:
            suffix = ",null" if schema.get("nullable") else ""
            raise _generic(path, value, f"must be {kind}{suffix}")
        value = coerced
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(f'"{v}"' for v in schema["enum"])
        name = path.rsplit("/", 1)[-1]
        raise SchemaError(
            name,
            f"The `{name}` property must be equal to one of the allowed values: {allowed}. "
            f'You provided "{value}", which is not valid. Please use one of the allowed values '
            "instead..",
        )
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            raise _generic(path, value, f"must be >= {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            raise _generic(path, value, f"must be <= {schema['maximum']}")
    if isinstance(value, str) and len(value) < schema.get("minLength", 0):
        n = schema["minLength"]
        raise _generic(path, value, f"must NOT have fewer than {n} characters")
    if isinstance(value, list) and "items" in schema:
        return [validate(item, schema["items"], f"{path}/{i}") for i, item in enumerate(value)]
    if isinstance(value, dict):
        return _object(value, schema, path)
    return value


def _object(value: dict[str, Any], schema: Schema, path: str) -> dict[str, Any]:
    for name in schema.get("required", ()):
        if name not in value:
            where = f"{path}/{name}"
            raise SchemaError(
                where,
                f"The `{where}` property is required. It was not present on the data you sent.",
            )
    properties: dict[str, Schema] = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    out = dict(value)
    if extra is False:
        for name in value:
            if name not in properties:
                raise SchemaError(
                    f"{path}/{name}",
                    f"The `{path}` object of the request body does not allow additional "
                    f"properties. Your request included the `{path}/{name}` property.",
                )
    elif isinstance(extra, dict):
        for name in value:
            if name not in properties:
                out[name] = validate(value[name], extra, f"{path}/{name}")
    for name, sub in properties.items():
        if name in value:
            out[name] = validate(value[name], sub, f"{path}/{name}")
    return out


# --- Unleash 8.2's schemas (the subset segmux serves; see ../../openapi/unleash.yaml) ----------

OPERATORS = [
    "NOT_IN",
    "IN",
    "STR_ENDS_WITH",
    "STR_STARTS_WITH",
    "STR_CONTAINS",
    "NUM_EQ",
    "NUM_GT",
    "NUM_GTE",
    "NUM_LT",
    "NUM_LTE",
    "DATE_AFTER",
    "DATE_BEFORE",
    "SEMVER_EQ",
    "SEMVER_GT",
    "SEMVER_LT",
    "SEMVER_GTE",
    "SEMVER_LTE",
    "REGEX",
]
CONSTRAINT: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["contextName", "operator"],
    "properties": {
        "contextName": {"type": "string"},
        "operator": {"type": "string", "enum": OPERATORS},
        "caseInsensitive": {"type": "boolean"},
        "inverted": {"type": "boolean"},
        "values": {"type": "array", "items": {"type": "string"}},
        "value": {"type": "string", "minLength": 1},
    },
}
UPSERT_SEGMENT: Schema = {
    "type": "object",
    "required": ["name", "constraints"],
    "properties": {
        "name": {"type": "string"},
        "description": {"type": "string", "nullable": True},
        "project": {"type": "string", "nullable": True},
        "constraints": {"type": "array", "items": CONSTRAINT},
    },
}
CREATE_SEGMENT: Schema = {
    **UPSERT_SEGMENT,
    # [project] an explicit id is honoured, so it must be a usable one.
    "properties": {**UPSERT_SEGMENT["properties"], "id": {"type": "integer", "minimum": 1}},
}
NAME: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name"],
    "properties": {"name": {"type": "string"}},
}
STRATEGY_SEGMENTS: Schema = {
    "type": "object",
    "required": ["projectId", "strategyId", "environmentId", "segmentIds"],
    "properties": {
        "projectId": {"type": "string"},
        "strategyId": {"type": "string"},
        "environmentId": {"type": "string"},
        "segmentIds": {"type": "array", "items": {"type": "integer", "minimum": 0}},
    },
}
CREATE_FEATURE: Schema = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string"},
        "type": {"enum": list(FLAG_TYPES)},  # the types core.flags accepts
        "description": {"type": "string", "nullable": True},
        "impressionData": {"type": "boolean"},
        "tags": {"type": "array"},
    },
}
VARIANT: Schema = {
    "type": "object",
    "required": ["name", "weight", "weightType", "stickiness"],
    "properties": {
        "name": {"type": "string"},
        "weight": {"type": "integer", "minimum": 0, "maximum": 1000},
        "weightType": {"type": "string", "enum": ["variable", "fix"]},
        "stickiness": {"type": "string"},
        "payload": {
            "type": "object",
            "required": ["type", "value"],
            "properties": {
                "type": {"type": "string", "enum": ["json", "csv", "string", "number"]},
                "value": {"type": "string"},
            },
        },
    },
}
STRATEGY: Schema = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string"},
        "title": {"type": "string", "nullable": True},
        "disabled": {"type": "boolean", "nullable": True},
        "sortOrder": {"type": "number"},
        "constraints": {"type": "array", "items": CONSTRAINT},
        "variants": {"type": "array", "items": VARIANT},
        "parameters": {"type": "object", "additionalProperties": {"type": "string"}},
        "segments": {"type": "array", "items": {"type": "number"}},
    },
}
_DATE: Schema = {"oneOf": [{"type": "string", "format": "date-time"}, {"type": "number"}]}
REGISTER: Schema = {
    "type": "object",
    "required": ["appName", "interval", "started", "strategies"],
    "properties": {
        "appName": {"type": "string", "minLength": 1},
        "instanceId": {"type": "string"},
        "sdkVersion": {"type": "string"},
        "interval": {"type": "number", "minimum": 0},
        "started": _DATE,
        "strategies": {"type": "array", "items": {"type": "string"}},
    },
}
METRICS: Schema = {
    "type": "object",
    "required": ["appName"],
    "properties": {
        "appName": {"type": "string", "minLength": 1},
        "instanceId": {"type": "string"},
        "bucket": {
            "type": "object",
            "nullable": True,
            "required": ["start", "stop", "toggles"],
            "properties": {"start": _DATE, "stop": _DATE, "toggles": {"type": "object"}},
        },
    },
}
SEGMENT_ID: Schema = {"type": "integer"}

# --- admin features: strategy updates, environment variants, batches -----------------------

# A strategy update takes ``strategyVariantSchema``, which (unlike the create schema's items)
# allows no other keys: ``overrides`` pass on create and are refused on update, as in 8.2.
UPDATE_STRATEGY: Schema = {
    **STRATEGY,
    "properties": {
        **STRATEGY["properties"],
        "variants": {"type": "array", "items": {**VARIANT, "additionalProperties": False}},
    },
}
_OVERRIDE: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["contextName", "values"],
    "properties": {
        "contextName": {"type": "string"},
        "values": {"type": "array", "items": {"type": "string"}},
    },
}
ENVIRONMENT_VARIANTS: Schema = {
    "type": "array",
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "weight"],
        "properties": {
            "name": {"type": "string"},
            "weight": {"type": "number", "minimum": 0, "maximum": 1000},
            "weightType": {"type": "string", "enum": ["variable", "fix"]},
            "stickiness": {"type": "string"},
            "payload": {
                "type": "object",
                "required": ["type", "value"],
                "additionalProperties": False,
                "properties": {
                    "type": {"type": "string", "enum": ["json", "csv", "string", "number"]},
                    "value": {"type": "string"},
                },
            },
            "overrides": {"type": "array", "items": _OVERRIDE},
        },
    },
}
PATCHES: Schema = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["path", "op"],
        "properties": {
            "path": {"type": "string"},
            "op": {"type": "string", "enum": ["add", "remove", "replace", "copy", "move", "test"]},
            "from": {"type": "string"},
        },
    },
}
BATCH_FEATURES: Schema = {
    "type": "object",
    "required": ["features"],
    "properties": {"features": {"type": "array", "items": {"type": "string"}}},
}
