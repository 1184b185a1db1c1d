-- Cheaper revision triggers, the same revisions for what caches depend on.
--
-- A create updates its tenant's row for the next seq, and that fired the tenant's revision
-- trigger a second time in the same commit (an upsert of the counter, two nextval calls and a
-- notification more), though no cache depends on the next seq: only changes of what a tenant's
-- caches read (its settings, its default sandbox), its creation and its removal move it now.
-- The segment inserted beside moves the revision all the same.
--
-- And the trigger function read the row's tenant through to_jsonb(NEW), which builds a JSON
-- document of the whole row (a segment's condition and extensions included) to read one field:
-- it names the column instead. PL/pgSQL plans each branch when it first runs it, so the branch
-- naming a column another table lacks is never planned for that table.
CREATE OR REPLACE FUNCTION bump_tenant_revision() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    row_tenant TEXT;
BEGIN
    IF TG_ARGV[0] = 'name' THEN
        IF TG_OP = 'DELETE' THEN
            row_tenant := OLD.name;
        ELSE
            row_tenant := NEW.name;
        END IF;
    ELSIF TG_OP = 'DELETE' THEN
        row_tenant := OLD.tenant;
    ELSE
        row_tenant := NEW.tenant;
    END IF;
    -- The row is locked before SET is evaluated, so revisions grow in commit order.
    INSERT INTO tenant_revisions (tenant, revision) VALUES (row_tenant, nextval('tenant_revision_seq'))
        ON CONFLICT (tenant) DO UPDATE
        SET revision = GREATEST(tenant_revisions.revision + 1, nextval('tenant_revision_seq'));
    PERFORM pg_notify('segmux_revisions', row_tenant);
    RETURN NULL;
END
$$;

DROP TRIGGER tenants_revision ON tenants;
CREATE CONSTRAINT TRIGGER tenants_revision AFTER INSERT OR DELETE ON tenants
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_tenant_revision('name');
CREATE CONSTRAINT TRIGGER tenants_revision_update AFTER UPDATE ON tenants
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (OLD.settings IS DISTINCT FROM NEW.settings
          OR OLD.default_sandbox IS DISTINCT FROM NEW.default_sandbox)
    EXECUTE FUNCTION bump_tenant_revision('name');
