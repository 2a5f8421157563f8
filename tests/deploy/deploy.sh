#!/usr/bin/env bash
# deploy.sh WHAT: silica deployed (tests/deploy/CMakeLists.txt registers each).
#   sqlite_service  production start on SQLite as a service: the seeds' log lines,
#                   /healthz, /readyz (503 after a downgrade, 200 after the upgrade),
#                   404/405, SIGTERM -> exit 0; a development start with pending
#                   migrations refuses (exit 3); bad --bind-port is exit 2
#   pg_cron         silica's own queries on PostgreSQL (TCP and socket) give the
#                   same transcript as on SQLite
#   pg_replicas     16 replicas start at once on one new PostgreSQL database, 8 as
#                   services and 8 one-shot: each serves or exits 0, each migration
#                   is applied once
#   pg_sigterm_startup  SIGTERM during the startup migration interrupts it: exit 1
#                   within a second or so, nothing recorded, the next start applies it
#   pg_readyz       a replica runs a slow migration; meanwhile a second one, waiting
#                   for the lock, answers /healthz 200 and /readyz 503, an older
#                   replica stays ready; after it, all are ready
#   static_binary   what the binary needs at run time (STRATA_STATIC_LINK)
#   empty_root      the fully static binary in a directory holding only itself
#                   (unshare --root: no /etc, no libraries, no /tmp): the seeds'
#                   first-time setup on SQLite, then as a service
#   pg_empty_root   the fully static binary with libpq in an empty root, on the test
#                   server over its unix socket (bind-mounted) and TCP
#   pg_socket_tcp   the static-pg binary on the test server, socket and TCP
#   systemd_unit    docs/deploy/systemd/silica.service passes systemd-analyze verify
#                   (exit 77, skipped, without systemd-analyze)
#   consumer_static tests/cmake/consumer from the installed package, linked with
#                   -DSTRATA_STATIC_LINK=ALL, run in an empty root
# Environment (from CMake): SILICA, SILICA_SLOW, DEPLOY_EXPECTED, DEPLOY_DOCS, STRATA_STATIC_LINK;
# PostgreSQL cases run inside tests/pg/pg_env.sh (DATABASE_URL, STRATA_PG_DB_URL,
# STRATA_PG_DB_SOCKET_URL, PGHOST...). Output with times or ports is normalised
# and compared with expected/<name>.txt.
set -u
what=${1:?usage: deploy.sh WHAT}
S=("${SILICA:-}")
work=$(mktemp -d /tmp/strata-deploy.XXXXXX)
declare -A port pid
failures=0

cleanup() {
    local n
    for n in "${!pid[@]}"; do
        kill -KILL "${pid[$n]}" 2>/dev/null
    done
    wait 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
cd "$work" || exit 1
unset SILICA_ENVIRONMENT STRATA_ENV CRON_DATABASE_URL NOTES_DATABASE_URL KUBERNETES_SERVICE_HOST
export NO_COLOR=1

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# Times, ports and database URLs vary from run to run.
normalise() {
    sed -E -e 's/\([0-9]+ ms\)/(N ms)/' -e 's#(127\.0\.0\.1|0\.0\.0\.0):[0-9]+#\1:PORT#g' \
        -e 's#(postgresql|sqlite)://[^ ]*[^ :,]#<URL>#g' -e 's/user with ID [0-9]+/user with ID N/' \
        -e 's/, port [0-9]+ failed/, port PORT failed/'
}

# expect NAME FILE: FILE, normalised, equals expected/NAME.txt
# (DEPLOY_UPDATE_EXPECTED=1 writes it instead: review the diff before committing).
expect() {
    normalise <"$2" >"$2.norm"
    [[ -n ${DEPLOY_UPDATE_EXPECTED:-} ]] && cp "$2.norm" "$DEPLOY_EXPECTED/$1.txt"
    if ! diff -u "$DEPLOY_EXPECTED/$1.txt" "$2.norm"; then
        fail "output differs from expected/$1.txt"
    fi
}

# step CMD ARGS...: a transcript line "$ silica ARGS", the output of
# "${CMD[@]}" ARGS (CMD names an array: the binary, or in_root's R), "[exit N]".
step() {
    local -n _cmd=$1
    local rc
    shift
    echo "\$ silica $*"
    "${_cmd[@]}" "$@" 2>&1
    rc=$?
    echo "[exit $rc]"
}

# wait_for SECONDS CMD...: polls CMD (every 0.1 s) until it succeeds.
wait_for() {
    local i n=$(($1 * 10))
    shift
    for ((i = 0; i < n; i++)); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}

# start NAME CMD...: runs CMD --bind-port 0 in the background, log in NAME.log;
# waits for its "Listening on" line and records port[NAME] and pid[NAME].
start() {
    local name=$1
    shift
    "$@" --bind-port 0 >"$name.log" 2>&1 &
    pid[$name]=$!
    if ! wait_for 30 grep -qs '^Listening on ' "$name.log"; then
        fail "$name: no 'Listening on' line"
        cat "$name.log"
        return 1
    fi
    port[$name]=$(sed -n 's#^Listening on http://[0-9.]*:\([0-9]*\) .*#\1#p' "$name.log")
}

# started NAME: waits until NAME logged "Application startup complete".
started() {
    wait_for "${2:-120}" grep -q '^Application startup complete$' "$1.log" && return 0
    fail "$1: startup did not complete"
    cat "$1.log"
    return 1
}

# stop NAME: SIGTERM, and the exit status must be 0.
stop() {
    local rc
    kill -TERM "${pid[$1]}"
    wait "${pid[$1]}"
    rc=$?
    unset "pid[$1]"
    [[ $rc -eq 0 ]] || fail "$1: exit $rc after SIGTERM (expected 0)"
}

# http NAME PATH [METHOD]: one request to NAME's port with bash's /dev/tcp;
# sets code and body.
http() {
    local resp
    code=000 body=
    exec 3<>"/dev/tcp/127.0.0.1/${port[$1]}" || return 1
    printf '%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' "${3:-GET}" "$2" >&3
    resp=$(timeout 20 cat <&3)
    exec 3<&-
    code=$(head -n 1 <<<"$resp" | cut -d ' ' -f 2)
    body=${resp#*$'\r\n\r\n'}
}

# probe NAME PATH CODE [BODY]: the answer must be CODE (and BODY).
probe() {
    http "$1" "$2"
    if [[ $code != "$3" || (-n ${4:-} && $body != "$4") ]]; then
        fail "$1 GET $2: $code '$body' (expected $3${4:+ '$4'})"
    else
        echo "$1 GET $2: $code $body"
    fi
}

psql_q() {
    psql -X -qtA -v ON_ERROR_STOP=1 "$STRATA_PG_DB_URL" -c "$1"
}

# One version row per migration of the bundle, each once.
check_versions() {
    local rows dup
    rows=$(psql_q "SELECT count(*) FROM cron_strata_version WHERE state = 'applied'")
    dup=$(psql_q "SELECT count(*) FROM (SELECT revision FROM cron_strata_version
                  GROUP BY revision HAVING count(*) > 1) d")
    echo "cron_strata_version: $rows applied rows, $dup revisions recorded twice"
    [[ $rows == "$1" && $dup == 0 ]] || fail "expected $1 version rows, each revision once"
}

# The seeds' first-time setup and the application, as one transcript.
seeds_transcript() {
    step "$1" cron migrate status
    step "$1" cron migrate upgrade
    step "$1" cron migrate status
    step "$1" cron migrate history
    step "$1" cron prompt add daily-summary "Summarize today's activity"
    step "$1" cron prompt list
    step "$1" cron
}

# The application's own queries, after a production start.
app_transcript() {
    step "$1" cron
    step "$1" cron prompt add daily-summary "Summarize today's activity"
    step "$1" cron prompt list
    step "$1" notes add "first note" "on either database"
    step "$1" notes list
    step "$1" cron
}

case_sqlite_service() {
    export SILICA_ENVIRONMENT=production DATABASE_URL=sqlite:///$work/silica.db
    start a "$SILICA" cron && started a || return
    probe a /healthz 200 ok
    probe a /readyz 200 "ready: cron at d41f6a8e2c57 (5 applied)"
    probe a /readyz?verbose=1 200
    probe a /metrics 404
    http a /readyz POST
    [[ $code == 405 ]] || fail "POST /readyz: $code (expected 405)"
    start b "$SILICA" cron && started b || return
    "$SILICA" cron migrate downgrade -1 --yes >/dev/null 2>&1 || fail "downgrade -1"
    probe a /readyz 503 "not ready: cron: 1 pending, 0 edited, 0 dirty"
    probe b /readyz 503
    probe b /healthz 200 ok
    "$SILICA" cron migrate upgrade >/dev/null 2>&1 || fail "upgrade"
    probe a /readyz 200
    probe b /readyz 200
    stop a
    stop b
    expect sqlite_service a.log
    expect sqlite_service_second b.log

    # Development, the default: pending migrations refuse the start.
    unset SILICA_ENVIRONMENT
    export DATABASE_URL=sqlite:///$work/dev.db
    {
        step S cron --bind-port 0
        step S cron --bind-port x
        step S cron --bind-port 8080 --bind-address not-an-address
    } >dev.txt
    expect sqlite_service_dev dev.txt
}

case_pg_cron() {
    app_transcript S >pg.txt
    expect pg_cron pg.txt
    # The same on SQLite, in production too.
    SILICA_ENVIRONMENT=production DATABASE_URL=sqlite:///$work/s.db app_transcript S >sqlite.txt
    expect pg_cron sqlite.txt
    # Over the unix socket: the same database, nothing left to apply.
    DATABASE_URL=$STRATA_PG_DB_SOCKET_URL step S cron prompt list >socket.txt
    expect pg_cron_socket socket.txt
}

case_pg_replicas() {
    local i n=16 rc ran
    for ((i = 1; i <= n; i++)); do
        if ((i % 2)); then
            "$SILICA" cron --bind-port 0 >"r$i.log" 2>&1 &
        else
            "$SILICA" cron >"r$i.log" 2>&1 &
        fi
        pid[r$i]=$!
    done
    for ((i = 2; i <= n; i += 2)); do
        wait "${pid[r$i]}"
        rc=$?
        unset "pid[r$i]"
        [[ $rc -eq 0 ]] || {
            fail "one-shot replica r$i: exit $rc"
            cat "r$i.log"
        }
        grep -q '^prompts: 0, jobs: 0, executions: 0$' "r$i.log" || fail "r$i: no counts"
    done
    for ((i = 1; i <= n; i += 2)); do
        started "r$i" || continue
        port[r$i]=$(sed -n 's#^Listening on http://[0-9.]*:\([0-9]*\) .*#\1#p' "r$i.log")
        probe "r$i" /readyz 200 "ready: cron at d41f6a8e2c57 (5 applied)"
    done
    for ((i = 1; i <= n; i += 2)); do
        [[ -n ${pid[r$i]:-} ]] && stop "r$i"
    done
    check_versions 5
    ran=$(cat r*.log | grep -c '^Running upgrade')
    echo "'Running upgrade' lines over all $n replicas: $ran"
    [[ $ran == 5 ]] || fail "each of the 5 migrations must run exactly once"
}

# The slow migration (slow/) runs until the table deploy_gate exists.
open_gate() {
    psql_q "CREATE TABLE deploy_gate ()" >/dev/null || fail "cannot open the gate"
}

not_sleeping() { ! sleeping 2>/dev/null; }

# Whether the slow migration is waiting at the gate.
# Only this test's database: the suite's other tests share the server, and
# the two deploy cases' slow migrations both wait at a gate.
# The migration's statement is known by its text, or, when strata sends it
# in a message with others, by the wait of its loop (pg_stat_activity keeps
# only a message's first 1 KB, track_activity_query_size). Asked a few times:
# between two sleeps the loop runs for a moment, and in the full suite a
# connection can be refused for a moment, neither of which is the migration
# ending.
sleeping() {
    local n try
    for try in 1 2 3 4 5; do
        n=$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE state = 'active'
                    AND (query LIKE '%deploy_gate%' OR wait_event = 'PgSleep')
                    AND datname = current_database() AND pid <> pg_backend_pid()" 2>&1) && [[ $n == 1 ]] && return 0
        sleep 0.1
    done
    echo "sleeping: $n" >&2
    return 1
}

case_pg_readyz() {
    "$SILICA" cron migrate upgrade >/dev/null 2>&1 || fail "upgrade"
    start old "$SILICA" cron && started old || return
    start a "$SILICA_SLOW" cron || return
    wait_for 30 sleeping || {
        fail "the slow migration did not start"
        cat a.log
        return
    }
    start b "$SILICA_SLOW" cron --lock-wait 120 || return
    # While replica a holds the lock in its slow migration:
    probe b /healthz 200 ok
    probe b /readyz 503 "not ready: cron: 1 pending, 0 edited, 0 dirty"
    probe a /healthz 200 ok
    probe a /readyz 503 "not ready: cron: 1 pending, 0 edited, 0 dirty"
    probe old /readyz 200 "ready: cron at d41f6a8e2c57 (5 applied)"
    sleeping || {
        fail "the slow migration had ended before the probes answered"
        psql_q "SELECT pid, state, left(regexp_replace(query, '\\s+', ' ', 'g'), 120)
                FROM pg_stat_activity WHERE datname = current_database()"
    }
    grep -q 'Application startup complete' b.log && fail "b completed while a held the lock"
    open_gate
    started a && started b || return
    probe a /readyz 200 "ready: cron at 5105f0000001 (6 applied)"
    probe b /readyz 200 "ready: cron at 5105f0000001 (6 applied)"
    # A database ahead of the binary (a rolling deploy) is still ready.
    probe old /readyz 200 "ready: cron at d41f6a8e2c57 (5 applied)"
    stop old
    stop a
    stop b
    check_versions 6
    grep -q '^Running upgrade' b.log && fail "b applied a migration a had applied"
    expect pg_readyz a.log
}

# SIGTERM while the startup migration runs: strata_options.interrupt stops it
# (the statement cancelled, its transaction rolled back, the lock released),
# the process exits long before the migration would have ended, nothing of it
# is recorded, and the next start applies it.
case_pg_sigterm_startup() {
    local t0 t1 rc
    "$SILICA" cron migrate upgrade >/dev/null 2>&1 || fail "upgrade"
    start a "$SILICA_SLOW" cron || return
    wait_for 30 sleeping || {
        fail "the slow migration did not start"
        cat a.log
        return
    }
    t0=$(date +%s%N)
    kill -TERM "${pid[a]}"
    wait "${pid[a]}"
    rc=$?
    t1=$(date +%s%N)
    unset "pid[a]"
    echo "exit $rc after SIGTERM, $(((t1 - t0) / 1000000)) ms (the migration waits for the gate)"
    [[ $rc -eq 1 ]] || fail "exit $rc after SIGTERM during the startup migration (expected 1)"
    [[ $(((t1 - t0) / 1000000)) -lt 4000 ]] || fail "the migration was not interrupted"
    grep -q 'SIGTERM during startup: interrupting the migration step' a.log ||
        fail "no line about the interruption"
    # The server ends the statement when the cancel reaches its backend: at
    # once here, within moments on a loaded machine.
    wait_for 10 not_sleeping || fail "the slow statement still runs on the server"
    check_versions 5
    open_gate
    start b "$SILICA_SLOW" cron && started b || return
    stop b
    check_versions 6
}

case_static_binary() {
    local f libs
    f=$(file -L "$SILICA")
    echo "$f"
    libs=$(ldd "$SILICA" 2>&1)
    echo "ldd: $libs"
    case $STRATA_STATIC_LINK in
    ALL)
        [[ $f == *"statically linked"* ]] || fail "file does not say 'statically linked'"
        [[ $libs == *"not a dynamic executable"* ]] || fail "ldd lists libraries"
        ;;
    ALL_BUT_LIBC)
        [[ $f == *"dynamically linked"* ]] || fail "file does not say 'dynamically linked'"
        # Only glibc: libc, libm, the loader (and the kernel's vDSO).
        if grep -Ev '^\s*(linux-vdso\.so\.1|libc\.so\.6|libm\.so\.6|/lib64/ld-linux-x86-64\.so\.2)[ =]' \
            <<<"$libs"; then
            fail "the binary needs more than glibc (lines above)"
        fi
        grep -q libpq <<<"$libs" && fail "libpq is linked dynamically"
        ;;
    *) fail "STRATA_STATIC_LINK='$STRATA_STATIC_LINK': not a static build" ;;
    esac
}

# A directory holding only the binary, as its root (mount namespace, no
# /etc, /tmp or /lib). $root/run is a mount point for a socket directory.
make_root() {
    root=$work/root
    mkdir -p "$root"
    cp "$1" "$root/silica"
    echo "root holds: $(ls -A "$root")"
}

# in_root [SOCKDIR]: sets R to the command that runs /silica in the root,
# with a clean environment (NO_COLOR, and DATABASE_URL and SILICA_ENVIRONMENT
# as they are now), SOCKDIR bind-mounted on /run. A command, not a function,
# so that a service started with it is the process that gets the SIGTERM.
in_root() {
    R=(env -i NO_COLOR=1 ${DATABASE_URL:+DATABASE_URL=$DATABASE_URL}
        ${SILICA_ENVIRONMENT:+SILICA_ENVIRONMENT=$SILICA_ENVIRONMENT}
        unshare --mount /bin/bash -c '
            if [[ -n $1 ]]; then mkdir -p "$2/run" && mount --bind "$1" "$2/run" || exit 99; fi
            exec unshare --root="$2" --wd=/ /silica "${@:3}"' _ "${1:-}" "$root")
}

case_empty_root() {
    make_root "$SILICA"
    unset DATABASE_URL
    in_root
    seeds_transcript R >root.txt
    expect empty_root root.txt
    echo "root holds afterwards: $(ls -A "$root")"
    [[ -f $root/silica-cron.db ]] || fail "no silica-cron.db in the root"
    # As a service in the root: production, the database made above.
    SILICA_ENVIRONMENT=production DATABASE_URL=sqlite:///silica-cron.db in_root
    start svc "${R[@]}" cron || return
    started svc || return
    probe svc /healthz 200 ok
    probe svc /readyz 200 "ready: cron at d41f6a8e2c57 (5 applied)"
    stop svc
    expect empty_root_service svc.log
}

case_pg_empty_root() {
    local sock_url tcp_url db=$STRATA_PG_DB
    make_root "$SILICA"
    sock_url="postgresql://postgres@/$db?host=/run&port=$PGPORT"
    tcp_url="postgresql://postgres@127.0.0.1:$PGPORT/$db"
    . "$STRATA_PG_ENV"
    {
        DATABASE_URL=$sock_url in_root "$STRATA_PG_SOCKET_DIR"
        step R cron
        DATABASE_URL=$tcp_url in_root
        step R cron prompt add daily-summary "Summarize today's activity"
        step R cron prompt list
        # No user in the URL: a static glibc looks up no passwd entry.
        DATABASE_URL="postgresql://127.0.0.1:$PGPORT/$db" in_root
        step R cron
        # GSSAPI is one of the two things a static libpq gives up.
        DATABASE_URL="$tcp_url?gssencmode=require" in_root
        step R cron migrate status
    } >root.txt
    expect pg_empty_root root.txt
    check_versions 5
    DATABASE_URL=$tcp_url in_root
    start svc "${R[@]}" cron && started svc || return
    probe svc /readyz 200 "ready: cron at d41f6a8e2c57 (5 applied)"
    stop svc
}

case_pg_socket_tcp() {
    {
        DATABASE_URL=$STRATA_PG_DB_SOCKET_URL step S cron
        DATABASE_URL=$STRATA_PG_DB_URL step S cron prompt add daily-summary "Summarize today's activity"
        DATABASE_URL=$STRATA_PG_DB_URL step S cron prompt list
    } >out.txt
    expect pg_socket_tcp out.txt
    check_versions 5
}

case_systemd_unit() {
    command -v systemd-analyze >/dev/null || {
        echo "skipped: no systemd-analyze"
        exit 77
    }
    sed "s#/usr/local/bin/silica#$SILICA#" "$DEPLOY_DOCS/systemd/silica.service" >silica.service
    systemd-analyze verify ./silica.service || fail "systemd-analyze verify"
}

case_consumer_static() {
    local app
    "$CMAKE" -S "$STRATA_CONSUMER" -B build -G "$CMAKE_GENERATOR" -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_C_COMPILER="$CC" -DSTRATA_CONSUMER_MODE=package -DCMAKE_PREFIX_PATH="$STRATA_PREFIX" \
        -DSTRATA_STATIC_LINK=ALL >configure.log 2>&1 || {
        cat configure.log
        fail "configure"
        return
    }
    "$CMAKE" --build build >build.log 2>&1 || {
        cat build.log
        fail "build"
        return
    }
    app=build/app
    file "$app"
    [[ $(file -L "$app") == *"statically linked"* ]] || fail "the app is not statically linked"
    make_root "$app"
    in_root
    "${R[@]}" >root.txt 2>&1
    cat root.txt
    [[ $(head -n 1 root.txt) == "demo: 2 migrations" ]] || fail "the app did not run in the empty root"
}

if [[ $(type -t "case_$what") != function ]]; then
    echo "deploy.sh: unknown case '$what'"
    exit 2
fi
"case_$what"
if ((failures)); then
    echo "$what: $failures failure(s)"
    exit 1
fi
echo "$what: ok"
