"""The store protocol: everything the use cases need from persistence, one part per module
(each the contract of one part of ``core.store.sql.SqlStore``).

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

from typing import Protocol

from core.store.protocol.backup import BackupStore
from core.store.protocol.confidence import ConfidenceStore
from core.store.protocol.flags import FlagStore
from core.store.protocol.profiles import ProfileStore
from core.store.protocol.revisions import RevisionStore
from core.store.protocol.segments import SegmentKey, SegmentStore
from core.store.protocol.tenants import TenantStore

__all__ = ["SegmentKey", "Store"]


class Store(
    TenantStore,
    SegmentStore,
    FlagStore,
    RevisionStore,
    ProfileStore,
    BackupStore,
    ConfidenceStore,
    Protocol,
):
    """Every part of the protocol: what a backend implements and the use cases hold."""
