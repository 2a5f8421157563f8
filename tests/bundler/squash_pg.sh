#!/usr/bin/env bash
# squash_pg.sh STRATA_BUNDLE SOURCE_DIR: strata-bundle squash --postgres on
# the suite's server (STRATA_PG_DB_URL, from pg_env.sh): a copy of
# migrations/cron squashed up to its 4th revision gets a PostgreSQL section
# too, proved by squash; then, on the server itself through psql, the
# checkpoint and the migration after it give the schema the five originals
# give (pg_dump --schema-only of each, compared).
set -u
sb=$1 src=$2
url=${STRATA_PG_DB_URL:?run through pg_env.sh}
rev=b7e2c4a19f03
work=$(mktemp -d "${TMPDIR:-/tmp}/strata-squash-pg.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
export LC_ALL=C
cd "$work" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
section() { awk -v want=up -v dialect=postgresql -f "$src/tests/lib/section.awk" "$1"; }
apply() { section "$1" | psql -X -q -v ON_ERROR_STOP=1 "$url" >/dev/null || fail "psql on $1"; }
wipe() { psql -X -q -v ON_ERROR_STOP=1 "$url" -c "DROP SCHEMA public CASCADE; CREATE SCHEMA public" >/dev/null 2>&1; }

cp -r "$src/migrations/cron" cron
out=$("$sb" squash --up-to $rev --postgres "$url" cron 2>&1) || fail "squash: $out"
grep -q "^Verified on SQLite and PostgreSQL: the checkpoint alone gives the schema at $rev" <<<"$out" ||
    fail "not verified on both: $out"
cp_file=$(ls cron/*_checkpoint_up_to_$rev.sql) || fail "no checkpoint"
grep -q '^-- strata: up dialect=postgresql$' "$cp_file" || fail "no PostgreSQL section"
echo "ok   squash --postgres writes and proves a PostgreSQL section"

wipe
for r in 5d8b746712b6 fc0bfa77ff5a 34065a4cc718 $rev d41f6a8e2c57; do
    apply "$(ls cron/*_${r}_*.sql)"
done
pg_dump --schema-only --no-owner "$url" | grep -Ev '^(--|\\(un)?restrict )' >orig.sql
wipe
apply "$cp_file"
apply "$(ls cron/*_d41f6a8e2c57_*.sql)"
pg_dump --schema-only --no-owner "$url" | grep -Ev '^(--|\\(un)?restrict )' >cp.sql
[ -s orig.sql ] || fail "no schema dumped"
diff orig.sql cp.sql | head -40; diff -q orig.sql cp.sql >/dev/null || fail "the checkpoint's schema differs from the originals'"
wipe
echo "ok   checkpoint + the rest = the originals on PostgreSQL (pg_dump)"

# The originals deleted: check has no warning about PostgreSQL any more.
rm cron/*_{5d8b746712b6,fc0bfa77ff5a,34065a4cc718,${rev}}_*.sql
out=$("$sb" check cron 2>&1) || fail "check: $out"
[ "$out" = "cron: 2 migrations, 1 head, 5 locked checksums verified" ] || fail "check: $out"
echo "ok   the originals deleted: check passes, no dialect left without a section"
