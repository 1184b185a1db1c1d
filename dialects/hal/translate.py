"""HAL wire <-> core: bodies, query parameters (Spring Data's ``page``/``size``/``sort`` and
Pulpo's ``filter``), and the HAL documents with their ``_links``.

Decisions where Pulpo's docs are silent are in ``docs/dialects/hal.md`` and ``openapi/hal.yaml``.

A DYNAMIC segment keeps, in ``Segment.extensions["hal"]``, its ``filter`` as sent and
``filterOf``, the digest of the condition it was parsed to (``core.sent_forms``): the sent text
is shown while the condition is unchanged, a rendering of the condition once another dialect
changed it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from starlette.datastructures import QueryParams

from core.allocation import check_condition_only
from core.errors import Invalid
from core.expr import ast
from core.expr.ast import Expr
from core.expr.normalize import normalize
from core.expr.odata import parse_odata, render_odata
from core.model import NewSegment, Profile, ProfileSort, Segment, SegmentKind, SegmentPatch
from core.profiles import condition
from core.segment_views import FieldSort, SegmentView
from core.sent_forms import expression_digest, sent_form
from core.service import kind_rule
from dialects.hal.wire import Collection, Link, Links, MembershipIn, PageInfo, SegmentIn, SegmentOut
from dialects.http import convert

DEFAULT_SIZE = 20
MAX_SIZE = 1000
MAX_PAGE = 2**31 - 1
"""Spring reads ``page`` as a Java int."""
SEGMENT_FIELDS = ("dateCreated", "dateModified", "filter", "identifier", "name", "segmentType")
INDIVIDUAL_COLUMNS: dict[str, Any] = {
    "identifier": "identifier",
    "dateCreated": "created_at",
    "dateModified": "updated_at",
}
RESERVED = frozenset({"identifier", "dateCreated", "dateModified", "_links", "_embedded"})
"""Keys of an individual's JSON that are not attributes (read-only, or the key itself)."""
_TYPES: dict[str, SegmentKind] = {"STATIC": "static", "DYNAMIC": "dynamic"}
HAL = "hal"
"""The key of HAL's extension on a segment."""


# --- core -> wire ---------------------------------------------------------------------------


def iso_seconds(us: int) -> str:
    """Pulpo's dates: ISO-8601 UTC, whole seconds, ``Z``."""
    return dt.datetime.fromtimestamp(us // 1_000_000, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def filter_of(segment: Segment) -> str | None:
    """A static segment has no filter; a dynamic one shows its condition in OData, and one
    that matches everyone (a v2.3 segment) shows ``true``, OData's "every individual".
    ``NotExpressible`` when OData cannot say the condition exactly, and for a segment that an
    individual's attributes alone cannot decide (archived, unallocated, or allocated to a
    proportion of units by bucket: ``core.allocation.check_condition_only``), so its detail,
    its members and its updates answer 404 with the reason and lists leave it out."""
    check_condition_only(segment, "OData")
    if segment.kind == "static":
        return None
    found, sent = sent_form(segment.extensions.get(HAL), "filter", "filterOf", segment.expression)
    if found and isinstance(sent, str):
        return sent
    return render_odata(condition(segment))


def segment_fields(segment: Segment) -> dict[str, Any]:
    """The HAL view of a segment: what the dialect shows, filters and sorts on."""
    return {
        "dateCreated": iso_seconds(segment.created_at),
        "dateModified": iso_seconds(segment.updated_at),
        "filter": filter_of(segment),
        "identifier": segment.slug,
        "name": segment.name,
        "segmentType": segment.kind.upper(),
    }


def new_view() -> SegmentView:
    return SegmentView("OData", segment_fields)


class Hrefs:
    """Absolute links under one base URL (scheme://host) and project."""

    def __init__(self, base: str, project: str) -> None:
        self.base = base
        self.project = f"{base}/{quote(project, safe='')}"

    def segments(self) -> str:
        return f"{self.project}/individual-segments"

    def segment(self, slug: str) -> str:
        return f"{self.segments()}/{quote(slug, safe='')}"

    def individuals(self) -> str:
        return f"{self.project}/individuals"

    def individual(self, identifier: str) -> str:
        return f"{self.individuals()}/{quote(identifier, safe='@:+')}"

    def segment_links(self, slug: str) -> Links:
        return {
            "self": Link(self.segment(slug)),
            "individual-segments": Link(self.segments() + "{?filter}", templated=True),
            "individuals": Link(self.segment(slug) + "/individuals{?filter}", templated=True),
        }

    def individual_links(self, identifier: str) -> Links:
        return {
            "self": Link(self.individual(identifier)),
            "individuals": Link(self.individuals() + "{?filter}", templated=True),
            "individual-segments": Link(self.individual(identifier) + "/individual-segments"),
        }


def root_links(base: str) -> Links:
    return {
        "self": Link(f"{base}/"),
        "individuals": Link(f"{base}/{{projectId}}/individuals{{?filter}}", templated=True),
        "individual-segments": Link(
            f"{base}/{{projectId}}/individual-segments{{?filter}}", templated=True
        ),
    }


def segment_out(segment: Segment, view: SegmentView, hrefs: Hrefs) -> SegmentOut:
    f = view.fields(segment)
    return SegmentOut(
        dateCreated=f["dateCreated"],
        dateModified=f["dateModified"],
        filter=f["filter"],
        identifier=f["identifier"],
        name=f["name"],
        segmentType=f["segmentType"],
        links=hrefs.segment_links(segment.slug),
    )


def individual_out(profile: Profile, hrefs: Hrefs) -> dict[str, Any]:
    return {
        "dateCreated": iso_seconds(profile.created_at),
        "dateModified": iso_seconds(profile.updated_at),
        **profile.attributes,
        "identifier": profile.identifier,
        "_links": hrefs.individual_links(profile.identifier),
    }


class Paging:
    """``page`` (0-based) and ``size`` of a collection request, and the query parameters its
    links carry along (``filter``, ``sort``)."""

    def __init__(self, query: QueryParams) -> None:
        self.page = _int_param(query, "page", 0, 0, MAX_PAGE)
        self.size = _int_param(query, "size", DEFAULT_SIZE, 1, MAX_SIZE)
        self.carried = [(k, v) for k, v in query.multi_items() if k in ("filter", "sort")]

    @property
    def offset(self) -> int:
        return self.page * self.size

    def collection(self, rel: str, items: list[Any], total: int, url: str) -> Collection:
        """Spring Data REST's paged document: ``first``/``last`` only when there is more than
        one page to go to (as ``PagedResourcesAssembler`` does), ``prev``/``next`` when any."""
        pages = math.ceil(total / self.size)
        links: Links = {}
        navigable = self.page > 0 or self.page + 1 < pages
        if navigable:
            links["first"] = Link(self.href(url, 0))
        if self.page > 0:
            links["prev"] = Link(self.href(url, min(self.page - 1, max(pages - 1, 0))))
        links["self"] = Link(self.href(url, self.page))
        if self.page + 1 < pages:
            links["next"] = Link(self.href(url, self.page + 1))
        if navigable:
            links["last"] = Link(self.href(url, max(pages - 1, 0)))
        return Collection(
            embedded={rel: items},
            links=links,
            page=PageInfo(size=self.size, totalElements=total, totalPages=pages, number=self.page),
        )

    def href(self, url: str, page: int) -> str:
        params = [("page", str(page)), ("size", str(self.size)), *self.carried]
        # Spring writes ``sort=name,desc`` and paths with ``/`` as they are.
        query = "&".join(f"{quote(k, safe='')}={quote(v, safe=',/')}" for k, v in params)
        return f"{url}?{query}"


def _int_param(query: QueryParams, name: str, default: int, low: int, high: int) -> int:
    values = query.getlist(name)
    if len(values) > 1:
        raise Invalid(name, "must be given at most once")
    raw = values[0].strip() if values else ""
    if raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12 or not low <= int(raw) <= high:
        raise Invalid(name, f"must be an integer from {low} to {high}")
    return int(raw)


# --- query parameters -> core ---------------------------------------------------------------


def filter_param(query: QueryParams) -> Expr | None:
    """The OData ``filter`` (absent or empty: no filter; ``true``: everyone)."""
    values = query.getlist("filter")
    if len(values) > 1:
        raise Invalid("filter", "must be given at most once")
    if not values or values[0].strip() == "":
        return None
    return parse_filter(values[0])


def parse_filter(text: str) -> Expr | None:
    # NUL can be in no stored value, and PostgreSQL's text cannot even compare with it: refuse
    # it here so both stores answer alike.
    if "\x00" in text:
        raise Invalid("filter", "must not contain NUL characters")
    return parse_odata(text)


def _sort_terms(query: QueryParams) -> list[tuple[str, bool]]:
    """Spring Data's ``sort=a[,b…][,asc|desc]``, repeatable; the direction applies to every
    property of its parameter."""
    terms: list[tuple[str, bool]] = []
    for value in query.getlist("sort"):
        parts = [p.strip() for p in value.split(",") if p.strip()]
        if not parts:
            continue
        descending = False
        if parts[-1].lower() in ("asc", "desc"):
            descending = parts.pop().lower() == "desc"
            if not parts:
                raise Invalid("sort", f"{value!r} names no property to sort by")
        terms += [(p, descending) for p in parts]
    return terms


def segment_sort(query: QueryParams) -> list[FieldSort]:
    terms = _sort_terms(query)
    for field, _ in terms:
        if field not in SEGMENT_FIELDS:
            raise Invalid(
                "sort",
                f"cannot sort individual segments by {field!r}; use one of "
                + ", ".join(SEGMENT_FIELDS),
            )
    return terms


def individual_sort(query: QueryParams) -> list[ProfileSort]:
    """``identifier``, ``dateCreated``, ``dateModified``, or a path into the attributes with
    ``/`` between steps (``demographics/age/value``)."""
    out: list[ProfileSort] = []
    for field, descending in _sort_terms(query):
        column = INDIVIDUAL_COLUMNS.get(field)
        if column is not None:
            out.append(ProfileSort(column=column, descending=descending))
        else:
            out.append(ProfileSort(path=tuple(field.split("/")), descending=descending))
    return out


# --- bodies -> core -------------------------------------------------------------------------


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise Invalid("", "the body must be a JSON object")
    return body


def _segment_in(body: Any) -> tuple[SegmentIn, SegmentKind, bytes | None]:
    """The body, its kind and its condition in canonical form (stored normalised, as every
    dialect stores it, so that an equal condition written elsewhere keeps the sent filter)."""
    data = convert(_object(body), SegmentIn)
    kind = _TYPES.get(data.segmentType)
    if kind is None:
        raise Invalid("segmentType", "must be STATIC or DYNAMIC")
    if kind == "static":
        if data.filter is not None:
            raise Invalid("filter", "must be null for a STATIC individual segment")
        return data, kind, None
    if data.filter is None or data.filter.strip() == "":
        raise Invalid("filter", "is required for a DYNAMIC individual segment")
    expr = normalize(parse_filter(data.filter))
    return data, kind, None if expr is None else ast.encode(expr)


def _sent(data: SegmentIn, kind: SegmentKind, expression: bytes | None) -> dict[str, Any]:
    """HAL's extension: the filter as sent and the digest of its condition (none if STATIC)."""
    if kind == "static" or data.filter is None:
        return {}
    return {"filter": data.filter, "filterOf": expression_digest(expression)}


def new_segment(body: Any, sandbox: str) -> NewSegment:
    data, kind, expression = _segment_in(body)
    sent = _sent(data, kind, expression)
    return NewSegment(
        name=data.name,
        sandbox=sandbox,
        kind=kind,
        expression=expression,
        slug=data.identifier,
        extensions={HAL: sent} if sent else {},
    )


def segment_patch(body: Any, slug: str) -> Callable[[Segment], SegmentPatch]:
    """A PUT replaces what HAL shows (name, type, filter, and the filter as sent); what other
    dialects keep on the segment (description, their extensions, …) is left as it is. A
    builder over the stored segment, so the extensions merge without losing a concurrent
    write (``SegmentService.update_with``)."""
    data, kind, expression = _segment_in(body)
    if data.identifier is not None and data.identifier != slug:
        raise Invalid("identifier", "must equal the identifier in the path (it cannot change)")
    sent = _sent(data, kind, expression)

    def build(current: Segment) -> SegmentPatch:
        extensions = {k: v for k, v in current.extensions.items() if k != HAL}
        if sent:
            extensions[HAL] = sent
        patch = SegmentPatch(
            name=data.name, kind=kind, expression=expression, extensions=extensions
        )
        return kind_rule(current, patch)

    return build


def individual_body(
    body: Any, path_identifier: str | None = None
) -> tuple[str | None, dict[str, Any]]:
    """(identifier, attributes) of an individual's JSON: every key but the reserved ones is an
    attribute (``demographics``, ``interests``, …)."""
    data = _object(body)
    identifier = data.get("identifier")
    if identifier is not None and not isinstance(identifier, str):
        raise Invalid("identifier", "must be a string")
    if path_identifier is not None and identifier not in (None, path_identifier):
        raise Invalid("identifier", "must equal the identifier in the path (it cannot change)")
    return identifier, {k: v for k, v in data.items() if k not in RESERVED}


def membership_body(body: Any, slug: str) -> str:
    data = convert(_object(body), MembershipIn)
    if data.individualSegmentIdentifier not in (None, slug):
        raise Invalid(
            "individualSegmentIdentifier", "must equal the individual segment in the path"
        )
    return data.individualIdentifier
