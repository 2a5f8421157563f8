#!/usr/bin/env bash
# offline.sh sqlite|pg BUILD_DIR: `upgrade --sql` prints SQL that, applied by
# sqlite3 or `psql -v ON_ERROR_STOP=1 -f`, leaves the same schema and the same
# version rows as an online upgrade; the database then reads as up to date.
# pg: runs inside tests/pg/pg_env.sh (DATABASE_URL is the test's database).
set -u
mode=$1 bin=$2
app=$bin/../../examples/silica/silica
work=$(mktemp -d /tmp/strata-off.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
unset STRATA_ENV SILICA_ENVIRONMENT CRON_DATABASE_URL
export NO_COLOR=1
fail=0
check() { if "$@"; then echo "ok: ${*: -1}"; else echo "FAILED: $*"; fail=1; fi; }
rows="SELECT revision, exact, loose, message, state FROM cron_strata_version ORDER BY revision"

if [ "$mode" = sqlite ]; then
  "$app" cron migrate upgrade --sql --dialect sqlite >offline.sql || exit 1
  sqlite3 -bail offline.db <offline.sql || { echo "sqlite3 could not apply the offline SQL"; exit 1; }
  DATABASE_URL=sqlite:///online.db "$app" cron migrate upgrade >/dev/null || exit 1
  for db in offline online; do
    sqlite3 $db.db .schema >$db.schema
    sqlite3 $db.db "$rows" >$db.rows
  done
  check cmp -s offline.schema online.schema
  check cmp -s offline.rows online.rows
  DATABASE_URL=sqlite:///offline.db "$app" cron migrate status >status.txt
  check grep -q "up to date" status.txt
else
  base=${DATABASE_URL%/*}
  online=$DATABASE_URL
  offline_db="${STRATA_PG_DB}_off"
  psql -X -q "$online" -c "CREATE DATABASE \"$offline_db\"" || exit 1
  trap 'psql -X -q "$online" -c "DROP DATABASE IF EXISTS \"$offline_db\" WITH (FORCE)"; rm -rf "$work"' EXIT
  offline="$base/$offline_db"
  export STRATA_ENV=development
  "$app" cron migrate upgrade --sql --dialect postgresql >offline.sql || exit 1
  psql -X -q -v ON_ERROR_STOP=1 -f offline.sql "$offline" >/dev/null ||
    { echo "psql could not apply the offline SQL"; exit 1; }
  DATABASE_URL=$online "$app" cron migrate upgrade >/dev/null || exit 1
  for db in offline online; do
    # pg_dump 15+ writes a random \restrict token: not schema.
    pg_dump -s --no-owner "${!db}" | grep -v '^\\\(un\)\?restrict\|^--' >$db.schema
    psql -X -tA "${!db}" -c "$rows" >$db.rows
  done
  check cmp -s offline.schema online.schema
  check cmp -s offline.rows online.rows
  DATABASE_URL=$offline "$app" cron migrate status >status.txt
  check grep -q "up to date" status.txt
fi
# A failing migration in the offline SQL: sqlite3 stops there (.bail on), so
# the migration is not recorded as applied (transaction=none: left dirty).
if [ "$mode" = sqlite ]; then
  "$bin/testapp_dirty" app migrate upgrade --sql --dialect sqlite >fail.sql || exit 1
  sqlite3 failing.db <fail.sql >/dev/null 2>&1
  check test "$(sqlite3 failing.db "SELECT state FROM app_strata_version WHERE revision = 'eeee00000002'")" = dirty
fi
# A foreign key check that fails stops the offline SQL too (fixtures/fk's
# rebuild with an orphan row): nothing past it is recorded, as online.
if [ "$mode" = sqlite ]; then
  APP_DATABASE_URL=sqlite:///$work/fk.db "$bin/testapp_fk" app migrate upgrade aaaa00000001 >/dev/null 2>&1
  sqlite3 fk.db "INSERT INTO orders VALUES (2, 99)"
  "$bin/testapp_fk" app migrate upgrade --sql aaaa00000001:head --dialect sqlite >fk.sql
  sqlite3 fk.db <fk.sql >/dev/null 2>&1
  check test "$(sqlite3 fk.db "SELECT count(*) FROM app_strata_version")" = 1
fi
# A range: only what lies between FROM and TO.
"$app" cron migrate upgrade --sql fc0bfa77ff5a:34065a4cc718 --dialect sqlite >range.sql
check test "$(grep -c '^-- Running upgrade' range.sql)" = 1
exit $fail
