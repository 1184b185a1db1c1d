-- Flags (Unleash features), their rules (strategies) and the segments rules use. The foreign key
-- from rule_segments to segments is what makes "a segment used by a rule cannot be deleted" a
-- database rule: a delete racing an attach either sees the attach and fails, or makes it fail.
CREATE TABLE projects (
    tenant      TEXT NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT,
    created_at  BIGINT NOT NULL,
    CONSTRAINT projects_pkey PRIMARY KEY (tenant, id)
);

CREATE TABLE environments (
    tenant      TEXT NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    type        TEXT NOT NULL,
    sort_order  INTEGER NOT NULL,
    CONSTRAINT environments_pkey PRIMARY KEY (tenant, name)
);

CREATE TABLE flags (
    tenant      TEXT NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    name        TEXT COLLATE "C" NOT NULL,
    project     TEXT NOT NULL,
    type        TEXT NOT NULL,
    description TEXT,
    archived    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    created_by  TEXT,
    version     BIGINT NOT NULL DEFAULT 1,
    extensions  TEXT NOT NULL DEFAULT '{}',
    CONSTRAINT flags_pkey PRIMARY KEY (tenant, name),
    CONSTRAINT flags_project_fkey FOREIGN KEY (tenant, project) REFERENCES projects (tenant, id)
);

CREATE TABLE flag_environments (
    tenant      TEXT NOT NULL,
    flag        TEXT COLLATE "C" NOT NULL,
    environment TEXT NOT NULL,
    enabled     BOOLEAN NOT NULL,
    CONSTRAINT flag_environments_pkey PRIMARY KEY (tenant, flag, environment),
    CONSTRAINT flag_environments_flag_fkey FOREIGN KEY (tenant, flag)
        REFERENCES flags (tenant, name) ON DELETE CASCADE,
    CONSTRAINT flag_environments_environment_fkey FOREIGN KEY (tenant, environment)
        REFERENCES environments (tenant, name)
);

CREATE TABLE rules (
    tenant      TEXT NOT NULL,
    id          TEXT NOT NULL,
    flag        TEXT COLLATE "C" NOT NULL,
    environment TEXT NOT NULL,
    sort_order  BIGINT NOT NULL DEFAULT 0,
    payload     TEXT NOT NULL DEFAULT '{}',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    created_by  TEXT,
    version     BIGINT NOT NULL DEFAULT 1,
    CONSTRAINT rules_pkey PRIMARY KEY (tenant, id),
    CONSTRAINT rules_flag_fkey FOREIGN KEY (tenant, flag)
        REFERENCES flags (tenant, name) ON DELETE CASCADE,
    CONSTRAINT rules_environment_fkey FOREIGN KEY (tenant, environment)
        REFERENCES environments (tenant, name)
);

CREATE INDEX rules_by_flag ON rules (tenant, flag, environment, sort_order);

CREATE TABLE rule_segments (
    tenant      TEXT NOT NULL,
    rule_id     TEXT NOT NULL,
    segment_id  TEXT NOT NULL,
    position    INTEGER NOT NULL,
    CONSTRAINT rule_segments_key PRIMARY KEY (tenant, rule_id, segment_id),
    CONSTRAINT rule_segments_rule_fkey FOREIGN KEY (tenant, rule_id)
        REFERENCES rules (tenant, id) ON DELETE CASCADE,
    -- no ON DELETE: deleting a segment a rule uses fails (-> InUse)
    CONSTRAINT rule_segments_segment_fkey FOREIGN KEY (tenant, segment_id)
        REFERENCES segments (tenant, id)
);

CREATE INDEX rule_segments_by_segment ON rule_segments (tenant, segment_id);

-- Tenants that exist already get the defaults new tenants get (see SqlStore.ensure_tenant).
INSERT INTO projects (tenant, id, name, created_at)
    SELECT name, 'default', 'Default', created_at FROM tenants;
INSERT INTO environments (tenant, name, type, sort_order)
    SELECT name, 'development', 'development', 1 FROM tenants;
INSERT INTO environments (tenant, name, type, sort_order)
    SELECT name, 'production', 'production', 2 FROM tenants;
