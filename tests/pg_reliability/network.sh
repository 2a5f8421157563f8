#!/usr/bin/env bash
# network.sh CASE BUILD_DIR PROXY: strata when the network, a pooler or a
# middlebox fails, with tests/proxy/tcpproxy (PROXY) between strata and the
# throwaway server of the `pg` fixture (run through tests/pg/pg_env.sh: a
# database of its own in DATABASE_URL). Real sessions, real cuts and stalls.
#
# Cases:
#   stall_all     every connection stalls (a hung pooler) just before a
#                 migration reaches the server: strata ends within a bound,
#                 exit 1, naming the database, the unknown outcome and what to
#                 run; its lock session ends within the lease on the server
#                 side, so the next start gets the lock and finishes.
#   stall_main    the main connection alone stalls after the server got the
#                 migration: "no statement of ours running", unknown outcome;
#                 the server committed it, and the next start reconciles.
#   stall_waiting a waiter's connections stall (SIGUSR2 to the proxy) or are
#                 cut (SIGUSR1) while it waits for the lock: exit 1 within a
#                 bound, naming the database; status on the stalled path too,
#                 and status whose query stalls once sent.
#   cut_commit    the connection is cut right after the client sent a
#                 migration (the server commits it, unless strata released
#                 the lock first: its check fails), cut and reset before
#                 (it never sees it): unknown outcome each time; the next start
#                 records and runs each migration exactly once. Then a cut
#                 right after a message that holds two migrations: the first
#                 named unknown, the second named as sent with it; whatever
#                 the server committed, the next start finishes, each once.
#   cut_cic       cut during CREATE INDEX CONCURRENTLY (transaction=none): the
#                 row stays dirty with failed_statement 1, the index INVALID,
#                 and status, startup and upgrade all name it.
#   lock_killed   pg_terminate_backend on the holder's lock session while a
#                 migration runs (transactional, and transaction=none): the
#                 holder cancels it and stops before its next statement and
#                 before any bookkeeping write.
#   lease_expired the holder's process is stopped past its lease (lock=table,
#                 and the advisory lock's idle_session_timeout): on resuming
#                 it stops before its next statement and writes nothing.
#   sweep         (slow) cuts after each message of the main connection, cuts
#                 and resets at many byte offsets of the main and lock
#                 connections, and kills at many moments: never a hang,
#                 never a double apply; prints how many cuts there were and
#                 how many times the server committed a migration whose
#                 outcome strata reported unknown.
# Timings are printed so the log documents the figures.
set -u
case_=${1:?CASE}
bin=${2:?BUILD_DIR}
proxy=${3:?PROXY}

. "$(dirname "$0")/../pg/pg_env.sh"
pg_env_load
[[ -n ${DATABASE_URL:-} && -n ${STRATA_PG_DB:-} ]] ||
    { echo "error: run through tests/pg/pg_env.sh (strata_add_pg_test)" >&2; exit 1; }

unset STRATA_ENV TESTAPP_ENVIRONMENT APP_DATABASE_URL DYNO PIKU_APP_NAME DOKKU_APP_NAME \
    KUBERNETES_SERVICE_HOST TESTAPP_STRICT TESTAPP_AUTO_MIGRATE CLICOLOR_FORCE PGAPPNAME STRATA_LOCK
export NO_COLOR=1 STRATA_ENV=production
url=$DATABASE_URL
unset DATABASE_URL

work=$(mktemp -d /tmp/strata-pgnet.XXXXXX)
bgpids=()
cleanup() {
    local p
    for p in "${bgpids[@]}"; do
        kill -CONT "$p" 2>/dev/null
        kill -KILL "$p" 2>/dev/null
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
die() {
    echo "FAIL: $*"
    exit 1
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
q() { "$STRATA_PSQL" -X -q -tA -v ON_ERROR_STOP=1 "$url" -c "$1"; }
show() {
    echo "--- $2:"
    sed 's/^/    /' "$1"
}
wait_for() { # wait_for SECONDS SQL: until SQL returns a value other than '', 0, f
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

# start_proxy ARGS...: a proxy to the test server; sets pport, ppid, purl.
start_proxy() {
    rm -f proxy.port
    "$proxy" --target "$STRATA_PG_HOST:$STRATA_PG_PORT" --port-file proxy.port --log proxy.log "$@" &
    ppid=$!
    bgpids+=("$ppid")
    for _ in $(seq 200); do
        [[ -s proxy.port ]] && break
        sleep 0.01
    done
    [[ -s proxy.port ]] || die "the proxy did not start: $(cat proxy.log 2>/dev/null)"
    pport=$(cat proxy.port)
    purl="postgresql://postgres@127.0.0.1:$pport/$STRATA_PG_DB"
}
stop_proxy() {
    kill "$ppid" 2>/dev/null
    wait "$ppid" 2>/dev/null
}

# bounded SECONDS OUT CMD...: runs CMD with its output in OUT; never more
# than SECONDS (a hang is a failure, then killed). Sets rc and ms.
bounded() {
    local limit=$1 out=$2 t0 pid
    shift 2
    t0=$(now_ms)
    "$@" >"$out" 2>&1 &
    pid=$!
    bgpids+=("$pid")
    while kill -0 "$pid" 2>/dev/null && (($(now_ms) - t0 < limit * 1000)); do
        sleep 0.02
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid"
        wait "$pid" 2>/dev/null
        rc=hang
    else
        wait "$pid"
        rc=$?
    fi
    ms=$(($(now_ms) - t0))
}

versions() { q "SELECT coalesce(string_agg(revision || ':' || state, ' ' ORDER BY revision), '') FROM app_strata_version" 2>/dev/null; }
runs() { q "SELECT coalesce(string_agg(rev || 'x' || n, ' ' ORDER BY rev), '') FROM (SELECT rev, count(*) n FROM runs GROUP BY rev) c" 2>/dev/null; }
logrows() { q "SELECT count(*) FROM app_strata_log" 2>/dev/null; }
reset_db() {
    q "DROP TABLE IF EXISTS t, runs, items, before_pause, after_pause, app_strata_version,
       app_strata_log, app_strata_lock CASCADE" >/dev/null 2>&1
}
# The session holding advisory locks (strata's lock session holds two).
ADVISORY="SELECT DISTINCT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
# The full state after the net fixture's three migrations, each run once.
ALL="e7e000000001:applied e7e000000002:applied e7e000000003:applied"
ONCE="e7e000000001x1 e7e000000002x1 e7e000000003x1"

# The outcome-unknown message, with the database and the command to run.
check_unknown() { # FILE DBURL
    grep -q "the connection to $2 was lost after the migration was sent" "$1" ||
        fail "the message does not say the connection to $2 was lost after the migration was sent"
    grep -q "the outcome is unknown: the server may still commit it; run 'testapp app migrate status' before retrying" "$1" ||
        fail "the message does not say the outcome is unknown and to run status before retrying"
}

# ---------------------------------------------------------------------------
t_stall_all() {
    local lease=4 t0 held logsize
    logsize=$(stat -c %s "$STRATA_PG_DIR/server.log" 2>/dev/null || echo 0)
    start_proxy --on-text "ADD COLUMN y" --before --action stall --all
    "$bin/testapp_net" app migrate upgrade --database "$purl" --lock-lease $lease >up.out 2>&1 &
    local up=$! lockpid
    bgpids+=("$up")
    lockpid=$(wait_for 20 "$ADVISORY") || { show up.out "upgrade"; die "it never took the lock"; }
    await "$up" 60
    echo "through a proxy that stalls every connection before migration e7e000000002 reaches the server" \
        "(lease $lease s): exit $rc after $ms ms (its lock session: pid $lockpid)"
    show up.out "upgrade"
    [[ $rc == 1 ]] || fail "exit $rc (expected 1, never a hang)"
    ((ms <= 4 * lease * 1000)) || fail "it took $ms ms (bound: 4 x the lease, $((4 * lease)) s)"
    check_unknown up.out "$purl"
    grep -q "lost the migration lock of namespace app on $purl (its connection did not answer" up.out ||
        fail "it does not say that the lock connection stopped answering"
    # The stalled sessions are still open through the proxy: the server must
    # end the lock session by itself (idle_session_timeout = the lease).
    held=$(q "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted
              AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")
    echo "advisory locks still held on the server when it exited: $held"
    t0=$(now_ms)
    bounded 60 next.out env APP_DATABASE_URL="$url" "$bin/testapp_net" start
    echo "the next start (direct, while the proxy still stalls the old sessions): exit $rc after $ms ms"
    show next.out "next start"
    [[ $rc == 0 ]] || fail "the next start exited $rc (expected 0)"
    ((ms <= (lease + 6) * 1000)) ||
        fail "the next start took $ms ms: the stalled holder's lock outlived its lease ($lease s)"
    [[ $(versions) == "$ALL" ]] || fail "version rows '$(versions)' (expected '$ALL')"
    [[ $(runs) == "$ONCE" ]] || fail "runs '$(runs)' (expected each migration once: '$ONCE')"
    # The server, not the client, ended the stalled lock session.
    tail -c +"$((logsize + 1))" "$STRATA_PG_DIR/server.log" |
        grep -q "\[$lockpid\] FATAL:  terminating connection due to idle-session timeout" ||
        fail "the server log does not show the stalled lock session ended by idle_session_timeout"
    stop_proxy
    show proxy.log "proxy"
}

t_stall_main() {
    local lease=4 committed
    start_proxy --conn 1 --on-text "ADD COLUMN y" --action stall
    bounded 60 up.out "$bin/testapp_net" app migrate upgrade --database "$purl" --lock-lease $lease
    echo "the main connection stalls after migration e7e000000002 reached the server (lease $lease s):" \
        "exit $rc after $ms ms"
    show up.out "upgrade"
    [[ $rc == 1 ]] || fail "exit $rc (expected 1, never a hang)"
    ((ms <= 4 * lease * 1000)) || fail "it took $ms ms (bound: 4 x the lease, $((4 * lease)) s)"
    check_unknown up.out "$purl"
    grep -q "the server shows no statement of ours running: the connection stalled" up.out ||
        fail "it does not say the server runs no statement of ours (a stalled connection)"
    committed=$(q "SELECT count(*) FROM app_strata_version WHERE revision = 'e7e000000002'")
    echo "the server committed migration e7e000000002 anyway: $([[ $committed == 1 ]] && echo yes || echo no)"
    [[ $committed == 1 ]] || fail "the server did not commit the migration it had received"
    bounded 30 next.out env APP_DATABASE_URL="$url" "$bin/testapp_net" start
    echo "the next start: exit $rc after $ms ms"
    show next.out "next start"
    [[ $rc == 0 ]] || fail "the next start exited $rc (expected 0)"
    ((ms <= 10000)) || fail "the next start took $ms ms: the lock was not released"
    grep -q "e7e000000001 -> e7e000000002" next.out && fail "the next start ran e7e000000002 again"
    [[ $(versions) == "$ALL" ]] || fail "version rows '$(versions)' (expected '$ALL')"
    [[ $(runs) == "$ONCE" ]] || fail "runs '$(runs)' (expected each migration once: '$ONCE')"
    stop_proxy
    show proxy.log "proxy"
}

# A waiter for the lock whose connection stalls (SIGUSR2 to the proxy: every
# connection, and every new one) or is cut (SIGUSR1): it ends within a bound,
# naming the database; so does a status on the stalled path.
t_stall_waiting() {
    local lease=4 sig what
    start_holder sleep holder.out
    for sig in USR1 USR2; do
        : >proxy.log
        start_proxy
        "$bin/testapp_net" app migrate upgrade --database "$purl" --lock-lease $lease >wait.out 2>&1 &
        local w=$! t0
        bgpids+=("$w")
        for _ in $(seq 500); do
            grep -q "waiting up to" wait.out && break
            sleep 0.02
        done
        grep -q "waiting up to" wait.out || { show wait.out "waiter"; die "the waiter never waited"; }
        t0=$(now_ms)
        kill -$sig "$ppid"
        await "$w" 60
        what=$([[ $sig == USR2 ]] && echo "stalled" || echo "cut")
        echo "the waiter's connections $what (SIG$sig to the proxy): exit $rc, $ms ms later (lease $lease s)"
        show wait.out "waiter ($what)"
        [[ $rc == 1 ]] || fail "$what: the waiter exited $rc (expected 1, never a hang)"
        ((ms <= 4 * lease * 1000)) || fail "$what: the waiter took $ms ms (bound: $((4 * lease)) s)"
        grep -q "error: the lock connection to $purl: its .*Check the server and the network path to it (a pooler, a proxy?), then run the command again; nothing was changed" wait.out ||
            fail "$what: the message does not name the lock connection, the database and what to do"
        if [[ $sig == USR2 ]]; then
            # A new connection on the stalled path: connect_timeout (10 s) bounds it.
            bounded 60 status.out "$bin/testapp_net" app migrate status --database "$purl" --lock-lease $lease
            echo "status on the stalled path: exit $rc after $ms ms"
            show status.out "status (stalled)"
            [[ $rc == 1 ]] || fail "status on a stalled path exited $rc (expected 1, never a hang)"
            ((ms <= 30000)) || fail "status on a stalled path took $ms ms (bound 30 s)"
            grep -q "cannot connect to $purl" status.out || fail "status does not name the database"
        fi
        stop_proxy
        show proxy.log "proxy"
    done
    [[ $(q "SELECT count(*) FROM app_strata_version WHERE revision LIKE 'e7e%'") == 0 ]] ||
        fail "version rows '$(versions)': the waiters changed the database"
    kill -KILL "$holder"
    # status whose one query stalls once sent: strata's own statements get the lease.
    : >proxy.log
    start_proxy --on-text "app_strata_version" --action stall
    bounded 60 status.out "$bin/testapp_net" app migrate status --database "$purl" --lock-lease $lease
    echo "status whose query stalls: exit $rc after $ms ms (lease $lease s)"
    show status.out "status (query stalled)"
    [[ $rc == 1 ]] || fail "status whose query stalls exited $rc (expected 1, never a hang)"
    ((ms <= 3 * lease * 1000)) || fail "status whose query stalls took $ms ms (bound $((3 * lease)) s)"
    grep -q "lost the connection to $purl (no answer for" status.out ||
        fail "status does not name the database and the silence"
    stop_proxy
}

# cut_round NAME PROXYARGS...: one cut at migration e7e000000002, sent alone
# (e7e000000001 is applied first); the next start reconciles.
cut_round() {
    local name=$1 committed
    shift
    reset_db
    "$bin/testapp_net" app migrate upgrade e7e000000001 --database "$url" >setup.out 2>&1 ||
        { show setup.out "setup"; die "could not apply the first migration"; }
    : >proxy.log
    start_proxy --conn 1 --on-text "ADD COLUMN y" "$@"
    bounded 60 up.out "$bin/testapp_net" app migrate upgrade --database "$purl"
    committed=$(q "SELECT count(*) FROM app_strata_version WHERE revision = 'e7e000000002'")
    echo "$name: exit $rc after $ms ms; the server committed e7e000000002: $([[ $committed == 1 ]] && echo yes || echo no)"
    show up.out "upgrade ($name)"
    [[ $rc == 1 ]] || fail "$name: exit $rc (expected 1)"
    check_unknown up.out "$purl"
    [[ " $expect_committed " == *" $committed "* ]] ||
        fail "$name: committed=$committed (expected $expect_committed)"
    stop_proxy
    bounded 30 next.out env APP_DATABASE_URL="$url" "$bin/testapp_net" start
    show next.out "next start ($name)"
    [[ $rc == 0 ]] || fail "$name: the next start exited $rc (expected 0)"
    [[ $(versions) == "$ALL" ]] || fail "$name: version rows '$(versions)' (expected '$ALL')"
    [[ $(runs) == "$ONCE" ]] || fail "$name: runs '$(runs)' (expected each migration once: '$ONCE')"
}

t_cut_commit() {
    local c1 c2
    # The server has it all, and commits it unless strata, on finding the
    # connection gone, released the migration lock first: each migration's
    # transaction begins by checking that the lock is still held (a
    # migration sent with others must not run once it is not).
    expect_committed="0 1" cut_round "cut right after the client sent the migration (COMMIT included)" --action cut
    expect_committed=0 cut_round "cut before the server saw it" --before --action cut
    expect_committed=0 cut_round "reset (RST) before the server saw it" --before --action reset
    # Two migrations in one message (the default sends transactional ones
    # together): the server runs the first, and the second unless it finds
    # its client gone first; strata can tell neither.
    reset_db
    : >proxy.log
    start_proxy --conn 1 --on-text "ADD COLUMN y" --action cut
    bounded 60 up.out "$bin/testapp_net" app migrate upgrade --database "$purl"
    c1=$(q "SELECT count(*) FROM app_strata_version WHERE revision = 'e7e000000001'")
    c2=$(q "SELECT count(*) FROM app_strata_version WHERE revision = 'e7e000000002'")
    echo "cut right after one message with two migrations: exit $rc after $ms ms; the server" \
        "committed e7e000000001: $c1, e7e000000002: $c2"
    show up.out "upgrade (two migrations in the message)"
    [[ $rc == 1 ]] || fail "two in one message: exit $rc (expected 1)"
    check_unknown up.out "$purl"
    grep -q "error: migration e7e000000001 (001_t.sql) of namespace app, up section: the connection" up.out ||
        fail "two in one message: the message does not name e7e000000001 first"
    grep -q "The same message held the migration after it (e7e000000002): the server may commit them too." up.out ||
        fail "two in one message: the message does not name e7e000000002 as sent with it"
    [[ $c2 == 0 || $c1 == 1 ]] || fail "the server committed e7e000000002 without e7e000000001"
    stop_proxy
    bounded 30 next.out env APP_DATABASE_URL="$url" "$bin/testapp_net" start
    show next.out "next start (two migrations in the message)"
    [[ $rc == 0 ]] || fail "two in one message: the next start exited $rc (expected 0)"
    [[ $(versions) == "$ALL" ]] || fail "two in one message: version rows '$(versions)' (expected '$ALL')"
    [[ $(runs) == "$ONCE" ]] || fail "two in one message: runs '$(runs)' (expected each once: '$ONCE')"
}

t_cut_cic() {
    local blk idx state cmd
    "$bin/testapp_net" app migrate upgrade e7e000000002 --database "$url" >setup.out 2>&1 ||
        { show setup.out "setup"; die "could not apply the first two migrations"; }
    # A transaction holding a snapshot: the concurrent build waits for it, so
    # the cut lands while the build runs.
    printf 'BEGIN ISOLATION LEVEL REPEATABLE READ;\nSELECT count(*) FROM t;\nSELECT pg_sleep(60);\n' |
        PGAPPNAME=strata-test-snapshot "$STRATA_PSQL" -X -q "$url" >blocker.out 2>&1 &
    blk=$!
    bgpids+=("$blk")
    wait_for 10 "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
                 AND application_name = 'strata-test-snapshot'
                 AND query LIKE 'SELECT pg_sleep%'" >/dev/null || die "the snapshot holder did not start"
    start_proxy --conn 1 --on-text "CONCURRENTLY ix_t_y" --action cut
    bounded 60 up.out "$bin/testapp_net" app migrate upgrade --database "$purl"
    echo "cut during CREATE INDEX CONCURRENTLY: exit $rc after $ms ms"
    show up.out "upgrade"
    [[ $rc == 7 ]] || fail "exit $rc (expected 7: dirty)"
    grep -q "statement 1 (line [0-9]*): the connection to $purl was lost after it was sent" up.out ||
        fail "the message does not name statement 1 and the lost connection"
    grep -q "the outcome is unknown" up.out || fail "the message does not say the outcome is unknown"
    # The server notices the client gone (client_connection_check_interval)
    # and stops the build.
    wait_for 20 "SELECT count(*) = 0 FROM pg_stat_progress_create_index
                 WHERE datname = current_database()" >/dev/null ||
        fail "the concurrent build still runs 20 s after the cut"
    idx=$(q "SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_t_y'::regclass" 2>&1)
    state=$(q "SELECT state || ' ' || coalesce(failed_statement::text, 'NULL') FROM app_strata_version
               WHERE revision = 'e7e000000003'")
    echo "index ix_t_y valid: $idx; row e7e000000003: $state"
    [[ $idx == f ]] || fail "ix_t_y: indisvalid='$idx' (expected f: INVALID)"
    [[ $state == "dirty 1" ]] || fail "row e7e000000003: '$state' (expected 'dirty 1')"
    stop_proxy
    for cmd in status start upgrade; do
        if [[ $cmd == start ]]; then
            bounded 30 $cmd.out env APP_DATABASE_URL="$url" "$bin/testapp_net" start
        else
            bounded 30 $cmd.out "$bin/testapp_net" app migrate $cmd --database "$url"
        fi
        show $cmd.out "$cmd"
        [[ $rc == 7 ]] || fail "$cmd exited $rc (expected 7)"
        grep -q "INVALID index(es) left by a failed concurrent build: ix_t_y\." $cmd.out ||
            fail "$cmd does not name the INVALID index ix_t_y"
    done
    [[ $(runs) == "e7e000000001x1 e7e000000002x1" ]] || fail "runs '$(runs)': statement 2 ran"
    kill "$blk" 2>/dev/null
}

# start_holder FIXTURE OUT ARGS...: an upgrade that holds the lock while its
# migration sleeps; returns once it sleeps, its pid in $holder.
start_holder() {
    local fx=$1 out=$2
    shift 2
    "$bin/testapp_$fx" app migrate upgrade --database "$url" "$@" >"$out" 2>&1 &
    holder=$!
    bgpids+=("$holder")
    wait_for 10 "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
                 AND state = 'active' AND query LIKE '%pg_sleep(%' AND pid <> pg_backend_pid()
                 AND application_name = 'testapp-strata'" >/dev/null ||
        { show "$out" "upgrade"; die "the migration never started sleeping"; }
}
# await PID SECONDS: its exit status in rc, the time since now in ms.
await() {
    local t0 status hung=0
    t0=$(now_ms)
    while kill -0 "$1" 2>/dev/null && (($(now_ms) - t0 < $2 * 1000)); do sleep 0.01; done
    if kill -0 "$1" 2>/dev/null; then
        hung=1
        kill -KILL "$1"
    fi
    wait "$1" 2>/dev/null
    status=$?
    ((hung)) && rc=hang || rc=$status
    ms=$(($(now_ms) - t0))
}

t_lock_killed() {
    local lockpid active
    echo "== a transactional migration (pg_sleep(8) in its one round trip)"
    start_holder sleep a.out
    lockpid=$(q "$ADVISORY")
    [[ $lockpid =~ ^[0-9]+$ ]] || die "expected one advisory lock holder, got '$lockpid'"
    q "SELECT pg_terminate_backend($lockpid)" >/dev/null
    await "$holder" 10
    echo "lock session $lockpid terminated: the holder exited $rc, $ms ms later"
    show a.out "holder"
    [[ $rc == 1 ]] || fail "the holder exited $rc (expected 1)"
    ((ms <= 5000)) || fail "the holder took $ms ms to stop (bound 5 s)"
    # The reason is the server's FATAL when libpq reads it before the reset.
    grep -q "lost the migration lock of namespace app on $url (its session ended: " a.out ||
        fail "it does not say the lock was lost because its session ended"
    grep -q "canceling statement due to user request" a.out || fail "the migration was not cancelled"
    active=$(q "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
                AND query LIKE '%pg_sleep(8)%' AND state = 'active' AND pid <> pg_backend_pid()")
    [[ $active == 0 ]] || fail "the migration still runs on the server"
    [[ -z $(versions) ]] || fail "version rows '$(versions)' (expected none: rolled back)"
    [[ $(q "SELECT to_regclass('items') IS NULL") == t ]] || fail "table items exists: not rolled back"
    [[ $(logrows) == 0 ]] || fail "$(logrows) log row(s): the holder wrote after losing the lock"

    echo "== a transaction=none migration, during its statement 2 of 3 (pg_sleep(3))"
    reset_db
    start_holder pause b.out
    lockpid=$(q "$ADVISORY")
    q "SELECT pg_terminate_backend($lockpid)" >/dev/null
    await "$holder" 10
    echo "lock session $lockpid terminated: the holder exited $rc, $ms ms later"
    show b.out "holder"
    [[ $rc == 7 ]] || fail "the holder exited $rc (expected 7: the migration stays dirty)"
    ((ms <= 5000)) || fail "the holder took $ms ms to stop (bound 5 s)"
    grep -q "lost the migration lock" b.out || fail "it does not say the lock was lost"
    [[ $(q "SELECT to_regclass('after_pause') IS NULL") == t ]] ||
        fail "table after_pause exists: statement 3 ran after the lock was lost"
    [[ $(q "SELECT state || ' ' || failed_statement FROM app_strata_version") == "dirty 2" ]] ||
        fail "row: '$(q "SELECT state, failed_statement FROM app_strata_version")' (expected dirty 2)"
    [[ $(logrows) == 0 ]] || fail "$(logrows) log row(s): the holder wrote after losing the lock"
}

# lease_round NAME ARGS...: the holder stopped (SIGSTOP) for 5 s in statement
# 2 of 3, with a lease of 2 s; resumed, it must stop without a statement or a
# write.
lease_round() {
    local name=$1 hpid logsize lockpid
    shift
    reset_db
    logsize=$(stat -c %s "$STRATA_PG_DIR/server.log" 2>/dev/null || echo 0)
    start_holder pause h.out --lock-lease 2 "$@"
    hpid=$holder
    lockpid=$(q "$ADVISORY")
    sleep 0.3
    kill -STOP "$hpid"
    if [[ $* == *table* ]]; then
        # Meanwhile another process takes the expired lease: it finds the
        # migration dirty (exit 7) and says who started it.
        bounded 20 other.out "$bin/testapp_pause" app migrate upgrade --database "$url" "$@" \
            --lock-lease 2 --lock-wait 10
        echo "$name: another process while the holder is stopped: exit $rc after $ms ms"
        show other.out "other process"
        [[ $rc == 7 ]] || fail "$name: the other process exited $rc (expected 7: dirty)"
    fi
    sleep 5
    kill -CONT "$hpid"
    await "$hpid" 15
    echo "$name: resumed after 5 s stopped, the holder exited $rc $ms ms later"
    show h.out "holder ($name)"
    [[ $rc == 7 ]] || fail "$name: the holder exited $rc (expected 7: its migration stays dirty)"
    grep -q "lost the migration lock of namespace app on $url ($lost_why" h.out ||
        fail "$name: it does not say the lock was lost ($lost_why)"
    grep -q "stopped: the migration lock of namespace app on $url was lost" h.out ||
        fail "$name: it does not say it stopped"
    [[ $(q "SELECT to_regclass('after_pause') IS NULL") == t ]] ||
        fail "$name: table after_pause exists: statement 3 ran after the lock was lost"
    [[ $(q "SELECT state || ' ' || failed_statement FROM app_strata_version") == "dirty 2" ]] ||
        fail "$name: row '$(q "SELECT state, failed_statement FROM app_strata_version")' (expected dirty 2)"
    [[ $(q "SELECT count(*) FROM app_strata_log WHERE by LIKE '%:$hpid'") == 0 ]] ||
        fail "$name: the holder wrote a log row after losing the lock"
    if [[ $* != *table* ]]; then
        tail -c +"$((logsize + 1))" "$STRATA_PG_DIR/server.log" |
            grep -q "\[$lockpid\] FATAL:  terminating connection due to idle-session timeout" ||
            fail "$name: the server log does not show the lock's session (pid $lockpid) ended by idle_session_timeout"
    fi
}

t_lease_expired() {
    lost_why="its lease expired" lease_round "lock=table" --lock table
    lost_why="its session ended: " lease_round "advisory lock (idle_session_timeout)"
}

# ---------------------------------------------------------------------------
# The sweep: one upgrade of the net fixture per cut point, then a direct start.
sweep_one() { # LABEL PROXYARGS...: or "kill MS"
    local label=$1 mig committed after rc1
    shift
    reset_db
    : >proxy.log
    if [[ $1 == kill ]]; then
        "$bin/testapp_net" app migrate upgrade --database "$url" >up.out 2>&1 &
        local p=$!
        sleep "$(awk -v m="$2" 'BEGIN {print m / 1000}')"
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
        rc=killed
    else
        start_proxy "$@"
        bounded 60 up.out "$bin/testapp_net" app migrate upgrade --database "$purl"
        stop_proxy
    fi
    rc1=$rc
    n_cuts=$((n_cuts + 1))
    case $rc1 in
    0) n_ok=$((n_ok + 1)) ;;
    1 | 7 | killed) ;;
    hang)
        n_hangs=$((n_hangs + 1))
        fail "$label: strata hung"
        show up.out "$label"
        ;;
    *)
        fail "$label: exit $rc1"
        show up.out "$label"
        ;;
    esac
    if grep -q "was lost after the migration was sent" up.out; then
        n_unknown=$((n_unknown + 1))
        mig=$(grep -o "migration e7e00000000[0-9]" up.out | head -n 1 | cut -d' ' -f2)
        committed=$(q "SELECT count(*) FROM app_strata_version WHERE revision = '$mig'")
        [[ $committed == 1 ]] && n_committed=$((n_committed + 1))
    elif grep -q "the outcome is unknown" up.out; then
        n_unknown_stmt=$((n_unknown_stmt + 1))
    fi
    bounded 60 next.out env APP_DATABASE_URL="$url" "$bin/testapp_net" start
    after=$(versions)
    # A transaction=none migration stopped part way stays dirty (exit 7): its
    # repair is a person's. Anything else ends with all three applied.
    if [[ $rc == 7 && $after == "e7e000000001:applied e7e000000002:applied e7e000000003:dirty" ]]; then
        n_dirty=$((n_dirty + 1))
    elif [[ $rc != 0 || $after != "$ALL" ]]; then
        fail "$label: the next start exited $rc with '$after'"
        show up.out "$label"
        show next.out "next start"
    fi
    # Never twice; a transactional migration's row and its effect go together.
    if q "SELECT rev FROM runs GROUP BY rev HAVING count(*) > 1" | grep -q .; then
        n_double=$((n_double + 1))
        fail "$label: a migration ran twice: $(runs)"
    fi
    if [[ $(q "SELECT count(*) FROM app_strata_version v WHERE v.state = 'applied' AND NOT EXISTS
               (SELECT 1 FROM runs r WHERE r.rev = v.revision)") != 0 ||
        $(q "SELECT count(*) FROM runs r WHERE r.rev <> 'e7e000000003' AND NOT EXISTS
               (SELECT 1 FROM app_strata_version v WHERE v.revision = r.rev)") != 0 ]]; then
        fail "$label: version rows '$after' disagree with runs '$(runs)'"
    fi
}

t_sweep() {
    local total1 total2 msgs1 step off ms_full
    n_cuts=0 n_unknown=0 n_unknown_stmt=0 n_committed=0 n_hangs=0 n_double=0 n_ok=0 n_dirty=0
    # What a whole upgrade sends on each connection.
    reset_db
    start_proxy
    bounded 60 up.out "$bin/testapp_net" app migrate upgrade --database "$purl"
    ms_full=$ms
    stop_proxy
    [[ $rc == 0 ]] || { show up.out "upgrade"; die "the upgrade through the proxy failed"; }
    total1=$(grep -o "conn 1: closed by the client: client [0-9]*" proxy.log | grep -o "[0-9]*$")
    total2=$(grep -o "conn 2: closed by the client: client [0-9]*" proxy.log | grep -o "[0-9]*$")
    msgs1=$(grep -o "conn 1: closed by the client: client [0-9]* bytes, [0-9]*" proxy.log | grep -o "[0-9]*$")
    echo "a whole upgrade: $ms_full ms; the main connection sends $total1 bytes in $msgs1 messages," \
        "the lock connection $total2 bytes"
    [[ $total1 =~ ^[0-9]+$ && $total2 =~ ^[0-9]+$ && $msgs1 =~ ^[0-9]+$ ]] ||
        die "no byte counts in the proxy log"
    # Right after each message the client sends: after a migration's, the
    # server has it all and commits it while the answer is lost.
    for ((off = 1; off <= msgs1; off++)); do
        sweep_one "main connection cut after its message $off" --conn 1 --after-messages $off --action cut
    done
    step=$((total1 / 90 + 1))
    for ((off = 0; off < total1; off += step)); do
        sweep_one "main connection cut after $off bytes" --conn 1 --after-bytes $off --action cut
    done
    step=$((total1 / 30 + 1))
    for ((off = step / 2; off < total1; off += step)); do
        sweep_one "main connection reset after $off bytes" --conn 1 --after-bytes $off --action reset
    done
    step=$((total2 / 25 + 1))
    for ((off = 0; off < total2; off += step)); do
        sweep_one "lock connection cut after $off bytes" --conn 2 --after-bytes $off --action cut
    done
    for ((off = 0; off < ms_full + 100; off += (ms_full + 100) / 20 + 1)); do
        sweep_one "process killed after $off ms" kill $off
    done
    echo "sweep: $n_cuts cuts, resets and kills; upgrades that finished anyway: $n_ok;" \
        "a migration's outcome reported unknown: $n_unknown, of which the server committed" \
        "anyway: $n_committed; a transaction=none statement's outcome unknown: $n_unknown_stmt;" \
        "left dirty: $n_dirty; hangs: $n_hangs; double applies: $n_double"
}

case $case_ in
stall_all) t_stall_all ;;
stall_main) t_stall_main ;;
stall_waiting) t_stall_waiting ;;
cut_commit) t_cut_commit ;;
cut_cic) t_cut_cic ;;
lock_killed) t_lock_killed ;;
lease_expired) t_lease_expired ;;
sweep) t_sweep ;;
*) die "unknown case '$case_'" ;;
esac

if ((failures)); then
    echo "$failures check(s) failed"
    exit 1
fi
echo "PASS: $case_"
