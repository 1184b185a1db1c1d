"""The store protocol: backup and restore (``segmux export`` / ``segmux import``)."""

from __future__ import annotations

from typing import Protocol

from core.model import Environment, Flag, Profile, Project, Rule, Segment
from core.store.backup import Membership, TenantBackup


class BackupStore(Protocol):
    # backup and restore (``segmux export`` / ``segmux import``; see core.store.backup) -----
    async def backup_tenant(self, name: str) -> TenantBackup:
        """The tenant's row as stored (settings and sequence included), or ``NotFound``."""

    async def profiles_after(
        self, tenant: str, *, after: tuple[str, str] | None, limit: int
    ) -> list[Profile]:
        """Keyset paging over the profiles of every sandbox by ``(sandbox, identifier)``."""

    async def memberships_after(
        self, tenant: str, *, after: tuple[str, str] | None, limit: int
    ) -> list[Membership]:
        """Keyset paging over the stored memberships by ``(segment_id, identifier)``."""

    async def restore_tenant(self, tenant: TenantBackup) -> tuple[bool, list[str]]:
        """Create the tenant exactly as backed up (without the default project and
        environments), or add to an existing one the settings it lacks and move its sequence
        up to the backup's; return whether it was created and the settings keys it kept
        because it holds another value."""

    async def restore_project(self, project: Project) -> bool:
        """Insert the project as it was; False (nothing written) when its id is taken."""

    async def restore_environment(self, environment: Environment) -> bool:
        """Insert the environment as it was; False when its name is taken."""

    async def restore_segment(self, segment: Segment, bitset: bytes | None) -> bool:
        """Insert the segment row as it was (ids, state, times, version, actors) and its stored
        bitset byte for byte (None: no row, as in the source), bypassing allocation; move the
        tenant's sequence above its seq. False when the id is taken; ``Conflict`` on seq, slug
        or name. For restoring a backup only."""

    async def restore_profile(self, profile: Profile) -> bool:
        """Insert the profile as it was; False when the sandbox has its identifier."""

    async def restore_membership(self, tenant: str, membership: Membership) -> bool:
        """Insert a stored membership as it was; False when it exists. ``NotFound`` when the
        static segment (in that sandbox) or the profile is missing."""

    async def restore_flag(self, flag: Flag) -> bool:
        """Insert the flag as it was, with its per-environment states; False when the name is
        taken. ``NotFound("project"|"environment")``."""

    async def restore_rule(self, rule: Rule) -> bool:
        """Insert the rule as it was, with its segment links in order; False when the id is
        taken. ``NotFound("flag"|"environment"|"segment")``."""
