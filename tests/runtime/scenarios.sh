#!/usr/bin/env bash
# scenarios.sh NAME BUILD_DIR EXPECTED_DIR
# Runs one scenario of the runtime against real SQLite files in a fresh
# directory and compares its transcript (commands, output, exit codes) with
# EXPECTED_DIR/NAME.txt. Timings, times, host and pid are normalised.
# STRATA_UPDATE_EXPECTED=1 rewrites the expected file instead (review it!).
set -u
name=$1 bin=$2 expected=$3
work=$(mktemp -d /tmp/strata-rt.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
out=$work/transcript.txt
: >"$out"
# On PostgreSQL (STRATA_TEST_PG=1, inside tests/pg/pg_env.sh run) the same
# scenarios run against the test's own database; `q` inspects either one.
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
else
  db=sqlite:///testapp-app.db
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
# q 'SQL': a query on the scenario's database, rows as a|b.
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

case $name in
seeds)
  run v1 app migrate status
  run v1 app migrate upgrade
  run v1 app migrate status
  run v1 app migrate history
  run v1 app migrate current
  run v1 app migrate downgrade -1
  run v1 app migrate current
  run v1 app migrate upgrade
  run v1 app migrate downgrade base
  run v1 app migrate current
  run v1 app migrate rebuild
  run v1 app migrate status
  run v1 start
  q "SELECT revision, state FROM app_strata_version ORDER BY revision"
  q "SELECT operation, revisions, outcome FROM app_strata_log ORDER BY id"
  ;;
edited)
  run v1 app migrate upgrade
  note "the binary now carries an edited 002_b.sql"
  run v2_edited start
  run v2_edited app migrate status
  run v2_edited app migrate upgrade
  run v2_edited app migrate check
  run v2_edited app migrate repair --accept-edits
  run v2_edited app migrate status
  ;;
cosmetic)
  run v1 app migrate upgrade
  note "002_b.sql re-indented and commented"
  run v2_cosmetic start
  run v2_cosmetic app migrate status
  run v2_cosmetic app migrate repair
  run v2_cosmetic app migrate status
  ;;
accepts)
  run v1 app migrate upgrade
  note "002_b.sql edited, with accepts= naming the old checksum"
  run v2_accepts app migrate status
  run v2_accepts start
  q "SELECT exact FROM app_strata_version WHERE revision = 'bbbb00000002'"
  run v2_accepts app migrate status
  ;;
ahead)
  run v3 app migrate upgrade
  note "an older binary (v1) against a database migrated by v3"
  run v1 app migrate status
  run v1 app migrate current
  run v1 start
  sh_ "$bin/testapp_v1 app migrate status --env test --database $db"
  sh_ 'STRATA_ENV=production DATABASE_URL='"$db $bin"'/testapp_v1 start'
  sh_ 'STRATA_ENV=production TESTAPP_STRICT=1 DATABASE_URL='"$db $bin"'/testapp_v1 start'
  ;;
terminal)
  note "on a terminal (CLICOLOR_FORCE=1 stands in for one): the seeds' emoji"
  unset NO_COLOR
  export CLICOLOR_FORCE=1
  run v1 app migrate status
  run v1 app migrate upgrade
  run v1 app migrate status
  run v1 app migrate rebuild
  run v1 app migrate check --strict
  note "NO_COLOR wins over CLICOLOR_FORCE"
  NO_COLOR=1 run v1 app migrate status
  ;;
production)
  export STRATA_ENV=production
  run v1 start
  export APP_DATABASE_URL=sqlite:///prod.db
  run v1 start
  note "seed data (environments=development,test) never reaches production"
  sh_ 'sqlite3 prod.db "SELECT count(*) FROM items"'
  run v1 app migrate status
  run v1 app migrate rebuild
  run v1 app migrate downgrade -1
  run v1 app migrate stamp base
  run v1 app migrate repair
  run v1 app migrate downgrade -1 --yes
  run v1 app migrate current
  unset STRATA_ENV APP_DATABASE_URL
  note "what decides the environment (status --json shows it)"
  sh_ 'TESTAPP_ENVIRONMENT=production DATABASE_URL=sqlite:///prod.db '"$bin"'/testapp_v1 app migrate status --json | grep environment'
  sh_ 'KUBERNETES_SERVICE_HOST=10.0.0.1 DATABASE_URL=sqlite:///prod.db '"$bin"'/testapp_v1 app migrate status --json | grep environment'
  sh_ 'DYNO=web.1 STRATA_ENV=development DATABASE_URL=sqlite:///prod.db '"$bin"'/testapp_v1 app migrate status --json | grep environment'
  sh_ 'STRATA_ENV=staging '"$bin"'/testapp_v1 app migrate status'
  ;;
testenv)
  sh_ 'STRATA_ENV=test '"$bin"'/testapp_v1 start'
  sh_ 'ls'
  run v1 app migrate status --env test
  ;;
urls)
  run v1 app migrate init
  sh_ 'DATABASE_URL=sqlite:///generic.db '"$bin"'/testapp_v1 app migrate init'
  sh_ 'DATABASE_URL=sqlite:///generic.db APP_DATABASE_URL=sqlite:///module.db '"$bin"'/testapp_v1 app migrate init'
  sh_ 'DATABASE_URL=sqlite:///generic.db APP_DATABASE_URL=sqlite:///module.db '"$bin"'/testapp_v1 app migrate init --database sqlite:///flag.db'
  sh_ "$bin/testapp_v1 app migrate init --database sqlite:///$work/abs.db | sed 's|$work|<tmp>|'"
  sh_ 'ls'
  run v1 app migrate status --database mysql://localhost/x
  ;;
redaction)
  # The password must not appear in anything strata prints: checked on the
  # output alone (the command lines below show it, the output must not).
  leak=$work/leak.txt
  : >"$leak"
  pw() { eval "$@" >>"$leak" 2>&1; sh_ "$@"; }
  pw 'DATABASE_URL=postgresql://alice:s3cret-pw@127.0.0.1:1/app '"$bin"'/testapp_v1 app migrate status'
  pw "$bin/testapp_v1 app migrate status --database 'host=127.0.0.1 port=1 user=alice password=s3cret-pw dbname=app'"
  pw 'STRATA_ENV=production DATABASE_URL=postgresql://alice:s3cret-pw@127.0.0.1:1/app?sslmode=disable '"$bin"'/testapp_v1 start'
  pw 'DATABASE_URL=postgresql://alice:s3cret-pw@127.0.0.1:1/app '"$bin"'/testapp_v1 app migrate status --json'
  note "URLs that libpq reads differently from a naive parser, or cannot parse at all"
  pw 'DATABASE_URL="postgresql://alice:s3cret-pw?x@127.0.0.1:1/app" '"$bin"'/testapp_v1 app migrate status'
  pw 'DATABASE_URL="postgresql://alice:s3cret-pw%@127.0.0.1:1/app" '"$bin"'/testapp_v1 app migrate status'
  pw 'DATABASE_URL="postgresql://alice:s3cret-pw@[::1/app" '"$bin"'/testapp_v1 app migrate status'
  pw "$bin/testapp_v1 app migrate status --database \"\$(printf 'host=127.0.0.1 port=1\tpassword=s3cret-pw dbname=app')\""
  pw "$bin/testapp_v1 app migrate status --database 'host=127.0.0.1 port=1 password=abc\\ s3cret-pw dbname=app'"
  pw 'DATABASE_URL="postgresql://alice:se/s3cret-pw@127.0.0.1:1/app" '"$bin"'/testapp_v1 app migrate status'
  pw 'DATABASE_URL="postgresql://alice:p@s3cret-pw@127.0.0.1:1/app" '"$bin"'/testapp_v1 app migrate status'
  pw 'DATABASE_URL="postgresql://alice@127.0.0.1:1/app?sslpassword=s3cret-pw&sslmode=disable" '"$bin"'/testapp_v1 app migrate status --json'
  note "found by tests/fuzz/fuzz_url.c: '://' inside a key=value string; a password in the query too"
  pw "$bin/testapp_v1 app migrate status --database 'host=127.0.0.1 port=1 password=s3cret-pw application_name=a://b:c@d dbname=app'"
  pw 'DATABASE_URL="postgresql://alice:s3cret?pw@127.0.0.1:1/app?password=s3cret-pw2" '"$bin"'/testapp_v1 app migrate status'
  if grep -q s3cret "$leak"; then note "PASSWORD LEAKED"; else note "no password in any output"; fi
  ;;
dirty)
  run dirty app migrate upgrade
  run dirty app migrate status
  run dirty start
  run dirty app migrate upgrade
  run dirty app migrate repair --mark-unapplied eeee00000002
  run dirty app migrate status
  ;;
fk)
  run fk app migrate upgrade
  note "the rebuild ran with foreign keys off: the cascade did not delete the order"
  sh_ 'sqlite3 testapp-app.db "SELECT count(*) FROM orders; PRAGMA foreign_keys;"'
  run fk app migrate downgrade base
  ;;
heads)
  run heads app migrate heads
  run heads app migrate upgrade head
  run heads app migrate upgrade heads
  run heads app migrate current
  run heads app migrate history
  ;;
json)
  json_ok v1 app migrate status --json
  run v1 app migrate upgrade +1
  json_ok v1 app migrate status --json
  json_ok v1 app migrate current --json
  json_ok v1 app migrate history --json
  json_ok v1 app migrate pending --json
  json_ok v1 app migrate check --json
  json_ok v1 app migrate heads --json
  run v1 app migrate status --json
  ;;
force)
  run irrev app migrate upgrade
  run irrev app migrate downgrade base
  run irrev app migrate current
  run irrev app migrate downgrade base --force
  run irrev app migrate status
  ;;
authoring)
  src=$bin/authoring-src
  # Whatever happens, leave the build tree's copy as it was.
  trap 'rm -f "$src"/2*.sql; rm -rf "$work"' EXIT
  export SOURCE_DATE_EPOCH=1755419095
  run authoring app migrate create "add notes"
  run authoring app migrate merge xxxx00000002 yyyy00000002 -m "join x and y"
  run authoring app migrate create "add a column" --template add_column
  sh_ 'cd "$src" && ls | wc -l && cat 2*add_a_column.sql'
  run authoring app migrate create
  sh_ "$bin/../../bundler/strata-bundle check \"$src\" | sed 's|$src|<src>|'"
  ;;
*)
  echo "unknown scenario $name" >&2
  exit 2
  ;;
esac

# Normalise what changes from run to run.
sed -E -i 's/\([0-9]+ ms\)/(N ms)/g; s/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z/<time>/g;
  s/ by [^ :]+:[0-9]+/ by <host>:<pid>/g; s/[0-9a-f]{12}(_[a-z0-9_]+\.sql)/<rev>\1/g;
  s/revision=[0-9a-f]{12}/revision=<rev>/g; s/revises=([0-9a-f]{12})$/revises=<rev>/;
  s|Created /[^ ]*/authoring-src/|Created <src>/|; s|'"$bin"'|<bin>|g' "$out"
if [ "$pg" = 1 ]; then
  sed -i "s|$pgurl|<pg>|g; s/^(testapp|startup).*<pg>.*$/&/" "$out"
fi
if [ "${STRATA_UPDATE_EXPECTED:-}" = 1 ]; then
  cp "$out" "$expected/$name.txt"
  echo "updated $expected/$name.txt"
  exit 0
fi
if ! diff -u "$expected/$name.txt" "$out"; then
  echo "scenario $name: transcript differs from $expected/$name.txt" >&2
  exit 1
fi
