"""An Unleash context: as SDKs send it, and prepared once per request as the compiled features
(``core.unleash_eval``) read it — the flat object constraints evaluate, the standard fields
stickiness reads, the properties and the random source (Yggdrasil's enriched context). ``Check``
and ``Resolve`` are the compiled pieces' shapes over a prepared context.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

import msgspec

STANDARD_FIELDS = frozenset(
    ("userId", "sessionId", "remoteAddress", "environment", "appName", "currentTime")
)
"""Context fields of the context's root (taken from ``properties`` only when the root lacks
them); every other name is a property."""


_TEXT = {str}


class UnleashContext(msgspec.Struct, frozen=True, kw_only=True, rename="camel", omit_defaults=True):
    """An Unleash context as SDKs send it (``appName``, ``userId``, … ``properties``)."""

    app_name: str | None = None
    environment: str | None = None
    user_id: str | None = None
    session_id: str | None = None
    remote_address: str | None = None
    current_time: str | None = None
    properties: dict[str, str] = {}


class Prepared:
    """One context as the compiled features read it: the flat object constraints evaluate,
    the standard fields for stickiness, the properties, and the random source."""

    __slots__ = ("fields", "flat", "plain", "properties", "rng")

    def __init__(
        self,
        context: UnleashContext,
        now: dt.datetime | None,
        rng: random.Random,
        reads_time: bool = True,
    ) -> None:
        props = context.properties
        self.properties = props
        fields: dict[str, str] = {}
        # A standard field missing from the context is taken from the properties, as the SDKs
        # do (a value at the root, even an empty one, wins).
        for key, value in (
            ("userId", context.user_id),
            ("sessionId", context.session_id),
            ("remoteAddress", context.remote_address),
            ("environment", context.environment),
            ("appName", context.app_name),
        ):
            if value is None:
                value = props.get(key)
            if value is not None:
                fields[key] = value
        current_time = context.current_time
        if current_time is None:
            current_time = props.get("currentTime")
        if current_time is not None:
            fields["currentTime"] = current_time
        elif reads_time:  # formatting now costs more than the rest: only when it is read
            fields["currentTime"] = _now_text(now)
        self.fields = fields
        self.flat: dict[str, Any] = {**props, **fields}
        self.plain = set(map(type, self.flat.values())) <= _TEXT
        """Every value is text (as SDKs send them): the constraints' set tests apply."""
        self.rng = rng


def _now_text(now: dt.datetime | None) -> str:
    moment = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


Check = Callable[[Prepared], bool]
Resolve = Callable[[Prepared], str | None]
