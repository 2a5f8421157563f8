# drift_pg: drift on PostgreSQL, against the schema text verify stored in
# the bundle (testapp_drift_pg is built with VERIFY_POSTGRES auto). Never
# migrated and pending are not drift; the seeds' hotfix column, an extra
# index, a dropped view, a changed trigger and function, an enum value
# added, a column's type and NOT NULL, a foreign key dropped, a table
# dropped and one added (with an index of its own), a schema, sequence,
# materialized view, domain, enum and function dropped are, each listed with
# the SQL that reconciles it, which drift never runs: psql runs it here and
# drift finds nothing after. An extension installed by hand is not drift.
# A role with only CONNECT, USAGE and SELECT can run it; a bundle built
# without PostgreSQL verification says how to get the text (exit 1).
# Sourced by tests/runtime/run_case.sh; expected.pg.txt beside it (PostgreSQL only).

if [ ! -x "$bin/testapp_drift_pg" ]; then
  echo "no testapp_drift_pg: this strata-bundle has no libpq to replay on PostgreSQL" >&2
  exit 77
fi

# reconcile: runs the SQL that drift --json suggests, as a person would.
reconcile() {
  sh_ "$bin/testapp_drift_pg app migrate drift --json | python3 -c 'import json,sys; sys.stdout.write(json.load(sys.stdin)[\"sql\"])' | psql -X -q -v ON_ERROR_STOP=1 \"\$pgurl\""
}

note "never migrated: compared with the empty schema; nothing is created"
run drift_pg app migrate drift
q "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'app_%'"

note "a bundle built without PostgreSQL verification has no schema text: it says how to get it"
run v1 app migrate upgrade
run v1 app migrate drift
run v1 app migrate downgrade base

note "pending is not drift"
run drift_pg app migrate upgrade eeee00000001
run drift_pg app migrate drift
run drift_pg app migrate upgrade
run drift_pg app migrate drift

note "the seeds' hotfix: a column added by hand"
q "ALTER TABLE prompts ADD COLUMN hotfix TEXT"
run drift_pg app migrate drift
json_ok drift_pg app migrate drift --json
run drift_pg app migrate drift --json
reconcile
run drift_pg app migrate drift

note "an extension installed by hand is not drift"
q "CREATE EXTENSION pg_trgm"
run drift_pg app migrate drift

note "an extra index, a dropped view, a changed trigger and function"
q "CREATE INDEX ix_prompts_model ON prompts (model)"
q "DROP VIEW haiku_prompts"
q "DROP TRIGGER trg_prompts_updated_at ON prompts"
q "CREATE TRIGGER trg_prompts_updated_at AFTER INSERT ON prompts FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
q "CREATE OR REPLACE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN RETURN NEW; END; \$\$"
run drift_pg app migrate drift
reconcile
run drift_pg app migrate drift

note "an enum value added by hand: the type is made again, rows kept"
q "INSERT INTO prompts (name, prompt_text, mood) VALUES ('daily', 'Summarise the news', 'busy')"
q "ALTER TYPE mood ADD VALUE 'angry'"
run drift_pg app migrate drift
reconcile
run drift_pg app migrate drift
q "SELECT name, mood FROM prompts"

note "a value the bundle has and the database lacks is added in its place"
q "ALTER TYPE mood RENAME TO mood_old; CREATE TYPE mood AS ENUM ('busy'); ALTER TABLE prompts ALTER COLUMN mood DROP DEFAULT; ALTER TABLE prompts ALTER COLUMN mood TYPE mood USING mood::text::mood; DROP TYPE mood_old"
run drift_pg app migrate drift
reconcile
run drift_pg app migrate drift

note "a column's type and NOT NULL, a foreign key dropped"
q "ALTER TABLE runs ALTER COLUMN output TYPE varchar(100)"
q "ALTER TABLE prompts ALTER COLUMN name DROP NOT NULL"
q "ALTER TABLE runs DROP CONSTRAINT runs_prompt_id_fkey"
run drift_pg app migrate drift
reconcile
run drift_pg app migrate drift

note "a table dropped, one added with an index of its own"
q "DROP TABLE runs"
q "CREATE TABLE scratch (a int PRIMARY KEY, b text UNIQUE)"
q "CREATE INDEX ix_scratch_b ON scratch (lower(b))"
run drift_pg app migrate drift
reconcile
run drift_pg app migrate drift

note "a schema, a sequence, a materialized view, a domain, an enum and a function dropped by hand"
q "DROP SCHEMA reports CASCADE; DROP SEQUENCE ticket_seq; DROP TYPE status; DROP FUNCTION prompt_count()"
run drift_pg app migrate drift
reconcile
run drift_pg app migrate drift

note "a role with only CONNECT, USAGE and SELECT: drift reads and writes nothing (no log row)"
q "DO \$\$ BEGIN CREATE ROLE strata_drift_ro LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END \$\$"
q "DO \$\$ BEGIN EXECUTE format('GRANT CONNECT ON DATABASE %I TO strata_drift_ro', current_database()); END \$\$"
q "GRANT USAGE ON SCHEMA public TO strata_drift_ro; GRANT SELECT ON ALL TABLES IN SCHEMA public TO strata_drift_ro"
rourl=${pgurl/postgres@/strata_drift_ro@}
sh_ 'psql -X -q "$rourl" -c "CREATE TABLE t (a int)" 2>&1 | sed "s/^psql:[^ ]* //"'
sh_ 'DATABASE_URL=$rourl $bin/testapp_drift_pg app migrate drift'
q "ALTER TABLE prompts ADD COLUMN hotfix TEXT"
sh_ 'DATABASE_URL=$rourl $bin/testapp_drift_pg app migrate drift'
q "SELECT operation FROM app_strata_log ORDER BY id"
q "DROP OWNED BY strata_drift_ro; DROP ROLE strata_drift_ro"
