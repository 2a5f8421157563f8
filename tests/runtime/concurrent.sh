#!/usr/bin/env bash
# concurrent.sh BUILD_DIR: 8 processes start together on one new SQLite file;
# each migration must be applied exactly once and every process exit 0.
set -u
bin=$1
work=$(mktemp -d /tmp/strata-conc.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
unset STRATA_ENV DATABASE_URL APP_DATABASE_URL
export STRATA_ENV=production APP_DATABASE_URL=sqlite:///shared.db
pids=()
for i in 1 2 3 4 5 6 7 8; do
  "$bin/testapp_v3" start >"out.$i" 2>&1 &
  pids+=($!)
done
fail=0
for i in "${!pids[@]}"; do
  if ! wait "${pids[$i]}"; then
    echo "process $((i + 1)) failed:"
    cat "out.$((i + 1))"
    fail=1
  fi
done
rows=$(sqlite3 shared.db "SELECT count(*) FROM app_strata_version WHERE state = 'applied'")
applied=$(cat out.* | grep -c '^info: Running upgrade')
echo "version rows: $rows, 'Running upgrade' lines over all processes: $applied"
# Production skips the seed migration (environments=development,test): 3 of 4 apply.
[ "$rows" = 3 ] || { echo "expected 3 version rows"; fail=1; }
[ "$applied" = 3 ] || { echo "expected each of 3 migrations to run exactly once"; fail=1; }
exit $fail
