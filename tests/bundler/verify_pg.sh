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
expect round_trip 0 "migrations/002_b.sql:17:1: warning: CREATE INDEX on prompts, a table this migration did not create, blocks writes to it until the index is built; use CREATE INDEX CONCURRENTLY, in a migration with '-- strata: transaction=none' (CONCURRENTLY cannot run in a transaction) [require-concurrent-index-creation]
SQLite: 2 migrations up, down to base, up again
PostgreSQL: 9 statements parsed (libpg_query, PostgreSQL 15.1 grammar); 2 migrations up, down to base, up again
Lint: 0 errors, 1 warning" \
    "$sb" verify --postgres "$url" migrations

cat >schema_pg.sql <<'SQL'
CREATE TABLE prompts (name text NOT NULL, id INT4 PRIMARY KEY, note TEXT);
CREATE TABLE jobs (id integer PRIMARY KEY, prompt_id int NOT NULL REFERENCES prompts (id) ON DELETE CASCADE);
CREATE INDEX ix_prompts_name ON prompts USING btree (name);
SQL
expect schema_equal 0 "PostgreSQL: 9 statements parsed (libpg_query, PostgreSQL 15.1 grammar); 2 migrations up, down to base, up again, final schema equals schema_pg.sql" \
    "$sb" verify --no-lint --dialect postgresql --postgres "$url" --schema-postgresql schema_pg.sql migrations

cp -r "$src/tests/fixtures/bad/119_verify_not_null_without_default/." "$work/notnull"
cd "$work/notnull" || exit 1
expect not_null 1 'migrations/002_b.sql:3:1: error: column "priority" of relation "prompts" contains null values (SQLSTATE 23502) (PostgreSQL replay, up; every table had a row, as in production)' \
    "$sb" verify --no-lint --dialect postgresql --postgres "$url" migrations

cp -r "$src/tests/fixtures/bad/121_verify_down_forgets_index/." "$work/index"
cd "$work/index" || exit 1
expect down_forgets_index 1 'migrations/002_b.sql:5: error: the down section does not restore the schema from before a2 (PostgreSQL replay; + left by the down section, - missing after it):
    + index CREATE INDEX idx_x ON public.prompts USING btree (name)' \
    "$sb" verify --no-lint --dialect postgresql --postgres "$url" migrations

# lint on the PostgreSQL replay: what only the replay sees. A rebuild (a
# new table renamed to the old name) that does not copy a column, and one
# that does not copy the rows; the parse tree's DROP TABLE is no drop there.
mkdir -p "$work/pgrebuild/migrations"
cd "$work/pgrebuild" || exit 1
cat >migrations/001_a.sql <<'SQL'
-- strata: revision=a1
-- strata: up
CREATE TABLE prompts (id integer PRIMARY KEY, name text NOT NULL, note text);
CREATE TABLE tags (id integer PRIMARY KEY, label text);
SQL
cat >migrations/002_b.sql <<'SQL'
-- strata: revision=a2 revises=a1
-- strata: message="PostgreSQL rebuilds: a column and the rows lost"
-- strata: up dialect=postgresql
CREATE TABLE prompts_new (id integer PRIMARY KEY, name text NOT NULL);
INSERT INTO prompts_new (id, name) SELECT id, name FROM prompts;
DROP TABLE prompts;
ALTER TABLE prompts_new RENAME TO prompts;
CREATE TABLE tags_new (id integer PRIMARY KEY, label text);
DROP TABLE tags;
ALTER TABLE tags_new RENAME TO tags;
-- strata: up dialect=sqlite empty
SQL
expect lint_pg_replay 1 "migrations/002_b.sql:6:1: error: column prompts.note is gone after this migration, though nothing drops it: the rebuild of prompts did not copy it, so its data is lost (PostgreSQL replay); copy it into the new table, or if dropping it is intended, say so in the header: -- strata: lint_ignore=ban-drop-column reason=\"...\" [ban-drop-column]
migrations/002_b.sql:9:1: error: table tags lost 1 of its 1 rows: the rebuild of tags did not copy them into the new table (PostgreSQL replay); INSERT INTO the new table SELECT ... FROM the old one before dropping it [lost-rows]" \
    "$sb" lint --dialect postgresql --postgres "$url" migrations

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
    out=$("$sb" verify --no-lint --dialect postgresql --postgres "$url" "$vw" 2>&1)
    if [[ $? -ne 0 || $out != *"up again"* ]]; then
        echo "FAIL vaultwarden's PostgreSQL history:"; echo "$out"; fail=1
    else
        echo "ok   vaultwarden: ${out#PostgreSQL: }"
    fi
    # Its lint errors with the replay: the parse tree's, and the rows
    # sso_nonce loses each time it is dropped and created again.
    out=$("$sb" lint --dialect postgresql --postgres "$url" "$vw" 2>&1 | grep ': error: ' |
          sed -e 's|^.*/||' -e 's/: error: .*\[/ [/')
    want="2020-08-02-025025_add_favorites_table.sql:21:1 [ban-drop-column]
2024-02-14-170000_add_state_to_sso_nonce.sql:6:1 [ban-drop-table]
2024-02-14-170000_add_state_to_sso_nonce.sql:6:1 [lost-rows]
2024-02-26-170000_add_pkce_to_sso_nonce.sql:6:1 [ban-drop-table]
2024-02-26-170000_add_pkce_to_sso_nonce.sql:6:1 [lost-rows]
2025-08-20-120000_sso_nonce_to_auth.sql:6:1 [ban-drop-table]"
    if [[ $out != "$want" ]]; then
        echo "FAIL vaultwarden lint with the PostgreSQL replay:"; diff <(echo "$want") <(echo "$out"); fail=1
    else
        echo "ok   vaultwarden lint with the PostgreSQL replay"
    fi
fi

# A scratch cluster of the installed server, started and removed by verify.
out=$("$sb" verify --dialect postgresql --postgres auto migrations/notes 2>&1)
if [[ $? -ne 0 || $out != "PostgreSQL: 7 statements parsed (libpg_query, PostgreSQL 15.1 grammar); 2 migrations up, down to base, up again
Lint: no findings" ]]; then
    echo "FAIL --postgres auto:"; echo "$out"; fail=1
else
    echo "ok   --postgres auto"
fi

# No scratch database left behind on the server.
left=$(psql -XAtc "SELECT count(*) FROM pg_database WHERE datname LIKE 'strata\_verify\_%'" 2>&1)
[[ $left == 0 ]] && echo "ok   no scratch database left" || { echo "FAIL left behind: $left"; fail=1; }
exit $fail
