"""Flag use cases: features in projects, their rules (strategies) per environment, the segments
rules use, and the snapshot SDKs poll (built by ``core.flag_snapshots``; its shape, and the
engine's reading of it, are ``core.unleash_snapshot``'s). The rules every dialect shares live
here: a rule uses at most ``segments_per_rule`` segments, only segments the rule's dialect can
show, and a flag's rules are addressed through its project and environment. What the use cases
take and give is ``core.flag_records``'s, the checks they share ``core.flag_checks``'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NoReturn

import msgspec

from core.allocation import ARCHIVED
from core.cache import MB, TenantCache
from core.constraint_segments import ConstraintSegment, constraints_of, project_of
from core.constraints import ConstraintLimits
from core.errors import Conflict, Invalid, NotExpressible, NotFound
from core.flag_checks import (
    check_flag_name,
    check_same_project,
    ilike,
    ordered,
    require_client,
    require_evaluator,
    rule_payload,
)
from core.flag_records import (
    ARCHIVED_FLAG,
    FLAG_TYPES,
    NO_FLAG,
    FlagDetail,
    FlagEnvironment,
    RuleInput,
)
from core.flag_snapshots import build_snapshot
from core.model import Flag, NewFlag, NewRule, Principal, Rule, RulePatch, Segment
from core.service import check_no_nul, check_text, require_admin
from core.store import Store
from core.unleash_context import UnleashContext
from core.unleash_eval import FeatureAnswer, FeatureEngine, compile_features
from core.unleash_snapshot import ClientSnapshot, RuleView, engine_input


class FlagService:
    def __init__(self, store: Store, limits: ConstraintLimits | None = None) -> None:
        self.store = store
        self.limits = limits or ConstraintLimits()
        # Snapshots per (tenant, query) at the tenant's revision (see core.cache): SDKs poll.
        self._snapshots: TenantCache[ClientSnapshot] = TenantCache(store, capacity=1024)
        # Compiled features per (tenant, environment) at the tenant's revision: per-user
        # answers (the frontend API) cannot be cached, so each request pays evaluation only.
        self._engines: TenantCache[FeatureEngine] = TenantCache(
            store, capacity=256, weigh=lambda engine: engine.weight, max_bytes=128 * MB
        )

    def caches(self) -> dict[str, TenantCache[Any]]:
        """Its caches by name, for the operator's metrics."""
        return {"client_snapshots": self._snapshots, "flag_engines": self._engines}

    # flags ---------------------------------------------------------------------------------
    async def create_flag(self, principal: Principal, project: str, new: NewFlag) -> Flag:
        require_admin(principal)
        check_flag_name(new.name)
        check_text("description", new.description, max_len=64 * 1024)
        if new.type not in FLAG_TYPES:
            raise Invalid("type", f"must be one of {', '.join(FLAG_TYPES)}")
        try:
            existing = await self.store.get_flag(principal.tenant, new.name)
        except NotFound:
            pass
        else:
            raise Conflict(
                "flag",
                "An archived flag with that name already exists"
                if existing.archived
                else "A flag with that name already exists",
            )
        try:
            await self.store.get_project(principal.tenant, project)
        except NotFound as exc:
            raise NotFound(
                "project", project, f"Active project with id {project} does not exist"
            ) from exc
        new = msgspec.structs.replace(new, project=project)
        return await self.store.create_flag(principal.tenant, new, principal.token_name)

    async def _flag_in(self, principal: Principal, project: str, name: str) -> Flag:
        try:
            flag = await self.store.get_flag(principal.tenant, name)
        except NotFound:
            flag = None
        if flag is None or flag.project != project:
            # Unleash names the flag's real project: the caller's tenant owns it either way.
            where = (
                "."
                if flag is None
                else f', but there\'s a feature with that name in project "{flag.project}"'
            )
            raise NotFound(
                "flag", name, f'There\'s no feature named "{name}" in project "{project}"{where}'
            )
        return flag

    async def _environment(self, principal: Principal, environment: str) -> None:
        try:
            await self.store.get_environment(principal.tenant, environment)
        except NotFound as exc:
            raise NotFound(
                "environment", environment, f"Could not find environment {environment}"
            ) from exc

    async def set_enabled(
        self, principal: Principal, project: str, name: str, environment: str, enabled: bool
    ) -> Flag:
        require_admin(principal)
        flag = await self._flag_in(principal, project, name)
        await self._environment(principal, environment)
        if flag.archived:
            raise Conflict("archived", ARCHIVED_FLAG)
        try:
            return await self.store.set_flag_enabled(
                principal.tenant, name, environment, enabled, principal.token_name
            )
        except Conflict as exc:  # archived since the read above
            if exc.field == "archived":
                raise Conflict("archived", ARCHIVED_FLAG) from exc
            raise

    # flags as admins see them: list, get, archive, revive ----------------------------------
    async def project_flags(
        self,
        principal: Principal,
        project: str,
        *,
        name_prefix: str | None = None,
        tags: Sequence[str] = (),
    ) -> list[FlagDetail]:
        """The project's flags that are not archived, by name in byte order (an unknown project
        has none). ``name_prefix`` matches as Unleash's does: case-insensitively, as a SQL
        ``ILIKE`` pattern (``%`` and ``_`` are wildcards) with ``%`` appended. Flags carry no
        tags in segmux, so a tag filter matches none."""
        require_admin(principal)
        flags = [
            f
            for f in await self.store.list_flags(principal.tenant, project=project)
            if not f.archived
        ]
        if tags:
            flags = []
        if name_prefix is not None:
            pattern = name_prefix if name_prefix.endswith("%") else name_prefix + "%"
            matcher = ilike(pattern)
            flags = [f for f in flags if matcher.fullmatch(f.name)]
        return await self._details(principal, flags)

    async def flag_detail(self, principal: Principal, project: str, name: str) -> FlagDetail:
        """One flag of the project with its rules per environment; an archived flag is not
        found here (it is only listed among the archived)."""
        require_admin(principal)
        flag = await self._flag_in(principal, project, name)
        if flag.archived:
            raise NotFound("flag", name, f"Could not find feature flag with name {name}")
        (detail,) = await self._details(principal, [flag])
        return detail

    async def flag_environment(
        self, principal: Principal, project: str, name: str, environment: str
    ) -> FlagEnvironment:
        """One flag of the project in one environment, with its rules in order."""
        require_admin(principal)
        flag = await self._flag_in(principal, project, name)
        (detail,) = await self._details(principal, [flag])
        for env in detail.environments:
            if env.name == environment:
                return env
        raise NotFound("environment", environment, f"Could not find {name} in {environment}")

    async def archive_flag(self, principal: Principal, project: str, name: str) -> Flag:
        """Archive a flag of the project: SDKs stop seeing it at once; its rules and states are
        kept for a revive. Archiving an archived flag changes nothing."""
        require_admin(principal)
        await self._existing_flag(principal, name)
        flag = await self._flag_in(principal, project, name)
        if flag.archived:
            return flag
        return await self.store.set_flag_archived(
            principal.tenant, name, True, principal.token_name
        )

    async def archive_flags(self, principal: Principal, project: str, names: Sequence[str]) -> None:
        """Archive the named flags; names of no flag and archived flags are ignored, a flag of
        another project refuses the whole request before anything changes."""
        require_admin(principal)
        check_no_nul("features", list(names))
        flags = await self._flags_named(principal, names)
        check_same_project(flags, project)
        for flag in flags:
            if not flag.archived:
                await self.store.set_flag_archived(
                    principal.tenant, flag.name, True, principal.token_name
                )

    async def revive_flag(self, principal: Principal, name: str) -> Flag:
        """Bring an archived flag back, off in every environment (so a revive never turns
        anything on for users); a flag that is not archived is left as it is."""
        require_admin(principal)
        flag = await self._existing_flag(principal, name)
        if not flag.archived:
            return flag
        return await self.store.set_flag_archived(
            principal.tenant, name, False, principal.token_name, turn_off=True
        )

    async def revive_flags(self, principal: Principal, project: str, names: Sequence[str]) -> None:
        """Revive the named flags of an active project; names of no flag are ignored, a flag of
        another project refuses the whole request before anything changes."""
        require_admin(principal)
        check_no_nul("features", list(names))
        await self._active_project(principal, project)
        flags = await self._flags_named(principal, names)
        check_same_project(flags, project)
        for flag in flags:
            if flag.archived:
                await self.revive_flag(principal, flag.name)

    async def delete_archived_flag(self, principal: Principal, name: str) -> None:
        """Delete a flag for good, rules and all, only if it is archived; any other name
        (an active flag, no flag) changes nothing."""
        require_admin(principal)
        try:
            flag = await self.store.get_flag(principal.tenant, name)
        except NotFound:
            return
        if flag.archived:
            await self.store.delete_archived_flag(principal.tenant, name)

    async def environment_variants(
        self, principal: Principal, project: str, name: str, environment: str
    ) -> list[dict[str, Any]]:
        """A flag's variants in one environment: segmux keeps variants on rules only (as
        Unleash 8 does for every flag made since it deprecated environment variants), so the
        list is always empty."""
        require_admin(principal)
        await self._flag_in(principal, project, name)
        try:
            await self.store.get_environment(principal.tenant, environment)
        except NotFound as exc:
            raise NotFound(
                "environment", environment, f"Could not find {name} in {environment}"
            ) from exc
        return []

    async def refuse_environment_variants(
        self, principal: Principal, project: str, name: str
    ) -> NoReturn:
        """Writing a flag's environment variants is refused, as Unleash 8 refuses it for a
        flag that has none: variants live on rules (strategy variants)."""
        require_admin(principal)
        await self._flag_in(principal, project, name)
        raise Conflict(
            "environment_variants",
            f"Environment variants deprecated for feature: {name}. Use strategy variants instead.",
        )

    async def _existing_flag(self, principal: Principal, name: str) -> Flag:
        try:
            return await self.store.get_flag(principal.tenant, name)
        except NotFound as exc:
            raise NotFound("flag", name, NO_FLAG) from exc

    async def _active_project(self, principal: Principal, project: str) -> None:
        try:
            await self.store.get_project(principal.tenant, project)
        except NotFound as exc:
            raise NotFound(
                "project", project, f"Active project with id {project} does not exist"
            ) from exc

    async def _flags_named(self, principal: Principal, names: Sequence[str]) -> list[Flag]:
        wanted = set(names)
        return [f for f in await self.store.list_flags(principal.tenant) if f.name in wanted]

    async def _details(self, principal: Principal, flags: Sequence[Flag]) -> list[FlagDetail]:
        """Every environment of each flag with its rules, in three reads whatever the count."""
        if not flags:
            return []
        tenant = principal.tenant
        environments = await self.store.list_environments(tenant)
        names = {f.name for f in flags}
        only = flags[0].name if len(flags) == 1 else None
        rules = [r for r in await self.store.list_rules(tenant, flag=only) if r.flag in names]
        segments = await self._segments(principal, {s for r in rules for s in r.segments})
        seq_of = {s.id: s.seq for s in segments}
        by_place: dict[tuple[str, str], list[RuleView]] = {}
        for r in ordered(rules):
            seqs = sorted(seq_of[s] for s in r.segments if s in seq_of)
            by_place.setdefault((r.flag, r.environment), []).append(
                RuleView(rule=r, segment_seqs=seqs)
            )
        return [
            FlagDetail(
                flag=f,
                environments=[
                    FlagEnvironment(
                        name=e.name,
                        type=e.type,
                        sort_order=e.sort_order,
                        enabled=f.enabled.get(e.name, False),
                        rules=by_place.get((f.name, e.name), []),
                    )
                    for e in environments
                ],
            )
            for f in flags
        ]

    # rules ---------------------------------------------------------------------------------
    async def rules(
        self, principal: Principal, project: str, name: str, environment: str
    ) -> list[RuleView]:
        require_admin(principal)
        await self._flag_in(principal, project, name)
        await self._environment(principal, environment)
        rules = await self.store.list_rules(principal.tenant, flag=name, environment=environment)
        return [await self._view(principal, r) for r in ordered(rules)]

    async def rule(
        self, principal: Principal, project: str, name: str, environment: str, rule_id: str
    ) -> RuleView:
        require_admin(principal)
        return await self._view(
            principal, await self._rule_in(principal, project, name, environment, rule_id)
        )

    async def _rule_in(
        self, principal: Principal, project: str, name: str, environment: str, rule_id: str
    ) -> Rule:
        await self._flag_in(principal, project, name)
        await self._environment(principal, environment)
        try:
            rule = await self.store.get_rule(principal.tenant, rule_id)
        except NotFound:
            rule = None
        if rule is None or rule.flag != name or rule.environment != environment:
            raise NotFound("rule", rule_id, f"Could not find strategy with id {rule_id}")
        return rule

    async def add_rule(
        self, principal: Principal, project: str, name: str, environment: str, data: RuleInput
    ) -> RuleView:
        require_admin(principal)
        await self._flag_in(principal, project, name)
        await self._environment(principal, environment)
        segment_ids = await self._segment_ids(principal, data.segments or [])
        payload = rule_payload(name, data, self.limits)
        sort_order = data.sort_order
        if sort_order is None:
            existing = await self.store.list_rules(
                principal.tenant, flag=name, environment=environment
            )
            sort_order = max((r.sort_order for r in existing), default=-1) + 1
        rule = await self.store.create_rule(
            principal.tenant,
            NewRule(
                flag=name,
                environment=environment,
                sort_order=sort_order,
                payload=payload,
                segments=segment_ids,
            ),
            principal.token_name,
        )
        return await self._view(principal, rule)

    async def update_rule(
        self,
        principal: Principal,
        project: str,
        name: str,
        environment: str,
        rule_id: str,
        data: RuleInput,
    ) -> RuleView:
        require_admin(principal)
        await self._rule_in(principal, project, name, environment, rule_id)
        segment_ids = (
            msgspec.UNSET
            if data.segments is None
            else await self._segment_ids(principal, data.segments)
        )
        patch = RulePatch(
            payload=rule_payload(name, data, self.limits),
            segments=segment_ids,
            sort_order=msgspec.UNSET if data.sort_order is None else data.sort_order,
        )
        rule = await self.store.update_rule(principal.tenant, rule_id, patch, principal.token_name)
        return await self._view(principal, rule)

    async def delete_rule(
        self, principal: Principal, project: str, name: str, environment: str, rule_id: str
    ) -> None:
        require_admin(principal)
        await self._rule_in(principal, project, name, environment, rule_id)
        await self.store.delete_rule(principal.tenant, rule_id)

    async def set_rule_segments(
        self,
        principal: Principal,
        project: str,
        environment: str,
        rule_id: str,
        seqs: Sequence[int],
    ) -> RuleView:
        """Replace the segments of a rule, all or nothing; the rule must be in ``project`` and
        ``environment`` (a mismatch is a client bug, answered as not found)."""
        require_admin(principal)
        self._check_segment_count(seqs)
        try:
            rule = await self.store.get_rule(principal.tenant, rule_id)
            flag = await self.store.get_flag(principal.tenant, rule.flag)
        except NotFound as exc:
            raise NotFound("rule", rule_id, f"Could not find strategy with id {rule_id}") from exc
        if flag.project != project or rule.environment != environment:
            raise NotFound(
                "rule",
                rule_id,
                f'Could not find strategy with id {rule_id} in project "{project}" and '
                f'environment "{environment}"',
            )
        segment_ids = await self._segment_ids(principal, seqs)
        updated = await self.store.update_rule(
            principal.tenant, rule_id, RulePatch(segments=segment_ids), principal.token_name
        )
        return await self._view(principal, updated)

    async def segments_of_rule(self, principal: Principal, rule_id: str) -> list[ConstraintSegment]:
        require_admin(principal)
        try:
            rule = await self.store.get_rule(principal.tenant, rule_id)
        except NotFound as exc:
            raise NotFound("rule", rule_id, f"Could not find strategy with id {rule_id}") from exc
        out = []
        for segment in await self._segments(principal, rule.segments):
            try:
                out.append(
                    ConstraintSegment(
                        segment=segment,
                        constraints=constraints_of(segment),
                        project=project_of(segment),
                    )
                )
            except NotExpressible:
                continue
        return sorted(out, key=lambda v: v.segment.name.encode())

    # the client (SDK) snapshot -------------------------------------------------------------
    async def client_snapshot(
        self,
        principal: Principal,
        *,
        projects: Sequence[str] = (),
        name_prefix: str | None = None,
        tags: Sequence[str] = (),
        only: str | None = None,
    ) -> ClientSnapshot:
        """The principal's environment as SDKs see it: non-archived flags (optionally of some
        projects, by name prefix, or one by name) with their enabled rules in order. Flags carry
        no tags in segmux, so a tag filter matches none."""
        environment = require_client(principal)
        key = (environment, tuple(projects), name_prefix, tuple(tags), only)

        async def build(revision: int, previous: ClientSnapshot | None) -> ClientSnapshot:
            return await build_snapshot(
                self.store,
                principal.tenant,
                environment,
                str(revision),
                projects=projects,
                name_prefix=name_prefix,
                tags=tags,
                only=only,
            )

        # The prefix and names are the client's text: their bytes count against the bound.
        return await self._snapshots.get(principal.tenant, key, build, key_weight=len(repr(key)))

    # evaluation (Unleash's SDK semantics, server-side) ----------------------------------------
    async def evaluate_features(
        self, principal: Principal, environment: str, context: UnleashContext
    ) -> list[FeatureAnswer]:
        """Every feature an SDK of ``environment`` would see (the client snapshot, unfiltered),
        evaluated for ``context`` as Unleash's SDKs do (``core.unleash_eval``), in the
        snapshot's order: enabled or not, impression data, variant."""
        engine = await self.feature_engine(principal, environment)
        return engine.evaluate(context)

    async def feature_engine(self, principal: Principal, environment: str) -> FeatureEngine:
        """The compiled features of ``environment`` as of now (cached per tenant revision)."""
        require_evaluator(principal, environment)

        async def build(revision: int, previous: FeatureEngine | None) -> FeatureEngine:
            snapshot = await build_snapshot(
                self.store,
                principal.tenant,
                environment,
                str(revision),
                projects=(),
                name_prefix=None,
                tags=(),
                only=None,
            )
            features, segments = engine_input(snapshot)
            return compile_features(features, segments)

        return await self._engines.get(principal.tenant, ("engine", environment), build)

    # helpers -------------------------------------------------------------------------------
    def _check_segment_count(self, seqs: Sequence[Any]) -> None:
        limit = self.limits.segments_per_rule
        if len(seqs) > limit:
            raise Invalid("segments", f"Strategies may not have more than {limit} segments")

    async def _segment_ids(self, principal: Principal, seqs: Sequence[int]) -> tuple[str, ...]:
        """Integer segment ids -> canonical ids; each must be a segment constraints can show
        (attaching one they cannot would make the rule false in every SDK)."""
        self._check_segment_count(seqs)
        ids: list[str] = []
        for seq in dict.fromkeys(seqs):
            try:
                if not 1 <= seq < 2**63:
                    raise NotFound("segment", str(seq))
                segment = await self.store.get_segment(principal.tenant, "seq", seq)
                if segment.sandbox != principal.default_sandbox:
                    raise NotFound("segment", str(seq))
                if segment.state == ARCHIVED:  # as the store says it when an archive races this
                    raise Conflict(
                        "state", "the segment is archived and cannot be used by a flag rule"
                    )
                constraints_of(segment)
            except (NotFound, NotExpressible) as exc:
                raise NotFound("segment", str(seq), f'No segment exists with ID "{seq}"') from exc
            ids.append(segment.id)
        return tuple(ids)

    async def _view(self, principal: Principal, rule: Rule) -> RuleView:
        segments = await self._segments(principal, rule.segments)
        return RuleView(rule=rule, segment_seqs=sorted(s.seq for s in segments))

    async def _segments(self, principal: Principal, ids: Any) -> list[Segment]:
        # One query; a segment deleted between two reads is left out (the foreign key keeps
        # rules honest).
        return await self.store.get_segments(principal.tenant, list(ids))
