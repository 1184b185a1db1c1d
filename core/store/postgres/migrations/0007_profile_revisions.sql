-- A revision of each sandbox's individuals and stored memberships, changed in the transaction of
-- every statement that writes either (statement triggers, so a COPY of 100,000 rows changes it
-- once). A reader that sees revision R sees exactly the rows committed with R, so the store can
-- keep the exact total of a page of members under the revision it was counted at and reuse it
-- while the revision stands (core.store.profile_totals): counting every match is the one part of
-- a members page whose cost grows with the number of individuals.
--
-- Values come from a sequence, never from "previous + 1": a revision row that disappears (a
-- TRUNCATE) and comes back can never repeat a value a cache still holds. The sequence belongs to
-- no column, so TRUNCATE ... RESTART IDENTITY leaves it alone. Rows are never deleted (no
-- foreign key to tenants); a deleted tenant leaves a row of two names and two numbers.
--
-- `individuals` counts the sandbox's profiles. It only guides the choice of a plan (walk the
-- creation index or read the candidates the GIN index gives, core.store.profiles), never a
-- total a client sees.
CREATE SEQUENCE profile_revision_seq;

CREATE TABLE profile_revisions (
    tenant       TEXT NOT NULL,
    sandbox      TEXT NOT NULL,
    revision     BIGINT NOT NULL,
    individuals  BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT profile_revisions_pkey PRIMARY KEY (tenant, sandbox)
);

INSERT INTO profile_revisions (tenant, sandbox, revision, individuals)
SELECT tenant, sandbox, nextval('profile_revision_seq'), count(*)
FROM profiles GROUP BY tenant, sandbox ORDER BY tenant, sandbox;

-- Each statement's changed rows (transition tables: a statement trigger sees them all at once)
-- give one row per sandbox touched: its revision moves on and, for profiles, its individuals
-- change by the rows added less the rows removed. Sorted, so statements touching several
-- sandboxes take their rows in one order.
CREATE FUNCTION profile_revisions_bump() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  counted boolean := TG_TABLE_NAME = 'profiles';
BEGIN
  IF TG_OP = 'TRUNCATE' THEN  -- every sandbox
    UPDATE profile_revisions SET revision = nextval('profile_revision_seq'),
      individuals = CASE WHEN counted THEN 0 ELSE individuals END;
  ELSIF TG_OP = 'INSERT' THEN
    INSERT INTO profile_revisions AS r (tenant, sandbox, revision, individuals)
    SELECT tenant, sandbox, nextval('profile_revision_seq'), CASE WHEN counted THEN n ELSE 0 END
    FROM (SELECT tenant, sandbox, count(*) AS n FROM new_rows GROUP BY 1, 2 ORDER BY 1, 2) AS c
    ON CONFLICT (tenant, sandbox) DO UPDATE
      SET revision = EXCLUDED.revision, individuals = r.individuals + EXCLUDED.individuals;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO profile_revisions AS r (tenant, sandbox, revision, individuals)
    SELECT tenant, sandbox, nextval('profile_revision_seq'), CASE WHEN counted THEN -n ELSE 0 END
    FROM (SELECT tenant, sandbox, count(*) AS n FROM old_rows GROUP BY 1, 2 ORDER BY 1, 2) AS c
    ON CONFLICT (tenant, sandbox) DO UPDATE
      SET revision = EXCLUDED.revision, individuals = r.individuals + EXCLUDED.individuals;
  ELSE  -- UPDATE
    INSERT INTO profile_revisions AS r (tenant, sandbox, revision, individuals)
    SELECT tenant, sandbox, nextval('profile_revision_seq'), CASE WHEN counted THEN n ELSE 0 END
    FROM (SELECT tenant, sandbox, sum(d) AS n FROM (
            SELECT tenant, sandbox, 1 AS d FROM new_rows
            UNION ALL SELECT tenant, sandbox, -1 FROM old_rows) AS u
          GROUP BY 1, 2 ORDER BY 1, 2) AS c
    ON CONFLICT (tenant, sandbox) DO UPDATE
      SET revision = EXCLUDED.revision, individuals = r.individuals + EXCLUDED.individuals;
  END IF;
  RETURN NULL;
END
$fn$;

CREATE TRIGGER profiles_revision_insert AFTER INSERT ON profiles
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION profile_revisions_bump();
CREATE TRIGGER profiles_revision_update AFTER UPDATE ON profiles
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION profile_revisions_bump();
CREATE TRIGGER profiles_revision_delete AFTER DELETE ON profiles
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION profile_revisions_bump();
CREATE TRIGGER profiles_revision_truncate AFTER TRUNCATE ON profiles
    FOR EACH STATEMENT EXECUTE FUNCTION profile_revisions_bump();

CREATE TRIGGER memberships_revision_insert AFTER INSERT ON memberships
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION profile_revisions_bump();
CREATE TRIGGER memberships_revision_update AFTER UPDATE ON memberships
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION profile_revisions_bump();
CREATE TRIGGER memberships_revision_delete AFTER DELETE ON memberships
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION profile_revisions_bump();
CREATE TRIGGER memberships_revision_truncate AFTER TRUNCATE ON memberships
    FOR EACH STATEMENT EXECUTE FUNCTION profile_revisions_bump();
