#!/usr/bin/env bash
# The pg fixture works: a database of its own, reachable by the TCP and the
# unix-socket URL forms, on the server's 127.0.0.1 and socket respectively,
# where writes, reads, rollback and constraint errors behave.
set -euo pipefail
. "$(dirname "$0")/pg_env.sh"
pg_test_db pg_psql

fail() {
    echo "FAIL: $*" >&2
    exit 1
}
q() { "$STRATA_PSQL" -X -q -A -t -v ON_ERROR_STOP=1 "$1" -c "$2"; }
expect() {
    local got
    got=$(q "$1" "$2") || fail "query failed: $2"
    [[ $got == "$3" ]] || fail "$2: got '$got', expected '$3'"
}

tcp=$STRATA_PG_DB_URL
sock=$STRATA_PG_DB_SOCKET_URL
expect "$tcp" "SELECT current_database()" "$STRATA_PG_DB"
expect "$sock" "SELECT current_database()" "$STRATA_PG_DB"
expect "$tcp" "SELECT host(inet_server_addr())" "127.0.0.1"
expect "$sock" "SELECT coalesce(host(inet_server_addr()), 'socket')" "socket"
expect "$tcp" "SHOW fsync" "off"

q "$tcp" "CREATE TABLE notes (id integer PRIMARY KEY, body text NOT NULL);
          INSERT INTO notes VALUES (1, 'one'), (2, 'two')" >/dev/null
expect "$sock" "SELECT string_agg(body, ',' ORDER BY id) FROM notes" "one,two"
q "$sock" "BEGIN; INSERT INTO notes VALUES (3, 'three'); ROLLBACK" >/dev/null
expect "$tcp" "SELECT count(*) FROM notes" "2"
if q "$tcp" "INSERT INTO notes VALUES (1, 'again')" 2>/dev/null; then
    fail "a duplicate primary key was accepted"
fi
# libpq defaults point at the same database.
expect "dbname=$STRATA_PG_DB" "SELECT count(*) FROM notes" "2"
echo "ok: $STRATA_PG_DB over TCP and unix socket"
