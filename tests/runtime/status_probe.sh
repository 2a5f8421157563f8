#!/usr/bin/env bash
# status_probe.sh BUILD_DIR [pg]: what a readiness probe sees while a
# transaction=none migration runs (its dirty marker committed, the lock held):
# "being applied right now", exit 3 (not ready), not exit 7; and after the
# process running it was killed: exit 7 (did not finish), naming the fix.
# pg: inside tests/pg/pg_env.sh.
set -u
bin=$1 mode=${2:-sqlite}
work=$(mktemp -d /tmp/strata-probe.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
unset STRATA_ENV
export NO_COLOR=1
if [ "$mode" = pg ]; then
  export APP_DATABASE_URL=$DATABASE_URL STRATA_ENV=development
  dirty() { psql -X -tA "$DATABASE_URL" -c "SELECT state FROM app_strata_version WHERE revision = 'ffff00000002'" 2>/dev/null; }
else
  export APP_DATABASE_URL=sqlite:///$work/probe.db
  dirty() { sqlite3 -cmd '.timeout 50' probe.db "SELECT state FROM app_strata_version WHERE revision = 'ffff00000002'" 2>/dev/null; }
fi
fail=0
for round in running killed; do
  "$bin/testapp_notx_race" app migrate upgrade >up.txt 2>&1 &
  pid=$!
  for _ in $(seq 200); do
    [ "$(dirty)" = dirty ] && break
    sleep 0.02
  done
  [ "$round" = killed ] && { kill -9 $pid; wait $pid 2>/dev/null; }
  out=$("$bin/testapp_notx_race" app migrate status 2>&1)
  rc=$?
  echo "$round: exit $rc: $out"
  if [ "$round" = running ]; then
    [ $rc = 3 ] && grep -q 'is being applied right now' <<<"$out" ||
      { echo "FAILED: a running migration must read as not ready (3), not crashed"; fail=1; }
    wait $pid || { echo "FAILED: the migration itself failed:"; cat up.txt; fail=1; }
    "$bin/testapp_notx_race" app migrate status >/dev/null 2>&1 ||
      { echo "FAILED: not up to date after it finished"; fail=1; }
    "$bin/testapp_notx_race" app migrate downgrade base >/dev/null 2>&1 || { echo "FAILED: downgrade"; fail=1; }
    if [ "$mode" = pg ]; then
      psql -X -q "$DATABASE_URL" -c "DROP TABLE IF EXISTS big1, big2" 2>/dev/null
    else
      sqlite3 probe.db "DROP TABLE IF EXISTS big1; DROP TABLE IF EXISTS big2;"
    fi
  else
    [ $rc = 7 ] && grep -q 'did not finish' <<<"$out" ||
      { echo "FAILED: a killed migration must read as dirty (7)"; fail=1; }
  fi
done
exit $fail
