#!/usr/bin/env bash
# run_case.sh STRATA_BUNDLE CASE_DIR
#
# Runs one strata-bundle command-line case of tests/fixtures/{bad,good}/ and
# compares its stdout, stderr and exit status EXACTLY with the expectations.
#
# A case directory holds:
#   cmd              the strata-bundle arguments, one line, shell-quoted
#                    (e.g. `check migrations`); run with cwd = the case copy,
#                    so paths in messages are the relative ones written here
#   expected.exit    the exit status (required)
#   expected.stdout  the exact stdout (absent: must be empty)
#   expected.stderr  the exact stderr (absent: must be empty)
#   expected.after/  optional: files that must exist, with these exact bytes,
#                    at the same relative path after the command
#   setup            optional bash script run in the copy before the command
#                    (e.g. to make a symbolic link)
#   migrations/...   the input
#
# The case is copied to a temporary directory first, so commands that write
# (lock, create, generate) never touch the source tree.
#
# With STRATA_UPDATE_FIXTURES=1 the actual output is written back as the new
# expectation instead (review the diff before committing it!).
set -u

if [ $# -ne 2 ]; then
    echo "usage: run_case.sh STRATA_BUNDLE CASE_DIR" >&2
    exit 2
fi
sb=$1
case_dir=$2
if [ ! -x "$sb" ]; then
    echo "run_case.sh: '$sb' is not an executable" >&2
    exit 2
fi
if [ ! -f "$case_dir/cmd" ] || [ ! -f "$case_dir/expected.exit" ]; then
    echo "run_case.sh: '$case_dir' lacks cmd or expected.exit" >&2
    exit 2
fi
sb=$(cd "$(dirname "$sb")" && pwd)/$(basename "$sb")
case_dir=$(cd "$case_dir" && pwd)
name=$(basename "$case_dir")

work=$(mktemp -d "${TMPDIR:-/tmp}/strata-case.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/case" && cp -a "$case_dir/." "$work/case/" || exit 1
cd "$work/case" || exit 1

# A stable environment: no locale, colour or time differences.
export LC_ALL=C
export NO_COLOR=1
export SOURCE_DATE_EPOCH=1704110400 # 2024-01-01 12:00 UTC
unset STRATA_ENV

if [ -f setup ]; then
    if ! bash ./setup; then
        echo "FAIL $name: setup script failed" >&2
        exit 1
    fi
fi

eval "args=($(cat cmd))" || {
    echo "FAIL $name: cannot parse cmd" >&2
    exit 1
}
"$sb" "${args[@]}" >"$work/stdout" 2>"$work/stderr" </dev/null
code=$?
echo "$code" >"$work/exit"

if [ "${STRATA_UPDATE_FIXTURES:-0}" = 1 ]; then
    cp "$work/exit" "$case_dir/expected.exit"
    for s in stdout stderr; do
        if [ -s "$work/$s" ]; then
            cp "$work/$s" "$case_dir/expected.$s"
        else
            rm -f "$case_dir/expected.$s"
        fi
    done
    if [ -d "$case_dir/expected.after" ]; then
        (cd "$case_dir/expected.after" && find . -type f) | while read -r f; do
            cp "$work/case/$f" "$case_dir/expected.after/$f"
        done
    fi
    echo "updated $name (exit $code)"
    exit 0
fi

fail=0
compare() { # expected-file actual-file label
    local exp=$1 act=$2 label=$3
    if [ ! -e "$exp" ]; then
        exp=/dev/null
    fi
    if ! cmp -s "$exp" "$act"; then
        echo "FAIL $name: $label differs (--- expected, +++ actual)"
        diff -u --label "expected $label" --label "actual $label" "$exp" "$act"
        fail=1
    fi
}
compare "$case_dir/expected.exit" "$work/exit" "exit status"
compare "$case_dir/expected.stdout" "$work/stdout" "stdout"
compare "$case_dir/expected.stderr" "$work/stderr" "stderr"
if [ -d "$case_dir/expected.after" ]; then
    while read -r f; do
        if [ ! -f "$work/case/$f" ]; then
            echo "FAIL $name: $f was not written"
            fail=1
        else
            compare "$case_dir/expected.after/$f" "$work/case/$f" "${f#./}"
        fi
    done < <(cd "$case_dir/expected.after" && find . -type f | LC_ALL=C sort)
fi
if [ $fail -ne 0 ]; then
    echo "command: (cd $case_dir && strata-bundle $(cat "$case_dir/cmd"))"
    exit 1
fi
echo "ok $name"
exit 0
