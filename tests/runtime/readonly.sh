#!/usr/bin/env bash
# readonly.sh BUILD_DIR: a SQLite database file that cannot be written (a
# read-only bind mount over it; mounting needs root, else the test is
# skipped, exit 77). `upgrade` blamed the migration's first statement
# ("attempt to write a readonly database"); now it says the file is
# read-only before anything runs, while reading commands (status, current,
# drift) still work.
set -u
bin=$1
work=$(mktemp -d /tmp/strata-ro.XXXXXX)
db=$work/testapp-app.db
cleanup() {
  cd /
  if mountpoint -q "$db" && ! umount "$db"; then
    echo "error: cannot unmount $db" >&2
    exit 1
  fi
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work" || exit 1
export NO_COLOR=1
unset STRATA_ENV TESTAPP_ENVIRONMENT APP_DATABASE_URL DATABASE_URL
app=$bin/testapp_v1
fails=0
fail() {
  echo "FAIL: $*"
  fails=$((fails + 1))
}
"$app" app migrate upgrade +1 >/dev/null || fail "upgrade +1 on a writable file"
if ! err=$( (mount --bind "$db" "$db" && mount -o remount,ro,bind "$db") 2>&1); then
  echo "skipped: cannot mount the database file read-only (needs root): $err"
  exit 77
fi
run() { # run EXPECTED_EXIT EXPECTED_OUTPUT ARGS...
  local want_rc=$1 want=$2 out rc
  shift 2
  out=$("$app" "$@" 2>&1)
  rc=$?
  out=$(sed -E 's/\([0-9]+ ms\)/(N ms)/' <<<"$out")
  printf '$ %s\n%s\n[exit %d]\n' "$*" "$out" "$rc"
  [ "$rc" -eq "$want_rc" ] || fail "app $*: exit $rc, expected $want_rc"
  [ "$out" = "$want" ] || fail "app $*: output differs, expected:
$want"
}
run 3 "App database needs migration
   Run: testapp app migrate upgrade" app migrate status
run 0 "aaaa00000001" app migrate current
# drift reads only: no lock file, no write
run 0 "App: no drift from revision aaaa00000001" app migrate drift
run 1 "error: the database sqlite:///./testapp-app.db is read-only (file permissions or a read-only mount): nothing was changed. Make it writable, then run the command again" app migrate upgrade
run 1 "error: the database sqlite:///./testapp-app.db is read-only (file permissions or a read-only mount): nothing was changed. Make it writable, then run the command again" app migrate downgrade -1
umount "$db"
run 0 "Upgrading app database to head...
Running upgrade aaaa00000001 -> bbbb00000002, add price (N ms)
Running upgrade bbbb00000002 -> cccc00000003, seed demo items (N ms)
app migrations applied successfully" app migrate upgrade
echo "$fails failed"
[ "$fails" -eq 0 ]
