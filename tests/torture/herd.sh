#!/usr/bin/env bash
# herd.sh MODE ROUNDS PROCESSES BUILD_DIR: a herd of replicas starting at
# once. Each round, PROCESSES processes (half the application's start in
# production, half `migrate upgrade`) block on one barrier (lib.sh) in front
# of a fresh database with 50 pending migrations (herd_fixture.cmake: one of
# them a one-shot INSERT, one an UPDATE n = n + 1, five transaction=none),
# and are released together. MODE:
#   sqlite_journal  one SQLite file, rollback journal (DELETE)
#   sqlite_wal      one SQLite file set to WAL before the herd
#   pg_advisory     PostgreSQL, the session advisory lock (default)
#   pg_table        PostgreSQL, STRATA_LOCK=table (the lease row)
#   pgbouncer       through PgBouncer in transaction pooling, STRATA_LOCK=table
# The oracle after each round:
#   every process exited 0, within the round's deadline (none left running);
#   the version table holds the 50 revisions, once each, all applied;
#   across all the processes' output each migration ran exactly once;
#   the counter table has one row, n = 2 (the insert and the update once);
#   the schema equals the reference (one process, alone, on a fresh database);
#   the database is sound (integrity_check; PostgreSQL: valid indexes,
#   amcheck, no advisory lock and no lease row left, no session left);
#   SQLite WAL: still in WAL mode.
# pg modes run inside tests/pg/pg_env.sh. TORTURE_SEED is not used: nothing
# here is random but the scheduler.
set -u
mode=$1 rounds=$2 nproc=$3 bin=$4
# shellcheck disable=SC1091
. "$(dirname "$0")/lib.sh"
case $mode in
sqlite_journal | sqlite_wal) torture_setup sqlite ;;
pg_advisory | pg_table | pgbouncer) torture_setup pg ;;
*)
  echo "usage: herd.sh sqlite_journal|sqlite_wal|pg_advisory|pg_table|pgbouncer ROUNDS PROCESSES BUILD_DIR" >&2
  exit 2
  ;;
esac
app=$bin/testapp_herd
export STRATA_ENV=production
[ "$mode" = pg_table ] || [ "$mode" = pgbouncer ] && export STRATA_LOCK=table
if [ "$mode" = pgbouncer ]; then
  bouncer_dir=$(mktemp -d /tmp/strata-pgb.XXXXXX) # PgBouncer runs as postgres: not in $work
  pgbouncer_start "$bouncer_dir" 3 || exit 1
fi

# app_url: the URL the testapps get (PgBouncer's port in front of $url).
app_url() {
  if [ "$mode" = pgbouncer ]; then
    echo "postgresql://postgres@127.0.0.1:$pgbouncer_port/${url##*/}"
  else
    echo "$url"
  fi
}
fresh() {
  new_db "$1"
  [ "$mode" = sqlite_wal ] && sqlite3 "$dbfile" 'PRAGMA journal_mode = WAL' >/dev/null
}

# The reference: one process alone.
fresh reference
out=$(APP_DATABASE_URL=$(app_url) "$app" app migrate upgrade 2>&1) || {
  echo "$out"
  echo "FAIL: the reference upgrade failed"
  exit 1
}
reference=$(schema)
[ "$(echo "$reference" | grep -c 'CREATE TABLE')" -ge 40 ] || {
  echo "FAIL: the reference schema is too small to compare with:"
  echo "$reference"
  exit 1
}

tstart=$(now_ms)
slowest=0
for round in $(seq 1 "$rounds"); do
  fresh "r$round"
  mkdir "$work/r$round"
  barrier_init
  spawned=()
  for i in $(seq 1 "$nproc"); do
    if [ $((i % 2)) = 1 ]; then
      barrier_spawn "$work/r$round/out.$i" env APP_DATABASE_URL="$(app_url)" "$app" start
    else
      barrier_spawn "$work/r$round/out.$i" env APP_DATABASE_URL="$(app_url)" "$app" app migrate upgrade
    fi
  done
  barrier_wait "$nproc" || break
  t0=$(now_ms)
  barrier_release
  # Every process ends by the deadline (generous: the machine is shared).
  deadline=$((t0 + 240000))
  rcs=() left=0
  for i in "${!spawned[@]}"; do
    p=${spawned[$i]}
    while alive "$p" && [ "$(now_ms)" -lt "$deadline" ]; do sleep 0.05; done
    if alive "$p"; then
      left=$((left + 1))
      kill -KILL "$p" 2>/dev/null
    fi
    wait "$p"
    rcs+=($?)
  done
  ms=$(($(now_ms) - t0))
  [ "$ms" -gt "$slowest" ] && slowest=$ms
  check "round $round: processes still running after 240 s" "$left" 0
  bad=0
  for i in "${!rcs[@]}"; do
    if [ "${rcs[$i]}" != 0 ]; then
      bad=$((bad + 1))
      echo "--- process $((i + 1)) exited ${rcs[$i]}:"
      sed 's/^/    /' "$work/r$round/out.$((i + 1))"
    fi
  done
  check "round $round: processes that did not exit 0" "$bad" 0
  herd_oracle "round $round" "$work/r$round"
  skipped=$(cat "$work/r$round"/out.* | grep -c 'already done by another process')
  waited=$(grep -l 'waiting up to' "$work/r$round"/out.* 2>/dev/null | wc -l)
  echo "round $round: $nproc processes released at once, all done in $ms ms; exit codes: ${rcs[*]};" \
    "$waited said they waited for the lock; $skipped 'already done' skips"
  [ "$fails" -eq 0 ] || break
done
echo "herd $mode: $round round(s) of $nproc processes x 50 migrations in $(($(now_ms) - tstart)) ms" \
  "(slowest round $slowest ms)"
finish "herd $mode"
