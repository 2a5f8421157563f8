#!/usr/bin/env bash
# run_case.sh BUILD_DIR CASE_DIR
# Runs one runtime CLI case (tests/runtime/cases/NAME/) against a real
# database from a fresh temporary directory, and compares its transcript
# (commands, output, exit codes) with the case's expectation:
#   CASE_DIR/commands.sh      the case's commands, sourced here (see below)
#   CASE_DIR/expected.txt     the transcript on SQLite (test runtime.NAME)
#   CASE_DIR/expected.pg.txt  the transcript on PostgreSQL (test runtime.pg.NAME),
#                             with STRATA_TEST_PG=1 inside tests/pg/pg_env.sh run
# Timings, times, host and pid are normalised.
# STRATA_UPDATE_EXPECTED=1 rewrites the expected file instead (review it!).
#
# commands.sh runs with the temporary directory as its working directory and
# may use run, note, q, sh_ and json_ok (below) and these variables:
#   $bin   BUILD_DIR: the testapp_<fixture> programs (shown as <bin>)
#   $work  the temporary directory (shown as <tmp> by sh_)
#   $db    the database URL: sqlite:///testapp-app.db, or the test's PostgreSQL database
set -u
if [ $# -ne 2 ] || [ ! -f "$2/commands.sh" ]; then
  echo "usage: run_case.sh BUILD_DIR CASE_DIR (CASE_DIR/commands.sh)" >&2
  exit 2
fi
bin=$1
case_dir=$(cd "$2" && pwd)
name=$(basename "$case_dir")
work=$(mktemp -d /tmp/strata-rt.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
out=$work/transcript.txt
: >"$out"
# On PostgreSQL (STRATA_TEST_PG=1, inside tests/pg/pg_env.sh run) the same
# cases run against the test's own database; `q` inspects either one.
pg=${STRATA_TEST_PG:-0}
pgurl=${DATABASE_URL:-}
# A clean environment: nothing from the caller decides the environment or URL.
unset STRATA_ENV TESTAPP_ENVIRONMENT APP_DATABASE_URL DATABASE_URL DYNO PIKU_APP_NAME \
  DOKKU_APP_NAME KUBERNETES_SERVICE_HOST FLY_APP_NAME RENDER RAILWAY_ENVIRONMENT K_SERVICE \
  ECS_CONTAINER_METADATA_URI TESTAPP_STRICT TESTAPP_AUTO_MIGRATE CLICOLOR_FORCE
export NO_COLOR=1
if [ "$pg" = 1 ]; then
  export DATABASE_URL=$pgurl STRATA_ENV=development
  db=$pgurl
  expected=$case_dir/expected.pg.txt
else
  db=sqlite:///testapp-app.db
  expected=$case_dir/expected.txt
fi

# run FIXTURE ARGS...: one command of the transcript, "$ app ARGS" then its
# stdout and stderr (merged, in order) and its exit code.
run() {
  local fx=$1
  shift
  printf '$ %s\n' "$*" >>"$out"
  "$bin/testapp_$fx" "$@" >>"$out" 2>&1
  printf '[exit %d]\n' $? >>"$out"
}
note() { printf '# %s\n' "$*" >>"$out"; }
# q 'SQL': a query on the case's database, rows as a|b.
q() {
  printf '$ query: %s\n' "$*" >>"$out"
  if [ "$pg" = 1 ]; then
    psql -X -q -tA -v ON_ERROR_STOP=1 "$pgurl" -c "$*" >>"$out" 2>&1
  else
    sqlite3 testapp-app.db "$*" >>"$out" 2>&1
  fi
  printf '[exit %d]\n' $? >>"$out"
}
# sh_ 'COMMAND': a shell command; the build and temp paths are shown as <bin> and <tmp>.
sh_() {
  local shown=${*//$bin/<bin>}
  printf '$ %s\n' "${shown//$work/<tmp>}" >>"$out"
  eval "$@" >>"$out" 2>&1
  printf '[exit %d]\n' $? >>"$out"
}
json_ok() { # the command's stdout must be valid JSON
  local fx=$1
  shift
  if "$bin/testapp_$fx" "$@" 2>/dev/null | python3 -c 'import json,sys; json.load(sys.stdin)'; then
    note "json ok: $*"
  else
    note "INVALID JSON: $*"
  fi
}

# shellcheck disable=SC1091
. "$case_dir/commands.sh"

# Normalise what changes from run to run.
sed -E -i 's/\([0-9]+ ms\)/(N ms)/g; s/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z/<time>/g;
  s/ by [^ :]+:[0-9]+/ by <host>:<pid>/g; s/[0-9a-f]{12}(_[a-z0-9_]+\.sql)/<rev>\1/g;
  s/revision=[0-9a-f]{12}/revision=<rev>/g; s/revises=([0-9a-f]{12})$/revises=<rev>/;
  s|Created /[^ ]*/authoring-src/|Created <src>/|; s|'"$bin"'|<bin>|g' "$out"
if [ "$pg" = 1 ]; then
  sed -i "s|$pgurl|<pg>|g; s/^(testapp|startup).*<pg>.*$/&/" "$out"
fi
if [ "${STRATA_UPDATE_EXPECTED:-}" = 1 ]; then
  cp "$out" "$expected"
  echo "updated $expected"
  exit 0
fi
if [ ! -f "$expected" ]; then
  echo "case $name: no $expected (create it with STRATA_UPDATE_EXPECTED=1, then review it)" >&2
  exit 1
fi
if ! diff -u "$expected" "$out"; then
  echo "case $name: transcript differs from $expected" >&2
  exit 1
fi
