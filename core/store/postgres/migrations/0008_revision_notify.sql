-- Announce every revision change: the revision trigger also sends NOTIFY segmux_revisions with
-- the tenant, delivered at commit (with the new revision visible) to every listening process.
-- Processes in the `notify` freshness mode (core.store.revisions) trust a revision they read
-- until its tenant is announced, instead of reading it before every cached answer. Identical
-- notifications of one transaction are folded into one by PostgreSQL, so a transaction that
-- writes 1,000 rows of a tenant sends one.
CREATE OR REPLACE FUNCTION bump_tenant_revision() RETURNS trigger LANGUAGE plpgsql AS $$
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
    PERFORM pg_notify('segmux_revisions', row_tenant);
    RETURN NULL;
END
$$;
