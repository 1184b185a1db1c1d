"""Confidence wire <-> core: resource names, proto3 JSON values, targeting, update masks.

What the core has no field for lives in ``Segment.extensions["confidence"]``:
``workflowInstance``, ``flag``, ``targetingKeySelector``, and the targeting exactly as it was
sent (``targeting`` with ``expression``, the canonical condition it was parsed to). As long as
no other dialect changed the condition, a read answers the sent targeting (criterion ids and
all); otherwise the condition is rendered anew (``c0``, ``c1``… ids).

[project] ``displayName`` is the core ``name``: unique per tenant (409 ALREADY_EXISTS), and the
segment id when none is given. Static segments (member lists) have no Confidence targeting:
they are not expressible here, like conditions Confidence cannot say.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from typing import Any

from core.buckets import to_bytes
from core.errors import Invalid, NotExpressible
from core.expr import ast
from core.expr.confidence import LANGUAGE, parse_targeting, render_targeting
from core.model import SLUG_RE, Allocation, NewSegment, Segment, SegmentPatch
from core.segment_views import SegmentView
from core.sent_forms import expression_digest, sent_form
from dialects.confidence.wire import (
    UNSET,
    AllocationIn,
    AllocationOut,
    BitsetAllocation,
    DecimalOut,
    SegmentIn,
    SegmentOut,
    to_camel,
)

PREFIX = "segments/"
IDENTITY = "identities/"
EXT = "confidence"
MAX_REFERENCE = 1024
MAX_LABELS = 64
MAX_LABEL = 1024


def check_id(segment_id: str, field: str = "segment_id") -> str:
    if not SLUG_RE.match(segment_id):
        raise Invalid(field, "must be 4-63 characters of [a-z0-9-]")
    return segment_id


def id_from_name(name: str, field: str = "name") -> str:
    if not name.startswith(PREFIX):
        raise Invalid(field, "must be segments/<id>")
    return check_id(name.removeprefix(PREFIX), field)


def rfc3339(us: int) -> str:
    """µs since the epoch as RFC 3339 UTC with 0, 3 or 6 fractional digits as needed."""
    seconds, micros = divmod(us, 1_000_000)
    text = dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if micros == 0:
        return text + "Z"
    if micros % 1000 == 0:
        return f"{text}.{micros // 1000:03d}Z"
    return f"{text}.{micros:06d}Z"


def identity(token_name: str | None) -> str:
    return f"{IDENTITY}{token_name}" if token_name else ""


# --- out -------------------------------------------------------------------------------------


def targeting_of(segment: Segment) -> dict[str, Any] | None:
    """The segment's targeting as Confidence shows it, or None when it was never set (and
    matches everyone). ``Hidden`` (a NotFound with the reason) when Confidence cannot say the
    condition. Cached per segment version, so lists do not render each segment anew."""
    shown: dict[str, Any] | None = VIEW.fields(segment)["targeting"]
    return shown


def _targeting(segment: Segment) -> dict[str, Any] | None:
    if segment.kind == "static":
        raise NotExpressible(LANGUAGE, "static segments (member lists) have no targeting")
    found, sent = sent_form(
        segment.extensions.get(EXT), "targeting", "expression", segment.expression
    )
    if found:
        return sent if isinstance(sent, dict) else None
    if segment.expression is None:
        return None
    return render_targeting(ast.decode(segment.expression))


VIEW = SegmentView(LANGUAGE, lambda segment: {"targeting": _targeting(segment)})


def expressible(segment: Segment) -> bool:
    return VIEW.shows(segment)


def segment_out(segment: Segment, bitset: int | None = None, *, full: bool = False) -> SegmentOut:
    conf = segment.extensions.get(EXT)
    conf = conf if isinstance(conf, dict) else {}
    alloc = segment.allocation
    creator = identity(segment.created_by)
    return SegmentOut(
        createTime=rfc3339(segment.created_at),
        updateTime=rfc3339(segment.updated_at),
        creator=creator,
        updater=identity(segment.updated_by),
        name=PREFIX + segment.slug,
        displayName=segment.name,
        description=segment.description or "",
        targeting=targeting_of(segment),
        allocation=AllocationOut(
            proportion=DecimalOut(alloc.proportion),
            exclusivityTags=list(alloc.exclusivity_tags),
            exclusiveTo=list(alloc.exclusive_to),
            targetingKeySelector=_text(conf.get("targetingKeySelector")),
        ),
        state=segment.state,
        bitsetAllocation=(
            BitsetAllocation(base64.b64encode(to_bytes(bitset)).decode())
            if full and bitset is not None
            else None
        ),
        labels=dict(segment.labels),
        workflowInstance=_text(conf.get("workflowInstance")),
        flag=_text(conf.get("flag")),
        owner=segment.owner or creator,
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


# --- in --------------------------------------------------------------------------------------


def _reference(field: str, value: str | None) -> str | None:
    if not value:
        return None
    if len(value) > MAX_REFERENCE or "\x00" in value:
        raise Invalid(field, f"must be at most {MAX_REFERENCE} characters without NUL")
    return value


def _labels(value: dict[str, str] | None) -> dict[str, str]:
    labels = value or {}
    if len(labels) > MAX_LABELS:
        raise Invalid("labels", f"at most {MAX_LABELS} labels")
    for key, item in labels.items():
        if not key or len(key) > MAX_LABEL or len(item) > MAX_LABEL or "\x00" in key + item:
            raise Invalid(
                f"labels.{key}",
                f"keys and values are 1 to {MAX_LABEL} characters "
                "without NUL (values may be empty)",
            )
    return labels


def _tags(field: str, value: list[str] | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(value or ()))


def allocation_in(body: AllocationIn | None, base: Allocation | None = None) -> Allocation:
    """An Allocation from a body (absent = default: proportion ``"1"``, no tags), or ``base``
    with the sent fields replaced."""
    current = base or Allocation()
    if body is None:
        return current if base is not None else Allocation()
    proportion = current.proportion
    if body.proportion is not UNSET:
        sent = body.proportion.value if body.proportion is not None else None
        proportion = sent if sent else "1"
    tags = current.exclusivity_tags
    if body.exclusivityTags is not UNSET:
        tags = _tags("allocation.exclusivityTags", body.exclusivityTags)
    to = current.exclusive_to
    if body.exclusiveTo is not UNSET:
        to = _tags("allocation.exclusiveTo", body.exclusiveTo)
    return Allocation(proportion=proportion, exclusivity_tags=tags, exclusive_to=to)


def targeting_in(targeting: dict[str, Any] | None) -> tuple[bytes | None, dict[str, Any] | None]:
    """(canonical condition, targeting to keep) of a sent targeting."""
    if targeting is None:
        return None, None
    expr = parse_targeting(targeting)
    return (ast.encode(expr) if expr is not None else None), targeting


def _conf_with(
    conf: dict[str, Any], expression: bytes | None, targeting: dict[str, Any] | None
) -> dict[str, Any]:
    out = {k: v for k, v in conf.items() if k not in ("targeting", "expression")}
    if targeting is not None:
        out["targeting"] = targeting
        out["expression"] = expression_digest(expression)
    return out


def _set(conf: dict[str, Any], key: str, value: str | None) -> None:
    if value:
        conf[key] = value
    else:
        conf.pop(key, None)


def new_segment(body: SegmentIn, segment_id: str | None, sandbox: str) -> NewSegment:
    """A create: ``segmentId`` wins; else the body's ``name``; else a generated id."""
    slug = check_id(segment_id) if segment_id is not None else None
    if isinstance(body.name, str) and body.name:
        from_body = id_from_name(body.name)
        if slug is not None and slug != from_body:
            raise Invalid("name", f"{body.name} does not match segmentId {slug}")
        slug = from_body
    expression, targeting = targeting_in(_value(body.targeting))
    conf: dict[str, Any] = {}
    _set(conf, "workflowInstance", _reference("workflowInstance", _value(body.workflowInstance)))
    _set(conf, "flag", _reference("flag", _value(body.flag)))
    alloc_body = _value(body.allocation)
    if alloc_body is not None:
        _set(
            conf,
            "targetingKeySelector",
            _reference("allocation.targetingKeySelector", _value(alloc_body.targetingKeySelector)),
        )
    conf = _conf_with(conf, expression, targeting)
    display = _value(body.displayName)
    return NewSegment(
        name=display or "",  # filled with the id by the service when empty
        sandbox=sandbox,
        description=_value(body.description) or None,
        expression=expression,
        allocation=allocation_in(alloc_body),
        labels=_labels(_value(body.labels)),
        owner=_reference("owner", _value(body.owner)),
        extensions={EXT: conf} if conf else {},
        slug=slug,
    )


def _value(value: Any) -> Any:
    return None if value is UNSET else value


# --- update masks ----------------------------------------------------------------------------

MUTABLE = (
    "displayName",
    "description",
    "targeting",
    "allocation",
    "labels",
    "workflowInstance",
    "flag",
    "owner",
)
_SUBFIELDS = {
    "allocation": ("proportion", "exclusivityTags", "exclusiveTo", "targetingKeySelector"),
    "targeting": ("criteria", "expression"),
}
_IGNORED = frozenset(
    {"name", "state", "bitsetAllocation", "createTime", "updateTime", "creator", "updater"}
)
_PATH_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[^.]+)*$")


def parse_mask(text: str | None) -> list[str] | None:
    """``a,b.c`` → camelCase paths; None for an absent or empty mask; ``["*"]`` for ``*``.
    Output-only paths are dropped (AIP-203); unknown ones are ``Invalid``."""
    if text is None or not text.strip():
        return None
    paths: list[str] = []
    for raw in text.split(","):
        path = raw.strip()
        if path == "*":
            paths.append("*")
            continue
        if not _PATH_RE.match(path):
            raise Invalid("update_mask", f"{path!r} is not a field path")
        head, _, rest = path.partition(".")
        head = to_camel(head)
        if head in _IGNORED:
            continue
        if head not in MUTABLE:
            raise Invalid("update_mask", f"{path!r} names no field of Segment")
        if rest:
            if head == "labels":
                paths.append(f"labels.{rest}")
                continue
            sub = to_camel(rest)
            if sub not in _SUBFIELDS.get(head, ()):
                raise Invalid("update_mask", f"{path!r} names no field of Segment")
            paths.append(f"{head}.{sub}")
        else:
            paths.append(head)
    if "*" in paths and len(paths) > 1:
        raise Invalid("update_mask", "'*' must be the only path")
    return list(dict.fromkeys(paths))


def implied_mask(body: SegmentIn) -> list[str]:
    """An empty mask updates what the body sets: whole fields, and each sent allocation
    field."""
    paths: list[str] = []
    for field in MUTABLE:
        value = getattr(body, field)
        if value is UNSET:
            continue
        if field == "allocation" and isinstance(value, AllocationIn):
            paths += [
                f"allocation.{f}"
                for f in _SUBFIELDS["allocation"]
                if getattr(value, f) is not UNSET
            ]
        else:
            paths.append(field)
    return paths


def patch_for(segment: Segment, body: SegmentIn, mask: list[str] | None) -> SegmentPatch:
    """The core patch a PATCH asks for, computed against the segment as it is."""
    if isinstance(body.name, str) and body.name and body.name != PREFIX + segment.slug:
        raise Invalid("name", f"{body.name} is not the segment being updated")
    paths = mask if mask is not None else implied_mask(body)
    if mask == ["*"]:
        paths = list(MUTABLE)
    conf = segment.extensions.get(EXT)
    conf = dict(conf) if isinstance(conf, dict) else {}
    changes: dict[str, Any] = {}
    targeting_changed = False
    targeting = targeting_of(segment) or {}
    allocation_body = _value(body.allocation)
    allocation = segment.allocation
    labels = dict(segment.labels)
    for path in paths:
        head, _, sub = path.partition(".")
        if head == "displayName":
            changes["name"] = _value(body.displayName) or segment.slug
        elif head == "description":
            changes["description"] = _value(body.description) or None
        elif head == "owner":
            changes["owner"] = _reference("owner", _value(body.owner))
        elif head in ("workflowInstance", "flag"):
            _set(conf, head, _reference(head, _value(getattr(body, head))))
        elif head == "labels" and sub:
            sent = _value(body.labels) or {}
            if sub in sent:
                labels[sub] = sent[sub]
            else:
                labels.pop(sub, None)
        elif head == "labels":
            labels = dict(_labels(_value(body.labels)))
        elif head == "targeting":
            sent_targeting = _value(body.targeting)
            targeting_changed = True
            if sub:
                targeting = dict(targeting)
                if sent_targeting is not None and sub in sent_targeting:
                    targeting[sub] = sent_targeting[sub]
                else:
                    targeting.pop(sub, None)
            else:
                targeting = sent_targeting
        elif head == "allocation":
            allocation, conf = _allocation_path(allocation, conf, allocation_body, sub)
    if targeting_changed:
        expression, kept = targeting_in(targeting if targeting is not None else None)
        changes["expression"] = expression
        conf = _conf_with(conf, expression, kept)
    extensions = dict(segment.extensions)
    if conf:
        extensions[EXT] = conf
    else:
        extensions.pop(EXT, None)
    return SegmentPatch(
        allocation=allocation,
        labels=_labels(labels),
        extensions=extensions,
        **changes,
    )


def _allocation_path(
    current: Allocation, conf: dict[str, Any], body: AllocationIn | None, sub: str
) -> tuple[Allocation, dict[str, Any]]:
    if not sub:  # the whole message: what is not sent is reset
        replaced = allocation_in(body)
        selector = _value(body.targetingKeySelector) if body is not None else None
        _set(conf, "targetingKeySelector", _reference("allocation.targetingKeySelector", selector))
        return replaced, conf
    if sub == "targetingKeySelector":
        selector = _value(body.targetingKeySelector) if body is not None else None
        _set(conf, "targetingKeySelector", _reference("allocation.targetingKeySelector", selector))
        return current, conf
    # A path in the mask that the body leaves out is reset to its default (FieldMask rules).
    sent = getattr(body, sub) if body is not None else None
    field_body = AllocationIn(**{sub: None if sent is UNSET else sent})
    return allocation_in(field_body, current), conf
