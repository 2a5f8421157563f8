#!/usr/bin/env bash
# rows_not_written.sh BUILD_DIR: version tables holding what strata never
# writes are told as such, with the table and a fix that works (each fix is
# then followed here), as for a state strata does not write (case
# damaged_state). Each was wrong before (docs/reliability.md, defects):
#  1. a row whose revision is NULL, or empty: exit 4 naming the table, and
#     `repair` removes it (it read as "1 applied revision this binary does
#     not know ()", and upgrade went on);
#  2. a dirty row on a migration that runs in a transaction (strata marks
#     only transaction=none migrations dirty): exit 7, saying it runs in a
#     transaction, with both repairs (it said it "runs without a
#     transaction");
#  3. a row whose checksums are empty: exit 4 offering `repair
#     --accept-edits`, never an accepts= line (it offered
#     '-- strata: accepts=""', which strata-bundle refuses);
#  4. a view named like the version table: exit 4 saying it is a view, for
#     upgrade and repair alike; putting the table back as it says works (the
#     verdict was "no primary key ... repair", and repair failed with "view
#     app_strata_version may not be altered").
set -u
bin=$1
work=$(mktemp -d /tmp/strata-rows.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
unset STRATA_ENV TESTAPP_ENVIRONMENT APP_DATABASE_URL DATABASE_URL
export NO_COLOR=1
app=$bin/testapp_v1
fails=0 checks=0
fail() {
  echo "FAIL: $*"
  fails=$((fails + 1))
}
q() { sqlite3 testapp-app.db "$1"; }
row() {
  q "INSERT INTO app_strata_version (revision, exact, loose, message, applied_at, duration_ms,
     applied_by, bundle_hash, state) VALUES ($1, 'e', 'l', 'm', '2026-01-01T00:00:00Z', 0,
     'elsewhere:1', 'b', 'applied')"
}
# verdict LABEL CMD...: exit 4, naming the version table.
verdict() {
  local label=$1 out rc
  shift
  out=$("$app" app migrate "$@" 2>&1)
  rc=$?
  checks=$((checks + 1))
  echo "$label: $* -> exit $rc: $out" | tr '\n' ' '
  echo
  [ "$rc" = 4 ] && [[ $out == *app_strata_version* ]] ||
    fail "$label: '$*' must be a verdict (exit 4) naming app_strata_version"
}
"$app" app migrate upgrade bbbb >/dev/null || fail "upgrade bbbb"

echo "== 1. a NULL revision, an empty revision"
for rev in NULL "''"; do
  row "$rev"
  verdict "revision $rev" status
  verdict "revision $rev" upgrade
  checks=$((checks + 1))
  [ "$(q "SELECT count(*) FROM app_strata_version WHERE revision = 'cccc00000003'")" = 0 ] ||
    fail "revision $rev: upgrade applied cccc00000003 over the damage"
  # The fix offered: repair removes the row.
  out=$("$app" app migrate repair 2>&1)
  rc=$?
  checks=$((checks + 1))
  echo "revision $rev: repair -> exit $rc: $out" | tr '\n' ' '
  echo
  [ "$rc" = 0 ] && [ "$(q "SELECT count(*) FROM app_strata_version WHERE revision IS NULL OR revision = ''")" = 0 ] ||
    fail "revision $rev: repair (the fix offered) did not remove the row"
  q "DELETE FROM app_strata_version WHERE revision IS NULL OR revision = '' OR revision = 'cccc00000003';
     DELETE FROM items"
done

echo "== 2. a dirty row on a migration with a transaction"
q "UPDATE app_strata_version SET state = 'dirty' WHERE revision = 'bbbb00000002'"
for cmd in status upgrade; do
  out=$("$app" app migrate $cmd 2>&1)
  rc=$?
  checks=$((checks + 1))
  echo "dirty bbbb00000002: $cmd -> exit $rc: $out"
  [[ $out != *"runs without a transaction"* ]] ||
    fail "dirty bbbb00000002: '$cmd' says the migration runs without a transaction; it runs in one"
  checks=$((checks + 1))
  [ "$rc" = 7 ] && [[ $out == *"runs in a transaction"* ]] &&
    [[ $out == *"migrate repair --mark-applied bbbb00000002"* ]] &&
    [[ $out == *"migrate repair --mark-unapplied bbbb00000002"* ]] ||
    fail "dirty bbbb00000002: '$cmd' must exit 7, say it runs in a transaction, and give both repairs"
done
q "UPDATE app_strata_version SET state = 'applied' WHERE revision = 'bbbb00000002'"

echo "== 3. an empty checksum: the accepts= line offered must be one strata-bundle takes"
q "UPDATE app_strata_version SET exact = '', loose = '' WHERE revision = 'aaaa00000001'"
out=$("$app" app migrate status 2>&1)
rc=$?
checks=$((checks + 1))
echo "empty checksum: status -> exit $rc: $out"
[[ $out != *'accepts=""'* ]] || fail "empty checksum: status offers '-- strata: accepts=\"\"', which strata-bundle refuses"
checks=$((checks + 1))
[ "$rc" = 4 ] && [[ $out == *"migrate repair --accept-edits"* ]] && [[ $out != *"accepts="* ]] ||
  fail "empty checksum: status must exit 4 and offer repair --accept-edits, no accepts= line"
checks=$((checks + 1))
"$app" app migrate repair --accept-edits >/dev/null || fail "repair --accept-edits"
# After the repair only cccc00000003 is pending: exit 3, no verdict.
"$app" app migrate status >/dev/null
rc=$?
checks=$((checks + 1))
[ "$rc" = 3 ] || fail "empty checksum: status after repair --accept-edits exits $rc, not 3"

echo "== 4. a view in place of the version table"
q "ALTER TABLE app_strata_version RENAME TO real_version; CREATE VIEW app_strata_version AS SELECT * FROM real_version"
for cmd in upgrade repair; do
  out=$("$app" app migrate $cmd 2>&1)
  rc=$?
  checks=$((checks + 1))
  echo "view: $cmd -> exit $rc: $out"
  [ "$rc" = 4 ] && [[ $out == *"app_strata_version of the app database"*"is a view, not strata's version table"* ]] ||
    fail "view: '$cmd' must exit 4 saying app_strata_version is a view"
  [[ $out != *"migrate repair"* ]] || fail "view: '$cmd' offers repair, which cannot mend a view"
done
# What the verdict says: the table back under its name.
q "DROP VIEW app_strata_version; ALTER TABLE real_version RENAME TO app_strata_version"
out=$("$app" app migrate upgrade 2>&1)
rc=$?
checks=$((checks + 1))
echo "view: the table put back; upgrade -> exit $rc"
[ "$rc" = 0 ] || fail "view: upgrade after putting the table back: $out"
echo "$checks checks, $fails failed"
[ "$fails" -eq 0 ]
