#!/usr/bin/env bash
# run_case.sh STRATA_BUNDLE CASE_DIR [sqlite|pg]
#
# One create --auto case: CASE_DIR holds migrations/ (the chain, with its
# schema.sql and, for PostgreSQL, schema.postgresql.sql beside it) and
# commands.sh, sourced here in a copy of the case, which writes a transcript
# compared with CASE_DIR/expected.txt (sqlite), expected.pg.txt (pg) or
# expected.both.txt (both: a module both databases run); pg and both run on
# the suite's server (through tests/pg/pg_env.sh). STRATA_UPDATE_EXPECTED=1
# writes the transcript as the expectation instead.
#
# A chain is written once, in plain sections where the SQL is the same for
# both databases. For sqlite and pg the copy becomes a module of that
# database alone: its plain sections become that dialect's, the other
# dialect's sections go. both keeps the chain as it is.
#
# Commands for commands.sh, each writing its command, output and exit code:
#   create MESSAGE [ARGS...]  strata-bundle create migrations MESSAGE --auto, the
#                             case's database only, revisions r01, r02, ...
#   template NAME [ARGS...]   strata-bundle create migrations "with NAME" --template NAME
#   show                      the files the last create or template wrote
#   edit SED                  sed -i SED on the files the last create or template wrote
#   verify                    strata-bundle verify of the directory against its
#                             schema files: the ups reach them, each down restores
#                             the schema before its migration, no table loses rows
#   again                     create once more: a second comparison must find nothing
#   rows SQL                  every up applied by the database's own client
#                             (sqlite3, psql) to an empty database, then SQL
#   sh_ COMMAND               any shell command
#   note TEXT                 a "# TEXT" line
set -u
sb=$1 case_dir=$2 engine=${3:-sqlite}
lib=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/strata-autogen.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
export LC_ALL=C SOURCE_DATE_EPOCH=1755419095 NO_COLOR=1
cp -r "$case_dir/migrations" "$work/migrations"
cd "$work" || exit 1
if [ "$engine" != both ]; then
    keep=$([ "$engine" = pg ] && echo postgresql || echo sqlite)
    for f in migrations/*.sql; do
        case $(basename "$f") in schema.sql | schema.postgresql.sql) continue ;; esac
        awk -v keep="$keep" '
            /^-- strata: (up|down)( |$)/ {
                skip = 0
                if ($0 ~ /dialect=/) {
                    if ($0 !~ ("dialect=" keep)) { skip = 1; next }
                } else {
                    sub(/^-- strata: (up|down)/, "& dialect=" keep)
                }
            }
            !skip' "$f" >"$f.tmp" && mv "$f.tmp" "$f"
    done
fi
transcript=$work/.transcript
: >"$transcript"
if [ "$engine" = pg ] || [ "$engine" = both ]; then
    url=${STRATA_PG_DB_URL:?run through tests/pg/pg_env.sh}
    dialect=(--dialect postgresql --postgres "$url")
    expected=$case_dir/expected.pg.txt
    if [ "$engine" = both ]; then
        dialect=(--dialect all --postgres "$url")
        expected=$case_dir/expected.both.txt
    fi
else
    dialect=(--dialect sqlite)
    expected=$case_dir/expected.txt
fi
nrev=0
last=()

log() { printf '%s\n' "$*" >>"$transcript"; }
note() { log "# $*"; }

# record COMMAND_TEXT CMD...: the command's text, its output (the work
# directory and the server's URL masked) and its exit code.
record() {
    local text=$1 out rc
    shift
    out=$("$@" 2>&1)
    rc=$?
    log "\$ $text"
    [ -n "$out" ] && printf '%s\n' "$out" | sed -e "s|$work|<work>|g" ${url:+-e "s|$url|<url>|g"} >>"$transcript"
    log "[exit $rc]"
}

create() {
    local msg=$1 before after f
    shift
    nrev=$((nrev + 1))
    before=$(ls migrations)
    record "create \"$msg\"${*:+ $*}" "$sb" create migrations "$msg" --auto --rev-id "$(printf 'r%02d' $nrev)" \
        "${dialect[@]}" "$@"
    after=$(ls migrations)
    last=()
    for f in $after; do
        grep -qxF "$f" <<<"$before" || last+=("migrations/$f")
    done
}

template() {
    local name=$1 before after f
    shift
    nrev=$((nrev + 1))
    before=$(ls migrations)
    record "template $name${*:+ $*}" "$sb" create migrations "with $name" --template "$name" \
        --rev-id "$(printf 'r%02d' $nrev)" "$@"
    after=$(ls migrations)
    last=()
    for f in $after; do
        grep -qxF "$f" <<<"$before" || last+=("migrations/$f")
    done
}

edit() {
    local f
    for f in "${last[@]}"; do
        record "edit $f: $1" sed -i "$1" "$f"
    done
}

show() {
    local f
    for f in "${last[@]}"; do
        log "\$ cat $f"
        cat "$f" >>"$transcript"
    done
}

verify() {
    local schema=()
    if [ ! -f migrations/schema.sql ] && [ ! -f migrations/schema.postgresql.sql ]; then
        :
    elif [ "$engine" != sqlite ]; then
        if [ -f migrations/schema.postgresql.sql ]; then
            schema=(--schema-postgresql migrations/schema.postgresql.sql)
        else
            schema=(--schema-postgresql migrations/schema.sql)
        fi
    fi
    if [ "$engine" != pg ] && [ -f migrations/schema.sql ]; then
        schema+=(--schema migrations/schema.sql)
    fi
    record "verify" "$sb" verify "${dialect[@]}" "${schema[@]}" migrations
}

again() {
    create "again" "$@"
}

# Every up, in apply order, by psql: in one transaction unless the file
# says transaction=none.
pg_apply() {
    local f body one
    psql -X -q -v ON_ERROR_STOP=1 -c 'DROP SCHEMA public CASCADE; CREATE SCHEMA public;' \
        >/dev/null 2>&1 || return 1
    while read -r f; do
        body=$(awk -v want=up -v dialect=postgresql -f "$lib/lib/section.awk" "$f") || return 1
        one=-1
        grep -Eq '^--[[:space:]]*strata:.*transaction=none' "$f" && one=
        printf '%s\n' "$body" | psql -X -q -v ON_ERROR_STOP=1 $one -f - >/dev/null || return 1
    done < <("$sb" history --verbose migrations | sed -n 's/^    file: //p' | tac)
}

rows() {
    local out rc
    if [ "$engine" != sqlite ]; then
        if pg_apply 2>"$work/.err"; then
            out=$(psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1" 2>&1)
            rc=$?
        else
            out=$(cat "$work/.err")
            rc=1
        fi
    else
        rm -rf "$work/.db"
        if "$lib/generated/sqlite_cycle.sh" --up "$sb" migrations "$work/.db" 2>"$work/.err"; then
            out=$(sqlite3 "$work/.db/cycle.db" "$1" 2>&1)
            rc=$?
        else
            out=$(cat "$work/.err")
            rc=1
        fi
    fi
    log "\$ rows: $1"
    [ -n "$out" ] && printf '%s\n' "$out" >>"$transcript"
    log "[exit $rc]"
}

sh_() {
    record "$1" bash -c "$1"
}

# shellcheck source=/dev/null
source "$case_dir/commands.sh"

if [ "${STRATA_UPDATE_EXPECTED:-}" = 1 ]; then
    cp "$transcript" "$expected"
    echo "updated $expected"
    exit 0
fi
if ! diff -u "$expected" "$transcript"; then
    echo "case $(basename "$case_dir") ($engine): transcript differs from $expected"
    exit 1
fi
echo "ok: $(basename "$case_dir") ($engine)"
