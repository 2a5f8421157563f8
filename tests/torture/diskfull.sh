#!/usr/bin/env bash
# diskfull.sh MODE STEP_KIB MAX_KIB BUILD_DIR: the herd's 50 migrations
# (herd_fixture.cmake: about 230 KiB of schema and rows, a one-shot insert,
# five transaction=none indexes) applied by one `upgrade` to SQLite on a small
# tmpfs filled to leave 0, STEP, 2 STEP, ... MAX_KIB KiB free, each level
# from the same start (tables made, nothing applied). MODE: journal or wal.
# Mounting needs root: skipped (exit 77) without it. At each level:
#   the run exits 0, or 1 with an error that names the database file and
#   the fix (free space, run again), the failure counted by where it fell
#   (7 when it fell in a transaction=none statement: the row stays dirty);
#   once space is back, PRAGMA integrity_check is ok (journal mode: also
#   while the disk is full), and the next `upgrade` finishes the job: exit 0,
#   or exit 7 when a transaction=none migration ran but its row could not be
#   marked applied (the message names it and both repairs; resolved as it
#   says), then exit 0;
#   and then the herd's oracle holds: each revision once, the one-shot insert
#   once, the schema of a run with space, sound.
set -u
mode=$1 step=$2 max=$3 bin=$4
# shellcheck disable=SC1091
. "$(dirname "$0")/lib.sh"
torture_setup sqlite
mnt=$work/mnt
mkdir "$mnt"
cleanup() {
  cd /
  if mountpoint -q "$mnt" && ! umount "$mnt"; then
    echo "error: cannot unmount $mnt" >&2
    exit 1
  fi
  rm -rf "$work"
}
trap cleanup EXIT
if ! err=$(mount -t tmpfs -o size=4m tmpfs "$mnt" 2>&1); then
  echo "skipped: cannot mount a tmpfs for a full disk (needs root): $err"
  exit 77
fi
app=$bin/testapp_herd
fix="the disk that holds herd.db is full: free space on it, then run the command again"

# The reference, and the start of every level (on the big disk).
dbfile=$work/herd.db url=sqlite:///$dbfile
(cd "$work" && APP_DATABASE_URL=sqlite:///herd.db "$app" app migrate init >/dev/null) || exit 1
[ "$mode" = wal ] && q 'PRAGMA journal_mode = WAL' >/dev/null
q 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
cp "$dbfile" "$work/start.db"
(cd "$work" && APP_DATABASE_URL=sqlite:///herd.db "$app" app migrate upgrade >/dev/null) || exit 1
reference=$(schema)

cd "$mnt" || exit 1
dbfile=$mnt/herd.db
fill() { # fill KIB: leaves about KIB KiB free
  local avail
  rm -f filler
  avail=$(df -k --output=avail . | tail -1)
  [ "$avail" -gt "$1" ] && dd if=/dev/zero of=filler bs=1k count=$((avail - $1)) 2>/dev/null
}
up() { APP_DATABASE_URL=sqlite:///herd.db "$app" app migrate upgrade "$@" 2>&1; }

declare -A where
levels=0
for kib in $(seq 0 "$step" "$max"); do
  label="$kib KiB free"
  rm -f filler herd.db*
  cp "$work/start.db" herd.db
  fill "$kib"
  out=$(up)
  rc=$?
  first=$out marked=
  levels=$((levels + 1))
  checks=$((checks + 1))
  case $rc:$out in
  0:*) w="finished" ;;
  1:*"error: migration herd"*", up section: statement "*"$fix"*) w="a statement" ;;
  # transaction=none: the failed statement leaves it dirty (the next run says so).
  7:*"error: migration herd"*", up section: statement "*"$fix"*"It runs without a transaction"*)
    w="a statement without a transaction" ;;
  1:*"error: migration herd"*", recording it in the version table: "*"$fix"*) w="the version row" ;;
  1:*"error: migration herd"*", marking it dirty in the version table before it runs: "*"$fix"*) w="the dirty mark" ;;
  1:*"error: migration herd"*", recording it as applied (it ran; its row stays dirty): "*"$fix"*) w="marking it applied" ;;
  1:*"error: migration herd"*", COMMIT (rolled back): "*"$fix"*) w="COMMIT" ;;
  # Migrations that shared one transaction (the default on SQLite): none applied.
  1:*"error: migrations herd"*" run in one transaction: COMMIT (rolled back: none of these "*" is applied): "*"$fix"*)
    w="a shared COMMIT" ;;
  1:*"error: "*"herd.db"*"$fix"*) w="before any migration" ;;
  *)
    w="unnamed"
    fail "$label: exit $rc, and the error does not name the database file and the fix:
$(echo "$out" | grep -v '^Running upgrade' | sed 's/^/    /')"
    ;;
  esac
  where[$w]=$((${where[$w]:-0} + 1))
  [ "$mode" = journal ] && sound "$label, the disk full"
  rm -f filler
  sound "$label, space back"
  # The next run finishes the job.
  out=$(up)
  rc=$?
  if [ "$rc" = 7 ]; then
    rev=$(echo "$out" | sed -n "s/.*error: migration \(herd[0-9]*\) .*did not finish.*/\1/p" | head -n 1)
    checks=$((checks + 1))
    case $out in
    *"Check what it changed, finish or undo it by hand, then run 'testapp app migrate repair --mark-applied $rev' or 'testapp app migrate repair --mark-unapplied $rev'"*) ;;
    *) fail "$label: the next run's exit 7 does not name the migration and both repairs: $out" ;;
    esac
    k=$((10#${rev#herd}))
    if [ "$(q "SELECT count(*) FROM sqlite_master WHERE name = 'herd_i$k'")" = 1 ]; then
      marked=$rev
      out=$(APP_DATABASE_URL=sqlite:///herd.db "$app" app migrate repair --mark-applied "$rev" 2>&1)
    else
      out=$(APP_DATABASE_URL=sqlite:///herd.db "$app" app migrate repair --mark-unapplied "$rev" 2>&1)
    fi
    check "$label: repair of $rev" "$?" 0
    where["then dirty, repaired"]=$((${where["then dirty, repaired"]:-0} + 1))
    out=$(up)
    rc=$?
  fi
  check "$label: the next run's exit" "$rc" 0
  [ "$rc" = 0 ] || echo "$out" | sed 's/^/    /'
  # Both runs together ran each migration once (one marked applied by
  # repair: none).
  check "$label: migrations run, and how often" \
    "$(printf '%s\n%s\n' "$first" "$out" | grep -o 'Running upgrade [^,]*' | sed 's/.*-> //' | sort |
      uniq -c | awk '{print $2 " " $1}')" \
    "$(echo "$herd_revisions" | grep -v "^${marked:-none}\$" | sed 's/$/ 1/')"
  check "$label: version rows" \
    "$(q "SELECT count(*) || ' ' || count(DISTINCT revision) || ' ' || sum(state = 'applied') FROM app_strata_version")" \
    "50 50 50"
  check "$label: counter rows and n" "$(q "SELECT count(*) || ' ' || sum(n) FROM herd_counter")" "1 2"
  same_schema "$label"
  [ "$mode" = wal ] && check "$label: journal_mode" "$(q 'PRAGMA journal_mode')" wal
  [ "$fails" -lt 40 ] || break
done
echo "disk full ($mode): $levels levels, 0 to $max KiB free, step $step KiB; where the first run stopped:" \
  "$(for w in "${!where[@]}"; do echo "$w ${where[$w]}"; done | sort | tr '\n' ';')"
finish "disk full ($mode)"
