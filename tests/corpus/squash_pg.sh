#!/usr/bin/env bash
# squash_pg.sh STRATA_BUNDLE VW_POSTGRESQL_DIR: strata-bundle squash
# --postgres on vaultwarden's converted PostgreSQL history (a copy), on the
# suite's server (STRATA_PG_DB_URL): a checkpoint of its first 27
# migrations, proved by squash on its own replays there; then the originals
# deleted and the directory still checked. Skipped (77) without the history.
set -u
sb=$1 dir=$2
url=${STRATA_PG_DB_URL:?run through pg_env.sh}
rev=v20230617200424
[ -d "$dir" ] || exit 77
work=$(mktemp -d "${TMPDIR:-/tmp}/strata-vwsquash-pg.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
cp -r "$dir" "$work/vw" && cd "$work" || exit 1
fail() { echo "FAIL: $*"; exit 1; }

out=$("$sb" squash --up-to $rev --postgres "$url" vw 2>&1) || fail "squash exit $?: $out"
cp_file=$(ls vw/*_checkpoint_up_to_$rev.sql) || fail "no checkpoint written"
grep -q "^Folded 27 migrations (v20190912100000 .. $rev)" <<<"$out" || fail "folded: $out"
grep -q "^Verified on PostgreSQL: the checkpoint alone gives the schema at $rev" <<<"$out" ||
    fail "not verified: $out"
grep -q '^-- strata: up dialect=postgresql$' "$cp_file" || fail "no PostgreSQL section"
echo "ok   squash --postgres folds 27 migrations, verified on PostgreSQL"
for r in $(grep '^-- strata: replaces=' "$cp_file" | sed 's/.*replaces=//' | tr ',' ' '); do
    rm -f $(grep -l "^-- strata: revision=$r\b" vw/*.sql)
done
out=$("$sb" check vw 2>&1) || fail "check without the originals: $out"
grep -q "^vw: 20 migrations, 1 head" <<<"$out" || fail "check: $out"
echo "ok   the originals deleted: check passes on the 20 left"
