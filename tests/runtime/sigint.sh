#!/usr/bin/env bash
# sigint.sh BUILD_DIR: SIGINT while SQLite runs a long statement (the slow
# transaction=none migration of fixtures/notx_race): the process stops within
# 2 s, exits non-zero, and releases the migration lock (the next run does not
# wait for it).
set -u
bin=$1
work=$(mktemp -d /tmp/strata-int.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
unset STRATA_ENV
export NO_COLOR=1 APP_DATABASE_URL=sqlite:///$work/int.db
fail=0
"$bin/testapp_notx_race" app migrate upgrade >out.txt 2>&1 &
pid=$!
# The slow migration has begun once its dirty marker is committed.
for _ in $(seq 200); do
  [ "$(sqlite3 -cmd '.timeout 50' int.db "SELECT state FROM app_strata_version WHERE revision = 'ffff00000002'" 2>/dev/null)" = dirty ] && break
  sleep 0.02
done
sleep 0.2 # inside the slow statements now
t0=$(date +%s%N)
kill -INT $pid
wait $pid
rc=$?
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
cat out.txt
echo "exit $rc, $ms ms after SIGINT"
[ "$rc" != 0 ] || { echo "FAILED: exit 0 after SIGINT"; fail=1; }
[ "$ms" -lt 2000 ] || { echo "FAILED: took more than 2 s to stop"; fail=1; }
t0=$(date +%s%N)
"$bin/testapp_notx_race" app migrate status --lock-wait 1 >/dev/null 2>&1
"$bin/testapp_notx_race" app migrate repair --mark-unapplied ffff00000002 --lock-wait 1 >status.txt 2>&1 ||
  { echo "FAILED: the lock was not released:"; cat status.txt; fail=1; }
exit $fail
