#!/usr/bin/env bash
# sqlite_locked.sh BUILD_DIR: another connection holds the SQLite database
# (an application's writer mid-transaction), and strata must wait for it at
# most --lock-wait seconds, then exit 6 saying so and naming the database
# (docs/cli/README.md, "Locking and transactions"). Two holders, each in
# rollback-journal mode: one with a RESERVED lock (BEGIN IMMEDIATE and a
# write still in its cache), one with an EXCLUSIVE lock (BEGIN EXCLUSIVE: a
# writer whose cache spilled, or that is committing, holds the same), against
# upgrade and repair. Exit 6 for each, nothing changed.
# (Under an EXCLUSIVE lock strata used to exit 1 with "cannot prepare a
# statement: database is locked": docs/reliability.md, defects.)
set -u
bin=$1
work=$(mktemp -d /tmp/strata-locked.XXXXXX)
holder=
cleanup() {
  [ -n "$holder" ] && kill "$holder" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work" || exit 1
unset STRATA_ENV TESTAPP_ENVIRONMENT APP_DATABASE_URL DATABASE_URL
export NO_COLOR=1
app=$bin/testapp_v1
fails=0 checks=0
fail() {
  echo "FAIL: $*"
  fails=$((fails + 1))
}
"$app" app migrate upgrade bbbb >/dev/null || fail "upgrade bbbb"
before=$(sqlite3 testapp-app.db "SELECT revision FROM app_strata_version ORDER BY 1; SELECT count(*) FROM items")

for lock in IMMEDIATE EXCLUSIVE; do
  # The holder writes, then computes for a long while inside its transaction.
  # (.timeout: under load the previous round's reader may still be closing.)
  sqlite3 -cmd ".timeout 10000" testapp-app.db "BEGIN $lock; INSERT INTO items (id, name) VALUES (99, 'held');
    SELECT count(*) FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c);" \
    >/dev/null 2>&1 &
  holder=$!
  # Held once another writer cannot begin (the journal file alone does not
  # say so: the last round may have left one), and only while it runs.
  while sqlite3 testapp-app.db "BEGIN IMMEDIATE; ROLLBACK" >/dev/null 2>&1 &&
    kill -0 "$holder" 2>/dev/null; do sleep 0.01; done
  kill -0 "$holder" 2>/dev/null || { fail "the $lock holder did not start"; holder=; continue; }
  for cmd in "upgrade" "repair --mark-applied cccc"; do
    # shellcheck disable=SC2086
    out=$("$app" app migrate $cmd --lock-wait 1 2>&1)
    rc=$?
    checks=$((checks + 1))
    echo "BEGIN $lock held; $cmd --lock-wait 1: exit $rc: $out" | tr '\n' ' '
    echo
    case $rc:$out in
    6:*"error: timed out after "*"waiting to lock sqlite:///./testapp-app.db"*) ;;
    *) fail "BEGIN $lock held: '$cmd --lock-wait 1' must exit 6, saying it timed out waiting to lock sqlite:///./testapp-app.db" ;;
    esac
  done
  kill "$holder"
  wait "$holder" 2>/dev/null
  holder=
  sqlite3 testapp-app.db "SELECT 1" >/dev/null # the hot journal rolled back
  checks=$((checks + 1))
  after=$(sqlite3 testapp-app.db "SELECT revision FROM app_strata_version ORDER BY 1; SELECT count(*) FROM items")
  [ "$after" = "$before" ] || fail "BEGIN $lock held: the database changed: $after"
done
echo "$checks checks, $fails failed"
[ "$fails" -eq 0 ]
