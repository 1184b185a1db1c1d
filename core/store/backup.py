"""Backup and restore of one tenant, as a mixin of ``SqlStore``: reads of what no use case lists
(the tenant's sequence, every profile and membership of every sandbox) and inserts that put a
row back *exactly as it was read* — ids, times, versions, actors, the stored bitset.

The restore calls exist for ``segmux import`` alone. They bypass every rule the use cases apply
on a write (allocation picks no buckets, versions are not bumped, times are not set), because a
backup holds rows that already passed those rules once; applying them again would change what
is restored (an ALLOCATED segment would get other buckets). Each restore inserts only when the
row's key is free and says whether it did: nothing stored is ever overwritten. Uniqueness other
than the key (a segment's seq, slug or name) still raises ``Conflict``.
"""

from __future__ import annotations

from typing import Any

import msgspec

from core.errors import NotFound
from core.model import Environment, Flag, Profile, Project, Rule, Segment
from core.store.base import SqlBase, Tx
from core.store.profile_keys import has_wide_ints
from core.store.rows import SEGMENT_COLUMNS, dumps, profile_from_row

_dict_dec = msgspec.json.Decoder(dict[str, Any])


class TenantBackup(msgspec.Struct, frozen=True, kw_only=True):
    """A tenant row as stored: ``next_seq`` is the seq its next new segment gets."""

    name: str
    default_sandbox: str
    created_at: int
    settings: dict[str, Any] = {}
    next_seq: int = 1


class Membership(msgspec.Struct, frozen=True, kw_only=True):
    """One stored member of a static segment."""

    segment_id: str
    sandbox: str
    identifier: str
    created_at: int


class BackupSql(SqlBase):
    """See ``core.store.protocol`` (section "backup and restore")."""

    # reads ---------------------------------------------------------------------------------
    async def backup_tenant(self, name: str) -> TenantBackup:
        async with self._read() as tx:
            row = await tx.fetchrow("SELECT * FROM tenants WHERE name = $1", name)
        if row is None:
            raise NotFound("tenant", name)
        return TenantBackup(
            name=row["name"],
            default_sandbox=row["default_sandbox"],
            created_at=row["created_at"],
            settings=_dict_dec.decode(row["settings"]),
            next_seq=row["next_seq"],
        )

    async def profiles_after(
        self, tenant: str, *, after: tuple[str, str] | None, limit: int
    ) -> list[Profile]:
        args: list[Any] = [tenant]
        where = "tenant = $1"
        if after is not None:
            # Row-value comparison: the same keyset on both backends.
            where += " AND (sandbox, identifier) > ($2, $3)"
            args += list(after)
        async with self._read() as tx:
            rows = await tx.fetch(
                f"SELECT * FROM profiles WHERE {where} ORDER BY sandbox, identifier "
                f"LIMIT ${len(args) + 1}",
                *args,
                limit,
            )
        return [profile_from_row(r) for r in rows]

    async def memberships_after(
        self, tenant: str, *, after: tuple[str, str] | None, limit: int
    ) -> list[Membership]:
        args: list[Any] = [tenant]
        where = "tenant = $1"
        if after is not None:
            where += " AND (segment_id, profile) > ($2, $3)"
            args += list(after)
        async with self._read() as tx:
            rows = await tx.fetch(
                f"SELECT * FROM memberships WHERE {where} ORDER BY segment_id, profile "
                f"LIMIT ${len(args) + 1}",
                *args,
                limit,
            )
        return [
            Membership(
                segment_id=r["segment_id"],
                sandbox=r["sandbox"],
                identifier=r["profile"],
                created_at=r["created_at"],
            )
            for r in rows
        ]

    # restores (import only) ----------------------------------------------------------------
    async def restore_tenant(self, tenant: TenantBackup) -> tuple[bool, list[str]]:
        """Create the tenant as backed up (no default project or environments: the backup
        holds the tenant's own), or, when it exists, add the settings it lacks and move its
        sequence up to the backup's. Returns whether it was created, and the settings keys left
        as they were because the tenant already holds another value."""
        async with self._write() as tx:
            row = await tx.fetchrow(
                "INSERT INTO tenants (name, default_sandbox, created_at, settings, next_seq) "
                "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING RETURNING name",
                tenant.name,
                tenant.default_sandbox,
                tenant.created_at,
                dumps(tenant.settings),
                tenant.next_seq,
            )
            if row is not None:
                return True, []
            found = await tx.fetchrow("SELECT settings FROM tenants WHERE name = $1", tenant.name)
            assert found is not None
            current = _dict_dec.decode(found["settings"])
            kept = sorted(k for k, v in tenant.settings.items() if k in current and current[k] != v)
            merged = {**tenant.settings, **current}
            greatest = "max" if self.url.startswith("sqlite") else "GREATEST"
            await tx.execute(
                f"UPDATE tenants SET settings = $2, next_seq = {greatest}(next_seq, $3) "
                "WHERE name = $1",
                tenant.name,
                dumps(merged),
                tenant.next_seq,
            )
        return False, kept

    async def restore_project(self, project: Project) -> bool:
        async with self._write() as tx:
            row = await tx.fetchrow(
                "INSERT INTO projects (tenant, id, name, description, created_at) "
                "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING id",
                project.tenant,
                project.id,
                project.name,
                project.description,
                project.created_at,
            )
        return row is not None

    async def restore_environment(self, environment: Environment) -> bool:
        async with self._write() as tx:
            row = await tx.fetchrow(
                "INSERT INTO environments (tenant, name, type, sort_order) "
                "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING name",
                environment.tenant,
                environment.name,
                environment.type,
                environment.sort_order,
            )
        return row is not None

    async def restore_segment(self, segment: Segment, bitset: bytes | None) -> bool:
        greatest = "max" if self.url.startswith("sqlite") else "GREATEST"
        async with self._write() as tx:
            exists = await tx.fetchrow(
                "SELECT 1 AS one FROM segments WHERE tenant = $1 AND id = $2",
                segment.tenant,
                segment.id,
            )
            if exists is not None:
                return False
            moved = await tx.fetchrow(
                f"UPDATE tenants SET next_seq = {greatest}(next_seq, CAST($2 AS BIGINT) + 1) "
                "WHERE name = $1 RETURNING name",
                segment.tenant,
                segment.seq,
            )
            if moved is None:
                raise NotFound("tenant", segment.tenant)
            await tx.execute(
                f"INSERT INTO segments ({SEGMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, "
                "$8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
                segment.tenant,
                segment.id,
                segment.seq,
                segment.slug,
                segment.sandbox,
                segment.name,
                segment.description,
                segment.kind,
                segment.expression.decode() if segment.expression is not None else None,
                dumps(segment.allocation),
                segment.state,
                dumps(segment.labels),
                segment.owner,
                segment.created_at,
                segment.updated_at,
                segment.created_by,
                segment.updated_by,
                segment.version,
                dumps(segment.extensions),
            )
            if bitset is not None:
                # The bytes as they were stored: no row means "all buckets", so a row is
                # written exactly when the source had one.
                await tx.execute(
                    "INSERT INTO segment_bitsets (tenant, segment_id, bitset) VALUES ($1, $2, $3)",
                    segment.tenant,
                    segment.id,
                    bitset,
                )
        return True

    async def restore_profile(self, profile: Profile) -> bool:
        async with self._write() as tx:
            row = await tx.fetchrow(
                "INSERT INTO profiles (tenant, sandbox, identifier, attributes, created_at, "
                f"updated_at, version, wide_ints) VALUES ($1, $2, $3, {self._json('$4')}, $5, "
                "$6, $7, $8) ON CONFLICT (tenant, sandbox, identifier) DO NOTHING "
                "RETURNING identifier",
                profile.tenant,
                profile.sandbox,
                profile.identifier,
                dumps(profile.attributes),
                profile.created_at,
                profile.updated_at,
                profile.version,
                has_wide_ints(profile.attributes),
            )
        return row is not None

    async def restore_membership(self, tenant: str, membership: Membership) -> bool:
        async with self._write() as tx:
            await _require_row(
                tx,
                "segment",
                membership.segment_id,
                "SELECT 1 AS one FROM segments WHERE tenant = $1 AND id = $2 AND sandbox = $3 "
                "AND kind = 'static'",
                tenant,
                membership.segment_id,
                membership.sandbox,
            )
            await _require_row(
                tx,
                "individual",
                membership.identifier,
                "SELECT 1 AS one FROM profiles WHERE tenant = $1 AND sandbox = $2 "
                "AND identifier = $3",
                tenant,
                membership.sandbox,
                membership.identifier,
            )
            row = await tx.fetchrow(
                "INSERT INTO memberships (tenant, segment_id, sandbox, profile, created_at) "
                "VALUES ($1, $2, $3, $4, $5) "
                "ON CONFLICT (tenant, segment_id, profile) DO NOTHING RETURNING profile",
                tenant,
                membership.segment_id,
                membership.sandbox,
                membership.identifier,
                membership.created_at,
            )
        return row is not None

    async def restore_flag(self, flag: Flag) -> bool:
        async with self._write() as tx:
            await _require_row(
                tx,
                "project",
                flag.project,
                "SELECT 1 AS one FROM projects WHERE tenant = $1 AND id = $2",
                flag.tenant,
                flag.project,
            )
            for environment in flag.enabled:
                await _require_row(
                    tx,
                    "environment",
                    environment,
                    "SELECT 1 AS one FROM environments WHERE tenant = $1 AND name = $2",
                    flag.tenant,
                    environment,
                )
            row = await tx.fetchrow(
                "INSERT INTO flags (tenant, name, project, type, description, archived, "
                "created_at, updated_at, created_by, version, extensions) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
                "ON CONFLICT DO NOTHING RETURNING name",
                flag.tenant,
                flag.name,
                flag.project,
                flag.type,
                flag.description,
                flag.archived,
                flag.created_at,
                flag.updated_at,
                flag.created_by,
                flag.version,
                dumps(flag.extensions),
            )
            if row is None:
                return False
            for environment, enabled in sorted(flag.enabled.items()):
                await tx.execute(
                    "INSERT INTO flag_environments (tenant, flag, environment, enabled) "
                    "VALUES ($1, $2, $3, $4)",
                    flag.tenant,
                    flag.name,
                    environment,
                    enabled,
                )
        return True

    async def restore_rule(self, rule: Rule) -> bool:
        async with self._write() as tx:
            exists = await tx.fetchrow(
                "SELECT 1 AS one FROM rules WHERE tenant = $1 AND id = $2", rule.tenant, rule.id
            )
            if exists is not None:
                return False
            await _require_row(
                tx,
                "flag",
                rule.flag,
                "SELECT 1 AS one FROM flags WHERE tenant = $1 AND name = $2",
                rule.tenant,
                rule.flag,
            )
            await _require_row(
                tx,
                "environment",
                rule.environment,
                "SELECT 1 AS one FROM environments WHERE tenant = $1 AND name = $2",
                rule.tenant,
                rule.environment,
            )
            for segment_id in rule.segments:
                # Checked here, not left to the foreign key: SQLite's error does not say which
                # key failed.
                await _require_row(
                    tx,
                    "segment",
                    segment_id,
                    "SELECT 1 AS one FROM segments WHERE tenant = $1 AND id = $2",
                    rule.tenant,
                    segment_id,
                )
            await tx.execute(
                "INSERT INTO rules (tenant, id, flag, environment, sort_order, payload, "
                "created_at, updated_at, created_by, version) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                rule.tenant,
                rule.id,
                rule.flag,
                rule.environment,
                rule.sort_order,
                dumps(rule.payload),
                rule.created_at,
                rule.updated_at,
                rule.created_by,
                rule.version,
            )
            for position, segment_id in enumerate(rule.segments):
                await tx.execute(
                    "INSERT INTO rule_segments (tenant, rule_id, segment_id, position) "
                    "VALUES ($1, $2, $3, $4)",
                    rule.tenant,
                    rule.id,
                    segment_id,
                    position,
                )
        return True


async def _require_row(tx: Tx, kind: str, value: str, sql: str, *args: Any) -> None:
    if await tx.fetchrow(sql, *args) is None:
        raise NotFound(kind, value, f"the {kind} {value!r} is not in the store")
