"""Flags, their rules and the segments rules use: the SQL both backends share, as a mixin of
``SqlStore`` (same ``$n`` placeholders, same transactions).

Which segments a rule uses lives in ``rule_segments``, whose foreign key to ``segments`` makes
"a segment in use cannot be deleted" the database's rule: a delete racing an attach either sees
the attach and fails (``InUse``) or commits first and makes the attach fail (``NotFound``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from core.errors import Conflict, CoreError, InUse, NotFound
from core.model import (
    DEFAULT_ENVIRONMENTS,
    DEFAULT_PROJECT,
    Environment,
    Flag,
    NewFlag,
    NewRule,
    Project,
    Rule,
    RulePatch,
    SegmentUse,
    new_ulid,
    now_us,
)
from core.store.base import Row, SqlBase, Tx
from core.store.rows import dumps
from core.store.segment_refs import lock_usable

_dict_dec = msgspec.json.Decoder(dict[str, Any])

# Unique constraints of these tables, for Conflict(field) (see core.store.sql.conflict_for and
# the SQLite backend, which names columns instead of constraints).
FLAG_CONSTRAINT_FIELDS = (
    ("flags_pkey", "flag"),
    ("projects_pkey", "project"),
    ("environments_pkey", "environment"),
    ("rules_pkey", "rule"),
)
FLAG_UNIQUE_COLUMNS = {
    "flags.tenant, flags.name": "flag",
    "projects.tenant, projects.id": "project",
    "environments.tenant, environments.name": "environment",
    "rules.tenant, rules.id": "rule",
}
FLAG_CONFLICT_MESSAGES = {
    "flag": "a flag with this name already exists",
    "project": "a project with this id already exists",
    "environment": "an environment with this name already exists",
    "rule": "a rule with this id already exists",
}

SEGMENT_IN_USE = "the segment is used by at least one flag rule; remove it from every rule first"
# Foreign key -> the kind of row it points at.
_FK_TARGETS = {
    "rule_segments_segment_fkey": "segment",
    "rule_segments_rule_fkey": "rule",
    "rules_flag_fkey": "flag",
    "rules_environment_fkey": "environment",
    "flag_environments_flag_fkey": "flag",
    "flag_environments_environment_fkey": "environment",
    "flags_project_fkey": "project",
    "confidence_rules_segment_fkey": "segment",
    "confidence_rules_flag_fkey": "flag",
    "confidence_variants_flag_fkey": "flag",
    "confidence_flag_clients_flag_fkey": "flag",
    "confidence_flag_clients_client_fkey": "client",
    "confidence_credentials_client_fkey": "client",
}


def foreign_key_error(constraint: str, *, deleting: bool) -> CoreError:
    """The core error for a foreign key violation: removing a referenced row is ``InUse``;
    inserting a reference to a row that is gone (a concurrent delete won) is ``NotFound``."""
    target = _FK_TARGETS.get(constraint, "resource")
    if deleting:
        return InUse(SEGMENT_IN_USE if target == "segment" else f"the {target} is in use")
    return NotFound(target, "", f"the {target} does not exist (any more)")


def _flag(row: Row, enabled: dict[str, bool]) -> Flag:
    return Flag(
        tenant=row["tenant"],
        name=row["name"],
        project=row["project"],
        type=row["type"],
        description=row["description"],
        enabled=enabled,
        archived=bool(row["archived"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        created_by=row["created_by"],
        version=row["version"],
        extensions=_dict_dec.decode(row["extensions"]),
    )


def _rule(row: Row, segments: Sequence[str]) -> Rule:
    return Rule(
        id=row["id"],
        tenant=row["tenant"],
        flag=row["flag"],
        environment=row["environment"],
        sort_order=row["sort_order"],
        payload=_dict_dec.decode(row["payload"]),
        segments=tuple(segments),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        created_by=row["created_by"],
        version=row["version"],
    )


def _findable(kind: str, value: str) -> None:
    """A key no row can hold (NUL: PostgreSQL text refuses it) is simply not found."""
    if "\x00" in value:
        raise NotFound(kind, value.replace("\x00", "\\0"))


class FlagSql(SqlBase):
    """Store operations on projects, environments, flags and rules (see the protocol)."""

    async def _seed_tenant(self, tx: Tx, tenant: str) -> None:
        """Every tenant has the default project and environments (idempotent)."""
        await tx.execute(
            "INSERT INTO projects (tenant, id, name, created_at) VALUES ($1, $2, 'Default', $3) "
            "ON CONFLICT DO NOTHING",
            tenant,
            DEFAULT_PROJECT,
            now_us(),
        )
        for name, kind, order in DEFAULT_ENVIRONMENTS:
            await tx.execute(
                "INSERT INTO environments (tenant, name, type, sort_order) "
                "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                tenant,
                name,
                kind,
                order,
            )

    # projects and environments -------------------------------------------------------------
    async def create_project(
        self, tenant: str, project_id: str, name: str, description: str | None = None
    ) -> Project:
        async with self._write() as tx:
            row = await tx.fetchrow(
                "INSERT INTO projects (tenant, id, name, description, created_at) "
                "VALUES ($1, $2, $3, $4, $5) RETURNING *",
                tenant,
                project_id,
                name,
                description,
                now_us(),
            )
        assert row is not None
        return Project(**dict(row))

    async def get_project(self, tenant: str, project_id: str) -> Project:
        _findable("project", project_id)
        async with self._read() as tx:
            row = await tx.fetchrow(
                "SELECT * FROM projects WHERE tenant = $1 AND id = $2", tenant, project_id
            )
        if row is None:
            raise NotFound("project", project_id)
        return Project(**dict(row))

    async def list_projects(self, tenant: str) -> list[Project]:
        async with self._read() as tx:
            rows = await tx.fetch("SELECT * FROM projects WHERE tenant = $1 ORDER BY id", tenant)
        return [Project(**dict(r)) for r in rows]

    async def list_environments(self, tenant: str) -> list[Environment]:
        async with self._read() as tx:
            rows = await tx.fetch(
                "SELECT * FROM environments WHERE tenant = $1 ORDER BY sort_order, name", tenant
            )
        return [Environment(**dict(r)) for r in rows]

    async def get_environment(self, tenant: str, name: str) -> Environment:
        _findable("environment", name)
        async with self._read() as tx:
            row = await tx.fetchrow(
                "SELECT * FROM environments WHERE tenant = $1 AND name = $2", tenant, name
            )
        if row is None:
            raise NotFound("environment", name)
        return Environment(**dict(row))

    # flags ---------------------------------------------------------------------------------
    async def create_flag(self, tenant: str, new: NewFlag, actor: str | None) -> Flag:
        now = now_us()
        async with self._write() as tx:
            await _require(tx, "projects", "id", tenant, new.project, "project")
            row = await tx.fetchrow(
                "INSERT INTO flags (tenant, name, project, type, description, archived, "
                "created_at, updated_at, created_by, version, extensions) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, 1, $9) RETURNING *",
                tenant,
                new.name,
                new.project,
                new.type,
                new.description,
                False,
                now,
                actor,
                dumps(new.extensions),
            )
        assert row is not None
        return _flag(row, {})

    async def get_flag(self, tenant: str, name: str) -> Flag:
        _findable("flag", name)
        flags = await self._flags(tenant, "name = $2", name)
        if not flags:
            raise NotFound("flag", name)
        return flags[0]

    async def list_flags(self, tenant: str, *, project: str | None = None) -> list[Flag]:
        if project is None:
            return await self._flags(tenant, "")
        return await self._flags(tenant, "project = $2", project)

    async def _flags(self, tenant: str, where: str, *args: Any) -> list[Flag]:
        cond = f"tenant = $1 AND {where}" if where else "tenant = $1"
        async with self._read() as tx:
            rows = await tx.fetch(f"SELECT * FROM flags WHERE {cond} ORDER BY name", tenant, *args)
            states = await tx.fetch(
                "SELECT flag, environment, enabled FROM flag_environments WHERE tenant = $1 "
                f"AND flag IN (SELECT name FROM flags WHERE {cond})",
                tenant,
                *args,
            )
        enabled: dict[str, dict[str, bool]] = {}
        for s in states:
            enabled.setdefault(s["flag"], {})[s["environment"]] = bool(s["enabled"])
        return [_flag(r, enabled.get(r["name"], {})) for r in rows]

    async def set_flag_enabled(
        self, tenant: str, name: str, environment: str, enabled: bool, actor: str | None
    ) -> Flag:
        async with self._write() as tx:
            # The update locks the flag's row, so an archive either commits first (and this
            # sees it) or waits for this commit: an archived flag is never turned on or off.
            row = await tx.fetchrow(
                "UPDATE flags SET version = version + 1, updated_at = $3 "
                "WHERE tenant = $1 AND name = $2 RETURNING archived",
                tenant,
                name,
                now_us(),
            )
            if row is None:
                raise NotFound("flag", name)
            if row["archived"]:
                raise Conflict("archived", "the flag is archived")
            await _require(tx, "environments", "name", tenant, environment, "environment")
            await tx.execute(
                "INSERT INTO flag_environments (tenant, flag, environment, enabled) "
                "VALUES ($1, $2, $3, $4) ON CONFLICT (tenant, flag, environment) "
                "DO UPDATE SET enabled = excluded.enabled",
                tenant,
                name,
                environment,
                enabled,
            )
        return await self.get_flag(tenant, name)

    async def set_flag_archived(
        self, tenant: str, name: str, archived: bool, actor: str | None, *, turn_off: bool = False
    ) -> Flag:
        # One transaction: a reader never sees the flag revived but still on somewhere.
        async with self._write() as tx:
            row = await tx.fetchrow(
                "UPDATE flags SET archived = $3, version = version + 1, updated_at = $4 "
                "WHERE tenant = $1 AND name = $2 RETURNING name",
                tenant,
                name,
                archived,
                now_us(),
            )
            if row is None:
                raise NotFound("flag", name)
            if turn_off:
                await tx.execute(
                    "UPDATE flag_environments SET enabled = $3 "
                    "WHERE tenant = $1 AND flag = $2 AND enabled = $4",
                    tenant,
                    name,
                    False,
                    True,
                )
        return await self.get_flag(tenant, name)

    async def delete_archived_flag(self, tenant: str, name: str) -> bool:
        # The condition is in the statement, so a revive racing this delete either wins (the
        # flag stays) or loses (it is gone with its rules): never an active flag deleted.
        async with self._write() as tx:
            row = await tx.fetchrow(
                "DELETE FROM flags WHERE tenant = $1 AND name = $2 AND archived = $3 "
                "RETURNING name",
                tenant,
                name,
                True,
            )
        return row is not None

    # rules ---------------------------------------------------------------------------------
    async def create_rule(self, tenant: str, new: NewRule, actor: str | None) -> Rule:
        now = now_us()
        rule_id = new_ulid()
        async with self._write() as tx:
            await _require(tx, "flags", "name", tenant, new.flag, "flag")
            await _require(tx, "environments", "name", tenant, new.environment, "environment")
            await tx.execute(
                "INSERT INTO rules (tenant, id, flag, environment, sort_order, payload, "
                "created_at, updated_at, created_by, version) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, 1)",
                tenant,
                rule_id,
                new.flag,
                new.environment,
                new.sort_order,
                dumps(new.payload),
                now,
                actor,
            )
            await _attach(tx, tenant, rule_id, new.segments, self._row_lock("SHARE"))
        return await self.get_rule(tenant, rule_id)

    async def get_rule(self, tenant: str, rule_id: str) -> Rule:
        _findable("rule", rule_id)
        rules = await self._rules(tenant, "id = $2", rule_id)
        if not rules:
            raise NotFound("rule", rule_id)
        return rules[0]

    async def list_rules(
        self, tenant: str, *, flag: str | None = None, environment: str | None = None
    ) -> list[Rule]:
        conds: list[str] = []
        args: list[Any] = []
        for column, value in (("flag", flag), ("environment", environment)):
            if value is not None:
                args.append(value)
                conds.append(f"{column} = ${len(args) + 1}")
        return await self._rules(tenant, " AND ".join(conds), *args)

    async def _rules(self, tenant: str, where: str, *args: Any) -> list[Rule]:
        cond = f"tenant = $1 AND {where}" if where else "tenant = $1"
        async with self._read() as tx:
            rows = await tx.fetch(
                f"SELECT * FROM rules WHERE {cond} ORDER BY flag, environment, sort_order, id",
                tenant,
                *args,
            )
            links = await tx.fetch(
                "SELECT rule_id, segment_id FROM rule_segments WHERE tenant = $1 "
                f"AND rule_id IN (SELECT id FROM rules WHERE {cond}) ORDER BY rule_id, position",
                tenant,
                *args,
            )
        segments: dict[str, list[str]] = {}
        for link in links:
            segments.setdefault(link["rule_id"], []).append(link["segment_id"])
        return [_rule(r, segments.get(r["id"], [])) for r in rows]

    async def update_rule(
        self, tenant: str, rule_id: str, patch: RulePatch, actor: str | None
    ) -> Rule:
        sets = ["version = version + 1", "updated_at = $3"]
        args: list[Any] = [tenant, rule_id, now_us()]
        if not isinstance(patch.sort_order, msgspec.UnsetType):
            args.append(patch.sort_order)
            sets.append(f"sort_order = ${len(args)}")
        if not isinstance(patch.payload, msgspec.UnsetType):
            args.append(dumps(patch.payload))
            sets.append(f"payload = ${len(args)}")
        async with self._write() as tx:
            row = await tx.fetchrow(
                f"UPDATE rules SET {', '.join(sets)} WHERE tenant = $1 AND id = $2 RETURNING id",
                *args,
            )
            if row is None:
                raise NotFound("rule", rule_id)
            if not isinstance(patch.segments, msgspec.UnsetType):
                await tx.execute(
                    "DELETE FROM rule_segments WHERE tenant = $1 AND rule_id = $2",
                    tenant,
                    rule_id,
                )
                await _attach(tx, tenant, rule_id, patch.segments, self._row_lock("SHARE"))
        return await self.get_rule(tenant, rule_id)

    async def delete_rule(self, tenant: str, rule_id: str) -> None:
        async with self._write() as tx:
            row = await tx.fetchrow(
                "DELETE FROM rules WHERE tenant = $1 AND id = $2 RETURNING id", tenant, rule_id
            )
        if row is None:
            raise NotFound("rule", rule_id)

    # segments as rules see them ------------------------------------------------------------
    async def segment_uses(self, tenant: str, segment_id: str) -> list[SegmentUse]:
        async with self._read() as tx:
            rows = await tx.fetch(
                "SELECT r.id, f.project, f.archived FROM rule_segments rs "
                "JOIN rules r ON r.tenant = rs.tenant AND r.id = rs.rule_id "
                "JOIN flags f ON f.tenant = r.tenant AND f.name = r.flag "
                "WHERE rs.tenant = $1 AND rs.segment_id = $2 ORDER BY r.id",
                tenant,
                segment_id,
            )
        uses = []
        for row in rows:
            rule = await self.get_rule(tenant, row["id"])
            archived = bool(row["archived"])
            uses.append(SegmentUse(rule=rule, project=row["project"], archived=archived))
        return uses

    async def segment_usage(self, tenant: str) -> dict[str, tuple[int, int]]:
        async with self._read() as tx:
            rows = await tx.fetch(
                "SELECT rs.segment_id, count(DISTINCT f.project) AS projects, "
                "count(DISTINCT f.name) AS flags FROM rule_segments rs "
                "JOIN rules r ON r.tenant = rs.tenant AND r.id = rs.rule_id "
                "JOIN flags f ON f.tenant = r.tenant AND f.name = r.flag "
                "WHERE rs.tenant = $1 AND f.archived = $2 GROUP BY rs.segment_id",
                tenant,
                False,
            )
        return {r["segment_id"]: (int(r["projects"]), int(r["flags"])) for r in rows}

    async def find_segment_id(self, tenant: str, sandbox: str, name: str) -> str | None:
        if "\x00" in name:
            return None
        async with self._read() as tx:
            row = await tx.fetchrow(
                "SELECT id FROM segments WHERE tenant = $1 AND sandbox = $2 AND name = $3",
                tenant,
                sandbox,
                name,
            )
        return None if row is None else str(row["id"])

    async def flags_revision(self, tenant: str) -> str:
        async with self._read() as tx:
            row = await tx.fetchrow(_REVISION_SQL, tenant)
        assert row is not None
        return ":".join(str(row[k]) for k in row.keys())  # noqa: SIM118 - sqlite3.Row


# Every write to these tables changes one of these numbers: a create adds a row (and a seq), an
# update bumps a version and updated_at, a delete removes a row.
_REVISION_SQL = (
    "SELECT "
    + ", ".join(
        f"(SELECT {expr} FROM {table} WHERE tenant = $1) AS {table}_{name}"
        for table in ("segments", "flags", "rules")
        for name, expr in (
            ("n", "count(*)"),
            ("v", "COALESCE(sum(version), 0)"),
            ("t", "COALESCE(max(updated_at), 0)"),
        )
    )
    + ", (SELECT COALESCE(max(seq), 0) FROM segments WHERE tenant = $1) AS segments_seq"
)


async def _require(tx: Tx, table: str, column: str, tenant: str, value: str, kind: str) -> None:
    _findable(kind, value)
    row = await tx.fetchrow(
        f"SELECT 1 AS one FROM {table} WHERE tenant = $1 AND {column} = $2", tenant, value
    )
    if row is None:
        raise NotFound(kind, value)


async def _attach(tx: Tx, tenant: str, rule_id: str, segment_ids: Sequence[str], lock: str) -> None:
    """Link a rule to segments, all or nothing, once :func:`core.store.segment_refs.lock_usable`
    found every one usable (and locked it until commit)."""
    ids = list(await lock_usable(tx, tenant, segment_ids, lock))
    for position, segment_id in enumerate(ids):
        await tx.execute(
            "INSERT INTO rule_segments (tenant, rule_id, segment_id, position) "
            "VALUES ($1, $2, $3, $4)",
            tenant,
            rule_id,
            segment_id,
            position,
        )
