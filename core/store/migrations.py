"""Plain-SQL migrations: ``NNNN_name.sql`` files applied in order, each once, recorded in
``schema_migrations``. The backends run them in one transaction under their own lock."""

from __future__ import annotations

from importlib import resources


def migration_files(package: str) -> list[tuple[str, str]]:
    """(version, sql) pairs of a backend's ``migrations`` folder, in order."""
    folder = resources.files(package).joinpath("migrations")
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".sql"))
    return [(name.removesuffix(".sql"), folder.joinpath(name).read_text()) for name in names]


CREATE_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_migrations "
    "(version TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)"
)
