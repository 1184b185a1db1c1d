-- A revision number per tenant, bumped by every write to what segments, flags and rules are
-- made of (and the tenant's settings), so caches in every gateway process can tell with one
-- primary-key read whether what they hold is current (core.cache). Profiles and memberships are
-- left out: nothing cached depends on them, and bulk imports would only churn the counter.
--
-- The triggers are deferred constraint triggers: the counter row is updated at COMMIT, the last
-- lock a transaction takes, so the counter never orders locks against the rows a transaction
-- touches (no deadlock), and the new revision becomes visible in the same instant as the rows.
-- Readers check the counter on every request (one primary-key read), so no cache of these
-- depends on NOTIFY delivery; tokens, read on every request, do (segmux_tokens below).
-- Revisions come from one sequence, so a number is never reused even if the table is emptied
-- (TRUNCATE fires no row trigger): a cache can never mistake new data for what it holds.
CREATE SEQUENCE tenant_revision_seq;

CREATE TABLE tenant_revisions (
    tenant   TEXT PRIMARY KEY,
    revision BIGINT NOT NULL
);

CREATE FUNCTION bump_tenant_revision() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    row_tenant TEXT;
BEGIN
    IF TG_OP = 'DELETE' THEN
        row_tenant := to_jsonb(OLD) ->> TG_ARGV[0];
    ELSE
        row_tenant := to_jsonb(NEW) ->> TG_ARGV[0];
    END IF;
    -- The row is locked before SET is evaluated, so revisions grow in commit order.
    INSERT INTO tenant_revisions (tenant, revision) VALUES (row_tenant, nextval('tenant_revision_seq'))
        ON CONFLICT (tenant) DO UPDATE
        SET revision = GREATEST(tenant_revisions.revision + 1, nextval('tenant_revision_seq'));
    RETURN NULL;
END
$$;

-- Revoking a token must stop it at once everywhere: processes caching token lookups listen.
CREATE FUNCTION notify_tokens_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('segmux_tokens', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER tokens_changed AFTER UPDATE OR DELETE ON tokens
    FOR EACH STATEMENT EXECUTE FUNCTION notify_tokens_changed();

CREATE CONSTRAINT TRIGGER segments_revision AFTER INSERT OR UPDATE OR DELETE ON segments
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_tenant_revision('tenant');
CREATE CONSTRAINT TRIGGER segment_bitsets_revision AFTER INSERT OR UPDATE OR DELETE ON segment_bitsets
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_tenant_revision('tenant');
CREATE CONSTRAINT TRIGGER projects_revision AFTER INSERT OR UPDATE OR DELETE ON projects
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_tenant_revision('tenant');
CREATE CONSTRAINT TRIGGER environments_revision AFTER INSERT OR UPDATE OR DELETE ON environments
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_tenant_revision('tenant');
CREATE CONSTRAINT TRIGGER flags_revision AFTER INSERT OR UPDATE OR DELETE ON flags
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_tenant_revision('tenant');
CREATE CONSTRAINT TRIGGER flag_environments_revision AFTER INSERT OR UPDATE OR DELETE ON flag_environments
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_tenant_revision('tenant');
CREATE CONSTRAINT TRIGGER rules_revision AFTER INSERT OR UPDATE OR DELETE ON rules
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_tenant_revision('tenant');
CREATE CONSTRAINT TRIGGER rule_segments_revision AFTER INSERT OR UPDATE OR DELETE ON rule_segments
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_tenant_revision('tenant');
CREATE CONSTRAINT TRIGGER tenants_revision AFTER INSERT OR UPDATE OR DELETE ON tenants
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_tenant_revision('name');
