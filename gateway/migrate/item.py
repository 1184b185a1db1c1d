"""A segment as read from a source, in the canonical model, and what a codec gives back."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from core.errors import NotExpressible
from core.expr.ast import Expr


@dataclass(frozen=True)
class Allocation:
    """Confidence's allocation (also segmux's): a share of the matching units."""

    proportion: str = "1"
    exclusivity_tags: tuple[str, ...] = ()
    exclusive_to: tuple[str, ...] = ()

    @property
    def is_default(self) -> bool:
        try:
            whole = Decimal(self.proportion or "1") == 1
        except InvalidOperation:
            whole = False
        return whole and not self.exclusivity_tags and not self.exclusive_to

    def describe(self) -> str:
        parts = [f"proportion {self.proportion}"]
        if self.exclusivity_tags:
            parts.append(f"exclusivity tags {list(self.exclusivity_tags)}")
        if self.exclusive_to:
            parts.append(f"exclusive to {list(self.exclusive_to)}")
        return ", ".join(parts)


@dataclass(frozen=True)
class Item:
    """One source segment. ``expr`` None matches everyone. ``unreadable`` is set (and ``expr``
    meaningless) when the source's condition could not be parsed."""

    name: str
    source_id: str
    description: str | None = None
    expr: Expr | None = None
    kind: str = "dynamic"
    seq: int | None = None
    """An integer id the source shows (Unleash's id, segmux's seq): kept by an Unleash target."""
    slug: str | None = None
    """A slug id the source shows (Confidence, HAL, segmux): kept by Confidence and HAL."""
    allocation: Allocation = Allocation()
    state: str | None = None
    """Confidence's lifecycle state at the source (OK, UNALLOCATED, ALLOCATED, ARCHIVED); None
    where the source has no such thing."""
    labels: tuple[tuple[str, str], ...] = ()
    """Confidence's labels (kept by a Confidence target, reported lost by any other). The
    owner is not carried: on the target it is whoever migrates, as with any create."""
    unreadable: str | None = None
    native: tuple[str, Any] | None = None
    """``(language, form)``: the condition exactly as the source wrote it. A target with the
    same language sends it unchanged (identity is exact; a re-render would reorder IN values
    and rewrite dates), any other renders ``expr``."""

    def native_in(self, language: str) -> tuple[bool, Any]:
        if self.native is not None and self.native[0] == language and self.unreadable is None:
            return True, self.native[1]
        return False, None


@dataclass(frozen=True)
class Created:
    target_id: str
    note: str | None = None
    """e.g. the source id could not be kept."""


class WriteFailed(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def dynamic_only(item: Item, language: str, dialect: str) -> None:
    """Member lists are profiles, which migrate does not copy: refuse them everywhere."""
    if item.kind == "static":
        raise NotExpressible(
            language,
            f"a static segment (a member list) is not migrated to "
            f"{dialect}: migrate copies definitions, not members",
        )


def whole_allocation(item: Item, language: str, dialect: str) -> None:
    """A share of the matching units cannot be widened to all of them."""
    if not item.allocation.is_default:
        raise NotExpressible(
            language,
            f"{dialect} has no allocation: the source keeps only "
            f"{item.allocation.describe()} of the matching units",
        )


def optional_text(value: Any) -> str | None:
    return value if isinstance(value, str) and value != "" else None
