"""The plan: for each source segment, what happens on the target, decided before any write.

Order of the checks: a name the target already has is ``exists`` (so a re-run is a no-op and
nothing is duplicated; names match case-sensitively, as every dialect keeps them); an unreadable
source condition is ``failed``; a condition the target cannot say exactly, or a state it cannot
hold without matching more (``changes.refusal``), is ``not-expressible`` with the reason;
anything else is ``create`` with its body and what will differ there (``changes.arrival``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from core.errors import CoreError, NotExpressible
from gateway.migrate.changes import Arrival, arrival, refusal
from gateway.migrate.codec import Codec
from gateway.migrate.item import Item

Action = Literal["create", "exists", "not-expressible", "failed"]


@dataclass(frozen=True)
class Step:
    item: Item
    action: Action
    body: Any = None
    reason: str | None = None
    arrival: Arrival = field(default_factory=Arrival)


def plan(items: Iterable[Item], target: Codec, existing: set[str]) -> list[Step]:
    taken = set(existing)
    steps: list[Step] = []
    for item in items:
        if item.name in taken:
            steps.append(Step(item, "exists", reason="a segment of this name is on the target"))
            continue
        if item.unreadable is not None:
            steps.append(Step(item, "failed", reason=item.unreadable))
            continue
        refused = refusal(item, target.dialect)
        if refused is not None:
            steps.append(Step(item, "not-expressible", reason=refused))
            continue
        try:
            body = target.render(item)
        except NotExpressible as exc:
            steps.append(Step(item, "not-expressible", reason=exc.message))
            continue
        except CoreError as exc:  # a renderer's other refusal: still never a wider condition
            steps.append(Step(item, "not-expressible", reason=exc.message))
            continue
        taken.add(item.name)
        steps.append(Step(item, "create", body=body, arrival=arrival(item, target.dialect)))
    return steps
