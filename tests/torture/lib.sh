# lib.sh: what the torture tests share, sourced by herd.sh, killsweep.sh and
# oracle_selftest.sh: a database to query (SQLite file or PostgreSQL), the
# pieces of the oracles, a start barrier, and the bookkeeping of failures.
# Every oracle reads the database and the processes' output, nothing else.
#
# Set before sourcing: bin (the build directory of the testapps).
# torture_setup KIND makes $work (removed at exit) and, for pg, loads the pg
# fixture's environment (the test runs inside tests/pg/pg_env.sh).

# A clean environment: nothing from the caller decides the environment or URL.
unset STRATA_ENV TESTAPP_ENVIRONMENT APP_DATABASE_URL DYNO PIKU_APP_NAME DOKKU_APP_NAME \
  KUBERNETES_SERVICE_HOST FLY_APP_NAME RENDER RAILWAY_ENVIRONMENT K_SERVICE \
  ECS_CONTAINER_METADATA_URI TESTAPP_STRICT TESTAPP_AUTO_MIGRATE CLICOLOR_FORCE PGAPPNAME \
  STRATA_LOCK
export NO_COLOR=1

fails=0
checks=0
fail() {
  echo "FAIL: $*"
  fails=$((fails + 1))
}
# check LABEL GOT WANT: one comparison of the oracle.
check() {
  checks=$((checks + 1))
  [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

extra_dbs=()
torture_cleanup() {
  local d
  cd /
  if [ -n "${bouncer_dir:-}" ]; then
    pgbouncer_stop "$bouncer_dir"
    rm -rf "$bouncer_dir"
  fi
  for d in "${extra_dbs[@]}"; do
    pg_admin "DROP DATABASE IF EXISTS \"$d\" WITH (FORCE)" >/dev/null 2>&1
  done
  rm -rf "$work"
}

torture_setup() {
  kind=$1
  work=$(mktemp -d /tmp/strata-torture.XXXXXX)
  trap torture_cleanup EXIT
  cd "$work" || exit 1
  if [ "$kind" = pg ]; then
    # shellcheck disable=SC1091
    . "$(dirname "${BASH_SOURCE[0]}")/../pg/pg_env.sh"
    pg_env_load # STRATA_PG_HOST, STRATA_PG_PORT, pg_admin
    [ -n "${DATABASE_URL:-}" ] || {
      echo "error: run through tests/pg/pg_env.sh (strata_add_pg_test)" >&2
      exit 1
    }
    unset DATABASE_URL
    # shellcheck disable=SC1091
    . "$(dirname "${BASH_SOURCE[0]}")/../pg/pgbouncer_lib.sh"
  fi
}

# new_db NAME: a fresh database; sets url (what the testapps get) and, for
# SQLite, dbfile. pg: a database of the test's own, dropped at exit.
new_db() {
  if [ "$kind" = pg ]; then
    local name=${STRATA_PG_DB}_$1
    pg_admin "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" >/dev/null 2>&1
    pg_admin "CREATE DATABASE \"$name\"" >/dev/null || {
      echo "error: CREATE DATABASE $name failed" >&2
      exit 1
    }
    extra_dbs+=("$name")
    url="postgresql://postgres@$STRATA_PG_HOST:$STRATA_PG_PORT/$name"
    direct=$url
  else
    dbfile=$work/$1.db
    rm -f "$dbfile" "$dbfile"-*
    url="sqlite:///$dbfile"
  fi
}

# q SQL: the rows of a query on the current database, as a|b; the error
# text on failure (the caller compares).
q() {
  if [ "$kind" = pg ]; then
    psql -X -q -tA -v ON_ERROR_STOP=1 "$direct" -c "$1" 2>&1
  else
    sqlite3 -batch -bail -cmd '.timeout 30000' "$dbfile" "$1" 2>&1
  fi
}

# has_table NAME: 1 when the table exists, else 0.
has_table() {
  if [ "$kind" = pg ]; then
    q "SELECT count(*) FROM pg_class WHERE relname = '$1' AND relkind = 'r'
       AND relnamespace = 'public'::regnamespace"
  else
    q "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '$1'"
  fi
}
has_index() {
  if [ "$kind" = pg ]; then
    q "SELECT count(*) FROM pg_class WHERE relname = '$1' AND relkind = 'i'"
  else
    q "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = '$1'"
  fi
}

# schema: the database's schema as text, to compare with a reference:
# sqlite3's .schema, or pg_dump --schema-only without comments and settings.
schema() {
  if [ "$kind" = pg ]; then
    pg_dump -s -x -O "$direct" 2>&1 | grep -v -e '^--' -e '^$' -e '^SET ' -e '^SELECT pg_catalog' \
      -e '^\\\(un\)\?restrict '
  else
    sqlite3 -batch -cmd '.timeout 30000' "$dbfile" .schema 2>&1
  fi
}

# integrity LABEL: the database is sound. SQLite: PRAGMA integrity_check and
# no hot journal left behind. PostgreSQL: no index left invalid or unready,
# amcheck's B-tree check of every index, no advisory lock, no lease row.
integrity() {
  if [ "$kind" = pg ]; then
    check "$1: invalid indexes" "$(q "SELECT count(*) FROM pg_index WHERE NOT indisvalid OR NOT indisready")" 0
    check "$1: amcheck" "$(q "CREATE EXTENSION IF NOT EXISTS amcheck;
      SELECT count(*) FROM (SELECT bt_index_check(c.oid, true) FROM pg_index i
        JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
        WHERE a.amname = 'btree' AND c.relnamespace = 'public'::regnamespace) x;
      SELECT 'ok'" | tail -n 1)" ok
    check "$1: advisory locks left" "$(q "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'
      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")" 0
    if [ "$(has_table app_strata_lock)" = 1 ]; then
      check "$1: lease rows left" "$(q "SELECT count(*) FROM app_strata_lock")" 0
    fi
  else
    check "$1: integrity_check" "$(q "PRAGMA integrity_check")" ok
    check "$1: hot journal left" "$(ls "$dbfile-journal" 2>/dev/null)" ""
  fi
}

# sessions_gone SECONDS: waits until no session of a testapp (application_name
# testapp-strata) is left on the database; a killed client's backend may
# still run its statement. 0 when none is left.
sessions_gone() {
  local deadline=$(($(now_ms) + $1 * 1000))
  [ "$kind" = pg ] || return 0
  while [ "$(q "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
                AND application_name = 'testapp-strata'")" != 0 ]; do
    [ "$(now_ms)" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}

# The barrier: children block on a shared flock of $work/barrier while this
# shell holds it exclusively; barrier_wait N waits until the kernel lists N
# blocked waiters on it (/proc/locks), barrier_release lets all go at once.
barrier_init() {
  : >"$work/barrier"
  exec {barrier_fd}>"$work/barrier"
  flock -x "$barrier_fd"
  barrier_ino=$(stat -c %i "$work/barrier")
}
# barrier_spawn OUT CMD...: CMD, started once the barrier is released, its
# output in OUT; its pid appended to $spawned.
barrier_spawn() {
  local out=$1
  shift
  (
    # The exclusive lock belongs to the open file, which a child inherits:
    # only when every copy is closed is the barrier released.
    exec {barrier_fd}>&- {fd}<"$work/barrier"
    flock -s "$fd"
    exec "$@"
  ) >"$out" 2>&1 &
  spawned+=($!)
}
barrier_wait() {
  local n=$1 deadline=$(($(now_ms) + 120000)) got
  while :; do
    got=$(grep -c -- "-> FLOCK  *ADVISORY  *READ .*:$barrier_ino " /proc/locks)
    [ "$got" -ge "$n" ] && return 0
    if [ "$(now_ms)" -ge "$deadline" ]; then
      fail "only $got of $n processes reached the barrier in 120 s"
      return 1
    fi
    sleep 0.02
  done
}
barrier_release() { exec {barrier_fd}>&-; }

# alive PID: the process exists and is not a zombie.
alive() {
  local st
  [ -r "/proc/$1/stat" ] || return 1
  st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
  [ -n "$st" ] && [ "$st" != Z ]
}

# finish NAME: the verdict line and the exit status.
finish() {
  echo "$1: $checks checks, $fails failed"
  [ "$fails" -eq 0 ]
}
