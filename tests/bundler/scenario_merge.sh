#!/usr/bin/env bash
# merge: writes a merge migration of the given heads; heads becomes one.
. "$(dirname "$0")/lib.sh"

migration m/001_init.sql 5d8b746712b6 "" initial_cron_schema
migration m/002_a.sql fc0bfa77ff5a 5d8b746712b6 "add job templates"
migration m/003_b.sql 34065a4cc718 5d8b746712b6 "add priority field to prompts"
run heads m
expect_eq "two heads before the merge" "fc0bfa77ff5a (head)
34065a4cc718 (head)" "$OUT"

run merge m fc0bfa77ff5a 34065a4cc718 -m "merge heads" --rev-id 0123456789ab
expect_code 0 "merge"
f=m/20240101_1200_0123456789ab_merge_heads.sql
expect_eq "merge prints the new file" "Created $f" "$OUT"
expect_eq "merge is quiet on stderr" "" "$ERR"
expect_file "the merge migration" "$f" \
'-- strata: revision=0123456789ab revises="fc0bfa77ff5a 34065a4cc718"
-- strata: message="merge heads"

-- strata: up
-- A merge joins branches; add SQL only to reconcile them.

-- strata: down
'
run check m
expect_code 0 "check after merge (a merge may have an empty up section)"
expect_eq "one head after merge" "m: 4 migrations, 1 head" "$OUT"
expect_eq "no warning after merge" "" "$ERR"
run heads m
expect_eq "heads after merge" "0123456789ab (head)" "$OUT"
run history m
expect_eq "history after merge" \
'fc0bfa77ff5a, 34065a4cc718 -> 0123456789ab (head) (mergepoint), merge heads
5d8b746712b6 -> 34065a4cc718, add priority field to prompts
5d8b746712b6 -> fc0bfa77ff5a, add job templates
<base> -> 5d8b746712b6 (branchpoint), initial_cron_schema' "$OUT"

# create after the merge revises the merge.
run create m "after merge" --rev-id aaaaaaaaaaaa
expect_code 0 "create after merge"
expect_match "create revises the merge" '^-- strata: revision=aaaaaaaaaaaa revises=0123456789ab$' \
    "$(head -1 m/20240101_1200_aaaaaaaaaaaa_after_merge.sql)"

# Usage errors write nothing.
n=$(ls m | wc -l)
run merge m fc0bfa77ff5a 34065a4cc718
expect_code 2 "merge without -m"
expect_eq "merge without -m" 'strata-bundle merge: -m "message" is required
usage: strata-bundle merge DIR REV REV... -m "message" [--rev-id ID]' "$ERR"
run merge m fc0bfa77ff5a -m x
expect_code 2 "merge of one revision"
run merge m fc0bfa77ff5a nosuchrev -m x
expect_code 2 "merge of an unknown revision"
expect_match "merge names the unknown revision" 'no revision nosuchrev in m' "$ERR"
run merge m fc0bfa77ff5a fc0bfa77ff5a -m x
expect_code 2 "merge of a revision twice"
expect_match "merge names the repeated revision" 'revision fc0bfa77ff5a is given twice' "$ERR"
run merge m fc0bfa77ff5a 34065a4cc718 -m "merge heads again"
expect_code 2 "merge of revisions that are no longer heads"
expect_eq "a second merge of the same pair names the merge and the heads" \
"strata-bundle: merge: revision fc0bfa77ff5a is not a head (0123456789ab revises it): merge joins heads only. The heads of m: aaaaaaaaaaaa" "$(grep -v 'warning: empty' <<<"$ERR")"
run merge m 5d8b746712b6 aaaaaaaaaaaa -m x
expect_code 2 "merge of a head and a revision below it"
expect_eq "failed merges write nothing" "$n" "$(ls m | wc -l)"

# Three branches at once, with --message=.
migration n/001.sql aaaaaaaaaaaa "" root
migration n/002.sql bbbbbbbbbbbb aaaaaaaaaaaa b
migration n/003.sql cccccccccccc aaaaaaaaaaaa c
migration n/004.sql dddddddddddd aaaaaaaaaaaa d
run merge n bbbbbbbbbbbb cccccccccccc -m x --rev-id aaaaaaaaaaaa
expect_code 2 "merge --rev-id of an existing revision"
expect_eq "existing --rev-id" "strata-bundle: revision aaaaaaaaaaaa already exists in n" "$ERR"
run merge n bbbbbbbbbbbb cccccccccccc dddddddddddd --message="join all three" --rev-id eeeeeeeeeeee
expect_code 0 "merge of three heads"
run heads n
expect_eq "heads after merging three" "eeeeeeeeeeee (head)" "$OUT"
run history n
expect_eq "history of a three-way merge" \
'bbbbbbbbbbbb, cccccccccccc, dddddddddddd -> eeeeeeeeeeee (head) (mergepoint), join all three
aaaaaaaaaaaa -> dddddddddddd, d
aaaaaaaaaaaa -> cccccccccccc, c
aaaaaaaaaaaa -> bbbbbbbbbbbb, b
<base> -> aaaaaaaaaaaa (branchpoint), root' "$OUT"

finish
