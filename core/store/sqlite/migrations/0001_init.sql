-- Tenants, tokens and segments (SQLite twin of the PostgreSQL migration: TEXT compares in
-- byte order here by default, which is the collation the PostgreSQL schema asks for).
CREATE TABLE tenants (
    name            TEXT PRIMARY KEY,
    default_sandbox TEXT NOT NULL DEFAULT 'prod',
    created_at      INTEGER NOT NULL,
    settings        TEXT NOT NULL DEFAULT '{}',
    next_seq        INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE tokens (
    hash        TEXT NOT NULL,
    id          TEXT NOT NULL UNIQUE,
    tenant      TEXT NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    scope       TEXT NOT NULL,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    client_id   TEXT,
    CONSTRAINT tokens_pkey PRIMARY KEY (hash),
    CONSTRAINT tokens_client_id UNIQUE (client_id)
);

CREATE TABLE segments (
    tenant      TEXT NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    seq         INTEGER NOT NULL CHECK (seq >= 1),
    slug        TEXT NOT NULL,
    sandbox     TEXT NOT NULL,
    -- byte order, case-sensitive: Unleash lists by name in C collation
    name        TEXT NOT NULL,
    description TEXT,
    kind        TEXT NOT NULL CHECK (kind IN ('dynamic', 'static')),
    expression  TEXT,
    allocation  TEXT NOT NULL,
    state       TEXT NOT NULL,
    labels      TEXT NOT NULL DEFAULT '{}',
    owner       TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    created_by  TEXT,
    updated_by  TEXT,
    version     INTEGER NOT NULL DEFAULT 1,
    extensions  TEXT NOT NULL DEFAULT '{}',
    CONSTRAINT segments_pkey PRIMARY KEY (tenant, id),
    CONSTRAINT segments_seq UNIQUE (tenant, seq),
    CONSTRAINT segments_slug UNIQUE (tenant, slug),
    CONSTRAINT segments_name UNIQUE (tenant, sandbox, name)
);

CREATE INDEX segments_by_created ON segments (tenant, sandbox, created_at, id);
