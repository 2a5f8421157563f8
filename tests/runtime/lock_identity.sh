#!/usr/bin/env bash
# lock_identity.sh BUILD_DIR: the SQLite migration lock belongs to the
# database file, not to the name it was reached by.
#
# Process A upgrades and is held inside a transaction=none migration (its
# dirty marker committed, its INSERT into an attached gate.db waiting for the
# write transaction this script holds there: no timing involved). Meanwhile
# other processes reach the same database another way: through a symbolic
# link in another directory, through a hard link, by its path after the lock
# file was deleted or replaced under A, or after A rebuilt the database (a
# new file). In every round:
#   - status there reads "being applied right now", exit 3 (not 7, "did not
#     finish");
#   - upgrades there wait for A's lock ("waiting up to"), then find nothing to
#     do: every process exits 0, no one saw the migration half done, and each
#     migration ran once.
# One waiter is already waiting when the lock file is deleted or replaced:
# the holder puts its lock back in place, and that waiter must not take the
# file it was waiting on, now unlinked, for the lock.
set -u
bin=$1
app=$bin/testapp_notx_gate
work=$(mktemp -d /tmp/strata-lockid.XXXXXX)
gatepid=
cleanup() {
  [ -n "$gatepid" ] && kill "$gatepid" 2>/dev/null
  jobs -p | xargs -r kill 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work" || exit 1
unset STRATA_ENV APP_DATABASE_URL DATABASE_URL
export NO_COLOR=1
fail=0
bad() {
  echo "FAILED: $*"
  fail=1
}

# The gate: a sqlite3 shell holding a write transaction on gate.db until told.
sqlite3 gate.db 'CREATE TABLE t (x INTEGER)'
gate_close() {
  rm -f gate.in
  mkfifo gate.in
  sqlite3 gate.db <gate.in >gate.out 2>&1 &
  gatepid=$!
  exec 9>gate.in
  echo 'BEGIN IMMEDIATE;' >&9
  for _ in $(seq 1500); do
    sqlite3 -cmd '.timeout 0' gate.db 'BEGIN IMMEDIATE; ROLLBACK;' >/dev/null 2>&1 || return 0
    sleep 0.02
  done
  echo "the gate never closed"
  exit 1
}
gate_open() {
  echo 'COMMIT;' >&9
  exec 9>&-
  wait "$gatepid"
  gatepid=
}
# until SECONDS COMMAND...: polls COMMAND every 0.05 s, for SECONDS at most.
until_() {
  local end=$((SECONDS + $1))
  shift
  while ! "$@"; do
    [ $SECONDS -ge $end ] && return 1
    sleep 0.05
  done
}
dirty_in() { [ "$(sqlite3 -cmd '.timeout 2000' "$1" "SELECT state FROM app_strata_version WHERE revision = 'eeee00000002'" 2>/dev/null)" = dirty ]; }
# waiting FILE PID: the process says it waits for the lock, or has ended.
waiting() { grep -qs 'waiting up to' "$1" || ! kill -0 "$2" 2>/dev/null; }

# round NAME A_URL A_DB B_URL [ACTION [A_COMMAND]]: A runs A_COMMAND (upgrade)
# on A_URL until held at the gate (A_DB, a file path, shows it dirty); a first
# upgrade on B_URL starts waiting; ACTION runs; status and a second upgrade on
# B_URL; then the gate opens.
round() {
  local name=$1 a=$2 adb=$3 b=$4 action=${5:-} acmd=${6:-upgrade}
  local apid w1 w2 out rc ran
  echo "== $name"
  gate_close
  APP_DATABASE_URL=$a "$app" app migrate $acmd --lock-wait 300 >"$name.a" 2>&1 &
  apid=$!
  until_ 120 dirty_in "$adb" || bad "$name: the gated migration never started: $(cat "$name.a")"
  APP_DATABASE_URL=$b "$app" app migrate upgrade --lock-wait 300 >"$name.w1" 2>&1 &
  w1=$!
  until_ 120 waiting "$name.w1" $w1 && kill -0 $w1 2>/dev/null || bad "$name: the first waiter does not wait: $(cat "$name.w1")"
  if [ -n "$action" ]; then
    eval "$action"
    sleep 1 # the holder looks at its lock file at least every 0.2 s
  fi
  out=$(APP_DATABASE_URL=$b "$app" app migrate status 2>&1)
  rc=$?
  echo "status: exit $rc: $out"
  [ $rc = 3 ] && grep -q 'is being applied right now' <<<"$out" ||
    bad "$name: a running migration must read as not ready (3), not crashed"
  APP_DATABASE_URL=$b "$app" app migrate upgrade --lock-wait 300 >"$name.w2" 2>&1 &
  w2=$!
  until_ 120 waiting "$name.w2" $w2 && kill -0 $w2 2>/dev/null || bad "$name: the second waiter does not wait: $(cat "$name.w2")"
  gate_open
  wait $apid || bad "$name: A failed: $(cat "$name.a")"
  wait $w1 || bad "$name: the first waiter failed: $(cat "$name.w1")"
  wait $w2 || bad "$name: the second waiter failed: $(cat "$name.w2")"
  ran=$(cat "$name".w1 "$name".w2 | grep -c 'Running upgrade')
  [ "$ran" = 0 ] || bad "$name: the waiters ran $ran migrations, A had applied them all"
  grep -q 'Running upgrade aaaa00000001 -> eeee00000002' "$name.a" || bad "$name: A did not apply 002"
  if grep -q 'did not finish\|no such table\|is being applied' "$name".a "$name".w1 "$name".w2; then
    bad "$name: a process saw the migration half done:"
    grep -h 'did not finish\|no such table\|is being applied' "$name".a "$name".w1 "$name".w2
  fi
  [ "$(sqlite3 "$adb" 'SELECT count(*) FROM made_by_002')" = 1 ] || bad "$name: 003 did not run exactly once"
  grep -h 'warning' "$name".a "$name".w1 "$name".w2 | sort -u
}

mkdir r1 r2 r3 r4 r5 elsewhere
# A symbolic link in another directory: the lock is in the file's own.
ln -s "$work/r1/real.db" elsewhere/link.db
round symlink "sqlite:///$work/elsewhere/link.db" r1/real.db "sqlite:///$work/r1/real.db"

# A hard link in the same directory: the lock is the inode's.
APP_DATABASE_URL=sqlite:///$work/r2/real.db "$app" app migrate upgrade aaaa00000001 >/dev/null 2>&1
ln r2/real.db r2/other.db
round hardlink "sqlite:///$work/r2/real.db" r2/real.db "sqlite:///$work/r2/other.db"

# The lock file deleted, then replaced by another file, while A holds it.
round deleted "sqlite:///$work/r3/real.db" r3/real.db "sqlite:///$work/r3/real.db" 'rm r3/*.lock'
round replaced "sqlite:///$work/r4/real.db" r4/real.db "sqlite:///$work/r4/real.db" \
  'for f in r4/*.lock; do echo stale >r4/new && mv r4/new "$f"; done'

# A rebuild makes a new database file (kept apart from the old one: this
# script holds the old open), so a new lock: A takes it before migrating.
APP_DATABASE_URL=sqlite:///$work/r5/real.db "$app" app migrate upgrade aaaa00000001 >/dev/null 2>&1
exec 8<r5/real.db
old=$(ls r5/*.lock)
round rebuild "sqlite:///$work/r5/real.db" r5/real.db "sqlite:///$work/r5/real.db" '' rebuild
exec 8<&-
[ ! -e "$old" ] || bad "rebuild: the old database's lock file $old is still there"
ls r5/*.lock >/dev/null 2>&1 || bad "rebuild: no lock file for the new database"
exit $fail
