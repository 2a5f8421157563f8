#!/usr/bin/env bash
# pg_fixture.sh start|stop ENV_FILE: a throwaway PostgreSQL server for tests.
#
# start: initdb in a fresh /tmp/pgt.XXXXXX (short: the unix socket path limit
#   is 107 bytes), start it on a random port in 20000-59999 (retried when
#   busy) with fsync off, listening on 127.0.0.1 and on a socket in that
#   directory, and write ENV_FILE (shell assignments, see below). A watchdog
#   stops the server and removes the directory if the process that ran
#   `start` (ctest) goes away without `stop`.
# stop: stop the server (immediate), keep its log as ENV_FILE's directory
#   /server.log, remove the directory and ENV_FILE.
#
# initdb and pg_ctl refuse to run as root: as root they run as `postgres`.
# Missing server binaries are an error, never a silent skip.
set -euo pipefail

cmd=${1:-}
envfile=${2:-}
if [[ -z $cmd || -z $envfile ]]; then
    echo "usage: pg_fixture.sh start|stop ENV_FILE" >&2
    exit 2
fi

die() {
    echo "pg_fixture: error: $*" >&2
    exit 1
}

find_bindir() {
    local d
    if [[ -n ${STRATA_PG_BINDIR:-} ]]; then
        [[ -x $STRATA_PG_BINDIR/initdb ]] || die "STRATA_PG_BINDIR=$STRATA_PG_BINDIR has no initdb"
        echo "$STRATA_PG_BINDIR"
        return
    fi
    d=$(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/initdb' 2>/dev/null |
        sort -V | tail -n 1)
    if [[ -n $d ]]; then
        dirname "$d"
    elif command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
        dirname "$(command -v initdb)"
    else
        die "PostgreSQL server binaries not found (no /usr/lib/postgresql/*/bin/initdb)." \
            "Install them: apt-get install postgresql"
    fi
}

# Runs a server command as the user that may run it.
as_pg() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@" </dev/null
    else
        "$@" </dev/null
    fi
}

# stop_dir DIR BINDIR: stops the server whose data is in DIR/data, removes DIR.
stop_dir() {
    local dir=$1 bindir=$2 pid
    [[ -d $dir ]] || return 0
    if [[ -f $dir/data/postmaster.pid ]]; then
        if ! as_pg "$bindir/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1; then
            pid=$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null || true)
            [[ $pid =~ ^[0-9]+$ ]] && kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -rf "$dir"
}

do_stop() {
    local STRATA_PG_DIR="" STRATA_PG_BINDIR_USED=""
    if [[ ! -f $envfile ]]; then
        echo "pg_fixture: no server recorded in $envfile; nothing to stop"
        return 0
    fi
    # shellcheck disable=SC1090
    . "$envfile"
    [[ -n $STRATA_PG_DIR && $STRATA_PG_DIR == /tmp/pgt.* ]] || die "$envfile names no server dir"
    if [[ -f $STRATA_PG_DIR/server.log ]]; then
        cp "$STRATA_PG_DIR/server.log" "$(dirname "$envfile")/server.log" || true
    fi
    stop_dir "$STRATA_PG_DIR" "$STRATA_PG_BINDIR_USED"
    rm -f "$envfile"
    echo "pg_fixture: stopped the server in $STRATA_PG_DIR (log: $(dirname "$envfile")/server.log)"
}

do_start() {
    local bindir dir port attempt started=0 tmp
    bindir=$(find_bindir)
    if [[ $(id -u) -eq 0 ]] && ! id -u postgres >/dev/null 2>&1; then
        die "no 'postgres' user to run the server as (root may not):" \
            "apt-get install postgresql, or useradd -r postgres"
    fi
    # A server left behind by an interrupted run.
    [[ -f $envfile ]] && do_stop
    mkdir -p "$(dirname "$envfile")"

    dir=$(mktemp -d /tmp/pgt.XXXXXX)
    [[ $(id -u) -eq 0 ]] && chown postgres "$dir"
    chmod 700 "$dir"
    # From here on, a failure removes the directory.
    trap 'stop_dir "$dir" "$bindir"' EXIT

    if ! as_pg "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C \
        --no-sync >"$dir/initdb.log" 2>&1; then
        cat "$dir/initdb.log" >&2
        die "initdb failed"
    fi
    for attempt in 1 2 3 4 5 6 7 8; do
        port=$((20000 + ((RANDOM << 15) | RANDOM) % 40000))
        if as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
            -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off \
                -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
            start >"$dir/pg_ctl.log" 2>&1; then
            started=1
            break
        fi
        echo "pg_fixture: start on port $port failed (attempt $attempt), retrying" >&2
        # pg_ctl may give up while the server is still coming up.
        as_pg "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    done
    if [[ $started -ne 1 ]]; then
        cat "$dir/pg_ctl.log" "$dir/server.log" >&2 || true
        die "the server did not start"
    fi

    tmp=$envfile.tmp.$$
    {
        echo "# written by pg_fixture.sh start; removed by pg_fixture.sh stop"
        printf 'STRATA_PG_DIR=%q\n' "$dir"
        printf 'STRATA_PG_BINDIR_USED=%q\n' "$bindir"
        printf 'STRATA_PG_HOST=127.0.0.1\n'
        printf 'STRATA_PG_PORT=%q\n' "$port"
        printf 'STRATA_PG_SOCKET_DIR=%q\n' "$dir"
        printf 'STRATA_PG_USER=postgres\n'
        printf 'STRATA_PG_URL=%q\n' "postgresql://postgres@127.0.0.1:$port/postgres"
        printf 'STRATA_PG_SOCKET_URL=%q\n' "postgresql://postgres@/postgres?host=$dir&port=$port"
    } >"$tmp"
    mv "$tmp" "$envfile"
    trap - EXIT

    # The watchdog: in its own session, so a Ctrl-C to ctest's process group
    # does not take it down before it has cleaned up.
    setsid "$BASH" "${BASH_SOURCE[0]}" watchdog "$envfile" "$dir" "$bindir" "$PPID" \
        </dev/null >/dev/null 2>&1 &
    echo "pg_fixture: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}')" \
        "on 127.0.0.1:$port and $dir (env: $envfile)"
}

do_watchdog() {
    local dir=$3 bindir=$4 owner=$5
    while [[ -d $dir ]] && kill -0 "$owner" 2>/dev/null; do
        sleep 2
    done
    [[ -d $dir ]] || return 0
    stop_dir "$dir" "$bindir"
    if [[ -f $envfile ]] && grep -qF "$dir" "$envfile"; then
        rm -f "$envfile"
    fi
}

case $cmd in
start) do_start ;;
stop) do_stop ;;
watchdog) do_watchdog "$@" ;;
*)
    echo "usage: pg_fixture.sh start|stop ENV_FILE" >&2
    exit 2
    ;;
esac
