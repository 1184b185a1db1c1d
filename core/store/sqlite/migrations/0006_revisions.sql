-- A revision number per tenant, bumped by every write to what segments, flags and rules are
-- made of (and the tenant's settings): the SQLite twin of the PostgreSQL migration. SQLite
-- serialises writers on the file, so plain row triggers cannot deadlock; several processes on one
-- file see each other's writes through this counter (core.cache).
CREATE TABLE tenant_revisions (
    tenant   TEXT PRIMARY KEY,
    revision INTEGER NOT NULL
);

CREATE TRIGGER segments_revision_insert AFTER INSERT ON segments BEGIN
    INSERT INTO tenant_revisions (tenant, revision) VALUES (NEW.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER segments_revision_update AFTER UPDATE ON segments BEGIN
    INSERT INTO tenant_revisions (tenant, revision) VALUES (NEW.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER segments_revision_delete AFTER DELETE ON segments BEGIN
    INSERT INTO tenant_revisions (tenant, revision) VALUES (OLD.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER segment_bitsets_revision_insert AFTER INSERT ON segment_bitsets BEGIN
    INSERT INTO tenant_revisions (tenant, revision) VALUES (NEW.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER segment_bitsets_revision_update AFTER UPDATE ON segment_bitsets BEGIN
    INSERT INTO tenant_revisions (tenant, revision) VALUES (NEW.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER segment_bitsets_revision_delete AFTER DELETE ON segment_bitsets BEGIN
    INSERT INTO tenant_revisions (tenant, revision) VALUES (OLD.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER projects_revision_insert AFTER INSERT ON projects BEGIN
    INSERT INTO tenant_revisions (tenant, revision) VALUES (NEW.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER projects_revision_update AFTER UPDATE ON projects BEGIN
    INSERT INTO tenant_revisions (tenant, revision) VALUES (NEW.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER projects_revision_delete AFTER DELETE ON projects BEGIN
    INSERT INTO tenant_revisions (tenant, revision) VALUES (OLD.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER environments_revision_insert AFTER INSERT ON environments BEGIN
    INSERT INTO tenant_revisions (tenant, revision) VALUES (NEW.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER environments_revision_update AFTER UPDATE ON environments BEGIN
    INSERT INTO tenant_revisions (tenant, revision) VALUES (NEW.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER environments_revision_delete AFTER DELETE ON environments BEGIN
    INSERT INTO tenant_revisions (tenant, revision) VALUES (OLD.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER flags_revision_insert AFTER INSERT ON flags BEGIN
    INSERT INTO tenant_revisions (tenant, revision) VALUES (NEW.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER flags_revision_update AFTER UPDATE ON flags BEGIN
    INSERT INTO tenant_revisions (tenant, revision) VALUES (NEW.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER flags_revision_delete AFTER DELETE ON flags BEGIN
    INSERT INTO tenant_revisions (tenant, revision) VALUES (OLD.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER flag_environments_revision_insert AFTER INSERT ON flag_environments BEGIN
    INSERT INTO tenant_revisions (tenant, revision) VALUES (NEW.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER flag_environments_revision_update AFTER UPDATE ON flag_environments BEGIN
    INSERT INTO tenant_revisions (tenant, revision) VALUES (NEW.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER flag_environments_revision_delete AFTER DELETE ON flag_environments BEGIN
    INSERT INTO tenant_revisions (tenant, revision) VALUES (OLD.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER rules_revision_insert AFTER INSERT ON rules BEGIN
    INSERT INTO tenant_revisions (tenant, revision) VALUES (NEW.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER rules_revision_update AFTER UPDATE ON rules BEGIN
    INSERT INTO tenant_revisions (tenant, revision) VALUES (NEW.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER rules_revision_delete AFTER DELETE ON rules BEGIN
    INSERT INTO tenant_revisions (tenant, revision) VALUES (OLD.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER rule_segments_revision_insert AFTER INSERT ON rule_segments BEGIN
    INSERT INTO tenant_revisions (tenant, revision) VALUES (NEW.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER rule_segments_revision_update AFTER UPDATE ON rule_segments BEGIN
    INSERT INTO tenant_revisions (tenant, revision) VALUES (NEW.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER rule_segments_revision_delete AFTER DELETE ON rule_segments BEGIN
    INSERT INTO tenant_revisions (tenant, revision) VALUES (OLD.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER tenants_revision_insert AFTER INSERT ON tenants BEGIN
    INSERT INTO tenant_revisions (tenant, revision) VALUES (NEW.name, 1)
        ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER tenants_revision_update AFTER UPDATE ON tenants BEGIN
    INSERT INTO tenant_revisions (tenant, revision) VALUES (NEW.name, 1)
        ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER tenants_revision_delete AFTER DELETE ON tenants BEGIN
    INSERT INTO tenant_revisions (tenant, revision) VALUES (OLD.name, 1)
        ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1;
END;
