"""Confidence flags wire <-> core: records of ``core.confidence_model`` from proto3 JSON bodies,
update masks to the core's patches, and records back to proto3 JSON.

What a field means and whether a value is allowed is ``core.confidence_flags``'s business; this
module only reads shapes (an int32 given as a string, an assignment's oneof, both spellings of
a schema's keys) and says which field a shape error is in.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import msgspec

from core.confidence_flags import FlagPatch, FlagRulePatch, VariantPatch
from core.confidence_model import (
    Assignment,
    BucketRange,
    ClientCredential,
    ConfidenceClient,
    ConfidenceFlag,
    FlagRule,
    FlagVariant,
)
from core.errors import Invalid
from dialects.confidence.flag_wire import (
    UNSET,
    AssignmentIn,
    AssignmentOut,
    AssignmentSpecIn,
    AssignmentSpecOut,
    BucketRangeOut,
    ClientOut,
    ClientSecretOut,
    CredentialOut,
    EmptyOut,
    FlagIn,
    FlagOut,
    MaterializationSpecIn,
    RuleIn,
    RuleOut,
    VariantAssignmentOut,
    VariantIn,
    VariantOut,
)
from dialects.confidence.translate import identity, rfc3339
from dialects.confidence.wire import to_camel

OPAQUE = frozenset({"value", "schema"})
"""Fields of a flags body whose keys are data: a variant's value (a ``Struct``) and a flag's
schema (read by :func:`schema_in`)."""
INT32_MAX = 2**31 - 1


def _value(value: Any) -> Any:
    return None if value is UNSET else value


def int32(field: str, value: int | str | None) -> int:
    """An int32 as proto3 JSON writes it (a number or a decimal string); absent is 0."""
    if value is None:
        return 0
    if isinstance(value, str):
        if not re.fullmatch(r"-?\d{1,10}", value):
            raise Invalid(field, "must be an integer")
        value = int(value)
    if not -(2**31) <= value <= INT32_MAX:
        raise Invalid(field, "must be a 32-bit integer")
    return value


# --- schema ----------------------------------------------------------------------------------


def _camel_once(field: str, value: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, item in value.items():
        camel = to_camel(key)
        if camel in out:
            raise Invalid(f"{field}.{camel}", "is set twice (camelCase and snake_case)")
        out[camel] = item
    return out


def schema_in(schema: Any, field: str = "schema") -> Any:
    """A ``StructFlagSchema`` with its message keys in lowerCamelCase and its field names as
    sent; anything that is not an object is left for the core to refuse."""
    if not isinstance(schema, dict):
        return schema
    out = _camel_once(field, schema)
    fields = out.get("schema")
    if isinstance(fields, dict):
        out["schema"] = {k: _flag_schema_in(v, f"{field}.schema.{k}") for k, v in fields.items()}
    return out


def _flag_schema_in(schema: Any, field: str) -> Any:
    if not isinstance(schema, dict):
        return schema
    out = _camel_once(field, schema)
    if "structSchema" in out:
        out["structSchema"] = schema_in(out["structSchema"], f"{field}.structSchema")
    listed = out.get("listSchema")
    if isinstance(listed, dict):
        inner = _camel_once(f"{field}.listSchema", listed)
        if "elementSchema" in inner:
            inner["elementSchema"] = _flag_schema_in(
                inner["elementSchema"], f"{field}.listSchema.elementSchema"
            )
        out["listSchema"] = inner
    return out


# --- in --------------------------------------------------------------------------------------


def variant_in(body: VariantIn, field: str = "variant") -> FlagVariant:
    name = _value(body.name)
    if not name:
        raise Invalid(f"{field}.name", "is required")
    value = _value(body.value)
    if value is None:
        raise Invalid(f"{field}.value", "is required")
    return FlagVariant(
        name=name,
        value=value,
        description=_value(body.description) or "",
        labels=_value(body.labels) or {},
    )


def _assignment_in(body: AssignmentIn, field: str) -> Assignment:
    kinds = [
        k
        for k, v in (
            ("variant", body.variant),
            ("fallthrough", body.fallthrough),
            ("client_default", body.clientDefault),
        )
        if v is not None
    ]
    if len(kinds) != 1:
        raise Invalid(field, "must set exactly one of variant, fallthrough, clientDefault")
    variant = None
    if body.variant is not None:
        variant = body.variant.variant
        if not variant:
            raise Invalid(f"{field}.variant.variant", "is required")
    return Assignment(
        assignment_id=body.assignmentId or "",
        kind=kinds[0],  # type: ignore[arg-type]
        variant=variant,
        bucket_ranges=tuple(
            BucketRange(
                int32(f"{field}.bucketRanges[{i}].lower", r.lower),
                int32(f"{field}.bucketRanges[{i}].upper", r.upper),
            )
            for i, r in enumerate(body.bucketRanges or ())
        ),
    )


def _assignments_in(spec: AssignmentSpecIn | None, field: str) -> tuple[Assignment, ...]:
    sent = _value(spec.assignments) if spec is not None else None
    return tuple(_assignment_in(a, f"{field}.assignments[{i}]") for i, a in enumerate(sent or ()))


def _materialization_in(spec: MaterializationSpecIn | None) -> dict[str, Any]:
    if spec is None:
        return {}
    built: dict[str, Any] = msgspec.to_builtins(spec, builtin_types=None)
    return {k: v for k, v in built.items() if v is not None}


def rule_in(body: RuleIn, field: str = "rule") -> FlagRule:
    """A rule as sent to a create (its name is the server's, see the core)."""
    segment = _value(body.segment)
    if not segment:
        raise Invalid(f"{field}.segment", "is required")
    spec = _value(body.assignmentSpec)
    where = f"{field}.assignmentSpec"
    return FlagRule(
        name="",
        segment=segment,
        targeting_key_selector=_value(body.targetingKeySelector) or "",
        enabled=bool(_value(body.enabled)),
        environments=tuple(_value(body.environments) or ()),
        bucket_count=int32(f"{where}.bucketCount", _value(spec.bucketCount) if spec else None),
        assignments=_assignments_in(spec, where),
        labels=_value(body.labels) or {},
        materialization_spec=_materialization_in(_value(body.materializationSpec)),
    )


def flag_in(body: FlagIn) -> ConfidenceFlag:
    """A flag as sent to a create, with its variants, rules and clients (tenant, name, state
    and times are the server's)."""
    return ConfidenceFlag(
        tenant="",
        name="",
        description=_value(body.description) or "",
        schema=schema_in(_value(body.schema) or {}),
        variants=tuple(
            variant_in(v, f"flag.variants[{i}]") for i, v in enumerate(_value(body.variants) or ())
        ),
        rules=tuple(rule_in(r, f"flag.rules[{i}]") for i, r in enumerate(_value(body.rules) or ())),
        clients=tuple(_value(body.clients) or ()),
        labels=_value(body.labels) or {},
        owner=_value(body.owner) or "",
    )


# --- update masks ----------------------------------------------------------------------------

_PATH_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[^.]+)*$")
_OUTPUT_ONLY = frozenset(
    {"name", "state", "createTime", "updateTime", "creator", "updater", "usageMetadata"}
)


class Mask(msgspec.Struct, frozen=True):
    """Which fields of a resource an update changes, checked against what it has."""

    mutable: tuple[str, ...]
    subfields: dict[str, tuple[str, ...]] = {}
    elsewhere: dict[str, str] = {}
    """Fields changed through another method, with the reason given when a mask names one."""

    def parse(self, text: str | None, resource: str) -> list[str] | None:
        """``a,b.c`` → camelCase paths; None for an absent or empty mask; output-only paths
        dropped (AIP-203); ``*`` is every mutable field."""
        if text is None or not text.strip():
            return None
        paths: list[str] = []
        for raw in text.split(","):
            path = raw.strip()
            if path == "*":
                paths += self.mutable
                continue
            if not _PATH_RE.match(path):
                raise Invalid("update_mask", f"{path!r} is not a field path")
            head, _, rest = path.partition(".")
            head = to_camel(head)
            if head in _OUTPUT_ONLY:
                continue
            if head in self.elsewhere:
                raise Invalid("update_mask", f"{path!r}: {self.elsewhere[head]}")
            if head not in self.mutable:
                raise Invalid("update_mask", f"{path!r} names no field of {resource}")
            if rest and head == "labels":
                paths.append(f"labels.{rest}")
            elif rest:
                sub = to_camel(rest)
                if sub not in self.subfields.get(head, ()):
                    raise Invalid("update_mask", f"{path!r} names no field of {resource}")
                paths.append(f"{head}.{sub}")
            else:
                paths.append(head)
        return list(dict.fromkeys(paths))

    def implied(self, body: msgspec.Struct) -> list[str]:
        """Without a mask, an update changes the fields the body sets."""
        return [f for f in self.mutable if getattr(body, f) is not UNSET]


FLAG_MASK = Mask(
    mutable=("description", "schema", "labels", "owner", "clients", "rules"),
    elsewhere={"variants": "variants change through /v1/flags/{flag}/variants"},
)
"""``rules`` reorders the flag's rules (see ``core.confidence_flags.reordered``)."""
VARIANT_MASK = Mask(mutable=("value", "description", "labels"))
RULE_MASK = Mask(
    mutable=(
        "segment",
        "assignmentSpec",
        "targetingKeySelector",
        "enabled",
        "labels",
        "environments",
        "materializationSpec",
    ),
    subfields={"assignmentSpec": ("bucketCount", "assignments")},
)


def _labels(current: dict[str, str], sent: dict[str, str] | None, paths: Sequence[str]) -> Any:
    """The labels after the ``labels`` / ``labels.<key>`` paths of a mask (UNSET: untouched)."""
    keys = [p for p in paths if p.startswith("labels")]
    if not keys:
        return UNSET
    if "labels" in keys:
        return dict(sent or {})
    labels = dict(current)
    for path in keys:
        key = path.removeprefix("labels.")
        if sent is not None and key in sent:
            labels[key] = sent[key]
        else:
            labels.pop(key, None)
    return labels


def flag_patch(current: ConfidenceFlag, body: FlagIn, paths: list[str] | None) -> FlagPatch:
    """What a PATCH of a flag changes; a path in the mask that the body leaves out is reset to
    its default (FieldMask semantics)."""
    _same_name(_value(body.name), current.name)
    paths = paths if paths is not None else FLAG_MASK.implied(body)
    return FlagPatch(
        description=(_value(body.description) or "") if "description" in paths else UNSET,
        schema=schema_in(_value(body.schema) or {}) if "schema" in paths else UNSET,
        owner=(_value(body.owner) or "") if "owner" in paths else UNSET,
        clients=tuple(_value(body.clients) or ()) if "clients" in paths else UNSET,
        labels=_labels(current.labels, _value(body.labels), paths),
        rule_order=_rule_order(body) if "rules" in paths else UNSET,
    )


def _rule_order(body: FlagIn) -> tuple[str, ...]:
    rules = _value(body.rules) or []
    names = [_value(r.name) for r in rules]
    for i, name in enumerate(names):
        if not name:
            raise Invalid(f"flag.rules[{i}].name", "is required to reorder rules")
    return tuple(str(n) for n in names)


def variant_patch(current: FlagVariant, body: VariantIn, paths: list[str] | None) -> VariantPatch:
    _same_name(_value(body.name), current.name)
    paths = paths if paths is not None else VARIANT_MASK.implied(body)
    value = UNSET
    if "value" in paths:
        value = _value(body.value)
        if value is None:
            raise Invalid("variant.value", "is required")
    return VariantPatch(
        value=value,
        description=(_value(body.description) or "") if "description" in paths else UNSET,
        labels=_labels(current.labels, _value(body.labels), paths),
    )


def rule_patch(current: FlagRule, body: RuleIn, paths: list[str] | None) -> FlagRulePatch:
    _same_name(_value(body.name), current.name)
    if paths is None:
        paths = RULE_MASK.implied(body)
        spec_sent = _value(body.assignmentSpec)
        if "assignmentSpec" in paths and spec_sent is not None:
            # Without a mask, only the parts of the spec that were sent change.
            paths.remove("assignmentSpec")
            paths += [
                f"assignmentSpec.{f}"
                for f in ("bucketCount", "assignments")
                if getattr(spec_sent, f) is not UNSET
            ]
    spec = _value(body.assignmentSpec)
    where = "rule.assignmentSpec"
    whole = "assignmentSpec" in paths
    bucket_count: Any = UNSET
    if whole or "assignmentSpec.bucketCount" in paths:
        bucket_count = int32(f"{where}.bucketCount", _value(spec.bucketCount) if spec else None)
    assignments: Any = UNSET
    if whole or "assignmentSpec.assignments" in paths:
        assignments = _assignments_in(spec, where)
    segment: Any = UNSET
    if "segment" in paths:
        segment = _value(body.segment) or ""
        if not segment:
            raise Invalid("rule.segment", "is required")
    return FlagRulePatch(
        segment=segment,
        targeting_key_selector=(
            (_value(body.targetingKeySelector) or "") if "targetingKeySelector" in paths else UNSET
        ),
        enabled=bool(_value(body.enabled)) if "enabled" in paths else UNSET,
        environments=(tuple(_value(body.environments) or ()) if "environments" in paths else UNSET),
        bucket_count=bucket_count,
        assignments=assignments,
        labels=_labels(current.labels, _value(body.labels), paths),
        materialization_spec=(
            _materialization_in(_value(body.materializationSpec))
            if "materializationSpec" in paths
            else UNSET
        ),
    )


def _same_name(sent: str | None, name: str) -> None:
    if sent and sent != name:
        raise Invalid("name", f"{sent} is not {name}, the resource being updated")


# --- out -------------------------------------------------------------------------------------


def variant_out(variant: FlagVariant) -> VariantOut:
    return VariantOut(
        name=variant.name,
        value=variant.value,
        labels=dict(variant.labels),
        description=variant.description,
        createTime=rfc3339(variant.create_time),
        updateTime=rfc3339(variant.update_time),
        creator=identity(variant.creator),
        updater=identity(variant.updater),
    )


def _assignment_out(assignment: Assignment) -> AssignmentOut:
    return AssignmentOut(
        assignmentId=assignment.assignment_id,
        variant=(
            VariantAssignmentOut(assignment.variant)
            if assignment.kind == "variant" and assignment.variant
            else None
        ),
        fallthrough=EmptyOut() if assignment.kind == "fallthrough" else None,
        clientDefault=EmptyOut() if assignment.kind == "client_default" else None,
        bucketRanges=[BucketRangeOut(r.lower, r.upper) for r in assignment.bucket_ranges],
    )


def rule_out(rule: FlagRule) -> RuleOut:
    return RuleOut(
        name=rule.name,
        segment=rule.segment,
        assignmentSpec=AssignmentSpecOut(
            bucketCount=rule.bucket_count,
            assignments=[_assignment_out(a) for a in rule.assignments],
        ),
        targetingKeySelector=rule.targeting_key_selector,
        enabled=rule.enabled,
        createTime=rfc3339(rule.create_time),
        updateTime=rfc3339(rule.update_time),
        creator=identity(rule.creator),
        updater=identity(rule.updater),
        labels=dict(rule.labels),
        environments=list(rule.environments),
        materializationSpec=dict(rule.materialization_spec) or None,
    )


def flag_out(flag: ConfidenceFlag) -> FlagOut:
    creator = identity(flag.creator)
    return FlagOut(
        name=flag.name,
        state=flag.state,
        schema={"schema": {}, **flag.schema},
        description=flag.description,
        variants=[variant_out(v) for v in flag.variants],
        rules=[rule_out(r) for r in flag.rules],
        clients=list(flag.clients),
        createTime=rfc3339(flag.create_time),
        updateTime=rfc3339(flag.update_time),
        creator=creator,
        updater=identity(flag.updater),
        labels=dict(flag.labels),
        owner=flag.owner or creator,
    )


def client_out(client: ConfidenceClient) -> ClientOut:
    return ClientOut(
        name=client.name,
        displayName=client.display_name,
        labels=dict(client.labels),
        createTime=rfc3339(client.create_time),
        updateTime=rfc3339(client.update_time),
        creator=identity(client.creator),
        updater=identity(client.updater),
    )


def credential_out(credential: ClientCredential, secret: str | None = None) -> CredentialOut:
    creator = identity(credential.creator)
    return CredentialOut(
        name=credential.name,
        displayName=credential.display_name,
        clientSecret=ClientSecretOut(secret) if secret is not None else None,
        labels=dict(credential.labels),
        createTime=rfc3339(credential.create_time),
        updateTime=rfc3339(credential.update_time),
        creator=creator,
        updater=creator,
        environments=list(credential.environments),
    )
