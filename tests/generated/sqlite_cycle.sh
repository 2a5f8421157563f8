#!/usr/bin/env bash
# sqlite_cycle.sh STRATA_BUNDLE MIGRATIONS_DIR WORK_DIR
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
# before BEGIN, where it takes effect), others with foreign keys ON.
set -euo pipefail

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
    awk -v want="$2" -v dialect="$3" '
        function flush() { }
        /^--[ \t]*strata:/ {
            line = $0
            sub(/^--[ \t]*strata:[ \t]*/, "", line)
            n = split(line, w, /[ \t]+/)
            cur = ""
            if (w[1] == "up" || w[1] == "down") {
                d = "any"
                if (n >= 2 && w[2] ~ /^dialect=/) {
                    d = substr(w[2], 9)
                    if (d == "postgres") d = "postgresql"
                }
                cur = w[1] "/" d
                seen[cur] = 1
            }
            next
        }
        cur != "" { body[cur] = body[cur] $0 "\n" }
        END {
            k = want "/" dialect
            if (!(k in seen)) k = want "/any"
            if (k in seen) { printf "%s", body[k]; exit 0 }
            exit 3
        }' "$1"
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
    if ! out=$(printf 'PRAGMA foreign_keys=%s;\nBEGIN;\n%s\n;\nPRAGMA foreign_key_check;\nCOMMIT;\n' \
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

upgrade() {
    local f
    for f in "${files[@]}"; do run "$f" up; done
}

downgrade() {
    local i
    for ((i = ${#files[@]} - 1; i >= 0; i--)); do run "${files[$i]}" down; done
}

upgrade
sqlite3 "$db" .schema >"$work/schema1.sql"
downgrade
left=$(sqlite3 "$db" "SELECT type || ' ' || name FROM sqlite_schema
                      WHERE name NOT LIKE 'sqlite_%' ORDER BY 1;")
if [ -n "$left" ]; then
    echo "sqlite_cycle: the full downgrade left objects behind:" >&2
    echo "$left" >&2
    exit 1
fi
upgrade
sqlite3 "$db" .schema >"$work/schema2.sql"
if ! diff -u "$work/schema1.sql" "$work/schema2.sql"; then
    echo "sqlite_cycle: schema after up -> down -> up differs from the first up" >&2
    exit 1
fi
echo "sqlite_cycle: ${#files[@]} migrations: up, down, up; schema identical ($(grep -c '^CREATE' "$work/schema2.sql") objects)"
