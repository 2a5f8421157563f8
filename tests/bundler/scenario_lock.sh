#!/usr/bin/env bash
# lock: writes strata.lock, appends new revisions, refuses to rewrite an
# entry unless the edit is accepted (accepts= in the file or --accept-edit).
. "$(dirname "$0")/lib.sh"

HEADER='# strata.lock: checksums of released migrations, in the order they were locked.
# Written by '"'"'strata-bundle lock'"'"'; checked by '"'"'strata-bundle check'"'"' and the build.
# A changed line means an edited migration: see docs/checksums.md.'

# checksum FILE-REV: the exact checksum history --verbose shows for REV.
checksum() {
    "$SB" history --verbose m | awk -v r="$1" 'index($0, "-> " r) { f = 1 } f && /checksum:/ { print $2; exit }'
}

migration m/001_init.sql 5d8b746712b6 "" initial_cron_schema "CREATE TABLE prompts (id INTEGER);"
migration m/002_prio.sql 34065a4cc718 5d8b746712b6 "add priority" \
    "ALTER TABLE prompts ADD COLUMN priority INTEGER;"
run lock m
expect_code 0 "first lock"
expect_eq "first lock output" "m/strata.lock: 2 migrations locked (2 new, 0 updated)" "$OUT"
expect_eq "first lock: no diagnostics" "" "$ERR"
lines=$(grep -v '^#' m/strata.lock)
expect_match "lock line format" \
    '^5d8b746712b6 xxh3-128/1:[0-9a-f]{32} xxh3-128/loose1:[0-9a-f]{32} 001_init.sql$' \
    "$(printf '%s\n' "$lines" | sed -n 1p)"
expect_match "lock line format, second" \
    '^34065a4cc718 xxh3-128/1:[0-9a-f]{32} xxh3-128/loose1:[0-9a-f]{32} 002_prio.sql$' \
    "$(printf '%s\n' "$lines" | sed -n 2p)"
expect_eq "lock header" "$HEADER" "$(head -3 m/strata.lock)"
expect_eq "lock records the exact checksum" "$(checksum 34065a4cc718)" \
    "$(awk '$1 == "34065a4cc718" { print $2 }' m/strata.lock)"
run check m
expect_eq "check verifies the lock" "m: 2 migrations, 1 head, 2 locked checksums verified" "$OUT"

# A second lock with nothing new keeps the file (same bytes, same mtime).
cp m/strata.lock lock.1
touch -d '2001-01-01 00:00:00' m/strata.lock
before=$(mtime m/strata.lock)
run lock m
expect_code 0 "lock again"
expect_eq "lock again output" "m/strata.lock: 2 migrations locked (0 new, 0 updated)" "$OUT"
expect_eq "lock again leaves the file alone" "$before" "$(mtime m/strata.lock)"

# A new migration is appended; the existing lines stay.
migration m/000_late.sql fc0bfa77ff5a 34065a4cc718 "a file that sorts first" "SELECT 3;"
run lock m
expect_code 0 "lock with a new migration"
expect_eq "append output" "m/strata.lock: 3 migrations locked (1 new, 0 updated)" "$OUT"
expect_eq "existing lines are kept as they were" "$(cat lock.1)" "$(head -5 m/strata.lock)"
expect_match "the new line is appended" '^fc0bfa77ff5a xxh3-128/1:[0-9a-f]{32} .* 000_late.sql$' \
    "$(tail -1 m/strata.lock)"
cp m/strata.lock lock.2

# An edit: check and lock fail with exit 4 and the lock file is untouched.
sed -i 's/ADD COLUMN priority INTEGER/ADD COLUMN priority INTEGER NOT NULL DEFAULT 1/' m/002_prio.sql
old=$(awk '$1 == "34065a4cc718" { print $2 }' m/strata.lock)
new=$(checksum 34065a4cc718)
run check m
expect_code 4 "check after an edit"
expect_eq "check names file, revision, both checksums and the fix" \
"m/002_prio.sql:1: error: revision 34065a4cc718 was edited after it was released
  strata.lock: $old
  now:         $new
  Put the change in a new migration (strata-bundle create m \"message\"). If this edit is intended,
  add to the file's header:
    -- strata: accepts=\"$old\"
  so every database that applied the old text accepts the new one, then run strata-bundle lock m" "$ERR"
run generate --namespace cron --out-c out.c --out-h out.h m
expect_code 4 "generate after an edit"
checks=$((checks + 1))
[ ! -e out.c ] || fail "generate wrote out.c despite the edit"
run lock m
expect_code 4 "lock refuses to rewrite an edited entry"
expect_eq "lock refused: file unchanged" "$(cat lock.2)" "$(cat m/strata.lock)"

# --accept-edit rewrites that one entry.
run lock --accept-edit 34065a4cc718 m
expect_code 0 "lock --accept-edit"
expect_eq "lock --accept-edit output" "m/strata.lock: 3 migrations locked (0 new, 1 updated)" "$OUT"
expect_eq "lock --accept-edit records the new checksum" "$new" \
    "$(awk '$1 == "34065a4cc718" { print $2 }' m/strata.lock)"
expect_eq "other entries unchanged" "$(grep -v 34065a4cc718 lock.2)" "$(grep -v 34065a4cc718 m/strata.lock)"
run check m
expect_code 0 "check after --accept-edit"

# --accept-edit of a revision that is not locked: a warning.
run lock --accept-edit nosuchrev m
expect_code 0 "lock --accept-edit unknown"
expect_eq "lock --accept-edit unknown warns" \
    "m/strata.lock: warning: --accept-edit nosuchrev: revision not in strata.lock; nothing to accept" "$ERR"

# accepts= in the file: check passes with a note, lock updates without a flag.
old=$(awk '$1 == "34065a4cc718" { print $2 }' m/strata.lock)
sed -i "s/NOT NULL DEFAULT 1/NOT NULL DEFAULT 2/; 1a -- strata: accepts=\"$old\"" m/002_prio.sql
new=$(checksum 34065a4cc718)
run check m
expect_code 0 "check honours accepts="
expect_eq "accepts= note" \
    "m/002_prio.sql:1: note: revision 34065a4cc718: edit accepted by its 'accepts' directive ($old -> $new)" \
    "$ERR"
run lock m
expect_code 0 "lock honours accepts="
expect_eq "lock with accepts= output" "m/strata.lock: 3 migrations locked (0 new, 1 updated)" "$OUT"
run check m
expect_eq "check after accepts= and lock: silent" "" "$ERR"

# A cosmetic edit: check warns (exit 0); lock refuses without --accept-edit.
cp m/strata.lock lock.3
sed -i 's/^CREATE TABLE prompts (id INTEGER);$/-- the prompts\nCREATE   TABLE prompts\n    (id INTEGER);/' m/001_init.sql
run check m
expect_code 0 "check after a cosmetic edit"
expect_match "cosmetic edit is a warning" '^m/001_init.sql:1: warning: revision 5d8b746712b6: cosmetic edit' "$ERR"
run lock m
expect_code 4 "lock refuses a cosmetic edit"
expect_match "lock says how to accept it" 'refusing to rewrite the entry of 5d8b746712b6 without --accept-edit 5d8b746712b6' "$ERR"
expect_eq "refused lock leaves the file" "$(cat lock.3)" "$(cat m/strata.lock)"
run lock --accept-edit 5d8b746712b6 m
expect_code 0 "lock --accept-edit of a cosmetic edit"
run check m
expect_eq "check after accepting the cosmetic edit" "" "$ERR"

# A released revision whose file is gone.
mv m/000_late.sql deleted.sql
run check m
expect_code 4 "check with a locked revision missing"
expect_match "names the revision and the file" \
    '^m/strata.lock:6: error: revision fc0bfa77ff5a \(000_late.sql\) is released but no migration declares it any more' "$ERR"
run lock m
expect_code 4 "lock with a locked revision missing"
mv deleted.sql m/000_late.sql

# CRLF line ends in strata.lock (a Windows checkout) are fine.
sed -i 's/$/\r/' m/strata.lock
run check m
expect_code 0 "check with a CRLF strata.lock"

finish
