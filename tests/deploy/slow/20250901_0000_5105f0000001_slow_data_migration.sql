-- strata: revision=5105f0000001 revises=d41f6a8e2c57
-- strata: message="a slow data migration"

-- Added on top of silica's cron migrations for deploy.pg_readyz: on
-- PostgreSQL it holds the migration lock for a few seconds, long enough for
-- probes of other replicas to ask /readyz meanwhile.

-- strata: up dialect=postgresql
SELECT pg_sleep(5);
UPDATE prompts SET priority = priority;

-- strata: up dialect=sqlite
UPDATE prompts SET priority = priority;

-- strata: down
SELECT 1;
