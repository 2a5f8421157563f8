#!/usr/bin/env bash
# history: Alembic's format, newest first, with (head), (branchpoint) and
# (mergepoint); --verbose adds the file and the checksum.
. "$(dirname "$0")/lib.sh"

# The seeds' chain.
migration m/20240101_0900_5d8b746712b6_initial.sql 5d8b746712b6 "" initial_cron_schema
migration m/20240102_0900_fc0bfa77ff5a_templates.sql fc0bfa77ff5a 5d8b746712b6 "add job templates"
migration m/20240103_0900_34065a4cc718_priority.sql 34065a4cc718 fc0bfa77ff5a \
    "add priority field to prompts"
run history m
expect_code 0 "history"
expect_eq "history of a chain" \
'fc0bfa77ff5a -> 34065a4cc718 (head), add priority field to prompts
5d8b746712b6 -> fc0bfa77ff5a, add job templates
<base> -> 5d8b746712b6, initial_cron_schema' "$OUT"
expect_eq "history: nothing on stderr" "" "$ERR"

run history --verbose m
sum=$(awk '/checksum:/ { print $2; exit }' "$WORK/.stdout")
expect_match "a checksum names its algorithm" '^xxh3-128/1:[0-9a-f]{32}$' "$sum"
expect_eq "history --verbose, newest entry" \
"fc0bfa77ff5a -> 34065a4cc718 (head), add priority field to prompts
    file: m/20240103_0900_34065a4cc718_priority.sql
    checksum: $sum" "$(head -3 "$WORK/.stdout")"
expect_eq "history --verbose has 3 lines per migration" 9 "$(wc -l <"$WORK/.stdout")"

# A branch point, two heads, then a merge point.
migration m/20240104_0900_aaaaaaaaaaaa_left.sql aaaaaaaaaaaa 34065a4cc718 left
migration m/20240104_0800_bbbbbbbbbbbb_right.sql bbbbbbbbbbbb 34065a4cc718 right
sed -i 's/^-- strata: message="right"$/-- strata: message="right" transaction=none/' \
    m/20240104_0800_bbbbbbbbbbbb_right.sql
run history m
expect_eq "history with two heads (ties broken by file name)" \
'34065a4cc718 -> aaaaaaaaaaaa (head), left
34065a4cc718 -> bbbbbbbbbbbb (head), right
fc0bfa77ff5a -> 34065a4cc718 (branchpoint), add priority field to prompts
5d8b746712b6 -> fc0bfa77ff5a, add job templates
<base> -> 5d8b746712b6, initial_cron_schema' "$OUT"
run history -v m
expect_match "history --verbose shows transaction=none" \
    '^    transaction: none$' "$(sed -n '/-> bbbbbbbbbbbb/,/-> 34065a4cc718/p' "$WORK/.stdout")"

migration m/20240105_0900_cccccccccccc_merge.sql cccccccccccc "aaaaaaaaaaaa bbbbbbbbbbbb" "merge left and right"
migration m/20240106_0900_dddddddddddd_after.sql dddddddddddd cccccccccccc "after the merge"
run history m
expect_eq "history with a branch point and a merge point" \
'cccccccccccc -> dddddddddddd (head), after the merge
aaaaaaaaaaaa, bbbbbbbbbbbb -> cccccccccccc (mergepoint), merge left and right
34065a4cc718 -> aaaaaaaaaaaa, left
34065a4cc718 -> bbbbbbbbbbbb, right
fc0bfa77ff5a -> 34065a4cc718 (branchpoint), add priority field to prompts
5d8b746712b6 -> fc0bfa77ff5a, add job templates
<base> -> 5d8b746712b6, initial_cron_schema' "$OUT"

# The order does not depend on the order files were written.
mkdir m2
for f in $(ls m | sort -r); do cp "m/$f" m2/; done
run history m2
expect_eq "same history from a copy" "$(cd "$WORK" && "$SB" history m)" "$OUT"

# A migration without a message; a second root.
migration n/001.sql aaaaaaaaaaaa "" ""
migration n/002.sql bbbbbbbbbbbb "" "second root"
run history n
expect_eq "two roots, one without a message" \
'<base> -> bbbbbbbbbbbb (head), second root
<base> -> aaaaaaaaaaaa (head), ' "$OUT"

# Errors.
mkdir empty
run history empty
expect_code 0 "history of an empty directory"
expect_eq "history of an empty directory prints nothing" "" "$OUT"
run history nosuchdir
expect_code 1 "history of a missing directory"
migration bad/001.sql aaaaaaaaaaaa nosuchparent x
run history bad
expect_code 1 "history with an unknown parent"
expect_eq "history with an unknown parent: no output" "" "$OUT"
run history
expect_code 2 "history without a directory"

finish
