#!/usr/bin/env bash
# determinism.sh STRATA_BUNDLE FIXTURE_DIR WORK_DIR
#
# The generated bundle must depend only on the migrations' contents and the
# namespace: not on the directory's name or path, the order in which its
# files were created (readdir order), their mtimes, the working directory,
# the output path or the locale. Copies the fixture into two directories that
# differ in all of these and compares the outputs byte for byte.
set -euo pipefail

bundle=$(realpath "$1")
fixture=$(realpath "$2")
work=$3
rm -rf "$work"
mkdir -p "$work"
work=$(realpath "$work")

mapfile -d '' names < <(cd "$fixture" && find . -maxdepth 1 -type f -name '*.sql' -printf '%P\0' | sort -z)
if [ "${#names[@]}" -lt 3 ]; then
    echo "determinism: fixture has ${#names[@]} files" >&2
    exit 1
fi

# First copy: created in name order, old mtimes.
a="$work/first copy"
mkdir -p "$a"
for n in "${names[@]}"; do
    cp "$fixture/$n" "$a/$n"
    touch -d '2001-02-03 04:05:06' "$a/$n"
done

# Second copy: a different, longer directory name, files created in reverse
# order (so readdir returns another order on most file systems), one mtime
# each, the newest on the first file; plus a file that is not a migration.
b="$work/zz/second.migrations.d"
mkdir -p "$b"
for ((i = ${#names[@]} - 1; i >= 0; i--)); do
    n=${names[$i]}
    cat "$fixture/$n" >"$b/$n"
    touch -d "2030-01-0$((i + 1)) 12:00:00" "$b/$n"
done
echo "not a migration" >"$b/README.txt"

locales=(C POSIX)
for l in C.UTF-8 C.utf8 en_US.UTF-8 de_DE.UTF-8 tr_TR.UTF-8; do
    if locale -a 2>/dev/null | grep -qix "${l/UTF-8/utf8}"; then
        locales+=("$l")
    fi
done

gen() { # gen LOCALE CWD DIR OUT
    mkdir -p "$4"
    (cd "$2" && LC_ALL=$1 LANG=$1 TZ=Pacific/Kiritimati "$bundle" generate --namespace fixture \
        --out-c "$4/strata_bundle_fixture.c" --out-h "$4/strata_bundle_fixture.h" "$3")
}

gen C "$work" "$a" "$work/out-ref"
n=0
for l in "${locales[@]}"; do
    mkdir -p "$work/cwd-$l"
    gen "$l" "$work/cwd-$l" "$b" "$work/out $l/deeper"
    # Relative directory argument, from another working directory.
    gen "$l" "$work/zz" "second.migrations.d" "$work/out-rel-$l"
    for out in "$work/out $l/deeper" "$work/out-rel-$l"; do
        for f in strata_bundle_fixture.c strata_bundle_fixture.h; do
            if ! cmp "$work/out-ref/$f" "$out/$f"; then
                echo "determinism: $f differs (LC_ALL=$l, output $out)" >&2
                diff -u "$work/out-ref/$f" "$out/$f" | head -40 >&2 || true
                exit 1
            fi
        done
        n=$((n + 1))
    done
done

# The readdir orders really differed (informative: some file systems sort).
order_a=$(ls -U "$a" | tr '\n' '|')
order_b=$(ls -U "$b" | grep -v README | tr '\n' '|')
[ "$order_a" != "$order_b" ] && note="readdir orders differ" || note="readdir orders equal on this file system"

echo "determinism: $n generations identical (locales: ${locales[*]}; $note)"
