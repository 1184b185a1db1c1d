"""Confidence's flag resolver: which variant of each flag a client's evaluation context gets.

A pure function over one tenant's state at one revision (:class:`ResolverState`: its ACTIVE and
ARCHIVED flags, its segments with their compiled targeting and their bitsets, the account whose
salt buckets units) and one request. It follows ``confidence-resolver/src/lib.rs`` of
spotify/confidence-resolver step by step (``docs/dialects/confidence.md``, "The resolver"):

* Only ACTIVE flags listed for the credential's client are resolved; an empty list of names
  means all of them; more than :data:`MAX_FLAGS` is refused (``LimitExceeded``).
* Rules in order. A rule is skipped when it is disabled, when it names environments and the
  credential has none of them, or when its segment is unknown or does not serve (ARCHIVED or
  UNALLOCATED: Confidence's resolver state holds only OK and ALLOCATED segments).
* The unit is the context's value at the rule's ``targetingKeySelector`` (a dotted path; blank:
  ``targeting_key``): a string, or a finite integral number printed without a decimal point, at
  most 100 bytes of UTF-8. Missing or null: a rule with an explicit selector is skipped, a
  blank one goes on without a unit. Anything else is ``TARGETING_KEY_ERROR`` for the flag,
  unless the selector is blank and the rule is one full rollout (no bucket is needed).
* The segment matches when its targeting matches and the unit's bucket is in its bitset
  (``core.allocation.is_member``: with no unit only a full bitset matches); segment criteria ask
  the named segment about the same unit, a cycle never matches.
* A rule without assignments is skipped. One assignment over the whole range needs no hash;
  otherwise the bucket is ``(h1 >> 4) % bucketCount`` of MurmurHash3_x64_128 over
  ``"<segment id>|<unit>"``, and no unit skips the rule. The first assignment with a range
  ``lower <= bucket < upper`` wins: a variant matches, ``clientDefault`` matches with no
  variant, ``fallthrough`` is remembered and the next rule is tried; no range skips the rule.
* ``shouldApply`` is true for a match and for any flag that passed a fallthrough.
* Materializations are not served (the reference resolver's "without materializations" mode):
  a rule that reads one, reached with a unit, or any rule with a ``materializationSpec`` that
  assigns a unit, answers the flag ``MATERIALIZATION_NOT_SUPPORTED`` (never a guess).

No I/O here: :mod:`core.resolver_service` builds and caches the state per tenant revision, and
signs the resolve token.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from typing import Any, Literal

import msgspec

from core import allocation
from core.confidence_model import Assignment, ConfidenceFlag, FlagRule
from core.errors import LimitExceeded
from core.evaluation import identity_of
from core.expr import ast
from core.expr.evaluate import Compiled, compile_expr
from core.expr.refs import ref_slug
from core.model import Segment
from core.murmur3 import murmur3_x64_128

MAX_FLAGS = 1000
"""Flags one resolve may answer (``MAX_NO_OF_FLAGS_TO_BATCH_RESOLVE``)."""
MAX_UNIT_BYTES = 100
TARGETING_KEY = "targeting_key"
SEGMENT_PREFIX = "segments/"

Reason = Literal[
    "RESOLVE_REASON_MATCH",
    "RESOLVE_REASON_NO_SEGMENT_MATCH",
    "RESOLVE_REASON_FLAG_ARCHIVED",
    "RESOLVE_REASON_TARGETING_KEY_ERROR",
    "RESOLVE_REASON_ERROR",
    "RESOLVE_REASON_MATERIALIZATION_NOT_SUPPORTED",
]
MATCH: Reason = "RESOLVE_REASON_MATCH"
NO_SEGMENT_MATCH: Reason = "RESOLVE_REASON_NO_SEGMENT_MATCH"
FLAG_ARCHIVED: Reason = "RESOLVE_REASON_FLAG_ARCHIVED"
TARGETING_KEY_ERROR: Reason = "RESOLVE_REASON_TARGETING_KEY_ERROR"
ERROR: Reason = "RESOLVE_REASON_ERROR"
MATERIALIZATION_NOT_SUPPORTED: Reason = "RESOLVE_REASON_MATERIALIZATION_NOT_SUPPORTED"


class ResolveClient(msgspec.Struct, frozen=True, kw_only=True):
    """Who resolves: the client a credential belongs to and the credential's environments."""

    tenant: str
    client: str
    """``clients/<c>``."""
    credential: str
    """``clients/<c>/credentials/<k>``."""
    environments: tuple[str, ...] = ()


class Fallthrough(msgspec.Struct, frozen=True, kw_only=True):
    """A rule whose assignment said "fall through" on the way to the answer."""

    rule: str
    assignment_id: str
    targeting_key: str
    targeting_key_selector: str


class ResolvedFlag(msgspec.Struct, frozen=True, kw_only=True):
    flag: str
    reason: Reason
    variant: str = ""
    """``flags/<f>/variants/<v>``; empty for no variant (no match, or the client's default)."""
    value: dict[str, Any] | None = None
    """The variant's value with every field of the schema present (absent ones null); ``{}``
    for the client's default; None when nothing matched."""
    schema: dict[str, Any] | None = None
    """``flagSchema`` as proto3 JSON; None when nothing matched."""
    rule: str = ""
    """The rule that matched (Confidence's ``assignmentOrigin``)."""
    segment: str = ""
    assignment_id: str = ""
    targeting_key: str = ""
    targeting_key_selector: str = ""
    fallthroughs: tuple[Fallthrough, ...] = ()

    @property
    def should_apply(self) -> bool:
        return self.reason == MATCH or bool(self.fallthroughs)


# --- the tenant's state -----------------------------------------------------------------------


class _Frame:
    """One membership question under way: the unit every nested segment is asked about, the
    segments on the current path (a cycle never matches) and the static members known."""

    __slots__ = ("active", "state", "static", "unit")

    def __init__(self, state: ResolverState, unit: str | None, static: frozenset[str]) -> None:
        self.state = state
        self.unit = unit
        self.static = static
        self.active: set[str] = set()


# Compiled targeting is kept per tenant revision while what a segment criterion means (the
# named segment's buckets for *this* unit) changes per question: the closures ask the frame of
# the question running now.
_frame: ContextVar[_Frame | None] = ContextVar("segmux_resolver_frame", default=None)


def _resolve_ref(ref: str, context: Mapping[str, Any]) -> bool:
    frame = _frame.get()
    if frame is None:
        return False
    target = frame.state.segments.get(ref_slug(ref))
    return target is not None and frame.state.member(frame, target, context)


class ResolverState:
    """A tenant's flags and segments at one revision, compiled once."""

    def __init__(
        self,
        *,
        account: str,
        flags: Sequence[ConfidenceFlag],
        segments: Sequence[Segment],
        bitsets: Mapping[str, bytes | None],
    ) -> None:
        self.account = account
        self.flags = {f.name: f for f in flags}
        self.segments = {s.slug: s for s in segments}
        """By slug (Confidence's segment id)."""
        self.bitsets = dict(bitsets)
        """By segment id; a segment absent here or None holds every bucket."""
        self.has_static = any(s.kind == "static" for s in segments)
        self._compiled: dict[str, Compiled] = {}
        self._serving: dict[str, Segment | None] = {}
        """Rules' segment names -> the segment if it serves (bounded by the rules' names)."""
        """Targeting by segment id, compiled when a resolve first needs it (a tenant may have
        many segments no flag uses)."""

    def serving(self, segment_name: str) -> Segment | None:
        """The rule's segment if it is known and serves (OK or ALLOCATED)."""
        if segment_name in self._serving:
            return self._serving[segment_name]
        found = None
        if segment_name.startswith(SEGMENT_PREFIX):
            found = self.segments.get(segment_name.removeprefix(SEGMENT_PREFIX))
            if found is not None and allocation.not_serving(found) is not None:
                found = None
        self._serving[segment_name] = found
        return found

    def member(self, frame: _Frame, segment: Segment, context: Mapping[str, Any]) -> bool:
        """Targeting AND buckets (``core.allocation.is_member``); a static segment's targeting is
        its stored member list."""
        if allocation.not_serving(segment) is not None or segment.slug in frame.active:
            return False
        frame.active.add(segment.slug)
        try:
            if segment.kind == "static":
                targeting = segment.id in frame.static
            else:
                targeting = self._targeting(segment)(context)
            return allocation.is_member(
                segment, self.bitsets.get(segment.id), targeting, frame.unit, self.account
            )
        finally:
            frame.active.discard(segment.slug)

    def _targeting(self, segment: Segment) -> Compiled:
        compiled = self._compiled.get(segment.id)
        if compiled is None:
            expr = ast.decode(segment.expression) if segment.expression is not None else None
            compiled = self._compiled[segment.id] = compile_expr(expr, _resolve_ref)
        return compiled

    def segment_matches(
        self,
        segment: Segment,
        context: Mapping[str, Any],
        unit: str | None,
        static: frozenset[str] = frozenset(),
    ) -> bool:
        frame = _Frame(self, unit, static)
        token = _frame.set(frame)
        try:
            return self.member(frame, segment, context)
        finally:
            _frame.reset(token)


# --- the unit -----------------------------------------------------------------------------------


class TargetingKeyError(Exception):
    """The value at the selector is not a unit (wrong type, fractional, or too long)."""


def value_at(context: Mapping[str, Any], path: str) -> Any:
    """The context's value at a dotted path; None when a step is missing or not an object."""
    node: Any = context
    for step in path.split("."):
        if not isinstance(node, Mapping) or step not in node:
            return None
        node = node[step]
    return node


def unit_at(context: Mapping[str, Any], selector: str) -> str | None:
    """The unit at ``selector`` (blank: ``targeting_key``), None when missing or null."""
    value = value_at(context, selector or TARGETING_KEY)
    if value is None:
        return None
    if isinstance(value, str):
        text = value
    elif isinstance(value, bool):
        raise TargetingKeyError("a boolean is not a unit")
    elif isinstance(value, int | float):
        # The resolver reads numbers as doubles: an integer is printed as its double would be.
        try:
            number = float(value)
        except OverflowError as exc:
            raise TargetingKeyError("the number is out of range") from exc
        if not math.isfinite(number) or not number.is_integer():
            raise TargetingKeyError("a unit must be a string or an integral number")
        text = format(number, ".0f")
    else:
        raise TargetingKeyError("a unit must be a string or an integral number")
    if len(text.encode("utf-8", "surrogatepass")) > MAX_UNIT_BYTES:
        raise TargetingKeyError(f"a unit is at most {MAX_UNIT_BYTES} bytes")
    return text


def units_asked(state: ResolverState, flags: Sequence[ConfidenceFlag], context: Any) -> set[str]:
    """Every unit the rules of ``flags`` may read from ``context`` (for static member lists)."""
    found: set[str] = set()
    for flag in flags:
        for rule in flag.rules:
            try:
                unit = unit_at(context, rule.targeting_key_selector)
            except TargetingKeyError:
                continue
            if unit is not None:
                found.add(unit)
    who = identity_of(context, None)
    if who is not None:
        found.add(who)
    return found


# --- buckets of a rule ------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def variant_bucket(segment_slug: str, unit: str, bucket_count: int) -> int:
    """``(h1 >> 4) % bucketCount`` of MurmurHash3_x64_128 over ``"<segment id>|<unit>"``. The
    last few thousand are kept: the rules of many flags often split one segment."""
    h1, _ = murmur3_x64_128(f"{segment_slug}|{unit}".encode("utf-8", "surrogatepass"))
    return (h1 >> 4) % bucket_count


def one_full_assignment(rule: FlagRule) -> bool:
    """One assignment over one range ``[0, bucketCount)``: everyone gets it, no hash needed."""
    if len(rule.assignments) != 1 or len(rule.assignments[0].bucket_ranges) != 1:
        return False
    only = rule.assignments[0].bucket_ranges[0]
    return only.lower == 0 and only.upper == rule.bucket_count


def pick_assignment(rule: FlagRule, segment_slug: str, unit: str | None) -> Assignment | None:
    """The rule's assignment for the unit; None when no range holds its bucket, or when the
    rule needs a bucket and there is no unit."""
    if one_full_assignment(rule):
        return rule.assignments[0]
    if unit is None or rule.bucket_count <= 0:
        return None
    b = variant_bucket(segment_slug, unit, rule.bucket_count)
    for assignment in rule.assignments:
        if any(r.lower <= b < r.upper for r in assignment.bucket_ranges):
            return assignment
    return None


# --- values -------------------------------------------------------------------------------------


def with_schema_nulls(value: Mapping[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    """Every field of the struct schema present: missing ones null, nested structs filled too
    (``fill_schema_nulls``). ``schema`` is a ``StructFlagSchema`` as proto3 JSON."""
    result = dict(value)
    fields = schema.get("schema")
    if not isinstance(fields, Mapping):
        return result
    for name, field in fields.items():
        if name not in result:
            result[name] = None
            continue
        inner = field.get("structSchema") if isinstance(field, Mapping) else None
        if isinstance(result[name], Mapping) and isinstance(inner, Mapping):
            result[name] = with_schema_nulls(result[name], inner)
    return result


# --- resolve ------------------------------------------------------------------------------------


class Memo:
    """What one request asks again and again across its flags: the unit at each selector and
    whether a segment matches a unit. Both depend only on the request's context, so each is
    worked out once per request."""

    __slots__ = ("matches", "units")

    def __init__(self) -> None:
        self.units: dict[str, str | TargetingKeyError | None] = {}
        self.matches: dict[tuple[str, str | None], bool] = {}

    def unit(self, context: Mapping[str, Any], selector: str) -> str | None:
        """:func:`unit_at`, once per selector (a refusal is kept and raised again)."""
        if selector not in self.units:
            try:
                self.units[selector] = unit_at(context, selector)
            except TargetingKeyError as exc:
                self.units[selector] = exc
        found = self.units[selector]
        if isinstance(found, TargetingKeyError):
            raise found
        return found


def flags_for(
    state: ResolverState, client: ResolveClient, names: Sequence[str]
) -> list[ConfidenceFlag]:
    """The ACTIVE flags of the client that were asked for (all of them for no names), in the
    order asked (else the store's); ``LimitExceeded`` above :data:`MAX_FLAGS`."""
    if names:
        wanted = [state.flags[n] for n in dict.fromkeys(names) if n in state.flags]
    else:
        wanted = list(state.flags.values())
    found = [f for f in wanted if f.state == "ACTIVE" and client.client in f.clients]
    if len(found) > MAX_FLAGS:
        raise LimitExceeded(
            "flags",
            f"max {MAX_FLAGS} flags allowed in a single resolve request, this request would "
            f"return {len(found)} flags.",
        )
    return found


def resolve(
    state: ResolverState,
    client: ResolveClient,
    context: Mapping[str, Any],
    names: Sequence[str] = (),
    static: Mapping[str, frozenset[str]] | None = None,
) -> list[ResolvedFlag]:
    """Resolve the client's flags for ``context``. ``static``: unit (or identity) -> ids of the
    static segments that list it, for tenants that have any."""
    members = static or {}
    memo = Memo()
    return [
        resolve_flag(state, client, flag, context, members, memo)
        for flag in flags_for(state, client, names)
    ]


def enabled_for(rule: FlagRule, client: ResolveClient) -> bool:
    """The rule applies in one of the client's environments (or names none)."""
    return not rule.environments or any(e in client.environments for e in rule.environments)


def resolve_flag(
    state: ResolverState,
    client: ResolveClient,
    flag: ConfidenceFlag,
    context: Mapping[str, Any],
    static: Mapping[str, frozenset[str]],
    memo: Memo | None = None,
) -> ResolvedFlag:
    memo = memo or Memo()
    if flag.state != "ACTIVE":
        return ResolvedFlag(flag=flag.name, reason=FLAG_ARCHIVED)
    fallthroughs: list[Fallthrough] = []
    for rule in flag.rules:
        if not rule.enabled or not enabled_for(rule, client):
            continue
        segment = state.serving(rule.segment)
        if segment is None:
            continue
        blank = not rule.targeting_key_selector
        try:
            unit = memo.unit(context, rule.targeting_key_selector)
        except TargetingKeyError:
            if not (blank and one_full_assignment(rule)):
                return _refused(flag, TARGETING_KEY_ERROR, fallthroughs)
            unit = None
        if unit is None and not blank:
            continue
        if not rule.assignments:
            continue
        if _reads_materialization(rule):
            if unit is None:
                continue
            return _refused(flag, MATERIALIZATION_NOT_SUPPORTED, [])
        key = (segment.slug, unit)
        matched = memo.matches.get(key)
        if matched is None:
            who = unit if unit is not None else identity_of(context, None)
            known = static.get(who, frozenset()) if who is not None else frozenset()
            matched = memo.matches[key] = state.segment_matches(segment, context, unit, known)
        if not matched:
            continue
        chosen = pick_assignment(rule, segment.slug, unit)
        if chosen is None:
            continue
        if unit is not None and rule.materialization_spec:
            return _refused(flag, MATERIALIZATION_NOT_SUPPORTED, [])
        if chosen.kind == "fallthrough":
            fallthroughs.append(
                Fallthrough(
                    rule=rule.name,
                    assignment_id=chosen.assignment_id,
                    targeting_key=unit or "",
                    targeting_key_selector=rule.targeting_key_selector,
                )
            )
            continue
        return _matched(flag, rule, segment, chosen, unit, tuple(fallthroughs))
    return ResolvedFlag(flag=flag.name, reason=NO_SEGMENT_MATCH, fallthroughs=tuple(fallthroughs))


def _refused(flag: ConfidenceFlag, reason: Reason, fallthroughs: list[Fallthrough]) -> ResolvedFlag:
    """The flag answered with an error reason: no variant, no value. A targeting key error
    keeps the fallthroughs passed on the way (they count for ``shouldApply``); a
    materialization starts over, as the reference resolver answers it."""
    return ResolvedFlag(flag=flag.name, reason=reason, fallthroughs=tuple(fallthroughs))


def _reads_materialization(rule: FlagRule) -> bool:
    return bool(rule.materialization_spec.get("readMaterialization"))


def _matched(
    flag: ConfidenceFlag,
    rule: FlagRule,
    segment: Segment,
    chosen: Assignment,
    unit: str | None,
    fallthroughs: tuple[Fallthrough, ...],
) -> ResolvedFlag:
    common: dict[str, Any] = {
        "flag": flag.name,
        "rule": rule.name,
        "segment": f"{SEGMENT_PREFIX}{segment.slug}",
        "assignment_id": chosen.assignment_id,
        "targeting_key": unit or "",
        "targeting_key_selector": rule.targeting_key_selector,
        "fallthroughs": fallthroughs,
    }
    if chosen.kind == "client_default":
        return ResolvedFlag(reason=MATCH, value={}, schema={}, **common)
    variant = next((v for v in flag.variants if v.name == chosen.variant), None)
    if variant is None:
        # The admin API keeps a variant a rule assigns; a store that lost one still answers
        # this flag as an error rather than failing the whole resolve.
        return ResolvedFlag(flag=flag.name, reason=ERROR, fallthroughs=fallthroughs)
    return ResolvedFlag(
        reason=MATCH,
        variant=variant.name,
        value=with_schema_nulls(variant.value, flag.schema),
        schema=flag.schema,
        **common,
    )
