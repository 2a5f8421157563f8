#!/usr/bin/env bash
# scenario_verify.sh STRATA_BUNDLE SOURCE_DIR: generate --verify records the
# schema hashes (the output differs from a plain generate) and is
# deterministic (built twice, in other directories, identical); the
# repository's own migrations verify.
set -u
sb=$1 src=$2
fail=0
work=$(mktemp -d "${TMPDIR:-/tmp}/strata-verify.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
export LC_ALL=C
for m in cron notes; do
    cp -r "$src/migrations/$m" "$work/a_$m"
    cp -r "$src/migrations/$m" "$work/b_$m"
    (cd "$work" && "$sb" generate --namespace "$m" --out-c plain.c --out-h plain.h "a_$m") || fail=1
    (cd "$work" && "$sb" generate --verify --namespace "$m" --out-c a.c --out-h a.h "a_$m") || fail=1
    (cd "$work/b_$m" && "$sb" generate --verify --namespace "$m" --out-c ../b.c --out-h ../b.h .) || fail=1
    if ! cmp -s "$work/a.c" "$work/b.c"; then
        echo "FAIL $m: generate --verify twice gives different sources"; fail=1
    elif cmp -s "$work/a.c" "$work/plain.c"; then
        echo "FAIL $m: no schema hash recorded (same source as without --verify)"; fail=1
    else
        echo "ok   $m: deterministic, hashes recorded"
    fi
    out=$("$sb" verify "$src/migrations/$m" 2>&1) || { echo "FAIL verify $m:"; echo "$out"; fail=1; }
done
exit $fail
