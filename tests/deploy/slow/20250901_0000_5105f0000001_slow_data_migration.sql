-- strata: revision=5105f0000001 revises=d41f6a8e2c57
-- strata: message="a slow data migration"

-- Added on top of silica's cron migrations for deploy.pg_readyz: on
-- PostgreSQL it holds the migration lock until the test opens the gate (it
-- creates the table deploy_gate), at most 120 s, so the test decides how long
-- the migration runs rather than a sleep that a loaded machine outruns. Each
-- statement of a PL/pgSQL loop takes a new snapshot (read committed), so the
-- loop sees the table once its creation commits.

-- strata: up dialect=postgresql
DO $$
BEGIN
    FOR i IN 1..2400 LOOP
        EXIT WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_class WHERE relname = 'deploy_gate');
        PERFORM pg_sleep(0.05);
    END LOOP;
END
$$;
UPDATE prompts SET priority = priority;

-- strata: up dialect=sqlite
UPDATE prompts SET priority = priority;

-- strata: down
SELECT 1;
