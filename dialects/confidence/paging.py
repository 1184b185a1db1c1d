"""``ListSegments`` paging and ordering (AIP-158 and AIP-132, [project] details in the sheet §6).

A page token is opaque to clients: base64url of ``{"o": offset, "q": <digest of filter,
orderBy and view>}``. A token presented with another filter or order, or one that does not
decode, is ``INVALID_ARGUMENT``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

import msgspec

from core.errors import Invalid
from core.model import Sort, SortField
from dialects.confidence.wire import to_camel

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
MAX_OFFSET = 2**62
_ORDER_FIELDS: dict[str, SortField] = {
    "name": "slug",
    "displayName": "name",
    "createTime": "created_at",
    "updateTime": "updated_at",
    "state": "state",
}
_ORDER_TERM = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:[:\s]\s*(asc|desc))?\s*$", re.I)


class _Token(msgspec.Struct, forbid_unknown_fields=True):
    o: int
    q: str


_decoder = msgspec.json.Decoder(_Token)


def page_size(raw: str | None) -> int:
    """0 or absent → 100; above 1000 → 1000 (coerced, AIP-158); negative, empty or not a
    number → ``Invalid`` (transcoding cannot bind an empty value to an int32)."""
    if raw is None:
        return DEFAULT_PAGE_SIZE
    text = raw.strip()
    if not re.fullmatch(r"[+-]?\d{1,18}", text):
        raise Invalid("page_size", "must be an integer")
    size = int(text)
    if size < 0:
        raise Invalid("page_size", "must not be negative")
    return min(size, MAX_PAGE_SIZE) if size else DEFAULT_PAGE_SIZE


def order_by(raw: str | None) -> tuple[Sort, ...]:
    """``displayName:desc,createTime`` → sorts, always ending on the segment name."""
    sorts: list[Sort] = []
    if raw is not None and raw.strip():
        for term in raw.split(","):
            m = _ORDER_TERM.match(term)
            if m is None:
                raise Invalid("order_by", f"{term.strip()!r} is not 'field[:asc|desc]'")
            field = _ORDER_FIELDS.get(to_camel(m.group(1)))
            if field is None:
                raise Invalid(
                    "order_by", f"cannot order by {m.group(1)!r}; use {', '.join(_ORDER_FIELDS)}"
                )
            if any(s.field == field for s in sorts):
                raise Invalid("order_by", f"{m.group(1)!r} is given twice")
            sorts.append(Sort(field, (m.group(2) or "asc").lower() == "desc"))
    if not any(s.field == "slug" for s in sorts):
        sorts.append(Sort("slug"))
    return tuple(sorts)


def _digest(*parts: str | None) -> str:
    text = "\x00".join(p or "" for p in parts)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def encode_token(offset: int, *query: str | None) -> str:
    raw = msgspec.json.encode(_Token(o=offset, q=_digest(*query)))
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str | None, *query: str | None) -> int:
    """The offset a token stands for (0 without one)."""
    if not token:
        return 0
    try:
        padded = token + "=" * (-len(token) % 4)
        decoded = _decoder.decode(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeEncodeError, msgspec.DecodeError):
        raise Invalid("page_token", "is not a page token this API issued") from None
    if decoded.q != _digest(*query):
        raise Invalid("page_token", "was issued for another filter or order_by")
    if not 0 <= decoded.o <= MAX_OFFSET:
        raise Invalid("page_token", "is not a page token this API issued")
    return decoded.o
