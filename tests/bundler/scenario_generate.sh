#!/usr/bin/env bash
# generate: writes the bundle source and header only when their bytes change;
# the output is deterministic and compiles.
. "$(dirname "$0")/lib.sh"

migration m/20240101_0900_5d8b746712b6_initial.sql 5d8b746712b6 "" initial_cron_schema \
    "CREATE TABLE prompts (id INTEGER PRIMARY KEY, body TEXT NOT NULL);"
migration m/20240103_0900_34065a4cc718_priority.sql 34065a4cc718 5d8b746712b6 \
    "add priority field to prompts" "ALTER TABLE prompts ADD COLUMN priority INTEGER NOT NULL DEFAULT 1;"
mkdir out
run generate --namespace cron --out-c out/strata_bundle_cron.c --out-h out/strata_bundle_cron.h m
expect_code 0 "generate"
expect_eq "generate: nothing on stderr" "" "$ERR"
checks=$((checks + 1))
[ -s out/strata_bundle_cron.c ] && [ -s out/strata_bundle_cron.h ] || fail "generate wrote no files"
expect_match "the header declares the bundle" 'extern const strata_bundle strata_bundle_cron;' \
    "$(cat out/strata_bundle_cron.h)"
expect_match "the source defines the bundle" '^const strata_bundle strata_bundle_cron' \
    "$(cat out/strata_bundle_cron.c)"

# Rerun: the same bytes, so neither file is touched.
touch -d '2001-01-01 00:00:00' out/strata_bundle_cron.c out/strata_bundle_cron.h
c0=$(mtime out/strata_bundle_cron.c)
h0=$(mtime out/strata_bundle_cron.h)
cp out/strata_bundle_cron.c gen.c.1
run generate --namespace cron --out-c out/strata_bundle_cron.c --out-h out/strata_bundle_cron.h m
expect_code 0 "generate again"
expect_eq "unchanged source keeps its mtime" "$c0" "$(mtime out/strata_bundle_cron.c)"
expect_eq "unchanged header keeps its mtime" "$h0" "$(mtime out/strata_bundle_cron.h)"
checks=$((checks + 1))
ls out | grep -q tmp && fail "generate left a temporary file: $(ls out)"

# Deterministic: another path, files written in another order, other times.
mkdir m2
cp m/20240103_0900_34065a4cc718_priority.sql m2/
sleep 0.01
cp m/20240101_0900_5d8b746712b6_initial.sql m2/
run generate --namespace cron --out-c other.c --out-h other.h m2
expect_code 0 "generate from a copy"
checks=$((checks + 1))
cmp -s other.c out/strata_bundle_cron.c || fail "the same migrations elsewhere give different bytes"
checks=$((checks + 1))
cmp -s other.h out/strata_bundle_cron.h || fail "the same migrations elsewhere give a different header"

# A new migration: the source changes (new bytes, new mtime).
migration m/20240104_0900_aaaaaaaaaaaa_more.sql aaaaaaaaaaaa 34065a4cc718 more "SELECT 2;"
run generate --namespace cron --out-c out/strata_bundle_cron.c --out-h out/strata_bundle_cron.h m
expect_code 0 "generate after a new migration"
checks=$((checks + 1))
[ "$(mtime out/strata_bundle_cron.c)" != "$c0" ] || fail "the changed source was not rewritten"
checks=$((checks + 1))
cmp -s gen.c.1 out/strata_bundle_cron.c && fail "the source did not change after a new migration"

# The generated source compiles cleanly.
inc=$TESTS_DIR/../../runtime/include
cc=${CC:-cc}
if command -v "$cc" >/dev/null && [ -f "$inc/strata/bundle.h" ]; then
    checks=$((checks + 1))
    "$cc" -std=c11 -Wall -Wextra -Werror -pedantic -I"$inc" -Iout -c out/strata_bundle_cron.c \
        -o bundle.o || fail "the generated source does not compile"
fi

# Several heads: a warning, still generated.
migration m/20240105_0900_bbbbbbbbbbbb_branch.sql bbbbbbbbbbbb 34065a4cc718 branch "SELECT 3;"
run generate --namespace cron --out-c out/strata_bundle_cron.c --out-h out/strata_bundle_cron.h m
expect_code 0 "generate with two heads"
expect_match "two heads: a warning" '^m: warning: 2 heads: aaaaaaaaaaaa bbbbbbbbbbbb' "$ERR"

# Errors: nothing written.
rm -f out/*
migration m/20240106_0900_cccccccccccc_bad.sql cccccccccccc nosuchparent bad
run generate --namespace cron --out-c out/strata_bundle_cron.c --out-h out/strata_bundle_cron.h m
expect_code 1 "generate with an unknown parent"
expect_eq "a failed generate writes nothing" "" "$(ls out)"
rm m/20240106_0900_cccccccccccc_bad.sql
run generate --namespace cron --out-c nosuchdir/x.c --out-h nosuchdir/x.h m
expect_code 1 "generate into a missing directory"
expect_match "names the file it cannot write" 'nosuchdir/x\.c' "$ERR"
for ns in Cron 1cron cron-x "" abcdefghijabcdefghijabcdefghijabc; do
    run generate --namespace "$ns" --out-c out/x.c --out-h out/x.h m
    expect_code 2 "generate --namespace '$ns'"
done
run generate --namespace abcdefghijabcdefghijabcdefghijab --out-c out/x.c --out-h out/x.h m
expect_code 0 "generate --namespace of 32 characters"
for lv in 0 10 x ""; do
    run generate --namespace cron --level "$lv" --out-c out/x.c --out-h out/x.h m
    expect_code 2 "generate --level '$lv'"
done
run generate --namespace cron --level 1 --out-c out/l1.c --out-h out/l1.h m
expect_code 0 "generate --level 1"

finish
