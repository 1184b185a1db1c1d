"""The store protocol: projects, environments, Unleash flags and their rules (strategies)."""

from __future__ import annotations

from typing import Protocol

from core.model import (
    Environment,
    Flag,
    NewFlag,
    NewRule,
    Project,
    Rule,
    RulePatch,
    SegmentUse,
)


class FlagStore(Protocol):
    # projects and environments (every tenant has project ``default`` and environments
    # ``development`` and ``production`` from its creation on) -------------------------------
    async def create_project(
        self, tenant: str, project_id: str, name: str, description: str | None = None
    ) -> Project:
        """Add a project; ``Conflict("project")`` if the id is taken."""

    async def get_project(self, tenant: str, project_id: str) -> Project:
        """One project, or ``NotFound``."""

    async def list_projects(self, tenant: str) -> list[Project]:
        """The tenant's projects by id."""

    async def list_environments(self, tenant: str) -> list[Environment]:
        """The tenant's environments by sort order."""

    async def get_environment(self, tenant: str, name: str) -> Environment:
        """One environment, or ``NotFound``."""

    # flags and rules -----------------------------------------------------------------------
    async def create_flag(self, tenant: str, new: NewFlag, actor: str | None) -> Flag:
        """Insert a flag (off in every environment). ``NotFound("project")``,
        ``Conflict("flag")`` (names are unique per tenant, archived flags included)."""

    async def get_flag(self, tenant: str, name: str) -> Flag:
        """One flag with its per-environment state, or ``NotFound``."""

    async def list_flags(self, tenant: str, *, project: str | None = None) -> list[Flag]:
        """Flags (archived too) by name in byte order, optionally of one project."""

    async def set_flag_enabled(
        self, tenant: str, name: str, environment: str, enabled: bool, actor: str | None
    ) -> Flag:
        """Turn a flag on or off in one environment; bumps the flag's version.
        ``NotFound("flag"|"environment")``; ``Conflict("archived")`` for an archived flag
        (checked in the transaction, so an archive racing this cannot be passed)."""

    async def set_flag_archived(
        self, tenant: str, name: str, archived: bool, actor: str | None, *, turn_off: bool = False
    ) -> Flag:
        """Archive or revive a flag (its rules are kept); bumps the flag's version. With
        ``turn_off`` the flag is also turned off in every environment, in the same transaction.
        ``NotFound("flag")``."""

    async def delete_archived_flag(self, tenant: str, name: str) -> bool:
        """Delete a flag with its states and rules if it is archived; False (nothing changed)
        if there is no such flag or it is not archived."""

    async def create_rule(self, tenant: str, new: NewRule, actor: str | None) -> Rule:
        """Insert a rule (id: a new ULID) and link its segments, all or nothing.
        ``NotFound("flag"|"environment"|"segment")``."""

    async def get_rule(self, tenant: str, rule_id: str) -> Rule:
        """One rule with its segment ids in order, or ``NotFound``."""

    async def list_rules(
        self, tenant: str, *, flag: str | None = None, environment: str | None = None
    ) -> list[Rule]:
        """Rules by flag, environment, sort order, then id (creation order)."""

    async def update_rule(
        self, tenant: str, rule_id: str, patch: RulePatch, actor: str | None
    ) -> Rule:
        """Apply ``patch`` (``segments`` replaces the whole list, all or nothing); bump version.
        ``NotFound("rule"|"segment")``."""

    async def delete_rule(self, tenant: str, rule_id: str) -> None:
        """Delete a rule and its segment links; ``NotFound`` if there is none."""

    async def segment_uses(self, tenant: str, segment_id: str) -> list[SegmentUse]:
        """The rules that use a segment (archived flags' too), by rule id."""

    async def segment_usage(self, tenant: str) -> dict[str, tuple[int, int]]:
        """Segment id -> (distinct projects, distinct flags) of the non-archived flags whose
        rules use it; unused segments are absent."""

    async def find_segment_id(self, tenant: str, sandbox: str, name: str) -> str | None:
        """The id of the segment with exactly this name in a sandbox, or None."""

    async def flags_revision(self, tenant: str) -> str:
        """An opaque string that changes whenever any segment, flag or rule of the tenant is
        created, changed or deleted (for ETags; no cache involved)."""
