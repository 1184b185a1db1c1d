"""What the flag use cases (``core.flags``) take and give: a strategy as sent, a flag as admins
see it in each environment, and the names and bounds Unleash gives a flag's fields."""

from __future__ import annotations

from typing import Any

import msgspec

from core.model import Flag
from core.unleash_snapshot import RuleView

FLAG_TYPES = ("experiment", "kill-switch", "release", "operational", "permission", "sunset")
MAX_FLAG_NAME = 100
SORT_ORDER_RANGE = (-(2**31), 2**31 - 1)
"""Unleash keeps a strategy's sort order in a 32-bit integer."""
ARCHIVED_FLAG = "Cannot perform this operation on archived features"
NO_FLAG = "No feature flag found"


class RuleInput(msgspec.Struct, frozen=True, kw_only=True):
    """A strategy as sent: ``segments`` are the dialect's integer segment ids (seq)."""

    name: str
    title: str | None = None
    disabled: bool | None = None
    sort_order: int | None = None
    constraints: list[dict[str, Any]] = []
    parameters: dict[str, str] = {}
    variants: list[dict[str, Any]] = []
    segments: list[int] | None = None
    """None: not sent (a create attaches none, an update keeps the rule's segments)."""


class FlagEnvironment(msgspec.Struct, frozen=True, kw_only=True):
    """A flag in one environment as admins see it: on or off, and its rules in order (all of
    them, disabled ones too)."""

    name: str
    type: str
    sort_order: int
    enabled: bool
    rules: list[RuleView]


class FlagDetail(msgspec.Struct, frozen=True, kw_only=True):
    """A flag with every environment of its tenant, in the environments' order."""

    flag: Flag
    environments: list[FlagEnvironment]
