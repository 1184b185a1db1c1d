-- A create updates its tenant's row for the next seq, and that moved the tenant's revision a
-- second time in the same transaction, though no cache depends on the next seq: only changes of
-- what a tenant's caches read (its settings, its default sandbox) move it now (the SQLite twin
-- of the PostgreSQL migration; its creation and removal still do, the segment inserted beside
-- a create all the same).
DROP TRIGGER tenants_revision_update;
CREATE TRIGGER tenants_revision_update AFTER UPDATE ON tenants
    WHEN OLD.settings IS NOT NEW.settings OR OLD.default_sandbox IS NOT NEW.default_sandbox
BEGIN
    INSERT INTO tenant_revisions (tenant, revision) VALUES (NEW.name, 1)
        ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1;
END;
