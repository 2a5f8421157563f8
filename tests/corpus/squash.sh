#!/usr/bin/env bash
# squash.sh STRATA_BUNDLE VW_SQLITE_DIR: strata-bundle squash on vaultwarden's
# converted SQLite history (read from the build tree, squashed in a copy): a
# checkpoint of its first 37 migrations, proved by squash on its own replay,
# then the same schema on sqlite3 itself as the originals, the originals
# deleted and the directory still checked and replayed by verify. Skipped
# (77) without sqlite3 or the converted history.
set -u
sb=$1 dir=$2
lib=$(cd "$(dirname "$0")/../lib" && pwd)
rev=v20230617200424
[ -d "$dir" ] || exit 77
work=$(mktemp -d "${TMPDIR:-/tmp}/strata-vwsquash.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
cp -r "$dir" "$work/vw" && cd "$work" || exit 1
fail() { echo "FAIL: $*"; exit 1; }

out=$("$sb" squash --up-to $rev vw 2>&1) || fail "squash exit $?: $out"
cp_file=$(ls vw/*_checkpoint_up_to_$rev.sql) || fail "no checkpoint written"
grep -q "^Folded 37 migrations (v20180114171611 .. $rev)" <<<"$out" || fail "folded: $out"
grep -q "^Verified on SQLite" <<<"$out" || fail "not verified: $out"
echo "ok   squash folds 37 migrations, verified"
# the data statements of the history's table rebuilds are listed, commented out
grep -q "copied into the checkpoint commented out" <<<"$out" || fail "data: $out"
[ "$(grep -c '^  vw/' <<<"$out")" -eq 8 ] || fail "8 data statements listed: $out"
echo "ok   its 8 data statements are listed for review"

if command -v sqlite3 >/dev/null; then
    section() { awk -v want=up -v dialect=sqlite -f "$lib/section.awk" "$1"; }
    schema() { sqlite3 "$1" "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name"; }
    replaced=$(grep '^-- strata: replaces=' "$cp_file" | sed 's/.*replaces=//' | tr ',' '\n')
    for f in $("$sb" history vw | tac | awk '{ print $3 }' | tr -d ,); do
        file=$(grep -l "^-- strata: revision=$f\b" vw/*.sql)
        if grep -qx "$f" <<<"$replaced" || [ "$file" = "$cp_file" ]; then
            [ "$file" = "$cp_file" ] && section "$file" | sqlite3 cp.db >/dev/null
            [ "$file" = "$cp_file" ] || section "$file" | sqlite3 orig.db >/dev/null
        else
            section "$file" | sqlite3 orig.db >/dev/null
            section "$file" | sqlite3 cp.db >/dev/null
        fi
    done
    [ -n "$(schema orig.db)" ] || fail "no schema"
    diff <(schema orig.db) <(schema cp.db) || fail "the checkpoint's database differs"
    echo "ok   checkpoint + the 19 after it = the 56 originals on sqlite3"
fi

for r in $(grep '^-- strata: replaces=' "$cp_file" | sed 's/.*replaces=//' | tr ',' ' '); do
    rm -f $(grep -l "^-- strata: revision=$r\b" vw/*.sql)
done
[ "$(ls vw/*.sql | wc -l)" -eq 20 ] || fail "20 files left: $(ls vw)"
out=$("$sb" check vw 2>&1) || fail "check without the originals: $out"
out=$("$sb" verify --dialect sqlite --no-lint vw 2>&1) || fail "verify without the originals: $out"
grep -q "^SQLite: 20 migrations up" <<<"$out" || fail "verify: $out"
echo "ok   the originals deleted: check and verify pass on the 20 left"
