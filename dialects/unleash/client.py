"""The client (SDK) API's wire details: ``Unleash-Client-Spec`` negotiation, query echo, ETags.

The ETag is computed from what the response says plus the store's revision: any change to a
segment, strategy or feature gives the next poll a new ETag and body (Unleash itself memoises and
may serve stale segments; that is not mirrored). The service returns the very same snapshot object
while the tenant's revision is unchanged (``core.cache``), so the encoded body and ETag are
memoised per snapshot object and query, never across a change.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from core.cache import ENTRY_OVERHEAD, MB, Bounded
from core.errors import Invalid
from core.expr.kinds import SEMVER_RE
from core.unleash_snapshot import ClientSnapshot
from dialects.http import MalformedJSON
from dialects.unleash import schema, translate
from dialects.unleash.wire import JSON, encode

SEGMENTS_BY_REFERENCE = (4, 2, 0)
"""From this client spec on, SDKs resolve ``strategies[].segments`` themselves."""
VARY = ("unleash-client-spec", "if-none-match")
"""The request headers the features' answer depends on besides the token (read below): what
the gateway keeps it under. The ids each SDK instance sends of itself are not among them."""


class Query(msgspec.Struct, frozen=True):
    inline: bool
    projects: list[str]
    name_prefix: str | None
    tags: list[str]


def inline_segments(request: Request) -> bool:
    """Whether the SDK wants segment constraints inlined (no spec header, or one < 4.2.0)."""
    header = request.headers.get("unleash-client-spec", "")
    if header == "":
        return True
    if not header[:1].isdigit():
        raise _bad_spec(f'Invalid prefix in the Unleash-Client-Spec header: "{header}".')
    match = SEMVER_RE.fullmatch(header)
    if match is None:
        raise _bad_spec(f'Invalid SemVer in the Unleash-Client-Spec header: "{header}".')
    core = (int(match[1]), int(match[2]), int(match[3]))
    if core != SEGMENTS_BY_REFERENCE:
        return core < SEGMENTS_BY_REFERENCE
    return match[4] is not None  # 4.2.0-rc.1 comes before 4.2.0


def _bad_spec(message: str) -> Invalid:
    return Invalid("", message)


def parse_query(request: Request) -> Query:
    params = request.query_params
    return Query(
        inline=inline_segments(request),
        projects=[p for p in params.getlist("project") if p],
        name_prefix=params.get("namePrefix") or None,
        tags=[t for t in params.getlist("tag") if t],
    )


_Rendered = tuple[ClientSnapshot, bytes, str]
_RenderKey = tuple[int, bool, tuple[str, ...], str | None, tuple[str, ...]]
# Bounded in bytes too: a body is counted, and one over the threshold is rendered per request.
_RENDERED: Bounded[_RenderKey, _Rendered] = Bounded(
    capacity=512, max_bytes=32 * MB, max_entry=4 * MB
)


def features_response(request: Request, snapshot: ClientSnapshot, query: Query) -> Response:
    key = (id(snapshot), query.inline, tuple(query.projects), query.name_prefix, tuple(query.tags))
    found = _RENDERED.get(key)
    # The entry holds the snapshot itself, so its id cannot be reused while it is filed here
    # (the snapshot's own bytes are counted by the cache that made it: core.flags).
    if found is not None and found[0] is snapshot:
        _, content, etag = found
    else:
        content, etag = _render(snapshot, query)
        _RENDERED.put(
            key, (snapshot, content, etag), len(content) + len(repr(key)) + ENTRY_OVERHEAD
        )
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers={"ETag": etag})
    return Response(content, media_type=JSON, headers={"ETag": etag})


def _render(snapshot: ClientSnapshot, query: Query) -> tuple[bytes, str]:
    echo: dict[str, Any] = {
        "environment": snapshot.environment,
        "inlineSegmentConstraints": query.inline,
    }
    if query.projects:
        echo["project"] = query.projects
    if query.name_prefix:
        echo["namePrefix"] = query.name_prefix
    if query.tags:
        echo["tag"] = [query.tags]
    body: dict[str, Any] = {
        "version": 2,
        "features": [
            translate.client_feature(f, snapshot, inline=query.inline) for f in snapshot.flags
        ],
        "query": echo,
    }
    if not query.inline:
        body["segments"] = translate.client_segments(snapshot)
    query_hash = translate.short_hash(encode(echo))[:16]
    revision_id = int(translate.short_hash(snapshot.revision, encode(body))[:13], 16)
    etag = f'"{query_hash}:{revision_id}:v1"'
    body["meta"] = {"revisionId": revision_id, "etag": etag, "queryHash": query_hash}
    return encode(body), etag


def _matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    candidates = [c.strip().removeprefix("W/") for c in header.split(",")]
    return "*" in candidates or etag in candidates


def check_report(path: str, body: Any) -> None:
    """Register and metrics bodies are checked, then accepted (segmux keeps no usage data)."""
    shape = schema.REGISTER if path.rstrip("/").endswith("/register") else schema.METRICS
    schema.validate(body, shape, "/body")


_BYTE_RE = re.compile(r"\(byte (\d+)\)|at position (\d+)|byte (\d+)")


def json_parse_message(raw: bytes, exc: MalformedJSON) -> str:
    """Something like V8's ``JSON.parse`` message, which is what Unleash echoes."""
    text = raw.decode("utf-8", "replace")
    if "truncated" in exc.message or "end of" in exc.message.lower():
        return "Unexpected end of JSON input"
    found = _BYTE_RE.search(exc.message)
    if found:
        position = int(next(g for g in found.groups() if g is not None))
        char = raw[position : position + 1].decode("utf-8", "replace") or " "
        return f"Unexpected token '{char}', \"{text[:40]}\" is not valid JSON"
    return f'Unexpected token in JSON: "{text[:40]}" is not valid JSON'
