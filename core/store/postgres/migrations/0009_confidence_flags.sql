-- Confidence's flags (with their variants and ordered rules), its clients and their credentials.
-- Each row keeps its record (core.confidence_model) as JSON in `body`; the columns beside it are
-- what the database must know: keys, order, the segment a rule uses and a credential's hash.
--
-- A rule's segment is a foreign key to `segments` without ON DELETE, like rule_segments: a
-- segment a Confidence rule uses cannot be deleted through any API (the delete fails -> InUse),
-- and archiving counts these rows too (core.store.allocation).
CREATE TABLE confidence_flags (
    tenant      TEXT NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    id          TEXT COLLATE "C" NOT NULL,
    state       TEXT NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1,
    body        TEXT NOT NULL,
    CONSTRAINT confidence_flags_pkey PRIMARY KEY (tenant, id)
);

CREATE TABLE confidence_variants (
    tenant      TEXT NOT NULL,
    flag        TEXT COLLATE "C" NOT NULL,
    id          TEXT COLLATE "C" NOT NULL,
    position    INTEGER NOT NULL,
    body        TEXT NOT NULL,
    CONSTRAINT confidence_variants_pkey PRIMARY KEY (tenant, flag, id),
    CONSTRAINT confidence_variants_flag_fkey FOREIGN KEY (tenant, flag)
        REFERENCES confidence_flags (tenant, id) ON DELETE CASCADE
);

CREATE TABLE confidence_rules (
    tenant      TEXT NOT NULL,
    flag        TEXT COLLATE "C" NOT NULL,
    id          TEXT COLLATE "C" NOT NULL,
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
    id          TEXT COLLATE "C" NOT NULL,
    body        TEXT NOT NULL,
    CONSTRAINT confidence_clients_pkey PRIMARY KEY (tenant, id)
);

-- Which clients may resolve a flag; deleting a client takes it off every flag.
CREATE TABLE confidence_flag_clients (
    tenant      TEXT NOT NULL,
    flag        TEXT COLLATE "C" NOT NULL,
    client      TEXT COLLATE "C" NOT NULL,
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
    client      TEXT COLLATE "C" NOT NULL,
    id          TEXT COLLATE "C" NOT NULL,
    secret_hash TEXT NOT NULL,
    body        TEXT NOT NULL,
    CONSTRAINT confidence_credentials_pkey PRIMARY KEY (tenant, client, id),
    CONSTRAINT confidence_credentials_secret_key UNIQUE (secret_hash),
    CONSTRAINT confidence_credentials_client_fkey FOREIGN KEY (tenant, client)
        REFERENCES confidence_clients (tenant, id) ON DELETE CASCADE
);

-- Every write bumps the tenant's revision (migration 0006): resolver caches key on it, and a
-- deleted credential must stop resolving at once.
CREATE CONSTRAINT TRIGGER confidence_flags_revision AFTER INSERT OR UPDATE OR DELETE ON confidence_flags
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_tenant_revision('tenant');
CREATE CONSTRAINT TRIGGER confidence_variants_revision AFTER INSERT OR UPDATE OR DELETE ON confidence_variants
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_tenant_revision('tenant');
CREATE CONSTRAINT TRIGGER confidence_rules_revision AFTER INSERT OR UPDATE OR DELETE ON confidence_rules
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_tenant_revision('tenant');
CREATE CONSTRAINT TRIGGER confidence_clients_revision AFTER INSERT OR UPDATE OR DELETE ON confidence_clients
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_tenant_revision('tenant');
CREATE CONSTRAINT TRIGGER confidence_flag_clients_revision AFTER INSERT OR UPDATE OR DELETE ON confidence_flag_clients
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_tenant_revision('tenant');
CREATE CONSTRAINT TRIGGER confidence_credentials_revision AFTER INSERT OR UPDATE OR DELETE ON confidence_credentials
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_tenant_revision('tenant');
