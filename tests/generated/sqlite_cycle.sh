#!/usr/bin/env bash
# sqlite_cycle.sh [--partial | --up] STRATA_BUNDLE MIGRATIONS_DIR WORK_DIR
#
# Applies a strata migrations directory with the sqlite3 CLI, without the
# strata runtime: every up script in apply order, every down script in reverse
# order, every up script again. Fails when a script fails, when
# PRAGMA foreign_key_check reports a row, when the full downgrade leaves a
# user table, index, view or trigger behind, or when `.schema` after the
# second upgrade differs from `.schema` after the first.
#
# A section is chosen as the runtime chooses it: "up dialect=sqlite" over a
# plain "up" (the same for down). Each migration runs in one transaction; one
# with "-- strata: foreign_keys=off" runs with PRAGMA foreign_keys=OFF (set
# before BEGIN, where it takes effect), others with foreign keys ON. Rows a
# script returns are discarded; any row of PRAGMA foreign_key_check fails.
#
# --partial: for a history with irreversible migrations (no down section),
# downgrade only down to the newest irreversible one, then upgrade again; the
# "nothing left behind" check is skipped. It then also checks every reversible
# migration in place: on a fresh database, before each up, the schema is
# saved; a migration that has a down is applied up, down and up again. Every
# script must run; a down that does not restore the saved `.schema` text is
# reported as a warning only (third-party downs are often approximate: a
# column comes back at the end, or with a default).
#
# --up: every up script, then stop; the database stays in WORK_DIR/cycle.db
# for the caller to query (tests/autogen checks rows with it).
set -euo pipefail

partial=0 up_only=0
if [ "${1:-}" = --partial ]; then
    partial=1
    shift
elif [ "${1:-}" = --up ]; then
    up_only=1
    shift
fi
bundle=$1
dir=$2
work=$3
mkdir -p "$work"
db=$work/cycle.db
rm -f "$db"

# Apply order and files, from the bundler (history is newest first).
mapfile -t files < <("$bundle" history --verbose "$dir" | sed -n 's/^    file: //p' | tac)
if [ "${#files[@]}" -eq 0 ]; then
    echo "sqlite_cycle: no migrations in $dir" >&2
    exit 1
fi

# section FILE DIRECTION DIALECT: prints the body of the section that applies.
section() {
    awk -v want="$2" -v dialect="$3" -f "$(dirname "${BASH_SOURCE[0]}")/../lib/section.awk" "$1"
}

run() { # run FILE DIRECTION
    local f=$1 dir=$2 fk=ON body
    if grep -Eq '^--[[:space:]]*strata:.*foreign_keys=off' "$f"; then
        fk=OFF
    fi
    if ! body=$(section "$f" "$dir" sqlite); then
        echo "sqlite_cycle: $f has no $dir section (irreversible)" >&2
        return 1
    fi
    local out
    if ! out=$(printf 'PRAGMA foreign_keys=%s;\nBEGIN;\n.output /dev/null\n%s\n;\n.output stdout\nPRAGMA foreign_key_check;\nCOMMIT;\n' \
        "$fk" "$body" | sqlite3 -bail "$db" 2>&1); then
        echo "sqlite_cycle: $dir of $f failed:" >&2
        echo "$out" >&2
        return 1
    fi
    if [ -n "$out" ]; then
        echo "sqlite_cycle: $dir of $f: foreign_key_check or output:" >&2
        echo "$out" >&2
        return 1
    fi
}

upgrade() { # upgrade [FROM_INDEX]
    local i
    for ((i = ${1:-0}; i < ${#files[@]}; i++)); do run "${files[$i]}" up; done
}

has_down() {
    grep -Eq '^--[[:space:]]*strata:[[:space:]]*down([[:space:]]+dialect=sqlite)?[[:space:]]*$' "$1"
}

# Downgrades from the head; in --partial mode stops at the first irreversible
# migration. Sets `from` to the index the next upgrade starts at.
downgrade() {
    local i
    from=0
    for ((i = ${#files[@]} - 1; i >= 0; i--)); do
        if [ "$partial" = 1 ] && ! has_down "${files[$i]}"; then
            from=$((i + 1))
            return 0
        fi
        run "${files[$i]}" down
    done
}

upgrade
if [ "$up_only" = 1 ]; then
    exit 0
fi
sqlite3 "$db" .schema >"$work/schema1.sql"
downgrade
if [ "$from" = 0 ]; then
    left=$(sqlite3 "$db" "SELECT type || ' ' || name FROM sqlite_schema
                          WHERE name NOT LIKE 'sqlite_%' ORDER BY 1;")
    if [ -n "$left" ]; then
        echo "sqlite_cycle: the full downgrade left objects behind:" >&2
        echo "$left" >&2
        exit 1
    fi
fi
upgrade "$from"
sqlite3 "$db" .schema >"$work/schema2.sql"
if ! diff -u "$work/schema1.sql" "$work/schema2.sql"; then
    echo "sqlite_cycle: schema after up -> down -> up differs from the first up" >&2
    exit 1
fi
if [ "$partial" = 1 ]; then
    rm -f "$db"
    steps=0
    inexact=0
    for ((i = 0; i < ${#files[@]}; i++)); do
        f=${files[$i]}
        if has_down "$f"; then
            sqlite3 "$db" .schema >"$work/step-before.sql"
            run "$f" up
            run "$f" down
            sqlite3 "$db" .schema >"$work/step-after.sql"
            if ! cmp -s "$work/step-before.sql" "$work/step-after.sql"; then
                echo "sqlite_cycle: warning: up then down of $(basename "$f") does not restore the schema text:" >&2
                diff -u "$work/step-before.sql" "$work/step-after.sql" | grep '^[-+][^-+]' | head -8 >&2 || true
                inexact=$((inexact + 1))
            fi
            steps=$((steps + 1))
        fi
        run "$f" up
    done
    sqlite3 "$db" .schema >"$work/schema3.sql"
    if ! diff -u "$work/schema1.sql" "$work/schema3.sql"; then
        echo "sqlite_cycle: schema after the step-by-step run differs" >&2
        exit 1
    fi
    echo "sqlite_cycle: $steps reversible migrations: up, down, up in place ($inexact did not restore the exact schema text)"
fi
echo "sqlite_cycle: ${#files[@]} migrations: up, down $((${#files[@]} - from)), up; schema identical ($(grep -c '^CREATE' "$work/schema2.sql") objects)"
