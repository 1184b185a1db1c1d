"""Building what Unleash SDKs poll (the client snapshot) from the store; its shape, and the
engine's reading of it, are ``core.unleash_snapshot``'s."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from core.constraint_segments import ConstraintSegment, constraints_of
from core.errors import NotExpressible, NotFound
from core.flag_checks import ordered
from core.model import Rule, Segment
from core.store import Store
from core.unleash_snapshot import ClientFlag, ClientSnapshot, RuleView


async def build_snapshot(
    store: Store,
    tenant: str,
    environment: str,
    revision: str,
    *,
    projects: Sequence[str],
    name_prefix: str | None,
    tags: Sequence[str],
    only: str | None,
) -> ClientSnapshot:
    """``environment`` as SDKs see it at ``revision``: non-archived flags (optionally of some
    projects, by name prefix, or one by name) with their enabled rules in order, and the
    segments those rules use."""
    flags = [f for f in await store.list_flags(tenant) if not f.archived]
    if tags:
        flags = []
    if projects:
        flags = [f for f in flags if f.project in projects]
    if name_prefix:
        flags = [f for f in flags if f.name.startswith(name_prefix)]
    if only is not None:
        flags = [f for f in flags if f.name == only]
        if not flags:
            raise NotFound("flag", only, f"Could not find feature flag {only}")
    rules = await store.list_rules(tenant, environment=environment)
    by_flag: dict[str, list[Rule]] = {}
    with_disabled: set[str] = set()
    for r in ordered(rules):
        if r.payload.get("disabled"):
            with_disabled.add(r.flag)
        else:
            by_flag.setdefault(r.flag, []).append(r)
    # Unleash never serves an enabled feature whose strategies are all disabled: disabling
    # or deleting the last active strategy turns the environment off, so 8.2.0 serves it
    # `enabled: false` with no strategies. Served enabled with `strategies: []` instead, the
    # SDKs would answer on for everyone; the flag is served off here whatever its switch.
    flags = [
        msgspec.structs.replace(f, enabled={**f.enabled, environment: False})
        if f.name in with_disabled and f.name not in by_flag
        else f
        for f in flags
    ]
    used: dict[str, Segment] = {}
    wanted = {s for f in flags for r in by_flag.get(f.name, []) for s in r.segments}
    for segment in await store.get_segments(tenant, list(wanted)):
        used[segment.id] = segment
    views: dict[int, ConstraintSegment | None] = {}
    for segment in used.values():
        try:
            views[segment.seq] = ConstraintSegment(
                segment=segment, constraints=constraints_of(segment)
            )
        except NotExpressible:
            views[segment.seq] = None  # the SDKs then evaluate its rules as false
    seq_of = {s.id: s.seq for s in used.values()}
    client_flags = [
        ClientFlag(
            flag=f,
            rules=[
                RuleView(rule=r, segment_seqs=sorted(seq_of[s] for s in r.segments if s in seq_of))
                for r in by_flag.get(f.name, [])
            ],
        )
        for f in flags
    ]
    return ClientSnapshot(
        environment=environment, flags=client_flags, segments=views, revision=revision
    )
