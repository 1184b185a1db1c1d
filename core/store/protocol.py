"""The store protocol: everything the use cases need from persistence.

Two backends implement it (``sqlite`` and ``postgres``) and pass one contract suite
(``tests/store``). Rules the protocol promises, whatever the backend:

* Every call is scoped by tenant; no call returns or changes another tenant's rows.
* Uniqueness (segment name per tenant+sandbox, seq and slug per tenant, token hash) is enforced by
  the database, never by read-then-write; a violation raises ``Conflict(field)``.
* Every write bumps ``version`` and ``updated_at`` in the same statement.
* A lost connection raises ``Unavailable``; driver errors never leak out.
* A segment a rule uses — an Unleash strategy's or a Confidence rule's — cannot be deleted
  (``InUse``): a foreign key says so, so an attach racing a delete never leaves a rule pointing
  at a deleted segment; nor archived (``change_allocation`` counts both kinds of rule under the
  segment's row lock, and every attach holds a share lock on it until commit).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, Protocol

from core.confidence_model import ClientCredential, ConfidenceClient, ConfidenceFlag
from core.expr.ast import Expr
from core.expr.sql_refs import SqlRefs
from core.model import (
    Environment,
    ExtensionTest,
    Flag,
    NewFlag,
    NewRule,
    NewSegment,
    Page,
    Principal,
    Profile,
    ProfilePage,
    ProfileSort,
    Project,
    Rule,
    RulePatch,
    Segment,
    SegmentPatch,
    SegmentRoom,
    SegmentToUpdate,
    SegmentUse,
    Sort,
    Tenant,
    TokenInfo,
)
from core.store.allocation import Conflicts, Decide
from core.store.backup import Membership, TenantBackup
from core.store.base import StoreCounts
from core.store.confidence_flags import ChangeFlag
from core.store.migrations import SchemaStatus
from core.store.revisions import Freshness

SegmentKey = Literal["id", "seq", "slug"]


class Store(Protocol):
    url: str

    async def close(self) -> None:
        """Release connections. The store is unusable afterwards."""

    async def ping(self) -> None:
        """Return when the database answers; raise ``Unavailable`` otherwise."""

    async def migrate(self) -> list[str]:
        """Apply the pending migrations, one process at a time (the others wait, then find
        nothing pending); return the versions applied. ``SchemaTooNew`` for a store a later
        segmux upgraded, before anything is changed."""

    async def schema_status(self) -> SchemaStatus:
        """The migrations the store holds against the ones this code knows (it reads, never
        migrates: a store opened with ``migrate=False`` may be behind or ahead)."""

    # tenants -------------------------------------------------------------------------------
    async def ensure_tenant(self, name: str) -> Tenant:
        """Create the tenant (default sandbox ``prod``) unless it exists; return it."""

    async def get_tenant(self, name: str) -> Tenant:
        """The tenant, or ``NotFound``."""

    async def update_tenant_settings(self, name: str, settings: dict[str, object]) -> Tenant:
        """Merge ``settings`` into the tenant's settings."""

    # tokens --------------------------------------------------------------------------------
    async def add_token(
        self, *, token_hash: str, tenant: str, scope: str, name: str, client_id: str | None = None
    ) -> TokenInfo:
        """Store a token by its hash (the secret itself is never stored)."""

    async def principal_for(self, token_hash: str) -> Principal | None:
        """Who holds the token with this hash, or None."""

    async def list_tokens(self, tenant: str | None = None) -> list[TokenInfo]:
        """Stored tokens (without secrets), optionally of one tenant, oldest first."""

    async def revoke_token(self, token_id: str) -> None:
        """Delete a token by its id; ``NotFound`` if there is none."""

    async def count_tokens(self) -> int:
        """How many tokens exist (all tenants): start-up uses it to seed a first one."""

    # segments ------------------------------------------------------------------------------
    async def create_segment(self, tenant: str, new: NewSegment, actor: str | None) -> Segment:
        """Insert a segment. ``seq``/``slug``/``id`` are generated unless given; a given ``seq``
        moves the tenant's sequence above it. ``Conflict("name"|"seq"|"slug"|"id")``."""

    async def get_segment(self, tenant: str, key: SegmentKey, value: str | int) -> Segment:
        """One segment by id (UUID), seq or slug; ``NotFound`` otherwise."""

    async def list_segments(
        self,
        tenant: str,
        *,
        sandbox: str | None,
        offset: int = 0,
        limit: int = 100,
        sort: tuple[Sort, ...] = (),
    ) -> Page:
        """A page of segments (all sandboxes when ``sandbox`` is None), ordered by ``sort`` and
        then by id, with the total count of matching rows."""

    async def update_segment(
        self,
        tenant: str,
        segment_id: str,
        patch: SegmentPatch,
        actor: str | None,
        *,
        if_version: int | None = None,
    ) -> Segment:
        """Apply ``patch``; bump version and ``updated_at``. With ``if_version``, refuse with
        ``Conflict("version")`` when the stored version differs. ``NotFound``, ``Conflict``."""

    async def delete_segment(self, tenant: str, segment_id: str) -> None:
        """Delete a segment; ``NotFound`` if it does not exist."""

    async def count_segments(self, tenant: str, sandbox: str | None = None) -> int:
        """How many segments the tenant has (in one sandbox, or in all)."""

    async def segment_room(self, tenant: str) -> SegmentRoom:
        """The tenant and a bound on its segments, in one primary-key read; ``NotFound``
        without the tenant. Whether a name is taken is left to the insert (its unique key)."""

    async def segment_to_update(self, tenant: str, seq: int) -> SegmentToUpdate:
        """The tenant and its segment of ``seq`` (in any sandbox), in one read; ``NotFound``
        without the tenant. Whether a new name is taken is left to the update (its unique
        key)."""

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

    # change detection for caches (see core.store.revisions and core.cache) ------------------
    async def tenant_revision(self, tenant: str) -> int:
        """A number that grows with every committed write (by any process) to the tenant's
        segments, bitsets, projects, environments, flags, rules or settings; 0 before the
        first. One indexed read."""

    freshness: Freshness
    """``strict`` or ``notify``: see ``core.store.revisions`` (settable; SQLite stays strict)."""

    def known_revision(self, tenant: str) -> int | None:
        """The tenant's current revision when this process knows it without a read (``notify``
        freshness while listening; SQLite: read since the file's last commit), else None."""

    counts: StoreCounts
    """Errors by kind and revision announcements, counted for the metrics (``gateway.metrics``)."""

    def connections(self) -> tuple[int, int]:
        """The store's connections now, (in use, idle): PostgreSQL's pool; SQLite's reader
        connections and its one writer."""

    async def token_epoch(self) -> int | None:
        """A number that changes whenever a token may have been revoked or changed, by any
        process, without a query; None when this process cannot tell (callers must then not
        use cached token lookups)."""

    # profiles (HAL's individuals) and static memberships ------------------------------------
    async def create_profile(
        self, tenant: str, sandbox: str, identifier: str, attributes: dict[str, Any]
    ) -> Profile:
        """Insert a profile; ``Conflict("identifier")`` if the sandbox has one with this
        identifier, ``NotFound("tenant")``."""

    async def get_profile(self, tenant: str, sandbox: str, identifier: str) -> Profile:
        """One profile, or ``NotFound("individual")``."""

    async def replace_profile(
        self, tenant: str, sandbox: str, identifier: str, attributes: dict[str, Any]
    ) -> Profile:
        """Replace the attributes; bump version and ``updated_at``. ``NotFound``."""

    async def delete_profile(self, tenant: str, sandbox: str, identifier: str) -> None:
        """Delete a profile and its memberships; ``NotFound`` if there is none."""

    async def list_profiles(
        self,
        tenant: str,
        sandbox: str,
        *,
        where: Sequence[Expr] = (),
        member_of: str | None = None,
        offset: int = 0,
        limit: int = 100,
        sort: Sequence[ProfileSort] = (),
        refs: SqlRefs | None = None,
    ) -> ProfilePage:
        """A page of the sandbox's profiles that satisfy every condition of ``where``
        (evaluated by the database; ``refs`` says what the segments its references name mean,
        ``core.expr.sql_refs``) and, with ``member_of``, are stored members of that
        segment; ordered by ``sort`` then identifier (default: creation, then identifier), with
        the total count. One query for the page and its total; a page past the end (no row
        to carry the total) adds a count."""

    async def add_membership(self, tenant: str, segment_id: str, identifier: str) -> None:
        """Store a profile (of the segment's sandbox) as a member of a static segment; a
        repeated membership is a no-op. ``NotFound("segment"|"individual")``,
        ``Conflict("kind")`` when the segment is not static."""

    async def remove_membership(self, tenant: str, segment_id: str, identifier: str) -> None:
        """Remove a stored membership; ``NotFound("membership")`` if there is none."""

    async def segments_of_profile(
        self,
        tenant: str,
        sandbox: str,
        identifier: str,
        conditions: Mapping[str, Expr | None],
        refs: Mapping[str, SqlRefs] | None = None,
    ) -> set[str]:
        """Ids of the static segments the profile is a stored member of, and of the
        ``conditions`` (segment id -> condition, None = everyone) it satisfies, evaluated by the
        database (``refs``: per segment id, what its references mean; a condition the database
        cannot take is evaluated in Python with the same meaning). ``NotFound("individual")``."""

    async def static_memberships(self, tenant: str, identifier: str) -> set[str]:
        """Ids of the tenant's static segments (any sandbox) that hold a profile called
        ``identifier`` as a stored member; empty when there is none."""

    # Confidence allocation (bitsets of the 1,000,000 buckets; see core.store.allocation) ------
    async def create_segment_with_bitset(
        self, tenant: str, new: NewSegment, actor: str | None, bitset: int | None
    ) -> Segment:
        """``create_segment`` and the segment's bitset (None: none stored) in one transaction."""

    async def get_bitset(self, tenant: str, segment_id: str) -> bytes | None:
        """The stored 125,000-byte bitset of a segment, or None when none is stored."""

    async def allocated_union(
        self, tenant: str, conflicts: Callable[[Segment], bool], exclude: str | None = None
    ) -> int:
        """Union of the buckets of the tenant's ALLOCATED segments (but ``exclude``) that
        ``conflicts`` picks; a segment with no stored bitset holds every bucket."""

    async def change_allocation(
        self,
        tenant: str,
        segment_id: str,
        actor: str | None,
        decide: Decide,
        *,
        conflicts: Conflicts | None = None,
        with_uses: bool = False,
    ) -> Segment:
        """Read the segment, its bitset, with ``conflicts`` the union of its rivals' buckets and
        with ``with_uses`` the rules using it, call ``decide`` and write its change (state,
        patch, bitset; version and ``updated_at`` bumped) — all in one transaction that no
        other transition of the tenant interleaves with. An error ``decide`` raises rolls back
        everything. ``NotFound``, ``Conflict``."""

    # OAuth clients and their access tokens (Adobe IMS; see core.store.clients) -------------
    async def add_client_token(
        self,
        *,
        token_hash: str,
        tenant: str,
        scope: str,
        name: str,
        client_id: str,
        secret_hash: str,
    ) -> TokenInfo:
        """Store a token with a client id and the hash of the client's secret, in one
        transaction. ``Conflict("client_id")`` if the client id is taken."""

    async def check_client_secret(self, client_id: str, secret_hash: str) -> bool:
        """Whether a client with this id exists and its secret has this hash."""

    async def add_access_token(self, *, token_hash: str, client_id: str, expires_at: int) -> None:
        """Store an access token of a client (by hash), valid until ``expires_at`` (µs); drops
        expired ones. ``NotFound("client")``."""

    async def principal_for_access_token(self, token_hash: str, now: int) -> Principal | None:
        """Who an unexpired access token acts as (its client's token), or None."""

    # segment reads beyond the basics (see core.store.segment_queries) ----------------------
    async def get_segments(self, tenant: str, ids: Sequence[str]) -> list[Segment]:
        """The tenant's segments with these ids, in the order asked, each once; unknown ids
        are left out."""

    async def segments_after(
        self,
        tenant: str,
        *,
        after: tuple[int, str] | None,
        limit: int,
        name_contains: str | None = None,
    ) -> list[Segment]:
        """Keyset paging over the tenant's segments by ``(created_at, id)``, optionally only
        those whose name contains ``name_contains`` (case-insensitive)."""

    async def list_segments_where(
        self,
        tenant: str,
        *,
        sandbox: str | None,
        tests: Sequence[ExtensionTest],
        offset: int = 0,
        limit: int = 100,
        sort: tuple[Sort, ...] = (),
    ) -> Page:
        """``list_segments`` of the segments that pass every test."""

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

    # Confidence flags and clients (core.confidence_model; see core.store.confidence_flags) ---
    async def confidence_flags(self, tenant: str) -> list[ConfidenceFlag]:
        """Every Confidence flag of the tenant (any state) by id, each with its variants, its
        rules in evaluation order (``segment`` as ``segments/<slug>``) and its clients, read in
        one snapshot."""

    async def confidence_flag(self, tenant: str, flag_id: str) -> ConfidenceFlag:
        """One flag (``flags/<flag_id>``) as :meth:`confidence_flags` has it, or ``NotFound``."""

    async def create_confidence_flag(
        self, tenant: str, flag: ConfidenceFlag, *, sandbox: str | None = None
    ) -> ConfidenceFlag:
        """Insert the flag with its variants, rules and clients as given. Every rule's segment
        must exist (in ``sandbox`` when given) and not be ARCHIVED, every client must exist
        (``NotFound`` / ``Conflict("state")``), checked under locks that hold until commit;
        ``Conflict("confidence_flag")`` when the id is taken."""

    async def change_confidence_flag(
        self,
        tenant: str,
        flag_id: str,
        actor: str | None,
        change: ChangeFlag,
        *,
        sandbox: str | None = None,
    ) -> ConfidenceFlag:
        """Lock the flag, call ``change`` with it as stored and write what it returns (None or
        an equal flag: nothing), children and all, with version + 1, ``update_time`` now and
        ``updater`` ``actor``; the same checks as :meth:`create_confidence_flag`. One
        transaction: concurrent changes of a flag apply one after the other. ``NotFound``."""

    async def segment_flag_rules(self, tenant: str, segment_id: str) -> list[str]:
        """Names (``flags/<f>/rules/<r>``) of the Confidence rules that use the segment."""

    async def flags_using(
        self, tenant: str, segment_id: str | None = None
    ) -> dict[str, dict[str, list[str]]]:
        """Segment id -> API -> the flags whose rules use it (``unleash``: feature names,
        ``confidence``: ``flags/<id>``), sorted; only segments some rule uses. With
        ``segment_id``, that segment's entry alone."""

    async def restore_confidence_flag(self, flag: ConfidenceFlag) -> bool:
        """Insert the flag (of ``flag.tenant``) as it was; False when the id is taken. The
        checks of :meth:`create_confidence_flag` (any sandbox). For restoring a backup only."""

    async def confidence_clients(self, tenant: str) -> list[ConfidenceClient]:
        """The tenant's Confidence clients, oldest first, each with its credentials (never a
        secret: only its hash is stored)."""

    async def confidence_client(self, tenant: str, client_id: str) -> ConfidenceClient:
        """One client (``clients/<client_id>``) with its credentials, or ``NotFound``."""

    async def create_confidence_client(self, client: ConfidenceClient) -> ConfidenceClient:
        """Insert the client (its credentials are added one by one with
        :meth:`add_client_credential`); ``Conflict("confidence_client")``."""

    async def restore_confidence_client(self, client: ConfidenceClient) -> bool:
        """Insert the client without credentials; False when its id is taken."""

    async def delete_confidence_client(self, tenant: str, client_id: str) -> None:
        """Delete the client, its credentials and its place on every flag; ``NotFound``."""

    async def add_client_credential(
        self, tenant: str, client_id: str, credential: ClientCredential, secret_hash: str
    ) -> ClientCredential:
        """Store a credential of the client with the hash of its secret (the secret itself is
        never stored); ``NotFound("client")``, ``Conflict``."""

    async def delete_client_credential(
        self, tenant: str, client_id: str, credential_id: str
    ) -> None:
        """Delete one credential; ``NotFound``."""

    async def credential_by_secret_hash(
        self, secret_hash: str
    ) -> tuple[str, str, ClientCredential] | None:
        """(tenant, ``clients/<c>``, credential) of the credential whose secret has this hash
        (``core.tokens.hash_token``), over every tenant; None when there is none."""
