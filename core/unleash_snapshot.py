"""The client snapshot: what an Unleash SDK token polls (its environment's flags, their enabled
rules in order, the segments those rules use) and the same snapshot as the evaluation engine
(``core.unleash_eval``) compiles it. ``core.flags`` builds snapshots from the store and caches
them at the tenant's revision; the Unleash dialect encodes them.
"""

from __future__ import annotations

from typing import Any

import msgspec

from core.constraint_segments import EXT as UNLEASH_EXT
from core.constraint_segments import ConstraintSegment
from core.model import Flag, Rule


class RuleView(msgspec.Struct, frozen=True, kw_only=True):
    """A rule (an Unleash strategy) with its segments as Unleash names them: admins see it so,
    and SDKs poll it so."""

    rule: Rule
    segment_seqs: list[int]
    """The integer ids of the rule's segments, ascending."""


class ClientFlag(msgspec.Struct, frozen=True, kw_only=True):
    flag: Flag
    rules: list[RuleView]


class ClientSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """What an SDK token sees: its environment's flags, the segments their rules use (None
    where constraints cannot express one any more), and a revision that moves on any write."""

    environment: str
    flags: list[ClientFlag]
    segments: dict[int, ConstraintSegment | None]
    revision: str


def engine_input(
    snapshot: ClientSnapshot,
) -> tuple[list[dict[str, Any]], dict[int, list[dict[str, Any]] | None]]:
    """A snapshot as the evaluation engine reads it: what ``GET /api/client/features`` serves
    with segments by reference (features, and segment constraints by id; None for a segment
    constraints cannot say). A rule whose segment is gone refers to segment 0, which no
    snapshot has, so it is evaluated as Unleash's SDKs evaluate it there."""
    features = []
    for item in snapshot.flags:
        flag = item.flag
        ext = flag.extensions.get(UNLEASH_EXT) or {}
        strategies = []
        for view in item.rules:
            p = view.rule.payload
            seqs = list(view.segment_seqs)
            if len(seqs) < len(view.rule.segments):
                seqs.append(0)
            strategies.append(
                {
                    "name": p.get("name"),
                    "constraints": p.get("constraints", []),
                    "parameters": p.get("parameters", {}),
                    "variants": p.get("variants", []),
                    "segments": seqs,
                }
            )
        features.append(
            {
                "name": flag.name,
                "enabled": flag.enabled.get(snapshot.environment, False),
                "impressionData": bool(ext.get("impressionData", False)),
                "strategies": strategies,
                # Unleash 8.2 deprecated feature (environment) variants; segmux keeps none.
                "variants": [],
            }
        )
    segments = {
        seq: None if view is None else view.constraints for seq, view in snapshot.segments.items()
    }
    return features, segments
