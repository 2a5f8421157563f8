#!/usr/bin/env bash
# killsweep.sh MODE ROUNDS BUILD_DIR: upgrades of slow migrations
# (fixtures/crash: three slow ones, 2 and 4 in a transaction, 3 without)
# interrupted at random moments and inside each slow migration, restarted,
# and judged by the consistency oracle (lib.sh crash_oracle) after every
# interruption and at the end. MODE:
#   sqlite_journal  kill -9 of the process; SQLite, rollback journal
#   sqlite_wal      kill -9 of the process; SQLite in WAL mode
#   pg_kill         kill -9 of the process; PostgreSQL, advisory lock
#   pg_table_kill   kill -9 of the process; PostgreSQL, STRATA_LOCK=table
#                   (the next run waits out the dead holder's lease, 3 s)
#   pg_terminate    pg_terminate_backend() of the session running the
#                   migration or of the one holding the lock (in turn); the
#                   process must then stop by itself, non-zero, and say why,
#                   and commit nothing but the migration in flight
#   pg_lock_lost    the lock session terminated 200 ms into migration 4 (its
#                   one round trip takes about 300 ms), with migration 5 still
#                   to come: the holder must notice before it begins
#                   migration 5 (a look at the lock about 100 ms into a round
#                   trip and 300 ms after that does not see it in time)
# Each round starts from a fresh database and interrupts runs in a row (a
# restart is interrupted again: 4 in the first round, then 1 to 3), aiming
# in turn at a random moment inside migration 2, 3 and 4 and at a random
# moment of what is left to do. After
# each interruption (and the killed backends' end, on PostgreSQL):
#   crash_oracle: every transactional migration all or nothing, the
#   transaction=none one absent, dirty with a prefix of its statements, or
#   whole; counters agree with the rows; integrity_check / amcheck.
# A dirty migration: the next `upgrade` must exit 7 naming the migration
# and both repair commands; it is resolved as an operator would (all four
# statements done: --mark-applied; else drop what it made, --mark-unapplied).
# At the end of the round a last `upgrade` exits 0 and the database equals
# the reference: every migration applied once, counter 15, schema equal,
# nothing left held. TORTURE_SEED=N repeats a run's random choices.
set -u
mode=$1 rounds=$2 bin=$3
# shellcheck disable=SC1091
. "$(dirname "$0")/lib.sh"
case $mode in
sqlite_journal | sqlite_wal) torture_setup sqlite ;;
pg_kill | pg_table_kill | pg_terminate | pg_lock_lost) torture_setup pg ;;
*)
  echo "usage: killsweep.sh sqlite_journal|sqlite_wal|pg_kill|pg_table_kill|pg_terminate|pg_lock_lost ROUNDS BUILD_DIR" >&2
  exit 2
  ;;
esac
app=$bin/testapp_crash
seed=${TORTURE_SEED:-$(($(date +%s) % 100000))}
RANDOM=$seed
echo "seed $seed (TORTURE_SEED=$seed repeats these choices)"
export STRATA_ENV=production
lockopts=()
if [ "$mode" = pg_table_kill ]; then
  export STRATA_LOCK=table
  lockopts=(--lock-lease 3)
fi

fresh() {
  new_db "$1"
  [ "$mode" = sqlite_wal ] && sqlite3 "$dbfile" 'PRAGMA journal_mode = WAL' >/dev/null
}
upgrade() { APP_DATABASE_URL=$url "$app" app migrate upgrade "${lockopts[@]}" "$@"; }
# upgrade_bg OUT: the same in the background, its pid (the testapp's own:
# the pid that gets killed) in $pid.
upgrade_bg() {
  (
    export APP_DATABASE_URL=$url
    exec "$app" app migrate upgrade "${lockopts[@]}"
  ) >"$1" 2>&1 &
  pid=$!
}
sleep_ms() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }
rand_ms() { echo $(((RANDOM * 32768 + RANDOM) % ($1 + 1))); }

# The reference, and how long each migration takes here (ms).
fresh reference
out=$(upgrade 2>&1) || {
  echo "$out"
  echo "FAIL: the reference upgrade failed"
  exit 1
}
reference=$(schema)
declare -A dur
for k in 1 2 3 4 5; do
  dur[$k]=$(echo "$out" | grep -- "-> c4a50000000$k," | sed 's/.*(\([0-9]*\) ms).*/\1/')
done
echo "reference run: ${dur[1]}, ${dur[2]}, ${dur[3]}, ${dur[4]}, ${dur[5]} ms per migration"
crash_oracle reference
[ "$crash_where" = end ] || fail "reference: not all applied"

# resolve LABEL: a dirty migration 3, as the error says: check what it
# changed, finish or undo it by hand, then repair.
resolved=0
resolve() {
  local label=$1 out rc p
  out=$(upgrade 2>&1)
  rc=$?
  check "$label: exit of the upgrade after a dirty migration" "$rc" 7
  checks=$((checks + 1))
  case $out in
  *"error: migration c4a500000003 (003_notx.sql) of namespace app runs without a transaction and did not finish"*"Check what it changed, finish or undo it by hand, then run 'testapp app migrate repair --mark-applied c4a500000003' or 'testapp app migrate repair --mark-unapplied c4a500000003'"*) ;;
  *) fail "$label: the dirty migration's message does not name it and both repairs: $out" ;;
  esac
  crash_facts
  p="$(h ks_n1)$(h ks_n2)$(h ks_n2_x)$(h ks_n3)"
  # A concurrent index build that was cut leaves its index INVALID: redo it.
  if [ "$kind" = pg ] && [ "$(q "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('ks_n2_x')")" = f ]; then
    p=${p}-invalid
  fi
  if [ "$p" = 1111 ]; then
    out=$(APP_DATABASE_URL=$url "$app" app migrate repair --mark-applied c4a500000003 --yes 2>&1)
  else
    q "DROP TABLE IF EXISTS ks_n3" >/dev/null
    q "DROP TABLE IF EXISTS ks_n2" >/dev/null
    q "DROP TABLE IF EXISTS ks_n1" >/dev/null
    out=$(APP_DATABASE_URL=$url "$app" app migrate repair --mark-unapplied c4a500000003 --yes 2>&1)
  fi
  rc=$?
  check "$label: repair of the dirty migration ($p done): exit" "$rc" 0
  [ "$rc" = 0 ] || echo "$out"
  resolved=$((resolved + 1))
}

# terminate LABEL WHICH [AT_MS PATTERN]: pg_terminate_backend() of the
# testapp's session (WHICH: migration, the one not holding the advisory
# lock; or lock) while it runs ($pid), once a statement of the testapp whose
# text is LIKE PATTERN has run AT_MS (if given). The server does it all in one statement (a psql takes a good part
# of a second to start on a busy machine): it waits for the moment, ends the
# session, watches it go and reads its clock, $gone. The process must then
# stop by itself, saying why, and begin no migration: no row of ks_log
# (stamped with its migration's transaction start) may be later than $gone.
terminate() {
  local label=$1 which=$2 at=${3:--1} pattern=${4:-} rc late res vpid
  local holders="SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
    AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
  local pick="$holders LIMIT 1"
  [ "$which" = migration ] && pick="SELECT pid FROM pg_stat_activity
    WHERE datname = current_database() AND application_name = 'testapp-strata'
    AND pid NOT IN ($holders) ORDER BY backend_start DESC LIMIT 1"
  # Separate statements, and a COMMIT in each turn of the wait: a snapshot
  # held across it would make CREATE INDEX CONCURRENTLY wait for this session.
  res=$(psql -X -q -tA "$direct" -c "CREATE TEMP TABLE t_res (pid int, age int, gone timestamptz)" \
    -c "DO \$\$ DECLARE v int; a int := -1; seen bool := false; BEGIN
      FOR i IN 1 .. 120000 LOOP
        EXIT WHEN $at < 0;
        PERFORM pg_stat_clear_snapshot();
        SELECT max(round(extract(epoch FROM clock_timestamp() - query_start) * 1000)) INTO a
          FROM pg_stat_activity WHERE datname = current_database() AND state = 'active'
          AND query LIKE '$pattern' AND application_name = 'testapp-strata';
        EXIT WHEN a >= $at;
        IF EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database()
                   AND application_name = 'testapp-strata') THEN
          seen := true;
        ELSIF seen THEN
          EXIT; -- the process has ended
        END IF;
        COMMIT;
        PERFORM pg_sleep(0.001);
      END LOOP;
      $pick INTO v;
      IF v IS NOT NULL THEN
        PERFORM pg_terminate_backend(v);
        FOR i IN 1 .. 30000 LOOP
          PERFORM pg_stat_clear_snapshot();
          EXIT WHEN NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = v);
          COMMIT;
          PERFORM pg_sleep(0.001);
        END LOOP;
      END IF;
      INSERT INTO t_res VALUES (v, a, clock_timestamp());
    END \$\$" -c "SELECT coalesce(pid, 0) || '|' || coalesce(age, -1) || '|' || gone FROM t_res" 2>&1 |
    tail -n 1)
  IFS='|' read -r vpid age gone <<<"$res"
  if [ -z "$gone" ]; then
    fail "$label: terminating the $which session failed: $res"
    kill -KILL "$pid"
    wait "$pid"
    return
  fi
  if [ "$vpid" = 0 ]; then
    missed=$((missed + 1))
    wait "$pid"
    outcomes["no $which session"]=$((${outcomes["no $which session"]:-0} + 1))
    return
  fi
  t1=$(now_ms)
  while alive "$pid" && [ $(($(now_ms) - t1)) -lt 120000 ]; do sleep 0.02; done
  if alive "$pid"; then
    fail "$label: still running 120 s after its $which session was terminated"
    kill -KILL "$pid"
  fi
  wait "$pid"
  rc=$?
  outcomes["$which session: exit $rc"]=$((${outcomes["$which session: exit $rc"]:-0} + 1))
  sessions_gone 120
  crash_facts
  if [ "$(h ks_log)" = 1 ]; then
    late=$(q "SELECT string_agg(rev, ' ' ORDER BY rev) FROM ks_log WHERE at > '$gone'")
    check "$label: migrations begun after its $which session was gone (exit $rc)" "$late" ""
    [ -z "$late" ] || sed 's/^/    /' "$work/run.out"
  fi
  # It stops, non-zero, and says why (or it had finished its work).
  checks=$((checks + 1))
  if [ "$rc" = 0 ]; then
    crash_states
    [ "${crash_state[5]}" = applied ] ||
      fail "$label: exit 0 after its $which session was terminated, with work left"
  elif ! grep -q '^error: ' "$work/run.out"; then
    fail "$label: exit $rc without an error message:"
    cat "$work/run.out"
  fi
}

turn=0
declare -A landed outcomes
interruptions=0 missed=0
tstart=$(now_ms)
failed_rounds=0 aims=0
for round in $(seq 1 "$rounds"); do
  fresh "r$round"
  fails_before=$fails
  # The first round aims at migration 2, 3, 4 and a random moment in turn;
  # the others interrupt 1 to 3 runs, aiming where the turn has come to.
  nkill=$((1 + RANDOM % 3))
  [ "$round" = 1 ] && nkill=4
  [ "$mode" = pg_lock_lost ] && nkill=1
  for j in $(seq 1 "$nkill"); do
    label="round $round, interruption $j"
    if [ "$mode" = pg_lock_lost ]; then
      upgrade c4a500000003 >"$work/run.out" 2>&1 || {
        fail "$label: upgrade to migration 3 failed:"
        cat "$work/run.out"
        break 2
      }
      upgrade_bg "$work/run.out"
      interruptions=$((interruptions + 1))
      terminate "$label" lock 200 '%ks-slow-4%'
      sessions_gone 120 || fail "$label: sessions still there 120 s after the interruption"
      crash_oracle "$label"
      landed[$crash_where]=$((${landed[$crash_where]:-0} + 1))
      echo "$label: the lock session terminated $age ms into migration 4 (of ${dur[4]}), stopped at $crash_where"
      continue
    fi
    crash_states
    # Aim: a random moment, or inside migration 2, 3 or 4 (the slow ones).
    aims=$((aims + 1))
    target=$((aims % 4))
    [ "$target" -ge 1 ] && target=$((target + 1))
    if [ "$target" -ge 2 ] && [ "${crash_state[$target]}" != none ]; then target=0; fi
    if [ "$target" = 0 ]; then
      event= left=0
      for k in 1 2 3 4 5; do
        [ "${crash_state[$k]}" = applied ] || left=$((left + ${dur[$k]}))
      done
      delay=$(rand_ms $((left + 100)))
    elif [ "${crash_state[$((target - 1))]}" = applied ]; then
      event='Upgrading app database'
      delay=$(rand_ms $((${dur[$target]} * 9 / 10)))
    else
      event="-> c4a50000000$((target - 1)),"
      delay=$(rand_ms $((${dur[$target]} * 9 / 10)))
    fi
    # pg_terminate aims on the server's clock (terminate): the statements of
    # migration 2 and 4 carry a marker, migration 3's name its tables.
    pattern=
    if [ "$mode" = pg_terminate ] && [ "$target" != 0 ]; then
      event= delay=0
      pattern="%ks-slow-$target%" at=$(rand_ms $((${dur[$target]} * 9 / 10)))
      if [ "$target" = 3 ]; then # its first statement sleeps, the others are quick
        case $((RANDOM % 3)) in
        0) pattern='%ks_n1 AS%' at=$(rand_ms 450) ;;
        1) pattern='%ks_n2 AS%' at=0 ;;
        2) pattern='%CONCURRENTLY ks_n2_x%' at=0 ;;
        esac
      fi
    fi
    upgrade_bg "$work/run.out"
    t0=$(now_ms)
    if [ -n "$event" ]; then
      while alive "$pid" && ! grep -q -- "$event" "$work/run.out"; do
        [ $(($(now_ms) - t0)) -lt 120000 ] || break
        sleep 0.01
      done
    fi
    sleep_ms "$delay"
    interruptions=$((interruptions + 1))
    if ! alive "$pid"; then
      missed=$((missed + 1)) # it finished first
      wait "$pid"
      rc=$?
      [ "$rc" = 0 ] || {
        fail "$label: the run ended by itself with exit $rc before the interruption:"
        cat "$work/run.out"
      }
    elif [ "$mode" = pg_terminate ]; then
      turn=$((turn + 1))
      which=migration
      [ $((turn % 2)) = 0 ] && which=lock
      if [ -n "$pattern" ]; then
        terminate "$label" "$which" "$at" "$pattern"
        delay=$at
      else
        terminate "$label" "$which"
      fi
    else
      kill -KILL "$pid"
      wait "$pid" 2>/dev/null
    fi
    # A killed client's backend may still run its statement: judge after it.
    sessions_gone 120 || fail "$label: sessions still there 120 s after the interruption"
    crash_oracle "$label"
    landed[$crash_where]=$((${landed[$crash_where]:-0} + 1))
    aim="a random moment"
    [ "$target" != 0 ] && aim="migration $target"
    echo "$label: aimed at $aim (+$delay ms), stopped at $crash_where"
    [ "${crash_state[3]}" = dirty ] && resolve "$label"
    [ "$fails" -eq "$fails_before" ] || break # on to this round's last run
  done
  # The last run finishes the job.
  out=$(upgrade 2>&1)
  rc=$?
  if [ "$rc" = 7 ]; then
    resolve "round $round, the end"
    out=$(upgrade 2>&1)
    rc=$?
  fi
  no_journal "round $round, the end"
  check "round $round: the last upgrade's exit" "$rc" 0
  [ "$rc" = 0 ] || echo "$out"
  crash_oracle "round $round, the end"
  check "round $round: everything applied" "$crash_where" end
  same_schema "round $round, the end"
  sessions_gone 30
  integrity "round $round, the end"
  if [ "$fails" -ne "$fails_before" ]; then
    failed_rounds=$((failed_rounds + 1))
    [ "$fails" -lt 40 ] || break
  fi
done
echo "killsweep $mode: $round round(s) ($failed_rounds with a failure), $interruptions interruptions ($missed found the work done" \
  "or no session to end), $resolved dirty migrations resolved, in $(($(now_ms) - tstart)) ms"
echo "where the work stopped: $(for w in "${!landed[@]}"; do echo "$w ${landed[$w]}"; done | sort | tr '\n' ';')"
[ "$mode" = pg_terminate ] || [ "$mode" = pg_lock_lost ] &&
  echo "outcomes: $(for w in "${!outcomes[@]}"; do echo "$w: ${outcomes[$w]}"; done | sort | tr '\n' ';')"
finish "killsweep $mode"
