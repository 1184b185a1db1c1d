"""Conditions kept as a client sent them, shown back only while they are still true.

Unleash's constraint list, Adobe's PQL text and Confidence's targeting are stored in the
segment's ``extensions`` next to a digest of the canonical expression they were parsed to. While
the segment's expression still has that digest the form is returned exactly as sent (``NOT_IN``
stays ``NOT_IN``, PQL keeps its spacing); once any dialect changes the condition the digest no
longer matches and the form is rendered anew from the AST. One mechanism for every dialect and
for segmux's own renderings, so they can never disagree about which form is current.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any


def expression_digest(expression: bytes | None) -> str:
    """A short, stable digest of a canonical expression (None: the empty condition)."""
    return hashlib.sha256(expression or b"").hexdigest()[:32]


def sent_form(
    extension: object, form_key: str, digest_key: str, expression: bytes | None
) -> tuple[bool, Any]:
    """``(True, form)`` when ``extension`` keeps a form under ``form_key`` whose digest under
    ``digest_key`` is the current expression's, else ``(False, None)``."""
    if (
        isinstance(extension, Mapping)
        and form_key in extension
        and extension.get(digest_key) == expression_digest(expression)
    ):
        return True, extension[form_key]
    return False, None


def carry_digests(extensions: Mapping[str, Any], before: bytes | None, after: bytes | None) -> Any:
    """``extensions`` with each dialect's digest of ``before`` replaced by the digest of
    ``after``: for a condition the core rewrote to an equal canonical form as it stored it
    (segment references named by id become ``segments/<slug>``), so the form a client sent is
    still the current one."""
    if before == after:
        return extensions
    old, new = expression_digest(before), expression_digest(after)
    out: dict[str, Any] = {}
    for dialect, extension in extensions.items():
        if isinstance(extension, Mapping):
            extension = {k: new if v == old else v for k, v in extension.items()}
        out[dialect] = extension
    return out
