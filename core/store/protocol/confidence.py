"""The store protocol: Confidence flags and clients (``core.confidence_model``)."""

from __future__ import annotations

from typing import Protocol

from core.confidence_model import ClientCredential, ConfidenceClient, ConfidenceFlag
from core.store.confidence_flags import ChangeFlag


class ConfidenceStore(Protocol):
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
