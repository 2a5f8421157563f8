#!/usr/bin/env bash
# vaultwarden.sh MODE STRATA_BUNDLE CORPUS_DIR WORK_DIR [CC INCLUDE_DIR]
#
# Converts the vaultwarden migration history (diesel layout, read-only in
# CORPUS_DIR = ../shared/corpus/vaultwarden: <dialect>/<YYYY-MM-DD-HHMMSS_name>/
# up.sql + down.sql) into strata migration files under WORK_DIR, never into
# the source tree, then:
#
#   MODE=bundle  strata-bundle check --single-head and generate, for both
#                dialects; with CC and INCLUDE_DIR, compiles the generated C.
#   MODE=sqlite  applies the SQLite history with the sqlite3 CLI:
#                up -> down (as far as the history is reversible) -> up, and
#                compares `.schema` after both upgrades (sqlite_cycle.sh).
#   MODE=convert only converts, both dialects, into WORK_DIR/vw_<dialect>
#                (STRATA_BUNDLE unused: pass "-"); run by CMake at configure
#                time for the runtime test (CMakeLists.txt, runtime.sh).
#
# Exit 77 (ctest SKIP_RETURN_CODE) when the corpus is absent.
#
# Conversion (one strata file per diesel migration):
#   - one module per dialect (vw_sqlite, vw_postgresql), not one module with
#     dialect sections: the two histories are different lists (56 SQLite
#     migrations from 2018, 46 PostgreSQL ones from 2019, 42 names in common,
#     some spelled differently), and a strata revision must exist for every
#     database the module runs on;
#   - revision = "v" + the 14 digits of the directory's timestamp
#     (2019-09-12-100000_create_tables -> v20190912100000): stable across
#     conversions, unique (checked), and apply order = name order as in diesel;
#   - revises = the previous directory in name order; message = the name part;
#   - file name = <directory name>.sql (valid: strata takes identity from the
#     header, not the name);
#   - sections are dialect-tagged (up dialect=sqlite ...), so the module says
#     which database it is for;
#   - up.sql verbatim; an up.sql with no statement (diesel allows it, strata
#     rejects an empty up) becomes "SELECT 1;" after its comments, and its
#     down the same no-op;
#   - down.sql verbatim; a down.sql with no statement (most of vaultwarden's
#     are empty) means "irreversible": no down section is written;
#   - SQLite migrations get "foreign_keys=off": vaultwarden runs its SQLite
#     migrations with PRAGMA foreign_keys=OFF because several rebuild tables.
#   - PostgreSQL migrations get "transaction=none" when, by content (comments
#     stripped), up.sql or down.sql holds a statement PostgreSQL refuses in a
#     transaction block: CONCURRENTLY (CREATE/DROP INDEX, REINDEX), VACUUM,
#     CREATE/DROP DATABASE, ALTER SYSTEM, or ALTER TYPE ... ADD VALUE (usable
#     only after commit). Decided per file; vaultwarden's history has none,
#     so every one of its migrations runs in a transaction (the count is
#     printed).
set -euo pipefail

mode=$1
bundle=$2
corpus=$3
work=$4
cc=${5:-}
incdir=${6:-}

if [ ! -d "$corpus/sqlite" ] || [ ! -d "$corpus/postgresql" ]; then
    echo "vaultwarden: corpus not found at $corpus: skipped"
    exit 77
fi
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work"
mkdir -p "$work"

# 1 when the file holds something other than white space and -- comments.
has_sql() {
    sed -e 's/--.*$//' "$1" | tr -d ' \t\r\n' | grep -q .
}

# 1 when a PostgreSQL migration needs transaction=none (see above).
needs_no_transaction() { # needs_no_transaction DIR
    cat "$1/up.sql" "$1/down.sql" 2>/dev/null | sed -e 's/--.*$//' | tr '\n' ' ' |
        grep -Eqi '\bconcurrently\b|\bvacuum\b|\b(create|drop)[[:space:]]+database\b|\balter[[:space:]]+system\b|\badd[[:space:]]+value\b'
}

convert() { # convert DIALECT OUT_DIR
    local dialect=$1 out=$2 prev="" d name ts rev slug f n=0 irreversible=0 notx=0
    declare -A seen=()
    mkdir -p "$out"
    for d in "$corpus/$dialect"/*/; do
        d=${d%/}
        name=$(basename "$d")
        ts=$(printf '%s' "${name:0:17}" | tr -cd '0-9')
        if [ "${#ts}" -ne 14 ] || [ ! -f "$d/up.sql" ]; then
            echo "vaultwarden: $dialect/$name: not a diesel migration directory" >&2
            return 1
        fi
        rev=v$ts
        if [ -n "${seen[$rev]:-}" ]; then
            echo "vaultwarden: $dialect/$name and ${seen[$rev]} map to the same revision $rev" >&2
            return 1
        fi
        seen[$rev]=$name
        slug=${name:18}
        f=$out/$name.sql
        {
            printf -- '-- strata: revision=%s' "$rev"
            [ -n "$prev" ] && printf ' revises=%s' "$prev"
            printf '\n-- strata: message="%s"\n' "$slug"
            [ "$dialect" = sqlite ] && printf -- '-- strata: foreign_keys=off\n'
            if [ "$dialect" = postgresql ] && needs_no_transaction "$d"; then
                printf -- '-- strata: transaction=none\n'
                notx=$((notx + 1))
            fi
            printf -- '-- Converted from vaultwarden %s/%s (diesel).\n\n' "$dialect" "$name"
            printf -- '-- strata: up dialect=%s\n' "$dialect"
            cat "$d/up.sql"
            [ -n "$(tail -c1 "$d/up.sql")" ] && printf '\n'
            if ! has_sql "$d/up.sql"; then
                printf 'SELECT 1;\n\n-- strata: down dialect=%s\nSELECT 1;\n' "$dialect"
            elif [ -f "$d/down.sql" ] && has_sql "$d/down.sql"; then
                printf '\n-- strata: down dialect=%s\n' "$dialect"
                cat "$d/down.sql"
                [ -n "$(tail -c1 "$d/down.sql")" ] && printf '\n'
            else
                irreversible=$((irreversible + 1))
            fi
        } >"$f"
        prev=$rev
        n=$((n + 1))
    done
    echo "vaultwarden: $dialect: $n migrations converted ($irreversible irreversible: empty down.sql)"
    [ "$dialect" = postgresql ] &&
        echo "vaultwarden: $dialect: $notx need transaction=none (CONCURRENTLY, VACUUM, ...)"
    return 0
}

case $mode in
convert)
    for dialect in sqlite postgresql; do
        convert "$dialect" "$work/vw_$dialect"
    done
    ;;
bundle)
    for dialect in sqlite postgresql; do
        convert "$dialect" "$work/vw_$dialect"
        "$bundle" check --single-head "$work/vw_$dialect"
        "$bundle" history "$work/vw_$dialect" | tail -n 1
        "$bundle" generate --namespace "vw_$dialect" --out-c "$work/strata_bundle_vw_$dialect.c" \
            --out-h "$work/strata_bundle_vw_$dialect.h" "$work/vw_$dialect"
        # Deterministic: a second run over a renamed copy gives the same bytes.
        cp -r "$work/vw_$dialect" "$work/copy_$dialect"
        "$bundle" generate --namespace "vw_$dialect" --out-c "$work/again.c" \
            --out-h "$work/again.h" "$work/copy_$dialect"
        cmp "$work/strata_bundle_vw_$dialect.c" "$work/again.c"
        if [ -n "$cc" ]; then
            "$cc" -std=c11 -Wall -Wextra -Werror -c -I "$incdir" -I "$work" \
                -o "$work/vw_$dialect.o" "$work/strata_bundle_vw_$dialect.c"
            echo "vaultwarden: $dialect: generated bundle compiles ($(wc -c <"$work/strata_bundle_vw_$dialect.c") bytes of C)"
        fi
    done
    ;;
sqlite)
    convert sqlite "$work/vw_sqlite"
    "$here/../generated/sqlite_cycle.sh" --partial "$bundle" "$work/vw_sqlite" "$work/cycle"
    ;;
*)
    echo "usage: vaultwarden.sh bundle|sqlite|convert STRATA_BUNDLE CORPUS_DIR WORK_DIR [CC INCLUDE_DIR]" >&2
    exit 2
    ;;
esac
