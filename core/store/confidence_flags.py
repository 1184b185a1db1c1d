"""Confidence's flags (variants, ordered rules, allowed clients) and its clients with their
credentials: the SQL both backends share, as a mixin of ``SqlStore``.

Each row holds its record of ``core.confidence_model`` as JSON (``body``); the columns beside it
are what the database itself must enforce: keys, order, the segment a rule uses (a foreign key
without ``ON DELETE``, so a segment in use cannot be deleted through any API), the clients a flag
names (a foreign key, so a deleted client leaves every flag) and a credential's secret hash
(unique). A flag is read with its children in one statement (one snapshot on PostgreSQL), and
written whole: :meth:`ConfidenceFlagSql.change_confidence_flag` locks the flag's row, hands the
flag as stored to a pure function of the core and writes what it returns, children and all, in
the same transaction — so two writers of one flag never lose each other's change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from core.confidence_model import (
    ClientCredential,
    ConfidenceClient,
    ConfidenceFlag,
    FlagRule,
    FlagVariant,
)
from core.errors import NotFound
from core.model import now_us
from core.store.base import Row, SqlBase, Tx
from core.store.rows import dumps
from core.store.segment_refs import lock_usable, placeholders

# Unique constraints of these tables, for Conflict(field). Listed before the other mixins'
# (core.store.sql.CONSTRAINT_FIELDS matches by substring, and "flags_pkey" is in
# "confidence_flags_pkey").
CONFIDENCE_CONSTRAINT_FIELDS = (
    ("confidence_flags_pkey", "confidence_flag"),
    ("confidence_variants_pkey", "confidence_variant"),
    ("confidence_rules_pkey", "confidence_rule"),
    ("confidence_clients_pkey", "confidence_client"),
    ("confidence_flag_clients_pkey", "confidence_flag_client"),
    ("confidence_credentials_pkey", "confidence_credential"),
    ("confidence_credentials_secret_key", "confidence_secret"),
)
CONFIDENCE_UNIQUE_COLUMNS = {
    "confidence_flags.tenant, confidence_flags.id": "confidence_flag",
    "confidence_variants.tenant, confidence_variants.flag, confidence_variants.id": (
        "confidence_variant"
    ),
    "confidence_rules.tenant, confidence_rules.flag, confidence_rules.id": "confidence_rule",
    "confidence_clients.tenant, confidence_clients.id": "confidence_client",
    (
        "confidence_flag_clients.tenant, confidence_flag_clients.flag, "
        "confidence_flag_clients.client"
    ): "confidence_flag_client",
    "confidence_credentials.tenant, confidence_credentials.client, confidence_credentials.id": (
        "confidence_credential"
    ),
    "confidence_credentials.secret_hash": "confidence_secret",
}
CONFIDENCE_CONFLICT_MESSAGES = {
    "confidence_flag": "a flag with this id already exists",
    "confidence_variant": "a variant with this name already exists in the flag",
    "confidence_rule": "a rule with this name already exists in the flag",
    "confidence_client": "a client with this name already exists",
    "confidence_flag_client": "the client is named twice",
    "confidence_credential": "a credential with this name already exists",
    "confidence_secret": "this secret is taken",
}

FLAG_PREFIX = "flags/"
CLIENT_PREFIX = "clients/"
SEGMENT_PREFIX = "segments/"

ChangeFlag = Callable[[ConfidenceFlag], ConfidenceFlag | None]
"""The core's rule for one write: the new flag, or None (nothing to write)."""

_flag_dec = msgspec.json.Decoder(ConfidenceFlag)
_variant_dec = msgspec.json.Decoder(FlagVariant)
_client_dec = msgspec.json.Decoder(ConfidenceClient)
_credential_dec = msgspec.json.Decoder(ClientCredential)
_rule_dec = msgspec.json.Decoder(FlagRule)


def last_id(name: str) -> str:
    """The last id of a resource name (``flags/f/rules/r`` -> ``r``)."""
    return name.rsplit("/", 1)[-1]


def _flag_sql(*, one: bool) -> str:
    """The tenant's flags (``one``: flag ``$2``) with their children, as rows ``(kind, flag, id,
    position, body, segment)``: one statement, so one snapshot."""

    def where(flag_column: str, alias: str = "") -> str:
        cond = f"{alias}tenant = $1"
        return f"{cond} AND {alias}{flag_column} = $2" if one else cond

    return (
        "SELECT 0 AS kind, id AS flag, '' AS id, 0 AS position, body, '' AS segment "
        f"FROM confidence_flags WHERE {where('id')} "
        "UNION ALL SELECT 1, flag, id, position, body, '' FROM confidence_variants "
        f"WHERE {where('flag')} "
        "UNION ALL SELECT 2, r.flag, r.id, r.position, r.body, s.slug FROM confidence_rules r "
        "JOIN segments s ON s.tenant = r.tenant AND s.id = r.segment_id "
        f"WHERE {where('flag', 'r.')} "
        "UNION ALL SELECT 3, flag, client, position, '', '' FROM confidence_flag_clients "
        f"WHERE {where('flag')}"
    )


_ALL_FLAGS = _flag_sql(one=False)
_ONE_FLAG = _flag_sql(one=True)


def _assemble(tenant: str, rows: Sequence[Row]) -> list[ConfidenceFlag]:
    """Flags (by id) from the rows of :func:`_flag_sql`, children in their stored order."""
    flags: dict[str, ConfidenceFlag] = {}
    children: dict[str, dict[int, list[tuple[int, str, Any]]]] = {}
    for row in rows:
        kind, flag = int(row["kind"]), str(row["flag"])
        if kind == 0:
            flags[flag] = _flag_dec.decode(row["body"])
            continue
        item: Any
        if kind == 1:
            item = _variant_dec.decode(row["body"])
        elif kind == 2:
            rule = _rule_dec.decode(row["body"])
            item = msgspec.structs.replace(rule, segment=SEGMENT_PREFIX + row["segment"])
        else:
            item = CLIENT_PREFIX + row["id"]
        bucket = children.setdefault(flag, {}).setdefault(kind, [])
        bucket.append((int(row["position"]), str(row["id"]), item))
    out = []
    for flag_id in sorted(flags):
        kids = children.get(flag_id, {})

        def ordered(
            kind: int, kids: dict[int, list[tuple[int, str, Any]]] = kids
        ) -> tuple[Any, ...]:
            return tuple(item for _, _, item in sorted(kids.get(kind, []), key=lambda k: k[:2]))

        out.append(
            msgspec.structs.replace(
                flags[flag_id],
                tenant=tenant,
                variants=ordered(1),
                rules=ordered(2),
                clients=ordered(3),
            )
        )
    return out


class ConfidenceFlagSql(SqlBase):
    """Store operations on Confidence flags and clients (see ``core.store.protocol``)."""

    # flags ---------------------------------------------------------------------------------
    async def confidence_flags(self, tenant: str) -> list[ConfidenceFlag]:
        async with self._read() as tx:
            rows = await tx.fetch(_ALL_FLAGS, tenant)
        return _assemble(tenant, rows)

    async def confidence_flag(self, tenant: str, flag_id: str) -> ConfidenceFlag:
        async with self._read() as tx:
            rows = await tx.fetch(_ONE_FLAG, tenant, flag_id)
        found = _assemble(tenant, rows)
        if not found:
            raise NotFound("flag", FLAG_PREFIX + flag_id)
        return found[0]

    async def create_confidence_flag(
        self, tenant: str, flag: ConfidenceFlag, *, sandbox: str | None = None
    ) -> ConfidenceFlag:
        async with self._write() as tx:
            await self._write_flag(tx, tenant, flag, sandbox=sandbox, insert=True)
            rows = await tx.fetch(_ONE_FLAG, tenant, last_id(flag.name))
        return _assemble(tenant, rows)[0]

    async def change_confidence_flag(
        self,
        tenant: str,
        flag_id: str,
        actor: str | None,
        change: ChangeFlag,
        *,
        sandbox: str | None = None,
    ) -> ConfidenceFlag:
        async with self._write() as tx:
            locked = await tx.fetchrow(
                "SELECT version FROM confidence_flags WHERE tenant = $1 AND id = $2"
                + self._row_lock("UPDATE"),
                tenant,
                flag_id,
            )
            if locked is None:
                raise NotFound("flag", FLAG_PREFIX + flag_id)
            current = _assemble(tenant, await tx.fetch(_ONE_FLAG, tenant, flag_id))[0]
            changed = change(current)
            if changed is None or changed == current:
                return current
            stamped = msgspec.structs.replace(
                changed,
                name=current.name,
                tenant=tenant,
                version=current.version + 1,
                update_time=now_us(),
                updater=actor,
            )
            await self._write_flag(tx, tenant, stamped, sandbox=sandbox, insert=False)
            rows = await tx.fetch(_ONE_FLAG, tenant, flag_id)
        return _assemble(tenant, rows)[0]

    async def _write_flag(
        self, tx: Tx, tenant: str, flag: ConfidenceFlag, *, sandbox: str | None, insert: bool
    ) -> None:
        """The flag's row and all its children as ``flag`` has them. Every segment and client
        it names is checked (and locked on PostgreSQL) first, so a missing one is ``NotFound``
        on both backends rather than a foreign key error."""
        flag_id = last_id(flag.name)
        share = self._row_lock("SHARE")
        slugs = [rule.segment.removeprefix(SEGMENT_PREFIX) for rule in flag.rules]
        segment_ids = await lock_usable(tx, tenant, slugs, share, key="slug", sandbox=sandbox)
        clients = [last_id(c) for c in flag.clients]
        await _lock_clients(tx, tenant, clients, share)
        body = dumps(msgspec.structs.replace(flag, variants=(), rules=(), clients=()))
        if insert:
            await tx.execute(
                "INSERT INTO confidence_flags (tenant, id, state, version, body) "
                "VALUES ($1, $2, $3, $4, $5)",
                tenant,
                flag_id,
                flag.state,
                flag.version,
                body,
            )
        else:
            await tx.execute(
                "UPDATE confidence_flags SET state = $3, version = $4, body = $5 "
                "WHERE tenant = $1 AND id = $2",
                tenant,
                flag_id,
                flag.state,
                flag.version,
                body,
            )
            for table in ("confidence_variants", "confidence_rules", "confidence_flag_clients"):
                await tx.execute(
                    f"DELETE FROM {table} WHERE tenant = $1 AND flag = $2", tenant, flag_id
                )
        for position, variant in enumerate(flag.variants):
            await tx.execute(
                "INSERT INTO confidence_variants (tenant, flag, id, position, body) "
                "VALUES ($1, $2, $3, $4, $5)",
                tenant,
                flag_id,
                last_id(variant.name),
                position,
                dumps(variant),
            )
        for position, (rule, slug) in enumerate(zip(flag.rules, slugs, strict=True)):
            await tx.execute(
                "INSERT INTO confidence_rules (tenant, flag, id, position, segment_id, body) "
                "VALUES ($1, $2, $3, $4, $5, $6)",
                tenant,
                flag_id,
                last_id(rule.name),
                position,
                segment_ids[slug],
                dumps(rule),
            )
        for position, client in enumerate(clients):
            await tx.execute(
                "INSERT INTO confidence_flag_clients (tenant, flag, client, position) "
                "VALUES ($1, $2, $3, $4)",
                tenant,
                flag_id,
                client,
                position,
            )

    async def segment_flag_rules(self, tenant: str, segment_id: str) -> list[str]:
        async with self._read() as tx:
            rows = await tx.fetch(
                "SELECT flag, id FROM confidence_rules WHERE tenant = $1 AND segment_id = $2",
                tenant,
                segment_id,
            )
        return sorted(f"{FLAG_PREFIX}{r['flag']}/rules/{r['id']}" for r in rows)

    async def flags_using(
        self, tenant: str, segment_id: str | None = None
    ) -> dict[str, dict[str, list[str]]]:
        where, args = "tenant = $1", [tenant]
        if segment_id is not None:
            where, args = "tenant = $1 AND segment_id = $2", [tenant, segment_id]
        async with self._read() as tx:
            rows = await tx.fetch(
                "SELECT rs.segment_id AS segment, r.flag AS flag, 'unleash' AS api "
                "FROM rule_segments rs JOIN rules r ON r.tenant = rs.tenant AND r.id = rs.rule_id "
                f"WHERE rs.{where.replace(' AND ', ' AND rs.')} UNION ALL "
                f"SELECT segment_id, '{FLAG_PREFIX}' || flag, 'confidence' FROM confidence_rules "
                f"WHERE {where}",
                *args,
            )
        found: dict[str, dict[str, set[str]]] = {}
        for row in rows:
            apis = found.setdefault(str(row["segment"]), {})
            apis.setdefault(str(row["api"]), set()).add(str(row["flag"]))
        return {s: {api: sorted(f) for api, f in apis.items()} for s, apis in found.items()}

    async def restore_confidence_flag(self, flag: ConfidenceFlag) -> bool:
        async with self._write() as tx:
            exists = await tx.fetchrow(
                "SELECT 1 AS one FROM confidence_flags WHERE tenant = $1 AND id = $2",
                flag.tenant,
                last_id(flag.name),
            )
            if exists is not None:
                return False
            await self._write_flag(tx, flag.tenant, flag, sandbox=None, insert=True)
        return True

    # clients -------------------------------------------------------------------------------
    async def confidence_clients(self, tenant: str) -> list[ConfidenceClient]:
        return await self._clients(tenant, None)

    async def confidence_client(self, tenant: str, client_id: str) -> ConfidenceClient:
        found = await self._clients(tenant, client_id)
        if not found:
            raise NotFound("client", CLIENT_PREFIX + client_id)
        return found[0]

    async def _clients(self, tenant: str, client_id: str | None) -> list[ConfidenceClient]:
        where = "tenant = $1" if client_id is None else "tenant = $1 AND {c} = $2"
        args = [tenant] if client_id is None else [tenant, client_id]
        async with self._read() as tx:
            rows = await tx.fetch(
                f"SELECT 0 AS kind, id AS client, '' AS id, body FROM confidence_clients "
                f"WHERE {where.format(c='id')} UNION ALL "
                "SELECT 1, client, id, body FROM confidence_credentials "
                f"WHERE {where.format(c='client')}",
                *args,
            )
        clients: dict[str, ConfidenceClient] = {}
        credentials: dict[str, list[tuple[int, str, ClientCredential]]] = {}
        for row in rows:
            if int(row["kind"]) == 0:
                clients[str(row["client"])] = _client_dec.decode(row["body"])
            else:
                credential = _credential_dec.decode(row["body"])
                credentials.setdefault(str(row["client"]), []).append(
                    (credential.create_time, str(row["id"]), credential)
                )
        return [
            msgspec.structs.replace(
                clients[c],
                tenant=tenant,
                credentials=tuple(k for *_, k in sorted(credentials.get(c, []), key=_by_time)),
            )
            for c in sorted(clients, key=lambda c: (clients[c].create_time, c))
        ]

    async def create_confidence_client(self, client: ConfidenceClient) -> ConfidenceClient:
        async with self._write() as tx:
            await tx.execute(
                "INSERT INTO confidence_clients (tenant, id, body) VALUES ($1, $2, $3)",
                client.tenant,
                last_id(client.name),
                dumps(msgspec.structs.replace(client, credentials=())),
            )
        return await self.confidence_client(client.tenant, last_id(client.name))

    async def restore_confidence_client(self, client: ConfidenceClient) -> bool:
        """The client without its credentials (their secrets are never exported)."""
        async with self._write() as tx:
            exists = await tx.fetchrow(
                "SELECT 1 AS one FROM confidence_clients WHERE tenant = $1 AND id = $2",
                client.tenant,
                last_id(client.name),
            )
            if exists is not None:
                return False
            await tx.execute(
                "INSERT INTO confidence_clients (tenant, id, body) VALUES ($1, $2, $3)",
                client.tenant,
                last_id(client.name),
                dumps(msgspec.structs.replace(client, credentials=())),
            )
        return True

    async def delete_confidence_client(self, tenant: str, client_id: str) -> None:
        async with self._write() as tx:
            row = await tx.fetchrow(
                "DELETE FROM confidence_clients WHERE tenant = $1 AND id = $2 RETURNING id",
                tenant,
                client_id,
            )
        if row is None:
            raise NotFound("client", CLIENT_PREFIX + client_id)

    async def add_client_credential(
        self, tenant: str, client_id: str, credential: ClientCredential, secret_hash: str
    ) -> ClientCredential:
        async with self._write() as tx:
            await _lock_clients(tx, tenant, [client_id], self._row_lock("SHARE"))
            await tx.execute(
                "INSERT INTO confidence_credentials (tenant, client, id, secret_hash, body) "
                "VALUES ($1, $2, $3, $4, $5)",
                tenant,
                client_id,
                last_id(credential.name),
                secret_hash,
                dumps(credential),
            )
        return credential

    async def delete_client_credential(
        self, tenant: str, client_id: str, credential_id: str
    ) -> None:
        async with self._write() as tx:
            row = await tx.fetchrow(
                "DELETE FROM confidence_credentials WHERE tenant = $1 AND client = $2 AND id = $3 "
                "RETURNING id",
                tenant,
                client_id,
                credential_id,
            )
        if row is None:
            raise NotFound("credential", f"{CLIENT_PREFIX}{client_id}/credentials/{credential_id}")

    async def credential_by_secret_hash(
        self, secret_hash: str
    ) -> tuple[str, str, ClientCredential] | None:
        async with self._read() as tx:
            row = await tx.fetchrow(
                "SELECT tenant, client, body FROM confidence_credentials WHERE secret_hash = $1",
                secret_hash,
            )
        if row is None:
            return None
        credential = _credential_dec.decode(row["body"])
        return str(row["tenant"]), CLIENT_PREFIX + str(row["client"]), credential


def _by_time(item: tuple[int, str, ClientCredential]) -> tuple[int, str]:
    return item[0], item[1]


async def _lock_clients(tx: Tx, tenant: str, client_ids: Sequence[str], lock: str) -> None:
    """Every client exists (``NotFound`` otherwise), locked against a concurrent delete until
    commit on PostgreSQL (SQLite serialises writes)."""
    wanted = list(dict.fromkeys(client_ids))
    if not wanted:
        return
    rows = await tx.fetch(
        f"SELECT id FROM confidence_clients WHERE tenant = $1 AND id IN "
        f"({placeholders(2, len(wanted))}) ORDER BY id{lock}",
        tenant,
        *wanted,
    )
    found = {str(r["id"]) for r in rows}
    for client_id in wanted:
        if client_id not in found:
            raise NotFound("client", CLIENT_PREFIX + client_id)
