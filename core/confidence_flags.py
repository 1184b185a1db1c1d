"""Confidence's flags admin use cases: flags with their variants and ordered rules, and the
clients (with credentials) allowed to resolve them.

The rules live here, whatever API writes: resource ids, a flag's value schema and every variant
value checked against it, a rule's segment (any segment of the tenant, whichever API made it;
the store refuses a missing or archived one under a lock), assignments that name variants of
the same flag over disjoint bucket ranges, and bounds on everything. A write hands the store a
function from the flag as stored to the flag as it should be (``Store.change_confidence_flag``),
and every such function ends in :func:`check_flag`, so no write can leave a flag that breaks a
rule (a schema change that a variant no longer fits, a deleted variant a rule still assigns).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import msgspec

from core.confidence_model import (
    Assignment,
    ClientCredential,
    ConfidenceClient,
    ConfidenceFlag,
    FlagRule,
    FlagVariant,
)
from core.confidence_rules import (
    CLIENT_PREFIX,
    FLAG_PREFIX,
    MAX_ENVIRONMENTS,
    MAX_TEXT,
    _check_labels,
    check_flag,
    check_id,
    child_id,
    client_id_of,
    new_id,
    new_secret,
)
from core.errors import Conflict, InUse, Invalid, NotFound
from core.model import Principal, now_us
from core.service import check_text, require_admin
from core.store import Store
from core.tokens import hash_token

# --- patches -------------------------------------------------------------------------------

Unset = msgspec.UnsetType
UNSET = msgspec.UNSET


class FlagPatch(msgspec.Struct, frozen=True, kw_only=True):
    """The fields of a flag an update may set (UNSET: unchanged)."""

    description: str | Unset = UNSET
    schema: dict[str, Any] | Unset = UNSET
    labels: dict[str, str] | Unset = UNSET
    owner: str | Unset = UNSET
    clients: tuple[str, ...] | Unset = UNSET
    rule_order: tuple[str, ...] | Unset = UNSET
    """Every rule of the flag by name, each once, in the new evaluation order."""


class VariantPatch(msgspec.Struct, frozen=True, kw_only=True):
    value: dict[str, Any] | Unset = UNSET
    description: str | Unset = UNSET
    labels: dict[str, str] | Unset = UNSET


class FlagRulePatch(msgspec.Struct, frozen=True, kw_only=True):
    segment: str | Unset = UNSET
    targeting_key_selector: str | Unset = UNSET
    enabled: bool | Unset = UNSET
    environments: tuple[str, ...] | Unset = UNSET
    bucket_count: int | Unset = UNSET
    assignments: tuple[Assignment, ...] | Unset = UNSET
    labels: dict[str, str] | Unset = UNSET
    materialization_spec: dict[str, Any] | Unset = UNSET


def _apply(record: Any, patch: msgspec.Struct) -> Any:
    changes = {
        f: getattr(patch, f)
        for f in patch.__struct_fields__
        if getattr(patch, f) is not UNSET and f != "rule_order"
    }
    return msgspec.structs.replace(record, **changes) if changes else record


def reordered(rules: tuple[FlagRule, ...], order: tuple[str, ...]) -> tuple[FlagRule, ...]:
    """The rules in ``order``, which must name each of them exactly once: a flag's update
    reorders its rules and nothing else (rules change through their own methods)."""
    by_name = {r.name: r for r in rules}
    if sorted(order) != sorted(by_name):
        raise Invalid(
            "rules",
            "an update of a flag's rules only reorders them: name every rule of the flag once; "
            "add, change or delete rules through /v1/flags/{flag}/rules",
        )
    return tuple(by_name[name] for name in order)


def _find(items: Iterable[Any], name: str, kind: str) -> Any:
    for item in items:
        if item.name == name:
            return item
    raise NotFound(kind, name)


def _require_active(flag: ConfidenceFlag) -> None:
    if flag.state != "ACTIVE":
        raise Conflict("state", f"{flag.name} is archived: an archived flag cannot be changed")


# --- the use cases -------------------------------------------------------------------------


class ConfidenceFlagService:
    """Flags, variants, rules, clients and credentials of a tenant (``Principal.tenant``).
    Reads take any token of the tenant; writes an admin token. Rules name segments of the
    token's default sandbox, as the rest of the Confidence API sees them."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # flags ---------------------------------------------------------------------------------
    async def create_flag(
        self, principal: Principal, flag_id: str, draft: ConfidenceFlag
    ) -> ConfidenceFlag:
        """``draft`` as sent: variants named in this flag, rules whose names are chosen here,
        clients by name. State, times, version and actors are the server's."""
        require_admin(principal)
        check_id("flag_id", flag_id)
        now, actor = now_us(), principal.token_name
        name = FLAG_PREFIX + flag_id
        flag = msgspec.structs.replace(
            draft,
            tenant=principal.tenant,
            name=name,
            state="ACTIVE",
            version=1,
            create_time=now,
            update_time=now,
            creator=actor,
            updater=actor,
            variants=tuple(
                msgspec.structs.replace(
                    v, create_time=now, update_time=now, creator=actor, updater=actor
                )
                for v in draft.variants
            ),
            rules=tuple(_new_rule(name, r, now, actor) for r in draft.rules),
        )
        check_flag(flag)
        return await self.store.create_confidence_flag(
            principal.tenant, flag, sandbox=principal.default_sandbox
        )

    async def get_flag(self, principal: Principal, flag_id: str) -> ConfidenceFlag:
        check_id("name", flag_id)
        return await self.store.confidence_flag(principal.tenant, flag_id)

    async def list_flags(self, principal: Principal) -> list[ConfidenceFlag]:
        return await self.store.confidence_flags(principal.tenant)

    async def _change(
        self,
        principal: Principal,
        flag_id: str,
        change: Callable[[ConfidenceFlag], ConfidenceFlag | None],
    ) -> ConfidenceFlag:
        require_admin(principal)
        check_id("name", flag_id)

        def checked(current: ConfidenceFlag) -> ConfidenceFlag | None:
            changed = change(current)
            return None if changed is None else check_flag(changed)

        return await self.store.change_confidence_flag(
            principal.tenant,
            flag_id,
            principal.token_name,
            checked,
            sandbox=principal.default_sandbox,
        )

    async def update_flag(
        self, principal: Principal, flag_id: str, patch: FlagPatch
    ) -> ConfidenceFlag:
        def change(current: ConfidenceFlag) -> ConfidenceFlag:
            _require_active(current)
            changed: ConfidenceFlag = _apply(current, patch)
            if not isinstance(patch.rule_order, msgspec.UnsetType):
                changed = msgspec.structs.replace(
                    changed, rules=reordered(current.rules, patch.rule_order)
                )
            return changed

        return await self._change(principal, flag_id, change)

    async def archive_flag(self, principal: Principal, flag_id: str) -> ConfidenceFlag:
        def change(current: ConfidenceFlag) -> ConfidenceFlag:
            _require_active(current)
            return msgspec.structs.replace(current, state="ARCHIVED")

        return await self._change(principal, flag_id, change)

    async def add_flag_client(
        self, principal: Principal, flag_id: str, client: str
    ) -> ConfidenceFlag:
        client_id_of("client", client)

        def change(current: ConfidenceFlag) -> ConfidenceFlag | None:
            _require_active(current)
            if client in current.clients:
                return None  # already allowed: nothing to write
            return msgspec.structs.replace(current, clients=(*current.clients, client))

        return await self._change(principal, flag_id, change)

    async def remove_flag_client(
        self, principal: Principal, flag_id: str, client: str
    ) -> ConfidenceFlag:
        client_id_of("client", client)

        def change(current: ConfidenceFlag) -> ConfidenceFlag:
            _require_active(current)
            if client not in current.clients:
                raise NotFound("client", client, f"{client} is not a client of {current.name}")
            return msgspec.structs.replace(
                current, clients=tuple(c for c in current.clients if c != client)
            )

        return await self._change(principal, flag_id, change)

    # variants ------------------------------------------------------------------------------
    async def create_variant(
        self, principal: Principal, flag_id: str, variant: FlagVariant
    ) -> FlagVariant:
        parent = FLAG_PREFIX + check_id("parent", flag_id)
        child_id("variant.name", variant.name, parent, "variants")
        now, actor = now_us(), principal.token_name
        made = msgspec.structs.replace(
            variant, create_time=now, update_time=now, creator=actor, updater=actor
        )

        def change(current: ConfidenceFlag) -> ConfidenceFlag:
            _require_active(current)
            if any(v.name == made.name for v in current.variants):
                raise Conflict("confidence_variant", f"{made.name} already exists")
            return msgspec.structs.replace(current, variants=(*current.variants, made))

        flag = await self._change(principal, flag_id, change)
        return _find(flag.variants, made.name, "variant")  # type: ignore[no-any-return]

    async def get_variant(self, principal: Principal, flag_id: str, variant_id: str) -> FlagVariant:
        return await self._get_child(principal, flag_id, "variant", variant_id)  # type: ignore[no-any-return]

    async def update_variant(
        self, principal: Principal, flag_id: str, variant_id: str, patch: VariantPatch
    ) -> FlagVariant:
        return await self._update_child(principal, flag_id, "variant", variant_id, patch)  # type: ignore[no-any-return]

    async def delete_variant(self, principal: Principal, flag_id: str, variant_id: str) -> None:
        name = f"{FLAG_PREFIX}{flag_id}/variants/{check_id('name', variant_id)}"

        def change(current: ConfidenceFlag) -> ConfidenceFlag:
            _require_active(current)
            _find(current.variants, name, "variant")
            users = tuple(
                r.name for r in current.rules if any(a.variant == name for a in r.assignments)
            )
            if users:
                raise InUse(
                    f"{name} is assigned by {len(users)} rule(s); change or delete them first",
                    users,
                )
            return msgspec.structs.replace(
                current, variants=tuple(v for v in current.variants if v.name != name)
            )

        await self._change(principal, flag_id, change)

    # rules ---------------------------------------------------------------------------------
    async def create_rule(self, principal: Principal, flag_id: str, rule: FlagRule) -> FlagRule:
        parent = FLAG_PREFIX + check_id("parent", flag_id)
        made = _new_rule(parent, rule, now_us(), principal.token_name)

        def change(current: ConfidenceFlag) -> ConfidenceFlag:
            _require_active(current)
            return msgspec.structs.replace(current, rules=(*current.rules, made))

        flag = await self._change(principal, flag_id, change)
        return _find(flag.rules, made.name, "rule")  # type: ignore[no-any-return]

    async def get_rule(self, principal: Principal, flag_id: str, rule_id: str) -> FlagRule:
        return await self._get_child(principal, flag_id, "rule", rule_id)  # type: ignore[no-any-return]

    async def update_rule(
        self, principal: Principal, flag_id: str, rule_id: str, patch: FlagRulePatch
    ) -> FlagRule:
        return await self._update_child(principal, flag_id, "rule", rule_id, patch)  # type: ignore[no-any-return]

    # a flag's children (variants, rules): read and patched the same way -----------------------
    async def _get_child(self, principal: Principal, flag_id: str, kind: str, child: str) -> Any:
        flag = await self.get_flag(principal, flag_id)
        field = kind + "s"
        return _find(getattr(flag, field), f"{flag.name}/{field}/{check_id('name', child)}", kind)

    async def _update_child(
        self, principal: Principal, flag_id: str, kind: str, child: str, patch: msgspec.Struct
    ) -> Any:
        """Apply ``patch`` to the flag's ``kind`` (``variant`` or ``rule``) named ``child``,
        stamped with who and when, in one change of the flag."""
        field = kind + "s"
        name = f"{FLAG_PREFIX}{flag_id}/{field}/{check_id('name', child)}"
        now = now_us()

        def change(current: ConfidenceFlag) -> ConfidenceFlag:
            _require_active(current)
            children = getattr(current, field)
            new = msgspec.structs.replace(
                _apply(_find(children, name, kind), patch),
                update_time=now,
                updater=principal.token_name,
            )
            kept = tuple(new if c.name == name else c for c in children)
            return msgspec.structs.replace(current, **{field: kept})

        flag = await self._change(principal, flag_id, change)
        return _find(getattr(flag, field), name, kind)

    async def delete_rule(self, principal: Principal, flag_id: str, rule_id: str) -> None:
        name = f"{FLAG_PREFIX}{flag_id}/rules/{check_id('name', rule_id)}"

        def change(current: ConfidenceFlag) -> ConfidenceFlag:
            _require_active(current)
            _find(current.rules, name, "rule")
            return msgspec.structs.replace(
                current, rules=tuple(r for r in current.rules if r.name != name)
            )

        await self._change(principal, flag_id, change)

    # clients -------------------------------------------------------------------------------
    async def create_client(
        self, principal: Principal, display_name: str, labels: dict[str, str]
    ) -> ConfidenceClient:
        require_admin(principal)
        _display_name(display_name)
        _check_labels("labels", labels)
        now = now_us()
        return await self.store.create_confidence_client(
            ConfidenceClient(
                tenant=principal.tenant,
                name=CLIENT_PREFIX + new_id(),
                display_name=display_name,
                labels=labels,
                create_time=now,
                update_time=now,
                creator=principal.token_name,
                updater=principal.token_name,
            )
        )

    async def get_client(self, principal: Principal, client_id: str) -> ConfidenceClient:
        check_id("name", client_id)
        return await self.store.confidence_client(principal.tenant, client_id)

    async def list_clients(self, principal: Principal) -> list[ConfidenceClient]:
        return await self.store.confidence_clients(principal.tenant)

    async def delete_client(self, principal: Principal, client_id: str) -> None:
        require_admin(principal)
        check_id("name", client_id)
        await self.store.delete_confidence_client(principal.tenant, client_id)

    async def create_credential(
        self,
        principal: Principal,
        client_id: str,
        display_name: str,
        environments: tuple[str, ...],
        labels: dict[str, str],
    ) -> tuple[ClientCredential, str]:
        """A new credential and its secret: the secret is returned this once and stored only
        as its hash (``core.tokens.hash_token``)."""
        require_admin(principal)
        check_id("parent", client_id)
        _display_name(display_name, "clientCredential.displayName")
        _check_labels("clientCredential.labels", labels)
        for env in environments:
            if not env or len(env) > MAX_TEXT or "\x00" in env:
                raise Invalid(
                    "clientCredential.environments", "are 1 to 1024 characters without NUL"
                )
        if len(environments) > MAX_ENVIRONMENTS or len(set(environments)) != len(environments):
            raise Invalid(
                "clientCredential.environments", f"at most {MAX_ENVIRONMENTS}, each named once"
            )
        now = now_us()
        credential = ClientCredential(
            name=f"{CLIENT_PREFIX}{client_id}/credentials/{new_id()}",
            display_name=display_name,
            environments=environments,
            labels=labels,
            create_time=now,
            update_time=now,
            creator=principal.token_name,
        )
        secret = new_secret()
        stored = await self.store.add_client_credential(
            principal.tenant, client_id, credential, hash_token(secret)
        )
        return stored, secret

    async def get_credential(
        self, principal: Principal, client_id: str, credential_id: str
    ) -> ClientCredential:
        client = await self.get_client(principal, client_id)
        name = f"{client.name}/credentials/{check_id('name', credential_id)}"
        return _find(client.credentials, name, "credential")  # type: ignore[no-any-return]

    async def delete_credential(
        self, principal: Principal, client_id: str, credential_id: str
    ) -> None:
        require_admin(principal)
        check_id("name", client_id)
        check_id("name", credential_id)
        await self.store.delete_client_credential(principal.tenant, client_id, credential_id)

    # what uses a segment -------------------------------------------------------------------
    async def rules_using(self, principal: Principal, segment_id: str) -> list[str]:
        """Names of the Confidence rules that use a segment (by its core id)."""
        return await self.store.segment_flag_rules(principal.tenant, segment_id)


def _display_name(value: str, field: str = "displayName") -> None:
    if not value:
        raise Invalid(field, "is required")
    check_text(field, value, max_len=MAX_TEXT)


def _new_rule(flag_name: str, rule: FlagRule, now: int, actor: str) -> FlagRule:
    """A rule as created: its name chosen here (the one sent is ignored, as for every
    identifier), times and actors the server's. A blank ``targetingKeySelector`` stays blank:
    the resolver reads ``targeting_key`` for it, but treats a missing unit differently from a
    selector that names one (``core.resolver``)."""
    return msgspec.structs.replace(
        rule,
        name=f"{flag_name}/rules/{new_id()}",
        create_time=now,
        update_time=now,
        creator=actor,
        updater=actor,
    )
