#!/usr/bin/env bash
# pg_env.sh: a database of its own for one PostgreSQL test, on the server that
# the `pg` ctest fixture started (tests/pg/pg_fixture.sh).
#
# Sourced by a bash test:
#     . pg_env.sh
#     pg_test_db my_test          # CREATE DATABASE "my_test_<pid>", dropped at exit
#     psql "$STRATA_PG_DB_URL" ...
# or as a wrapper around any program (a C test executable):
#     pg_env.sh run my_test -- ./test_pg_backend args...
# which exports the same variables, plus DATABASE_URL, runs the program,
# drops the database and exits with the program's status.
#
# The server is found through $STRATA_PG_ENV (the fixture's server.env; ctest
# sets it). After pg_test_db:
#   STRATA_PG_DB             the database name
#   STRATA_PG_DB_URL         postgresql://postgres@127.0.0.1:PORT/DB (TCP)
#   STRATA_PG_DB_SOCKET_URL  postgresql://postgres@/DB?host=SOCKETDIR&port=PORT
#   PGHOST PGPORT PGUSER PGDATABASE  for libpq defaults (TCP)
# A test that sets its own EXIT trap must call pg_test_db_drop in it.

pg_env_die() {
    echo "pg_env: error: $*" >&2
    exit 1
}

pg_env_load() {
    [[ -n ${STRATA_PG_ENV:-} ]] || pg_env_die "STRATA_PG_ENV is not set (run the test through ctest)"
    [[ -f $STRATA_PG_ENV ]] ||
        pg_env_die "$STRATA_PG_ENV does not exist: the pg fixture (test pg.start) did not start"
    # shellcheck disable=SC1090
    . "$STRATA_PG_ENV"
    if command -v psql >/dev/null; then
        STRATA_PSQL=$(command -v psql)
    elif [[ -x $STRATA_PG_BINDIR_USED/psql ]]; then
        STRATA_PSQL=$STRATA_PG_BINDIR_USED/psql
    else
        pg_env_die "psql not found: apt-get install postgresql-client"
    fi
    export PGCONNECT_TIMEOUT=10
}

# pg_admin SQL: runs SQL in the maintenance database.
pg_admin() {
    "$STRATA_PSQL" -X -q -v ON_ERROR_STOP=1 "$STRATA_PG_URL" -c "$1"
}

pg_test_db_drop() {
    if [[ -n ${STRATA_PG_DB:-} ]]; then
        pg_admin "DROP DATABASE IF EXISTS \"$STRATA_PG_DB\" WITH (FORCE)" ||
            echo "pg_env: warning: could not drop database $STRATA_PG_DB" >&2
        STRATA_PG_DB=
    fi
}

# pg_test_db NAME: creates "NAME_<pid>" (NAME reduced to [A-Za-z0-9_]).
pg_test_db() {
    local name=${1:?pg_test_db NAME}
    [[ -n ${STRATA_PG_URL:-} ]] || pg_env_load
    name=${name//[^A-Za-z0-9_]/_}
    name=${name:0:48}_$$
    pg_admin "CREATE DATABASE \"$name\"" || pg_env_die "CREATE DATABASE \"$name\" failed"
    STRATA_PG_DB=$name
    trap pg_test_db_drop EXIT
    export STRATA_PG_DB
    export STRATA_PG_DB_URL="postgresql://postgres@$STRATA_PG_HOST:$STRATA_PG_PORT/$name"
    export STRATA_PG_DB_SOCKET_URL="postgresql://postgres@/$name?host=$STRATA_PG_SOCKET_DIR&port=$STRATA_PG_PORT"
    export PGHOST=$STRATA_PG_HOST PGPORT=$STRATA_PG_PORT PGUSER=postgres PGDATABASE=$name
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    # Run as a program: pg_env.sh run NAME -- COMMAND...
    set -euo pipefail
    [[ ${1:-} == run && $# -ge 4 && $3 == -- ]] || {
        echo "usage: pg_env.sh run NAME -- COMMAND [ARGS...]" >&2
        exit 2
    }
    pg_env_load
    pg_test_db "$2"
    shift 3
    export DATABASE_URL=$STRATA_PG_DB_URL
    status=0
    "$@" || status=$?
    pg_test_db_drop
    exit $status
fi
