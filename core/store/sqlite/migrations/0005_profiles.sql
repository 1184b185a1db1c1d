-- Profiles (the HAL dialect's individuals) and the stored members of static segments (SQLite
-- twin of the PostgreSQL migration: attributes are JSON text, read by the json1 functions and the
-- ones core.expr.sql registers on each connection).
CREATE TABLE profiles (
    tenant      TEXT NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    sandbox     TEXT NOT NULL,
    identifier  TEXT NOT NULL,
    attributes  TEXT NOT NULL DEFAULT '{}',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1,
    -- an integer beyond 2^53 somewhere in the attributes (see core.store.profiles.index_hints)
    wide_ints   BOOLEAN NOT NULL DEFAULT FALSE,
    CONSTRAINT profiles_pkey PRIMARY KEY (tenant, sandbox, identifier)
);

-- The default order of every listing of individuals (creation, then identifier): the first page
-- of a segment's members walks this index and stops after `size` matches.
CREATE INDEX profiles_by_created ON profiles (tenant, sandbox, created_at, identifier);

CREATE TABLE memberships (
    tenant      TEXT NOT NULL,
    segment_id  TEXT NOT NULL,
    sandbox     TEXT NOT NULL,
    profile     TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    CONSTRAINT memberships_pkey PRIMARY KEY (tenant, segment_id, profile),
    -- deleting a segment drops its memberships, never its individuals
    CONSTRAINT memberships_segment_fkey FOREIGN KEY (tenant, segment_id)
        REFERENCES segments (tenant, id) ON DELETE CASCADE,
    -- deleting an individual drops its memberships
    CONSTRAINT memberships_profile_fkey FOREIGN KEY (tenant, sandbox, profile)
        REFERENCES profiles (tenant, sandbox, identifier) ON DELETE CASCADE
);

-- The segments of one individual, and the cascade when it is deleted.
CREATE INDEX memberships_by_profile ON memberships (tenant, sandbox, profile);
