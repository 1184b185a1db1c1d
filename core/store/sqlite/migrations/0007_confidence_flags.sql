-- SQLite twin of the PostgreSQL migration.
-- Confidence's flags (with their variants and ordered rules), its clients and their credentials.
-- Each row keeps its record (core.confidence_model) as JSON in `body`; the columns beside it are
-- what the database must know: keys, order, the segment a rule uses and a credential's hash.
--
-- A rule's segment is a foreign key to `segments` without ON DELETE, like rule_segments: a
-- segment a Confidence rule uses cannot be deleted through any API (the delete fails -> InUse),
-- and archiving counts these rows too (core.store.allocation).
CREATE TABLE confidence_flags (
    tenant      TEXT NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    state       TEXT NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1,
    body        TEXT NOT NULL,
    CONSTRAINT confidence_flags_pkey PRIMARY KEY (tenant, id)
);

CREATE TABLE confidence_variants (
    tenant      TEXT NOT NULL,
    flag        TEXT NOT NULL,
    id          TEXT NOT NULL,
    position    INTEGER NOT NULL,
    body        TEXT NOT NULL,
    CONSTRAINT confidence_variants_pkey PRIMARY KEY (tenant, flag, id),
    CONSTRAINT confidence_variants_flag_fkey FOREIGN KEY (tenant, flag)
        REFERENCES confidence_flags (tenant, id) ON DELETE CASCADE
);

CREATE TABLE confidence_rules (
    tenant      TEXT NOT NULL,
    flag        TEXT NOT NULL,
    id          TEXT NOT NULL,
    position    INTEGER NOT NULL,
    segment_id  TEXT NOT NULL,
    body        TEXT NOT NULL,
    CONSTRAINT confidence_rules_pkey PRIMARY KEY (tenant, flag, id),
    CONSTRAINT confidence_rules_flag_fkey FOREIGN KEY (tenant, flag)
        REFERENCES confidence_flags (tenant, id) ON DELETE CASCADE,
    -- no ON DELETE: deleting a segment a rule uses fails (-> InUse)
    CONSTRAINT confidence_rules_segment_fkey FOREIGN KEY (tenant, segment_id)
        REFERENCES segments (tenant, id)
);

CREATE INDEX confidence_rules_by_segment ON confidence_rules (tenant, segment_id);

CREATE TABLE confidence_clients (
    tenant      TEXT NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    body        TEXT NOT NULL,
    CONSTRAINT confidence_clients_pkey PRIMARY KEY (tenant, id)
);

-- Which clients may resolve a flag; deleting a client takes it off every flag.
CREATE TABLE confidence_flag_clients (
    tenant      TEXT NOT NULL,
    flag        TEXT NOT NULL,
    client      TEXT NOT NULL,
    position    INTEGER NOT NULL,
    CONSTRAINT confidence_flag_clients_pkey PRIMARY KEY (tenant, flag, client),
    CONSTRAINT confidence_flag_clients_flag_fkey FOREIGN KEY (tenant, flag)
        REFERENCES confidence_flags (tenant, id) ON DELETE CASCADE,
    CONSTRAINT confidence_flag_clients_client_fkey FOREIGN KEY (tenant, client)
        REFERENCES confidence_clients (tenant, id) ON DELETE CASCADE
);

-- A credential's secret is stored only as its hash (core.tokens.hash_token), unique over every
-- tenant: the resolver finds tenant, client and credential from the secret alone.
CREATE TABLE confidence_credentials (
    tenant      TEXT NOT NULL,
    client      TEXT NOT NULL,
    id          TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    body        TEXT NOT NULL,
    CONSTRAINT confidence_credentials_pkey PRIMARY KEY (tenant, client, id),
    CONSTRAINT confidence_credentials_secret_key UNIQUE (secret_hash),
    CONSTRAINT confidence_credentials_client_fkey FOREIGN KEY (tenant, client)
        REFERENCES confidence_clients (tenant, id) ON DELETE CASCADE
);

-- Every write bumps the tenant's revision (migration 0006): resolver caches key on it, and a
-- deleted credential must stop resolving at once.
CREATE TRIGGER confidence_flags_revision_insert AFTER INSERT ON confidence_flags BEGIN
    INSERT INTO tenant_revisions (tenant, revision) VALUES (NEW.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER confidence_flags_revision_update AFTER UPDATE ON confidence_flags BEGIN
    INSERT INTO tenant_revisions (tenant, revision) VALUES (NEW.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER confidence_flags_revision_delete AFTER DELETE ON confidence_flags BEGIN
    INSERT INTO tenant_revisions (tenant, revision) VALUES (OLD.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER confidence_variants_revision_insert AFTER INSERT ON confidence_variants BEGIN
    INSERT INTO tenant_revisions (tenant, revision) VALUES (NEW.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER confidence_variants_revision_update AFTER UPDATE ON confidence_variants BEGIN
    INSERT INTO tenant_revisions (tenant, revision) VALUES (NEW.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER confidence_variants_revision_delete AFTER DELETE ON confidence_variants BEGIN
    INSERT INTO tenant_revisions (tenant, revision) VALUES (OLD.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER confidence_rules_revision_insert AFTER INSERT ON confidence_rules BEGIN
    INSERT INTO tenant_revisions (tenant, revision) VALUES (NEW.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER confidence_rules_revision_update AFTER UPDATE ON confidence_rules BEGIN
    INSERT INTO tenant_revisions (tenant, revision) VALUES (NEW.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER confidence_rules_revision_delete AFTER DELETE ON confidence_rules BEGIN
    INSERT INTO tenant_revisions (tenant, revision) VALUES (OLD.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER confidence_clients_revision_insert AFTER INSERT ON confidence_clients BEGIN
    INSERT INTO tenant_revisions (tenant, revision) VALUES (NEW.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER confidence_clients_revision_update AFTER UPDATE ON confidence_clients BEGIN
    INSERT INTO tenant_revisions (tenant, revision) VALUES (NEW.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER confidence_clients_revision_delete AFTER DELETE ON confidence_clients BEGIN
    INSERT INTO tenant_revisions (tenant, revision) VALUES (OLD.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER confidence_flag_clients_revision_insert AFTER INSERT ON confidence_flag_clients BEGIN
    INSERT INTO tenant_revisions (tenant, revision) VALUES (NEW.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER confidence_flag_clients_revision_update AFTER UPDATE ON confidence_flag_clients BEGIN
    INSERT INTO tenant_revisions (tenant, revision) VALUES (NEW.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER confidence_flag_clients_revision_delete AFTER DELETE ON confidence_flag_clients BEGIN
    INSERT INTO tenant_revisions (tenant, revision) VALUES (OLD.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER confidence_credentials_revision_insert AFTER INSERT ON confidence_credentials BEGIN
    INSERT INTO tenant_revisions (tenant, revision) VALUES (NEW.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER confidence_credentials_revision_update AFTER UPDATE ON confidence_credentials BEGIN
    INSERT INTO tenant_revisions (tenant, revision) VALUES (NEW.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER confidence_credentials_revision_delete AFTER DELETE ON confidence_credentials BEGIN
    INSERT INTO tenant_revisions (tenant, revision) VALUES (OLD.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1;
END;
