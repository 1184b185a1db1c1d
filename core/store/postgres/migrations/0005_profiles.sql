-- Profiles (the HAL dialect's individuals) and the stored members of static segments.
-- Attributes are jsonb: dynamic membership is a predicate over them compiled from the segment's
-- condition (core.expr.sql), so the database scans the profiles, not Python. Key order of the
-- attributes is not kept (jsonb), which no dialect promises for individuals.
CREATE TABLE profiles (
    tenant      TEXT NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    sandbox     TEXT NOT NULL,
    -- byte order, as on SQLite, so pages of individuals sort alike on both stores
    identifier  TEXT COLLATE "C" NOT NULL,
    attributes  JSONB NOT NULL DEFAULT '{}',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1,
    -- an integer beyond 2^53 somewhere in the attributes (see core.store.profiles.index_hints)
    wide_ints   BOOLEAN NOT NULL DEFAULT FALSE,
    CONSTRAINT profiles_pkey PRIMARY KEY (tenant, sandbox, identifier)
);

-- The default order of every listing of individuals (creation, then identifier): the first page
-- of a segment's members walks this index and stops after `size` matches.
CREATE INDEX profiles_by_created ON profiles (tenant, sandbox, created_at, identifier);

-- Equality tests on attributes (`demographics/city/value eq 'Madrid'`): the store ANDs a
-- jsonpath `@?` superset of each string equality to the exact predicate, and this index answers
-- it, so a selective segment reads its candidates instead of every profile. Profiles holding an
-- integer a double cannot represent are always candidates (the partial index finds them).
CREATE INDEX profiles_attributes ON profiles USING GIN (attributes jsonb_path_ops);
CREATE INDEX profiles_wide_ints ON profiles (tenant, sandbox) WHERE wide_ints;

CREATE TABLE memberships (
    tenant      TEXT NOT NULL,
    segment_id  TEXT NOT NULL,
    sandbox     TEXT NOT NULL,
    profile     TEXT COLLATE "C" NOT NULL,
    created_at  BIGINT NOT NULL,
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
