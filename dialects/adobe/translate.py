"""Adobe wire <-> core (``docs/dialects/adobe.md``).

A definition keeps, in ``Segment.extensions["adobe"]``:

* ``fields``: every client field the core does not interpret (``schema``, ``ttlInDays``,
  ``profileInstanceId``, ``payloadSchema``, ``mergePolicyId``, ``labels``, anything else), as sent;
* ``evaluationInfo``: as sent, with the defaults filled in (the list filters read it in SQL);
* ``expression``: ``{type, format, value}`` as sent, and ``expressionOf``, a digest of the
  canonical AST it was parsed to. While the segment's AST still has that digest the expression is
  returned exactly as sent; once another dialect changes the condition, it is rendered from the
  AST as ``pql/text`` instead, so a stale text is never shown.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

import msgspec
from msgspec import UNSET

from core.allocation import check_condition_only
from core.errors import Invalid, LimitExceeded, NotExpressible
from core.expr import ast
from core.expr.ast import Expr
from core.expr.normalize import normalize
from core.expr.pql import parse_pql
from core.expr.pql_render import render_pql
from core.expr.pqljson import parse_pqljson, render_pqljson
from core.model import DEFAULT_SANDBOX, ExtensionTest, NewSegment, Page, Segment, SegmentPatch, Sort
from core.sent_forms import expression_digest, sent_form
from core.service import MAX_BULK_IDS
from dialects.adobe.wire import BulkIds, BulkIn, ConversionIn, DefinitionIn, ExpressionIn, IdIn
from dialects.http import convert

ADOBE = "adobe"
BASE = "/data/core/ups"
DEFINITIONS = f"{BASE}/segment/definitions"
DEFAULT_LIMIT = 100
MAX_LIMIT = 100
DEFAULT_SCHEMA = {"name": "_xdm.context.profile"}
EVALUATION_KEYS = ("batch", "continuous", "synchronous")
DEFAULT_EVALUATION: dict[str, Any] = {
    "batch": {"enabled": True},
    "continuous": {"enabled": False},
    "synchronous": {"enabled": False},
}
# Interpreted by the core (or by this module), so not kept among the pass-through fields.
_CORE_FIELDS = frozenset({"name", "description", "expression", "evaluationInfo"})
# Set by the server; a client sending them is ignored.
_SERVER_FIELDS = frozenset(
    {
        "id",
        "imsOrgId",
        "sandbox",
        "dataGovernancePolicy",
        "creationTime",
        "updateTime",
        "updateEpoch",
        "baselineTime",
    }
)
# Response key order: the guide's, then any other kept field.
_LEADING = ("schema", "ttlInDays", "profileInstanceId")
_TRAILING = ("mergePolicyId", "payloadSchema")
_SANDBOX_RE = re.compile(r"^[a-z0-9-]{1,64}$")
_SANDBOX_NS = uuid.UUID("8f0f3b1e-5d7c-4c1a-9a57-5e6d0c5ad0be")
_SORT_FIELDS: dict[str, Any] = {
    "name": "name",
    "description": "description",
    "creationTime": "created_at",
    "updateTime": "updated_at",
    "updateEpoch": "updated_at",
    "id": "id",
}
MAX_SORT_KEYS = 6
FILTERS = {
    f"evaluationInfo.{key}.enabled": ExtensionTest(
        (ADOBE, "evaluationInfo", key, "enabled"), True, default=DEFAULT_EVALUATION[key]["enabled"]
    )
    for key in EVALUATION_KEYS
}


# --- headers -------------------------------------------------------------------------------


def sandbox_name(header: str | None) -> str:
    """``x-sandbox-name``; absent, the request runs in ``prod`` (present but empty is not a
    sandbox name)."""
    if header is None:
        return DEFAULT_SANDBOX
    if not _SANDBOX_RE.match(header):
        raise Invalid("x-sandbox-name", "must be 1 to 64 characters of a-z, 0-9 and -")
    return header


def sandbox_out(tenant: str, sandbox: str) -> dict[str, Any]:
    # A stable id per tenant and sandbox: sandboxes are not stored, only named.
    return {
        "sandboxId": str(uuid.uuid5(_SANDBOX_NS, f"{tenant}\n{sandbox}")),
        "sandboxName": sandbox,
        "type": "production" if sandbox == DEFAULT_SANDBOX else "development",
        "default": sandbox == DEFAULT_SANDBOX,
    }


# --- expressions ---------------------------------------------------------------------------


def parse_expression(expression: ExpressionIn) -> Expr | None:
    """The AST of a PQL expression in either format, or ``Invalid`` naming where and what."""
    if expression.type == "ARL":
        raise Invalid("expression.type", "ARL expressions are not supported; only PQL is")
    if expression.type != "PQL":
        raise Invalid("expression.type", "must be PQL")
    if expression.format == "pql/json":
        return parse_pqljson(expression.value)
    if expression.format != "pql/text":
        raise Invalid("expression.format", "must be pql/text or pql/json")
    try:
        return parse_pql(expression.value)
    except Invalid as exc:
        if exc.position is None:
            raise
        raise Invalid(
            exc.field, _with_line(exc.reason, expression.value, exc.position), position=exc.position
        ) from None


def _with_line(reason: str, text: str, position: int) -> str:
    """Add the line and column (1-based) of a 0-based offset to the parser's reason."""
    before = text[:position]
    line = before.count("\n") + 1
    column = position - (before.rfind("\n") + 1) + 1
    where = f"(position {position})"
    located = f"(position {position}: line {line}, column {column})"
    return reason.replace(where, located) if where in reason else f"{reason} {located}"


def canonical(expr: Expr | None) -> bytes | None:
    normal = normalize(expr)
    return ast.encode(normal) if normal is not None else None


def expression_out(segment: Segment, ext: Mapping[str, Any]) -> dict[str, Any]:
    if segment.kind == "static":
        raise NotExpressible("pql", "a static segment (a list of members) has no PQL condition")
    check_condition_only(segment, "pql", "PQL")
    found, stored = sent_form(ext, "expression", "expressionOf", segment.expression)
    if found and isinstance(stored, dict):
        return stored
    expr = ast.decode(segment.expression) if segment.expression is not None else None
    return {"type": "PQL", "format": "pql/text", "value": render_pql(expr)}


# --- definitions in ------------------------------------------------------------------------


class Definition(msgspec.Struct, frozen=True, kw_only=True):
    """A validated create/PATCH body."""

    name: str
    description: str | None
    has_description: bool
    expression: dict[str, Any]
    canonical: bytes | None
    evaluation: dict[str, Any] | None
    fields: dict[str, Any]
    body_id: str | None


def definition_in(body: Any) -> Definition:
    """Validate a create/PATCH body and parse its PQL."""
    checked = convert(body, DefinitionIn)
    assert isinstance(body, dict)
    if checked.name == "":
        raise Invalid("name", "must not be empty")
    if checked.schema.name is UNSET and checked.schema.id is UNSET:
        raise Invalid("schema", "must have a name or an id")
    expr = parse_expression(checked.expression)
    return Definition(
        name=checked.name,
        description=checked.description if isinstance(checked.description, str) else None,
        has_description=checked.description is not UNSET,
        expression=body["expression"],
        canonical=canonical(expr),
        evaluation=body.get("evaluationInfo"),
        fields={k: v for k, v in body.items() if k not in _CORE_FIELDS | _SERVER_FIELDS},
        body_id=checked.id if isinstance(checked.id, str) else None,
    )


def _evaluation(sent: dict[str, Any] | None, base: Mapping[str, Any]) -> dict[str, Any]:
    """``sent`` over ``base`` key by key, every evaluation method with its ``enabled``."""
    merged = {**base, **(sent or {})}
    for key in EVALUATION_KEYS:
        method = merged.get(key)
        if not isinstance(method, dict):
            method = {}
        if "enabled" not in method:
            method = {**method, "enabled": base.get(key, DEFAULT_EVALUATION[key])["enabled"]}
        merged[key] = method
    return merged


def _extension(definition: Definition, stored: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "fields": {**stored.get("fields", {}), **definition.fields},
        "evaluationInfo": _evaluation(
            definition.evaluation, stored.get("evaluationInfo", DEFAULT_EVALUATION)
        ),
        "expression": definition.expression,
        "expressionOf": expression_digest(definition.canonical),
    }


def new_segment(definition: Definition, sandbox: str) -> NewSegment:
    return NewSegment(
        name=definition.name,
        sandbox=sandbox,
        description=definition.description,
        expression=definition.canonical,
        extensions={ADOBE: _extension(definition, {})},
    )


def patch_builder(definition: Definition, path_id: str) -> Callable[[Segment], SegmentPatch]:
    """The overwrite of a stored definition: the body's client fields replace the stored ones,
    fields absent from it keep their values (docs/dialects/adobe.md, Decisions)."""

    def build(current: Segment) -> SegmentPatch:
        if definition.body_id is not None and definition.body_id != path_id:
            raise Invalid("id", "must be the id in the path")
        if current.kind == "static":
            raise NotExpressible(
                "pql", "a static segment (a list of members) cannot be given a PQL condition"
            )
        # What this view cannot show it cannot change either: refused before anything is written.
        check_condition_only(current, "pql", "PQL")
        stored = current.extensions.get(ADOBE) or {}
        return SegmentPatch(
            name=definition.name,
            description=definition.description if definition.has_description else UNSET,
            expression=definition.canonical,
            extensions={**current.extensions, ADOBE: _extension(definition, stored)},
        )

    return build


# --- definitions out -----------------------------------------------------------------------


def definition_out(segment: Segment, org: str) -> dict[str, Any]:
    """The definition as Adobe shows it; ``NotExpressible`` if PQL cannot state its condition."""
    ext = segment.extensions.get(ADOBE) or {}
    fields: dict[str, Any] = ext.get("fields") or {}
    out: dict[str, Any] = {"id": segment.id, "schema": fields.get("schema", DEFAULT_SCHEMA)}
    out |= {k: fields[k] for k in _LEADING if k in fields and k != "schema"}
    out["imsOrgId"] = org
    out["sandbox"] = sandbox_out(segment.tenant, segment.sandbox)
    out["name"] = segment.name
    out["description"] = segment.description or ""
    out["expression"] = expression_out(segment, ext)
    out |= {k: fields[k] for k in _TRAILING if k in fields}
    out |= {k: v for k, v in fields.items() if k not in out}
    out["evaluationInfo"] = ext.get("evaluationInfo") or DEFAULT_EVALUATION
    out["dataGovernancePolicy"] = {"excludeOptOut": True}
    out["creationTime"] = segment.created_at // 1000
    out["updateEpoch"] = segment.updated_at // 1_000_000
    out["updateTime"] = segment.updated_at // 1000
    return out


def location(base_url: str, segment: Segment) -> str:
    return f"{base_url.rstrip('/')}{DEFINITIONS}/{segment.id}"


# --- listing -------------------------------------------------------------------------------


class ListQuery(msgspec.Struct, frozen=True, kw_only=True):
    offset: int
    limit: int
    page: int
    start: int | None
    sort: tuple[Sort, ...]
    sort_field: str
    sort_direction: str
    sort_text: str | None
    tests: tuple[ExtensionTest, ...]
    filters: dict[str, str]


def _single(params: Mapping[str, list[str]], name: str) -> str | None:
    values = params.get(name) or []
    if len(values) > 1:
        raise Invalid(name, "must be given once")
    return values[0] if values else None


MAX_INT = 2**31 - 1


def _integer(params: Mapping[str, list[str]], name: str) -> int | None:
    raw = _single(params, name)
    if raw is None:
        return None
    text = raw.strip()
    if text.startswith("-") and text[1:].isascii() and text[1:].isdigit():
        raise Invalid(name, "must not be negative")
    if not (text.isascii() and text.isdigit()):
        raise Invalid(name, "must be a non-negative integer")
    # Adobe's service reads these as Java ints: larger values are refused, not clamped.
    if len(text) > 10 or int(text) > MAX_INT:
        raise Invalid(name, f"must be at most {MAX_INT}")
    return int(text)


def _sort(raw: str | None) -> tuple[tuple[Sort, ...], str, str]:
    if raw is None:
        return (Sort("created_at", descending=True),), "creationTime", "desc"
    keys: list[Sort] = []
    first: tuple[str, str] | None = None
    items = raw.split(",")
    if len(items) > MAX_SORT_KEYS:
        raise Invalid("sort", f"at most {MAX_SORT_KEYS} sort keys")
    for item in items:
        field, _, direction = item.partition(":")
        direction = direction or "asc"
        if field not in _SORT_FIELDS:
            raise Invalid("sort", f"cannot sort by {field!r}; use one of {', '.join(_SORT_FIELDS)}")
        if direction not in ("asc", "desc"):
            raise Invalid("sort", f"direction {direction!r} must be asc or desc")
        keys.append(Sort(_SORT_FIELDS[field], descending=direction == "desc"))
        first = first or (field, direction)
    assert first is not None
    return tuple(keys), first[0], first[1]


def _flag(raw: str, name: str) -> bool:
    value = raw.strip().lower()
    if value not in ("true", "false"):
        raise Invalid(name, "must be true or false")
    return value == "true"


def list_query(params: Mapping[str, list[str]]) -> ListQuery:
    """``GET /segment/definitions`` parameters; unknown parameters are ignored."""
    limit = _integer(params, "limit")
    limit = DEFAULT_LIMIT if limit is None else limit
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid("limit", f"must be between 1 and {MAX_LIMIT}")
    page = _integer(params, "page") or 0
    start = _integer(params, "start")
    sort_text = _single(params, "sort")
    sort, field, direction = _sort(sort_text)
    tests: list[ExtensionTest] = []
    filters: dict[str, str] = {}
    for name, test in FILTERS.items():
        raw = _single(params, name)
        if raw is not None:
            value = _flag(raw, name)
            tests.append(msgspec.structs.replace(test, value=value))
            filters[name] = "true" if value else "false"
    return ListQuery(
        offset=start if start is not None else page * limit,
        limit=limit,
        page=page,
        start=start,
        sort=sort,
        sort_field=field,
        sort_direction=direction,
        sort_text=sort_text,
        tests=tuple(tests),
        filters=filters,
    )


def list_out(page: Page, query: ListQuery, org: str) -> dict[str, Any]:
    """A page in the shape of Adobe's guide. A definition PQL cannot state is left out of
    ``segments`` (ARCHITECTURE.md: never shown weakened); ``totalCount`` still counts every
    stored one."""
    shown = []
    for segment in page.items:
        try:
            shown.append(definition_out(segment, org))
        except NotExpressible:
            continue
    link: dict[str, str] = {}
    if query.offset + query.limit < page.total:
        params: dict[str, Any] = (
            {"start": query.offset + query.limit}
            if query.start is not None
            else {"page": query.page + 1}
        )
        params["limit"] = query.limit
        if query.sort_text is not None:
            params["sort"] = query.sort_text
        params |= query.filters
        link["next"] = f"{DEFINITIONS}?{urlencode(params)}"
    return {
        "segments": shown,
        "page": {
            "totalCount": page.total,
            "totalPages": math.ceil(page.total / query.limit),
            "sortField": query.sort_field,
            "sort": query.sort_direction,
            "pageSize": len(shown),
            "limit": query.limit,
        },
        "link": link,
    }


# --- bulk-get ------------------------------------------------------------------------------


def bulk_ids(body: Any) -> list[str]:
    """``{"ids": [{"id"}…]}``, ``{"ids": ["…"]}``, ``["…"]`` or ``[{"id"}…]``: the shapes
    ``aepp`` sends."""
    ids: BulkIds = convert(body, BulkIds) if isinstance(body, list) else convert(body, BulkIn).ids
    if len(ids) > MAX_BULK_IDS:
        raise LimitExceeded("ids", f"at most {MAX_BULK_IDS} ids per request")
    return list(dict.fromkeys(i.id if isinstance(i, IdIn) else i for i in ids))


def bulk_out(
    ids: list[str], found: list[Segment] | tuple[Segment, ...], org: str
) -> dict[str, Any]:
    """207 body: ``results`` by id; ids not found, or not expressible in PQL, in ``errors``."""
    by_id = {s.id: s for s in found}
    results: dict[str, Any] = {}
    errors: dict[str, Any] = {}
    for segment_id in ids:
        segment = by_id.get(segment_id)
        if segment is None:
            errors[segment_id] = {"code": 404, "message": not_found_message(segment_id)}
            continue
        try:
            results[segment_id] = definition_out(segment, org)
        except NotExpressible as exc:
            errors[segment_id] = {"code": 422, "message": not_expressible_message(exc)}
    return {"results": results, "errors": errors} if errors else {"results": results}


def not_found_message(segment_id: str) -> str:
    return f"Segment definition with id {segment_id!r} was not found."


def not_expressible_message(exc: NotExpressible) -> str:
    return f"The segment's condition cannot be stated in PQL: {exc.reason}."


# --- conversion ----------------------------------------------------------------------------


def conversion_out(body: Any, org: str, tenant: str, sandbox: str) -> dict[str, Any]:
    """``POST /segment/conversion``: the request's definition with its expression converted
    between pql/text and pql/json, and the org and sandbox of the request."""
    checked = convert(body, ConversionIn)
    assert isinstance(body, dict)
    if checked.name == "":
        raise Invalid("name", "must not be empty")
    if checked.schema.name is UNSET and checked.schema.id is UNSET:
        raise Invalid("schema", "must have a name or an id")
    expr = parse_expression(checked.expression)
    if checked.expression.format == "pql/text":
        converted = {"format": "pql/json", "value": render_pqljson(expr)}
    else:
        converted = {"format": "pql/text", "value": render_pql(expr)}
    out = {k: v for k, v in body.items() if k not in _SERVER_FIELDS}
    out["description"] = checked.description if isinstance(checked.description, str) else ""
    out["expression"] = {**body["expression"], **converted}
    out["imsOrgId"] = org
    out["sandbox"] = sandbox_out(tenant, sandbox)
    return out
