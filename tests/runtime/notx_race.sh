#!/usr/bin/env bash
# notx_race.sh BUILD_DIR [pg]: processes starting together while a slow
# transaction=none migration runs (its dirty marker is committed, its
# statements run outside any transaction). None may take the migration for
# done or for crashed: each waits for the lock, every one exits 0, and the
# child migration (which needs the slow one's last table) runs after it.
# SQLite in WAL and rollback-journal modes; PostgreSQL with `pg` (inside
# tests/pg/pg_env.sh).
set -u
bin=$1 mode=${2:-sqlite}
work=$(mktemp -d /tmp/strata-race.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
unset STRATA_ENV APP_DATABASE_URL
export NO_COLOR=1
fail=0
round() {
  local name=$1 url=$2 i rc
  local pids=()
  for i in 1 2 3 4; do
    if [ $i -le 2 ]; then
      APP_DATABASE_URL=$url "$bin/testapp_notx_race" app migrate upgrade >"$name.$i" 2>&1 &
    else
      STRATA_ENV=production APP_DATABASE_URL=$url "$bin/testapp_notx_race" start >"$name.$i" 2>&1 &
    fi
    pids+=($!)
    sleep 0.2
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}"
    rc=$?
    if [ $rc != 0 ]; then
      echo "$name: process $((i + 1)) exited $rc:"
      cat "$name.$((i + 1))"
      fail=1
    fi
  done
  local ran
  ran=$(cat "$name".* | grep -c 'Running upgrade')
  echo "$name: 'Running upgrade' lines: $ran (want 3)"
  [ "$ran" = 3 ] || fail=1
  if grep -q 'no such table\|does not exist\|did not finish' "$name".*; then
    echo "$name: a process saw the slow migration half done:"
    grep -h 'no such table\|does not exist\|did not finish' "$name".*
    fail=1
  fi
}
if [ "$mode" = pg ]; then
  round pg "$DATABASE_URL"
else
  round rollback "sqlite:///$work/journal.db"
  sqlite3 wal.db 'PRAGMA journal_mode = WAL' >/dev/null
  round wal "sqlite:///$work/wal.db"
fi
exit $fail
