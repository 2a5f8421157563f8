#!/usr/bin/env bash
# reliability.sh CASE BUILD_DIR: the PostgreSQL reliability requirements of
# strata, each against the real throwaway server of the `pg` fixture (run
# through tests/pg/pg_env.sh, which gives the test a database of its own in
# DATABASE_URL). Nothing is mocked: real processes, real sessions, real locks.
#
# Cases:
#   cic_replicas       8 replicas start at once while a migration runs
#                      CREATE INDEX CONCURRENTLY: no deadlock, index valid,
#                      each migration exactly once, all exit 0 (3 rounds).
#   lock_wait          another strata holds the migration lock: --lock-wait 3
#                      exits 6 in 3 +- 1 s, names the holder (its lock session,
#                      and the busy session running its migration), changes
#                      nothing.
#   lock_timeout_retry a session holds a conflicting table lock for 2.5 s: the
#                      migration retries under lock_timeout (naming the
#                      blocker) and succeeds; concurrent SELECTs on the table
#                      are never blocked for long.
#   lock_timeout_giveup the blocker stays: the migration gives up after its
#                      bounded retries (exit 1) naming the blocker and its
#                      query; the table is unchanged.
#   batch_retry        five migrations, the first applied; the third, in one
#                      message with the others, times out on a held table
#                      lock: the second stays committed, the ones after the
#                      third did not run, the third is retried (naming the
#                      blocker) and all finish, each once and in order.
#   batch_lock_lost    two migrations in one message, the first sleeping;
#                      the holder stopped, its lock session terminated: the
#                      server commits the first (its check passed at its
#                      start), the second's check fails, so it never runs;
#                      resumed, the holder says the lock was lost and writes
#                      nothing more.
#   sigint, sigterm    the signal cancels the running statement, the process
#                      exits within 2 s, the lock is released, and a new run
#                      gets the lock at once.
#
# Timings are printed so the test log documents the figures.
set -u
case_=${1:?CASE}
bin=${2:?BUILD_DIR}

. "$(dirname "$0")/../pg/pg_env.sh"
pg_env_load # STRATA_PG_DIR, STRATA_PG_HOST, STRATA_PG_PORT, STRATA_PSQL, pg_admin
[[ -n ${DATABASE_URL:-} && -n ${STRATA_PG_DB:-} ]] ||
    { echo "error: run through tests/pg/pg_env.sh (strata_add_pg_test)" >&2; exit 1; }

# A clean environment: nothing from the caller decides the environment or URL.
unset STRATA_ENV TESTAPP_ENVIRONMENT APP_DATABASE_URL DYNO PIKU_APP_NAME DOKKU_APP_NAME \
    KUBERNETES_SERVICE_HOST TESTAPP_STRICT TESTAPP_AUTO_MIGRATE CLICOLOR_FORCE PGAPPNAME
export NO_COLOR=1 STRATA_ENV=production
url=$DATABASE_URL
serverlog=$STRATA_PG_DIR/server.log

work=$(mktemp -d /tmp/strata-pgrel.XXXXXX)
bgpids=()
extra_dbs=()
cleanup() {
    local p d
    for p in "${bgpids[@]}"; do
        kill -KILL "$p" 2>/dev/null
    done
    for d in "${extra_dbs[@]}"; do
        pg_admin "DROP DATABASE IF EXISTS \"$d\" WITH (FORCE)" >/dev/null 2>&1
    done
    rm -rf "$work"
}
trap cleanup EXIT
cd "$work" || exit 1

failures=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}
ok() { echo "ok: $*"; }
die() {
    echo "FAIL: $*"
    exit 1
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }
# q [URL] SQL: rows as a|b.
q() {
    if [[ $# -ge 2 ]]; then
        "$STRATA_PSQL" -X -q -tA -v ON_ERROR_STOP=1 "$1" -c "$2"
    else
        "$STRATA_PSQL" -X -q -tA -v ON_ERROR_STOP=1 "$url" -c "$1"
    fi
}
# alive PID: the process exists and is not a zombie.
alive() {
    local st
    [[ -r /proc/$1/stat ]] || return 1
    st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
    [[ -n $st && $st != Z ]]
}
# wait_for SECONDS SQL: polls until SQL returns a non-empty, non-'0', non-'f' value; echoes it.
wait_for() {
    local deadline=$(($(now_ms) + $1 * 1000)) v
    while (($(now_ms) < deadline)); do
        v=$(q "$2" 2>/dev/null)
        if [[ -n $v && $v != 0 && $v != f ]]; then
            echo "$v"
            return 0
        fi
        sleep 0.05
    done
    return 1
}
show() { # show FILE LABEL: the output of a process, indented
    echo "--- $2:"
    sed 's/^/    /' "$1"
}
# The sessions holding advisory locks in the test's database (strata's lock
# session holds two: the migration lock and the one its migrations check).
ADVISORY="SELECT coalesce(string_agg(pid::text, ' ' ORDER BY pid), '') FROM (SELECT DISTINCT pid
          FROM pg_locks WHERE locktype = 'advisory' AND granted
            AND database = (SELECT oid FROM pg_database WHERE datname = current_database())) l"

# ---------------------------------------------------------------------------
# 1. 8 replicas start together while one migration is CREATE INDEX CONCURRENTLY
# ---------------------------------------------------------------------------
cic_round() {
    local round=$1 db=$2 rurl i rc logsize t0 t1 ms valid invalid rows nrun r waited nothing \
        dl rowsbig audit note
    rurl="postgresql://postgres@$STRATA_PG_HOST:$STRATA_PG_PORT/$db"
    mkdir "r$round"
    logsize=$(stat -c %s "$serverlog" 2>/dev/null || echo 0)
    # A barrier: the 8 processes are forked first, then released together.
    local pids=()
    for i in 1 2 3 4 5 6 7 8; do
        (
            while [[ ! -e r$round/go ]]; do sleep 0.005; done
            DATABASE_URL=$rurl exec "$bin/testapp_cic" start
        ) >"r$round/out.$i" 2>&1 &
        pids+=("$!")
        bgpids+=("$!")
    done
    sleep 0.3
    t0=$(now_ms)
    touch "r$round/go"
    local rcs=()
    for i in "${!pids[@]}"; do
        wait "${pids[$i]}"
        rcs+=("$?")
    done
    t1=$(now_ms)
    echo "round $round ($db): 8 replicas finished in $((t1 - t0)) ms; exit codes: ${rcs[*]}"
    for i in "${!rcs[@]}"; do
        if [[ ${rcs[$i]} -ne 0 ]]; then
            fail "round $round: replica $((i + 1)) exited ${rcs[$i]} (expected 0)"
            show "r$round/out.$((i + 1))" "replica $((i + 1))"
        fi
    done
    valid=$(q "$rurl" "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                       WHERE c.relname = 'ix_big_name'")
    invalid=$(q "$rurl" "SELECT count(*) FROM pg_index WHERE NOT indisvalid OR NOT indisready")
    [[ $valid == t ]] || fail "round $round: index ix_big_name: indisvalid='$valid' (expected t)"
    [[ $invalid == 0 ]] || fail "round $round: $invalid invalid or not-ready index(es)"
    rows=$(q "$rurl" "SELECT string_agg(revision || ':' || state, ' ' ORDER BY revision)
                      FROM app_strata_version")
    [[ $rows == "c1c000000001:applied c1c000000002:applied" ]] ||
        fail "round $round: version table '$rows' (expected exactly 2 applied rows)"
    rowsbig=$(q "$rurl" "SELECT count(*) FROM big")
    [[ $rowsbig == 300000 ]] || fail "round $round: big has '$rowsbig' rows (expected 300000)"
    audit=$(q "$rurl" "UPDATE big SET name = name WHERE id = 1;
                       SELECT string_agg(what, ',' ORDER BY what) FROM big_audit")
    [[ $audit == "new,old" ]] || fail "round $round: the rule big_audit wrote '$audit' (expected new,old)"
    note=$(q "$rurl" "SELECT big_note()")
    [[ $note == "body kept; whole" ]] || fail "round $round: big_note() returned '$note'"
    for r in c1c000000001 c1c000000002; do
        nrun=$(cat r$round/out.* | grep -c "Running upgrade .*-> $r,")
        [[ $nrun == 1 ]] || fail "round $round: migration $r ran $nrun times (expected exactly once)"
    done
    nrun=$(cat r$round/out.* | grep -c "Running upgrade")
    waited=$(grep -l "waiting up to" r$round/out.* | wc -l)
    nothing=$(grep -l "Nothing to do" r$round/out.* | wc -l)
    ms=$(q "$rurl" "SELECT string_agg(revision || ' ' || duration_ms || ' ms', ', ' ORDER BY revision)
                    FROM app_strata_version")
    echo "round $round: 'Running upgrade' lines over all outputs: $nrun; replicas that waited" \
        "for the lock: $waited; replicas with nothing left to do: $nothing; durations: $ms"
    if grep -il "deadlock" r$round/out.*; then
        fail "round $round: 'deadlock' in the output of the replica(s) above"
    fi
    dl=$(tail -c +"$((logsize + 1))" "$serverlog" 2>/dev/null | grep -i -A3 "deadlock detected")
    if [[ -n $dl ]]; then
        fail "round $round: 'deadlock detected' in the server log:"
        echo "$dl"
    fi
    [[ -r $serverlog ]] || fail "cannot read the server log $serverlog"
    if ((failures == 0)); then
        ok "round $round: all 8 exited 0, index valid, each migration applied once, no deadlock"
    fi
    # For the record: the output of the replica(s) that applied the migrations.
    for i in $(grep -l "Running upgrade" r$round/out.* | sed 's/.*\.//'); do
        show "r$round/out.$i" "replica $i (applied)"
    done
}

t_cic_replicas() {
    local round db
    for round in 1 2 3; do
        if [[ $round == 1 ]]; then
            db=$STRATA_PG_DB
        else
            db=${STRATA_PG_DB}_r$round
            pg_admin "CREATE DATABASE \"$db\"" || die "CREATE DATABASE $db failed"
            extra_dbs+=("$db")
        fi
        cic_round "$round" "$db"
    done
}

# ---------------------------------------------------------------------------
# 2. Another session holds the migration lock: --lock-wait 3 exits 6 in 3 +- 1 s
# ---------------------------------------------------------------------------
snapshot() {
    q "SELECT 'version', * FROM app_strata_version ORDER BY revision"
    q "SELECT 'log', * FROM app_strata_log ORDER BY id"
    q "SELECT 'table', tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1, 2"
}

# start_sleeper OUT: `upgrade` of the pg_sleep(8) migration in the background,
# output in OUT; returns once the migration runs (it holds the lock), its pid
# in $sleeper.
start_sleeper() {
    "$bin/testapp_sleep" app migrate upgrade >"$1" 2>&1 &
    sleeper=$!
    bgpids+=("$sleeper")
    wait_for 10 "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
                 AND state = 'active' AND query LIKE '%pg_sleep(8)%'
                 AND application_name = 'testapp-strata'" >/dev/null ||
        { show "$1" "upgrade"; die "the pg_sleep(8) migration never started"; }
}

t_lock_wait() {
    local apid holder busy apids before after t0 t1 rc arc ta0 ta1
    ta0=$(now_ms)
    # A holds the lock once its migration (pg_sleep(8)) is running.
    start_sleeper a.out
    apid=$sleeper
    holder=$(q "$ADVISORY")
    apids=$(q "SELECT string_agg(pid::text, ' ' ORDER BY pid) FROM pg_stat_activity
               WHERE datname = current_database() AND application_name = 'testapp-strata'")
    echo "first process: backends [$apids] (application_name 'testapp-strata'), advisory lock" \
        "held by pid [$holder], $(($(now_ms) - ta0)) ms after its start"
    [[ $holder =~ ^[0-9]+$ ]] || die "expected exactly one advisory lock holder, got '$holder'"
    busy=$(q "SELECT pid FROM pg_stat_activity WHERE datname = current_database()
              AND state = 'active' AND query LIKE '%pg_sleep(8)%' AND pid <> pg_backend_pid()")
    echo "first process: its migration runs in pid [$busy]"
    [[ " $apids " == *" $holder "* ]] ||
        fail "the lock holder $holder is not one of the first process's backends ($apids)"
    before=$(snapshot)

    t0=$(now_ms)
    "$bin/testapp_sleep" app migrate upgrade --lock-wait 3 >b.out 2>&1
    rc=$?
    t1=$(now_ms)
    echo "second process (--lock-wait 3): exit $rc after $((t1 - t0)) ms"
    show b.out "second process"
    alive "$apid" || fail "the first process ended before the comparison: it must still hold the lock"
    after=$(snapshot)
    [[ $rc == 6 ]] || fail "--lock-wait 3 exited $rc (expected 6: timed out waiting for the lock)"
    (((t1 - t0) >= 2000 && (t1 - t0) <= 4000)) ||
        fail "--lock-wait 3 took $((t1 - t0)) ms (expected 3 +- 1 s)"
    grep -q "pid $holder\b" b.out || fail "the message does not name the holder pid $holder"
    grep -q "application_name 'testapp-strata'" b.out ||
        fail "the message does not name the holder's application_name 'testapp-strata'"
    # The busy session too: the one running the migration, active, and the
    # warning about ending it mid-migration.
    grep "^error" b.out | grep -q "Its migration runs in pid $busy (application_name 'testapp-strata', active for [0-9]* s: migration 5eef00000001)" ||
        fail "the message does not name the session running the migration (pid $busy, active)"
    grep "^error" b.out | grep -q "leaves a transaction=none migration dirty" ||
        fail "the message does not warn that ending a session mid-migration leaves it dirty"
    if [[ $before != "$after" ]]; then
        fail "the second process changed the database:"
        diff <(echo "$before") <(echo "$after")
    else
        echo "database before and after the second process (identical):"
        echo "${before:-    (version and log tables empty)}" | sed 's/^/    /'
    fi

    wait "$apid"
    arc=$?
    ta1=$(now_ms)
    echo "first process: exit $arc after $((ta1 - ta0)) ms"
    show a.out "first process"
    [[ $arc == 0 ]] || fail "the lock holder exited $arc (expected 0)"
    [[ $(q "SELECT string_agg(revision || ':' || state, ' ') FROM app_strata_version") == \
        "5eef00000001:applied" ]] || fail "the first process's migration is not recorded as applied"
    [[ -z $(q "$ADVISORY") ]] || fail "an advisory lock is still held after both processes ended"
}

# ---------------------------------------------------------------------------
# 3. A conflicting table lock in an open transaction
# ---------------------------------------------------------------------------
# start_blocker SECONDS: a session that holds AccessShareLock on t for SECONDS
# in an open transaction; sets blk (its psql pid) and blkpid (its backend).
start_blocker() {
    printf 'BEGIN;\nSELECT count(*) FROM t;\nSELECT pg_sleep(%s);\nCOMMIT;\n' "$1" |
        PGAPPNAME=strata-test-blocker "$STRATA_PSQL" -X -q -tA -v ON_ERROR_STOP=1 "$url" \
            >blocker.out 2>&1 &
    blk=$!
    bgpids+=("$blk")
    blkpid=$(wait_for 10 "SELECT pid FROM pg_stat_activity WHERE datname = current_database()
                          AND application_name = 'strata-test-blocker' AND state = 'active'
                          AND query LIKE 'SELECT pg_sleep%'") ||
        die "the blocker session did not start: $(cat blocker.out)"
    [[ $(q "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
            WHERE l.pid = $blkpid AND c.relname = 't' AND l.mode = 'AccessShareLock'
            AND l.granted") == 1 ]] || die "the blocker does not hold AccessShareLock on t"
}

apply_m1() {
    "$bin/testapp_altert" app migrate upgrade a17e00000001 >m1.out 2>&1 ||
        { show m1.out "upgrade a17e00000001"; die "could not apply the first migration"; }
}

t_lock_timeout_retry() {
    local n=130 i t0 t1 tb rc lat max slow over300 nprobe retries
    apply_m1
    tb=$(now_ms)
    start_blocker 2.5
    echo "blocker: backend pid $blkpid holds AccessShareLock on t for 2.5 s (BEGIN; SELECT ...; pg_sleep(2.5); COMMIT)"
    # The probe: one session timing single SELECTs on t, back to back with 30 ms pauses.
    {
        echo '\timing on'
        for ((i = 0; i < n; i++)); do
            echo "SELECT 'probe', count(*) FROM t;"
            echo "SELECT pg_sleep(0.03);"
        done
    } >probe.sql
    PGAPPNAME=strata-test-probe "$STRATA_PSQL" -X -tA -v ON_ERROR_STOP=1 "$url" -f probe.sql \
        >probe.out 2>&1 &
    local probe=$!
    bgpids+=("$probe")
    sleep 0.2
    t0=$(now_ms)
    "$bin/testapp_altert" app migrate upgrade >m2.out 2>&1
    rc=$?
    t1=$(now_ms)
    echo "migration: exit $rc after $((t1 - t0)) ms (blocker released $((tb + 2500 - t0)) ms after the migration started)"
    show m2.out "upgrade"
    wait "$probe" || fail "the probe session failed: $(tail -n 3 probe.out)"
    wait "$blk" || fail "the blocker session failed: $(cat blocker.out)"

    [[ $rc == 0 ]] || fail "the migration exited $rc (expected 0 once the lock went away)"
    retries=$(grep -c "lock timeout" m2.out)
    ((retries >= 1)) || fail "no lock-timeout retry warning was printed"
    grep "lock timeout" m2.out | grep -q "pid $blkpid\b" ||
        fail "the retry warning does not name the blocker's pid $blkpid"
    [[ $(q "SELECT count(*) FROM information_schema.columns WHERE table_name = 't' AND column_name = 'x'") == 1 ]] ||
        fail "column x was not added"
    [[ $(q "SELECT count(*) FROM app_strata_version WHERE state = 'applied'") == 2 ]] ||
        fail "the version table does not have both migrations applied"

    # SELECT latencies (psql \timing of each probe SELECT).
    lat=$(awk '/^probe\|/ {p = 1; next} p && /^Time: / {print $2; p = 0}' probe.out)
    nprobe=$(echo "$lat" | grep -c .)
    max=$(echo "$lat" | sort -g | tail -n 1)
    slow=$(echo "$lat" | awk '$1 > 100' | wc -l)
    over300=$(echo "$lat" | awk '$1 > 400' | wc -l)
    echo "concurrent SELECTs on t: $nprobe timed, max ${max:-?} ms, $slow over 100 ms" \
        "(queued behind the waiting ALTER), $over300 over 400 ms; lock_timeout 300 ms;" \
        "retry warnings: $retries"
    ((nprobe >= 20)) || fail "only $nprobe SELECTs were timed: $(tail -n 3 probe.out)"
    # A coarse guard (the machine is noisy): without lock_timeout the SELECTs
    # would queue for the blocker's whole 2.5 s behind the ALTER.
    awk -v m="${max:-99999}" 'BEGIN {exit !(m < 1500)}' ||
        fail "a concurrent SELECT was blocked for $max ms (bound: 1500 ms, lock_timeout 300 ms)"
}

# runs_in_order: the batch fixture's migrations that ran, in the order they ran.
runs_in_order() { q "SELECT coalesce(string_agg(rev, ' ' ORDER BY id), '') FROM runs"; }

t_batch_retry() {
    local rc first retry line2 expected="ba7000000002 ba7000000003 ba7000000004 ba7000000005"
    "$bin/testapp_batch" app migrate upgrade ba7000000001 >m1.out 2>&1 ||
        { show m1.out "upgrade ba7000000001"; die "could not apply the first migration"; }
    start_blocker 1.5
    echo "blocker: backend pid $blkpid holds AccessShareLock on t for 1.5 s"
    "$bin/testapp_batch" app migrate upgrade >up.out 2>&1
    rc=$?
    show up.out "upgrade"
    wait "$blk" || fail "the blocker session failed: $(cat blocker.out)"
    [[ $rc == 0 ]] || fail "the upgrade exited $rc (expected 0 once the lock went away)"
    grep -q "migration ba7000000003: lock timeout (pid $blkpid\b" up.out ||
        fail "no retry warning for ba7000000003 naming the blocker's pid $blkpid"
    grep -q "lock timeout" up.out && ! grep "lock timeout" up.out | grep -vq "ba7000000003" ||
        fail "a retry warning for another migration than ba7000000003"
    # Migration 2 went in the same message as 3, and was committed before 3 timed out.
    line2=$(grep -n -- "-> ba7000000002" up.out | head -n 1 | cut -d: -f1)
    retry=$(grep -n "lock timeout" up.out | head -n 1 | cut -d: -f1)
    [[ -n $line2 && -n $retry && $line2 -lt $retry ]] ||
        fail "ba7000000002 was not said applied before the first retry"
    first=$(runs_in_order)
    echo "runs, in order: $first"
    [[ $first == "$expected" ]] || fail "runs '$first' (expected each once, in order: '$expected')"
    [[ $(q "SELECT count(*) FROM app_strata_version WHERE state = 'applied'") == 5 ]] ||
        fail "not all five migrations are applied"
}

t_batch_lock_lost() {
    local holder lockpid rc
    "$bin/testapp_batch" app migrate upgrade ba7000000003 >m.out 2>&1 ||
        { show m.out "upgrade ba7000000003"; die "could not apply the first three migrations"; }
    "$bin/testapp_batch" app migrate upgrade >up.out 2>&1 &
    holder=$!
    bgpids+=("$holder")
    wait_for 10 "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
                 AND state = 'active' AND query LIKE '%pg_sleep(2)%' AND pid <> pg_backend_pid()
                 AND application_name = 'testapp-strata'" >/dev/null ||
        { show up.out "upgrade"; die "the slow migration never started"; }
    lockpid=$(q "$ADVISORY")
    [[ $lockpid =~ ^[0-9]+$ ]] || die "expected one advisory lock holder, got '$lockpid'"
    # Stopped, the holder cannot notice anything: only the server's own
    # check can keep the second migration from running.
    kill -STOP "$holder"
    q "SELECT pg_terminate_backend($lockpid)" >/dev/null
    wait_for 10 "SELECT count(*) FROM app_strata_version WHERE revision = 'ba7000000004'" >/dev/null ||
        fail "the first migration of the message was not committed"
    wait_for 10 "SELECT count(*) = 0 FROM pg_stat_activity WHERE datname = current_database()
                 AND state = 'active' AND application_name = 'testapp-strata'" >/dev/null ||
        fail "the message still runs on the server"
    kill -CONT "$holder"
    wait "$holder"
    rc=$?
    show up.out "holder"
    echo "the holder, stopped while its lock session was terminated, exited $rc"
    [[ $rc == 1 ]] || fail "the holder exited $rc (expected 1)"
    grep -q "stopped: the migration lock of namespace app on $url was lost" up.out ||
        fail "it does not say it stopped because the lock was lost"
    [[ $(runs_in_order) == "ba7000000002 ba7000000003 ba7000000004" ]] ||
        fail "runs '$(runs_in_order)': the second migration of the message ran without the lock"
    [[ $(q "SELECT to_regclass('after_sleep') IS NULL") == t ]] || fail "table after_sleep exists"
    [[ $(q "SELECT count(*) FROM app_strata_version WHERE revision = 'ba7000000005'") == 0 ]] ||
        fail "ba7000000005 is recorded"
    [[ $(q "SELECT count(*) FROM app_strata_log WHERE by LIKE '%:$holder'") == 0 ]] ||
        fail "the holder wrote a log row after losing the lock"
    "$bin/testapp_batch" app migrate upgrade >next.out 2>&1 || { show next.out "next"; fail "the next run failed"; }
    [[ $(runs_in_order) == "ba7000000002 ba7000000003 ba7000000004 ba7000000005" ]] ||
        fail "after the next run, runs '$(runs_in_order)'"
}

t_lock_timeout_giveup() {
    local t0 t1 rc
    apply_m1
    start_blocker 60
    echo "blocker: backend pid $blkpid holds AccessShareLock on t for 60 s"
    t0=$(now_ms)
    "$bin/testapp_altert" app migrate upgrade >m2.out 2>&1
    rc=$?
    t1=$(now_ms)
    echo "migration: exit $rc after $((t1 - t0)) ms (expected ~9.5 s: 6 x 300 ms + 200+500+1000+2000+4000 ms of backoff)"
    show m2.out "upgrade"
    alive "$blk" || fail "the blocker session ended early: $(cat blocker.out)"
    [[ $rc == 1 ]] || fail "the migration exited $rc (expected 1)"
    (((t1 - t0) >= 8000 && (t1 - t0) <= 14000)) ||
        fail "the migration gave up after $((t1 - t0)) ms (expected about 9.5 s, 8-14 s)"
    grep -q "gave up after 6 attempts" m2.out || fail "the error does not say it gave up after 6 attempts"
    [[ $(grep -c "retrying in" m2.out) == 5 ]] ||
        fail "$(grep -c "retrying in" m2.out) retry warnings (expected 5)"
    grep "^error" m2.out | grep -q "pid $blkpid\b" || grep -A20 "^error" m2.out | grep -q "pid $blkpid\b" ||
        fail "the error does not name the blocker's pid $blkpid"
    grep -A20 "^error" m2.out | grep -q "pg_sleep(60)" ||
        fail "the error does not show the blocker's query (SELECT pg_sleep(60))"
    [[ $(q "SELECT count(*) FROM information_schema.columns WHERE table_name = 't' AND column_name = 'x'") == 0 ]] ||
        fail "column x exists: the table was changed"
    [[ $(q "SELECT string_agg(revision, ' ') FROM app_strata_version") == a17e00000001 ]] ||
        fail "the version table is not just the first migration"
    [[ -z $(q "$ADVISORY") ]] || fail "the migration lock is still held"
    echo "log table: $(q "SELECT operation || ' ' || outcome FROM app_strata_log ORDER BY id DESC LIMIT 1")"
    q "SELECT pg_terminate_backend($blkpid)" >/dev/null
    wait "$blk" 2>/dev/null
}

# ---------------------------------------------------------------------------
# 4. SIGINT / SIGTERM cancel the running statement and release the lock
# ---------------------------------------------------------------------------
t_signal() {
    local sig=$1 pid t0 ts te tl rc locks rc2 t2 t3
    t0=$(now_ms)
    start_sleeper m.out
    pid=$sleeper
    [[ -n $(q "$ADVISORY") ]] || die "no advisory lock held while the migration runs"
    while (($(now_ms) - t0 < 1000)); do sleep 0.02; done
    ts=$(now_ms)
    kill -"$sig" "$pid"
    te=
    while (($(now_ms) - ts < 5000)); do
        if ! alive "$pid"; then
            te=$(now_ms)
            break
        fi
        sleep 0.01
    done
    # Lock released: polled until 2 s after the signal.
    tl=
    while :; do
        locks=$(q "$ADVISORY")
        if [[ -z $locks ]]; then
            tl=$(now_ms)
            break
        fi
        (($(now_ms) - ts > 2000)) && break
        sleep 0.02
    done
    if [[ -z $te ]]; then
        fail "the process was still running 5 s after SIG$sig"
        kill -KILL "$pid"
    fi
    wait "$pid"
    rc=$?
    local exited="did not exit within 5 s" released="NOT released within 2 s (held by pid $locks)"
    [[ -n $te ]] && exited="exited $rc $((te - ts)) ms after the signal"
    [[ -n $tl ]] && released="released $((tl - ts)) ms after the signal"
    echo "SIG$sig sent $((ts - t0)) ms after the start; the process $exited; advisory lock $released"
    show m.out "interrupted upgrade"
    [[ -n $te ]] && (((te - ts) <= 2000)) || fail "the process did not exit within 2 s of SIG$sig"
    [[ $rc != 0 ]] || fail "the interrupted upgrade exited 0 (expected non-zero)"
    ((rc < 128)) || fail "the process died of the signal (exit $rc) instead of cancelling and exiting"
    [[ -n $tl ]] || fail "the migration lock was not released within 2 s of SIG$sig"
    [[ -z $(q "SELECT revision FROM app_strata_version") ]] ||
        fail "the version table records the interrupted migration: $(q "SELECT revision, state FROM app_strata_version")"
    [[ $(q "SELECT to_regclass('items') IS NULL") == t ]] || fail "table items exists: not rolled back"
    [[ $(q "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
            AND query LIKE '%pg_sleep(8)%' AND state = 'active' AND pid <> pg_backend_pid()") == 0 ]] ||
        fail "the cancelled statement is still running on the server"

    # A new run gets the lock at once (--lock-wait 0: any wait is exit 6).
    t2=$(now_ms)
    "$bin/testapp_sleep" app migrate upgrade --lock-wait 0 >m2.out 2>&1
    rc2=$?
    t3=$(now_ms)
    echo "new upgrade (--lock-wait 0): exit $rc2 after $((t3 - t2)) ms (its migration sleeps 8 s)"
    show m2.out "new upgrade"
    [[ $rc2 == 0 ]] || fail "the new upgrade exited $rc2 (expected 0, without waiting for a lock)"
    grep -q "waiting up to" m2.out && fail "the new upgrade waited for the lock"
    [[ $(q "SELECT string_agg(revision || ':' || state, ' ') FROM app_strata_version") == "5eef00000001:applied" ]] ||
        fail "the new upgrade did not record the migration"
}

case $case_ in
cic_replicas) t_cic_replicas ;;
lock_wait) t_lock_wait ;;
lock_timeout_retry) t_lock_timeout_retry ;;
lock_timeout_giveup) t_lock_timeout_giveup ;;
batch_retry) t_batch_retry ;;
batch_lock_lost) t_batch_lock_lost ;;
sigint) t_signal INT ;;
sigterm) t_signal TERM ;;
*) die "unknown case '$case_'" ;;
esac

if ((failures)); then
    echo "$failures check(s) failed"
    exit 1
fi
echo "PASS: $case_"
