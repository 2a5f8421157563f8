#!/usr/bin/env bash
# runtime_pg.sh run VW_PG MIGRATIONS_DIR
# runtime_pg.sh skip CORPUS_DIR
#
# The vaultwarden PostgreSQL history through strata's runtime, on the
# throwaway server of the `pg` fixture: run by strata_add_pg_test (through
# tests/pg/pg_env.sh), so DATABASE_URL names a fresh database of this test's
# own; two more ("<db>_steps", "<db>_single") are created here and dropped at
# exit. VW_PG embeds MIGRATIONS_DIR (converted by vaultwarden.sh at configure
# time) and runs:
#   - `vw_pg cycle` (C API): upgrade heads on the fresh database; downgrade
#     base, refused with the message naming the newest irreversible migration
#     (empty down.sql) and nothing changed; downgrade to that migration (the
#     lowest target strata can reach); downgrade -1 refused the same way;
#     upgrade heads again; the schema (pg_dump --schema-only --no-owner
#     --no-privileges without strata's *_strata_* tables) identical to the
#     first; one version row per migration, all 'applied'. Then each
#     reversible migration up, down, up in place on the second database (a
#     down known to fail on PostgreSQL, see BAD_DOWNS, must fail and be rolled
#     back), and the whole cycle again with --single-transaction on the third,
#     both ending with the same schema;
#   - strata's CLI on the first database: status and check say up to date
#     (exit 0), current is the head, downgrade base is refused (exit 1) with
#     that message, status still exit 0; downgrade to the newest irreversible
#     migration and upgrade heads, both --single-transaction; status exit 0;
#   - the same history applied by psql -1 -f (each converted up section) on the
#     steps database, rebuilt: the same schema as strata's (compared after the
#     CLI's downgrade and upgrade).
# The counts and the newest irreversible migration are computed here from the
# files, and the bundle is checked against them.
#
# `skip`: the corpus is absent at configure time: exit 77 (ctest: skipped).
set -uo pipefail

if [ "${1:-}" = skip ]; then
    echo "vaultwarden: corpus not found at ${2:-?} when CMake last configured: skipped" \
        "(put it there and re-run cmake)"
    exit 77
fi
if [ "${1:-}" != run ] || [ $# -ne 3 ]; then
    echo "usage: runtime_pg.sh run VW_PG MIGRATIONS_DIR | skip CORPUS_DIR" >&2
    exit 2
fi
app=$2
dir=$3
t_start=$(date +%s%N)

# Down sections of the history that fail on PostgreSQL whatever applies them
# (checked with psql -1 -f): the step-by-step run expects exactly these to
# fail. v20220727110000 (2022-07-27-110000_add_group_support/down.sql) drops
# `groups` first, while groups_users and collections_groups still reference
# it: "cannot drop table groups because other objects depend on it".
# (SQLite, with foreign_keys off, accepts that order.) Not reached by the
# downgrade of the cycle: add_manage (2025-01-09), irreversible, is newer.
bad_downs=v20220727110000

# The server (pg_env.sh exported DATABASE_URL and the rest).
if [ -z "${DATABASE_URL:-}" ] || [ -z "${STRATA_PG_DB:-}" ]; then
    echo "runtime_pg.sh: DATABASE_URL/STRATA_PG_DB not set: run through ctest (strata_add_pg_test)" >&2
    exit 1
fi
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck disable=SC1091
. "$here/../pg/pg_env.sh"
# shellcheck disable=SC1091
. "$here/vw_lib.sh"
count_migrations "$dir"
echo "vaultwarden: $nmig PostgreSQL migrations, $nrev reversible, $nnotx transaction=none;" \
    "newest irreversible: $irrev ($irrev_file)"
pg_env_load
pg_dump=$(command -v pg_dump || true)
if [ -z "$pg_dump" ] && [ -x "${STRATA_PG_BINDIR_USED:-}/pg_dump" ]; then
    pg_dump=$STRATA_PG_BINDIR_USED/pg_dump
fi
[ -n "$pg_dump" ] || {
    echo "runtime_pg.sh: pg_dump not found: apt-get install postgresql-client" >&2
    exit 1
}
db=$STRATA_PG_DB
base_url=${DATABASE_URL%/*}
steps_db=${db}_steps single_db=${db}_single
err=""
cleanup() {
    [ -n "$err" ] && rm -f "$err"
    pg_admin "DROP DATABASE IF EXISTS \"$steps_db\" WITH (FORCE)" >/dev/null 2>&1
    pg_admin "DROP DATABASE IF EXISTS \"$single_db\" WITH (FORCE)" >/dev/null 2>&1
}
trap cleanup EXIT
pg_admin "CREATE DATABASE \"$steps_db\"" && pg_admin "CREATE DATABASE \"$single_db\"" || exit 1
url=$DATABASE_URL
steps_url=$base_url/$steps_db
single_url=$base_url/$single_db
unset STRATA_ENV VWTEST_ENVIRONMENT
export NO_COLOR=1
fail=0

"$app" cycle "$pg_dump" "$url" "$steps_url" "$single_url" "$nmig" "$irrev" "$irrev_file" \
    "$nrev" "$nnotx" "$bad_downs" || fail=1

# The CLI, on the database the cycle left up to date.
export VAULTWARDEN_PG_DATABASE_URL=$url
cli_ns=vaultwarden_pg
vw_cli_checks postgresql
# down as far as allowed and up again, each in a single transaction, with the CLI
cli 0 downgrade "$irrev" --single-transaction
cli 0 current
want_out "$irrev"
cli 0 upgrade heads --single-transaction
cli 0 status
want_out "database is up to date"
rows=$("$STRATA_PSQL" -X -q -At "$url" -c "SELECT count(*) FROM vaultwarden_pg_strata_version WHERE state = 'applied'")
if [ "$rows" != "$nmig" ]; then
    echo "FAIL: $rows applied version rows after the CLI, want $nmig" >&2
    fail=1
fi

# The same history with psql (up sections only, one transaction each), on
# the steps database dropped and created again: the same schema.
pg_admin "DROP DATABASE \"$steps_db\" WITH (FORCE)" && pg_admin "CREATE DATABASE \"$steps_db\"" || fail=1
t0=$(date +%s%N)
psql_ok=1
err=$(mktemp /tmp/strata-vwpg.XXXXXX)
while IFS= read -r f; do
    # the up section of a converted file: from its marker to the down marker
    if ! sed -n '/^-- strata: up /,/^-- strata: down /{/^-- strata: down /d;p}' "$f" |
        "$STRATA_PSQL" -X -q -v ON_ERROR_STOP=1 -1 "$steps_url" -f - >/dev/null 2>"$err"; then
        echo "FAIL: psql -1 -f: $(basename "$f"): $(cat "$err")" >&2
        psql_ok=0 fail=1
        break
    fi
done < <(find "$dir" -maxdepth 1 -name '*.sql' | LC_ALL=C sort)
rm -f "$err"
t1=$(date +%s%N)
if [ "$psql_ok" -eq 1 ]; then
    echo "vaultwarden: psql applied the $nmig up sections in $(((t1 - t0) / 1000000)) ms"
    if diff -u <("$app" schema "$pg_dump" "$steps_url") <("$app" schema "$pg_dump" "$url"); then
        echo "vaultwarden: the schema applied by strata equals the one applied by psql"
    else
        echo "FAIL: strata and psql give different schemas" >&2
        fail=1
    fi
fi

finish "PostgreSQL runtime test"
