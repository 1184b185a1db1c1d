"""What makes a Confidence flag valid, whatever API writes it: resource ids, a flag's value
schema and each variant value checked against it, a rule's segment, its assignments naming
variants of the same flag over disjoint bucket ranges, and bounds on everything.
:func:`check_flag` is the one check every write of a flag ends in (``core.confidence_flags``)."""

from __future__ import annotations

import itertools
import re
import string
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from core.confidence_model import (
    BucketRange,
    ConfidenceFlag,
    FlagRule,
)
from core.errors import Conflict, Invalid
from core.model import SLUG_RE, random_text
from core.service import check_no_nul, check_text

RESOURCE_ID_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
"""Ids of flags, variants, rules, clients and credentials: 1 to 63 of ``[a-z0-9-]``, not
starting or ending with ``-`` (the form of Confidence's resource names)."""
FLAG_PREFIX = "flags/"
CLIENT_PREFIX = "clients/"
SEGMENT_PREFIX = "segments/"
MAX_VARIANTS = 100
MAX_RULES = 100
MAX_ASSIGNMENTS = 100
MAX_RANGES = 100
MAX_CLIENTS = 100
MAX_ENVIRONMENTS = 50
MAX_SCHEMA_FIELDS = 100
MAX_SCHEMA_DEPTH = 8
MAX_VALUE_BYTES = 64 * 1024
MAX_BUCKET_COUNT = 1_000_000
MAX_TEXT = 1024
MAX_DESCRIPTION = 10_000
MAX_LABELS = 64
SECRET_LENGTH = 32
_ID_ALPHABET = string.ascii_lowercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits
_SCHEMA_KINDS = (
    "structSchema",
    "listSchema",
    "intSchema",
    "doubleSchema",
    "stringSchema",
    "boolSchema",
)


def new_id(length: int = 20) -> str:
    """A server-chosen resource id (rules, clients, credentials), as Confidence makes them."""
    return random_text(_ID_ALPHABET, length)


def new_secret() -> str:
    return random_text(_SECRET_ALPHABET, SECRET_LENGTH)


# --- names --------------------------------------------------------------------------------


def check_id(field: str, value: str) -> str:
    if not RESOURCE_ID_RE.match(value):
        raise Invalid(
            field, "must be 1 to 63 characters of [a-z0-9-], not starting or ending with -"
        )
    return value


def child_id(field: str, name: str, parent: str, collection: str) -> str:
    """The id of ``<parent>/<collection>/<id>``; ``Invalid`` for any other name."""
    prefix = f"{parent}/{collection}/"
    if not name.startswith(prefix):
        raise Invalid(field, f"must be {prefix}<id>")
    return check_id(field, name.removeprefix(prefix))


def client_id_of(field: str, name: str) -> str:
    if not name.startswith(CLIENT_PREFIX):
        raise Invalid(field, "must be clients/<id>")
    return check_id(field, name.removeprefix(CLIENT_PREFIX))


def segment_slug_of(field: str, name: str) -> str:
    if not name.startswith(SEGMENT_PREFIX) or not SLUG_RE.match(name.removeprefix(SEGMENT_PREFIX)):
        raise Invalid(field, "must be segments/<id> (4-63 characters of [a-z0-9-])")
    return name.removeprefix(SEGMENT_PREFIX)


# --- schema and values ---------------------------------------------------------------------


def check_schema(schema: Mapping[str, Any], field: str = "schema") -> None:
    """A ``StructFlagSchema`` in proto3 JSON: ``{"schema": {"<field>": <FlagSchema>}}`` where a
    FlagSchema sets exactly one of ``structSchema``, ``listSchema`` (``elementSchema``),
    ``intSchema``, ``doubleSchema``, ``stringSchema``, ``boolSchema``."""
    _check_struct_schema(schema, field, 1)


def _check_struct_schema(schema: Any, field: str, depth: int) -> None:
    if not isinstance(schema, dict) or set(schema) - {"schema"}:
        raise Invalid(field, 'must be {"schema": {"<field>": {...}}}')
    fields = schema.get("schema") or {}
    if not isinstance(fields, dict):
        raise Invalid(f"{field}.schema", "must be an object of field schemas")
    if len(fields) > MAX_SCHEMA_FIELDS:
        raise Invalid(f"{field}.schema", f"at most {MAX_SCHEMA_FIELDS} fields")
    for name, sub in fields.items():
        if not name or len(name) > MAX_TEXT or "\x00" in name:
            raise Invalid(f"{field}.schema", "field names are 1 to 1024 characters without NUL")
        _check_flag_schema(sub, f"{field}.schema.{name}", depth)


def _check_flag_schema(schema: Any, field: str, depth: int) -> None:
    if depth > MAX_SCHEMA_DEPTH:
        raise Invalid(field, f"schemas nest at most {MAX_SCHEMA_DEPTH} deep")
    if not isinstance(schema, dict) or len(schema) != 1 or next(iter(schema)) not in _SCHEMA_KINDS:
        raise Invalid(field, f"must set exactly one of {', '.join(_SCHEMA_KINDS)}")
    kind, body = next(iter(schema.items()))
    if kind == "structSchema":
        _check_struct_schema(body, f"{field}.structSchema", depth + 1)
    elif kind == "listSchema":
        if not isinstance(body, dict) or set(body) - {"elementSchema"} or not body:
            raise Invalid(f"{field}.listSchema", 'must be {"elementSchema": {...}}')
        _check_flag_schema(body["elementSchema"], f"{field}.listSchema.elementSchema", depth + 1)
    elif body not in ({}, None):
        raise Invalid(f"{field}.{kind}", "must be {}")


def check_value(schema: Mapping[str, Any], value: Mapping[str, Any], field: str) -> None:
    """A variant's value fits the flag's schema: every field it sets is in the schema, of the
    schema's type (null allowed anywhere: the client's default). Fields it leaves out resolve
    as null, so a value may set fewer fields than the schema has."""
    check_no_nul(field, value)
    if len(msgspec.json.encode(value)) > MAX_VALUE_BYTES:
        raise Invalid(field, f"must be at most {MAX_VALUE_BYTES} bytes of JSON")
    _check_struct_value(schema.get("schema") or {}, value, field)


def _check_struct_value(fields: Mapping[str, Any], value: Any, field: str) -> None:
    if not isinstance(value, dict):
        raise Invalid(field, "must be an object")
    for name, item in value.items():
        if name not in fields:
            raise Invalid(f"{field}.{name}", "is not a field of the flag's schema")
        _check_typed(fields[name], item, f"{field}.{name}")


def _check_typed(schema: Mapping[str, Any], value: Any, field: str) -> None:
    if value is None:
        return
    kind, body = next(iter(schema.items()))
    ok: bool
    if kind == "boolSchema":
        ok = isinstance(value, bool)
    elif kind == "stringSchema":
        ok = isinstance(value, str)
    elif kind == "intSchema":
        ok = (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    elif kind == "doubleSchema":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif kind == "structSchema":
        _check_struct_value((body or {}).get("schema") or {}, value, field)
        return
    else:  # listSchema
        if not isinstance(value, list):
            raise Invalid(field, "must be a list")
        for i, item in enumerate(value):
            _check_typed(body["elementSchema"], item, f"{field}[{i}]")
        return
    if not ok:
        raise Invalid(field, f"must be a value of {kind.removesuffix('Schema')} type")


# --- the whole flag ------------------------------------------------------------------------


def _check_labels(field: str, labels: Mapping[str, str]) -> None:
    if len(labels) > MAX_LABELS:
        raise Invalid(field, f"at most {MAX_LABELS} labels")
    for key, item in labels.items():
        if not key or len(key) > MAX_TEXT or len(item) > MAX_TEXT or "\x00" in key + item:
            raise Invalid(f"{field}.{key}", "keys and values are 1 to 1024 characters without NUL")


def _check_ranges(field: str, ranges: Iterable[BucketRange], count: int) -> list[BucketRange]:
    out = list(ranges)
    if len(out) > MAX_RANGES:
        raise Invalid(field, f"at most {MAX_RANGES} bucket ranges")
    for i, r in enumerate(out):
        if not 0 <= r.lower < r.upper <= count:
            raise Invalid(f"{field}[{i}]", f"must have 0 <= lower < upper <= bucketCount ({count})")
    return out


def check_rule(flag: ConfidenceFlag, rule: FlagRule, field: str = "rule") -> None:
    child_id(f"{field}.name", rule.name, flag.name, "rules")
    segment_slug_of(f"{field}.segment", rule.segment)
    check_text(f"{field}.targetingKeySelector", rule.targeting_key_selector, max_len=MAX_TEXT)
    if len(rule.environments) > MAX_ENVIRONMENTS:
        raise Invalid(f"{field}.environments", f"at most {MAX_ENVIRONMENTS}")
    for env in rule.environments:
        if not env or len(env) > MAX_TEXT or "\x00" in env:
            raise Invalid(f"{field}.environments", "are 1 to 1024 characters without NUL")
    if len(set(rule.environments)) != len(rule.environments):
        raise Invalid(f"{field}.environments", "are named once each")
    _check_labels(f"{field}.labels", rule.labels)
    check_no_nul(f"{field}.materializationSpec", rule.materialization_spec)
    count = rule.bucket_count
    spec = f"{field}.assignmentSpec"
    if not 0 <= count <= MAX_BUCKET_COUNT:
        raise Invalid(f"{spec}.bucketCount", f"must be 1 to {MAX_BUCKET_COUNT}")
    if rule.assignments and count == 0:
        raise Invalid(f"{spec}.bucketCount", "must be at least 1 when there are assignments")
    if len(rule.assignments) > MAX_ASSIGNMENTS:
        raise Invalid(f"{spec}.assignments", f"at most {MAX_ASSIGNMENTS}")
    variants = {v.name for v in flag.variants}
    taken: list[tuple[int, int, int]] = []
    for i, assignment in enumerate(rule.assignments):
        where = f"{spec}.assignments[{i}]"
        check_text(f"{where}.assignmentId", assignment.assignment_id, max_len=MAX_TEXT)
        if assignment.kind == "variant":
            if assignment.variant not in variants:
                raise Invalid(
                    f"{where}.variant", f"{assignment.variant} is not a variant of {flag.name}"
                )
        elif assignment.variant is not None:
            raise Invalid(f"{where}.variant", "only a variant assignment names a variant")
        for r in _check_ranges(f"{where}.bucketRanges", assignment.bucket_ranges, count):
            taken.append((r.lower, r.upper, i))
    taken.sort()
    for (_, upper, a), (lower, _, b) in itertools.pairwise(taken):
        if lower < upper:
            raise Invalid(
                f"{spec}.assignments",
                f"assignments {min(a, b)} and {max(a, b)} share buckets: each bucket has one "
                "assignment",
            )


def check_flag(flag: ConfidenceFlag) -> ConfidenceFlag:
    """Every rule of a flag holds (see the module docstring); returns the flag."""
    check_id("flag_id", flag.name.removeprefix(FLAG_PREFIX))
    check_text("description", flag.description, max_len=MAX_DESCRIPTION)
    check_text("owner", flag.owner, max_len=MAX_TEXT)
    _check_labels("labels", flag.labels)
    check_schema(flag.schema)
    if len(flag.variants) > MAX_VARIANTS:
        raise Invalid("variants", f"a flag has at most {MAX_VARIANTS} variants")
    if len(flag.rules) > MAX_RULES:
        raise Invalid("rules", f"a flag has at most {MAX_RULES} rules")
    if len(flag.clients) > MAX_CLIENTS:
        raise Invalid("clients", f"a flag has at most {MAX_CLIENTS} clients")
    seen: set[str] = set()
    for i, variant in enumerate(flag.variants):
        child_id(f"variants[{i}].name", variant.name, flag.name, "variants")
        if variant.name in seen:
            raise Conflict("confidence_variant", f"{variant.name} already exists")
        seen.add(variant.name)
        check_text(f"variants[{i}].description", variant.description, max_len=MAX_DESCRIPTION)
        _check_labels(f"variants[{i}].labels", variant.labels)
        check_value(flag.schema, variant.value, f"variants[{i}].value")
    rule_names: set[str] = set()
    for i, rule in enumerate(flag.rules):
        if rule.name in rule_names:
            raise Conflict("confidence_rule", f"{rule.name} already exists")
        rule_names.add(rule.name)
        check_rule(flag, rule, f"rules[{i}]")
    for i, client in enumerate(flag.clients):
        client_id_of(f"clients[{i}]", client)
    if len(set(flag.clients)) != len(flag.clients):
        raise Invalid("clients", "name each client once")
    return flag
