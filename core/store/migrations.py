"""Plain-SQL migrations: ``NNNN_name.sql`` files applied in order, each once, recorded in
``schema_migrations``. The backends run them in one transaction under their own lock.

The schema's version is the last migration applied (``0010_revision_triggers``). A store holding a
migration this segmux does not have was upgraded by a later version: it is refused, never
served, because this code cannot know what the newer tables and columns mean."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from importlib import resources

from core.errors import CoreError


def migration_files(package: str) -> list[tuple[str, str]]:
    """(version, sql) pairs of a backend's ``migrations`` folder, in order."""
    folder = resources.files(package).joinpath("migrations")
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".sql"))
    return [(name.removesuffix(".sql"), folder.joinpath(name).read_text()) for name in names]


CREATE_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_migrations "
    "(version TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)"
)


@dataclass(frozen=True)
class SchemaStatus:
    """What a store holds (``applied``) against what this segmux knows (``known``), in order."""

    applied: tuple[str, ...]
    known: tuple[str, ...]

    @property
    def version(self) -> str | None:
        """The store's schema version: its last migration; None for an empty store."""
        return max(self.applied) if self.applied else None

    @property
    def current(self) -> str:
        """The version this segmux brings a store to."""
        return self.known[-1]

    @property
    def pending(self) -> tuple[str, ...]:
        return tuple(v for v in self.known if v not in self.applied)

    @property
    def unknown(self) -> tuple[str, ...]:
        """Migrations of a later segmux: the store is newer than this code."""
        return tuple(v for v in self.applied if v not in self.known)


class SchemaTooNew(CoreError):
    """The store was upgraded by a later segmux than this one."""

    def __init__(self, status: SchemaStatus) -> None:
        super().__init__(
            f"schema version {status.version}, newer than this segmux's {status.current}"
        )
        self.status = status


def schema_status(applied: Collection[str], package: str) -> SchemaStatus:
    known = tuple(version for version, _ in migration_files(package))
    return SchemaStatus(tuple(sorted(applied)), known)


def check_not_newer(applied: Collection[str], package: str) -> None:
    """Raise :class:`SchemaTooNew` if ``applied`` holds a migration ``package`` lacks."""
    status = schema_status(applied, package)
    if status.unknown:
        raise SchemaTooNew(status)
