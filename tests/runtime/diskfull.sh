#!/usr/bin/env bash
# diskfull.sh BUILD_DIR [journal|wal]: SQLite on a full disk (a small tmpfs; mounting needs
# root, else the test is skipped, exit 77). "database or disk is full" alone
# named neither the migration, nor the database, nor the fix. For each amount
# of free space from none up, `upgrade` either finishes or fails naming the
# migration (or strata's tables), the file and the fix; the database passes
# PRAGMA integrity_check after every run; once space is freed the next run
# finishes. Which step runs out (a statement, the bookkeeping, COMMIT, of
# one migration or of several sharing a transaction) depends on the amount:
# each failure seen is counted. wal: the database is in WAL mode (set after
# the tables are made), whose -wal and -shm files need room of their own.
# (tests/torture/diskfull.sh fills at many more levels, each from the same
# start, and checks the work once space is back.)
set -u
bin=$1 mode=${2:-journal}
work=$(mktemp -d /tmp/strata-full.XXXXXX)
mnt=$work/mnt
mkdir "$mnt"
cleanup() {
  cd / # the mount is busy while the shell stands in it
  if mountpoint -q "$mnt" && ! umount "$mnt"; then
    echo "error: cannot unmount $mnt" >&2
    exit 1
  fi
  rm -rf "$work"
}
trap cleanup EXIT
if ! err=$(mount -t tmpfs -o size=512k tmpfs "$mnt" 2>&1); then
  echo "skipped: cannot mount a tmpfs for a full disk (needs root): $err"
  exit 77
fi
cd "$mnt" || exit 1
export NO_COLOR=1
unset STRATA_ENV TESTAPP_ENVIRONMENT APP_DATABASE_URL DATABASE_URL
app=$bin/testapp_v1
fails=0 checks=0 statement=0 bookkeeping=0 commit=0 create=0 opening=0
fail() {
  echo "FAIL: $*"
  fails=$((fails + 1))
}
fix="the disk that holds ./testapp-app.db is full: free space on it, then run the command again"

# fill KIB: leaves about KIB KiB free on the tmpfs.
fill() {
  local avail
  rm -f filler
  avail=$(df -k --output=avail . | tail -1)
  if [ "$avail" -gt "$1" ]; then
    dd if=/dev/zero of=filler bs=1k count=$((avail - $1)) 2>/dev/null
  fi
}

# intact: the database file is sound after whatever happened. In WAL mode
# a reader needs room for the -shm file too: the check runs with the filler
# gone (the next fill puts it back).
intact() {
  local r
  checks=$((checks + 1))
  [ "$mode" = wal ] && rm -f filler
  r=$(sqlite3 testapp-app.db "PRAGMA integrity_check" 2>&1)
  [ "$r" = ok ] || fail "$1: integrity_check says: $r"
}

# judge LABEL RC OUT: a failed run names what failed, the file and the fix.
judge() {
  local label=$1 rc=$2 out=$3
  checks=$((checks + 1))
  [ "$rc" -eq 0 ] && return
  [ "$rc" -eq 1 ] || fail "$label: exit $rc, expected 0 or 1"
  case $out in
  *"error: migration "*" of namespace app, up section: statement "*"$fix"*) statement=$((statement + 1)) ;;
  *"error: migration "*" of namespace app, recording it in the version table: "*"$fix"*)
    bookkeeping=$((bookkeeping + 1)) ;;
  *"error: migration "*" of namespace app, COMMIT (rolled back): "*"$fix"*) commit=$((commit + 1)) ;;
  # Migrations that shared one transaction (the default on SQLite): none applied.
  *"error: migrations "*" of namespace app, run in one transaction: COMMIT (rolled back: none of these "*" is applied): "*"$fix"*)
    commit=$((commit + 1)) ;;
  *"error: cannot create strata's version and log tables in the app database (sqlite:///./testapp-app.db): "*"$fix"*)
    create=$((create + 1)) ;;
  # Before any migration (WAL: the -shm file cannot grow): the database and the fix.
  *"error: "*"testapp-app.db"*"$fix"*) opening=$((opening + 1)) ;;
  *) fail "$label: the error does not name the migration (or the tables), the file and the fix:
$out" ;;
  esac
}

echo "== tables created on a full disk"
fill 0
out=$("$app" app migrate upgrade 2>&1)
rc=$?
printf '%s\n[exit %d]\n' "$out" "$rc"
[ "$rc" -eq 1 ] || fail "upgrade on a full disk: exit $rc, expected 1"
judge "full disk, no tables yet" "$rc" "$out"
[ -s testapp-app.db ] && intact "full disk, no tables yet"

echo "== migrations on a disk filled to the brink, 0 to 64 KiB free"
rm -f filler testapp-app.db*
"$app" app migrate init >/dev/null || fail "init with space"
[ "$mode" = wal ] && sqlite3 testapp-app.db 'PRAGMA journal_mode = WAL' >/dev/null
for kib in 0 4 8 12 16 20 24 28 32 36 40 48 56 64; do
  fill "$kib"
  out=$("$app" app migrate upgrade 2>&1)
  rc=$?
  printf -- '-- %d KiB free\n%s\n[exit %d]\n' "$kib" "$out" "$rc"
  judge "$kib KiB free" "$rc" "$out"
  intact "$kib KiB free"
done

echo "== space freed: the next run finishes"
rm -f filler
out=$("$app" app migrate upgrade 2>&1)
rc=$?
printf '%s\n[exit %d]\n' "$out" "$rc"
checks=$((checks + 1))
[ "$rc" -eq 0 ] || fail "upgrade after freeing space: exit $rc"
out=$("$app" app migrate status 2>&1)
checks=$((checks + 1))
[ "$out" = "App database is up to date" ] || fail "status after freeing space: $out"
intact "after freeing space"

echo "failures seen: $create creating the tables, $opening before any migration, $statement in a statement, $bookkeeping in the bookkeeping, $commit in COMMIT"
checks=$((checks + 1))
[ $((statement + bookkeeping + commit)) -gt 0 ] || fail "no migration ran out of space: the test proved nothing"
[ "$create" -eq 1 ] || fail "creating the tables on a full disk did not fail as expected"
echo "$checks checks, $fails failed"
[ "$fails" -eq 0 ]
