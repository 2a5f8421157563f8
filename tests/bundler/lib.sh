# lib.sh - sourced by the scenario_*.sh tests: scenario_x.sh STRATA_BUNDLE
#
# Runs in a fresh temporary directory (removed on exit) with a stable
# environment; every check that fails prints why and the script exits 1.
set -u
if [ $# -lt 1 ] || [ ! -x "$1" ]; then
    echo "usage: $0 STRATA_BUNDLE" >&2
    exit 2
fi
SB=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/strata-scenario.XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1
export LC_ALL=C NO_COLOR=1 SOURCE_DATE_EPOCH=1704110400 # 2024-01-01 12:00 UTC
unset STRATA_ENV
failures=0
checks=0

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# run ARGS...: runs strata-bundle; sets CODE, OUT and ERR.
run() {
    "$SB" "$@" >"$WORK/.stdout" 2>"$WORK/.stderr" </dev/null
    CODE=$?
    OUT=$(cat "$WORK/.stdout")
    ERR=$(cat "$WORK/.stderr")
}

# expect_code N LABEL
expect_code() {
    checks=$((checks + 1))
    if [ "$CODE" != "$1" ]; then
        fail "$2: exit status $CODE, expected $1"
        [ -n "$OUT" ] && printf 'stdout:\n%s\n' "$OUT"
        [ -n "$ERR" ] && printf 'stderr:\n%s\n' "$ERR"
    fi
}

# expect_eq LABEL EXPECTED ACTUAL: exact text, diff on mismatch.
expect_eq() {
    checks=$((checks + 1))
    if [ "$2" != "$3" ]; then
        fail "$1 (--- expected, +++ actual)"
        diff -u --label expected --label actual <(printf '%s\n' "$2") <(printf '%s\n' "$3")
    fi
}

# expect_match LABEL EXTENDED-REGEX TEXT
expect_match() {
    checks=$((checks + 1))
    if ! printf '%s\n' "$3" | grep -Eq -- "$2"; then
        fail "$1: '$3' does not match /$2/"
    fi
}

# expect_file LABEL FILE EXPECTED-CONTENT
expect_file() {
    checks=$((checks + 1))
    if [ ! -f "$2" ]; then
        fail "$1: $2 does not exist"
    elif ! cmp -s "$2" <(printf '%s' "$3"); then
        fail "$1: $2 differs (--- expected, +++ actual)"
        diff -u --label expected --label actual <(printf '%s' "$3") "$2"
    fi
}

# migration FILE REV PARENTS MESSAGE [SQL]: writes a migration file.
migration() {
    local file=$1 rev=$2 parents=$3 msg=$4 sql=${5:-"SELECT 1;"}
    mkdir -p "$(dirname "$file")"
    {
        printf -- '-- strata: revision=%s' "$rev"
        case $parents in
        "") ;;
        *" "*) printf ' revises="%s"' "$parents" ;;
        *) printf ' revises=%s' "$parents" ;;
        esac
        printf '\n-- strata: message="%s"\n\n-- strata: up\n%s\n\n-- strata: down\nSELECT 0;\n' \
            "$msg" "$sql"
    } >"$file"
}

# mtime FILE: modification time in nanoseconds.
mtime() {
    stat -c %.9Y "$1" 2>/dev/null || stat -c %Y "$1"
}

finish() {
    if [ "$failures" -ne 0 ]; then
        echo "$failures of $checks checks failed"
        exit 1
    fi
    echo "ok: $checks checks"
    exit 0
}
