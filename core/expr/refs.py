"""Segment criteria: conditions that name other segments (Confidence's ``segment`` rule).

A reference is ``segments/<slug>`` (or the bare slug); whoever evaluates one decides what the
named segment's membership means (its condition, its allocation, its stored members)."""

from __future__ import annotations

from core.expr import ast

SEGMENT_PREFIX = "segments/"


def ref_slug(ref: str) -> str:
    return ref.removeprefix(SEGMENT_PREFIX)


def segment_refs(expr: ast.Expr | None) -> list[str]:
    """Slugs named by the segment criteria of a condition, in order."""
    found: list[str] = []

    def walk(e: ast.Expr) -> None:
        if isinstance(e, ast.SegmentRef):
            found.append(ref_slug(e.ref))
        elif isinstance(e, ast.And | ast.Or):
            for a in e.args:
                walk(a)
        elif isinstance(e, ast.Not):
            walk(e.arg)
        elif isinstance(e, ast.Quant):
            walk(e.cond)

    if expr is not None:
        walk(expr)
    return found
