# lib.sh: what the torture tests share, sourced by herd.sh, killsweep.sh and
# oracle_selftest.sh: a database to query (SQLite file or PostgreSQL), the
# pieces of the oracles, a start barrier, and the bookkeeping of failures.
# Every oracle reads the database and the processes' output, nothing else.
#
# Set before sourcing: bin (the build directory of the testapps).
# torture_setup KIND makes $work (removed at exit) and, for pg, loads the pg
# fixture's environment (the test runs inside tests/pg/pg_env.sh).

torture_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

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
    . "$torture_dir/../pg/pg_env.sh"
    pg_env_load # STRATA_PG_HOST, STRATA_PG_PORT, pg_admin
    [ -n "${DATABASE_URL:-}" ] || {
      echo "error: run through tests/pg/pg_env.sh (strata_add_pg_test)" >&2
      exit 1
    }
    unset DATABASE_URL
    # shellcheck disable=SC1091
    . "$torture_dir/../pg/pgbouncer_lib.sh"
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

# sound LABEL: the database's own check passes. SQLite: PRAGMA
# integrity_check; PostgreSQL: amcheck's B-tree check of every valid index
# (the extension is dropped again: it is not part of the schema compared).
sound() {
  if [ "$kind" = pg ]; then
    local r
    r=$(q "CREATE EXTENSION IF NOT EXISTS amcheck;
      SELECT count(*) FROM (SELECT bt_index_check(c.oid, true) FROM pg_index i
        JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
        WHERE a.amname = 'btree' AND i.indisvalid AND c.relnamespace = 'public'::regnamespace) x;
      DROP EXTENSION amcheck;
      SELECT 'ok'")
    [ "$(echo "$r" | tail -n 1)" = ok ] || r=$(echo "$r" | grep -m 1 ERROR || echo "$r")
    check "$1: amcheck" "$(echo "$r" | tail -n 1)" ok
  else
    check "$1: integrity_check" "$(q "PRAGMA integrity_check")" ok
  fi
}

# integrity LABEL: sound, and nothing left behind. PostgreSQL: no index left
# invalid or unready, no advisory lock, no lease row.
integrity() {
  sound "$1"
  if [ "$kind" = pg ]; then
    check "$1: invalid indexes" "$(q "SELECT count(*) FROM pg_index WHERE NOT indisvalid OR NOT indisready")" 0
    check "$1: advisory locks left" "$(q "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'
      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")" 0
    if [ "$(has_table app_strata_lock)" = 1 ]; then
      check "$1: lease rows left" "$(q "SELECT count(*) FROM app_strata_lock")" 0
    fi
  fi
}

# no_journal LABEL: SQLite: no hot rollback journal left beside the file (a
# writer died mid-transaction). Before any query: the first reader rolls a
# hot journal back and removes it. A journal that is empty or begins with a
# zero byte is not hot (SQLite ignores it, and the next writer reuses it): a
# process killed between creating the journal and writing its header leaves
# one, which no reader removes.
no_journal() {
  local j first hot=
  [ "$kind" = sqlite ] || return 0
  j=$dbfile-journal
  if [ -e "$j" ]; then
    first=$(head -c 1 "$j" | od -An -tu1 | tr -d ' ')
    if [ -n "$first" ] && [ "$first" != 0 ]; then
      hot="$j ($(stat -c %s "$j") bytes)"
    else
      echo "note: $1: a journal that is not hot ($(stat -c %s "$j") bytes, no header) is left"
    fi
  fi
  check "$1: hot journal left" "$hot" ""
}

# sessions_gone SECONDS: waits until no session of a testapp (application_name
# testapp-strata) is left on the database; a killed client's backend may
# still run its statement. 0 when none is left.
sessions_gone() {
  local deadline=$(($(now_ms) + ${1:-30} * 1000))
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

# same_schema LABEL: the schema equals $reference.
same_schema() {
  local got
  got=$(schema)
  checks=$((checks + 1))
  if [ "$got" != "$reference" ]; then
    fail "$1: the schema differs from the reference:"
    diff <(echo "$reference") <(echo "$got") | head -n 40
  fi
}

# ---- the herd's oracle (herd.sh, herd_fixture.cmake) ----------------------
herd_revisions=$(for k in $(seq 1 50); do printf 'herd%08d\n' "$k"; done)

# herd_oracle LABEL OUTDIR: after a herd, the database and the processes'
# output (OUTDIR/out.*) say each of the 50 migrations ran once, the one-shot
# insert once; the schema is $reference; the database is sound.
herd_oracle() {
  local label=$1 dir=$2
  no_journal "$label"
  check "$label: version rows" \
    "$(q "SELECT revision || ' ' || state FROM app_strata_version ORDER BY revision")" \
    "$(echo "$herd_revisions" | sed 's/$/ applied/')"
  check "$label: migrations run, and how often" \
    "$(cat "$dir"/out.* | grep -o 'Running upgrade [^,]*' | sed 's/.*-> //' | sort | uniq -c |
      awk '{print $2 " " $1}')" \
    "$(echo "$herd_revisions" | sed 's/$/ 1/')"
  check "$label: counter rows and n" \
    "$(q "SELECT count(*) || ' ' || coalesce(sum(n), 0) FROM herd_counter")" "1 2"
  same_schema "$label"
  integrity "$label"
  if [ "${mode:-}" = sqlite_wal ]; then
    check "$label: journal_mode" "$(q 'PRAGMA journal_mode')" wal
  fi
  # PgBouncer keeps the server connections it pooled: only a direct one ends.
  if [ "$kind" = pg ] && [ "${mode:-}" != pgbouncer ]; then
    sessions_gone "${session_wait:-30}"
    check "$label: sessions left ${session_wait:-30} s after the processes ended" "$?" 0
  fi
  check "$label: log rows of a failed operation" \
    "$(q "SELECT count(*) FROM app_strata_log WHERE outcome <> 'ok'")" 0
}

# ---- the kill sweep's oracle (killsweep.sh, fixtures/crash) --------------
# Migrations c4a500000001..5: 1, 2, 4 and 5 in a transaction, each with
# effects of its own (tables, an index, a column, a row in ks_log, a step of
# the counter: n = 1 + 2 + 4 + 8); 3 transaction=none, four statements in
# order: ks_n1, ks_n2, the index ks_n2_x, ks_n3.

# crash_facts: what is in the database, in few queries (each psql costs a
# good part of a second on a busy machine). Sets crash_state[1..5] (the
# version row's state of each migration: none, applied, dirty, or what else
# is there, comma-separated if several), and crash_has[NAME] (0 or 1) for
# the version table, each table and index the migrations make and the column
# ks_a.y; crash_count[TABLE] for the tables that exist; crash_log (the revs
# in ks_log, sorted) and crash_counter (rows and n of ks_counter).
crash_names="app_strata_version ks_counter ks_log ks_a ks_a_x ks_b ks_a.y ks_done ks_n1 ks_n2 ks_n2_x ks_n3"
crash_facts() {
  local n sql="" flags i=0 k rows
  for n in $crash_names; do
    [ -n "$sql" ] && sql="$sql || "
    if [ "$kind" = pg ]; then
      case $n in
      *.*) sql="$sql(SELECT count(*) FROM information_schema.columns WHERE table_schema = 'public'
            AND table_name = '${n%.*}' AND column_name = '${n#*.}')::text" ;;
      *) sql="$sql(to_regclass('public.$n') IS NOT NULL)::int::text" ;;
      esac
    else
      case $n in
      *.*) sql="$sql(SELECT count(*) FROM pragma_table_info('${n%.*}') WHERE name = '${n#*.}')" ;;
      *) sql="$sql(SELECT count(*) FROM sqlite_master WHERE name = '$n')" ;;
      esac
    fi
  done
  flags=$(q "SELECT $sql")
  declare -gA crash_has crash_count
  for n in $crash_names; do
    crash_has[$n]=${flags:$i:1}
    i=$((i + 1))
  done
  for k in 1 2 3 4 5; do crash_state[$k]=none; done
  if [ "${crash_has[app_strata_version]}" = 1 ]; then
    while read -r rev st; do
      k=${rev#c4a50000000}
      if [ "${crash_state[$k]:-none}" = none ]; then crash_state[$k]=$st; else crash_state[$k]="${crash_state[$k]},$st"; fi
    done < <(q "SELECT revision || ' ' || state FROM app_strata_version ORDER BY revision, state")
  fi
  sql="SELECT 'x'"
  for n in ks_a ks_b ks_n1; do
    [ "${crash_has[$n]}" = 1 ] && sql="$sql || ' ' || (SELECT count(*) FROM $n)"
  done
  [ "${crash_has[ks_counter]}" = 1 ] && sql="$sql || ' ' || (SELECT count(*) || ':' || coalesce(sum(n), 0) FROM ks_counter)"
  rows=$(q "$sql")
  set -- $rows
  shift
  crash_count=()
  for n in ks_a ks_b ks_n1; do
    if [ "${crash_has[$n]}" = 1 ]; then
      crash_count[$n]=$1
      shift
    fi
  done
  crash_counter=${1:-}
  crash_log=
  [ "${crash_has[ks_log]}" = 1 ] && crash_log=$(q "SELECT rev FROM ks_log ORDER BY rev" | tr '\n' ' ')
}
crash_states() { crash_facts; }
lg() { case " $crash_log" in *" $1 "*) echo 1 ;; *) echo 0 ;; esac; } # in ks_log?
h() { echo "${crash_has[$1]}"; }                                      # there?

# crash_oracle LABEL: after a kill, and after every restart: each
# transactional migration is there whole (row applied, every effect) or not
# at all; the transaction=none one has no row and no effect, or a dirty row
# and a prefix of its statements done, or an applied row and all of them;
# rows only in order; the counter and ks_log agree with the rows; the
# database is sound. Sets crash_where: where the work stopped.
crash_oracle() {
  local label=$1 k want got a2=0 a4=0 a5=0 p
  crash_facts
  got="${crash_state[*]}"
  case $got in
  "none none none none none" | "applied none none none none" | "applied applied none none none" | \
    "applied applied dirty none none" | "applied applied applied none none" | \
    "applied applied applied applied none" | "applied applied applied applied applied") checks=$((checks + 1)) ;;
  *) fail "$label: version rows out of order or in a state strata does not write: $got" ;;
  esac
  [ "${crash_state[2]}" = applied ] && a2=1
  [ "${crash_state[4]}" = applied ] && a4=1
  [ "${crash_state[5]}" = applied ] && a5=1
  for k in 1 2 4 5; do
    case $k in
    1) got="$(h ks_counter)$(h ks_log)" ;;
    2) got="$(h ks_a)$(h ks_a_x)$(lg 2)" ;;
    4) got="$(h ks_b)$(h ks_a.y)$(lg 4)" ;;
    5) got="$(h ks_done)$(lg 5)" ;;
    esac
    if [ "${crash_state[$k]}" = applied ]; then want=${got//0/1}; else want=${got//1/0}; fi
    check "$label: migration $k (${crash_state[$k]}) all or nothing: its effects" "$got" "$want"
  done
  [ "$(h ks_a)" = 1 ] && check "$label: rows of ks_a" "${crash_count[ks_a]}" 300000
  [ "$(h ks_b)" = 1 ] && check "$label: rows of ks_b" "${crash_count[ks_b]}" \
    "$([ "$kind" = pg ] && echo 5000 || echo 250000)"
  [ "$(h ks_n1)" = 1 ] && check "$label: rows of ks_n1" "${crash_count[ks_n1]}" \
    "$([ "$kind" = pg ] && echo 100000 || echo 200000)"
  if [ "${crash_state[1]}" = applied ]; then
    check "$label: counter (rows:n)" "$crash_counter" "1:$((1 + 2 * a2 + 4 * a4 + 8 * a5))"
    check "$label: ks_log rows" "$crash_log" \
      "1 $([ $a2 = 1 ] && echo '2 ')$([ $a4 = 1 ] && echo '4 ')$([ $a5 = 1 ] && echo '5 ')"
  fi
  p="$(h ks_n1)$(h ks_n2)$(h ks_n2_x)$(h ks_n3)"
  case ${crash_state[3]} in
  none) check "$label: migration 3 (no row): statements done" "$p" 0000 ;;
  applied) check "$label: migration 3 (applied): statements done" "$p" 1111 ;;
  dirty)
    case $p in
    0000 | 1000 | 1100 | 1110 | 1111) checks=$((checks + 1)) ;;
    *) fail "$label: migration 3 (dirty): statements done $p: not a prefix of the four" ;;
    esac
    ;;
  esac
  sound "$label"
  crash_where=end
  for k in 1 2 3 4 5; do
    if [ "${crash_state[$k]}" != applied ]; then
      crash_where=m$k
      [ "${crash_state[$k]}" = dirty ] && crash_where="m$k-dirty($p)"
      break
    fi
  done
}

# finish NAME: the verdict line and the exit status.
finish() {
  echo "$1: $checks checks, $fails failed"
  [ "$fails" -eq 0 ]
}
