#!/usr/bin/env bash
# pg_protocol.sh BUILD_DIR: what PostgreSQL sees of strata.
#  1. A no-op startup costs one query beyond connecting (the server's own
#     statement log, log_statement = all, counts them).
#  2. application_name is <app>-strata; applied_by is host:pid.
#  3. URLs: URI over TCP, URI with a socket host, key=value.
#  4. A failed CREATE UNIQUE INDEX CONCURRENTLY (transaction=none) leaves the
#     migration dirty, names the failed statement, and reports the INVALID index.
# Runs inside tests/pg/pg_env.sh.
set -u
bin=$1
# shellcheck disable=SC1090
. "$STRATA_PG_ENV"
export NO_COLOR=1 STRATA_ENV=production
unset APP_DATABASE_URL
url=$DATABASE_URL
fail=0
check() { if "$@"; then echo "ok: $*"; else echo "FAILED: $*"; fail=1; fi; }
log=$STRATA_PG_DIR/server.log

"$bin/testapp_v3" start >/dev/null 2>&1 || { echo "first start failed"; exit 1; }
psql -X -q "$url" -c "ALTER DATABASE \"$STRATA_PG_DB\" SET log_statement = 'all'"
marker="strata-roundtrip-$$-$RANDOM"
psql -X -q "$url" -c "SELECT '$marker-begin'" >/dev/null
"$bin/testapp_v3" start >/dev/null 2>&1
psql -X -q "$url" -c "SELECT '$marker-end'" >/dev/null
sleep 0.3
# Statements logged between the markers, from strata's connections only.
n=$(sed -n "/$marker-begin/,/$marker-end/p" "$log" | grep -c 'LOG:  statement:')
# the two marker statements themselves are logged too
queries=$((n - 2))
echo "no-op startup: $queries statement(s) after connecting"
sed -n "/$marker-begin/,/$marker-end/p" "$log" | grep 'LOG:  statement:' | sed 's/.*statement: /    /'
check test "$queries" = 1
psql -X -q "$url" -c "ALTER DATABASE \"$STRATA_PG_DB\" RESET log_statement"

by=$(psql -X -tA "$url" -c "SELECT DISTINCT applied_by FROM app_strata_version")
check grep -Eq '^[^:]+:[0-9]+$' <<<"$by"
"$bin/testapp_slow" app migrate upgrade >/dev/null 2>&1 &
# the slow fixture's sleep migration needs its table: v3 made items; it is
# another namespace's history only in name (same "app"), so just look at the
# connection while something runs
sleep 1
apps=$(psql -X -tA "$url" -c "SELECT DISTINCT application_name FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE '%strata%'")
wait
check test "$apps" = testapp-strata

echo "== URL forms"
sock="postgresql://postgres@/$STRATA_PG_DB?host=$STRATA_PG_SOCKET_DIR&port=$STRATA_PG_PORT"
kv="host=$STRATA_PG_HOST port=$STRATA_PG_PORT user=postgres dbname=$STRATA_PG_DB"
for u in "$url" "$sock" "$kv"; do
  out=$("$bin/testapp_v3" app migrate status --database "$u" 2>&1)
  check grep -q 'up to date' <<<"$out"
done

echo "== a failed concurrent unique index"
psql -X -q "$url" -c "DROP TABLE items, app_strata_version, app_strata_log"
out=$("$bin/testapp_invalid" app migrate upgrade 2>&1)
rc=$?
echo "$out"
check test "$rc" = 7
check grep -q 'statement 1 (line 6) failed: could not create unique index' <<<"$out"
check grep -q 'INVALID index(es) left by a failed concurrent build: ux_t_x' <<<"$out"
check test "$(psql -X -tA "$url" -c "SELECT state || ' ' || failed_statement FROM app_strata_version WHERE revision = '1a0000000002'")" = "dirty 1"
echo "== transaction=none both ways: DROP INDEX CONCURRENTLY runs outside a transaction"
psql -X -q "$url" -c "DROP TABLE IF EXISTS t, app_strata_version, app_strata_log"
check "$bin/testapp_cic_small" app migrate upgrade
check "$bin/testapp_cic_small" app migrate downgrade -1 --yes
check test "$(psql -X -tA "$url" -c "SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_items_name'")" = 0

echo "== lock=table with a schema of its own, on a fresh database"
psql -X -q "$url" -c "DROP TABLE IF EXISTS items, app_strata_version, app_strata_log"
check "$bin/testapp_v1" app migrate upgrade --lock table --schema strata_meta
check test "$(psql -X -tA "$url" -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'strata_meta'")" = 3
check "$bin/testapp_v1" app migrate status --schema strata_meta
psql -X -q "$url" -c "DROP SCHEMA strata_meta CASCADE; DROP TABLE IF EXISTS items"

echo "== --single-transaction keeps each migration's own statement_timeout"
psql -X -q "$url" -c "DROP TABLE IF EXISTS items, app_strata_version, app_strata_log"
out=$("$bin/testapp_stmt_timeout" app migrate upgrade --single-transaction 2>&1)
rc=$?
echo "$out"
check test "$rc" = 1
check grep -q 'canceling statement due to statement timeout' <<<"$out"
exit $fail
