#!/usr/bin/env bash
# heads: one line per head, in apply order; --verbose adds message and file.
. "$(dirname "$0")/lib.sh"

migration m/001.sql 5d8b746712b6 "" initial_cron_schema
migration m/002.sql fc0bfa77ff5a 5d8b746712b6 "add job templates"
migration m/003.sql 34065a4cc718 fc0bfa77ff5a "add priority field to prompts"
run heads m
expect_code 0 "heads"
expect_eq "one head" "34065a4cc718 (head)" "$OUT"
expect_eq "heads: nothing on stderr" "" "$ERR"
run heads --verbose m
expect_eq "heads --verbose" "34065a4cc718 (head), add priority field to prompts  [m/003.sql]" "$OUT"

migration m/004.sql aaaaaaaaaaaa fc0bfa77ff5a "branch"
run heads m
expect_code 0 "heads with two heads"
expect_eq "two heads, in apply order" "34065a4cc718 (head)
aaaaaaaaaaaa (head)" "$OUT"
expect_eq "heads does not warn about several heads" "" "$ERR"

run merge m 34065a4cc718 aaaaaaaaaaaa -m "merge" --rev-id bbbbbbbbbbbb
run heads m
expect_eq "heads after merge" "bbbbbbbbbbbb (head)" "$OUT"

mkdir empty
run heads empty
expect_code 0 "heads of an empty directory"
expect_eq "no heads" "" "$OUT"
run heads nosuchdir
expect_code 1 "heads of a missing directory"
migration cyc/001.sql aaaaaaaaaaaa bbbbbbbbbbbb a
migration cyc/002.sql bbbbbbbbbbbb aaaaaaaaaaaa b
run heads cyc
expect_code 1 "heads of a cycle"
expect_match "the cycle is reported" 'is part of a cycle' "$ERR"
run heads m extra
expect_code 2 "heads with two directories"

finish
