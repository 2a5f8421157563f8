#!/usr/bin/env bash
# pgbouncer.sh BUILD_DIR: PgBouncer in transaction pooling mode in front of the
# test's database; replicas migrate through it with --lock table (a lease
# row: session advisory locks do not hold behind a transaction pooler).
#  1. 6 replicas start together: every one exits 0, each migration runs once.
#  2. A holder killed with SIGKILL mid-migration leaves its lease behind; the
#     next run waits for the lease to expire, then takes over and finishes.
#  3. A session holding a table lock makes the migration time out and retry:
#     the warning names that session's real pid (PgBouncer hides our own).
#  4. A transaction=none migration (CREATE INDEX CONCURRENTLY, a rule, a
#     function) runs through PgBouncer without session SETs: it warns that its
#     timeouts cannot be set, and no pooled connection is left with them.
# Runs inside tests/pg/pg_env.sh (DATABASE_URL, STRATA_PG_PORT, STRATA_PG_DB).
set -u
bin=$1
# shellcheck disable=SC1090
. "$STRATA_PG_ENV" # the server's port (STRATA_PG_PORT)
# shellcheck disable=SC1091
. "$(dirname "$0")/../pg/pgbouncer_lib.sh"
work=$(mktemp -d /tmp/strata-pgb.XXXXXX)
cleanup() {
  pgbouncer_stop "$work"
  rm -rf "$work"
}
trap cleanup EXIT
pgbouncer_start "$work" 3 || exit 1
port=$pgbouncer_port
url="postgresql://postgres@127.0.0.1:$port/$STRATA_PG_DB"
direct=$DATABASE_URL
unset DATABASE_URL APP_DATABASE_URL
export NO_COLOR=1 STRATA_ENV=production STRATA_LOCK=table APP_DATABASE_URL=$url
fail=0

echo "== 6 replicas through PgBouncer (transaction pooling), lock=table"
pids=()
for i in 1 2 3 4 5 6; do
  "$bin/testapp_v3" start >"$work/out.$i" 2>&1 &
  pids+=($!)
done
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || { echo "replica $((i + 1)) failed:"; cat "$work/out.$((i + 1))"; fail=1; }
done
ran=$(cat "$work"/out.* | grep -c 'Running upgrade')
rows=$(psql -X -tA "$direct" -c "SELECT count(*) FROM app_strata_version WHERE state = 'applied'")
left=$(psql -X -tA "$direct" -c "SELECT count(*) FROM app_strata_lock")
echo "migrations run: $ran, version rows: $rows, lease rows left: $left"
# Production skips the seed migration (environments=development,test): 3 of 4.
[ "$ran" = 3 ] && [ "$rows" = 3 ] && [ "$left" = 0 ] || { echo "FAILED: exactly once"; fail=1; }

echo "== a holder killed mid-migration: its lease expires, the next run takes over"
psql -X -q "$direct" -c "DROP TABLE items, app_strata_version, app_strata_log, app_strata_lock"
"$bin/testapp_slow" app migrate upgrade --lock-lease 3 >"$work/killed.out" 2>&1 &
victim=$!
# Both migrations go to the server in one message, the slow one second: it
# runs once the first one's row is committed. (Other tests share the server
# and run pg_sleep migrations of their own: only this database counts.)
running=0
for _ in $(seq 100); do
  grep -q 'a long data migration' "$work/killed.out" 2>/dev/null && { running=1; break; }
  [ "$(psql -X -tA "$direct" -c "SELECT count(*) FROM app_strata_version WHERE revision = 'aaaa00000001'" 2>/dev/null)" = 1 ] &&
    { running=1; break; }
  sleep 0.1
done
[ "$running" = 1 ] || { echo "FAILED: the slow migration never started:"; cat "$work/killed.out"; fail=1; }
kill -9 "$victim" || { echo "FAILED: the holder ended before it was killed:"; cat "$work/killed.out"; fail=1; }
wait "$victim" 2>/dev/null
holder=$(psql -X -tA "$direct" -c "SELECT holder FROM app_strata_lock")
echo "lease left by the killed holder: ${holder:-none}"
[ -n "$holder" ] || { echo "FAILED: the killed holder had no lease"; fail=1; }
t0=$(date +%s%N)
"$bin/testapp_slow" app migrate upgrade --lock-lease 3 --lock-wait 30 >"$work/next.out" 2>&1
rc=$?
t1=$(date +%s%N)
cat "$work/next.out"
echo "next run: exit $rc after $(((t1 - t0) / 1000000)) ms"
[ "$rc" = 0 ] || { echo "FAILED: the next run did not take over"; fail=1; }
grep -q 'waiting up to 30 s for the migration lock' "$work/next.out" ||
  { echo "FAILED: the next run did not wait for the expired lease"; fail=1; }
rows=$(psql -X -tA "$direct" -c "SELECT count(*) FROM app_strata_version WHERE state = 'applied'")
[ "$rows" = 2 ] || { echo "FAILED: expected 2 applied migrations, got $rows"; fail=1; }

echo "== a table lock held by another session: the retry warning names it"
altert=$bin/../pg_reliability/testapp_altert
psql -X -q "$direct" -c "DROP TABLE items, app_strata_version, app_strata_log, app_strata_lock"
"$altert" app migrate upgrade a17e00000001 >"$work/m1.out" 2>&1 ||
  { echo "FAILED: the first migration:"; cat "$work/m1.out"; fail=1; }
printf 'BEGIN;\nSELECT count(*) FROM t;\nSELECT pg_sleep(2);\nCOMMIT;\n' |
  PGAPPNAME=strata-test-blocker psql -X -q -tA "$direct" >"$work/blocker.out" 2>&1 &
blk=$!
blkpid=
for _ in $(seq 100); do
  blkpid=$(psql -X -tA "$direct" -c "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'strata-test-blocker' AND query LIKE 'SELECT pg_sleep%'")
  [ -n "$blkpid" ] && break
  sleep 0.05
done
echo "blocker: backend pid ${blkpid:-?} holds AccessShareLock on t for 2 s"
"$altert" app migrate upgrade >"$work/m2.out" 2>&1
rc=$?
wait "$blk"
sed "s/pid $blkpid\b/pid BLOCKER/" "$work/m2.out" | grep 'lock timeout' | head -n 1
[ "$rc" = 0 ] || { echo "FAILED: the migration exited $rc:"; cat "$work/m2.out"; fail=1; }
[ -n "$blkpid" ] && grep 'lock timeout' "$work/m2.out" | grep -q "(pid $blkpid\b" ||
  { echo "FAILED: no retry warning names the blocker's pid ${blkpid:-?}:"; cat "$work/m2.out"; fail=1; }

echo "== transaction=none through PgBouncer: no session SET"
psql -X -q "$direct" -c "DROP TABLE t, app_strata_version, app_strata_log, app_strata_lock"
"$bin/../pg_reliability/testapp_cic" app migrate upgrade >"$work/cic.out" 2>&1
rc=$?
grep 'transaction=none' "$work/cic.out"
[ "$rc" = 0 ] || { echo "FAILED: the migration exited $rc:"; cat "$work/cic.out"; fail=1; }
grep -q 'warning: transaction=none behind a connection pooler' "$work/cic.out" ||
  { echo "FAILED: no warning that the timeouts are not set"; fail=1; }
valid=$(psql -X -tA "$direct" -c "SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_big_name'::regclass")
body=$(psql -X -tA "$direct" -c "SELECT big_note()")
echo "index valid: ${valid:-none}; function: ${body:-none}"
[ "$valid" = t ] && [ "$body" = 'body kept; whole' ] || { echo "FAILED: index or function missing"; fail=1; }
# Every pooled server connection (default_pool_size = 3), held at once by
# three transactions, reports the server's default lock_timeout.
for i in 1 2 3; do
  psql -X -q -tA "$url" -c "BEGIN" -c "SELECT current_setting('lock_timeout'), pg_sleep(0.5)" -c "COMMIT" >"$work/lt.$i" 2>&1 &
done
wait
settings=$(cut -d'|' -f1 "$work"/lt.* | sort | uniq -c | sed 's/^ *//')
echo "lock_timeout on the pooled connections: $settings"
[ "$settings" = "3 0" ] || { echo "FAILED: a pooled connection kept a session setting:"; cat "$work"/lt.*; fail=1; }
exit $fail
