#!/usr/bin/env bash
# runtime.sh run VW_SQLITE MIGRATIONS_DIR [STRATA_BUNDLE]
# runtime.sh skip CORPUS_DIR
#
# The vaultwarden SQLite history through strata's runtime: VW_SQLITE embeds
# MIGRATIONS_DIR (converted by vaultwarden.sh at configure time) and runs,
# in a fresh temporary directory:
#   - `vw_sqlite cycle` (C API): upgrade heads on a fresh file; downgrade base,
#     refused with the message naming the newest irreversible migration and
#     nothing changed; downgrade to that migration (the lowest target strata
#     can reach); upgrade heads again; the schema (sqlite_schema minus the
#     strata tables) identical to the first; one version row per migration,
#     all 'applied'; then each reversible migration up, down, up in place on a
#     second file, and the whole history in a single transaction on a third,
#     both ending with the same schema;
#   - strata's CLI on the first file: status and check say up to date (exit 0),
#     current is the head, downgrade base is refused (exit 1) with that message;
#   - with STRATA_BUNDLE (given when the sqlite3 CLI exists): the same history
#     applied by the sqlite3 CLI (../generated/sqlite_cycle.sh) gives the same
#     schema as the runtime's single-transaction upgrade.
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
if [ "${1:-}" != run ] || [ $# -lt 3 ] || [ $# -gt 4 ]; then
    echo "usage: runtime.sh run VW_SQLITE MIGRATIONS_DIR [STRATA_BUNDLE] | skip CORPUS_DIR" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
app=$2
dir=$3
tool=${4:-}
t_start=$(date +%s%N)

# shellcheck disable=SC1091
. "$here/vw_lib.sh"
count_migrations "$dir"
echo "vaultwarden: $nmig SQLite migrations, $nrev reversible; newest irreversible: $irrev ($irrev_file)"

work=$(mktemp -d /tmp/strata-vw.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
unset DATABASE_URL VAULTWARDEN_DATABASE_URL STRATA_ENV VWTEST_ENVIRONMENT
export NO_COLOR=1
fail=0

"$app" cycle "$nmig" "$irrev" "$irrev_file" "$nrev" || fail=1

# The CLI, on the database the cycle left up to date.
export VAULTWARDEN_DATABASE_URL=sqlite:///./vw.db
cli_ns=vaultwarden
vw_cli_checks sqlite

if [ -n "$tool" ]; then
    # The sqlite3 CLI's result (its last, step-by-step run: a full database).
    if "$here/../generated/sqlite_cycle.sh" --partial "$tool" "$dir" "$work/cli" >"$work/cli.log" 2>&1 &&
        "$app" schema "$work/cli/cycle.db" >"$work/cli.schema" &&
        "$app" schema single.db >"$work/runtime.schema"; then
        if diff -u "$work/cli.schema" "$work/runtime.schema"; then
            echo "vaultwarden: the schema applied by the runtime equals the one applied by the sqlite3 CLI"
        else
            echo "FAIL: the runtime and the sqlite3 CLI give different schemas" >&2
            fail=1
        fi
    else
        cat "$work/cli.log" >&2
        echo "FAIL: applying the history with the sqlite3 CLI failed" >&2
        fail=1
    fi
fi
finish "runtime test"
