#!/usr/bin/env bash
# squash: strata-bundle squash --up-to REV on a copy of migrations/cron (up
# to its 4th revision): the output, the checkpoint's schema against the
# originals' on sqlite3 itself, determinism across copies with other mtimes,
# the originals deleted (check, lock, verify), a squash over a checkpoint,
# data statements (live, left out, commented out), and the refusals.
# scenario_squash.sh STRATA_BUNDLE SOURCE_DIR
. "$(dirname "$0")/lib.sh"
SRC=$2
REV=b7e2c4a19f03
CP=5878c86c8191
NAME=20250818_0930_${CP}_checkpoint_up_to_${REV}.sql

cp -r "$SRC/migrations/cron" a
run squash --up-to "$REV" a
expect_code 0 "squash cron"
expect_eq "squash output" "Generating a/$NAME ... done
Folded 4 migrations (5d8b746712b6 .. $REV) into checkpoint $CP
Verified on SQLite: the checkpoint alone gives the schema at $REV, and with the migrations after it the schema at the heads
The checkpoint is SQLite-only: PostgreSQL databases go on through the originals, and need them in the bundle until they are past $REV (squash with --postgres URL|auto for a PostgreSQL section)
Next: keep the originals until every database is past $REV ('<app> <module> migrate current' on each shows $REV or a later revision). Then delete the 4 files it replaces and run 'strata-bundle lock a' (it drops their lines); a database part way through them is refused by the build without them." "$OUT"
expect_eq "squash: nothing on stderr" "" "$ERR"
expect_eq "the header" "-- strata: revision=$CP checkpoint=$REV
-- strata: replaces=5d8b746712b6,fc0bfa77ff5a,34065a4cc718,$REV
-- strata: message=\"checkpoint of 4 migrations up to $REV\"" "$(head -3 "a/$NAME")"
run check a
expect_code 0 "check with the checkpoint beside the originals"
expect_eq "one head" "a: 6 migrations, 1 head, 5 locked checksums verified" "$OUT"

# The same schema on sqlite3 itself: the originals, and the checkpoint with
# the migration after it, each up section as the runtime chooses it.
section() {
    awk -v want=up -v dialect=sqlite -f "$TESTS_DIR/../lib/section.awk" "$1"
}
schema() {
    sqlite3 "$1" "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name"
}
if command -v sqlite3 >/dev/null; then
    for f in a/2025081[678]_*_{5d8b746712b6,fc0bfa77ff5a,34065a4cc718,b7e2c4a19f03,d41f6a8e2c57}_*.sql; do
        section "$f" | sqlite3 orig.db
    done
    for f in "a/$NAME" a/*_d41f6a8e2c57_*.sql; do
        section "$f" | sqlite3 cp.db
    done
    expect_eq "checkpoint + the rest = the originals (sqlite3)" "$(schema orig.db)" "$(schema cp.db)"
    checks=$((checks + 1))
    [ -n "$(schema cp.db)" ] || fail "the checkpoint's database has no schema"
fi

# Determinism: another copy, its files written in another order with other
# mtimes, gives the same bytes, name and revision.
mkdir b
for f in $(ls "$SRC/migrations/cron" | sort -r); do
    cp "$SRC/migrations/cron/$f" "b/$f"
    touch -d "2001-0$((RANDOM % 9 + 1))-1$((RANDOM % 9)) 12:00:00" "b/$f"
done
run squash --up-to "$REV" b
expect_code 0 "squash the second copy"
checks=$((checks + 1))
cmp -s "a/$NAME" "b/$NAME" || fail "the two checkpoints differ"

# Again in the same directory: the file is there, nothing is overwritten.
cp "a/$NAME" before.sql
run squash --up-to "$REV" a
expect_code 1 "squash again"
expect_eq "squash again: refused" "strata-bundle: squash: a/$NAME is the checkpoint of $REV already" "$ERR"
checks=$((checks + 1))
cmp -s "a/$NAME" before.sql || fail "squash again changed the checkpoint"

# The originals deleted: check passes with strata.lock, lock drops their
# lines, verify replays the checkpoint, the child revises it.
rm a/*_{5d8b746712b6,fc0bfa77ff5a,34065a4cc718,b7e2c4a19f03}_*.sql
run check a
expect_code 0 "check without the originals"
expect_eq "check without the originals: output" "a: 2 migrations, 1 head, 5 locked checksums verified" "$OUT"
run history a
expect_eq "history without the originals" "$CP -> d41f6a8e2c57 (head), add template relationship to prompts
<base> -> $CP (checkpoint of 4 migrations up to $REV), checkpoint of 4 migrations up to $REV" "$OUT"
run lock a
expect_code 0 "lock without the originals"
expect_eq "lock drops their lines" "a/strata.lock: 2 migrations locked (1 new, 0 updated, the deleted originals of a checkpoint dropped)" "$OUT"
expect_eq "the lock's revisions" "d41f6a8e2c57
$CP" "$(grep -v '^#' a/strata.lock | awk '{ print $1 }')"
run verify --dialect sqlite a
expect_code 0 "verify without the originals"

# A squash over the checkpoint: the new list holds the old checkpoint and
# what it replaced.
run squash --up-to d41f6a8e2c57 a
expect_code 0 "squash over a checkpoint"
expect_match "squash over a checkpoint: folded" "^Folded 2 migrations \\($CP \\.\\. d41f6a8e2c57\\)" "$OUT"
expect_eq "its replaces" "-- strata: replaces=5d8b746712b6,fc0bfa77ff5a,34065a4cc718,$REV,$CP,d41f6a8e2c57" \
    "$(grep '^-- strata: replaces=' a/*_checkpoint_up_to_d41f6a8e2c57.sql)"
run check a
expect_code 0 "check with both checkpoints"

# Data statements: a seed copied live (it runs on the schema at REV), one
# restricted to some environments left out; one that no longer fits the
# schema (its column renamed after it) makes the block commented out.
migration d/001_t.sql aaaa00000001 "" "create t" "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);"
migration d/002_seed.sql bbbb00000002 aaaa00000001 "seed" "INSERT INTO t (id, name) VALUES (1, 'one');"
migration d/003_dev.sql cccc00000003 bbbb00000002 "dev rows" "INSERT INTO t (id, name) VALUES (2, 'dev');"
sed -i 's/^-- strata: message="dev rows"/&\n-- strata: environments=development,test/' d/003_dev.sql
migration d/004_more.sql dddd00000004 cccc00000003 "more" "ALTER TABLE t ADD COLUMN n INTEGER;"
run squash --up-to dddd00000004 d
expect_code 0 "squash with data"
expect_eq "the data statements listed" "Data statements of the folded migrations, copied into the checkpoint after the schema (review them):
  d/002_seed.sql:5: INSERT INTO t (id, name) VALUES (1, 'one')
  d/003_dev.sql:6: INSERT INTO t (id, name) VALUES (2, 'dev')  (left out: environments= restricts it)" \
    "$(printf '%s\n' "$OUT" | sed -n '/^Data statements/,/^Next/p' | sed '$d')"
f=$(ls d/*_checkpoint_up_to_dddd00000004.sql)
expect_eq "the data block" "-- strata squash: the data statements of the folded migrations, in their order.
-- REVIEW them: they run on every new database (seed rows survive the squash).
-- from 002_seed.sql (bbbb00000002), line 5
INSERT INTO t (id, name) VALUES (1, 'one');
-- strata squash: end of the data statements" "$(sed -n '/^-- strata squash: the data/,$p' "$f")"
if command -v sqlite3 >/dev/null; then
    section "$f" | sqlite3 seed.db
    expect_eq "the seed row survives" "1|one|" "$(sqlite3 seed.db 'SELECT * FROM t')"
fi

migration e/001_t.sql aaaa00000001 "" "create t" "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);"
migration e/002_seed.sql bbbb00000002 aaaa00000001 "seed" "INSERT INTO t (id, name) VALUES (1, 'one');"
migration e/003_rename.sql cccc00000003 bbbb00000002 "rename" "ALTER TABLE t RENAME COLUMN name TO label;"
run squash --up-to cccc00000003 e
expect_code 0 "squash with data that no longer fits"
expect_match "said commented out" "copied into the checkpoint commented out: they do not run on the schema at cccc00000003 \\(table t has no column named name\\)" "$OUT"
expect_eq "the commented block" "-- from 002_seed.sql (bbbb00000002), line 5
-- INSERT INTO t (id, name) VALUES (1, 'one');" \
    "$(grep -A1 '^-- from' e/*_checkpoint_up_to_cccc00000003.sql)"

# Refusals: no such revision, nothing to fold, a branch the checkpoint would cut.
run squash --up-to ffff00000000 d
expect_code 1 "no such revision"
expect_eq "no such revision: message" "strata-bundle: squash: no revision 'ffff00000000' in d: see 'strata-bundle history d'" "$ERR"
run squash --up-to aaaa00000001 e
expect_code 1 "a root"
expect_eq "a root: message" "strata-bundle: squash: aaaa00000001 has no ancestor: nothing to fold" "$ERR"
migration g/001_a.sql aaaa00000001 "" "a" "CREATE TABLE a (id INTEGER);"
migration g/002_b.sql bbbb00000002 aaaa00000001 "b" "CREATE TABLE b (id INTEGER);"
migration g/003_c.sql cccc00000003 aaaa00000001 "c" "CREATE TABLE c (id INTEGER);"
run squash --up-to bbbb00000002 g
expect_code 1 "a branch cut off"
expect_eq "a branch cut off: message" "strata-bundle: squash: cccc00000003 (g/003_c.sql) revises aaaa00000001, which the checkpoint would fold, but not bbbb00000002: squash up to a revision every later migration descends from (merge the branches first)" "$ERR"
run squash a
expect_code 2 "no --up-to"
finish
