#!/usr/bin/env bash
# verify_pg.sh STRATA_BUNDLE SOURCE_DIR: strata-bundle verify's PostgreSQL
# replay on the suite's server (STRATA_PG_DB_URL, from pg_env.sh), and once
# on a scratch cluster of its own (--postgres auto); exact output.
set -u
sb=$1 src=$2
fail=0
url=${STRATA_PG_DB_URL:?run through pg_env.sh}
work=$(mktemp -d "${TMPDIR:-/tmp}/strata-verify-pg.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
export LC_ALL=C

# expect NAME EXIT EXPECTED_OUTPUT COMMAND...: stdout and stderr together.
expect() {
    local name=$1 want_rc=$2 want=$3 got rc
    shift 3
    got=$("$@" 2>&1)
    rc=$?
    if [[ $rc -ne $want_rc || $got != "$want" ]]; then
        echo "FAIL $name: exit $rc (want $want_rc)"
        diff <(echo "$want") <(echo "$got")
        fail=1
    else
        echo "ok   $name"
    fi
}

cp -r "$src/tests/fixtures/good/15_verify_round_trip/." "$work/good"
cd "$work/good" || exit 1
expect round_trip 0 "SQLite: 2 migrations up, down to base, up again
PostgreSQL: 9 statements parsed (libpg_query, PostgreSQL 15.1 grammar); 2 migrations up, down to base, up again" \
    "$sb" verify --postgres "$url" migrations

cat >schema_pg.sql <<'SQL'
CREATE TABLE prompts (name text NOT NULL, id INT4 PRIMARY KEY, note TEXT);
CREATE TABLE jobs (id integer PRIMARY KEY, prompt_id int NOT NULL REFERENCES prompts (id) ON DELETE CASCADE);
CREATE INDEX ix_prompts_name ON prompts USING btree (name);
SQL
expect schema_equal 0 "PostgreSQL: 9 statements parsed (libpg_query, PostgreSQL 15.1 grammar); 2 migrations up, down to base, up again, final schema equals schema_pg.sql" \
    "$sb" verify --dialect postgresql --postgres "$url" --schema-postgresql schema_pg.sql migrations

cp -r "$src/tests/fixtures/bad/119_verify_not_null_without_default/." "$work/notnull"
cd "$work/notnull" || exit 1
expect not_null 1 'migrations/002_b.sql:3:1: error: column "priority" of relation "prompts" contains null values (SQLSTATE 23502) (PostgreSQL replay, up; every table had a row, as in production)' \
    "$sb" verify --dialect postgresql --postgres "$url" migrations

cp -r "$src/tests/fixtures/bad/121_verify_down_forgets_index/." "$work/index"
cd "$work/index" || exit 1
expect down_forgets_index 1 'migrations/002_b.sql:5: error: the down section does not restore the schema from before a2 (PostgreSQL replay; + left by the down section, - missing after it):
    + index CREATE INDEX idx_x ON public.prompts USING btree (name)' \
    "$sb" verify --dialect postgresql --postgres "$url" migrations

cd "$src" || exit 1
for m in cron notes; do
    out=$("$sb" verify --postgres "$url" "migrations/$m" 2>&1)
    if [[ $? -ne 0 || $out != *"PostgreSQL: "*"up again"* ]]; then
        echo "FAIL migrations/$m does not verify on PostgreSQL:"; echo "$out"; fail=1
    else
        echo "ok   migrations/$m"
    fi
done

# The vaultwarden history (../shared/corpus), converted by the corpus suite.
vw=$(dirname "$sb")/../tests/corpus/vaultwarden-runtime/vw_postgresql
if [[ -d $vw ]]; then
    out=$("$sb" verify --dialect postgresql --postgres "$url" "$vw" 2>&1)
    if [[ $? -ne 0 || $out != *"up again"* ]]; then
        echo "FAIL vaultwarden's PostgreSQL history:"; echo "$out"; fail=1
    else
        echo "ok   vaultwarden: ${out#PostgreSQL: }"
    fi
fi

# A scratch cluster of the installed server, started and removed by verify.
out=$("$sb" verify --dialect postgresql --postgres auto migrations/notes 2>&1)
if [[ $? -ne 0 || $out != "PostgreSQL: 7 statements parsed (libpg_query, PostgreSQL 15.1 grammar); 2 migrations up, down to base, up again" ]]; then
    echo "FAIL --postgres auto:"; echo "$out"; fail=1
else
    echo "ok   --postgres auto"
fi

# No scratch database left behind on the server.
left=$(psql -XAtc "SELECT count(*) FROM pg_database WHERE datname LIKE 'strata\_verify\_%'" 2>&1)
[[ $left == 0 ]] && echo "ok   no scratch database left" || { echo "FAIL left behind: $left"; fail=1; }
exit $fail
